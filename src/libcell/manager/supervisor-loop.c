/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The supervisor's loop (supervisor-loop.h): pty output goes to the size-capped
 * console.log, to the user's terminal in the foreground and to the attached
 * `cell console` clients; their input and the terminal's go to the pty;
 * SIGTERM asks the init to power off, SIGWINCH passes the terminal's size on,
 * SIGCHLD reaps (we are a subreaper: orphans too) until the init is gone.
 * Only libc: cell-monitor links this file and nothing else of libcell.
 */
#include "supervisor-loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

void cell_sup_loop_init(struct cell_sup_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->master = l->listen_fd = l->log_fd = l->sfd = -1;
	for (size_t i = 0; i < CELL_SUP_MAX_CLIENTS; i++)
		l->clients[i] = -1;
}

static void sup_mask(sigset_t *mask)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGWINCH, SIGHUP };

	sigemptyset(mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(mask, sigs[i]);
}

int cell_sup_loop_signals(struct cell_sup_loop *l)
{
	sigset_t mask;

	sup_mask(&mask);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	l->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	return l->sfd < 0 ? -errno : 0;
}

void cell_sup_loop_unblock(void)
{
	sigset_t mask;

	sup_mask(&mask);
	(void)sigprocmask(SIG_UNBLOCK, &mask, NULL);
}

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

static void log_out(struct cell_sup_loop *l, const char *b, size_t n)
{
	if (l->log_fd < 0)
		return;
	if (l->log_size + n > CELL_SUP_LOG_CAP) {
		char old[PATH_MAX + 8];
		(void)snprintf(old, sizeof(old), "%s.1", l->log_path);
		(void)rename(l->log_path, old);
		(void)close(l->log_fd);
		l->log_fd = open(l->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
				 0640);
		l->log_size = 0;
	}
	if (l->log_fd >= 0 && write_all(l->log_fd, b, n) == 0)
		l->log_size += n;
}

static void from_master(struct cell_sup_loop *l)
{
	char b[8192];
	ssize_t n = read(l->master, b, sizeof(b));

	if (n <= 0)
		return;
	log_out(l, b, (size_t)n);
	if (l->foreground)
		(void)write_all(STDOUT_FILENO, b, (size_t)n);
	for (size_t i = 0; i < CELL_SUP_MAX_CLIENTS; i++)
		if (l->clients[i] >= 0 && write_all(l->clients[i], b, (size_t)n) < 0) {
			(void)close(l->clients[i]);
			l->clients[i] = -1;
		}
}

/* Input of a client or of our stdin (which stays open) to the pty. */
static void to_master(struct cell_sup_loop *l, int *fd)
{
	char b[4096];
	ssize_t n = read(*fd, b, sizeof(b));

	if (n <= 0) {
		if (*fd != STDIN_FILENO)
			(void)close(*fd);
		*fd = -1;
		return;
	}
	if (l->master >= 0)
		(void)write_all(l->master, b, (size_t)n);
}

