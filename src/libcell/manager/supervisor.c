/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The per-container supervisor (no daemon for the whole host).
 *
 * It creates and starts the container through container.c with the console
 * pty sent to it, then loops: pty output goes to a size-capped console.log
 * and to attached `cell console` clients (console.sock), their input goes
 * to the pty; SIGCHLD reaps the init; SIGTERM asks the init to power off.
 * When the init exits it records the status, deletes the container (its
 * cgroup and mounts go with it) and tells systemd (sd_notify).
 */
#include "manager.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../process/terminal.h"
#include "supervisor-internal.h"

#define LOG_CAP (1 << 20) /* console.log rotates to console.log.1 past 1 MiB */
#define MAX_CLIENTS 8

struct sup {
	const struct cell_store *st;
	const char *name;
	char *dir, *rundir;
	int master, listen_fd, log_fd, sfd;
	int clients[MAX_CLIENTS];
	size_t log_size;
	pid_t init;
	bool foreground;
	bool in_process; /* control returns to the caller: no cell-monitor */
	int lock_fd; /* the caller's store lock: released once the container runs */
	bool console; /* a pty (else the container shares our stdio) */
};

void cell_sd_notify(const char *text)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		(void)sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa,
			     (socklen_t)len);
}

static int unix_listen(const char *path, struct cell_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path))
		return cell_err(err, ENAMETOOLONG, "socket path %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	(void)unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
		return cell_err(err, errno, "listen on %s", path);
	return TAKE_FD(fd);
}

static void log_write(struct sup *s, const char *buf, size_t n)
{
	if (s->log_size + n > LOG_CAP) {
		_cleanup_free_ char *cur = xasprintf("%s/console.log", s->dir);
		_cleanup_free_ char *old = xasprintf("%s/console.log.1", s->dir);
		(void)rename(cur, old);
		(void)close(s->log_fd);
		s->log_fd = open(cur, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
		s->log_size = 0;
	}
	if (s->log_fd >= 0 && cell_write_all(s->log_fd, buf, n) == 0)
		s->log_size += n;
}

static void pump_master(struct sup *s)
{
	char buf[8192];
	ssize_t n = read(s->master, buf, sizeof(buf));

	if (n <= 0)
		return;
	log_write(s, buf, (size_t)n);
	if (s->foreground)
		(void)cell_write_all(STDOUT_FILENO, buf, (size_t)n);
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		if (s->clients[i] >= 0 && cell_write_all(s->clients[i], buf, (size_t)n) < 0)
			(void)close(TAKE_FD(s->clients[i]));
}

static void accept_client(struct sup *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	for (size_t i = 0; fd >= 0 && i < MAX_CLIENTS; i++)
		if (s->clients[i] < 0) {
			s->clients[i] = fd;
			return;
		}
	if (fd >= 0)
		(void)close(fd); /* full */
}

static void client_input(struct sup *s, size_t i)
{
	char buf[4096];
	ssize_t n = read(s->clients[i], buf, sizeof(buf));

	if (n <= 0)
		(void)close(TAKE_FD(s->clients[i]));
	else
		(void)cell_write_all(s->master, buf, (size_t)n);
}

static void record_exit(const char *dir, int status)
{
	_cleanup_free_ char *path = xasprintf("%s/last-exit", dir);
	_cleanup_free_ char *text = NULL;

	if (WIFEXITED(status))
		text = xasprintf("exited %d\n", WEXITSTATUS(status));
	else
		text = xasprintf("killed by signal %d\n", WTERMSIG(status));
	(void)cell_write_file_atomic(path, text, strlen(text), 0644);
	_cleanup_free_ char *msg = xasprintf("STOPPING=1\nSTATUS=container %s", text);
	cell_sd_notify(msg);
}

/* SIGTERM to the supervisor (systemd's stop) becomes the init's power-off. */
static void on_signal(struct sup *s, const struct signalfd_siginfo *si)
{
	struct cell_error ignored = { 0 };
	int sig;

	if (si->ssi_signo == SIGTERM || si->ssi_signo == SIGINT) {
		sig = cell_stop_signal_of(s->st, s->name);
		(void)cell_container_kill(&s->st->rt, s->name, sig, false, &ignored);
	} else if (si->ssi_signo == SIGWINCH && s->foreground) {
		struct winsize ws;
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
			(void)ioctl(s->master, TIOCSWINSZ, &ws);
	}
}

static bool reaped(struct sup *s, int *status)
{
	pid_t w = waitpid(-1, status, WNOHANG);
	while (w > 0 && w != s->init)
		w = waitpid(-1, status, WNOHANG); /* orphans we adopted as subreaper */
	return w == s->init;
}

static int loop(struct sup *s)
{
	int status = 0;
	bool stdin_open = s->foreground && s->console;

	for (;;) {
		struct pollfd p[4 + MAX_CLIENTS];
		nfds_t n = 0;
		p[n++] = (struct pollfd){ s->sfd, POLLIN, 0 };
		p[n++] = (struct pollfd){ s->master, POLLIN, 0 };
		p[n++] = (struct pollfd){ s->listen_fd, POLLIN, 0 };
		p[n++] = (struct pollfd){ stdin_open ? STDIN_FILENO : -1, POLLIN, 0 };
		for (size_t i = 0; i < MAX_CLIENTS; i++)
			p[n++] = (struct pollfd){ s->clients[i], POLLIN, 0 };
		if (poll(p, n, -1) < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents & POLLIN)
			pump_master(s);
		if (p[2].revents & POLLIN)
			accept_client(s);
		if (p[3].revents & (POLLIN | POLLHUP)) {
			char buf[4096];
			ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
			if (r <= 0)
				stdin_open = false;
			else
				(void)cell_write_all(s->master, buf, (size_t)r);
		}
		for (size_t i = 0; i < MAX_CLIENTS; i++)
			if (p[4 + i].revents & (POLLIN | POLLHUP))
				client_input(s, i);
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(s->sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD)
				on_signal(s, &si);
			if (reaped(s, &status))
				return status;
		}
	}
}

