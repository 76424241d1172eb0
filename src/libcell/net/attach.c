/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A running container's link: on a bridge (a veth whose far end is the
 * container's eth0), or a macvlan/ipvlan of a host link.  The container's
 * side is configured through a netlink socket opened in its namespace; the
 * container's own processes have not run yet (the runtime's create holds
 * the init before exec), so they find eth0 up with its address and route.
 */
#include "net-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

#define CTR_IFNAME "eth0"

void cell_net_host_ifname(const char *store, const char *name, char buf[16])
{
	_cleanup_free_ char *seed = xasprintf("%s/%s", store, name);

	cell_ifname_from_seed("cv", seed, buf);
}

/* A sysctl of the caller's network namespace (/proc/sys/net is the opener's). */
static int net_sysctl(const char *path, struct cell_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "1", 1) != 1)
		return cell_err(err, errno, "write 1 to %s", path);
	return 0;
}

static int bridge_sysctls(const struct cell_network *n, struct cell_error *err)
{
	_cleanup_free_ char *localnet =
	    xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", n->bridge);
	int r = 0;

	/* forwarding for the NAT out and the published ports in; route_localnet
	 * so that a port published on 127.0.0.1 may be DNATed onto the bridge */
	if (n->has4 && !n->isolated)
		r = net_sysctl("/proc/sys/net/ipv4/ip_forward", err);
	if (r == 0 && n->has4)
		r = net_sysctl(localnet, err);
	if (r == 0 && n->has6 && !n->isolated)
		r = net_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", err);
	return r;
}

static int gateway_addrs(struct cell_nl *host, const struct cell_network *n, int ifindex,
			 struct cell_error *err)
{
	unsigned char gw[16];
	int r = 0;

	if (n->has4 && (r = cell_cidr_host(&n->subnet4, 1, gw)) == 0)
		r = cell_nl_addr_add(host, ifindex, AF_INET, gw, n->subnet4.prefix, err);
	if (r == 0 && n->has6 && (r = cell_cidr_host(&n->subnet6, 1, gw)) == 0)
		r = cell_nl_addr_add(host, ifindex, AF_INET6, gw, n->subnet6.prefix, err);
	return r;
}

int cell_net_bridge_ensure(struct cell_nl *host, const struct cell_network *n,
			   struct cell_nl_link *out, struct cell_error *err)
{
	struct cell_error e = {0};
	int r = cell_nl_link_get(host, n->bridge, out, &e);

	if (r == -ENODEV) {
		if ((r = cell_nl_bridge_add(host, n->bridge, n->mtu, err)) < 0 ||
		    (r = cell_nl_link_get(host, n->bridge, out, err)) < 0)
			return r;
	} else if (r < 0) {
		*err = e;
		return r;
	}
	if (!streq(out->kind, "bridge"))
		return cell_errx(err, EEXIST,
				 "network %s: the host has a link named %s that is not a bridge "
				 "(rename it, or make the network under another name)",
				 n->name, n->bridge);
	struct cell_nl_link_change up = {.up = true};
	if ((r = gateway_addrs(host, n, out->ifindex, err)) < 0 ||
	    (r = cell_nl_link_set(host, out->ifindex, &up, err)) < 0)
		return r;
	return bridge_sysctls(n, err);
}

/* eth0 inside: MAC, up, the lease's addresses, default routes via the gateway. */
static int inside_bridged(int netns_fd, const struct cell_network *n, const struct cell_lease *l,
			  struct cell_error *err)
{
	_cleanup_(cell_nl_closep) struct cell_nl *nl = NULL;
	struct cell_nl_link eth;
	unsigned char gw[16];
	int r;

	if ((r = cell_nl_open(&nl, netns_fd, err)) < 0 ||
	    (r = cell_nl_link_get(nl, CTR_IFNAME, &eth, err)) < 0)
		return r;
	struct cell_nl_link_change c = {.mac = l->mac, .up = true};
	if ((r = cell_nl_link_set(nl, eth.ifindex, &c, err)) < 0)
		return r;
	if (l->has4 &&
	    ((r = cell_nl_addr_add(nl, eth.ifindex, AF_INET, l->ip4, n->subnet4.prefix, err)) < 0 ||
	     (r = cell_cidr_host(&n->subnet4, 1, gw)) < 0 ||
	     (r = cell_nl_route_add(nl, AF_INET, NULL, 0, gw, eth.ifindex, err)) < 0))
		return r;
	if (l->has6 && ((r = cell_nl_addr_add(nl, eth.ifindex, AF_INET6, l->ip6, n->subnet6.prefix,
					      err)) < 0 ||
			(r = cell_cidr_host(&n->subnet6, 1, gw)) < 0 ||
			(r = cell_nl_route_add(nl, AF_INET6, NULL, 0, gw, eth.ifindex, err)) < 0))
		return r;
	return 0;
}

