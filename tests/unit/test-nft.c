/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/nft.c and net/ports.c: the script of table inet cell against golden
 * files (tests/unit/nft-golden/<name>.nft), -p parsing, and the script applied
 * by libnftables, only ever inside a network namespace of the test's own.
 *
 * After an intended change of the script, rewrite the golden files with
 *   CELL_NFT_GOLDEN_UPDATE=1 build-x/tests/unit/test-nft
 * and review the diff.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <nftables/libnftables.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/net/nft.h"

/* ipam.c is not linked here: subnets are made by hand */
static struct cell_cidr cidr(const char *addr, unsigned prefix)
{
	struct cell_cidr c = {.family = strchr(addr, ':') ? AF_INET6 : AF_INET, .prefix = prefix};

	assert_int_equal(inet_pton(c.family, addr, c.addr), 1);
	return c;
}

static struct cell_nft_port port(const char *spec, const char *bridge, const char *ip4,
				 const char *ip6)
{
	struct cell_nft_port p = {.bridge = bridge, .has4 = ip4 != NULL, .has6 = ip6 != NULL};
	struct cell_error err = {0};

	assert_int_equal(cell_port_parse(spec, &p.port, &err), 0);
	if (ip4)
		assert_int_equal(inet_pton(AF_INET, ip4, p.ctr_ip4), 1);
	if (ip6)
		assert_int_equal(inet_pton(AF_INET6, ip6, p.ctr_ip6), 1);
	return p;
}

/* The inputs of the golden cases. */
static struct cell_nft_net nets_one[1], nets_two[2], nets_iso[2];
static struct cell_nft_port ports_two[4], ports_iso[2];

static void make_inputs(void)
{
	nets_one[0] = (struct cell_nft_net){
	    .bridge = "cell0", .has4 = true, .subnet4 = cidr("10.66.0.0", 24)};
	nets_two[0] = (struct cell_nft_net){.bridge = "cell0",
					    .has4 = true,
					    .subnet4 = cidr("10.66.0.0", 24),
					    .has6 = true,
					    .subnet6 = cidr("fd66:0:0:1::", 64)};
	nets_two[1] = (struct cell_nft_net){
	    .bridge = "web-net", .has4 = true, .subnet4 = cidr("10.67.0.0", 16)};
	ports_two[0] = port("8080:80", "cell0", "10.66.0.2", "fd66:0:0:1::2");
	ports_two[1] = port("127.0.0.1:5353:53/udp", "cell0", "10.66.0.3", "fd66:0:0:1::3");
	ports_two[2] = port("[fd00::5]:8443:443/tcp", "cell0", "10.66.0.2", "fd66:0:0:1::2");
	ports_two[3] = port("9090:90/udp", "web-net", "10.67.0.9", NULL);
	nets_iso[0] = nets_one[0];
	nets_iso[1] = (struct cell_nft_net){
	    .bridge = "quiet", .has4 = true, .subnet4 = cidr("10.68.0.0", 24), .isolated = true};
	ports_iso[0] = port("8080:80", "cell0", "10.66.0.2", NULL);
	ports_iso[1] = port("8081:80", "quiet", "10.68.0.2", NULL); /* isolated: no DNAT */
}

static const struct golden {
	const char *name;
	struct cell_nft_input in;
} cases[] = {
    {"none", {0}},
    {"one-v4", {.nets = nets_one, .n_nets = 1}},
    {"two-nets-ports", {.nets = nets_two, .n_nets = 2, .ports = ports_two, .n_ports = 4}},
    {"isolated", {.nets = nets_iso, .n_nets = 2, .ports = ports_iso, .n_ports = 2}},
};

static char *golden_path(const char *name)
{
	const char *src = getenv("CELL_TEST_SRCDIR");

	return xasprintf("%s/tests/unit/nft-golden/%s.nft", src ? src : ".", name);
}