/* create is done: start, learn the init's pid */
static int started(struct sup *s, struct cell_error *err)
{
	_cleanup_(cell_state_freep_) struct cell_state *state = NULL;
	enum cell_status status;
	int r;

	if ((r = cell_container_start(&s->st->rt, s->name, err)) < 0 ||
	    (r = cell_container_state(&s->st->rt, s->name, &state, &status, err)) < 0) {
		struct cell_error ignored = { 0 };
		(void)cell_container_delete(&s->st->rt, s->name, true, &ignored);
		return r;
	}
	s->init = state->pid;
	return 0;
}

static int start_container(struct sup *s, struct cell_error *err)
{
	_cleanup_free_ char *csock = xasprintf("%s/console-in.sock", s->rundir);
	_cleanup_close_ int lfd = s->console ? unix_listen(csock, err) : -1;
	struct cell_create_opts o = { .id = s->name, .bundle = s->dir, .console_socket = csock };
	int r;

	if (!s->console) {
		o.console_socket = NULL;
		if ((r = cell_container_create(&s->st->rt, &o, err)) < 0)
			return r;
		return started(s, err);
	}
	if (lfd < 0)
		return lfd;
	if ((r = cell_container_create(&s->st->rt, &o, err)) < 0)
		return r;
	_cleanup_close_ int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	(void)unlink(csock);
	if (conn < 0 || cell_console_recv_master(conn, &s->master, err) < 0) {
		struct cell_error ignored = { 0 };
		(void)cell_container_delete(&s->st->rt, s->name, true, &ignored);
		return conn < 0 ? cell_err(err, errno, "accept the console") : -EPROTO;
	}
	return started(s, err);
}

static int open_signals(struct sup *s, struct cell_error *err);

static int open_io(struct sup *s, struct cell_error *err)
{
	_cleanup_free_ char *log = xasprintf("%s/console.log", s->dir);
	_cleanup_free_ char *sock = xasprintf("%s/console.sock", s->rundir);
	struct stat stt;

	s->log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (s->log_fd < 0)
		return cell_err(err, errno, "open %s", log);
	s->log_size = fstat(s->log_fd, &stt) == 0 ? (size_t)stt.st_size : 0;
	if ((s->listen_fd = unix_listen(sock, err)) < 0)
		return s->listen_fd;
	return open_signals(s, err);
}

static int open_signals(struct sup *s, struct cell_error *err)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGWINCH);
	sigaddset(&mask, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	s->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	return s->sfd < 0 ? cell_err(err, errno, "signalfd") : 0;
}

