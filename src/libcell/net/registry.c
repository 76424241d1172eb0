/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry is read into arrays of struct cell_network and struct
 * cell_lease when it is opened and written back whole on save: every entry
 * is validated once, on load, and a damaged entry stops the load with its
 * index (dropping it would free an address a container still uses).
 */
#include "registry.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/lockfile.h"
#include "../base/util.h"

#define WHAT "network registry"

struct cell_netreg {
	char *path;
	int lock_fd;
	bool changed;
	struct cell_network *nets;
	size_t n_nets;
	struct cell_lease *leases;
	size_t n_leases;
};

bool cell_net_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CELL_NET_NAME_MAX || name[0] == '-' || name[0] == '_')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* A link name the kernel takes (net/core/dev.c dev_valid_name). */
static bool ifname_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= CELL_NET_NAME_MAX && !streq(name, ".") && !streq(name, "..") &&
	       strcspn(name, "/: \t\n") == n;
}

void cell_lease_clear(struct cell_lease *l)
{
	free(l->network);
	free(l->store);
	free(l->name);
	*l = (struct cell_lease){0};
}

void cell_network_clear(struct cell_network *n)
{
	free(n->name);
	free(n->bridge);
	*n = (struct cell_network){0};
}

static void lease_copy(struct cell_lease *dst, const struct cell_lease *src)
{
	*dst = *src;
	dst->network = xstrdup(src->network);
	dst->store = xstrdup(src->store);
	dst->name = xstrdup(src->name);
}

static void network_copy(struct cell_network *dst, const struct cell_network *src)
{
	*dst = *src;
	dst->name = xstrdup(src->name);
	dst->bridge = xstrdup(src->bridge ? src->bridge : src->name);
}

void cell_netreg_close(struct cell_netreg *g)
{
	for (size_t i = 0; i < g->n_nets; i++)
		cell_network_clear(&g->nets[i]);
	for (size_t i = 0; i < g->n_leases; i++)
		cell_lease_clear(&g->leases[i]);
	free(g->nets);
	free(g->leases);
	if (g->lock_fd >= 0)
		(void)close(g->lock_fd);
	free(g->path);
	free(g);
}

static int check_new_network(const struct cell_netreg *g, const struct cell_network *n,
			     const char *bridge, struct cell_error *err);
static struct cell_lease *lease_find(const struct cell_netreg *g, const char *store,
				     const char *name);

/* ---- loading ---- */

static const char *json_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* for messages: "?" when there is no such string */
static const char *json_str_or(json_t *o, const char *key)
{
	const char *v = json_str(o, key);

	return v ? v : "?";
}

/* An optional "key": absent is fine, present must parse in family. */
static bool load_cidr(json_t *o, const char *key, int family, bool *has, struct cell_cidr *c)
{
	json_t *v = json_object_get(o, key);

	*has = v != NULL;
	if (!v)
		return true;
	return json_is_string(v) && cell_cidr_parse(json_string_value(v), c) == 0 &&
	       c->family == family;
}

static bool load_ip(json_t *o, const char *key, int family, bool *has, unsigned char ip[16])
{
	json_t *v = json_object_get(o, key);
	int f = 0;

	*has = v != NULL;
	if (!v)
		return true;
	return json_is_string(v) && cell_ip_parse(json_string_value(v), &f, ip) == 0 && f == family;
}

/* NULL, or what is wrong with the entry */
static const char *load_network(json_t *e, struct cell_network *n)
{
	const char *name = json_str(e, "name"), *bridge = json_str(e, "bridge");
	json_t *iso = json_object_get(e, "isolated"), *mtu = json_object_get(e, "mtu");

	if (!name || !cell_net_name_valid(name))
		return "no valid \"name\"";
	if (!bridge || !ifname_valid(bridge))
		return "no valid \"bridge\"";
	if (!load_cidr(e, "subnet", AF_INET, &n->has4, &n->subnet4) ||
	    !load_cidr(e, "subnet6", AF_INET6, &n->has6, &n->subnet6) || !(n->has4 || n->has6))
		return "want a valid \"subnet\" (IPv4) or \"subnet6\" (IPv6)";
	if ((iso && !json_is_boolean(iso)) ||
	    (mtu && (!json_is_integer(mtu) || json_integer_value(mtu) < 0 ||
		     json_integer_value(mtu) > 65535)))
		return "\"isolated\" is no boolean or \"mtu\" no number up to 65535";
	n->isolated = json_is_true(iso);
	n->mtu = mtu ? (unsigned)json_integer_value(mtu) : 0;
	n->name = xstrdup(name);
	n->bridge = xstrdup(bridge);
	return NULL;
}

