/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net/registry.c in a directory of its own: networks made and refused,
 * leases made, pinned, moved, released, pruned, kept across opens, the lock
 * shared with another process, and damaged files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/net/registry.h"

static char tmp[] = "/tmp/cell-test-netreg.XXXXXX";
static char *dir, *file;

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(tmp));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	(void)cell_rm_rf(tmp);
	free(dir);
	free(file);
	return 0;
}

/* Each test starts from no registry, in a directory of its own (made by the
 * open): a failed test's registry, still locked, blocks no other. */
static struct cell_netreg *fresh(void)
{
	static unsigned count;
	struct cell_error err = {0};
	struct cell_netreg *g = NULL;

	free(dir);
	free(file);
	dir = xasprintf("%s/net%u", tmp, count++);
	file = xasprintf("%s/networks.json", dir);
	assert_int_equal(cell_netreg_open(dir, &g, &err), 0);
	return g;
}

static struct cell_netreg *reopen(struct cell_netreg *g)
{
	struct cell_error err = {0};

	if (g) {
		assert_int_equal(cell_netreg_save(g, &err), 0);
		cell_netreg_close(g);
	}
	g = NULL;
	assert_int_equal(cell_netreg_open(dir, &g, &err), 0);
	return g;
}

static int add(struct cell_netreg *g, const char *name, const char *s4, const char *s6,
	       struct cell_error *err)
{
	struct cell_network n = {.name = (char *)name};

	n.has4 = s4 && cell_cidr_parse(s4, &n.subnet4) == 0;
	n.has6 = s6 && cell_cidr_parse(s6, &n.subnet6) == 0;
	return cell_netreg_network_add(g, &n, err);
}

static void add_ok(struct cell_netreg *g, const char *name, const char *s4, const char *s6)
{
	struct cell_error err = {0};

	assert_int_equal(add(g, name, s4, s6, &err), 0);
}

/* store/name's lease on network, as "ipv4 ipv6" text; pinned values may be NULL */
static int lease(struct cell_netreg *g, const char *network, const char *name, const char *ip,
		 const char *mac, char *out, struct cell_error *err)
{
	unsigned char a[16], m[6];
	struct cell_lease_req req = {.network = network, .store = "/s", .name = name};
	struct cell_lease l = {0};
	int family = 0, r;

	if (ip) {
		assert_int_equal(cell_ip_parse(ip, &family, a), 0);
		*(family == AF_INET ? &req.ip4 : &req.ip6) = a;
	}
	if (mac) {
		assert_int_equal(cell_mac_parse(mac, m), 0);
		req.mac = m;
	}
	if ((r = cell_netreg_lease(g, &req, &l, err)) < 0)
		return r;
	char s4[CELL_IP_STRLEN] = "-", s6[CELL_IP_STRLEN] = "-";
	if (l.has4)
		cell_ip_format(AF_INET, l.ip4, s4, sizeof(s4));
	if (l.has6)
		cell_ip_format(AF_INET6, l.ip6, s6, sizeof(s6));
	(void)snprintf(out, 100, "%s %s", s4, s6);
	assert_string_equal(l.network, network);
	assert_string_equal(l.name, name);
	cell_lease_clear(&l);
	return 0;
}

static void lease_is(struct cell_netreg *g, const char *network, const char *name, const char *ip,
		     const char *want)
{
	struct cell_error err = {0};
	char got[100];

	assert_int_equal(lease(g, network, name, ip, NULL, got, &err), 0);
	assert_string_equal(got, want);
}

static void assert_msg(const struct cell_error *err, const char *part)
{
	if (!strstr(err->msg, part))
		fail_msg("\"%s\" not in \"%s\"", part, err->msg);
}

