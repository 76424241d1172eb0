/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The per-container supervisor (no daemon for the whole host).
 *
 * It creates and starts the container through container.c with the console
 * pty sent to it, then runs the supervisor's loop (supervisor-loop.c): pty
 * output to a size-capped console.log and to attached `cell console` clients
 * (console.sock), their input to the pty, SIGCHLD reaps the init, SIGTERM
 * asks the init to power off.  Detached (`cell start`) it execs cell-monitor
 * for that, which runs the same loop at a fraction of our size.  When the
 * init exits it records the status, deletes the container (its cgroup and
 * mounts go with it) and tells systemd (sd_notify).
 */
#include "manager.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../process/terminal.h"
#include "supervisor-internal.h"
#include "supervisor-loop.h"

struct sup {
	const struct cell_store *st;
	const char *name;
	char *dir, *rundir, *log_path;
	struct cell_sup_loop loop; /* the pty, console.log, console.sock, clients, init */
	bool in_process; /* control returns to the caller: no cell-monitor */
	int lock_fd; /* the caller's store lock: released once the container runs */
	bool console; /* a pty (else the container shares our stdio) */
};

/* What the detached supervisor tells `cell start` through the ready pipe, in one
 * write (a pipe keeps a write of up to PIPE_BUF bytes whole): the container
 * runs, or why not, as the error record itself (code and message). */
struct ready_report {
	int running;
	struct cell_error err;
};
_Static_assert(sizeof(struct ready_report) <= PIPE_BUF, "one write");

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
static int stop_init(void *data)
{
	struct sup *s = data;
	struct cell_error ignored = { 0 };
	int sig = cell_stop_signal_of(s->st, s->name);

	return cell_container_kill(&s->st->rt, s->name, sig, false, &ignored) == 0 ? sig : 0;
}

/* create is done: learn the init's pid, give it its network (the init waits
 * before its exec until start), start */
static int started(struct sup *s, struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *state = NULL;
	enum cell_status status;
	int r;

	if ((r = cell_container_state(&s->st->rt, s->name, &state, &status, err)) < 0 ||
	    (r = cell_manager_net_up(s->st, s->name, state->pid, err)) < 0 ||
	    (r = cell_container_start(&s->st->rt, s->name, err)) < 0) {
		struct cell_error ignored = { 0 };
		(void)cell_container_delete(&s->st->rt, s->name, true, &ignored);
		return r;
	}
	s->loop.init = state->pid;
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
	if (conn < 0 || cell_console_recv_master(conn, &s->loop.master, err) < 0) {
		struct cell_error ignored = { 0 };
		(void)cell_container_delete(&s->st->rt, s->name, true, &ignored);
		return conn < 0 ? cell_err(err, errno, "accept the console") : -EPROTO;
	}
	return started(s, err);
}

static int open_signals(struct sup *s, struct cell_error *err)
{
	int r = cell_sup_loop_signals(&s->loop);

	return r < 0 ? cell_err(err, r, "signalfd") : 0;
}