/* The host end on the bridge; a link of that name is a crash's (the name is
 * the container's own) and goes first. */
static int veth_on_bridge(struct cell_nl *host, const struct cell_network *n,
			  const struct cell_nl_link *br, const char *ifname, int netns_fd,
			  bool hairpin, struct cell_error *err)
{
	struct cell_error ignored = {0};
	struct cell_nl_link hl;
	int r;

	(void)cell_nl_link_del(host, ifname, &ignored);
	if ((r = cell_nl_veth_add(host, ifname, CTR_IFNAME, netns_fd, n->mtu, err)) < 0 ||
	    (r = cell_nl_link_get(host, ifname, &hl, err)) < 0)
		return r;
	struct cell_nl_link_change c = {.master = br->ifindex, .up = true};
	if ((r = cell_nl_link_set(host, hl.ifindex, &c, err)) < 0)
		return r;
	/* hairpin: the container may reach its own published ports through the host */
	struct cell_nl_brport flags = {.isolated = n->isolated, .hairpin = hairpin};
	return n->isolated || hairpin ? cell_nl_brport_set(host, hl.ifindex, &flags, err) : 0;
}

/* what the container got, for its resolver files */
static void fill_given(const struct cell_network *n, const struct cell_lease *l,
		       struct cell_net_given *out)
{
	unsigned char gw[16];

	*out = (struct cell_net_given){ 0 };
	(void)snprintf(out->network, sizeof(out->network), "%s", n->name);
	if (l->has4)
		cell_ip_format(AF_INET, l->ip4, out->ip4, sizeof(out->ip4));
	if (l->has6)
		cell_ip_format(AF_INET6, l->ip6, out->ip6, sizeof(out->ip6));
	if (n->has4 && cell_cidr_host(&n->subnet4, 1, gw) == 0)
		cell_ip_format(AF_INET, gw, out->dns, sizeof(out->dns));
	else if (n->has6 && cell_cidr_host(&n->subnet6, 1, gw) == 0)
		cell_ip_format(AF_INET6, gw, out->dns, sizeof(out->dns));
}

static int bridged_up(const struct cell_net_paths *p, struct cell_netreg *g, struct cell_nl *host,
		      const struct cell_net_want *w, int netns_fd, const char *ifname,
		      struct cell_net_given *given, struct cell_error *err)
{
	_cleanup_(cell_lease_clear) struct cell_lease l = {0};
	const struct cell_network *n = NULL;
	struct cell_nl_link br;
	int r;

	if ((r = cell_net_lease_locked(g, host, w, &l, err)) < 0 ||
	    (r = cell_netreg_save(g, err)) < 0 ||
	    (r = cell_net_network_for(g, host, l.network, &n, err)) < 0 ||
	    (r = cell_net_bridge_ensure(host, n, &br, err)) < 0 ||
	    (r = veth_on_bridge(host, n, &br, ifname, netns_fd, w->n_ports > 0, err)) < 0 ||
	    (r = inside_bridged(netns_fd, n, &l, err)) < 0)
		return r;
	struct cell_net_link_rec rec = {.store = (char *)w->store,
					.name = (char *)w->name,
					.network = n->name,
					.dns_name = (char *)w->dns_name,
					.ports = (struct cell_port *)w->ports,
					.n_ports = w->n_ports};
	(void)snprintf(rec.ifname, sizeof(rec.ifname), "%s", ifname);
	if ((r = cell_net_rec_write(p, &rec, err)) < 0)
		return r;
	if (given)
		fill_given(n, &l, given);
	return cell_net_sync(p, g, host, false, err);
}

static int bridge_up(const struct cell_net_paths *p, const struct cell_net_want *w, int netns_fd,
		     struct cell_net_given *given, struct cell_error *err)
{
	_cleanup_(cell_netreg_closep) struct cell_netreg *g = NULL;
	_cleanup_(cell_nl_closep) struct cell_nl *host = NULL;
	char ifname[CELL_IFNAMSIZ];
	int r;

