/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net/ipam.c: subnets, addresses and MACs parsed and formatted, hosts
 * counted, free addresses picked, names and MACs derived from seeds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/net/ipam.h"

static struct cell_cidr cidr(const char *s)
{
	struct cell_cidr c;

	assert_int_equal(cell_cidr_parse(s, &c), 0);
	return c;
}

static void assert_ip(int family, const unsigned char *addr, const char *want)
{
	char buf[CELL_IP_STRLEN];

	cell_ip_format(family, addr, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void ip(const char *s, unsigned char out[16])
{
	int family = 0;

	assert_int_equal(cell_ip_parse(s, &family, out), 0);
}

static void test_cidr_round_trip(void **state)
{
	static const struct {
		const char *in, *out;
		int family;
		unsigned prefix;
	} ok[] = {
	    {"10.66.0.0/24", "10.66.0.0/24", AF_INET, 24},
	    {"10.66.0.252/30", "10.66.0.252/30", AF_INET, 30},
	    {"0.0.0.0/0", "0.0.0.0/0", AF_INET, 0},
	    {"172.16.0.0/12", "172.16.0.0/12", AF_INET, 12},
	    {"fd66:0:0:1::/64", "fd66:0:0:1::/64", AF_INET6, 64},
	    {"FD66:0000::/16", "fd66::/16", AF_INET6, 16},
	    {"fd66::4/126", "fd66::4/126", AF_INET6, 126},
	};
	char buf[CELL_CIDR_STRLEN];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct cell_cidr c = cidr(ok[i].in);
		assert_int_equal(c.family, ok[i].family);
		assert_int_equal(c.prefix, ok[i].prefix);
		cell_cidr_format(&c, buf, sizeof(buf));
		assert_string_equal(buf, ok[i].out);
	}
}

static void test_cidr_bad(void **state)
{
	static const char *const bad[] = {
	    "",						       /* nothing */
	    "10.66.0.0",				       /* no prefix */
	    "10.66.0.0/",				       /* empty prefix */
	    "10.66.0.1/24",				       /* host bits set */
	    "fd66::1/64",				       /* host bits set */
	    "10.66.0.0/31",				       /* too small */
	    "10.66.0.0/32",				       /* too small */
	    "10.66.0.0/33",				       /* out of range */
	    "fd66::/127",				       /* too small */
	    "fd66::/128",				       /* too small */
	    "fd66::/129",				       /* out of range */
	    "10.66.0.0/24 ",				       /* junk after */
	    "10.66.0.0/24x",				       /* junk after */
	    "10.66.0.0/24/8",				       /* junk after */
	    "10.66.0.0/024",				       /* leading zero */
	    "10.66.0.0/+24",				       /* sign */
	    "10.66.0.0/-1",				       /* sign */
	    " 10.66.0.0/24",				       /* junk before */
	    "10.66.0/24",				       /* short address */
	    "10.66.0.256/24",				       /* octet out of range */
	    "fd66::%eth0/64",				       /* a zone */
	    "cell0/24",					       /* no address */
	    "1111:2222:3333:4444:5555:6666:7777:8888:9999/64", /* too long */
	};
	struct cell_cidr c = {.prefix = 99};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(cell_cidr_parse(bad[i], &c), -EINVAL);
		assert_int_equal(c.prefix, 99); /* untouched */
	}
}

static void test_ip_parse(void **state)
{
	static const char *const bad[] = {"",	      "10.0.0",	   "10.0.0.01",	 "10.0.0.1/32",
					  "fd66:::1", "10.0.0.1 ", "fe80::1%lo", "x"};
	unsigned char a[16];
	int family = 0;

	(void)state;
	assert_int_equal(cell_ip_parse("10.66.0.2", &family, a), 0);
	assert_int_equal(family, AF_INET);
	assert_int_equal(cell_ip_len(family), 4);
	assert_ip(family, a, "10.66.0.2");
	assert_int_equal(cell_ip_parse("FD66:0:0:1:0:0:0:2", &family, a), 0);
	assert_int_equal(family, AF_INET6);
	assert_int_equal(cell_ip_len(family), 16);
	assert_ip(family, a, "fd66:0:0:1::2");
	family = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(cell_ip_parse(bad[i], &family, a), -EINVAL);
	assert_int_equal(family, 0);
}

