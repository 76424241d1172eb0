/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * cell's own nftables table, "inet cell": outbound NAT of the networks,
 * published ports (DNAT from the host's addresses, 127.0.0.1 included, and
 * hairpin from the containers themselves), isolation between networks.  The
 * whole table is made from what runs now and replaced in one transaction
 * (libnftables); nothing outside it is touched, and it is deleted when no
 * network is in use.
 *
 * The caller's part (nft.c says why): net.ipv4.conf.<bridge>.route_localnet=1
 * for ports published on 127.0.0.1, and hairpin mode on the bridge ports for
 * a container to reach its own published port through a host address.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/error.h"
#include "ipam.h"

#define CELL_NFT_TABLE "cell"

/* A network in use (a bridge with containers on it). */
struct cell_nft_net {
	const char *bridge;
	bool has4, has6;
	struct cell_cidr subnet4, subnet6;
	bool isolated; /* no forwarding in or out, no NAT: the gateway only */
};

/* -p [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp] */
struct cell_port {
	int proto;		   /* IPPROTO_TCP or IPPROTO_UDP */
	int host_family;	   /* 0: every host address, else AF_INET / AF_INET6 */
	unsigned char host_ip[16];
	uint16_t host_port, ctr_port;
};
/* -EINVAL (said in err, with the text) for anything else: port 0, > 65535, a
 * protocol other than tcp or udp, a malformed address ("[::1]:80:80" for IPv6). */
int cell_port_parse(const char *s, struct cell_port *out, struct cell_error *err);
/* Back to the text cell_port_parse takes (buf of at least CELL_PORT_STRLEN). */
#define CELL_PORT_STRLEN 72
void cell_port_format(const struct cell_port *p, char *buf, size_t len);

/* A published port of a running container. */
struct cell_nft_port {
	struct cell_port port;
	const char *bridge;	  /* the network it is reached through */
	bool has4, has6;
	unsigned char ctr_ip4[16], ctr_ip6[16];
};

struct cell_nft_input {
	const struct cell_nft_net *nets;
	size_t n_nets;
	const struct cell_nft_port *ports;
	size_t n_ports;
};

/* The nft script that replaces table inet cell with what `in` needs (with no
 * networks: the script that deletes the table, and nothing else).  Pure:
 * golden-tested.  Caller frees.  NULL for a bridge name that is no link name
 * of ours ([a-z0-9_.-], 1-15 characters): nothing from the input could end a
 * quoted string of the script. */
char *cell_nft_script(const struct cell_nft_input *in);
/* Run a script through libnftables in the caller's network namespace; its
 * error output is the error's message. */
int cell_nft_apply(const char *script, struct cell_error *err);