static const char *load_lease(json_t *e, struct cell_lease *l)
{
	const char *net = json_str(e, "network"), *store = json_str(e, "store"),
		   *name = json_str(e, "name"), *mac = json_str(e, "mac");

	if (!net || !store || !name || !*store || !*name)
		return "want \"network\", \"store\" and \"name\"";
	if (!mac || cell_mac_parse(mac, l->mac) < 0)
		return "no valid \"mac\"";
	if (!load_ip(e, "ipv4", AF_INET, &l->has4, l->ip4) ||
	    !load_ip(e, "ipv6", AF_INET6, &l->has6, l->ip6))
		return "\"ipv4\" or \"ipv6\" is no address of its family";
	l->network = xstrdup(net);
	l->store = xstrdup(store);
	l->name = xstrdup(name);
	return NULL;
}

static int load_networks(struct cell_netreg *g, json_t *a, struct cell_error *err)
{
	size_t i;
	json_t *e;

	g->nets = xcalloc(json_array_size(a) + 1, sizeof(*g->nets));
	json_array_foreach(a, i, e)
	{
		struct cell_error clash = {0};
		const char *why = load_network(e, &g->nets[i]);
		/* what network_add refuses: a name, a bridge or a subnet twice */
		if (!why && check_new_network(g, &g->nets[i], g->nets[i].bridge, &clash) < 0) {
			cell_network_clear(&g->nets[i]);
			why = clash.msg;
		}
		if (why)
			return cell_errx(err, EINVAL, "%s %s: networks[%zu]: %s (repair it)", WHAT,
					 g->path, i, why);
		g->n_nets++;
	}
	return 0;
}

/* NULL, or why l does not fit the network it names */
static const char *lease_misfit(const struct cell_netreg *g, const struct cell_lease *l)
{
	const struct cell_network *n = cell_netreg_network(g, l->network);

	if (!n)
		return "its \"network\" is none of \"networks\"";
	if (lease_find(g, l->store, l->name) != l)
		return "a second lease of this container";
	if (l->has4 && !(n->has4 && cell_cidr_contains(&n->subnet4, AF_INET, l->ip4)))
		return "its \"ipv4\" is outside its network's \"subnet\"";
	if (l->has6 && !(n->has6 && cell_cidr_contains(&n->subnet6, AF_INET6, l->ip6)))
		return "its \"ipv6\" is outside its network's \"subnet6\"";
	return NULL;
}

static int load_leases(struct cell_netreg *g, json_t *a, struct cell_error *err)
{
	size_t i;
	json_t *e;

	g->leases = xcalloc(json_array_size(a) + 1, sizeof(*g->leases));
	json_array_foreach(a, i, e)
	{
		const char *why = load_lease(e, &g->leases[i]);
		if (!why) /* counted: freed with g */
			why = lease_misfit(g, &g->leases[g->n_leases++]);
		if (why)
			return cell_errx(err, EINVAL, "%s %s: leases[%zu] (%s/%s): %s (repair it)",
					 WHAT, g->path, i, json_str_or(e, "store"),
					 json_str_or(e, "name"), why);
	}
	return 0;
}

static int load_root(struct cell_netreg *g, json_t *root, struct cell_error *err)
{
	json_t *nets = json_object_get(root, "networks"), *leases = json_object_get(root, "leases");
	int r;

	if (!json_is_object(root) || (nets && !json_is_array(nets)) ||
	    (leases && !json_is_array(leases)))
		return cell_errx(err, EINVAL,
				 "%s %s: want an object with \"networks\" and \"leases\" arrays "
				 "(repair it)",
				 WHAT, g->path);
	if ((r = load_networks(g, nets, err)) < 0)
		return r;
	return load_leases(g, leases, err);
}

