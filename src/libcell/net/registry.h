/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The host-wide network registry: the networks (name, bridge, subnets) and
 * the address leases of every store's containers, in one JSON file
 * (<dir>/networks.json, default dir /var/lib/cell-net) changed only under
 * flock(2) on <dir>/networks.json.lock and replaced by rename.  Host-wide so
 * that two stores on one host never lease one address twice or make two
 * bridges for one subnet.
 *
 *   { "networks": [ { "name": "cell0", "bridge": "cell0", "subnet": "10.66.0.0/24",
 *                     "subnet6": "fd66:0:0:1::/64", "isolated": false, "mtu": 1500 } ],
 *     "leases": [ { "network": "cell0", "store": "/var/lib/cell", "name": "web",
 *                   "ipv4": "10.66.0.2", "ipv6": "fd66:0:0:1::2",
 *                   "mac": "02:c3:5a:00:11:22" } ] }
 */
#include <stdbool.h>
#include <stddef.h>

#include "../base/cleanup.h"
#include "../base/error.h"
#include "ipam.h"

#define CELL_NET_NAME_MAX 15 /* a network's name is its bridge's: IFNAMSIZ - 1 */

struct cell_network {
	char *name;
	char *bridge;
	bool has4, has6;
	struct cell_cidr subnet4, subnet6;
	bool isolated; /* containers reach the gateway only: not each other, not out */
	unsigned mtu;	/* 0: the kernel's default */
};

struct cell_lease {
	char *network, *store, *name; /* store: the real path of the store's root */
	bool has4, has6;
	unsigned char ip4[16], ip6[16];
	unsigned char mac[6];
};

struct cell_netreg;

/* Lock (waits) and load the registry of dir; a missing file is an empty
 * registry.  dir is made when missing. */
int cell_netreg_open(const char *dir, struct cell_netreg **out, struct cell_error *err);
/* Write it back (atomically), when it changed. */
int cell_netreg_save(struct cell_netreg *g, struct cell_error *err);
/* Unlock, free (without saving). */
void cell_netreg_close(struct cell_netreg *g);
DEFINE_FREEP(struct cell_netreg *, cell_netreg_close)

/* A valid network name: [a-z0-9][a-z0-9_-]*, at most CELL_NET_NAME_MAX. */
bool cell_net_name_valid(const char *name);
const struct cell_network *cell_netreg_network(const struct cell_netreg *g, const char *name);
/* All networks, in the order made; *n of them. */
const struct cell_network *cell_netreg_networks(const struct cell_netreg *g, size_t *n);
/* Add a copy of n: -EEXIST for a name that is there, -EADDRINUSE (said with the
 * other network's name) for a subnet that overlaps another network's. */
int cell_netreg_network_add(struct cell_netreg *g, const struct cell_network *n,
			    struct cell_error *err);
/* -ENOENT for no such network, -EBUSY (said with the containers' names) while
 * leases are held on it. */
int cell_netreg_network_remove(struct cell_netreg *g, const char *name, struct cell_error *err);

/* What a container asks for: pinned addresses or MAC (NULL: any). */
struct cell_lease_req {
	const char *network, *store, *name;
	const unsigned char *ip4, *ip6; /* pinned: must be in the subnet, not the gateway, free */
	const unsigned char *mac;	/* pinned MAC; NULL: cell_mac_from_seed("store/name") */
};
/* The container's lease on the network, made when it has none (an address in
 * each of the network's subnets), or changed to the pinned values.
 * -ENOENT no such network, -EADDRINUSE (said with the holder's name) for a
 * pinned address another container holds, -EINVAL for one outside the
 * subnet or the gateway, -ENOSPC when the subnet is full.  *out is a copy
 * (cell_lease_clear). */
int cell_netreg_lease(struct cell_netreg *g, const struct cell_lease_req *req,
		      struct cell_lease *out, struct cell_error *err);
/* The lease of store/name, or NULL. */
const struct cell_lease *cell_netreg_find(const struct cell_netreg *g, const char *store,
					  const char *name);
const struct cell_lease *cell_netreg_leases(const struct cell_netreg *g, size_t *n);
/* Drop store/name's lease (none: no error). */
void cell_netreg_release(struct cell_netreg *g, const char *store, const char *name);
/* Drop the leases for which alive(store, name, arg) is false (a container
 * removed without its release: a crash, a store deleted by hand); returns how
 * many went. */
size_t cell_netreg_prune(struct cell_netreg *g,
			 bool (*alive)(const char *store, const char *name, void *arg), void *arg);
void cell_lease_clear(struct cell_lease *l);
void cell_network_clear(struct cell_network *n);
