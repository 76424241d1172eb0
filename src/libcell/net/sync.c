/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host side that follows from the running containers (net.h): records
 * of gone links dropped, a bridge without ports removed with its dnsmasq,
 * dnsmasq's files of each network in use, and table inet cell made from it
 * all.  Runs under the registry's lock.
 */
#include "net-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "dns.h"

struct view {
	struct cell_nl_link *links;
	size_t n_links;
	struct cell_net_link_rec *recs;
	size_t n_recs;
};

static void view_clear(struct view *v)
{
	free(v->links);
	cell_net_recs_free(v->recs, v->n_recs);
}

static const struct cell_nl_link *link_named(const struct view *v, const char *name)
{
	for (size_t i = 0; i < v->n_links; i++)
		if (streq(v->links[i].name, name))
			return &v->links[i];
	return NULL;
}

/* Records whose link is gone (the container stopped, or crashed) go. */
static void drop_stale(const struct cell_net_paths *p, struct view *v)
{
	size_t keep = 0;

	for (size_t i = 0; i < v->n_recs; i++) {
		if (link_named(v, v->recs[i].ifname)) {
			v->recs[keep++] = v->recs[i];
			continue;
		}
		cell_net_rec_remove(p, v->recs[i].ifname);
		cell_net_rec_clear(&v->recs[i]);
	}
	v->n_recs = keep;
}

static bool in_use(const struct view *v, const char *network)
{
	for (size_t i = 0; i < v->n_recs; i++)
		if (streq(v->recs[i].network, network))
			return true;
	return false;
}

static int view_read(const struct cell_net_paths *p, struct cell_nl *host, struct view *v,
		     struct cell_error *err)
{
	int r;

	memset(v, 0, sizeof(*v));
	if ((r = cell_nl_links(host, &v->links, &v->n_links, err)) < 0 ||
	    (r = cell_net_recs_read(p, &v->recs, &v->n_recs, err)) < 0)
		return r;
	drop_stale(p, v);
	return 0;
}

static void dns_host_of(const struct cell_netreg *g, const struct cell_net_link_rec *rec,
			struct cell_dns_host *h)
{
	const struct cell_lease *l = cell_netreg_find(g, rec->store, rec->name);

	memset(h, 0, sizeof(*h));
	h->name = rec->dns_name;
	if (!l)
		return;
	h->has4 = l->has4;
	h->has6 = l->has6;
	memcpy(h->ip4, l->ip4, sizeof(h->ip4));
	memcpy(h->ip6, l->ip6, sizeof(h->ip6));
	memcpy(h->mac, l->mac, sizeof(h->mac));
}

static int dns_sync(const struct cell_net_paths *p, const struct cell_netreg *g,
		    const struct view *v, const struct cell_network *net, struct cell_error *err)
{
	_cleanup_free_ char *dir = cell_net_dns_dir(p, net->name);
	_cleanup_free_ struct cell_dns_host *hosts = xcalloc(v->n_recs + 1, sizeof(*hosts));
	struct cell_dns_net d = {.network = net->name,
				 .bridge = net->bridge,
				 .rundir = dir,
				 .has4 = net->has4,
				 .has6 = net->has6,
				 .subnet4 = net->subnet4,
				 .subnet6 = net->subnet6,
				 .hosts = hosts};

	for (size_t i = 0; i < v->n_recs; i++)
		if (streq(v->recs[i].network, net->name))
			dns_host_of(g, &v->recs[i], &hosts[d.n_hosts++]);
	if ((net->has4 && cell_cidr_host(&net->subnet4, 1, d.gw4) < 0) ||
	    (net->has6 && cell_cidr_host(&net->subnet6, 1, d.gw6) < 0))
		return cell_errx(err, EINVAL, "network %s: no gateway address", net->name);
	return cell_dns_sync(&d, p->dnsmasq, err);
}

/* Without dnsmasq the network works, its names do not resolve: said, not fatal. */
static int dns_sync_or_warn(const struct cell_net_paths *p, const struct cell_netreg *g,
			    const struct view *v, const struct cell_network *net,
			    struct cell_error *err)
{
	struct cell_error e = {0};
	int r = dns_sync(p, g, v, net, &e);

	if (r == -ENOENT) {
		cell_warn("network %s: %s (containers on it get no DNS and no DHCP)", net->name,
			  e.msg);
		return 0;
	}
	if (r < 0)
		*err = e;
	return r;
}