int cell_supervise_finish(const struct cell_store *st, const char *name, int status)
{
	struct cell_error ignored = { 0 };
	_cleanup_free_ char *dir = cell_store_dir(st, name);

	record_exit(dir, status);
	/* the init's daemons, the cgroup, the mount, <run>/<name> with our pid file */
	(void)cell_manager_cleanup(st, name, &ignored);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Hand the running container to the small cell-monitor (same process, so the
 * init stays our child); returns only when it cannot be executed. */
static void exec_monitor(struct sup *s)
{
	char self[4096], monitor[4096 + 16];
	const char *bin = getenv("CELL_BINARY"); /* the real path when we run sealed */
	ssize_t n = bin ? (ssize_t)strlen(bin) : readlink("/proc/self/exe", self, sizeof(self) - 1);
	int fds[] = { s->master, s->listen_fd, s->log_fd };

	if (n <= 0 || (size_t)n >= sizeof(self))
		return;
	if (bin)
		memcpy(self, bin, (size_t)n);
	self[n] = '\0';
	(void)snprintf(monitor, sizeof(monitor), "%.*s/cell-monitor",
		       (int)(strrchr(self, '/') - self), self);
	if (access(monitor, X_OK) < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			(void)fcntl(fds[i], F_SETFD, 0);
	_cleanup_free_ char *init = xasprintf("%d", (int)s->init);
	_cleanup_free_ char *sig = xasprintf("%d", cell_stop_signal_of(s->st, s->name));
	_cleanup_free_ char *m = xasprintf("%d", s->master), *l = xasprintf("%d", s->listen_fd);
	_cleanup_free_ char *lg = xasprintf("%d", s->log_fd);
	_cleanup_free_ char *logp = xasprintf("%s/console.log", s->dir);
	execl(monitor, "cell-monitor", self, s->name, init, sig, m, l, lg,
	      s->foreground ? "1" : "0", logp, (char *)NULL);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			(void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
}

static void sup_close(struct sup *s)
{
	/* the store lock too, when the container did not start: `cell run --rm`
	 * takes it again to destroy what failed (a second flock would wait for
	 * this one forever) */
	int fds[] = { s->master, s->listen_fd, s->log_fd, s->sfd, s->lock_fd };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			(void)close(fds[i]);
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		if (s->clients[i] >= 0)
			(void)close(s->clients[i]);
	free(s->dir);
	free(s->rundir);
}

/* "PID START_TIME": who supervises the container, recorded before the container
 * exists (a kill -9 at any later moment leaves a pid that can be checked); the start
 * time tells this process from a later one that got the same pid. */
static int write_pid_file(struct sup *s, struct cell_error *err)
{
	_cleanup_free_ char *pidf = xasprintf("%s/supervisor.pid", s->rundir);
	unsigned long long t = 0;
	int r = cell_pid_start_time(getpid(), &t);

	if (r < 0)
		return cell_err(err, r, "read the start time of process %d", (int)getpid());
	_cleanup_free_ char *text = xasprintf("%d %llu\n", (int)getpid(), t);
	r = cell_write_file_atomic(pidf, text, strlen(text), 0644);
	return r < 0 ? cell_err(err, r, "write %s", pidf) : 0;
}

/* Runs in the supervisor process; `ready` gets one line: "ok PID" or the error. */
static int supervise(struct sup *s, int ready, struct cell_error *err)
{
	struct termios saved;
	bool raw = false;
	int r;

	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	if ((r = write_pid_file(s, err)) < 0 || (r = open_io(s, err)) < 0 ||
	    (r = start_container(s, err)) < 0)
		return r;
	/* other cell commands (stop, exec) may go on while we supervise */
	if (s->lock_fd >= 0)
		(void)close(TAKE_FD(s->lock_fd));
	if (ready >= 0) {
		_cleanup_free_ char *ok = xasprintf("ok %d", (int)s->init);
		(void)cell_write_all(ready, ok, strlen(ok));
		(void)close(ready);
	}
	_cleanup_free_ char *msg = xasprintf("READY=1\nMAINPID=%d\nSTATUS=container %s running",
					     (int)getpid(), s->name);
	cell_sd_notify(msg);
	if (s->sfd >= 0)
		(void)close(TAKE_FD(s->sfd)); /* the monitor makes its own */
	if (!s->in_process)
		exec_monitor(s);
	/* no cell-monitor next to us: supervise in this process */
	struct cell_error e2 = { 0 };
	int r2 = open_signals(s, &e2);
	if (r2 < 0)
		return r2;
	if (s->foreground && s->console && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios t = saved;
		cfmakeraw(&t);
		raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
	}
	int status = loop(s);
	if (raw)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return cell_supervise_finish(s->st, s->name, status);
}

static void sup_init(struct sup *s, const struct cell_store *st, const char *name, bool fg,
		     bool console, int lock_fd)
{
	memset(s, 0, sizeof(*s));
	s->st = st;
	s->name = name;
	s->dir = cell_store_dir(st, name);
	s->rundir = cell_store_rundir(st, name);
	s->master = s->listen_fd = s->log_fd = s->sfd = -1;
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		s->clients[i] = -1;
	s->foreground = fg;
	s->lock_fd = lock_fd;
	s->console = console;
}

static void __attribute__((noreturn)) daemon_child(struct sup *s, int ready)
{
	struct cell_error err = { 0 };
	char buf[CELL_ERROR_MSG + 64];
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)setsid();
	/* `cell start` may be gone (killed) when we report, and a console client may
	 * hang up: EPIPE, not a silent death that leaves the container unsupervised */
	(void)signal(SIGPIPE, SIG_IGN);
	if (devnull >= 0) {
		(void)dup2(devnull, STDIN_FILENO);
		(void)dup2(devnull, STDOUT_FILENO);
		(void)dup2(devnull, STDERR_FILENO);
	}
	int r = supervise(s, ready, &err);
	if (r < 0) {
		cell_err_text(&err, buf, sizeof(buf));
		(void)cell_write_all(ready, buf, strlen(buf));
	}
	_exit(r < 0 ? 1 : 0);
}

int cell_supervise(const struct cell_store *st, const char *name, enum cell_start_mode mode,
		   bool console, int lock_fd, struct cell_error *err)
{
	struct sup s;
	int pipefd[2], r;
	char buf[CELL_ERROR_MSG + 64];

	bool foreground = mode != CELL_START_DETACHED;

	sup_init(&s, st, name, foreground, console, lock_fd);
	s.in_process = mode == CELL_START_RUN;
	if ((r = cell_mkdir_p(s.rundir, 0700)) < 0) {
		sup_close(&s);
		return cell_err(err, r, "create %s", s.rundir);
	}
	if (foreground) {
		r = supervise(&s, -1, err);
		sup_close(&s);
		return r;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		sup_close(&s);
		return cell_err(err, errno, "pipe");
	}
	pid_t pid = fork();
	if (pid == 0) {
		(void)close(pipefd[0]);
		daemon_child(&s, pipefd[1]);
	}
	(void)close(pipefd[1]);
	ssize_t n = pid < 0 ? -1 : read(pipefd[0], buf, sizeof(buf) - 1);
	(void)close(pipefd[0]);
	sup_close(&s);
	if (pid < 0)
		return cell_err(err, errno, "fork the supervisor");
	buf[n > 0 ? n : 0] = '\0';
	if (n >= 3 && strncmp(buf, "ok ", 3) == 0)
		return 0;
	(void)waitpid(pid, NULL, 0);
	return cell_errx(err, EIO, "%s", n > 0 ? buf : "the supervisor exited before the container ran");
}

/* The supervisor's pid if that process still lives: not a zombie (nobody may reap a
 * killed cell-monitor) and started when the pid file says (not a reused pid). */
pid_t cell_supervisor_pid(const struct cell_store *st, const char *name)
{
	_cleanup_free_ char *rundir = cell_store_rundir(st, name);
	_cleanup_free_ char *path = xasprintf("%s/supervisor.pid", rundir);
	_cleanup_free_ char *text = NULL;
	unsigned long long start = 0, now = 0;
	long long pid = 0;

	if (cell_read_file(path, &text, NULL) < 0 ||
	    sscanf(text, "%lld %llu", &pid, &start) != 2 || pid <= 0 || pid > INT32_MAX)
		return 0;
	if (cell_pid_start_time((pid_t)pid, &now) < 0 || now != start)
		return 0;
	return (pid_t)pid;
}