static void accept_client(struct cell_sup_loop *l)
{
	int fd = accept4(l->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	for (size_t i = 0; fd >= 0 && i < CELL_SUP_MAX_CLIENTS; i++)
		if (l->clients[i] < 0) {
			l->clients[i] = fd;
			return;
		}
	if (fd >= 0)
		(void)close(fd); /* full */
}

/* Whether pid has a handler for sig: its SigCgt mask in /proc (proc(5)). */
static bool catches(pid_t pid, int sig)
{
	char path[64], buf[2048];
	ssize_t n;
	int fd;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true; /* gone: nothing to wait for */
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	const char *cgt = strstr(buf, "SigCgt:");
	if (!cgt)
		return true;
	unsigned long long mask = strtoull(cgt + 7, NULL, 16);
	return sig < 1 || sig > 64 || (mask >> (sig - 1)) & 1;
}

/* Ask the init to power off; if it cannot have taken the signal yet (just
 * started, no handler installed), remember to ask again (see loop()). */
static void request_stop(struct cell_sup_loop *l)
{
	int sig = l->stop ? l->stop(l->data) : 0;

	l->stop_retry = sig > 0 && !catches(l->init, sig) ? sig : 0;
}

/* true when the init was reaped; *status set */
static bool on_signal(struct cell_sup_loop *l, int *status)
{
	struct signalfd_siginfo si;
	pid_t w;

	if (read(l->sfd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
		request_stop(l);
	if (si.ssi_signo == SIGWINCH && l->foreground && l->master >= 0) {
		struct winsize ws;
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
			(void)ioctl(l->master, TIOCSWINSZ, &ws);
	}
	while ((w = waitpid(-1, status, WNOHANG)) > 0)
		if (w == l->init)
			return true;
	return false;
}

static int loop(struct cell_sup_loop *l)
{
	int in = l->foreground && l->master >= 0 ? STDIN_FILENO : -1, status = 0;

	for (;;) {
		struct pollfd p[4 + CELL_SUP_MAX_CLIENTS] = {
			{ l->sfd, POLLIN, 0 },
			{ l->master, POLLIN, 0 },
			{ l->listen_fd, POLLIN, 0 },
			{ in, POLLIN, 0 },
		};
		for (size_t i = 0; i < CELL_SUP_MAX_CLIENTS; i++)
			p[4 + i] = (struct pollfd){ l->clients[i], POLLIN, 0 };
		/* a stop the init could not take yet: look again every 100 ms */
		int n = poll(p, 4 + CELL_SUP_MAX_CLIENTS, l->stop_retry ? 100 : -1);
		if (n < 0 && errno != EINTR)
			return 255 << 8;
		if (l->stop_retry && catches(l->init, l->stop_retry))
			request_stop(l);
		if (p[1].revents & POLLIN)
			from_master(l);
		if (p[2].revents & POLLIN)
			accept_client(l);
		if (p[3].revents & (POLLIN | POLLHUP))
			to_master(l, &in);
		for (size_t i = 0; i < CELL_SUP_MAX_CLIENTS; i++)
			if (p[4 + i].revents & (POLLIN | POLLHUP))
				to_master(l, &l->clients[i]);
		if ((p[0].revents & POLLIN) && on_signal(l, &status))
			return status;
	}
}

int cell_sup_loop_run(struct cell_sup_loop *l)
{
	struct termios saved, raw;
	bool is_raw = false;

	if (l->foreground && l->master >= 0 && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		is_raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	int status = loop(l);
	if (is_raw)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return status;
}

/* ---- the handover to cell-monitor ---- */

enum opt_kind {
	OPT_STR,    /* not empty */
	OPT_PID,    /* 1.. */
	OPT_SIGNAL, /* 1..SIGRTMAX */
	OPT_FD,     /* -1 (none), or an fd we have */
	OPT_BOOL,   /* 0 or 1 */
};

/* One row per option: its name, what it holds and where. */
static const struct handover_opt {
	const char *name;
	enum opt_kind kind;
	size_t off;
} handover_opts[] = {
	{ "cell", OPT_STR, offsetof(struct cell_sup_handover, cell) },
	{ "name", OPT_STR, offsetof(struct cell_sup_handover, name) },
	{ "init", OPT_PID, offsetof(struct cell_sup_handover, init) },
	{ "stop-signal", OPT_SIGNAL, offsetof(struct cell_sup_handover, stop_signal) },
	{ "master-fd", OPT_FD, offsetof(struct cell_sup_handover, master) },
	{ "listen-fd", OPT_FD, offsetof(struct cell_sup_handover, listen_fd) },
	{ "log-fd", OPT_FD, offsetof(struct cell_sup_handover, log_fd) },
	{ "foreground", OPT_BOOL, offsetof(struct cell_sup_handover, foreground) },
	{ "log", OPT_STR, offsetof(struct cell_sup_handover, log_path) },
};
#define N_OPTS (sizeof(handover_opts) / sizeof(handover_opts[0]))
_Static_assert(N_OPTS + 2 == CELL_SUP_HANDOVER_ARGS, "argv[0], the options, NULL");

#define FIELD(h, o, type) ((type *)(void *)((char *)(h) + (o)->off))

int cell_sup_handover_argv(const struct cell_sup_handover *h, char *argv[CELL_SUP_HANDOVER_ARGS],
			   char *buf, size_t size)
{
	size_t used = 0;

	argv[0] = "cell-monitor";
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct handover_opt *o = &handover_opts[i];
		int n;
		if (o->kind == OPT_STR)
			n = snprintf(buf + used, size - used, "--%s=%s", o->name,
				     *FIELD(h, o, const char *const));
		else if (o->kind == OPT_BOOL)
			n = snprintf(buf + used, size - used, "--%s=%d", o->name,
				     *FIELD(h, o, const bool) ? 1 : 0);
		else
			n = snprintf(buf + used, size - used, "--%s=%d", o->name,
				     *FIELD(h, o, const int));
		if (n < 0 || (size_t)n >= size - used)
			return -ENAMETOOLONG;
		argv[1 + i] = buf + used;
		used += (size_t)n + 1;
	}
	argv[1 + N_OPTS] = NULL;
	return 0;
}

static int parse_int(const char *s, int min, int max, int *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_value(const struct handover_opt *o, const char *v, struct cell_sup_handover *h)
{
	int n = 0, r;

	switch (o->kind) {
	case OPT_STR:
		if (!*v)
			return -EINVAL;
		*FIELD(h, o, const char *) = v;
		return 0;
	case OPT_BOOL:
		r = parse_int(v, 0, 1, &n);
		break;
	case OPT_PID:
		r = parse_int(v, 1, INT_MAX, &n);
		break;
	case OPT_SIGNAL:
		r = parse_int(v, 1, SIGRTMAX, &n);
		break;
	case OPT_FD:
		r = parse_int(v, -1, INT_MAX, &n);
		if (r == 0 && n >= 0 && fcntl(n, F_GETFD) < 0)
			r = -EBADF;
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0)
		return r;
	if (o->kind == OPT_BOOL)
		*FIELD(h, o, bool) = n == 1;
	else
		*FIELD(h, o, int) = n;
	return 0;
}

/* The row of "--NAME=VALUE", *value set; NULL for anything else. */
static const struct handover_opt *opt_of(const char *arg, const char **value)
{
	if (strncmp(arg, "--", 2) != 0)
		return NULL;
	for (size_t i = 0; i < N_OPTS; i++) {
		size_t len = strlen(handover_opts[i].name);
		if (strncmp(arg + 2, handover_opts[i].name, len) == 0 && arg[2 + len] == '=') {
			*value = arg + 3 + len;
			return &handover_opts[i];
		}
	}
	return NULL;
}

int cell_sup_handover_parse(int argc, char **argv, struct cell_sup_handover *h,
			    const char **bad)
{
	bool seen[N_OPTS] = { false };
	const char *v = NULL;

	memset(h, 0, sizeof(*h));
	for (int i = 1; i < argc; i++) {
		const struct handover_opt *o = opt_of(argv[i], &v);
		size_t k = o ? (size_t)(o - handover_opts) : 0;
		if (!o || seen[k] || parse_value(o, v, h) < 0) {
			*bad = argv[i];
			return -EINVAL;
		}
		seen[k] = true;
	}
	for (size_t k = 0; k < N_OPTS; k++)
		if (!seen[k]) {
			*bad = handover_opts[k].name;
			return -ENOENT;
		}
	return 0;
}