/* A network without running containers: its bridge and dnsmasq go. */
static void retire(const struct cell_net_paths *p, struct cell_nl *host,
		   const struct cell_network *net, const struct view *v)
{
	_cleanup_free_ char *dir = cell_net_dns_dir(p, net->name);
	struct cell_error ignored = {0};

	if (link_named(v, net->bridge))
		(void)cell_nl_link_del(host, net->bridge, &ignored);
	if (access(dir, F_OK) == 0)
		(void)cell_dns_stop(dir, &ignored);
}

static void nft_add_ports(const struct cell_netreg *g, const struct cell_net_link_rec *rec,
			  const struct cell_network *net, struct cell_nft_port **ports, size_t *n)
{
	const struct cell_lease *l = cell_netreg_find(g, rec->store, rec->name);

	for (size_t i = 0; l && i < rec->n_ports; i++) {
		*ports = xrealloc(*ports, (*n + 1) * sizeof(**ports));
		struct cell_nft_port *np = &(*ports)[(*n)++];
		*np = (struct cell_nft_port){
		    .port = rec->ports[i], .bridge = net->bridge, .has4 = l->has4, .has6 = l->has6};
		memcpy(np->ctr_ip4, l->ip4, sizeof(np->ctr_ip4));
		memcpy(np->ctr_ip6, l->ip6, sizeof(np->ctr_ip6));
	}
}

/* The table's script for what runs now. */
static char *nft_script_of(const struct cell_netreg *g, const struct view *v)
{
	size_t n_nets = 0, n_used = 0, n_ports = 0;
	const struct cell_network *nets = cell_netreg_networks(g, &n_nets);
	_cleanup_free_ struct cell_nft_net *used = xcalloc(n_nets + 1, sizeof(*used));
	_cleanup_free_ struct cell_nft_port *ports = NULL;

	for (size_t i = 0; i < n_nets; i++) {
		if (!in_use(v, nets[i].name))
			continue;
		used[n_used++] = (struct cell_nft_net){.bridge = nets[i].bridge,
						       .has4 = nets[i].has4,
						       .has6 = nets[i].has6,
						       .subnet4 = nets[i].subnet4,
						       .subnet6 = nets[i].subnet6,
						       .isolated = nets[i].isolated};
		for (size_t j = 0; j < v->n_recs; j++)
			if (streq(v->recs[j].network, nets[i].name))
				nft_add_ports(g, &v->recs[j], &nets[i], &ports, &n_ports);
	}
	struct cell_nft_input in = {
	    .nets = used, .n_nets = n_used, .ports = ports, .n_ports = n_ports};
	return cell_nft_script(&in);
}

/* Applied when it differs from the last one applied (<run>/nft.script), or
 * when forced; with nothing of ours applied and nothing to apply, nothing
 * runs. */
static int nft_sync(const struct cell_net_paths *p, const struct cell_netreg *g,
		    const struct view *v, bool force, struct cell_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/nft.script", p->run_dir);
	_cleanup_free_ char *script = nft_script_of(g, v), *last = NULL;
	bool had = cell_read_file(path, &last, NULL) == 0;
	int r;

	if ((had && streq(last, script) && !force) || (!had && v->n_recs == 0))
		return 0;
	if ((r = cell_nft_apply(script, err)) < 0)
		return r;
	if (v->n_recs == 0) {
		(void)unlink(path);
		return 0;
	}
	r = cell_write_file_replace(path, script, strlen(script), 0600, false);
	return r < 0 ? cell_err(err, r, "write %s", path) : 0;
}

int cell_net_sync(const struct cell_net_paths *p, struct cell_netreg *g, struct cell_nl *host,
		  bool force, struct cell_error *err)
{
	struct view v;
	size_t n_nets = 0;
	const struct cell_network *nets = cell_netreg_networks(g, &n_nets);
	int r = view_read(p, host, &v, err);

	for (size_t i = 0; r == 0 && i < n_nets; i++) {
		if (!in_use(&v, nets[i].name))
			retire(p, host, &nets[i], &v);
		else
			r = dns_sync_or_warn(p, g, &v, &nets[i], err);
	}
	if (r == 0)
		r = nft_sync(p, g, &v, force, err);
	view_clear(&v);
	return r;
}
