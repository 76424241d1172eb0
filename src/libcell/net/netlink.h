/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Links, addresses and routes over rtnetlink (libmnl): the only place cell
 * talks to the kernel's network configuration; nothing runs `ip`.  A socket
 * belongs to the network namespace it was opened in, so one handle is one
 * namespace: the host's (the caller's) or a container's.
 */
#include <stdbool.h>
#include <stddef.h>

#include "../base/cleanup.h"
#include "../base/error.h"

struct cell_nl;

/* A socket in the namespace of netns_fd (an fd of /proc/PID/ns/net or a
 * bind-mounted namespace file), or in the caller's with -1.  The caller's
 * namespace is the same again when this returns. */
int cell_nl_open(struct cell_nl **out, int netns_fd, struct cell_error *err);
void cell_nl_close(struct cell_nl *nl);
DEFINE_FREEP(struct cell_nl *, cell_nl_close)

#define CELL_IFNAMSIZ 16

struct cell_nl_link {
	int ifindex;
	int master;		/* ifindex of the bridge it is a port of, 0 for none */
	unsigned mtu;
	bool up;		/* IFF_UP */
	char name[CELL_IFNAMSIZ];
	char kind[CELL_IFNAMSIZ]; /* IFLA_INFO_KIND: "bridge", "veth"...; "" for none */
	unsigned char mac[6];
};

/* The link called name: -ENODEV (recorded) when there is none. */
int cell_nl_link_get(struct cell_nl *nl, const char *name, struct cell_nl_link *out,
		     struct cell_error *err);
/* Every link of the namespace (caller frees *out). */
int cell_nl_links(struct cell_nl *nl, struct cell_nl_link **out, size_t *n, struct cell_error *err);

/* New links.  -EEXIST when the name is taken.  mtu 0: the kernel's default. */
int cell_nl_bridge_add(struct cell_nl *nl, const char *name, unsigned mtu, struct cell_error *err);
/* A veth pair: name here, peer created directly in the namespace of
 * peer_netns_fd (-1: here too). */
int cell_nl_veth_add(struct cell_nl *nl, const char *name, const char *peer, int peer_netns_fd,
		     unsigned mtu, struct cell_error *err);
/* kind "macvlan" (mode bridge) or "ipvlan" (mode l2) on the parent link of this
 * namespace, created in the namespace of netns_fd.  -ENOTSUP (said as "this
 * kernel has no KIND") when the kernel lacks the driver. */
int cell_nl_vlan_add(struct cell_nl *nl, const char *kind, const char *name, const char *parent,
		     int netns_fd, struct cell_error *err);
/* -ENODEV (not recorded) when there is no such link: deleting is idempotent. */
int cell_nl_link_del(struct cell_nl *nl, const char *name, struct cell_error *err);

/* What cell_nl_link_set changes: a field left 0 / NULL is left as it is. */
struct cell_nl_link_change {
	const char *name;	  /* rename (the link must be down) */
	const unsigned char *mac; /* 6 bytes */
	unsigned mtu;
	int master;		  /* enslave to this bridge's ifindex */
	bool up;		  /* bring it up (after the other changes) */
};
int cell_nl_link_set(struct cell_nl *nl, int ifindex, const struct cell_nl_link_change *c,
		     struct cell_error *err);
/* A bridge port's flags: isolated (IFLA_BRPORT_ISOLATED: an isolated port
 * reaches only non-isolated ones, i.e. the bridge itself, the host), and
 * hairpin (IFLA_BRPORT_MODE: a frame may leave by the port it came in on, which
 * a container reaching its own published port through the host needs). */
struct cell_nl_brport {
	bool isolated;
	bool hairpin;
};
int cell_nl_brport_set(struct cell_nl *nl, int ifindex, const struct cell_nl_brport *p,
		       struct cell_error *err);

/* family AF_INET or AF_INET6; addr 4 or 16 bytes.  IPv6 addresses are added
 * with IFA_F_NODAD (no tentative period: usable at once).  An address the link
 * has already is no error. */
int cell_nl_addr_add(struct cell_nl *nl, int ifindex, int family, const unsigned char *addr,
		     unsigned prefix, struct cell_error *err);
/* A route to dst/dst_len (dst NULL: the default route) via gw (NULL: on-link)
 * out of ifindex.  A route that exists already is no error. */
int cell_nl_route_add(struct cell_nl *nl, int family, const unsigned char *dst, unsigned dst_len,
		      const unsigned char *gw, int ifindex, struct cell_error *err);

struct cell_nl_route {
	int family;
	unsigned char dst[16];
	unsigned dst_len; /* 0: a default route */
	int oif;
};
/* The routes of the main table of one family (caller frees *out). */
int cell_nl_routes(struct cell_nl *nl, int family, struct cell_nl_route **out, size_t *n,
		   struct cell_error *err);
