/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/dns.c: dnsmasq's command line and files, and a real dnsmasq, only ever
 * inside a network namespace of the test's own (with a bridge made there by
 * `ip`), asked with busybox's nslookup.  Whatever happens, the dnsmasq the
 * test started is stopped again (by its pid file) and its files removed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/net/dns.h"
#include "libcell/spec/state.h"

static void ip(const char *s, unsigned char out[16])
{
	assert_int_equal(inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, out), 1);
}

static struct cell_dns_host host(const char *name, const char *ip4, const char *ip6,
				 unsigned char last)
{
	struct cell_dns_host h = {.name = name, .has4 = ip4 != NULL, .has6 = ip6 != NULL};

	if (ip4)
		ip(ip4, h.ip4);
	if (ip6)
		ip(ip6, h.ip6);
	memcpy(h.mac, (unsigned char[]){0x02, 0x42, 0xac, 0x11, 0x00, last}, 6);
	return h;
}

static struct cell_dns_net net(const char *rundir, bool v6)
{
	struct cell_dns_net n = {.network = "cell0",
				 .bridge = "br0",
				 .rundir = rundir,
				 .has4 = true,
				 .has6 = v6,
				 .subnet4 = {.family = AF_INET, .prefix = 24},
				 .subnet6 = {.family = AF_INET6, .prefix = 64}};

	ip("10.77.0.0", n.subnet4.addr);
	ip("10.77.0.1", n.gw4);
	ip("fd77::", n.subnet6.addr);
	ip("fd77::1", n.gw6);
	return n;
}

static void test_argv(void **state)
{
	static const char *const want[] = {
	    "/usr/sbin/dnsmasq",
	    "--conf-file=/dev/null",
	    "--no-hosts",
	    "--bind-interfaces",
	    "--except-interface=lo",
	    "--dhcp-no-override",
	    "--dhcp-authoritative",
	    "--domain-needed",
	    "--strict-order",
	    "--pid-file=/run/x/dnsmasq.pid",
	    "--addn-hosts=/run/x/hosts",
	    "--dhcp-hostsfile=/run/x/dhcp-hosts",
	    "--dhcp-leasefile=/run/x/leases",
	    "--log-facility=/run/x/dnsmasq.log",
	    "--interface=br0",
	    "--listen-address=10.77.0.1",
	    "--dhcp-range=10.77.0.0,static,255.255.255.0",
	    "--listen-address=fd77::1",
	    NULL,
	};
	struct cell_dns_net n = net("/run/x", true);
	_cleanup_strv_free_ char **v = cell_dns_argv(&n, "/usr/sbin/dnsmasq");

	(void)state;
	for (size_t i = 0; want[i]; i++) {
		assert_non_null(v[i]);
		assert_string_equal(v[i], want[i]);
	}
	assert_int_equal(cell_strv_len(v), ARRAY_SIZE(want) - 1);

	/* IPv6 only: no DHCP range, one listen address */
	n.has4 = false;
	cell_strv_free(v);
	v = cell_dns_argv(&n, "dnsmasq");
	assert_true(cell_strv_contains(v, "--listen-address=fd77::1"));
	for (size_t i = 0; v[i]; i++)
		assert_false(cell_startswith(v[i], "--dhcp-range="));

	/* another prefix: the range's netmask */
	n.has4 = true;
	n.subnet4.prefix = 20;
	cell_strv_free(v);
	v = cell_dns_argv(&n, "dnsmasq");
	assert_true(cell_strv_contains(v, "--dhcp-range=10.77.0.0,static,255.255.240.0"));
}

static void test_texts(void **state)
{
	const struct cell_dns_host hosts[] = {
	    host("web", "10.77.0.2", "fd77::2", 2),
	    host("db", "10.77.0.3", NULL, 3),
	    host("v6only", NULL, "fd77::4", 4),
	    host("my_box", "10.77.0.5", NULL, 5), /* no DHCP host name: an underscore */
	    host("bad name", "10.77.0.6", NULL, 6),
	    host("evil\n10.0.0.1", "10.77.0.7", NULL, 7),
	};
	struct cell_dns_net n = net("/run/x", true);
	_cleanup_free_ char *h = NULL, *d = NULL;

	(void)state;
	n.hosts = hosts;
	n.n_hosts = ARRAY_SIZE(hosts);
	h = cell_dns_hosts_text(&n);
	d = cell_dns_dhcp_text(&n);
	assert_string_equal(h, "10.77.0.3 db\n"
			       "10.77.0.5 my_box\n"
			       "fd77::4 v6only\n"
			       "10.77.0.2 web\n"
			       "fd77::2 web\n");
	assert_string_equal(d, "02:42:ac:11:00:03,10.77.0.3,db\n"
			       "02:42:ac:11:00:05,10.77.0.5\n"
			       "02:42:ac:11:00:02,10.77.0.2,web\n");

	n.n_hosts = 0;
	free(h);
	free(d);
	h = cell_dns_hosts_text(&n);
	d = cell_dns_dhcp_text(&n);
	assert_string_equal(h, "");
	assert_string_equal(d, "");
}

static char *scratch_dir(void)
{
	char tmpl[] = "/tmp/cell-dns-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	/* dnsmasq reads its files again as an unprivileged user */
	assert_int_equal(chmod(tmpl, 0755), 0);
	return xstrdup(tmpl);
}

