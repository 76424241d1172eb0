/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dnsmasq per network: its command line, its two files, its process.
 *
 * IPv4: DNS names from the hosts file, DHCP for the MACs of the dhcp-hosts
 * file only (a "static" range: dnsmasq hands out no address of its own).
 * IPv6: names (AAAA) only.  No router advertisements and no DHCPv6: cell
 * puts a container's IPv6 address and route in place itself.
 *
 * dnsmasq daemonizes: its foreground process exits once the daemon listens
 * (or with a code and a line on stderr when it could not), and the daemon,
 * no child of ours, is found again through the pid file it writes itself,
 * <rundir>/dnsmasq.pid: that process is ours while its command line names
 * that pid file (a pid alone may be another process's by now).  dnsmasq writes
 * it, not cell, so a kill -9 of cell at any moment of the start leaves a
 * daemon that the next sync finds, not one that holds the port unknown.
 */
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "../spec/state.h"
#include "../sys/run.h"
#include "../sys/syscalls.h"


static void ip_str(int family, const unsigned char *addr, char buf[INET6_ADDRSTRLEN])
{
	if (!inet_ntop(family, addr, buf, INET6_ADDRSTRLEN))
		buf[0] = '\0';
}

/* A name goes into files dnsmasq reads line by line and field by field:
 * nothing that could end a field or a line. */
static bool name_safe(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n < 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* dnsmasq refuses a DHCP host name that is no host name (an underscore). */
static bool hostname_ok(const char *s)
{
	return !strchr(s, '_') && s[0] != '-';
}

static char *path_in(const char *rundir, const char *file)
{
	return xasprintf("%s/%s", rundir, file);
}

static void push_opt(char ***v, const char *opt, const char *value)
{
	cell_strv_push(v, xasprintf("--%s=%s", opt, value));
}

static void push_file(char ***v, const char *opt, const char *rundir, const char *file)
{
	_cleanup_free_ char *p = path_in(rundir, file);

	push_opt(v, opt, p);
}

/* --dhcp-range=NETWORK,static,NETMASK */
static void push_range4(char ***v, const struct cell_cidr *c)
{
	unsigned char mask[4] = {0};
	char net[INET6_ADDRSTRLEN], m[INET6_ADDRSTRLEN];

	for (unsigned i = 0; i < c->prefix && i < 32; i++)
		mask[i / 8] |= (unsigned char)(0x80u >> (i % 8));
	ip_str(AF_INET, c->addr, net);
	ip_str(AF_INET, mask, m);
	cell_strv_push(v, xasprintf("--dhcp-range=%s,static,%s", net, m));
}

/* Options without a value: the ones every network's dnsmasq has. */
static const char *const fixed_opts[] = {
    "--conf-file=/dev/null", /* not the host's /etc/dnsmasq.conf */
    "--no-hosts",	     /* not the host's /etc/hosts */
    "--bind-interfaces",     /* its own sockets: others may serve other bridges */
    "--except-interface=lo",
    "--dhcp-no-override",
    "--dhcp-authoritative", /* the only DHCP server of the bridge */
    "--domain-needed",	    /* plain names stay local */
    "--strict-order",
};

char **cell_dns_argv(const struct cell_dns_net *n, const char *dnsmasq)
{
	char **v = xcalloc(1, sizeof(char *));
	char a[INET6_ADDRSTRLEN];

	cell_strv_push(&v, xstrdup(dnsmasq));
	for (size_t i = 0; i < ARRAY_SIZE(fixed_opts); i++)
		cell_strv_push(&v, xstrdup(fixed_opts[i]));
	push_file(&v, "pid-file", n->rundir, "dnsmasq.pid");
	push_file(&v, "addn-hosts", n->rundir, "hosts");
	push_file(&v, "dhcp-hostsfile", n->rundir, "dhcp-hosts");
	push_file(&v, "dhcp-leasefile", n->rundir, "leases");
	push_file(&v, "log-facility", n->rundir, "dnsmasq.log");
	push_opt(&v, "interface", n->bridge);
	if (n->has4) {
		ip_str(AF_INET, n->gw4, a);
		push_opt(&v, "listen-address", a);
		push_range4(&v, &n->subnet4);
	}
	if (n->has6) {
		ip_str(AF_INET6, n->gw6, a);
		push_opt(&v, "listen-address", a);
	}
	return v;
}

static int host_cmp(const void *a, const void *b)
{
	const struct cell_dns_host *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* The hosts with a safe name, sorted by name (caller frees the array). */
static const struct cell_dns_host **sorted_hosts(const struct cell_dns_net *n, size_t *count)
{
	const struct cell_dns_host **v = xcalloc(n->n_hosts + 1, sizeof(struct cell_dns_host *));
	size_t k = 0;

	for (size_t i = 0; i < n->n_hosts; i++)
		if (name_safe(n->hosts[i].name))
			v[k++] = &n->hosts[i];
	qsort((void *)v, k, sizeof(struct cell_dns_host *), host_cmp);
	*count = k;
	return v;
}

char *cell_dns_hosts_text(const struct cell_dns_net *n)
{
	size_t count;
	_cleanup_free_ const struct cell_dns_host **h = sorted_hosts(n, &count);
	struct cell_buf b = {xstrdup(""), 0};
	char a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < count; i++) {
		if (h[i]->has4) {
			ip_str(AF_INET, h[i]->ip4, a);
			cell_buf_add(&b, "%s %s\n", a, h[i]->name);
		}
		if (h[i]->has6) {
			ip_str(AF_INET6, h[i]->ip6, a);
			cell_buf_add(&b, "%s %s\n", a, h[i]->name);
		}
	}
	return b.s;
}

char *cell_dns_dhcp_text(const struct cell_dns_net *n)
{
	size_t count;
	_cleanup_free_ const struct cell_dns_host **h = sorted_hosts(n, &count);
	struct cell_buf b = {xstrdup(""), 0};
	char a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < count; i++) {
		const unsigned char *m = h[i]->mac;
		if (!h[i]->has4)
			continue;
		ip_str(AF_INET, h[i]->ip4, a);
		cell_buf_add(&b, "%02x:%02x:%02x:%02x:%02x:%02x,%s", m[0], m[1], m[2], m[3], m[4], m[5], a);
		if (hostname_ok(h[i]->name))
			cell_buf_add(&b, ",%s", h[i]->name);
		cell_buf_add(&b, "\n");
	}
	return b.s;
}

pid_t cell_dns_pid(const char *rundir)
{
	_cleanup_free_ char *path = path_in(rundir, "dnsmasq.pid"), *text = NULL, *cmd = NULL;
	_cleanup_free_ char *want = xasprintf("--pid-file=%s", path);
	char proc[64];
	long long pid;
	size_t len = 0;

	if (cell_read_file(path, &text, NULL) < 0 || sscanf(text, "%lld", &pid) != 1 || pid <= 0 ||
	    pid > INT32_MAX)
		return 0;
	(void)snprintf(proc, sizeof(proc), "/proc/%lld/cmdline", pid);
	if (cell_read_file(proc, &cmd, &len) < 0)
		return 0; /* gone; a zombie's is empty */
	for (size_t off = 0; off < len; off += strlen(cmd + off) + 1)
		if (streq(cmd + off, want))
			return (pid_t)pid;
	return 0;
}

/* Write rundir/file when its text differs: *changed then. */
static int put_file(const char *rundir, const char *file, const char *text, bool *changed,
		    struct cell_error *err)
{
	_cleanup_free_ char *path = path_in(rundir, file), *old = NULL;
	int r;

	if (cell_read_file(path, &old, NULL) == 0 && streq(old, text))
		return 0;
	/* 0644 whatever the umask: dnsmasq reads it again as its own user */
	r = cell_write_file_replace(path, text, strlen(text), 0644, false);
	if (r == 0 && chmod(path, 0644) < 0)
		r = -errno;
	if (r < 0)
		return cell_err(err, r, "write %s", path);
	*changed = true;
	return 0;
}

static int put_files(const struct cell_dns_net *n, bool *changed, struct cell_error *err)
{
	_cleanup_free_ char *hosts = cell_dns_hosts_text(n), *dhcp = cell_dns_dhcp_text(n);
	int r;

	r = cell_mkdir_p(n->rundir, 0755);
	if (r == 0 && chmod(n->rundir, 0755) < 0)
		r = -errno;
	if (r < 0)
		return cell_err(err, r, "make %s", n->rundir);
	r = put_file(n->rundir, "hosts", hosts, changed, err);
	if (r < 0)
		return r;
	return put_file(n->rundir, "dhcp-hosts", dhcp, changed, err);
}

/* The daemon's pid file names it: waited for up to a second (dnsmasq's
 * foreground process may exit before the daemon writes it). */
static int await_pid(const char *rundir, struct cell_error *err)
{
	const struct timespec tick = { 0, 1000L * 1000 };

	for (int i = 0; i < 1000; i++) {
		if (cell_dns_pid(rundir) > 0)
			return 0;
		(void)nanosleep(&tick, NULL);
	}
	return cell_errx(err, ESRCH,
			 "dnsmasq started but no dnsmasq runs with %s/dnsmasq.pid; see %s/%s",
			 rundir, rundir, "dnsmasq.log");
}

/* dnsmasq's exit codes (its man page, EXIT CODES) as errnos; 2 is any
 * network problem, mostly an address the bridge does not have (yet). */
static int exit_errno(int code, const char *text)
{
	static const struct {
		int code, error;
	} codes[] = {{1, EINVAL}, {2, EADDRNOTAVAIL}, {3, EACCES}, {4, ENOMEM}};

	if (code == 2 && strstr(text, "Address already in use"))
		return EADDRINUSE;
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (codes[i].code == code)
			return codes[i].error;
	return EIO;
}

/* The foreground process failed: what it said on stderr (its first line). */
static int start_failed(const char *rundir, int status, struct cell_error *err)
{
	_cleanup_free_ char *path = path_in(rundir, "dnsmasq.err"), *text = NULL;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	const char *line;

	if (cell_read_file(path, &text, NULL) < 0)
		text = xstrdup("");
	/* it starts with an empty line */
	line = text + strspn(text, " \t\n");
	text[line - text + (ptrdiff_t)strcspn(line, "\n")] = '\0';
	if (code < 0)
		return cell_errx(err, EIO, "dnsmasq was killed by signal %d", WTERMSIG(status));
	return cell_errx(err, exit_errno(code, line), "dnsmasq exited with %d: %s", code,
			 line[0] ? line : "(nothing on stderr)");
}

static int spawn(const struct cell_dns_net *n, const char *dnsmasq, int errfd,
		 struct cell_error *err)
{
	static const char *const dirs[] = {"/usr/sbin", "/sbin", NULL};
	char *const env[] = {NULL};
	_cleanup_strv_free_ char **argv = cell_dns_argv(n, dnsmasq ? dnsmasq : "dnsmasq");
	struct cell_run run = {
	    .argv = argv,
	    .env = env,
	    .search = !dnsmasq,
	    .dirs = dirs,
	    .fd = {CELL_RUN_NULL, CELL_RUN_NULL, errfd},
	};
	const char *step;
	pid_t pid = cell_run_start(&run, &step);
	int status;

	if (pid == -ENOENT && !dnsmasq)
		return cell_errx(err, ENOENT, "dnsmasq not found: install dnsmasq-base");
	if (pid < 0)
		return cell_err(err, pid, "%s %s", step, argv[0]);
	int r = cell_run_wait(pid, &status);
	if (r < 0)
		return cell_err(err, r, "wait for %s", argv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return start_failed(n->rundir, status, err);
	return 0;
}

static int start(const struct cell_dns_net *n, const char *dnsmasq, struct cell_error *err)
{
	_cleanup_free_ char *errpath = path_in(n->rundir, "dnsmasq.err");
	_cleanup_free_ char *pidpath = path_in(n->rundir, "dnsmasq.pid");
	_cleanup_close_ int errfd = -1;
	int r;

	/* a stale pid file would name a process that is gone */
	(void)unlink(pidpath);
	errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (errfd < 0)
		return cell_err(err, errno, "open %s", errpath);
	r = spawn(n, dnsmasq, errfd, err);
	if (r < 0)
		return r;
	return await_pid(n->rundir, err);
}

int cell_dns_sync(const struct cell_dns_net *n, const char *dnsmasq, struct cell_error *err)
{
	bool changed = false;
	pid_t pid;
	int r;

	r = put_files(n, &changed, err);
	if (r < 0)
		return r;
	pid = cell_dns_pid(n->rundir);
	if (pid <= 0)
		return start(n, dnsmasq, err);
	/* SIGHUP: dnsmasq reads the hosts and the dhcp-hosts files again */
	if (changed && kill(pid, SIGHUP) < 0)
		return cell_err(err, errno, "signal dnsmasq (pid %d)", (int)pid);
	return 0;
}

static bool dns_ours(pid_t pid, void *rundir)
{
	return cell_dns_pid(rundir) == pid;
}

int cell_dns_stop(const char *rundir, struct cell_error *err)
{
	pid_t pid = cell_dns_pid(rundir);
	int r;

	if (pid > 0 && (r = cell_run_terminate(pid, dns_ours, (void *)rundir, 1000)) < 0)
		return cell_err(err, r, "stop dnsmasq (pid %d)", (int)pid);
	r = cell_rm_rf(rundir);
	if (r < 0 && r != -ENOENT)
		return cell_err(err, r, "remove %s", rundir);
	return 0;
}