static void check_case(const struct golden *g)
{
	_cleanup_free_ char *got = cell_nft_script(&g->in), *want = NULL;
	_cleanup_free_ char *path = golden_path(g->name);
	size_t len;

	assert_non_null(got);
	if (getenv("CELL_NFT_GOLDEN_UPDATE")) {
		assert_int_equal(cell_write_file_replace(path, got, strlen(got), 0644, false), 0);
		return;
	}
	if (cell_read_file(path, &want, &len) < 0)
		fail_msg("%s missing; the script is:\n%s", path, got);
	if (!streq(got, want))
		fail_msg("%s differs; the script is:\n%s", path, got);
}

static void test_golden(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		check_case(&cases[i]);
}

static void test_no_networks(void **state)
{
	_cleanup_free_ char *s = cell_nft_script(&cases[0].in);

	(void)state;
	assert_string_equal(s, "table inet cell {}\ndelete table inet cell\n");
}

/* A name that could end the string it is quoted in makes no script. */
static void test_unsafe_names(void **state)
{
	static const char *const bad[] = {"a\" accept", "a;b", "", "A", "x\n", "0123456789abcdef"};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct cell_nft_net n = nets_one[0];
		struct cell_nft_input in = {.nets = &n, .n_nets = 1};
		struct cell_nft_port p = ports_iso[0];
		n.bridge = bad[i];
		assert_null(cell_nft_script(&in));
		n.bridge = "cell0";
		p.bridge = bad[i];
		in.ports = &p;
		in.n_ports = 1;
		assert_null(cell_nft_script(&in));
	}
}

static void test_port_parse(void **state)
{
	static const struct {
		const char *in, *out;
		int proto, family;
		uint16_t host, ctr;
	} good[] = {
	    {"8080:80", "8080:80/tcp", IPPROTO_TCP, 0, 8080, 80},
	    {"53:53/udp", "53:53/udp", IPPROTO_UDP, 0, 53, 53},
	    {"1:65535/tcp", "1:65535/tcp", IPPROTO_TCP, 0, 1, 65535},
	    {"127.0.0.1:8080:80", "127.0.0.1:8080:80/tcp", IPPROTO_TCP, AF_INET, 8080, 80},
	    {"0.0.0.0:80:80/udp", "0.0.0.0:80:80/udp", IPPROTO_UDP, AF_INET, 80, 80},
	    {"[::1]:8080:80", "[::1]:8080:80/tcp", IPPROTO_TCP, AF_INET6, 8080, 80},
	    {"[fd00:0::5]:443:8443/udp", "[fd00::5]:443:8443/udp", IPPROTO_UDP, AF_INET6, 443,
	     8443},
	};
	char buf[CELL_PORT_STRLEN];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct cell_port p, q;
		struct cell_error err = {0};
		assert_int_equal(cell_port_parse(good[i].in, &p, &err), 0);
		assert_int_equal(p.proto, good[i].proto);
		assert_int_equal(p.host_family, good[i].family);
		assert_int_equal(p.host_port, good[i].host);
		assert_int_equal(p.ctr_port, good[i].ctr);
		cell_port_format(&p, buf, sizeof(buf));
		assert_string_equal(buf, good[i].out);
		assert_int_equal(cell_port_parse(buf, &q, &err), 0);
		assert_memory_equal(&p, &q, sizeof(p));
	}
}

static void test_port_parse_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "80",
	    "0:80",
	    "80:0",
	    "65536:80",
	    "80:65536",
	    "80:80/sctp",
	    "80:80/",
	    "80:80/TCP",
	    "-1:80",
	    "+80:80",
	    " 80:80",
	    "80:80 ",
	    "80::80",
	    ":80",
	    "1.2.3:80:80",
	    "1.2.3.4:80",
	    "::1:8080:80",
	    "[::1]8080:80",
	    "[::1:8080:80",
	    "[1.2.3.4]:80:80",
	    "[::1]:80",
	    "a:b",
	    "999999:80",
	    "1.2.3.4:80:80:80",
	    "localhost:80:80",
	};
	struct cell_port p = {.host_port = 7};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct cell_error err = {0};
		if (cell_port_parse(bad[i], &p, &err) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_int_equal(err.code, EINVAL);
		assert_non_null(strstr(err.msg, bad[i]));
		assert_int_equal(p.host_port, 7); /* untouched */
	}
}

/* ---- applied, in a network namespace of our own ---- */

