/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Networks and leases as `cell network` and create/destroy see them: the
 * registry (registry.c) plus the default network made on first use.
 */
#include "net-internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "dns.h"

int cell_net_registry(const struct cell_net_paths *p, struct cell_netreg **out,
		      struct cell_error *err)
{
	int r = cell_netreg_open(p->state_dir, out, err);

	if (r == 0 && p->alive)
		(void)cell_netreg_prune(*out, p->alive, p->alive_arg);
	return r;
}

/* The host's own IPv4 routes: a default subnet must not shadow one. */
static bool routed(const struct cell_cidr *c, const struct cell_nl_route *routes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct cell_cidr rc = {.family = AF_INET, .prefix = routes[i].dst_len};
		memcpy(rc.addr, routes[i].dst, 4);
		if (routes[i].dst_len > 0 && cell_cidr_overlap(c, &rc))
			return true;
	}
	return false;
}

/* Add n with the first of 10.66.0.0/24, 10.66.1.0/24, ... that no network
 * and no route of the host has. */
static int add_with_free_subnet(struct cell_netreg *g, struct cell_nl *host, struct cell_network *n,
				struct cell_error *err)
{
	_cleanup_free_ struct cell_nl_route *routes = NULL;
	size_t n_routes = 0;
	int r = cell_nl_routes(host, AF_INET, &routes, &n_routes, err);

	if (r < 0)
		return r;
	n->has4 = true;
	for (unsigned third = 0; third < 256; third++) {
		struct cell_error e = {0};
		n->subnet4 = (struct cell_cidr){
		    .family = AF_INET, .addr = {10, 66, (unsigned char)third, 0}, .prefix = 24};
		if (routed(&n->subnet4, routes, n_routes))
			continue;
		if ((r = cell_netreg_network_add(g, n, &e)) != -EADDRINUSE) {
			if (r < 0)
				*err = e;
			return r;
		}
	}
	return cell_errx(err, ENOSPC,
			 "network %s: no free subnet in 10.66.0.0/16: give one with --subnet CIDR",
			 n->name);
}

static int make_default(struct cell_netreg *g, struct cell_nl *host, struct cell_error *err)
{
	struct cell_network n = {.name = (char *)CELL_NET_DEFAULT,
				 .bridge = (char *)CELL_NET_DEFAULT};

	return add_with_free_subnet(g, host, &n, err);
}

int cell_net_network_for(struct cell_netreg *g, struct cell_nl *host, const char *name,
			 const struct cell_network **out, struct cell_error *err)
{
	const char *want = name ? name : CELL_NET_DEFAULT;
	int r;

	*out = cell_netreg_network(g, want);
	if (!*out && streq(want, CELL_NET_DEFAULT)) {
		if ((r = make_default(g, host, err)) < 0)
			return r;
		*out = cell_netreg_network(g, want);
	}
	if (!*out)
		return cell_errx(err, ENOENT,
				 "no network named \"%s\": make it with `cell network create %s`",
				 want, want);
	return 0;
}

static int parse_pin(const char *text, int family, unsigned char *addr, const char *what,
		     struct cell_error *err)
{
	int fam = 0;

	if (cell_ip_parse(text, &fam, addr) < 0 || fam != family)
		return cell_errx(err, EINVAL, "%s \"%s\": not an %s address", what, text,
				 family == AF_INET ? "IPv4" : "IPv6");
	return 0;
}

int cell_net_lease_locked(struct cell_netreg *g, struct cell_nl *host,
			  const struct cell_net_want *w, struct cell_lease *out,
			  struct cell_error *err)
{
	const struct cell_network *net = NULL;
	unsigned char ip4[16], ip6[16], mac[6];
	struct cell_lease_req req = {.store = w->store, .name = w->name};
	int r = cell_net_network_for(g, host, w->arg, &net, err);

