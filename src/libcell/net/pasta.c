/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pasta for one container (pasta.h). */
#include "pasta.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "../spec/state.h"
#include "../sys/run.h"
#include "../sys/syscalls.h"

#define PID_PASTA "pasta.pid" /* what pasta writes */
#define PID_CELL "pasta.cell" /* "PID STARTTIME": what stop trusts */
#define ERR_FILE "pasta.err"
#define HOLDER_CELL "netns-holder.cell" /* "PID STARTTIME" of the holder */
#define TUN "/dev/net/tun"

static char *path_in(const char *dir, const char *file)
{
	return xasprintf("%s/%s", dir, file);
}

/* "[ADDR/]HOSTPORT:CTRPORT", pasta's -t/-u syntax */
static char *port_spec(const struct cell_port *p)
{
	char ip[INET6_ADDRSTRLEN] = "";

	if (p->host_family && inet_ntop(p->host_family, p->host_ip, ip, sizeof(ip)))
		return xasprintf("%s/%u:%u", ip, p->host_port, p->ctr_port);
	return xasprintf("%u:%u", p->host_port, p->ctr_port);
}

/* -t/-u for the published ports of proto; "none" instead of pasta's default
 * "auto" (every port bound inside, which would publish what was not asked). */
static void push_ports(char ***v, const struct cell_pasta *p, int proto, const char *opt)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_ports; i++) {
		if (p->ports[i].proto != proto)
			continue;
		cell_strv_push(v, xstrdup(opt));
		cell_strv_push(v, port_spec(&p->ports[i]));
		n++;
	}
	if (n == 0) {
		cell_strv_push(v, xstrdup(opt));
		cell_strv_push(v, xstrdup("none"));
	}
}

static const char *const fixed_opts[] = {
    "--config-net", /* the tap gets the host's address and default route */
    "--quiet",	    "--ns-ifname", "eth0", "--dns-forward",
    CELL_PASTA_DNS, "-T",	   "none", /* nothing of the host's namespace is reached by port */
    "-U",	    "none",	   NULL,
};

char **cell_pasta_argv(const struct cell_pasta *p)
{
	char **v = xcalloc(1, sizeof(char *));

	cell_strv_push(&v, xstrdup(p->pasta ? p->pasta : "pasta"));
	for (size_t i = 0; fixed_opts[i]; i++)
		cell_strv_push(&v, xstrdup(fixed_opts[i]));
	push_ports(&v, p, IPPROTO_TCP, "-t");
	push_ports(&v, p, IPPROTO_UDP, "-u");
	cell_strv_push(&v, xstrdup("--pid"));
	cell_strv_push(&v, path_in(p->dir, PID_PASTA));
	/* a pid: pasta joins its user namespace, then its network namespace */
	cell_strv_push(&v, xasprintf("%d", p->init));
	return v;
}

/* The process a record ("PID STARTTIME") names, if it still runs: else 0. */
static pid_t recorded_pid(const char *dir, const char *file)
{
	_cleanup_free_ char *path = path_in(dir, file), *text = NULL;
	unsigned long long start, now;
	long long pid;

	if (cell_read_file(path, &text, NULL) < 0)
		return 0;
	if (sscanf(text, "%lld %llu", &pid, &start) != 2 || pid <= 0 || pid > INT32_MAX)
		return 0;
	if (cell_pid_start_time((pid_t)pid, &now) < 0 || now != start)
		return 0;
	return (pid_t)pid;
}

pid_t cell_pasta_pid(const char *dir)
{
	return recorded_pid(dir, PID_CELL);
}

pid_t cell_pasta_holder_pid(const char *dir)
{
	return recorded_pid(dir, HOLDER_CELL);
}

static int record(const char *dir, const char *file, pid_t pid, const char *what,
		  struct cell_error *err)
{
	_cleanup_free_ char *path = path_in(dir, file), *rec = NULL;
	unsigned long long start;

	if (cell_pid_start_time(pid, &start) < 0)
		return cell_errx(err, ESRCH, "%s (pid %d) exited after it started", what, (int)pid);
	rec = xasprintf("%d %llu\n", (int)pid, start);
	int r = cell_write_file_replace(path, rec, strlen(rec), 0644, false);
	return r < 0 ? cell_err(err, r, "write %s", path) : 0;
}

static int record_pid(const char *dir, struct cell_error *err)
{
	_cleanup_free_ char *pidpath = path_in(dir, PID_PASTA), *text = NULL;
	long long pid = 0;

	/* pasta writes its pid file before its first process exits */
	if (cell_read_file(pidpath, &text, NULL) < 0 || sscanf(text, "%lld", &pid) != 1 ||
	    pid <= 0 || pid > INT32_MAX)
		return cell_errx(err, ESRCH, "pasta started but wrote no pid to %s", pidpath);
	return record(dir, PID_CELL, (pid_t)pid, "pasta", err);
}

/* The last line of text that is not syslog's noise ("Failed to send N bytes
 * to syslog", when the host has no /dev/log), cut in place. */
static const char *last_line(char *text)
{
	const char *last = "";

	for (char *s = text; *s;) {
		size_t n = strcspn(s, "\n");
		char *next = s + n + (s[n] == '\n');
		s[n] = '\0';
		if (n > 0 && !strstr(s, "to syslog"))
			last = s;
		s = next;
	}
	return last;
}