static void test_contains_overlap(void **state)
{
	struct cell_cidr a = cidr("10.66.0.0/24"), b = cidr("10.66.0.0/16"),
			 c = cidr("10.67.0.0/24"), d = cidr("10.66.1.0/24"),
			 e = cidr("fd66:0:0:1::/64"), f = cidr("fd66::/48"), g = cidr("fd67::/64"),
			 any4 = cidr("0.0.0.0/0"), any6 = cidr("::/0");
	unsigned char x[16];

	(void)state;
	ip("10.66.0.200", x);
	assert_true(cell_cidr_contains(&a, AF_INET, x));
	assert_true(cell_cidr_contains(&b, AF_INET, x));
	assert_false(cell_cidr_contains(&c, AF_INET, x));
	assert_false(cell_cidr_contains(&e, AF_INET, x)); /* the other family */
	ip("10.66.1.0", x);
	assert_false(cell_cidr_contains(&a, AF_INET, x));
	ip("fd66:0:0:1:ffff::1", x);
	assert_true(cell_cidr_contains(&e, AF_INET6, x));
	assert_true(cell_cidr_contains(&f, AF_INET6, x));
	assert_false(cell_cidr_contains(&g, AF_INET6, x));

	assert_true(cell_cidr_overlap(&a, &b) && cell_cidr_overlap(&b, &a));
	assert_true(cell_cidr_overlap(&b, &d));
	assert_false(cell_cidr_overlap(&a, &c));
	assert_false(cell_cidr_overlap(&a, &d));
	assert_true(cell_cidr_overlap(&a, &a));
	assert_true(cell_cidr_overlap(&e, &f) && cell_cidr_overlap(&f, &e));
	assert_false(cell_cidr_overlap(&e, &g));
	assert_true(cell_cidr_overlap(&any4, &c));
	assert_true(cell_cidr_overlap(&any6, &g));
	/* mixed families never overlap, not even ::/0 and 0.0.0.0/0 */
	assert_false(cell_cidr_overlap(&any4, &any6));
	assert_false(cell_cidr_overlap(&a, &e));
}

static void test_host(void **state)
{
	struct cell_cidr a = cidr("10.66.0.0/24"), s30 = cidr("10.66.0.4/30"),
			 e = cidr("fd66:0:0:1::/64"), z = cidr("::/0"), t = cidr("fd66::/126");
	unsigned char x[16];

	(void)state;
	assert_int_equal(cell_cidr_host(&a, 1, x), 0);
	assert_ip(AF_INET, x, "10.66.0.1");
	assert_int_equal(cell_cidr_host(&a, 254, x), 0);
	assert_ip(AF_INET, x, "10.66.0.254");
	assert_int_equal(cell_cidr_host(&a, 255, x), -ERANGE); /* the broadcast */
	assert_int_equal(cell_cidr_host(&a, 256, x), -ERANGE);
	assert_int_equal(cell_cidr_host(&a, 0, x), -ERANGE); /* the network address */
	assert_int_equal(cell_cidr_host(&s30, 2, x), 0);
	assert_ip(AF_INET, x, "10.66.0.6");
	assert_int_equal(cell_cidr_host(&s30, 3, x), -ERANGE);
	assert_int_equal(cell_cidr_host(&e, 0x10002, x), 0);
	assert_ip(AF_INET6, x, "fd66::1:0:0:1:2");
	assert_int_equal(cell_cidr_host(&e, UINT64_MAX, x), 0);
	assert_ip(AF_INET6, x, "fd66::1:ffff:ffff:ffff:ffff");
	assert_int_equal(cell_cidr_host(&z, UINT64_MAX, x), 0);
	assert_ip(AF_INET6, x, "::ffff:ffff:ffff:ffff");
	assert_int_equal(cell_cidr_host(&t, 3, x), 0); /* IPv6 has no broadcast */
	assert_ip(AF_INET6, x, "fd66::3");
	assert_int_equal(cell_cidr_host(&t, 4, x), -ERANGE);
}

static void test_pick(void **state)
{
	struct cell_cidr a = cidr("10.66.0.0/24");
	unsigned char used[5][16] = {0}, x[16];

	(void)state;
	assert_int_equal(cell_ipam_pick(&a, NULL, 0, x), 0);
	assert_ip(AF_INET, x, "10.66.0.2"); /* .1 is the gateway */
	ip("10.66.0.2", used[0]);
	ip("10.66.0.3", used[1]);
	ip("10.66.0.5", used[2]);
	ip("10.67.0.4", used[3]); /* outside: no matter */
	ip("fd66::4", used[4]);	  /* the other family */
	assert_int_equal(cell_ipam_pick(&a, (const unsigned char(*)[16])used, 5, x), 0);
	assert_ip(AF_INET, x, "10.66.0.4"); /* the gap */
	ip("10.66.0.4", used[3]);
	assert_int_equal(cell_ipam_pick(&a, (const unsigned char(*)[16])used, 5, x), 0);
	assert_ip(AF_INET, x, "10.66.0.6");
}

static void test_pick_full(void **state)
{
	struct cell_cidr s30 = cidr("10.66.0.8/30"), s29 = cidr("10.66.0.8/29"),
			 t = cidr("fd66::/126");
	unsigned char used[6][16] = {0}, x[16] = {0};

	(void)state;
	/* /30: the gateway and one container */
	assert_int_equal(cell_ipam_pick(&s30, NULL, 0, x), 0);
	assert_ip(AF_INET, x, "10.66.0.10");
	ip("10.66.0.10", used[0]);
	assert_int_equal(cell_ipam_pick(&s30, (const unsigned char(*)[16])used, 1, x), -ENOSPC);
	/* /29: hosts 2..6, the broadcast .15 is none */
	for (unsigned n = 2; n <= 6; n++)
		assert_int_equal(cell_cidr_host(&s29, n, used[n - 2]), 0);
	assert_int_equal(cell_ipam_pick(&s29, (const unsigned char(*)[16])used, 4, x), 0);
	assert_ip(AF_INET, x, "10.66.0.14");
	assert_int_equal(cell_ipam_pick(&s29, (const unsigned char(*)[16])used, 5, x), -ENOSPC);
	/* IPv6 /126: hosts 2 and 3 */
	ip("fd66::2", used[0]);
	ip("fd66::3", used[1]);
	assert_int_equal(cell_ipam_pick(&t, (const unsigned char(*)[16])used, 1, x), 0);
	assert_ip(AF_INET6, x, "fd66::3");
	assert_int_equal(cell_ipam_pick(&t, (const unsigned char(*)[16])used, 2, x), -ENOSPC);
}