	if (r < 0)
		return r;
	req.network = net->name;
	if (w->ip4 && (r = parse_pin(w->ip4, AF_INET, ip4, "ip", err)) < 0)
		return r;
	if (w->ip6 && (r = parse_pin(w->ip6, AF_INET6, ip6, "ip6", err)) < 0)
		return r;
	if (w->mac && cell_mac_parse(w->mac, mac) < 0)
		return cell_errx(err, EINVAL,
				 "mac \"%s\": want a unicast MAC such as 02:00:00:00:00:01",
				 w->mac);
	req.ip4 = w->ip4 ? ip4 : NULL;
	req.ip6 = w->ip6 ? ip6 : NULL;
	req.mac = w->mac ? mac : NULL;
	return cell_netreg_lease(g, &req, out, err);
}

int cell_net_lease(const struct cell_net_paths *p, const struct cell_net_want *w,
		   struct cell_lease *out, struct cell_error *err)
{
	_cleanup_(cell_netreg_closep) struct cell_netreg *g = NULL;
	_cleanup_(cell_nl_closep) struct cell_nl *host = NULL;
	struct cell_lease l = {0};
	int r;

	if (w->kind != CELL_NET_BRIDGE)
		return 0;
	if ((r = cell_net_registry(p, &g, err)) < 0 || (r = cell_nl_open(&host, -1, err)) < 0 ||
	    (r = cell_net_lease_locked(g, host, w, &l, err)) < 0 ||
	    (r = cell_netreg_save(g, err)) < 0) {
		cell_lease_clear(&l);
		return r;
	}
	if (out)
		*out = l;
	else
		cell_lease_clear(&l);
	return 0;
}

int cell_net_release(const struct cell_net_paths *p, const char *store, const char *name,
		     struct cell_error *err)
{
	_cleanup_(cell_netreg_closep) struct cell_netreg *g = NULL;
	int r = cell_net_registry(p, &g, err);

	if (r < 0)
		return r;
	cell_netreg_release(g, store, name);
	return cell_netreg_save(g, err);
}

static void lease_copy(const struct cell_lease *from, struct cell_lease *to)
{
	*to = *from;
	to->network = xstrdup(from->network);
	to->store = xstrdup(from->store);
	to->name = xstrdup(from->name);
}

int cell_net_lease_of(const struct cell_net_paths *p, const char *store, const char *name,
		      struct cell_lease *out, struct cell_error *err)
{
	_cleanup_(cell_netreg_closep) struct cell_netreg *g = NULL;
	int r = cell_netreg_open(p->state_dir, &g, err);
	const struct cell_lease *l;

	if (r < 0)
		return r;
	if (!(l = cell_netreg_find(g, store, name)))
		return -ENOENT;
	lease_copy(l, out);
	return 0;
}

int cell_net_create(const struct cell_net_paths *p, const struct cell_network *n,
		    struct cell_error *err)
{
	_cleanup_(cell_netreg_closep) struct cell_netreg *g = NULL;
	_cleanup_(cell_nl_closep) struct cell_nl *host = NULL;
	struct cell_network copy = *n;
	int r;

	if (!cell_net_name_valid(n->name))
		return cell_errx(
		    err, EINVAL,
		    "network name \"%s\": want [a-z0-9][a-z0-9_-]*, at most %d characters", n->name,
		    CELL_NET_NAME_MAX);
	if ((r = cell_net_registry(p, &g, err)) < 0)
		return r;
	if (cell_netreg_network(g, n->name))
		return cell_errx(err, EEXIST, "a network named \"%s\" exists already", n->name);
	if (!n->has4 && !n->has6) {
		if ((r = cell_nl_open(&host, -1, err)) == 0)
			r = add_with_free_subnet(g, host, &copy, err);
	} else
		r = cell_netreg_network_add(g, n, err);
	return r < 0 ? r : cell_netreg_save(g, err);
}