static int open_io(struct sup *s, struct cell_error *err)
{
	_cleanup_free_ char *sock = xasprintf("%s/console.sock", s->rundir);
	struct cell_sup_loop *l = &s->loop;
	struct stat stt;

	l->log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (l->log_fd < 0)
		return cell_err(err, errno, "open %s", s->log_path);
	l->log_size = fstat(l->log_fd, &stt) == 0 ? (size_t)stt.st_size : 0;
	if ((l->listen_fd = unix_listen(sock, err)) < 0)
		return l->listen_fd;
	return open_signals(s, err);
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
	char self[PATH_MAX], monitor[PATH_MAX + 16], buf[3 * PATH_MAX];
	const char *bin = s->st->binary; /* the real path when we run sealed */
	ssize_t n = bin ? (ssize_t)strlen(bin) : readlink("/proc/self/exe", self, sizeof(self) - 1);
	const struct cell_sup_loop *l = &s->loop;
	int fds[] = { l->master, l->listen_fd, l->log_fd };
	char *argv[CELL_SUP_HANDOVER_ARGS];

	if (n <= 0 || (size_t)n >= sizeof(self))
		return;
	if (bin)
		memcpy(self, bin, (size_t)n);
	self[n] = '\0';
	(void)snprintf(monitor, sizeof(monitor), "%.*s/cell-monitor",
		       (int)(strrchr(self, '/') - self), self);
	struct cell_sup_handover h = {
		.cell = self, .name = s->name, .log_path = s->log_path, .init = l->init,
		.stop_signal = cell_stop_signal_of(s->st, s->name), .master = l->master,
		.listen_fd = l->listen_fd, .log_fd = l->log_fd, .foreground = l->foreground,
	};
	if (access(monitor, X_OK) < 0 || cell_sup_handover_argv(&h, argv, buf, sizeof(buf)) < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			(void)fcntl(fds[i], F_SETFD, 0);
	execv(monitor, argv);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			(void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
}

static void sup_close(struct sup *s)
{
	/* the store lock too, when the container did not start: `cell run --rm`
	 * takes it again to destroy what failed (a second flock would wait for
	 * this one forever) */
	const struct cell_sup_loop *l = &s->loop;
	int fds[] = { l->master, l->listen_fd, l->log_fd, l->sfd, s->lock_fd };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			(void)close(fds[i]);
	for (size_t i = 0; i < CELL_SUP_MAX_CLIENTS; i++)
		if (l->clients[i] >= 0)
			(void)close(l->clients[i]);
	free(s->dir);
	free(s->rundir);
	free(s->log_path);
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

static void report(int ready, const struct cell_error *err)
{
	struct ready_report rep = { .running = !err };

	if (err)
		rep.err = *err;
	(void)cell_write_all(ready, &rep, sizeof(rep));
}

/* Runs in the supervisor process; `ready` gets the report once the container runs. */
static int supervise(struct sup *s, int ready, struct cell_error *err)
{
	int r;

	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	if ((r = write_pid_file(s, err)) < 0 || (r = open_io(s, err)) < 0 ||
	    (r = start_container(s, err)) < 0)
		return r;
	/* other cell commands (stop, exec) may go on while we supervise */
	if (s->lock_fd >= 0)
		(void)close(TAKE_FD(s->lock_fd));
	if (ready >= 0) {
		report(ready, NULL);
		(void)close(ready);
	}
	_cleanup_free_ char *msg = xasprintf("READY=1\nMAINPID=%d\nSTATUS=container %s running",
					     (int)getpid(), s->name);
	cell_sd_notify(msg);
	if (s->loop.sfd >= 0)
		(void)close(TAKE_FD(s->loop.sfd)); /* the monitor makes its own */
	if (!s->in_process)
		exec_monitor(s);
	/* no cell-monitor next to us: supervise in this process */
	struct cell_error e2 = { 0 };
	int r2 = open_signals(s, &e2);
	if (r2 < 0)
		return r2;
	return cell_supervise_finish(s->st, s->name, cell_sup_loop_run(&s->loop));
}

static void sup_init(struct sup *s, const struct cell_store *st, const char *name, bool fg,
		     bool console, int lock_fd)
{
	memset(s, 0, sizeof(*s));
	s->st = st;
	s->name = name;
	s->dir = cell_store_dir(st, name);
	s->rundir = cell_store_rundir(st, name);
	s->log_path = xasprintf("%s/console.log", s->dir);
	cell_sup_loop_init(&s->loop);
	s->loop.log_path = s->log_path;
	s->loop.foreground = fg;
	s->loop.stop = stop_init;
	s->loop.data = s;
	s->lock_fd = lock_fd;
	s->console = console;
}

static void __attribute__((noreturn)) daemon_child(struct sup *s, int ready)
{
	struct cell_error err = { 0 };
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
	if (r < 0)
		report(ready, &err);
	_exit(r < 0 ? 1 : 0);
}

/* The detached supervisor's report: 0 once the container runs, else its error
 * as it was recorded there (code and message). */
static int await_report(pid_t pid, int ready, struct cell_error *err)
{
	struct ready_report rep = { 0 };
	ssize_t n = read(ready, &rep, sizeof(rep));

	if (n == (ssize_t)sizeof(rep) && rep.running)
		return 0;
	(void)waitpid(pid, NULL, 0);
	if (n != (ssize_t)sizeof(rep))
		return cell_errx(err, EIO, "the supervisor exited before the container ran");
	rep.err.msg[sizeof(rep.err.msg) - 1] = '\0';
	return rep.err.plain ? cell_errx(err, rep.err.code, "%s", rep.err.msg)
			     : cell_err(err, rep.err.code, "%s", rep.err.msg);
}

int cell_supervise(const struct cell_store *st, const char *name, enum cell_start_mode mode,
		   bool console, int lock_fd, struct cell_error *err)
{
	struct sup s;
	int pipefd[2], r;
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
	int fork_errno = errno;
	if (pid == 0) {
		(void)close(pipefd[0]);
		daemon_child(&s, pipefd[1]);
	}
	(void)close(pipefd[1]);
	sup_close(&s);
	if (pid < 0) {
		(void)close(pipefd[0]);
		return cell_err(err, fork_errno, "fork the supervisor");
	}
	r = await_report(pid, pipefd[0], err);
	(void)close(pipefd[0]);
	return r;
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