/* libnftables' listing of cmd, or NULL. */
static char *nft_list(const char *cmd)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	char *out = NULL;

	if (!ctx)
		return NULL;
	if (nft_ctx_buffer_output(ctx) == 0 && nft_ctx_buffer_error(ctx) == 0 &&
	    nft_run_cmd_from_buffer(ctx, cmd) == 0)
		out = xstrdup(nft_ctx_get_output_buffer(ctx));
	nft_ctx_free(ctx);
	return out;
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			(void)fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);           \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

static int apply(const struct cell_nft_input *in)
{
	_cleanup_free_ char *s = cell_nft_script(in);
	struct cell_error err = {0};
	int r = cell_nft_apply(s, &err);

	if (r < 0)
		(void)fprintf(stderr, "apply: %s\n", err.msg);
	return r;
}

static int check_table(void)
{
	_cleanup_free_ char *t = nft_list("list table inet cell");
	static const char *const want[] = {
	    "chain postrouting",
	    "chain prerouting",
	    "chain output",
	    "chain forward",
	    "dnat ip to 10.66.0.2:80",
	    "dnat ip6 to [fd66:0:0:1::2]:80",
	    "ip saddr 10.66.0.0/24 ip daddr != 10.66.0.0/24 masquerade",
	    "iifname \"cell0\" oifname \"web-net\" drop",
	};

	CHECK(t != NULL);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (!strstr(t, want[i])) {
			(void)fprintf(stderr, "no \"%s\" in:\n%s\n", want[i], t);
			return 1;
		}
	return 0;
}

/* A script that fails says why, and leaves the table as it was. */
static int check_error(void)
{
	struct cell_error err = {0};
	int r = cell_nft_apply("table inet cell {}\ndelete table inet cell\n"
			       "table inet cell { chain c { tcp dport 99999 accept; }; }\n",
			       &err);

	(void)fprintf(stderr, "(expected) %s\n", err.msg);
	CHECK(r == -EINVAL);
	CHECK(cell_startswith(err.msg, "nftables: "));
	CHECK(strstr(err.msg, "99999") != NULL);
	return check_table();
}

static int in_netns(void)
{
	struct cell_nft_input empty = {0};
	_cleanup_free_ char *tables = NULL;

	if (unshare(CLONE_NEWNET) < 0)
		return errno == EPERM ? 77 : 1;
	CHECK(apply(&cases[2].in) == 0);
	CHECK(check_table() == 0);
	CHECK(apply(&cases[2].in) == 0); /* again: replaced, not added to */
	CHECK(check_table() == 0);
	CHECK(check_error() == 0);
	CHECK(apply(&cases[3].in) == 0);
	CHECK(apply(&empty) == 0);
	tables = nft_list("list tables");
	CHECK(tables != NULL && !strstr(tables, "table inet cell"));
	CHECK(apply(&empty) == 0); /* no table: deleting it is no error either */
	return 0;
}

static void test_apply_netns(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(in_netns());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- real traffic: a container's port reached through the table ---- */

/* "hello" from addr:port, or false. */
static bool hello_from(const char *addr, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 3};
	_cleanup_close_ int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char buf[8] = {0};

	if (s < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		return false;
	(void)setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return false;
	return read(s, buf, sizeof(buf) - 1) == 5 && streq(buf, "hello");
}

/* A child of the container: gone with it, or after 30 s (alarms are not
 * inherited). */
static void __attribute__((noreturn)) serve(int s)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(30);
	for (;;) {
		int conn = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (conn >= 0) {
			(void)!write(conn, "hello", 5);
			(void)close(conn);
		}
	}
}

/* The "container": its own namespace, a veth end that the parent moves in,
 * 10.66.0.2, a server on port 80 that says hello to every connection, and a
 * client that tries the published port through the host's address each time
 * it is asked, answering 'y' or 'n'. */