static void test_networks(void **state)
{
	struct cell_netreg *g = fresh();
	struct cell_error err = {0};
	const struct cell_network *n;
	size_t count = 0;
	struct stat st;

	(void)state;
	add_ok(g, "cell0", "10.66.0.0/24", "fd66:0:0:1::/64");
	add_ok(g, "lan", "10.67.0.0/16", NULL);
	add_ok(g, "v6only", NULL, "fd66:0:0:2::/64");
	assert_int_equal(add(g, "cell0", "10.68.0.0/24", NULL, &err), -EEXIST);
	assert_int_equal(add(g, "wide", "10.0.0.0/8", NULL, &err), -EADDRINUSE);
	assert_msg(&err, "10.0.0.0/8 overlaps 10.66.0.0/24 of network \"cell0\"");
	assert_int_equal(add(g, "inner", "10.67.3.0/24", NULL, &err), -EADDRINUSE);
	assert_msg(&err, "\"lan\"");
	assert_int_equal(add(g, "six", "10.69.0.0/24", "fd66::/48", &err), -EADDRINUSE);
	assert_msg(&err, "\"cell0\"");
	assert_int_equal(add(g, "Upper", "10.70.0.0/24", NULL, &err), -EINVAL);
	assert_int_equal(add(g, "-dash", "10.70.0.0/24", NULL, &err), -EINVAL);
	assert_int_equal(add(g, "a-very-long-name", "10.70.0.0/24", NULL, &err), -EINVAL);
	assert_int_equal(add(g, "none", NULL, NULL, &err), -EINVAL);
	/* the same IPv4 subnet as an IPv6 one never overlaps */
	add_ok(g, "mixed", "10.71.0.0/24", "fd67::/64");
	assert_true(cell_net_name_valid("a_b-9") && cell_net_name_valid("0"));
	assert_false(cell_net_name_valid("") || cell_net_name_valid("a.b") ||
		     cell_net_name_valid("_x") || cell_net_name_valid("a/b"));

	g = reopen(g);
	n = cell_netreg_networks(g, &count);
	assert_int_equal(count, 4);
	assert_string_equal(n[0].name, "cell0");
	assert_string_equal(n[0].bridge, "cell0"); /* no bridge: the network's name */
	assert_string_equal(n[3].name, "mixed");
	n = cell_netreg_network(g, "v6only");
	assert_non_null(n);
	assert_false(n->has4);
	assert_true(n->has6);
	assert_null(cell_netreg_network(g, "nope"));
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	assert_int_equal(cell_netreg_network_remove(g, "lan", &err), 0);
	assert_int_equal(cell_netreg_network_remove(g, "lan", &err), -ENOENT);
	g = reopen(g);
	(void)cell_netreg_networks(g, &count);
	assert_int_equal(count, 3);
	cell_netreg_close(g);
}

static void test_bridge_and_attributes(void **state)
{
	struct cell_netreg *g = fresh();
	struct cell_error err = {0};
	struct cell_network n = {.name = "iso", .bridge = "br-iso", .isolated = true, .mtu = 9000};
	const struct cell_network *got;

	(void)state;
	assert_int_equal(cell_cidr_parse("10.80.0.0/24", &n.subnet4), 0);
	n.has4 = true;
	assert_int_equal(cell_netreg_network_add(g, &n, &err), 0);
	n.name = "other";
	assert_int_equal(cell_cidr_parse("10.81.0.0/24", &n.subnet4), 0);
	assert_int_equal(cell_netreg_network_add(g, &n, &err), -EEXIST); /* its bridge */
	assert_msg(&err, "\"br-iso\"");
	g = reopen(g);
	got = cell_netreg_network(g, "iso");
	assert_string_equal(got->bridge, "br-iso");
	assert_true(got->isolated);
	assert_int_equal(got->mtu, 9000);
	cell_netreg_close(g);
}

static void test_leases_sequential(void **state)
{
	struct cell_netreg *g = fresh();
	const struct cell_lease *l;
	size_t count = 0;

	(void)state;
	add_ok(g, "cell0", "10.66.0.0/24", NULL);
	lease_is(g, "cell0", "a", NULL, "10.66.0.2 -");
	lease_is(g, "cell0", "b", NULL, "10.66.0.3 -");
	lease_is(g, "cell0", "c", NULL, "10.66.0.4 -");
	lease_is(g, "cell0", "a", NULL, "10.66.0.2 -"); /* idempotent */
	cell_netreg_release(g, "/s", "b");
	cell_netreg_release(g, "/s", "b"); /* none: no error */
	assert_null(cell_netreg_find(g, "/s", "b"));
	lease_is(g, "cell0", "d", NULL, "10.66.0.3 -"); /* b's again */
	lease_is(g, "cell0", "e", NULL, "10.66.0.5 -");
	(void)cell_netreg_leases(g, &count);
	assert_int_equal(count, 4);
	l = cell_netreg_find(g, "/s", "a");
	assert_non_null(l);
	/* the MAC from the seed "store/name" */
	unsigned char mac[6];
	cell_mac_from_seed("/s/a", mac);
	assert_memory_equal(l->mac, mac, 6);
	cell_netreg_close(g);
}