int cell_net_remove(const struct cell_net_paths *p, const char *name, struct cell_error *err)
{
	_cleanup_(cell_netreg_closep) struct cell_netreg *g = NULL;
	_cleanup_(cell_nl_closep) struct cell_nl *host = NULL;
	const struct cell_network *net;
	_cleanup_free_ char *bridge = NULL;
	struct cell_error ignored = {0};
	int r;

	if ((r = cell_net_registry(p, &g, err)) < 0)
		return r;
	if ((net = cell_netreg_network(g, name)))
		bridge = xstrdup(net->bridge);
	if ((r = cell_netreg_network_remove(g, name, err)) < 0)
		return r;
	/* no container holds a lease on it: a bridge or dnsmasq left is a crash's */
	if (cell_nl_open(&host, -1, &ignored) == 0)
		(void)cell_nl_link_del(host, bridge, &ignored);
	_cleanup_free_ char *dns = cell_net_dns_dir(p, name);
	(void)cell_dns_stop(dns, &ignored);
	return cell_netreg_save(g, err);
}

static size_t count_leases(const struct cell_netreg *g, const char *network)
{
	size_t n = 0, count = 0;
	const struct cell_lease *l = cell_netreg_leases(g, &n);

	for (size_t i = 0; i < n; i++)
		count += streq(l[i].network, network);
	return count;
}

static void status_fill(const struct cell_net_paths *p, const struct cell_netreg *g,
			const struct cell_network *net, const struct cell_nl_link *links,
			size_t n_links, struct cell_net_status *st)
{
	_cleanup_free_ char *dns = cell_net_dns_dir(p, net->name);

	st->net = *net;
	st->net.name = xstrdup(net->name);
	st->net.bridge = xstrdup(net->bridge);
	st->n_leases = count_leases(g, net->name);
	st->dnsmasq = (int)cell_dns_pid(dns);
	for (size_t i = 0; i < n_links; i++)
		if (streq(links[i].name, net->bridge)) {
			st->active = true;
			for (size_t j = 0; j < n_links; j++)
				st->n_running += links[j].master == links[i].ifindex;
		}
}

int cell_net_list(const struct cell_net_paths *p, const char *name, struct cell_net_status **out,
		  size_t *n, struct cell_error *err)
{
	_cleanup_(cell_netreg_closep) struct cell_netreg *g = NULL;
	_cleanup_(cell_nl_closep) struct cell_nl *host = NULL;
	_cleanup_free_ struct cell_nl_link *links = NULL;
	size_t n_nets = 0, n_links = 0, k = 0;
	const struct cell_network *nets;
	int r;

	if ((r = cell_netreg_open(p->state_dir, &g, err)) < 0 ||
	    (r = cell_nl_open(&host, -1, err)) < 0 ||
	    (r = cell_nl_links(host, &links, &n_links, err)) < 0)
		return r;
	nets = cell_netreg_networks(g, &n_nets);
	if (name && !cell_netreg_network(g, name))
		return cell_errx(err, ENOENT, "no network named \"%s\"", name);
	struct cell_net_status *st = xcalloc(n_nets ? n_nets : 1, sizeof(*st));
	for (size_t i = 0; i < n_nets; i++)
		if (!name || streq(nets[i].name, name))
			status_fill(p, g, &nets[i], links, n_links, &st[k++]);
	*out = st;
	*n = k;
	return 0;
}

void cell_net_status_free(struct cell_net_status *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		cell_network_clear(&s[i].net);
	free(s);
}

int cell_net_leases_on(const struct cell_net_paths *p, const char *network, struct cell_lease **out,
		       size_t *n, struct cell_error *err)
{
	_cleanup_(cell_netreg_closep) struct cell_netreg *g = NULL;
	size_t all = 0, k = 0;
	int r = cell_netreg_open(p->state_dir, &g, err);

	if (r < 0)
		return r;
	const struct cell_lease *l = cell_netreg_leases(g, &all);
	struct cell_lease *copy = xcalloc(all + 1, sizeof(*copy));
	for (size_t i = 0; i < all; i++)
		if (streq(l[i].network, network))
			lease_copy(&l[i], &copy[k++]);
	*out = copy;
	*n = k;
	return 0;
}