/* pasta's last word on stderr says why it stopped ("External interface not usable") */
static int start_failed(const char *dir, int status, struct cell_error *err)
{
	_cleanup_free_ char *path = path_in(dir, ERR_FILE), *text = NULL;

	if (cell_read_file(path, &text, NULL) < 0)
		text = xstrdup("");
	const char *line = last_line(text);
	if (!WIFEXITED(status))
		return cell_errx(err, EIO, "pasta was killed by signal %d", WTERMSIG(status));
	return cell_errx(err, EIO, "pasta exited with %d: %s", WEXITSTATUS(status),
			 *line ? line : "(nothing on stderr)");
}

/* Its first process returns once the namespace is configured and the daemon
 * has written its pid file. */
static int spawn(const struct cell_pasta *p, int errfd, struct cell_error *err)
{
	static const char *const dirs[] = {"/usr/bin", "/bin", NULL};
	char *const env[] = {NULL};
	_cleanup_strv_free_ char **argv = cell_pasta_argv(p);
	struct cell_run run = {
	    .argv = argv,
	    .env = env,
	    .search = !p->pasta,
	    .dirs = dirs,
	    .fd = {CELL_RUN_NULL, CELL_RUN_NULL, errfd},
	    .only_std_fds = true, /* a daemon: nothing of ours outlives us in it */
	};
	const char *step;
	pid_t pid = cell_run_start(&run, &step);
	int status;

	if (pid == -ENOENT && !p->pasta)
		return cell_errx(err, ENOENT, "pasta not found: install passt (--net pasta)");
	if (pid < 0)
		return cell_err(err, pid, "%s %s", step, argv[0]);
	int r = cell_run_wait(pid, &status);
	if (r < 0)
		return cell_err(err, r, "wait for %s", argv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return start_failed(p->dir, status, err);
	return 0;
}

struct record {
	const char *dir, *file;
};

/* still the process its record names (pid and start time) */
static bool recorded(pid_t pid, void *arg)
{
	const struct record *rec = arg;

	return recorded_pid(rec->dir, rec->file) == pid;
}

static int terminate(const char *dir, const char *file, pid_t pid)
{
	struct record rec = { dir, file };

	return cell_run_terminate(pid, recorded, &rec, 1000);
}

static int stop_one(const char *dir, const char *file, const char *what, struct cell_error *err)
{
	_cleanup_free_ char *rec = path_in(dir, file);
	pid_t pid = recorded_pid(dir, file);
	int r;

	if (pid > 0 && (r = terminate(dir, file, pid)) < 0)
		return cell_err(err, r, "stop %s (pid %d)", what, (int)pid);
	(void)unlink(rec);
	return 0;
}

int cell_pasta_stop(const char *dir, struct cell_error *err)
{
	int r = stop_one(dir, PID_CELL, "pasta", err);

	return r < 0 ? r : stop_one(dir, HOLDER_CELL, "the network namespace's holder", err);
}

/* The holder only keeps its namespaces alive: any program that waits for a
 * signal will do. */
int cell_pasta_holder(const char *dir, pid_t *out, struct cell_error *err)
{
	static const char *const dirs[] = {"/usr/bin", "/bin", NULL};
	char *const argv[] = {"sleep", "infinity", NULL};
	char *const env[] = {NULL};
	struct cell_run run = {
	    .argv = argv,
	    .env = env,
	    .search = true,
	    .dirs = dirs,
	    .fd = {CELL_RUN_NULL, CELL_RUN_NULL, CELL_RUN_NULL},
	    .only_std_fds = true,
	    .new_user_net_ns = true,
	    .new_session = true, /* outlives `cell start`, like the supervisor */
	};
	const char *step;
	int r;

	if ((r = cell_pasta_stop(dir, err)) < 0)
		return r; /* a crash's */
	pid_t pid = cell_run_start(&run, &step);
	if (pid < 0)
		return cell_err(err, pid, "--net pasta: %s for %s", step, argv[0]);
	if ((r = record(dir, HOLDER_CELL, pid, "the network namespace's holder", err)) < 0) {
		(void)kill(pid, SIGKILL);
		return r;
	}
	*out = pid;
	return 0;
}

int cell_pasta_start(const struct cell_pasta *p, struct cell_error *err)
{
	_cleanup_free_ char *errpath = path_in(p->dir, ERR_FILE);
	_cleanup_free_ char *pidpath = path_in(p->dir, PID_PASTA);
	_cleanup_close_ int errfd = -1;
	int r;

	/* pasta opens the tun device as the caller: a clear word instead of its
	 * "Failed to open tun socket in namespace" */
	if (access(TUN, R_OK | W_OK) < 0)
		return cell_err(err, errno, "--net pasta needs %s readable and writable by uid %u",
				TUN, (unsigned)geteuid());
	if ((r = stop_one(p->dir, PID_CELL, "pasta", err)) < 0)
		return r; /* a crash's, for a namespace that is gone */
	(void)unlink(pidpath);
	errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (errfd < 0)
		return cell_err(err, errno, "open %s", errpath);
	if ((r = spawn(p, errfd, err)) < 0)
		return r;
	return record_pid(p->dir, err);
}