static void test_pinned(void **state)
{
	struct cell_netreg *g = fresh();
	struct cell_error err = {0};
	char got[100];

	(void)state;
	add_ok(g, "cell0", "10.66.0.0/24", "fd66::/64");
	lease_is(g, "cell0", "a", "10.66.0.50", "10.66.0.50 fd66::2");
	lease_is(g, "cell0", "b", NULL, "10.66.0.2 fd66::3");
	assert_int_equal(lease(g, "cell0", "c", "10.66.0.50", NULL, got, &err), -EADDRINUSE);
	assert_msg(&err, "10.66.0.50 on network \"cell0\" is /s/a's");
	assert_int_equal(lease(g, "cell0", "c", "fd66::2", NULL, got, &err), -EADDRINUSE);
	assert_msg(&err, "/s/a");
	assert_int_equal(lease(g, "cell0", "c", "10.67.0.5", NULL, got, &err), -EINVAL);
	assert_int_equal(lease(g, "cell0", "c", "10.66.0.1", NULL, got, &err), -EINVAL);
	assert_int_equal(lease(g, "cell0", "c", "fd66::1", NULL, got, &err), -EINVAL);
	assert_int_equal(lease(g, "cell0", "c", "fd67::9", NULL, got, &err), -EINVAL);
	assert_int_equal(lease(g, "cell0", "c", "10.66.0.255", NULL, got, &err), -EINVAL);
	assert_int_equal(lease(g, "cell0", "c", "10.66.0.0", NULL, got, &err), -EINVAL);
	assert_msg(&err, "10.66.0.0 is no container's in 10.66.0.0/24");
	assert_null(cell_netreg_find(g, "/s", "c")); /* nothing made on failure */
	/* b moves to a pinned address: its lease changes, its IPv6 one stays */
	lease_is(g, "cell0", "b", "10.66.0.60", "10.66.0.60 fd66::3");
	lease_is(g, "cell0", "b", NULL, "10.66.0.60 fd66::3");
	/* its own address is no conflict */
	lease_is(g, "cell0", "b", "10.66.0.60", "10.66.0.60 fd66::3");
	lease_is(g, "cell0", "c", NULL, "10.66.0.2 fd66::4");
	cell_netreg_close(g);
}

static void test_pinned_mac(void **state)
{
	struct cell_netreg *g = fresh();
	struct cell_error err = {0};
	const struct cell_lease *l;
	char got[100];

	(void)state;
	add_ok(g, "cell0", "10.66.0.0/24", NULL);
	assert_int_equal(lease(g, "cell0", "a", NULL, "02:00:00:00:00:aa", got, &err), 0);
	assert_int_equal(lease(g, "cell0", "b", NULL, "02:00:00:00:00:aa", got, &err), -EADDRINUSE);
	assert_msg(&err, "/s/a");
	assert_int_equal(lease(g, "cell0", "a", NULL, "02:00:00:00:00:aa", got, &err), 0);
	l = cell_netreg_find(g, "/s", "a");
	assert_int_equal(l->mac[5], 0xaa);
	/* unpinned later: the lease keeps its MAC */
	assert_int_equal(lease(g, "cell0", "a", NULL, NULL, got, &err), 0);
	assert_int_equal(cell_netreg_find(g, "/s", "a")->mac[5], 0xaa);
	assert_int_equal(lease(g, "cell0", "a", NULL, "02:00:00:00:00:bb", got, &err), 0);
	assert_int_equal(cell_netreg_find(g, "/s", "a")->mac[5], 0xbb);
	cell_netreg_close(g);
}

static void test_v6_and_move(void **state)
{
	struct cell_netreg *g = fresh();
	struct cell_error err = {0};
	size_t count = 0;
	char got[100];

	(void)state;
	add_ok(g, "six", NULL, "fd66:0:0:1::/64");
	add_ok(g, "four", "10.66.0.0/24", NULL);
	lease_is(g, "six", "a", NULL, "- fd66:0:0:1::2");
	lease_is(g, "six", "b", NULL, "- fd66:0:0:1::3");
	lease_is(g, "four", "a", NULL, "10.66.0.2 -"); /* a moves: six's lease goes */
	(void)cell_netreg_leases(g, &count);
	assert_int_equal(count, 2);
	lease_is(g, "six", "c", NULL, "- fd66:0:0:1::2");
	assert_int_equal(lease(g, "six", "d", "10.66.0.9", NULL, got, &err), -EINVAL);
	assert_msg(&err, "network \"six\" has no IPv4 subnet");
	assert_int_equal(lease(g, "four", "d", "fd66:0:0:1::9", NULL, got, &err), -EINVAL);
	cell_netreg_close(g);
}

