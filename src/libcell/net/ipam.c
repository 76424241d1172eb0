/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Addresses as bytes in network order (4 or 16 of them), so that one set of
 * bit operations serves both families.  Host n of a subnet is the network
 * address with n in its host bits: n is 64 bits, enough for every IPv4 host
 * and for the low 2^64 of an IPv6 subnet, which is all a bridge will ever use.
 */
#include "ipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/cleanup.h"
#include "../base/util.h"

/* IPv6 subnets: hosts 1..2^16 only (cell_ipam_pick) */
#define IPV6_PICK_HOSTS 65536u

size_t cell_ip_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static unsigned max_prefix(int family)
{
	return (unsigned)cell_ip_len(family) * 8;
}

int cell_ip_parse(const char *s, int *family, unsigned char addr[16])
{
	static const int families[] = {AF_INET, AF_INET6};
	unsigned char a[16];

	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		memset(a, 0, sizeof(a));
		if (inet_pton(families[i], s, a) == 1) {
			*family = families[i];
			memcpy(addr, a, sizeof(a));
			return 0;
		}
	}
	return -EINVAL;
}

/* Decimal without sign, spaces or leading zeros, at most max. */
static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 3)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Do a and b agree in their first bits bits? */
static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	size_t bytes = bits / 8;
	unsigned rest = bits % 8;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));

	if (memcmp(a, b, bytes) != 0)
		return false;
	return rest == 0 || ((a[bytes] ^ b[bytes]) & mask) == 0;
}

