/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* network create | ls | inspect | rm */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cell.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"

#define NETWORK_USAGE                                                                              \
	"network create NAME [--subnet CIDR] [--ipv6 CIDR] [--isolated] [--mtu N]\n"               \
	"       network ls [--json] | network inspect NAME | network rm NAME\n"                    \
	"  a bridge (named as the network) with an IPv4 subnet (a free 10.66.N.0/24 when\n"        \
	"  --subnet is not given) and optionally an IPv6 one; the bridge, its DNS (dnsmasq)\n"     \
	"  and NAT exist while a container on it runs; --isolated: its containers reach\n"         \
	"  only the host (the gateway), not each other, not out"

static void cidr_text(bool has, const struct cell_cidr *c, char *buf, size_t len)
{
	if (has)
		cell_cidr_format(c, buf, len);
	else
		(void)snprintf(buf, len, "-");
}

static json_t *status_json(const struct cell_net_status *st)
{
	char v4[CELL_CIDR_STRLEN], v6[CELL_CIDR_STRLEN];

	cidr_text(st->net.has4, &st->net.subnet4, v4, sizeof(v4));
	cidr_text(st->net.has6, &st->net.subnet6, v6, sizeof(v6));
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:i, s:b, s:I, s:I, s:i}", "name", st->net.name,
			 "bridge", st->net.bridge, "subnet", st->net.has4 ? v4 : "", "subnet6",
			 st->net.has6 ? v6 : "", "isolated", st->net.isolated, "mtu",
			 (int)st->net.mtu, "active", st->active, "containers",
			 (json_int_t)st->n_leases, "running", (json_int_t)st->n_running,
			 "dnsmasq_pid", st->dnsmasq);
}

static void print_json(json_t *o)
{
	_cleanup_free_ char *t = json_dumps(o, JSON_INDENT(2));

	printf("%s\n", t);
	json_decref(o);
}

static int net_ls(struct cli *c, bool json, struct cell_error *err)
{
	struct cell_net_status *st = NULL;
	size_t n = 0;
	int r = cell_net_list(&c->st.net, NULL, &st, &n, err);

	if (r < 0)
		return r;
	json_t *arr = json_array();
	if (!json)
		printf("%-15s %-18s %-22s %-9s %-10s %s\n", "NAME", "SUBNET", "IPV6", "ISOLATED",
		       "CONTAINERS", "RUNNING");
	for (size_t i = 0; i < n; i++) {
		char v4[CELL_CIDR_STRLEN], v6[CELL_CIDR_STRLEN];
		cidr_text(st[i].net.has4, &st[i].net.subnet4, v4, sizeof(v4));
		cidr_text(st[i].net.has6, &st[i].net.subnet6, v6, sizeof(v6));
		if (json)
			json_array_append_new(arr, status_json(&st[i]));
		else
			printf("%-15s %-18s %-22s %-9s %-10zu %zu\n", st[i].net.name, v4, v6,
			       st[i].net.isolated ? "yes" : "no", st[i].n_leases, st[i].n_running);
	}
	if (json)
		print_json(arr);
	else
		json_decref(arr);
	cell_net_status_free(st, n);
	return 0;
}

static json_t *lease_json(const struct cell_lease *l)
{
	char v4[CELL_IP_STRLEN] = "", v6[CELL_IP_STRLEN] = "", mac[CELL_MAC_STRLEN];

	if (l->has4)
		cell_ip_format(AF_INET, l->ip4, v4, sizeof(v4));
	if (l->has6)
		cell_ip_format(AF_INET6, l->ip6, v6, sizeof(v6));
	cell_mac_format(l->mac, mac, sizeof(mac));
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "store", l->store, "name", l->name, "ipv4",
			 v4, "ipv6", v6, "mac", mac);
}

/* The network and the leases on it (every store's) */
static int net_inspect(struct cli *c, const char *name, struct cell_error *err)
{
	struct cell_net_status *st = NULL;
	struct cell_lease *leases = NULL;
	size_t n = 0, n_leases = 0;
	int r = cell_net_list(&c->st.net, name, &st, &n, err);

	if (r < 0 || (r = cell_net_leases_on(&c->st.net, name, &leases, &n_leases, err)) < 0) {
		cell_net_status_free(st, n);
		return r;
	}
	json_t *o = status_json(&st[0]), *arr = json_array();
	for (size_t i = 0; i < n_leases; i++) {
		json_array_append_new(arr, lease_json(&leases[i]));
		cell_lease_clear(&leases[i]);
	}
	json_object_set_new(o, "leases", arr);
	print_json(o);
	free(leases);
	cell_net_status_free(st, n);
	return 0;
}

static int parse_cidr(const char *text, int family, struct cell_cidr *out, struct cell_error *err)
{
	if (cell_cidr_parse(text, out) < 0 || out->family != family)
		return cell_errx(err, EINVAL,
				 "\"%s\": want an %s subnet with its host bits zero, such as %s",
				 text, family == AF_INET ? "IPv4" : "IPv6",
				 family == AF_INET ? "10.66.7.0/24" : "fd66:0:0:7::/64");
	return 0;
}

static int net_create(struct cli *c, struct cell_error *err)
{
	static const struct option opts[] = {
	    {"subnet", required_argument, NULL, 's'},
	    {"ipv6", required_argument, NULL, '6'},
	    {"isolated", no_argument, NULL, 'i'},
	    {"mtu", required_argument, NULL, 'm'},
	    {},
	};
	struct cell_network n = {0};
	long long mtu = 0;
	int o, r;

	while ((o = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		if (o == 's' && (r = parse_cidr(optarg, AF_INET, &n.subnet4, err)) < 0)
			return r;
		if (o == '6' && (r = parse_cidr(optarg, AF_INET6, &n.subnet6, err)) < 0)
			return r;
		if (o == 'm' && (cell_parse_long(optarg, &mtu) < 0 || mtu < 576 || mtu > 65535))
			return cell_errx(err, EINVAL, "--mtu %s: want 576 to 65535", optarg);
		if (o == '?')
			return cell_errx(err, EINVAL, "usage: cell %s", NETWORK_USAGE);
		n.has4 |= o == 's';
		n.has6 |= o == '6';
		n.isolated |= o == 'i';
	}
	if (c->argc - optind != 1)
		return cell_errx(err, EINVAL, "usage: cell %s", NETWORK_USAGE);
	n.name = n.bridge = c->argv[optind];
	n.mtu = (unsigned)mtu;
	return cell_net_create(&c->st.net, &n, err);
}

int cmd_network(struct cli *c, struct cell_error *err)
{
	bool json = c->json;
	int r;

	if (cli_help(c, NETWORK_USAGE))
		return 0;
	if (c->argc < 2)
		return cell_errx(err, EINVAL, "usage: cell %s", NETWORK_USAGE);
	const char *sub = c->argv[1];
	c->argc--;
	c->argv++;
	for (int i = 1; i < c->argc; i++)
		json |= streq(c->argv[i], "--json");
	if ((r = cli_store(c, err)) < 0)
		return r;
	if (streq(sub, "create"))
		return net_create(c, err);
	if (streq(sub, "ls") || streq(sub, "list"))
		return net_ls(c, json, err);
	if ((streq(sub, "inspect") || streq(sub, "rm")) && c->argc == 2)
		return streq(sub, "rm") ? cell_net_remove(&c->st.net, c->argv[1], err)
					: net_inspect(c, c->argv[1], err);
	return cell_errx(err, EINVAL, "usage: cell %s", NETWORK_USAGE);
}