static void test_full(void **state)
{
	struct cell_netreg *g = fresh();
	struct cell_error err = {0};
	char got[100];

	(void)state;
	add_ok(g, "tiny", "10.66.0.0/30", NULL);
	lease_is(g, "tiny", "a", NULL, "10.66.0.2 -");
	assert_int_equal(lease(g, "tiny", "b", NULL, NULL, got, &err), -ENOSPC);
	assert_msg(&err, "10.66.0.0/30");
	assert_int_equal(lease(g, "nope", "b", NULL, NULL, got, &err), -ENOENT);
	cell_netreg_close(g);
}

static void test_persistence(void **state)
{
	struct cell_netreg *g = fresh();
	struct cell_error err = {0};
	const struct cell_lease *l;
	struct stat before, after;

	(void)state;
	assert_int_equal(cell_netreg_save(g, &err), 0);
	assert_int_equal(access(file, F_OK), -1); /* nothing changed: nothing written */
	add_ok(g, "cell0", "10.66.0.0/24", "fd66::/64");
	lease_is(g, "cell0", "a", NULL, "10.66.0.2 fd66::2");
	lease_is(g, "cell0", "b", "10.66.0.9", "10.66.0.9 fd66::3");
	g = reopen(g);
	l = cell_netreg_find(g, "/s", "b");
	assert_non_null(l);
	assert_true(l->has4 && l->has6);
	assert_int_equal(l->ip4[3], 9);
	lease_is(g, "cell0", "c", NULL, "10.66.0.3 fd66::4");
	cell_netreg_close(g); /* unsaved: c is gone */
	g = reopen(NULL);
	assert_null(cell_netreg_find(g, "/s", "c"));
	/* a lease asked again is no change: the file stays as it was */
	assert_int_equal(stat(file, &before), 0);
	lease_is(g, "cell0", "a", NULL, "10.66.0.2 fd66::2");
	assert_int_equal(cell_netreg_save(g, &err), 0);
	assert_int_equal(stat(file, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	cell_netreg_close(g);
}

static bool alive_but_b(const char *store, const char *name, void *arg)
{
	(*(int *)arg)++;
	return !(streq(store, "/s") && streq(name, "b"));
}

static void test_prune_and_remove(void **state)
{
	struct cell_netreg *g = fresh();
	struct cell_error err = {0};
	int calls = 0;

	(void)state;
	add_ok(g, "cell0", "10.66.0.0/24", NULL);
	lease_is(g, "cell0", "a", NULL, "10.66.0.2 -");
	lease_is(g, "cell0", "b", NULL, "10.66.0.3 -");
	assert_int_equal(cell_netreg_network_remove(g, "cell0", &err), -EBUSY);
	assert_msg(&err, "/s/a, /s/b");
	assert_int_equal(cell_netreg_prune(g, alive_but_b, &calls), 1);
	assert_int_equal(calls, 2);
	assert_null(cell_netreg_find(g, "/s", "b"));
	assert_non_null(cell_netreg_find(g, "/s", "a"));
	g = reopen(g);
	assert_null(cell_netreg_find(g, "/s", "b"));
	assert_int_equal(cell_netreg_network_remove(g, "cell0", &err), -EBUSY);
	assert_msg(&err, "in use by /s/a");
	cell_netreg_release(g, "/s", "a");
	assert_int_equal(cell_netreg_network_remove(g, "cell0", &err), 0);
	cell_netreg_close(g);
}

static double now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The child holds the lock for 200 ms and adds a network: the parent's open
 * waits for it and sees the network. */
static void test_lock(void **state)
{
	struct cell_error err = {0};
	struct cell_netreg *g = NULL;
	int pfd[2], status = 0;
	char c = 0;

	(void)state;
	cell_netreg_close(fresh());
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct cell_netreg *h = NULL;
		struct cell_network n = {.name = "child", .has4 = true};
		(void)close(pfd[0]);
		if (cell_netreg_open(dir, &h, &err) < 0 || write(pfd[1], "x", 1) != 1)
			_exit(1);
		(void)usleep(200 * 1000);
		if (cell_cidr_parse("10.90.0.0/24", &n.subnet4) < 0 ||
		    cell_netreg_network_add(h, &n, &err) < 0 || cell_netreg_save(h, &err) < 0)
			_exit(1);
		cell_netreg_close(h);
		_exit(0);
	}
	(void)close(pfd[1]);
	assert_int_equal(read(pfd[0], &c, 1), 1); /* the child has the lock */
	(void)close(pfd[0]);
	double t0 = now();
	assert_int_equal(cell_netreg_open(dir, &g, &err), 0);
	assert_true(now() - t0 > 0.1);
	assert_non_null(cell_netreg_network(g, "child"));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cell_netreg_close(g);
}

static void test_damaged(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"{\"networks\": [", "line 1:"},
	    {"{\n\"networks\": [}", "line 2:"},
	    {"[]", "want an object"},
	    {"{\"networks\": {}}", "want an object"},
	    {"{\"networks\": [{\"name\": \"Bad\", \"bridge\": \"b\", \"subnet\": "
	     "\"10.0.0.0/24\"}]}",
	     "networks[0]: no valid \"name\""},
	    {"{\"networks\": [{\"name\": \"n\", \"bridge\": \"n\", \"subnet\": "
	     "\"10.0.0.1/24\"}]}",
	     "networks[0]: want a valid \"subnet\""},
	    {"{\"networks\": [{\"name\": \"n\", \"bridge\": \"n\", \"subnet\": \"fd00::/64\"}]}",
	     "networks[0]: want a valid \"subnet\""},
	    {"{\"networks\": [{\"name\": \"n\", \"bridge\": \"n\", \"subnet\": "
	     "\"10.0.0.0/24\"}], \"leases\": [{\"network\": \"n\", \"store\": \"/s\", "
	     "\"name\": \"a\", \"mac\": \"01:00:00:00:00:01\"}]}",
	     "leases[0] (/s/a): no valid \"mac\""},
	    {"{\"networks\": [{\"name\": \"n\", \"bridge\": \"n\", \"subnet\": "
	     "\"10.0.0.0/24\"}], \"leases\": [{\"network\": \"m\", \"store\": \"/s\", "
	     "\"name\": \"a\", \"mac\": \"02:00:00:00:00:01\"}]}",
	     "leases[0] (/s/a): its \"network\" is none"},
	    {"{\"networks\": [{\"name\": \"n\", \"bridge\": \"n\", \"subnet\": "
	     "\"10.0.0.0/24\"}], \"leases\": [{\"network\": \"n\", \"store\": \"/s\", "
	     "\"name\": \"a\", \"mac\": \"02:00:00:00:00:01\", \"ipv4\": \"10.1.0.2\"}]}",
	     "leases[0] (/s/a): its \"ipv4\" is outside"},
	    {"{\"networks\": [{\"name\": \"n\", \"bridge\": \"n\", \"subnet\": "
	     "\"10.0.0.0/24\"}, {\"name\": \"m\", \"bridge\": \"m\", \"subnet\": "
	     "\"10.0.0.0/16\"}]}",
	     "networks[1]: subnet 10.0.0.0/16 overlaps 10.0.0.0/24 of network \"n\""},
	    {"{\"networks\": [{\"name\": \"n\", \"bridge\": \"n\", \"subnet\": "
	     "\"10.0.0.0/24\"}], \"leases\": [{\"network\": \"n\", \"store\": \"/s\", "
	     "\"name\": \"a\", \"mac\": \"02:00:00:00:00:01\"}, {\"network\": \"n\", "
	     "\"store\": \"/s\", \"name\": \"a\", \"mac\": \"02:00:00:00:00:02\"}]}",
	     "leases[1] (/s/a): a second lease"},
	};

	(void)state;
	cell_netreg_close(fresh());
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct cell_error err = {0};
		struct cell_netreg *g = NULL;
		assert_int_equal(
		    cell_write_file_atomic(file, bad[i].text, strlen(bad[i].text), 0644), 0);
		assert_int_equal(cell_netreg_open(dir, &g, &err), -EINVAL);
		assert_null(g);
		_cleanup_free_ char *prefix = xasprintf("network registry %s: ", file);
		assert_true(cell_startswith(err.msg, prefix));
		assert_msg(&err, bad[i].want);
	}
	struct cell_error err = {0};
	struct cell_netreg *g = NULL;
	assert_int_equal(cell_write_file_atomic(file, "{\"networks\": [", 14, 0644), 0);
	assert_int_equal(cell_netreg_open(dir, &g, &err), -EINVAL);
	assert_msg(&err, "(column 14; repair it)");
	(void)unlink(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_networks),
	    cmocka_unit_test(test_bridge_and_attributes),
	    cmocka_unit_test(test_leases_sequential),
	    cmocka_unit_test(test_pinned),
	    cmocka_unit_test(test_pinned_mac),
	    cmocka_unit_test(test_v6_and_move),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_persistence),
	    cmocka_unit_test(test_prune_and_remove),
	    cmocka_unit_test(test_lock),
	    cmocka_unit_test(test_damaged),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