static bool host_bits_zero(const unsigned char *addr, size_t len, unsigned prefix)
{
	for (unsigned bit = prefix; bit < len * 8; bit++)
		if (addr[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	return true;
}

int cell_cidr_parse(const char *s, struct cell_cidr *out)
{
	const char *slash = strchr(s, '/');
	char ip[CELL_IP_STRLEN];
	struct cell_cidr c = {0};
	size_t n;

	if (!slash || (n = (size_t)(slash - s)) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (cell_ip_parse(ip, &c.family, c.addr) < 0)
		return -EINVAL;
	/* the gateway and one container need two hosts besides the network
	 * address (and IPv4's broadcast): IPv4 up to /30, IPv6 up to /126 */
	if (parse_prefix(slash + 1, max_prefix(c.family) - 2, &c.prefix) < 0)
		return -EINVAL;
	if (!host_bits_zero(c.addr, cell_ip_len(c.family), c.prefix))
		return -EINVAL;
	*out = c;
	return 0;
}

void cell_ip_format(int family, const unsigned char *addr, char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN] = "?";

	(void)inet_ntop(family, addr, text, sizeof(text));
	(void)snprintf(buf, len, "%s", text);
}

void cell_cidr_format(const struct cell_cidr *c, char *buf, size_t len)
{
	char ip[CELL_IP_STRLEN];

	cell_ip_format(c->family, c->addr, ip, sizeof(ip));
	(void)snprintf(buf, len, "%s/%u", ip, c->prefix);
}

bool cell_cidr_contains(const struct cell_cidr *c, int family, const unsigned char *addr)
{
	return c->family == family && prefix_equal(c->addr, addr, c->prefix);
}

bool cell_cidr_overlap(const struct cell_cidr *a, const struct cell_cidr *b)
{
	unsigned bits = a->prefix < b->prefix ? a->prefix : b->prefix;

	return a->family == b->family && prefix_equal(a->addr, b->addr, bits);
}

static unsigned host_bits(const struct cell_cidr *c)
{
	return max_prefix(c->family) - c->prefix;
}

/* The highest host index: IPv4's last address is the broadcast, no host. */
static uint64_t last_host(const struct cell_cidr *c)
{
	unsigned hb = host_bits(c);
	uint64_t last = hb >= 64 ? UINT64_MAX : (UINT64_C(1) << hb) - 1;

	return c->family == AF_INET ? last - 1 : last;
}

int cell_cidr_host(const struct cell_cidr *c, uint64_t n, unsigned char out[16])
{
	size_t len = cell_ip_len(c->family);
	unsigned char a[16];

	/* host 0 is the network address itself, no host either */
	if (n == 0 || n > last_host(c))
		return -ERANGE;
	memcpy(a, c->addr, sizeof(a));
	/* n fits in the host bits, which are zero: or it into the low bytes */
	for (size_t i = len; i-- > 0 && n; n >>= 8)
		a[i] |= (unsigned char)(n & 0xff);
	memcpy(out, a, sizeof(a));
	return 0;
}

/* addr's host index in c, when it is in c and below 2^64. */
static bool host_index(const struct cell_cidr *c, const unsigned char *addr, uint64_t *idx)
{
	size_t len = cell_ip_len(c->family), low = len < 8 ? 0 : len - 8;
	unsigned hb = host_bits(c);
	uint64_t v = 0;

	if (!cell_cidr_contains(c, c->family, addr))
		return false;
	/* IPv6 host bits above the low 64 set: an index past every search */
	if (low && hb > 64 && memcmp(addr, c->addr, low) != 0)
		return false;
	for (size_t i = low; i < len; i++)
		v = v << 8 | addr[i];
	*idx = hb >= 64 ? v : v & ((UINT64_C(1) << hb) - 1);
	return true;
}

int cell_ipam_pick(const struct cell_cidr *c, const unsigned char (*used)[16], size_t n_used,
		   unsigned char out[16])
{
	uint64_t last = last_host(c), idx = 0;

	if (c->family == AF_INET6 && last > IPV6_PICK_HOSTS)
		last = IPV6_PICK_HOSTS;
	/* n_used addresses leave one of hosts 2..n_used+2 free: no need to look further */
	if (last > (uint64_t)n_used + 2)
		last = (uint64_t)n_used + 2;
	if (last < 2)
		return -ENOSPC;
	_cleanup_free_ bool *taken = xcalloc(last + 1, sizeof(bool));
	for (size_t i = 0; i < n_used; i++)
		if (host_index(c, used[i], &idx) && idx <= last)
			taken[idx] = true;
	for (uint64_t n = 2; n <= last; n++)
		if (!taken[n])
			return cell_cidr_host(c, n, out);
	return -ENOSPC;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int cell_mac_parse(const char *s, unsigned char mac[6])
{
	static const unsigned char zero[6];
	unsigned char m[6];

	if (strlen(s) != CELL_MAC_STRLEN - 1)
		return -EINVAL;
	for (size_t i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -EINVAL;
		m[i] = (unsigned char)(hi << 4 | lo);
	}
	/* the group bit: a multicast address is nobody's link */
	if ((m[0] & 0x01) || memcmp(m, zero, sizeof(m)) == 0)
		return -EINVAL;
	memcpy(mac, m, sizeof(m));
	return 0;
}

void cell_mac_format(const unsigned char mac[6], char *buf, size_t len)
{
	(void)snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		       mac[4], mac[5]);
}

/* FNV-1a, 64 bits: short, stable across builds and hosts */
static uint64_t seed_hash(const char *seed)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (const unsigned char *p = (const unsigned char *)seed; *p; p++)
		h = (h ^ *p) * UINT64_C(0x100000001b3);
	return h;
}

void cell_mac_from_seed(const char *seed, unsigned char mac[6])
{
	uint64_t h = seed_hash(seed);

	for (size_t i = 0; i < 6; i++)
		mac[i] = (unsigned char)(h >> (56 - 8 * i));
	/* locally administered (bit 1), unicast (bit 0 clear): IEEE 802 */
	mac[0] = (unsigned char)(0x02 | (mac[0] & 0xfc));
}

void cell_ifname_from_seed(const char *prefix, const char *seed, char buf[16])
{
	uint64_t h = seed_hash(seed);
	size_t n = strlen(prefix);

	/* IFNAMSIZ is 16 with the NUL: 7 of the prefix at most, 8 hex digits */
	if (n > 7)
		n = 7;
	(void)snprintf(buf, 16, "%.*s%08x", (int)n, prefix, (unsigned)(h >> 32));
}
