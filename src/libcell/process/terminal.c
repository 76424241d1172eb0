/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"

static int send_master(int sock, int master, const char *name, struct cell_error *err)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		return cell_err(err, errno, "send terminal master to console socket");
	return 0;
}

/* By fd once opened: a symlink swapped in after the check cannot redirect the bind. */
static int bind_console(const char *pts, struct cell_error *err)
{
	struct stat st;

	if (stat("/dev", &st) < 0)
		return 0;
	_cleanup_close_ int target = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (target < 0 && errno == ENOENT) {
		int fd = open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
			      0600);
		if (fd < 0)
			return cell_err(err, errno, "create /dev/console");
		(void)close(fd);
		target = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (target < 0)
		return cell_err(err, errno, "open /dev/console");
	if (fstat(target, &st) < 0)
		return cell_err(err, errno, "stat /dev/console");
	if (S_ISLNK(st.st_mode))
		return cell_err(err, ELOOP, "/dev/console is a symlink, refusing to bind over it");
	if (S_ISDIR(st.st_mode))
		return cell_err(err, EISDIR, "/dev/console is a directory, refusing to bind over it");
	_cleanup_close_ int tree = open_tree(AT_FDCWD, pts, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return cell_err(err, errno, "bind %s: open_tree", pts);
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return cell_err(err, errno, "bind %s on /dev/console", pts);
	return 0;
}

/* The pty is the process's, not root's (runc fixStdioPermissions): its uid
 * only, the gid stays the devpts mount's (tty).  A read-only /dev, or an
 * owner or gid not mapped in the user namespace, leave it as it is. */
static int pty_chown(int slave, const char *name, uid_t uid, struct cell_error *err)
{
	struct stat st;

	if (fstat(slave, &st) < 0)
		return cell_err(err, errno, "stat %s", name);
	if (st.st_uid == uid || fchown(slave, uid, (gid_t)-1) == 0)
		return 0;
	if (errno == EINVAL || errno == EPERM || errno == EROFS)
		return 0;
	return cell_err(err, errno, "chown %s to uid %u", name, (unsigned)uid);
}

int cell_terminal_setup(int console_sock, const struct cell_process *p, bool bind_cons,
			struct cell_error *err)
{
	_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	char name[128];
	int r;

	if (master < 0)
		return cell_err(err, errno, "open /dev/ptmx in the container");
	if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
		return cell_err(err, errno, "unlock pty");
	_cleanup_close_ int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return cell_err(err, errno, "open %s", name);
	if ((r = pty_chown(slave, name, p->user.uid, err)) < 0)
		return r;
	if (p->console_size_set) {
		struct winsize ws = { .ws_row = (unsigned short)p->console_height,
				      .ws_col = (unsigned short)p->console_width };
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return cell_err(err, errno, "set console size");
	}
	if (bind_cons && (r = bind_console(name, err)) < 0)
		return r;
	r = send_master(console_sock, master, name, err);
	if (r < 0)
		return r;
	/* the process made its session already (confine.c): a no-op then */
	if (getsid(0) != getpid() && setsid() < 0)
		return cell_err(err, errno, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return cell_err(err, errno, "make %s the controlling terminal", name);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return cell_err(err, errno, "dup2 terminal to fd %d", fd);
	return 0;
}

int cell_console_socket_connect(const char *path, struct cell_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return cell_err(err, errno, "console socket");
	if (strlen(path) >= sizeof(sa.sun_path))
		return cell_err(err, ENAMETOOLONG, "console socket %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cell_err(err, errno, "connect to console socket %s", path);
	return TAKE_FD(fd);
}

int cell_console_recv_master(int sock, int *master, struct cell_error *err)
{
	char data[128], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	ssize_t n;

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return cell_err(err, errno, "receive terminal master");
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (n == 0 || !c || c->cmsg_type != SCM_RIGHTS)
		return cell_err(err, EPROTO, "container sent no terminal");
	memcpy(master, CMSG_DATA(c), sizeof(int));
	return 0;
}

int cell_terminal_clear_onlcr(int master, struct cell_error *err)
{
	struct termios t;

	if (tcgetattr(master, &t) < 0)
		return cell_err(err, errno, "tcgetattr on the terminal master");
	t.c_oflag &= ~(tcflag_t)ONLCR;
	if (tcsetattr(master, TCSANOW, &t) < 0)
		return cell_err(err, errno, "clear ONLCR on the terminal master");
	return 0;
}

static int copy_once(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && errno == EINTR ? 1 : 0;
	return cell_write_all(to, buf, (size_t)n) < 0 ? 0 : 1;
}

static void pass_winsize(int master)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(master, TIOCSWINSZ, &ws);
}

int cell_terminal_proxy(int master, int pidfd, struct cell_error *err)
{
	struct termios saved, raw;
	bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	sigset_t mask;
	bool in_open = true;

	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		pass_winsize(master);
	}
	for (;;) {
		struct pollfd p[3] = { { master, POLLIN, 0 },
				       { in_open ? STDIN_FILENO : -1, POLLIN, 0 },
				       { sfd, POLLIN, 0 } };
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) > 0)
				pass_winsize(master);
		}
		if (p[1].revents & (POLLIN | POLLHUP) && !copy_once(STDIN_FILENO, master))
			in_open = false;
		if (p[0].revents & POLLIN) {
			if (!copy_once(master, STDOUT_FILENO))
				break;
		} else if (p[0].revents & (POLLHUP | POLLERR)) {
			break;
		}
	}
	(void)pidfd;
	if (tty)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	(void)err;
	return 0;
}
