/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cell-monitor: what stays resident while a container runs.
 *
 * `cell start` creates and starts the container, then execs this small
 * static program in the same process, so the container's init stays its
 * child and its pid stays the supervisor's.  It holds the console pty,
 * copies output to the size-capped console.log and to `cell console`
 * clients, passes their input on, turns SIGTERM into the init's power-off
 * signal and reaps.  When the init exits it execs `cell __finish`, which
 * records the status, deletes the container and tells systemd.  Only libc:
 * its whole job is to be small (see `cell info`: supervisor.rss_kb).
 *
 * argv: cell-monitor CELL NAME INIT_PID STOP_SIGNAL MASTER_FD LISTEN_FD LOG_FD
 *       FOREGROUND(0|1) LOG_PATH    (fds may be -1)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define LOG_CAP (1 << 20)
#define MAX_CLIENTS 8

static struct {
	const char *cell, *name, *log_path;
	pid_t init;
	int stop_sig, master, listen_fd, log_fd, sfd;
	int clients[MAX_CLIENTS];
	long log_size;
	int foreground;
} m;

static int write_all(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void log_out(const char *b, size_t n)
{
	if (m.log_fd < 0)
		return;
	if (m.log_size + (long)n > LOG_CAP) {
		char old[4096];
		(void)snprintf(old, sizeof(old), "%s.1", m.log_path);
		(void)rename(m.log_path, old);
		(void)close(m.log_fd);
		m.log_fd = open(m.log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
		m.log_size = 0;
	}
	if (m.log_fd >= 0 && write_all(m.log_fd, b, n) == 0)
		m.log_size += (long)n;
}

static void from_master(void)
{
	char b[8192];
	ssize_t n = read(m.master, b, sizeof(b));

	if (n <= 0)
		return;
	log_out(b, (size_t)n);
	if (m.foreground)
		(void)write_all(STDOUT_FILENO, b, (size_t)n);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (m.clients[i] >= 0 && write_all(m.clients[i], b, (size_t)n) < 0) {
			(void)close(m.clients[i]);
			m.clients[i] = -1;
		}
}

static void to_master(int *fd)
{
	char b[4096];
	ssize_t n = read(*fd, b, sizeof(b));

	if (n <= 0) {
		if (*fd != STDIN_FILENO)
			(void)close(*fd);
		*fd = -1;
		return;
	}
	if (m.master >= 0)
		(void)write_all(m.master, b, (size_t)n);
}

static void accept_client(void)
{
	int fd = accept4(m.listen_fd, NULL, NULL, SOCK_CLOEXEC);

	for (int i = 0; fd >= 0 && i < MAX_CLIENTS; i++)
		if (m.clients[i] < 0) {
			m.clients[i] = fd;
			return;
		}
	if (fd >= 0)
		(void)close(fd);
}

/* true when the init was reaped; *status set */
static int on_signal(int *status)
{
	struct signalfd_siginfo si;
	pid_t w;

	if (read(m.sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
		(void)kill(m.init, m.stop_sig); /* our child: the pid cannot be reused */
	if (si.ssi_signo == SIGWINCH && m.foreground && m.master >= 0) {
		struct winsize ws;
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
			(void)ioctl(m.master, TIOCSWINSZ, &ws);
	}
	while ((w = waitpid(-1, status, WNOHANG)) > 0)
		if (w == m.init)
			return 1;
	return 0;
}

static int loop(void)
{
	int in = m.foreground && m.master >= 0 ? STDIN_FILENO : -1, status = 0;

	for (;;) {
		struct pollfd p[4 + MAX_CLIENTS] = {
			{ m.sfd, POLLIN, 0 }, { m.master, POLLIN, 0 }, { m.listen_fd, POLLIN, 0 },
			{ in, POLLIN, 0 },
		};
		for (int i = 0; i < MAX_CLIENTS; i++)
			p[4 + i] = (struct pollfd){ m.clients[i], POLLIN, 0 };
		if (poll(p, 4 + MAX_CLIENTS, -1) < 0 && errno != EINTR)
			return 255 << 8;
		if (p[1].revents & POLLIN)
			from_master();
		if (p[2].revents & POLLIN)
			accept_client();
		if (p[3].revents & (POLLIN | POLLHUP))
			to_master(&in);
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (p[4 + i].revents & (POLLIN | POLLHUP))
				to_master(&m.clients[i]);
		if ((p[0].revents & POLLIN) && on_signal(&status))
			return status;
	}
}

int main(int argc, char **argv)
{
	struct termios saved, raw;
	sigset_t mask;
	int is_raw = 0;

	if (argc != 10) {
		fprintf(stderr, "cell-monitor: started by cell, not by hand\n");
		return 2;
	}
	m.cell = argv[1];
	m.name = argv[2];
	m.init = (pid_t)atoi(argv[3]);
	m.stop_sig = atoi(argv[4]);
	m.master = atoi(argv[5]);
	m.listen_fd = atoi(argv[6]);
	m.log_fd = atoi(argv[7]);
	m.foreground = atoi(argv[8]);
	m.log_path = argv[9];
	for (int i = 0; i < MAX_CLIENTS; i++)
		m.clients[i] = -1;
	struct stat st;
	m.log_size = m.log_fd >= 0 && fstat(m.log_fd, &st) == 0 ? (long)st.st_size : 0;
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&mask);
	int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGWINCH, SIGHUP };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&mask, sigs[i]);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	m.sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (m.sfd < 0)
		return 1;
	if (m.foreground && m.master >= 0 && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		is_raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	int status = loop();
	if (is_raw)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	char st_text[16];
	(void)snprintf(st_text, sizeof(st_text), "%d", status);
	(void)sigprocmask(SIG_UNBLOCK, &mask, NULL);
	execl(m.cell, m.cell, "__finish", m.name, st_text, (char *)NULL);
	fprintf(stderr, "cell-monitor: exec %s __finish: %s\n", m.cell, strerror(errno));
	return 1;
}
