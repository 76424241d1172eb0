/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/netlink.c against the kernel.  Every test first moves this process into
 * a network namespace of its own (unshare(CLONE_NEWNET)) and never goes back:
 * the host's namespace is never touched, and whatever a test creates goes
 * away with its namespace, also when an assertion fails.  `ip` and `bridge`
 * run only to observe, inside that namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/net/netlink.h"

/* A fresh namespace for this process; skips the test where that is not allowed. */
static void enter_fresh_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		if (errno == EPERM)
			skip();
		fail_msg("unshare(CLONE_NEWNET): %s", strerror(errno));
	}
}

/* An fd of another new namespace, which lives as long as the fd: this
 * process enters it and comes straight back. */
static int other_netns(void)
{
	_cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(self >= 0);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_int_equal(setns(self, CLONE_NEWNET), 0);
	assert_true(fd >= 0);
	return fd;
}

static ino_t netns_ino(void)
{
	struct stat st;
	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

/* What a command run here (in the test's namespace) printed. */
static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *out = xzalloc(65536);
	assert_non_null(p);
	size_t n = fread(out, 1, 65535, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	return out;
}

static struct cell_nl *nl_here(void)
{
	struct cell_nl *nl = NULL;
	struct cell_error err = {0};
	assert_int_equal(cell_nl_open(&nl, -1, &err), 0);
	return nl;
}

static int ifindex(struct cell_nl *nl, const char *name)
{
	struct cell_nl_link l;
	struct cell_error err = {0};
	assert_int_equal(cell_nl_link_get(nl, name, &l, &err), 0);
	return l.ifindex;
}

static void up(struct cell_nl *nl, const char *name)
{
	struct cell_error err = {0};
	const struct cell_nl_link_change c = {.up = true};
	assert_int_equal(cell_nl_link_set(nl, ifindex(nl, name), &c, &err), 0);
}

/* veth pair va/vb here, both up: carrier on, so routes via it are usable. */
static void veth_pair_up(struct cell_nl *nl)
{
	struct cell_error err = {0};
	assert_int_equal(cell_nl_veth_add(nl, "va", "vb", -1, 0, &err), 0);
	up(nl, "va");
	up(nl, "vb");
}

static void test_bridge(void **state)
{
	enter_fresh_netns();
	_cleanup_(cell_nl_closep) struct cell_nl *nl = nl_here();
	struct cell_error err = {0};
	struct cell_nl_link l;

	assert_int_equal(cell_nl_bridge_add(nl, "cell0", 1400, &err), 0);
	assert_int_equal(cell_nl_bridge_add(nl, "cell0", 0, &err), -EEXIST);
	assert_string_equal(err.msg, "create bridge cell0");
	assert_int_equal(cell_nl_link_get(nl, "cell0", &l, &err), 0);
	assert_string_equal(l.name, "cell0");
	assert_string_equal(l.kind, "bridge");
	assert_int_equal(l.mtu, 1400);
	assert_false(l.up);
	assert_int_equal(cell_nl_link_get(nl, "nosuch", &l, &err), -ENODEV);
	assert_string_equal(err.msg, "no link named nosuch");
	assert_true(err.plain);
	assert_int_equal(cell_nl_bridge_add(nl, "a-name-too-long-x", 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "a-name-too-long-x"));

	_cleanup_free_ struct cell_nl_link *v = NULL;
	size_t n = 0;
	assert_int_equal(cell_nl_links(nl, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "lo");
	assert_string_equal(v[1].name, "cell0");
	assert_int_equal(v[1].ifindex, l.ifindex);
	assert_string_equal(v[1].kind, "bridge");
}

static void test_open_refuses_other_fds(void **state)
{
	enter_fresh_netns();
	_cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct cell_nl *nl = NULL;
	struct cell_error err = {0};
	ino_t here = netns_ino();

	assert_true(fd >= 0);
	assert_int_equal(cell_nl_open(&nl, fd, &err), -EINVAL);
	assert_null(nl);
	_cleanup_free_ char *want = xasprintf("enter the network namespace of fd %d", fd);
	assert_string_equal(err.msg, want);
	assert_true(netns_ino() == here);
}

static void test_veth_peer_elsewhere(void **state)
{
	enter_fresh_netns();
	_cleanup_close_ int other = other_netns();
	_cleanup_(cell_nl_closep) struct cell_nl *nl = nl_here();
	_cleanup_(cell_nl_closep) struct cell_nl *there = NULL;
	struct cell_error err = {0};
	struct cell_nl_link l;
	ino_t here = netns_ino();

	assert_int_equal(cell_nl_veth_add(nl, "ve-web", "eth0", other, 1450, &err), 0);
	assert_int_equal(cell_nl_link_get(nl, "ve-web", &l, &err), 0);
	assert_string_equal(l.kind, "veth");
	assert_int_equal(l.mtu, 1450);
	assert_int_equal(cell_nl_link_get(nl, "eth0", &l, &err), -ENODEV);

	assert_int_equal(cell_nl_open(&there, other, &err), 0);
	assert_true(netns_ino() == here);
	assert_int_equal(cell_nl_link_get(there, "eth0", &l, &err), 0);
	assert_string_equal(l.kind, "veth");
	assert_int_equal(l.mtu, 1450);
	assert_int_equal(cell_nl_link_get(there, "ve-web", &l, &err), -ENODEV);

	/* the peer's name is taken there now */
	assert_int_equal(cell_nl_veth_add(nl, "ve-db", "eth0", other, 0, &err), -EEXIST);
	assert_string_equal(err.msg,
			    "create veth ve-db with peer eth0 in another network namespace");
}

static void test_link_set(void **state)
{
	static const unsigned char mac[6] = {0x02, 0xce, 0x11, 0, 0, 0x2a};
	enter_fresh_netns();
	_cleanup_(cell_nl_closep) struct cell_nl *nl = nl_here();
	struct cell_error err = {0};
	struct cell_nl_link l;

	assert_int_equal(cell_nl_bridge_add(nl, "br0", 0, &err), 0);
	assert_int_equal(cell_nl_veth_add(nl, "va", "vb", -1, 0, &err), 0);
	int br = ifindex(nl, "br0"), va = ifindex(nl, "va");
	const struct cell_nl_link_change c = {
	    .name = "eth1", .mac = mac, .mtu = 1300, .master = br, .up = true};
	assert_int_equal(cell_nl_link_set(nl, va, &c, &err), 0);
	assert_int_equal(cell_nl_link_get(nl, "eth1", &l, &err), 0);
	assert_int_equal(l.ifindex, va);
	assert_memory_equal(l.mac, mac, 6);
	assert_int_equal(l.mtu, 1300);
	assert_int_equal(l.master, br);
	assert_true(l.up);
	assert_int_equal(cell_nl_link_get(nl, "va", &l, &err), -ENODEV);

	const struct cell_nl_link_change taken = {.name = "eth1", .mtu = 1280};
	assert_int_equal(cell_nl_link_set(nl, ifindex(nl, "vb"), &taken, &err), -EEXIST);
	assert_string_equal(err.msg, "set name eth1, mtu 1280 of link vb");
	const struct cell_nl_link_change enslave = {.master = ifindex(nl, "vb")};
	assert_true(cell_nl_link_set(nl, br, &enslave, &err) < 0);
	assert_string_equal(err.msg, "set master vb of link br0");
}

static void test_addresses(void **state)
{
	static const unsigned char v4[4] = {10, 66, 0, 2};
	unsigned char v6[16];
	enter_fresh_netns();
	_cleanup_(cell_nl_closep) struct cell_nl *nl = nl_here();
	struct cell_error err = {0};

	assert_int_equal(inet_pton(AF_INET6, "fd00:66::2", v6), 1);
	veth_pair_up(nl);
	int va = ifindex(nl, "va");
	for (int i = 0; i < 2; i++) { /* the second time: no error */
		assert_int_equal(cell_nl_addr_add(nl, va, AF_INET, v4, 24, &err), 0);
		assert_int_equal(cell_nl_addr_add(nl, va, AF_INET6, v6, 64, &err), 0);
	}
	_cleanup_free_ char *out = run("ip -j addr show dev va");
	assert_non_null(strstr(out, "\"local\":\"10.66.0.2\",\"prefixlen\":24"));
	/* nodad, and no "tentative" flag before its lifetimes */
	assert_non_null(strstr(out, "\"local\":\"fd00:66::2\",\"prefixlen\":64,"
				    "\"scope\":\"global\",\"nodad\":true,\"valid_life_time\""));

	assert_true(cell_nl_addr_add(nl, 9999, AF_INET, v4, 24, &err) < 0);
	assert_non_null(strstr(err.msg, "add address 10.66.0.2/24 to #9999"));
	assert_int_equal(cell_nl_addr_add(nl, va, AF_INET, v4, 33, &err), -EINVAL);
}

static bool has_route(const struct cell_nl_route *v, size_t n, int family, const char *dst,
		      unsigned len, int oif)
{
	unsigned char a[16] = {0};
	if (dst)
		assert_int_equal(inet_pton(family, dst, a), 1);
	for (size_t i = 0; i < n; i++)
		if (v[i].family == family && v[i].dst_len == len && v[i].oif == oif &&
		    memcmp(v[i].dst, a, sizeof(a)) == 0)
			return true;
	return false;
}

static void test_routes(void **state)
{
	static const unsigned char v4[4] = {10, 66, 0, 2}, gw[4] = {10, 66, 0, 1};
	static const unsigned char net[4] = {10, 77, 0, 0}, far[4] = {192, 0, 2, 1};
	enter_fresh_netns();
	_cleanup_(cell_nl_closep) struct cell_nl *nl = nl_here();
	struct cell_error err = {0};

	veth_pair_up(nl);
	int va = ifindex(nl, "va");
	assert_int_equal(cell_nl_addr_add(nl, va, AF_INET, v4, 24, &err), 0);
	for (int i = 0; i < 2; i++) { /* the second time: no error */
		assert_int_equal(cell_nl_route_add(nl, AF_INET, NULL, 0, gw, va, &err), 0);
		assert_int_equal(cell_nl_route_add(nl, AF_INET, net, 16, NULL, va, &err), 0);
	}
	_cleanup_free_ struct cell_nl_route *v = NULL;
	size_t n = 0;
	assert_int_equal(cell_nl_routes(nl, AF_INET, &v, &n, &err), 0);
	assert_true(has_route(v, n, AF_INET, NULL, 0, va));
	assert_true(has_route(v, n, AF_INET, "10.77.0.0", 16, va));
	assert_true(has_route(v, n, AF_INET, "10.66.0.0", 24, va));
	/* the local table's routes (10.66.0.2 itself) are not the main table's */
	assert_false(has_route(v, n, AF_INET, "10.66.0.2", 32, va));

	/* IPv6: the prefix route of a NODAD address makes the gateway reachable at once */
	unsigned char a6[16], gw6[16];
	assert_int_equal(inet_pton(AF_INET6, "fd00:66::2", a6), 1);
	assert_int_equal(inet_pton(AF_INET6, "fd00:66::1", gw6), 1);
	assert_int_equal(cell_nl_addr_add(nl, va, AF_INET6, a6, 64, &err), 0);
	assert_int_equal(cell_nl_route_add(nl, AF_INET6, NULL, 0, gw6, va, &err), 0);
	_cleanup_free_ struct cell_nl_route *v6 = NULL;
	assert_int_equal(cell_nl_routes(nl, AF_INET6, &v6, &n, &err), 0);
	assert_true(has_route(v6, n, AF_INET6, NULL, 0, va));
	assert_true(has_route(v6, n, AF_INET6, "fd00:66::", 64, va));
	assert_false(has_route(v6, n, AF_INET, NULL, 0, va));

	/* a gateway no route of va reaches */
	assert_true(cell_nl_route_add(nl, AF_INET, net, 24, far, va, &err) < 0);
	assert_non_null(strstr(err.msg, "add route 10.77.0.0/24 via 192.0.2.1 dev va"));
}

static void test_link_del(void **state)
{
	enter_fresh_netns();
	_cleanup_(cell_nl_closep) struct cell_nl *nl = nl_here();
	struct cell_error err = {0};
	struct cell_nl_link l;

	assert_int_equal(cell_nl_veth_add(nl, "va", "vb", -1, 0, &err), 0);
	assert_int_equal(cell_nl_link_del(nl, "va", &err), 0);
	assert_int_equal(cell_nl_link_get(nl, "vb", &l, &err), -ENODEV);
	cell_err_clear(&err);
	assert_int_equal(cell_nl_link_del(nl, "va", &err), -ENODEV);
	assert_int_equal(err.code, 0);
}

static void test_brport_flags(void **state)
{
	enter_fresh_netns();
	_cleanup_(cell_nl_closep) struct cell_nl *nl = nl_here();
	struct cell_error err = {0};

	assert_int_equal(cell_nl_bridge_add(nl, "br0", 0, &err), 0);
	assert_int_equal(cell_nl_veth_add(nl, "va", "vb", -1, 0, &err), 0);
	int va = ifindex(nl, "va");
	const struct cell_nl_link_change c = {.master = ifindex(nl, "br0")};
	assert_int_equal(cell_nl_link_set(nl, va, &c, &err), 0);

	const struct cell_nl_brport iso = { .isolated = true }, hairpin = { .hairpin = true };
	assert_int_equal(cell_nl_brport_set(nl, va, &iso, &err), 0);
	_cleanup_free_ char *on = run("bridge -d -j link show dev va");
	assert_non_null(strstr(on, "\"isolated\":true"));
	assert_non_null(strstr(on, "\"hairpin\":false"));
	assert_int_equal(cell_nl_brport_set(nl, va, &hairpin, &err), 0);
	_cleanup_free_ char *off = run("bridge -d -j link show dev va");
	assert_non_null(strstr(off, "\"isolated\":false"));
	assert_non_null(strstr(off, "\"hairpin\":true"));

	assert_int_equal(cell_nl_brport_set(nl, ifindex(nl, "vb"), &iso, &err), -EINVAL);
	assert_string_equal(err.msg, "link vb is not a bridge port");
}

static void test_macvlan_elsewhere(void **state)
{
	enter_fresh_netns();
	_cleanup_close_ int other = other_netns();
	_cleanup_(cell_nl_closep) struct cell_nl *nl = nl_here();
	_cleanup_(cell_nl_closep) struct cell_nl *there = NULL;
	struct cell_error err = {0};
	struct cell_nl_link l;

	veth_pair_up(nl);
	assert_int_equal(cell_nl_vlan_add(nl, "macvlan", "mv0", "va", other, &err), 0);
	assert_int_equal(cell_nl_link_get(nl, "mv0", &l, &err), -ENODEV);
	assert_int_equal(cell_nl_open(&there, other, &err), 0);
	assert_int_equal(cell_nl_link_get(there, "mv0", &l, &err), 0);
	assert_string_equal(l.kind, "macvlan");

	assert_int_equal(cell_nl_vlan_add(nl, "macvlan", "mv1", "nosuch", -1, &err), -ENODEV);
	assert_string_equal(err.msg, "create macvlan mv1: no link named nosuch");
	assert_int_equal(cell_nl_vlan_add(nl, "macvlan", "mv0", "va", other, &err), -EEXIST);
	assert_string_equal(err.msg, "create macvlan mv0 on va in another network namespace");
	assert_int_equal(cell_nl_vlan_add(nl, "vxlan", "vx0", "va", -1, &err), -EINVAL);
}

static void test_ipvlan_missing(void **state)
{
	enter_fresh_netns();
	_cleanup_(cell_nl_closep) struct cell_nl *nl = nl_here();
	struct cell_error err = {0};

	veth_pair_up(nl);
	int r = cell_nl_vlan_add(nl, "ipvlan", "ipv0", "va", -1, &err);
	if (r == 0) /* a kernel with ipvlan: nothing to show */
		skip();
	assert_int_equal(r, -ENOTSUP);
	assert_string_equal(err.msg, "this kernel has no ipvlan (CONFIG_IPVLAN)");
	assert_true(err.plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bridge),
	    cmocka_unit_test(test_open_refuses_other_fds),
	    cmocka_unit_test(test_veth_peer_elsewhere),
	    cmocka_unit_test(test_link_set),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_link_del),
	    cmocka_unit_test(test_brport_flags),
	    cmocka_unit_test(test_macvlan_elsewhere),
	    cmocka_unit_test(test_ipvlan_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