static void __attribute__((noreturn)) container(int ready_in, int ready_out)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
	int one = 1, s;
	char c;

	alarm(30);
	if (unshare(CLONE_NEWNET) < 0 || write(ready_out, "n", 1) != 1)
		_exit(1);
	if (read(ready_in, &c, 1) != 1) /* the veth is here */
		_exit(1);
	if (system("ip link set lo up && ip link set vc up && ip addr add 10.66.0.2/24 dev vc && "
		   "ip route add default via 10.66.0.1") != 0)
		_exit(1);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 8) < 0)
		_exit(1);
	if (fork() == 0)
		serve(s);
	if (write(ready_out, "l", 1) != 1)
		_exit(1);
	while (read(ready_in, &c, 1) == 1)
		if (write(ready_out, hello_from("192.0.2.1", 8080) ? "y" : "n", 1) != 1)
			break;
	_exit(0);
}

/* The container reaches its own published port through the host's address
 * (hairpin: DNAT back out of the bridge it came in by, masqueraded so that
 * the answer comes back through the host). */
static bool hairpin(int to_ctr, int from_ctr)
{
	char c = 0;

	return write(to_ctr, "h", 1) == 1 && read(from_ctr, &c, 1) == 1 && c == 'y';
}

static const char host_setup[] =
    "ip link set lo up && ip link add cell0 type bridge && "
    "ip addr add 10.66.0.1/24 dev cell0 && ip link set cell0 up && "
    "ip addr add 192.0.2.1/32 dev lo && ip link add vh type veth peer name vc && "
    "ip link set vh master cell0 up && echo 1 > /proc/sys/net/ipv4/ip_forward && "
    /* with br_netfilter the hairpin's DNAT is seen on the bridge, which then
     * sends the frame back out of the port it came in by */
    "ip link set vh type bridge_slave hairpin on && "
    /* what the caller of cell_nft_apply does for 127.0.0.1 (nft.h) */
    "echo 1 > /proc/sys/net/ipv4/conf/cell0/route_localnet";

static int traffic(pid_t ctr, int to_ctr, int from_ctr)
{
	struct cell_nft_port p = port("8080:80", "cell0", "10.66.0.2", NULL);
	struct cell_nft_input in = {.nets = nets_one, .n_nets = 1, .ports = &p, .n_ports = 1};
	_cleanup_free_ char *mv = xasprintf("ip link set vc netns %d", (int)ctr);
	char c;

	CHECK(read(from_ctr, &c, 1) == 1 && c == 'n');
	CHECK(system(host_setup) == 0);
	CHECK(system(mv) == 0);
	CHECK(write(to_ctr, "v", 1) == 1);
	CHECK(read(from_ctr, &c, 1) == 1 && c == 'l');
	CHECK(!hello_from("127.0.0.1", 8080)); /* no table: nothing there */
	CHECK(apply(&in) == 0);
	CHECK(hello_from("127.0.0.1", 8080)); /* output chain, localhost masquerade */
	CHECK(hello_from("192.0.2.1", 8080)); /* a host address */
	CHECK(hello_from("10.66.0.2", 80));   /* the container itself, routed */
	CHECK(hairpin(to_ctr, from_ctr));
	in.n_nets = 0;
	CHECK(apply(&in) == 0);
	CHECK(!hello_from("127.0.0.1", 8080));
	return 0;
}

static int traffic_netns(void)
{
	int to_ctr[2], from_ctr[2], r;
	pid_t ctr;

	alarm(60);
	if (unshare(CLONE_NEWNET) < 0)
		return errno == EPERM ? 77 : 1;
	CHECK(pipe2(to_ctr, O_CLOEXEC) == 0 && pipe2(from_ctr, O_CLOEXEC) == 0);
	ctr = fork();
	CHECK(ctr >= 0);
	if (ctr == 0)
		container(to_ctr[0], from_ctr[1]);
	r = traffic(ctr, to_ctr[1], from_ctr[0]);
	(void)kill(ctr, SIGKILL);
	(void)waitpid(ctr, NULL, 0);
	return r;
}

static void test_traffic_netns(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	if (access("/usr/sbin/ip", X_OK) < 0 && access("/sbin/ip", X_OK) < 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(traffic_netns());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),	   cmocka_unit_test(test_no_networks),
	    cmocka_unit_test(test_unsafe_names),   cmocka_unit_test(test_port_parse),
	    cmocka_unit_test(test_port_parse_bad), cmocka_unit_test(test_apply_netns),
	    cmocka_unit_test(test_traffic_netns),
	};
	make_inputs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