int cell_netreg_open(const char *dir, struct cell_netreg **out, struct cell_error *err)
{
	_cleanup_(cell_netreg_closep) struct cell_netreg *g = xzalloc(sizeof(*g));
	json_t *root = NULL;
	int r;

	g->lock_fd = -1;
	g->path = xasprintf("%s/networks.json", dir);
	if ((r = cell_locked_json_load(WHAT, g->path, &g->lock_fd, &root, err)) < 0)
		return r;
	if (!root)
		root = json_object();
	r = load_root(g, root, err);
	json_decref(root);
	if (r < 0)
		return r;
	*out = TAKE_PTR(g);
	return 0;
}

/* ---- saving ---- */

static void set_cidr(json_t *o, const char *key, bool has, const struct cell_cidr *c)
{
	char buf[CELL_CIDR_STRLEN];

	if (!has)
		return;
	cell_cidr_format(c, buf, sizeof(buf));
	(void)json_object_set_new(o, key, json_string(buf));
}

static void set_ip(json_t *o, const char *key, bool has, int family, const unsigned char *ip)
{
	char buf[CELL_IP_STRLEN];

	if (!has)
		return;
	cell_ip_format(family, ip, buf, sizeof(buf));
	(void)json_object_set_new(o, key, json_string(buf));
}

static json_t *network_json(const struct cell_network *n)
{
	json_t *o = json_pack("{s:s, s:s}", "name", n->name, "bridge", n->bridge);

	set_cidr(o, "subnet", n->has4, &n->subnet4);
	set_cidr(o, "subnet6", n->has6, &n->subnet6);
	(void)json_object_set_new(o, "isolated", json_boolean(n->isolated));
	(void)json_object_set_new(o, "mtu", json_integer(n->mtu));
	return o;
}

static json_t *lease_json(const struct cell_lease *l)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:s}", "network", l->network, "store", l->store, "name", l->name);
	char mac[CELL_MAC_STRLEN];

	set_ip(o, "ipv4", l->has4, AF_INET, l->ip4);
	set_ip(o, "ipv6", l->has6, AF_INET6, l->ip6);
	cell_mac_format(l->mac, mac, sizeof(mac));
	(void)json_object_set_new(o, "mac", json_string(mac));
	return o;
}

int cell_netreg_save(struct cell_netreg *g, struct cell_error *err)
{
	json_t *nets, *leases, *root;
	int r;

	if (!g->changed)
		return 0;
	nets = json_array();
	leases = json_array();
	for (size_t i = 0; i < g->n_nets; i++)
		(void)json_array_append_new(nets, network_json(&g->nets[i]));
	for (size_t i = 0; i < g->n_leases; i++)
		(void)json_array_append_new(leases, lease_json(&g->leases[i]));
	root = json_pack("{s:o, s:o}", "networks", nets, "leases", leases);
	r = cell_json_save_atomic(WHAT, g->path, root, err);
	json_decref(root);
	if (r == 0)
		g->changed = false;
	return r;
}

/* ---- networks ---- */

const struct cell_network *cell_netreg_network(const struct cell_netreg *g, const char *name)
{
	for (size_t i = 0; i < g->n_nets; i++)
		if (streq(g->nets[i].name, name))
			return &g->nets[i];
	return NULL;
}

const struct cell_network *cell_netreg_networks(const struct cell_netreg *g, size_t *n)
{
	*n = g->n_nets;
	return g->nets;
}

/* -EADDRINUSE when one of n's subnets overlaps one of o's (of its family) */
static int check_overlap(const struct cell_network *n, const struct cell_network *o,
			 struct cell_error *err)
{
	char mine[CELL_CIDR_STRLEN], theirs[CELL_CIDR_STRLEN];
	const struct cell_cidr *a = NULL, *b = NULL;

	if (n->has4 && o->has4 && cell_cidr_overlap(&n->subnet4, &o->subnet4))
		a = &n->subnet4, b = &o->subnet4;
	else if (n->has6 && o->has6 && cell_cidr_overlap(&n->subnet6, &o->subnet6))
		a = &n->subnet6, b = &o->subnet6;
	if (!a)
		return 0;
	cell_cidr_format(a, mine, sizeof(mine));
	cell_cidr_format(b, theirs, sizeof(theirs));
	return cell_errx(err, EADDRINUSE, "subnet %s overlaps %s of network \"%s\"", mine, theirs,
			 o->name);
}

