/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * A container's network, as the manager asks for it: what `--net` says, the
 * lease of its address (made at create, kept while it exists), its link to
 * the network while it runs, and the host-side state that follows from all
 * running containers (bridges, dnsmasq, the nftables table).
 *
 * Nothing is bookkept that the kernel can tell: a container is on a network
 * while its host-side veth (named from the store and the container) exists,
 * and that link dies with the container's network namespace.  So after any
 * crash, the next cell_net_up() or cell_net_down() derives the host-side
 * state again from the links that exist: a bridge without ports goes with
 * its dnsmasq, the table is made again, or deleted with the last network.
 */
#include <stdbool.h>
#include <stddef.h>

#include "../base/error.h"
#include "ipam.h"
#include "nft.h"
#include "pasta.h"
#include "registry.h"

#define CELL_NET_DEFAULT "cell0" /* the network `--net bridge` means */

enum cell_net_kind {
	CELL_NET_NONE,	    /* a namespace with lo only */
	CELL_NET_HOST,	    /* the host's namespace */
	CELL_NET_BRIDGE,    /* veth on a network's bridge: arg the network (NULL: cell0) */
	CELL_NET_MACVLAN,   /* arg the host link */
	CELL_NET_IPVLAN,    /* arg the host link */
	CELL_NET_NETNS,	    /* arg a namespace file to join */
	CELL_NET_CONTAINER, /* arg another container: join its namespace */
	CELL_NET_PASTA,	    /* a user-mode network (pasta): rootless */
};

/* "none", "host", "bridge[=NET]", "macvlan=DEV", "ipvlan=DEV", "netns=PATH",
 * "container=NAME", "pasta"; *arg points into text (NULL when none). */
int cell_net_mode_parse(const char *text, enum cell_net_kind *kind, const char **arg,
			struct cell_error *err);
/* The kinds that make a network namespace of the container's own. */
bool cell_net_kind_own_netns(enum cell_net_kind kind);

struct cell_net_paths {
	const char *state_dir; /* the registry: /var/lib/cell-net */
	const char *run_dir;   /* links' records, dnsmasq's files: /run/cell-net */
	const char *dnsmasq;   /* NULL: dnsmasq on PATH */
	const char *pasta;     /* NULL: pasta on PATH */
	/* whether store/name still exists (a lease of one that does not is stale) */
	bool (*alive)(const char *store, const char *name, void *arg);
	void *alive_arg;
};

/* What one container asks for. */
struct cell_net_want {
	const char *store, *name; /* who: the store's real path and the container */
	const char *dns_name;	  /* its name on the network */
	enum cell_net_kind kind;
	const char *arg;
	const char *ip4, *ip6, *mac; /* pinned (text, validated): bridge; ADDR/PREFIX for *vlan */
	const struct cell_port *ports;
	size_t n_ports;
	const char *ctr_run_dir; /* the container's runtime directory: pasta's files */
};

/* Create, config: the lease of a bridged container (the default network is
 * made on first use).  Nothing for other kinds.  *out may be NULL. */
int cell_net_lease(const struct cell_net_paths *p, const struct cell_net_want *w,
		   struct cell_lease *out, struct cell_error *err);
/* Destroy: the lease goes (none: no error). */
int cell_net_release(const struct cell_net_paths *p, const char *store, const char *name,
		     struct cell_error *err);
/* The lease of store/name, if any: 0 with *out filled, -ENOENT. */
int cell_net_lease_of(const struct cell_net_paths *p, const char *store, const char *name,
		      struct cell_lease *out, struct cell_error *err);

/* What a bridged container got (cell_net_up's out): its addresses and its
 * network's DNS (the gateway), as text; "" where it has none. */
struct cell_net_given {
	char network[CELL_NET_NAME_MAX + 1];
	char ip4[CELL_IP_STRLEN], ip6[CELL_IP_STRLEN], dns[CELL_IP_STRLEN];
};
/* Start, between the runtime's create and start: the container's network in
 * the namespace of netns_fd (its init's), init its pid (for pasta); given
 * (may be NULL) is filled for a bridged one. */
int cell_net_up(const struct cell_net_paths *p, const struct cell_net_want *w, int netns_fd,
		int init, struct cell_net_given *given, struct cell_error *err);
/* Stop, cleanup (also of what a crash left): the host side of store/name goes,
 * and what no running container needs any more.  (A pasta goes with
 * cell_pasta_stop of the container's runtime directory, before that does.) */
int cell_net_down(const struct cell_net_paths *p, const char *store, const char *name,
		  struct cell_error *err);

/* `cell network` */
int cell_net_create(const struct cell_net_paths *p, const struct cell_network *n,
		    struct cell_error *err);
int cell_net_remove(const struct cell_net_paths *p, const char *name, struct cell_error *err);
struct cell_net_status {
	struct cell_network net;
	bool active;	  /* its bridge exists */
	size_t n_leases;  /* containers on it */
	size_t n_running; /* with a link now */
	int dnsmasq;	  /* its pid, 0 for none */
};
/* Every network (name NULL) or one; caller frees with cell_net_status_free. */
int cell_net_list(const struct cell_net_paths *p, const char *name, struct cell_net_status **out,
		  size_t *n, struct cell_error *err);
void cell_net_status_free(struct cell_net_status *s, size_t n);
/* The leases held on network (copies: cell_lease_clear each, free the array). */
int cell_net_leases_on(const struct cell_net_paths *p, const char *network, struct cell_lease **out,
		       size_t *n, struct cell_error *err);

/* The link name of store/name's host side ("cv" + 8 hex digits). */
void cell_net_host_ifname(const char *store, const char *name, char buf[16]);
