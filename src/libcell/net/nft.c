/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * table inet cell as one nft script, and its replacement through libnftables.
 *
 * The script is one file, so libnftables sends it as one netlink batch: the
 * old table goes and the new one comes in one transaction, and a script that
 * fails leaves the old table as it was.  "table inet cell {}" first makes the
 * table when there is none, so that the "delete" after it never fails.
 *
 * What the rules rely on (the caller's part):
 *   - localhost publishing (127.0.0.1:8080 -> a container) routes packets with
 *     a 127.0.0.0/8 source out of the bridge, which the kernel allows only
 *     with net.ipv4.conf.<bridge>.route_localnet=1; postrouting then
 *     masquerades them to the gateway address.  IPv6 has no such switch: a
 *     port published on [::1] does not reach the container.
 *   - hairpin (a container reaching its own published port through a host
 *     address): where br_netfilter is on (bridge-nf-call-iptables=1), the
 *     DNAT is done as the bridge receives the frame, which then goes back out
 *     of the port it came in by: that port needs hairpin mode
 *     (IFLA_BRPORT_MODE).  A container reaching another's port needs nothing.
 *   - an isolated network's containers reach each other neither over the
 *     bridge (the caller makes its ports isolated, IFLA_BRPORT_ISOLATED) nor
 *     routed through the gateway (dropped here); they reach the gateway only.
 *     Their published ports are not set up either: gateway only means no
 *     traffic in from outside at all.
 *
 * The forward chain's policy is accept: traffic that is not to or from our
 * bridges is not ours to judge.  Its accepts do not override another table's
 * drop (every base chain of a hook sees the packet; any drop is final), so a
 * host whose own forward policy drops (docker's iptables, say) needs its own
 * rule for our bridges.
 */
#include "nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "../base/cleanup.h"
#include "../base/util.h"


/* Interface names go into the script between quotes: only what a link name
 * of ours can hold, so no input ever ends a string or a statement. */
static bool ifname_safe(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 15)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-.") == n;
}

/* "ip" or "ip6": the nft keyword of a family. */
static const char *fam_kw(int family)
{
	return family == AF_INET6 ? "ip6" : "ip";
}

static void cidr_str(const struct cell_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		a[0] = '\0';
	(void)snprintf(buf, len, "%s/%u", a, c->prefix);
}

static void ip_str(int family, const unsigned char *addr, char *buf, size_t len)
{
	if (!inet_ntop(family, addr, buf, (socklen_t)len))
		buf[0] = '\0';
}

static const struct cell_nft_net *net_of(const struct cell_nft_input *in, const char *bridge)
{
	for (size_t i = 0; i < in->n_nets; i++)
		if (streq(in->nets[i].bridge, bridge))
			return &in->nets[i];
	return NULL;
}

/* Outbound NAT and hairpin NAT of one subnet. */
static void add_masq(struct cell_buf *b, const struct cell_cidr *c)
{
	const char *kw = fam_kw(c->family);
	char net[64];

	cidr_str(c, net, sizeof(net));
	cell_buf_add(b, "\t\t%s saddr %s %s daddr != %s masquerade\n", kw, net, kw, net);
	cell_buf_add(b, "\t\t%s saddr %s %s daddr %s ct status dnat masquerade\n", kw, net, kw, net);
}

static void add_postrouting(struct cell_buf *b, const struct cell_nft_input *in)
{
	cell_buf_add(b, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy "
	       "accept;\n");
	for (size_t i = 0; i < in->n_nets; i++) {
		const struct cell_nft_net *n = &in->nets[i];
		if (n->isolated)
			continue;
		if (n->has4)
			add_masq(b, &n->subnet4);
		if (n->has6)
			add_masq(b, &n->subnet6);
		if (n->has4)
			cell_buf_add(b,
			    "\t\toifname \"%s\" ip saddr 127.0.0.0/8 ct status dnat masquerade\n",
			    n->bridge);
	}
	cell_buf_add(b, "\t}\n");
}

static bool ip_unspecified(const unsigned char *addr, int family)
{
	static const unsigned char zero[16];

	return memcmp(addr, zero, family == AF_INET6 ? 16 : 4) == 0;
}

/* One DNAT rule of a port for one family of the container's addresses. */
static void add_dnat(struct cell_buf *b, const struct cell_nft_port *p, int family)
{
	const struct cell_port *pp = &p->port;
	const char *l4 = pp->proto == IPPROTO_UDP ? "udp" : "tcp";
	const unsigned char *ctr = family == AF_INET6 ? p->ctr_ip6 : p->ctr_ip4;
	char host[INET6_ADDRSTRLEN], to[INET6_ADDRSTRLEN];

	ip_str(family, ctr, to, sizeof(to));
	cell_buf_add(b, "\t\tfib daddr type local ");
	if (pp->host_family && !ip_unspecified(pp->host_ip, family)) {
		ip_str(family, pp->host_ip, host, sizeof(host));
		cell_buf_add(b, "%s daddr %s ", fam_kw(family), host);
	} else {
		cell_buf_add(b, "meta nfproto %s ", family == AF_INET6 ? "ipv6" : "ipv4");
	}
	if (family == AF_INET6)
		cell_buf_add(b, "%s dport %u dnat ip6 to [%s]:%u\n", l4, pp->host_port, to, pp->ctr_port);
	else
		cell_buf_add(b, "%s dport %u dnat ip to %s:%u\n", l4, pp->host_port, to, pp->ctr_port);
}

static void add_port(struct cell_buf *b, const struct cell_nft_input *in, const struct cell_nft_port *p)
{
	const struct cell_nft_net *n = net_of(in, p->bridge);
	int hf = p->port.host_family;

	if (!n || n->isolated)
		return;
	if (p->has4 && (hf == 0 || hf == AF_INET))
		add_dnat(b, p, AF_INET);
	if (p->has6 && (hf == 0 || hf == AF_INET6))
		add_dnat(b, p, AF_INET6);
}

/* prerouting: from outside and from the containers; output: from the host
 * itself, 127.0.0.1 included. */
static void add_dnat_chain(struct cell_buf *b, const struct cell_nft_input *in, const char *name,
			   const char *prio)
{
	cell_buf_add(b, "\tchain %s {\n\t\ttype nat hook %s priority %s; policy accept;\n", name, name,
	    prio);
	for (size_t i = 0; i < in->n_ports; i++)
		add_port(b, in, &in->ports[i]);
	cell_buf_add(b, "\t}\n");
}

/* Order matters: the drops of isolation come before any accept. */
static void add_forward(struct cell_buf *b, const struct cell_nft_input *in)
{
	const struct cell_nft_net *nets = in->nets;

	cell_buf_add(b, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
	for (size_t i = 0; i < in->n_nets; i++)
		if (nets[i].isolated)
			cell_buf_add(b, "\t\tiifname \"%s\" drop\n\t\toifname \"%s\" drop\n", nets[i].bridge,
			    nets[i].bridge);
	/* published ports are as reachable from another network as from outside */
	for (size_t i = 0; i < in->n_nets; i++)
		if (!nets[i].isolated)
			cell_buf_add(b, "\t\toifname \"%s\" ct status dnat accept\n", nets[i].bridge);
	for (size_t i = 0; i < in->n_nets; i++)
		for (size_t j = 0; j < in->n_nets; j++)
			if (i != j && !nets[i].isolated && !nets[j].isolated)
				cell_buf_add(b, "\t\tiifname \"%s\" oifname \"%s\" drop\n", nets[i].bridge,
				    nets[j].bridge);
	/* out freely, in only as replies: a container is not reachable from
	 * outside but through a published port */
	for (size_t i = 0; i < in->n_nets; i++)
		if (!nets[i].isolated)
			cell_buf_add(b,
			    "\t\tiifname \"%s\" accept\n\t\toifname \"%s\" ct state "
			    "established,related accept\n\t\toifname \"%s\" drop\n",
			    nets[i].bridge, nets[i].bridge, nets[i].bridge);
	cell_buf_add(b, "\t}\n");
}

static bool input_safe(const struct cell_nft_input *in)
{
	for (size_t i = 0; i < in->n_nets; i++)
		if (!ifname_safe(in->nets[i].bridge))
			return false;
	for (size_t i = 0; i < in->n_ports; i++)
		if (!ifname_safe(in->ports[i].bridge))
			return false;
	return true;
}

char *cell_nft_script(const struct cell_nft_input *in)
{
	struct cell_buf b = {0};

	if (!input_safe(in))
		return NULL;
	cell_buf_add(&b, "table inet %s {}\ndelete table inet %s\n", CELL_NFT_TABLE, CELL_NFT_TABLE);
	if (in->n_nets == 0)
		return b.s;
	cell_buf_add(&b, "table inet %s {\n", CELL_NFT_TABLE);
	add_postrouting(&b, in);
	add_dnat_chain(&b, in, "prerouting", "dstnat");
	add_dnat_chain(&b, in, "output", "-100");
	add_forward(&b, in);
	cell_buf_add(&b, "}\n");
	return b.s;
}

/* The location libnftables puts before its message, "<path>:3:39-43: " (or
 * "<path>:3:39: "): *line 0 when there is none. */
static const char *error_location(const char *text, const char *path, unsigned *line, unsigned *c1,
				  unsigned *c2)
{
	size_t n = strlen(path);
	int used = 0;

	*line = 0;
	if (strncmp(text, path, n) != 0 || text[n] != ':')
		return text;
	text += n;
	if (sscanf(text, ":%u:%u-%u: %n", line, c1, c2, &used) == 3 && used > 0)
		return text + used;
	if (sscanf(text, ":%u:%u: %n", line, c1, &used) == 2 && used > 0) {
		*c2 = *c1;
		return text + used;
	}
	*line = 0;
	return text;
}

/* libnftables' error output, "<path>:3:39-43: Error: Service out of range",
 * the line and carets under its columns, as one line: "line 3: Service out
 * of range at \"99999\"". */
static void error_summary(const char *text, const char *path, char *out, size_t len)
{
	unsigned line, c1 = 0, c2 = 0;
	const char *msg = error_location(text, path, &line, &c1, &c2), *src;
	size_t n, src_len;

	if (cell_startswith(msg, "Error: "))
		msg += strlen("Error: ");
	n = strcspn(msg, "\n");
	if (line == 0) {
		(void)snprintf(out, len, "%.*s", (int)n, msg);
		return;
	}
	src = msg[n] ? msg + n + 1 : "";
	src_len = strcspn(src, "\n");
	if (c1 >= 1 && c2 >= c1 && c2 <= src_len)
		(void)snprintf(out, len, "line %u: %.*s at \"%.*s\"", line, (int)n, msg,
			       (int)(c2 - c1 + 1), src + c1 - 1);
	else
		(void)snprintf(out, len, "line %u: %.*s", line, (int)n, msg);
}

/* libnftables says why only in words: the errnos the callers tell apart.
 * No nf_tables at all shows as a netlink family the kernel does not know. */
static const struct {
	const char *text;
	int code;
	const char *msg; /* NULL: libnftables' own words */
} error_codes[] = {
    {"Protocol not supported", ENOTSUP, "this kernel has no nftables"},
    {"Operation not supported", ENOTSUP, NULL},
    {"Operation not permitted", EPERM, NULL},
    {"Permission denied", EACCES, NULL},
};

static int apply_error(const char *text, const char *path, struct cell_error *err)
{
	char summary[400];
	int code = EINVAL;

	for (size_t i = 0; i < ARRAY_SIZE(error_codes); i++) {
		if (!strstr(text, error_codes[i].text))
			continue;
		if (error_codes[i].msg)
			return cell_errx(err, error_codes[i].code, "%s", error_codes[i].msg);
		code = error_codes[i].code;
		break;
	}
	error_summary(text, path, summary, sizeof(summary));
	return cell_errx(err, code, "nftables: %s", summary[0] ? summary : "the script failed");
}

/* The script as a file (a memfd): libnftables then says on which line of it
 * an error is (for a buffer it names the first line whatever the error's). */
static int run_script(struct nft_ctx *ctx, const char *script, struct cell_error *err)
{
	_cleanup_close_ int fd = memfd_create("cell-nft", MFD_CLOEXEC);
	char path[64];
	const char *text;
	int r;

	if (fd < 0)
		return cell_err(err, errno, "nftables: memfd_create");
	r = cell_write_all(fd, script, strlen(script));
	if (r < 0)
		return cell_err(err, r, "nftables: write the script");
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (nft_run_cmd_from_filename(ctx, path) == 0)
		return 0;
	text = nft_ctx_get_error_buffer(ctx);
	return apply_error(text ? text : "", path, err);
}

int cell_nft_apply(const char *script, struct cell_error *err)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int r;

	if (!ctx)
		return cell_errx(err, ENOMEM, "nftables: no context");
	/* buffered: libnftables would print to our stdout and stderr */
	if (nft_ctx_buffer_error(ctx) < 0 || nft_ctx_buffer_output(ctx) < 0)
		r = cell_errx(err, ENOMEM, "nftables: no buffer");
	else
		r = run_script(ctx, script, err);
	nft_ctx_free(ctx);
	return r;
}
