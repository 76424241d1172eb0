/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* Shared by net/'s front files (network.c, attach.c, sync.c). */
#include "net.h"
#include "netlink.h"

/* The registry of p, locked, with stale leases pruned. */
int cell_net_registry(const struct cell_net_paths *p, struct cell_netreg **out,
		      struct cell_error *err);
/* The network w asks for (bridge kind), made when it is the default one and
 * missing: a subnet no network and no route of the host's namespace has. */
int cell_net_network_for(struct cell_netreg *g, struct cell_nl *host, const char *name,
			 const struct cell_network **out, struct cell_error *err);
/* The lease for w under g (pinned values parsed). */
int cell_net_lease_locked(struct cell_netreg *g, struct cell_nl *host,
			  const struct cell_net_want *w, struct cell_lease *out,
			  struct cell_error *err);

/* <run>/links/<ifname>.json: a running container's link, what sync derives
 * the host's side from. */
struct cell_net_link_rec {
	char ifname[CELL_IFNAMSIZ];
	char *store, *name, *network, *dns_name;
	struct cell_port *ports;
	size_t n_ports;
};
int cell_net_rec_write(const struct cell_net_paths *p, const struct cell_net_link_rec *r,
		       struct cell_error *err);
/* Every record (caller frees with cell_net_recs_free). */
int cell_net_recs_read(const struct cell_net_paths *p, struct cell_net_link_rec **out, size_t *n,
		       struct cell_error *err);
void cell_net_recs_free(struct cell_net_link_rec *r, size_t n);
void cell_net_rec_clear(struct cell_net_link_rec *r);
void cell_net_rec_remove(const struct cell_net_paths *p, const char *ifname);

/* Bring the host side in line with the links that exist: records of gone
 * links dropped, bridges without ports removed with their dnsmasq, dnsmasq's
 * files and the nftables table made again (force: apply the table even if
 * the script did not change). */
int cell_net_sync(const struct cell_net_paths *p, struct cell_netreg *g, struct cell_nl *host,
		  bool force, struct cell_error *err);
/* The bridge of n with its gateway addresses, up, forwarding on. */
int cell_net_bridge_ensure(struct cell_nl *host, const struct cell_network *n,
			   struct cell_nl_link *out, struct cell_error *err);

/* <run>/dns/<network>: the network's dnsmasq files (caller frees). */
char *cell_net_dns_dir(const struct cell_net_paths *p, const char *network);