	cell_net_host_ifname(w->store, w->name, ifname);
	if ((r = cell_net_registry(p, &g, err)) < 0 || (r = cell_nl_open(&host, -1, err)) < 0)
		return r;
	if ((r = bridged_up(p, g, host, w, netns_fd, ifname, given, err)) < 0) {
		struct cell_error ignored = {0};
		(void)cell_nl_link_del(host, ifname, &ignored);
		cell_net_rec_remove(p, ifname);
		(void)cell_net_sync(p, g, host, false, &ignored);
	}
	return r;
}

/* "ADDR/PREFIX" of a *vlan link */
static int vlan_addr(struct cell_nl *nl, int ifindex, const char *text, struct cell_error *err)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *slash = strchr(copy, '/');
	unsigned char addr[16];
	long long prefix = -1;
	int family = 0;

	if (slash)
		*slash++ = '\0';
	if (!slash || cell_ip_parse(copy, &family, addr) < 0 ||
	    cell_parse_long(slash, &prefix) < 0 || prefix < 1 ||
	    prefix > (family == AF_INET ? 32 : 128))
		return cell_errx(err, EINVAL, "ip \"%s\": want ADDRESS/PREFIX for a %s link", text,
				 "macvlan or ipvlan");
	return cell_nl_addr_add(nl, ifindex, family, addr, (unsigned)prefix, err);
}

static int vlan_up(const struct cell_net_want *w, int netns_fd, struct cell_error *err)
{
	_cleanup_(cell_nl_closep) struct cell_nl *host = NULL, *nl = NULL;
	const char *kind = w->kind == CELL_NET_MACVLAN ? "macvlan" : "ipvlan";
	struct cell_nl_link eth;
	unsigned char mac[6];
	int r;

	if ((r = cell_nl_open(&host, -1, err)) < 0 ||
	    (r = cell_nl_vlan_add(host, kind, CTR_IFNAME, w->arg, netns_fd, err)) < 0 ||
	    (r = cell_nl_open(&nl, netns_fd, err)) < 0 ||
	    (r = cell_nl_link_get(nl, CTR_IFNAME, &eth, err)) < 0)
		return r;
	if (w->mac && cell_mac_parse(w->mac, mac) < 0)
		return cell_errx(err, EINVAL, "mac \"%s\": not a unicast MAC", w->mac);
	struct cell_nl_link_change c = {.mac = w->mac ? mac : NULL, .up = true};
	if ((r = cell_nl_link_set(nl, eth.ifindex, &c, err)) < 0)
		return r;
	if (w->ip4 && (r = vlan_addr(nl, eth.ifindex, w->ip4, err)) < 0)
		return r;
	return w->ip6 ? vlan_addr(nl, eth.ifindex, w->ip6, err) : 0;
}

static int pasta_up(const struct cell_net_paths *p, const struct cell_net_want *w, int init,
		    struct cell_error *err)
{
	struct cell_pasta pa = { .pasta = p->pasta, .dir = w->ctr_run_dir, .init = init,
				 .ports = w->ports, .n_ports = w->n_ports };

	if (!w->ctr_run_dir)
		return cell_errx(err, EINVAL, "--net pasta: no runtime directory for its files");
	return cell_pasta_start(&pa, err);
}

int cell_net_up(const struct cell_net_paths *p, const struct cell_net_want *w, int netns_fd,
		int init, struct cell_net_given *given, struct cell_error *err)
{
	switch (w->kind) {
	case CELL_NET_PASTA:
		return pasta_up(p, w, init, err);
	case CELL_NET_BRIDGE:
		return bridge_up(p, w, netns_fd, given, err);
	case CELL_NET_MACVLAN:
	case CELL_NET_IPVLAN:
		return vlan_up(w, netns_fd, err);
	default:
		return 0;
	}
}

int cell_net_down(const struct cell_net_paths *p, const char *store, const char *name,
		  struct cell_error *err)
{
	_cleanup_(cell_netreg_closep) struct cell_netreg *g = NULL;
	_cleanup_(cell_nl_closep) struct cell_nl *host = NULL;
	char ifname[CELL_IFNAMSIZ];
	struct cell_error ignored = {0};
	int r;

	cell_net_host_ifname(store, name, ifname);
	_cleanup_free_ char *links = xasprintf("%s/links", p->run_dir);
	if (access(links, F_OK) < 0 && errno == ENOENT)
		return 0; /* no container was on a bridge since the host booted */
	if ((r = cell_net_registry(p, &g, err)) < 0 || (r = cell_nl_open(&host, -1, err)) < 0)
		return r;
	(void)cell_nl_link_del(host, ifname, &ignored);
	cell_net_rec_remove(p, ifname);
	return cell_net_sync(p, g, host, false, err);
}
