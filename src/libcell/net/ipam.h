/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Addresses, subnets and MACs: parsing, formatting, picking a free address.
 * Pure (no syscalls): unit-tested and fuzzed without root.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cell_cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network address, host bits zero; 4 bytes used for AF_INET */
	unsigned prefix;
};

/* "10.66.0.0/24", "fd66::/64".  -EINVAL for anything else, for host bits that
 * are set ("10.66.0.1/24": the caller says what it meant), and for subnets too
 * small to hold a gateway and one container (IPv4 /31, /32; IPv6 /127, /128). */
int cell_cidr_parse(const char *s, struct cell_cidr *out);
/* One address, no prefix: *family AF_INET or AF_INET6. */
int cell_ip_parse(const char *s, int *family, unsigned char addr[16]);
/* Buffers of at least CELL_IP_STRLEN (an address) or CELL_CIDR_STRLEN. */
#define CELL_IP_STRLEN 46
#define CELL_CIDR_STRLEN 50
void cell_ip_format(int family, const unsigned char *addr, char *buf, size_t len);
void cell_cidr_format(const struct cell_cidr *c, char *buf, size_t len);
size_t cell_ip_len(int family); /* 4 or 16 */

bool cell_cidr_contains(const struct cell_cidr *c, int family, const unsigned char *addr);
bool cell_cidr_overlap(const struct cell_cidr *a, const struct cell_cidr *b);
/* The n-th address of the subnet (n = 1: the gateway); -ERANGE past its end
 * (IPv4: the broadcast address is past the end). */
int cell_cidr_host(const struct cell_cidr *c, uint64_t n, unsigned char out[16]);
/* The lowest address from the second host on (the first is the gateway) that
 * is not in used[0..n_used) (addresses of c's family): -ENOSPC when full.
 * IPv6 subnets are searched over their first 2^16 hosts. */
int cell_ipam_pick(const struct cell_cidr *c, const unsigned char (*used)[16], size_t n_used,
		   unsigned char out[16]);

/* "02:42:ac:11:00:02" (case-insensitive); -EINVAL for multicast addresses and
 * for all-zero. */
int cell_mac_parse(const char *s, unsigned char mac[6]);
#define CELL_MAC_STRLEN 18
void cell_mac_format(const unsigned char mac[6], char *buf, size_t len);
/* A locally administered unicast MAC derived from seed (same seed, same MAC). */
void cell_mac_from_seed(const char *seed, unsigned char mac[6]);
/* A link name of at most 15 characters: prefix + 8 hex digits of a hash of
 * seed (same seed, same name). */
void cell_ifname_from_seed(const char *prefix, const char *seed, char buf[16]);