static int check_new_network(const struct cell_netreg *g, const struct cell_network *n,
			     const char *bridge, struct cell_error *err)
{
	int r;

	if (!cell_net_name_valid(n->name))
		return cell_errx(
		    err, EINVAL,
		    "invalid network name \"%s\" (want [a-z0-9][a-z0-9_-]*, at most %d)", n->name,
		    CELL_NET_NAME_MAX);
	if (!ifname_valid(bridge))
		return cell_errx(err, EINVAL, "invalid bridge name \"%s\"", bridge);
	if ((n->has4 && n->subnet4.family != AF_INET) ||
	    (n->has6 && n->subnet6.family != AF_INET6) || !(n->has4 || n->has6))
		return cell_errx(err, EINVAL, "network \"%s\" wants an IPv4 or an IPv6 subnet",
				 n->name);
	for (size_t i = 0; i < g->n_nets; i++) {
		const struct cell_network *o = &g->nets[i];
		if (streq(o->name, n->name))
			return cell_errx(err, EEXIST, "network \"%s\" exists already", n->name);
		if (streq(o->bridge, bridge))
			return cell_errx(err, EEXIST, "bridge \"%s\" is network \"%s\"'s already",
					 bridge, o->name);
		if ((r = check_overlap(n, o, err)) < 0)
			return r;
	}
	return 0;
}

int cell_netreg_network_add(struct cell_netreg *g, const struct cell_network *n,
			    struct cell_error *err)
{
	int r = check_new_network(g, n, n->bridge ? n->bridge : n->name, err);

	if (r < 0)
		return r;
	g->nets = xrealloc(g->nets, (g->n_nets + 1) * sizeof(*g->nets));
	network_copy(&g->nets[g->n_nets++], n);
	g->changed = true;
	return 0;
}

/* "store/name, store/name" of the leases on network, at most len bytes */
static void holders(const struct cell_netreg *g, const char *network, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < g->n_leases && used < len; i++) {
		const struct cell_lease *l = &g->leases[i];
		if (!streq(l->network, network))
			continue;
		int w = snprintf(buf + used, len - used, "%s%s/%s", used ? ", " : "", l->store,
				 l->name);
		used += w > 0 ? (size_t)w : 0;
	}
}

int cell_netreg_network_remove(struct cell_netreg *g, const char *name, struct cell_error *err)
{
	const struct cell_network *n = cell_netreg_network(g, name);
	char who[CELL_ERROR_MSG];
	size_t i;

	if (!n)
		return cell_errx(err, ENOENT, "network \"%s\" does not exist", name);
	holders(g, name, who, sizeof(who));
	if (who[0])
		return cell_errx(err, EBUSY, "network \"%s\" is in use by %s", name, who);
	i = (size_t)(n - g->nets);
	cell_network_clear(&g->nets[i]);
	memmove(&g->nets[i], &g->nets[i + 1], (g->n_nets - i - 1) * sizeof(*g->nets));
	g->n_nets--;
	g->changed = true;
	return 0;
}

/* ---- leases ---- */

static struct cell_lease *lease_find(const struct cell_netreg *g, const char *store,
				     const char *name)
{
	for (size_t i = 0; i < g->n_leases; i++)
		if (streq(g->leases[i].store, store) && streq(g->leases[i].name, name))
			return &g->leases[i];
	return NULL;
}

const struct cell_lease *cell_netreg_find(const struct cell_netreg *g, const char *store,
					  const char *name)
{
	return lease_find(g, store, name);
}

const struct cell_lease *cell_netreg_leases(const struct cell_netreg *g, size_t *n)
{
	*n = g->n_leases;
	return g->leases;
}

static void lease_drop(struct cell_netreg *g, size_t i)
{
	cell_lease_clear(&g->leases[i]);
	memmove(&g->leases[i], &g->leases[i + 1], (g->n_leases - i - 1) * sizeof(*g->leases));
	g->n_leases--;
	g->changed = true;
}

void cell_netreg_release(struct cell_netreg *g, const char *store, const char *name)
{
	const struct cell_lease *l = cell_netreg_find(g, store, name);

	if (l)
		lease_drop(g, (size_t)(l - g->leases));
}

size_t cell_netreg_prune(struct cell_netreg *g,
			 bool (*alive)(const char *store, const char *name, void *arg), void *arg)
{
	size_t gone = 0;

	for (size_t i = g->n_leases; i-- > 0;)
		if (!alive(g->leases[i].store, g->leases[i].name, arg)) {
			lease_drop(g, i);
			gone++;
		}
	return gone;
}