/* IPv6: only the first 2^16 hosts are searched */
static void test_pick_v6_window(void **state)
{
	struct cell_cidr e = cidr("fd66:0:0:1::/64");
	size_t n = 65535;
	_cleanup_free_ unsigned char(*used)[16] = calloc(n, sizeof(*used));
	unsigned char x[16];

	(void)state;
	assert_non_null(used);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(cell_cidr_host(&e, i + 2, used[i]), 0);
	/* hosts 2..65536 taken: 65537 is past the window */
	assert_int_equal(cell_ipam_pick(&e, (const unsigned char(*)[16])used, n, x), -ENOSPC);
	assert_int_equal(cell_ipam_pick(&e, (const unsigned char(*)[16])used, n - 1, x), 0);
	assert_ip(AF_INET6, x, "fd66::1:0:0:1:0"); /* host 65536 */
	/* an address far beyond the low 64 bits is no obstacle */
	ip("fd66:0:0:1:1::2", used[0]);
	assert_int_equal(cell_ipam_pick(&e, (const unsigned char(*)[16])used, 1, x), 0);
	assert_ip(AF_INET6, x, "fd66:0:0:1::2");
}

static void test_mac(void **state)
{
	static const char *const bad[] = {
	    "01:00:5e:00:00:01",  /* multicast */
	    "ff:ff:ff:ff:ff:ff",  /* broadcast: multicast too */
	    "00:00:00:00:00:00",  /* zero */
	    "02:42:ac:11:00",	  /* short */
	    "02:42:ac:11:00:0",	  /* short */
	    "02:42:ac:11:00:022", /* long */
	    "02-42-ac-11-00-02",  /* separator */
	    "02:42:ac:11:00:0g",  /* not hex */
	    "",
	};
	unsigned char m[6] = {0}, keep[6];
	char buf[CELL_MAC_STRLEN];

	(void)state;
	assert_int_equal(cell_mac_parse("02:42:AC:11:00:02", m), 0);
	cell_mac_format(m, buf, sizeof(buf));
	assert_string_equal(buf, "02:42:ac:11:00:02");
	memcpy(keep, m, 6);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(cell_mac_parse(bad[i], m), -EINVAL);
	assert_memory_equal(m, keep, 6);
}

static void test_seeds(void **state)
{
	unsigned char a[6], b[6], c[6];
	char n1[16], n2[16], n3[16], buf[CELL_MAC_STRLEN];

	(void)state;
	cell_mac_from_seed("/var/lib/cell/web", a);
	cell_mac_from_seed("/var/lib/cell/web", b);
	cell_mac_from_seed("/var/lib/cell/db", c);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	for (unsigned char *m = a; m; m = m == a ? c : NULL) {
		assert_int_equal(m[0] & 0x03, 0x02); /* local, unicast */
		cell_mac_format(m, buf, sizeof(buf));
		assert_int_equal(cell_mac_parse(buf, b), 0); /* a MAC the parser takes */
	}
	cell_ifname_from_seed("veth", "/var/lib/cell/web", n1);
	cell_ifname_from_seed("veth", "/var/lib/cell/web", n2);
	cell_ifname_from_seed("veth", "/var/lib/cell/db", n3);
	assert_string_equal(n1, n2);
	assert_string_not_equal(n1, n3);
	assert_int_equal(strlen(n1), 12);
	assert_memory_equal(n1, "veth", 4);
	assert_int_equal(strspn(n1 + 4, "0123456789abcdef"), 8);
	/* a long prefix is cut: 15 characters at most */
	cell_ifname_from_seed("averylongprefix", "/var/lib/cell/web", n2);
	assert_int_equal(strlen(n2), 15);
	assert_memory_equal(n2, "averylo", 7);
	assert_string_equal(n2 + 7, n1 + 4); /* the same hash */
	cell_ifname_from_seed("", "x", n3);
	assert_int_equal(strlen(n3), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidr_round_trip),
	    cmocka_unit_test(test_cidr_bad),
	    cmocka_unit_test(test_ip_parse),
	    cmocka_unit_test(test_contains_overlap),
	    cmocka_unit_test(test_host),
	    cmocka_unit_test(test_pick),
	    cmocka_unit_test(test_pick_full),
	    cmocka_unit_test(test_pick_v6_window),
	    cmocka_unit_test(test_mac),
	    cmocka_unit_test(test_seeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