static void test_not_found(void **state)
{
	_cleanup_free_ char *dir = scratch_dir(), *rundir = xasprintf("%s/net", dir);
	struct cell_dns_net n = net(rundir, false);
	struct cell_error err = {0};

	(void)state;
	assert_int_equal(cell_dns_sync(&n, "/nonexistent/dnsmasq", &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/dnsmasq"));
	assert_int_equal(cell_dns_pid(rundir), 0);
	assert_int_equal(cell_dns_stop(rundir, &err), 0);
	assert_int_equal(access(rundir, F_OK), -1);
	assert_int_equal(cell_dns_stop(rundir, &err), 0); /* none: no error */
	assert_int_equal(rmdir(dir), 0);
}

/* ---- a real dnsmasq, in a network namespace of our own ---- */

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			(void)fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);           \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

/* busybox nslookup NAME at the gateway answers addr (a few tries: dnsmasq
 * reads its files again after SIGHUP in its own time). */
static bool resolves(const char *name, const char *addr)
{
	_cleanup_free_ char *cmd =
	    xasprintf("timeout 2 /bin/busybox nslookup %s 10.77.0.1 2>&1", name);
	const struct timespec tick = {0, 100L * 1000 * 1000};

	for (int i = 0; i < 30; i++) {
		char line[256];
		bool found = false;
		FILE *p = popen(cmd, "r");
		if (!p)
			return false;
		while (fgets(line, sizeof(line), p))
			found |= strstr(line, addr) != NULL;
		(void)pclose(p);
		if (found)
			return true;
		(void)nanosleep(&tick, NULL);
	}
	return false;
}

static int sync_ok(const struct cell_dns_net *n)
{
	struct cell_error err = {0};
	int r = cell_dns_sync(n, NULL, &err);

	if (r < 0)
		(void)fprintf(stderr, "sync: %s (%d)\n", err.msg, r);
	return r;
}

/* Before the bridge has its address dnsmasq cannot listen: its own words. */
static int check_start_error(const struct cell_dns_net *n)
{
	struct cell_error err = {0};
	int r = cell_dns_sync(n, NULL, &err);

	(void)fprintf(stderr, "(expected) %s\n", err.msg);
	CHECK(r < 0);
	CHECK(r == -EADDRNOTAVAIL);
	CHECK(streq(err.msg, "dnsmasq exited with 2: dnsmasq: failed to create listening socket "
			     "for 10.77.0.1: Cannot assign requested address"));
	CHECK(cell_dns_pid(n->rundir) == 0);
	return 0;
}

static int in_netns(const char *rundir)
{
	struct cell_dns_host hosts[] = {
	    host("web", "10.77.0.2", NULL, 2),
	    host("db", "10.77.0.3", NULL, 3),
	    host("api", "10.77.0.4", NULL, 4),
	};
	struct cell_dns_net n = net(rundir, false);
	struct cell_error err = {0};
	unsigned long long start;
	pid_t pid;

	if (unshare(CLONE_NEWNET) < 0)
		return errno == EPERM ? 77 : 1;
	n.hosts = hosts;
	n.n_hosts = 2;
	/* the gateway's address is local: queries to it go over lo */
	CHECK(system("ip link set lo up && ip link add br0 type bridge") == 0);
	CHECK(check_start_error(&n) == 0);
	CHECK(system("ip addr add 10.77.0.1/24 dev br0 && ip link set br0 up") == 0);
	CHECK(sync_ok(&n) == 0);
	pid = cell_dns_pid(rundir);
	CHECK(pid > 0);
	CHECK(resolves("web", "10.77.0.2"));
	CHECK(resolves("db", "10.77.0.3"));
	CHECK(sync_ok(&n) == 0); /* nothing changed: still the same */
	CHECK(cell_dns_pid(rundir) == pid);

	n.n_hosts = 3;
	CHECK(sync_ok(&n) == 0);
	CHECK(cell_dns_pid(rundir) == pid); /* SIGHUP, no restart */
	CHECK(resolves("api", "10.77.0.4"));

	CHECK(cell_dns_stop(rundir, &err) == 0);
	/* gone: a zombie at most (whether our pid 1 reaps is not ours to test) */
	CHECK(cell_pid_start_time(pid, &start) == -ESRCH);
	CHECK(access(rundir, F_OK) < 0 && errno == ENOENT);
	return 0;
}

static void test_run_netns(void **state)
{
	_cleanup_free_ char *dir = scratch_dir(), *rundir = xasprintf("%s/net", dir);
	struct cell_error err = {0};
	int status;
	pid_t pid;

	(void)state;
	if (access("/usr/sbin/dnsmasq", X_OK) < 0 || access("/bin/busybox", X_OK) < 0)
		skip();
	/* the daemon, orphaned, is ours to reap (not a pid 1's that may not) */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(in_netns(rundir));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* whatever the child got to: its dnsmasq goes, and the files */
	assert_int_equal(cell_dns_stop(rundir, &err), 0);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	(void)prctl(PR_SET_CHILD_SUBREAPER, 0);
	assert_int_equal(rmdir(dir), 0);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_argv),
	    cmocka_unit_test(test_texts),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_run_netns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