static bool lease_has(const struct cell_lease *l, int family)
{
	return family == AF_INET6 ? l->has6 : l->has4;
}

static const unsigned char *lease_ip(const struct cell_lease *l, int family)
{
	return family == AF_INET6 ? l->ip6 : l->ip4;
}

/* The others' lease on the network holding addr (of subnet's family), or NULL. */
static const struct cell_lease *addr_holder(const struct cell_netreg *g, const char *network,
					    const struct cell_cidr *subnet,
					    const unsigned char *addr,
					    const struct cell_lease *self)
{
	int f = subnet->family;

	for (size_t i = 0; i < g->n_leases; i++) {
		const struct cell_lease *l = &g->leases[i];
		if (l != self && streq(l->network, network) && lease_has(l, f) &&
		    memcmp(lease_ip(l, f), addr, cell_ip_len(f)) == 0)
			return l;
	}
	return NULL;
}

/* Neither the network address nor (IPv4) the broadcast nor the gateway. */
static bool container_host(const struct cell_cidr *c, const unsigned char *addr)
{
	unsigned char gw[16];
	uint32_t a, hostmask;

	if (!cell_cidr_contains(c, c->family, addr) || cell_cidr_host(c, 1, gw) < 0 ||
	    memcmp(gw, addr, cell_ip_len(c->family)) == 0 ||
	    memcmp(c->addr, addr, cell_ip_len(c->family)) == 0)
		return false;
	if (c->family != AF_INET)
		return true;
	a = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 | addr[3];
	hostmask = c->prefix == 0 ? UINT32_MAX : (UINT32_C(1) << (32 - c->prefix)) - 1;
	return (a & hostmask) != hostmask;
}

static int check_pinned(const struct cell_netreg *g, const char *network,
			const struct cell_cidr *subnet, const unsigned char *addr,
			const struct cell_lease *self, struct cell_error *err)
{
	char ip[CELL_IP_STRLEN], net[CELL_CIDR_STRLEN];
	const struct cell_lease *h;
	int f = subnet->family;

	cell_ip_format(f, addr, ip, sizeof(ip));
	cell_cidr_format(subnet, net, sizeof(net));
	if (!container_host(subnet, addr))
		return cell_errx(err, EINVAL,
				 "address %s is no container's in %s (outside, or its network, "
				 "broadcast or gateway address)",
				 ip, net);
	if ((h = addr_holder(g, network, subnet, addr, self)))
		return cell_errx(err, EADDRINUSE, "address %s on network \"%s\" is %s/%s's", ip,
				 network, h->store, h->name);
	return 0;
}

static int pick_addr(const struct cell_netreg *g, const char *network,
		     const struct cell_cidr *subnet, const struct cell_lease *self,
		     unsigned char out[16], struct cell_error *err)
{
	_cleanup_free_ unsigned char(*used)[16] = xcalloc(g->n_leases + 1, sizeof(*used));
	char net[CELL_CIDR_STRLEN];
	int f = subnet->family;
	size_t n = 0;

	for (size_t i = 0; i < g->n_leases; i++) {
		const struct cell_lease *l = &g->leases[i];
		if (l != self && streq(l->network, network) && lease_has(l, f))
			memcpy(used[n++], lease_ip(l, f), 16);
	}
	if (cell_ipam_pick(subnet, (const unsigned char(*)[16])used, n, out) == 0)
		return 0;
	cell_cidr_format(subnet, net, sizeof(net));
	return cell_errx(err, ENOSPC, "network \"%s\": no free address in %s", network, net);
}

/* An address in subnet for want: pinned, else cur's when it is on this
 * network, else the lowest free one. */
static int lease_addr(const struct cell_netreg *g, const struct cell_cidr *subnet,
		      const unsigned char *pinned, const struct cell_lease *cur,
		      struct cell_lease *want, struct cell_error *err)
{
	int f = subnet->family;
	unsigned char *out = f == AF_INET6 ? want->ip6 : want->ip4;
	int r;

