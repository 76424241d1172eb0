/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the address parsers of net/ipam.h (what `cell network
 * create --subnet`, `--ip` and `--mac` and the network registry hand them):
 * cell_cidr_parse(), cell_ip_parse(), cell_mac_parse() on the same text.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/net/ipam.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A subnet holds its network address only, has room for a gateway and one
 * more host, and reads back the same after cell_cidr_format(). */
static void check_cidr(const char *text)
{
	struct cell_cidr c, again, poison;
	char buf[CELL_CIDR_STRLEN];
	unsigned char host[16];

	memset(&c, 0xa5, sizeof(c));
	poison = c;
	if (cell_cidr_parse(text, &c) < 0) {
		assert(memcmp(&c, &poison, sizeof(c)) == 0); /* untouched on error */
		return;
	}
	assert(c.family == AF_INET || c.family == AF_INET6);
	assert(c.prefix <= cell_ip_len(c.family) * 8 - 2);
	cell_cidr_format(&c, buf, sizeof(buf));
	assert(cell_cidr_parse(buf, &again) == 0 && memcmp(&again, &c, sizeof(c)) == 0);
	assert(cell_cidr_host(&c, 2, host) == 0 && cell_cidr_contains(&c, c.family, host));
	assert(cell_cidr_host(&c, 0, host) == -ERANGE);
	assert(cell_ipam_pick(&c, NULL, 0, host) == 0);
	assert(cell_cidr_overlap(&c, &again));
}

static void check_ip(const char *text)
{
	unsigned char addr[16], again[16];
	char buf[CELL_IP_STRLEN];
	int family = 0, f2 = 0;

	if (cell_ip_parse(text, &family, addr) < 0) {
		assert(family == 0);
		return;
	}
	cell_ip_format(family, addr, buf, sizeof(buf));
	assert(cell_ip_parse(buf, &f2, again) == 0 && f2 == family);
	assert(memcmp(addr, again, cell_ip_len(family)) == 0);
}

static void check_mac(const char *text)
{
	unsigned char mac[6], again[6];
	char buf[CELL_MAC_STRLEN];

	if (cell_mac_parse(text, mac) < 0)
		return;
	assert(!(mac[0] & 1));
	cell_mac_format(mac, buf, sizeof(buf));
	assert(cell_mac_parse(buf, again) == 0 && memcmp(mac, again, 6) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the parsers take a C string: what follows a NUL is not seen */
	_cleanup_free_ char *text = xstrndup((const char *)data, size);

	check_cidr(text);
	check_ip(text);
	check_mac(text);
	return 0;
}