	if (pinned) {
		if ((r = check_pinned(g, want->network, subnet, pinned, cur, err)) < 0)
			return r;
		memcpy(out, pinned, cell_ip_len(f));
		return 0;
	}
	if (cur && streq(cur->network, want->network) && lease_has(cur, f)) {
		memcpy(out, lease_ip(cur, f), 16);
		return 0;
	}
	return pick_addr(g, want->network, subnet, cur, out, err);
}

static int lease_mac(const struct cell_netreg *g, const struct cell_lease_req *req,
		     const struct cell_lease *cur, struct cell_lease *want, struct cell_error *err)
{
	static const unsigned char zero[6];
	char mac[CELL_MAC_STRLEN];

	if (!req->mac) {
		if (cur && streq(cur->network, req->network)) {
			memcpy(want->mac, cur->mac, 6);
		} else {
			_cleanup_free_ char *seed = xasprintf("%s/%s", req->store, req->name);
			cell_mac_from_seed(seed, want->mac);
		}
		return 0;
	}
	cell_mac_format(req->mac, mac, sizeof(mac));
	if ((req->mac[0] & 1) || memcmp(req->mac, zero, 6) == 0)
		return cell_errx(err, EINVAL, "MAC %s is no unicast address", mac);
	for (size_t i = 0; i < g->n_leases; i++)
		if (&g->leases[i] != cur && memcmp(g->leases[i].mac, req->mac, 6) == 0)
			return cell_errx(err, EADDRINUSE, "MAC %s is %s/%s's", mac,
					 g->leases[i].store, g->leases[i].name);
	memcpy(want->mac, req->mac, 6);
	return 0;
}

/* The lease req asks for, in want (whose strings are req's, not copies). */
static int lease_build(const struct cell_netreg *g, const struct cell_network *net,
		       const struct cell_lease_req *req, const struct cell_lease *cur,
		       struct cell_lease *want, struct cell_error *err)
{
	int r;

	*want = (struct cell_lease){.network = (char *)req->network,
				    .store = (char *)req->store,
				    .name = (char *)req->name,
				    .has4 = net->has4,
				    .has6 = net->has6};
	if ((req->ip4 && !net->has4) || (req->ip6 && !net->has6))
		return cell_errx(err, EINVAL,
				 "network \"%s\" has no IPv%c subnet for the pinned address",
				 net->name, req->ip4 && !net->has4 ? '4' : '6');
	if (net->has4 && (r = lease_addr(g, &net->subnet4, req->ip4, cur, want, err)) < 0)
		return r;
	if (net->has6 && (r = lease_addr(g, &net->subnet6, req->ip6, cur, want, err)) < 0)
		return r;
	return lease_mac(g, req, cur, want, err);
}

static bool lease_equal(const struct cell_lease *a, const struct cell_lease *b)
{
	return streq(a->network, b->network) && a->has4 == b->has4 && a->has6 == b->has6 &&
	       (!a->has4 || memcmp(a->ip4, b->ip4, 4) == 0) &&
	       (!a->has6 || memcmp(a->ip6, b->ip6, 16) == 0) && memcmp(a->mac, b->mac, 6) == 0;
}

/* want in cur's place, or in a new one */
static void lease_put(struct cell_netreg *g, struct cell_lease *cur, const struct cell_lease *want)
{
	struct cell_lease copy;

	/* copied before cur is cleared: want's strings may be cur's */
	lease_copy(&copy, want);
	if (cur) {
		cell_lease_clear(cur);
	} else {
		g->leases = xrealloc(g->leases, (g->n_leases + 1) * sizeof(*g->leases));
		cur = &g->leases[g->n_leases++];
	}
	*cur = copy;
	g->changed = true;
}

int cell_netreg_lease(struct cell_netreg *g, const struct cell_lease_req *req,
		      struct cell_lease *out, struct cell_error *err)
{
	const struct cell_network *net = cell_netreg_network(g, req->network);
	struct cell_lease *cur = lease_find(g, req->store, req->name);
	struct cell_lease want;
	int r;

	if (!net)
		return cell_errx(err, ENOENT, "network \"%s\" does not exist", req->network);
	if (!*req->store || !*req->name)
		return cell_errx(err, EINVAL, "a lease wants a store and a name");
	if ((r = lease_build(g, net, req, cur, &want, err)) < 0)
		return r;
	lease_copy(out, &want);
	if (!cur || !lease_equal(cur, &want))
		lease_put(g, cur, &want);
	return 0;
}
