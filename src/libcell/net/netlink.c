/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtnetlink over libmnl.  Every change is one request answered by an ack
 * (NLM_F_ACK: the kernel's NLMSG_ERROR carries 0 or -errno); every listing is
 * one NLM_F_DUMP read until NLMSG_DONE.  The socket is bound in the namespace
 * it was opened in and stays there, whatever namespace the thread is in later.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "../base/util.h"
#include "netlink.h"

/* The kernel sizes a dump's messages by the reader's buffer, up to 32 KiB
 * (netlink_recvmsg's max_recvmsg_len): this one never truncates. */
#define NL_RECV_SIZE 32768
/* One request: a name, a few integers and two nests fit many times over;
 * aligned as the nlmsghdr it starts with. */
#define NL_SEND_SIZE 1024
#define NL_ALIGNED _Alignas(struct nlmsghdr)

struct cell_nl {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
	NL_ALIGNED char buf[NL_RECV_SIZE];
};

static int nl_socket(struct cell_nl *nl, struct cell_error *err)
{
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return cell_err(err, errno, "open an rtnetlink socket");
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = cell_err(err, errno, "bind an rtnetlink socket");
		(void)mnl_socket_close(TAKE_PTR(nl->sock));
		return r;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	return 0;
}

/* Bind in netns_fd's namespace, then come back: a thread left in a
 * container's namespace would configure the container where it meant the host. */
static int nl_socket_in(struct cell_nl *nl, int netns_fd, struct cell_error *err)
{
	_cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return cell_err(err, errno, "open /proc/thread-self/ns/net");
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return cell_err(err, errno, "enter the network namespace of fd %d", netns_fd);
	int r = nl_socket(nl, err);
	if (setns(self, CLONE_NEWNET) < 0) {
		int e = errno;
		if (nl->sock)
			(void)mnl_socket_close(TAKE_PTR(nl->sock));
		return cell_err(err, e,
				"return to the caller's network namespace after opening a socket "
				"in another: this thread is still in the other namespace");
	}
	return r;
}

int cell_nl_open(struct cell_nl **out, int netns_fd, struct cell_error *err)
{
	_cleanup_(cell_nl_closep) struct cell_nl *nl = xzalloc(sizeof(*nl));
	int r = netns_fd >= 0 ? nl_socket_in(nl, netns_fd, err) : nl_socket(nl, err);
	if (r < 0)
		return r;
	nl->seq = (unsigned)getpid();
	*out = TAKE_PTR(nl);
	return 0;
}

void cell_nl_close(struct cell_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		(void)mnl_socket_close(nl->sock);
	free(nl);
}

/* What a reader does with each message of an answer but the last. */
typedef void nl_cb(const struct nlmsghdr *h, void *data);

/* The messages of one datagram: 1 when the answer goes on, else its end's
 * code: the ack of a request (NLMSG_ERROR: 0 or -errno) or a dump's
 * NLMSG_DONE (which carries one too).  Messages of another sequence number
 * are the rest of an answer given up on, and skipped. */
static int nl_msgs(const struct cell_nl *nl, size_t n, unsigned seq, nl_cb *cb, void *data)
{
	int len = (int)n;
	for (const struct nlmsghdr *h = (const void *)nl->buf; mnl_nlmsg_ok(h, len);
	     h = mnl_nlmsg_next(h, &len)) {
		if (h->nlmsg_seq != seq)
			continue;
		if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) {
			const int *code = mnl_nlmsg_get_payload(h);
			if (mnl_nlmsg_get_payload_len(h) < sizeof(*code))
				return 0;
			return *code <= 0 ? *code : -EPROTO;
		}
		if (cb && h->nlmsg_type >= NLMSG_MIN_TYPE)
			cb(h, data);
	}
	return 1;
}

/* Send h and read its answer to the end.  Returns 0 or -errno, records nothing. */
static int nl_run(struct cell_nl *nl, struct nlmsghdr *h, nl_cb *cb, void *data)
{
	h->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, h, h->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return -errno;
		int r = nl_msgs(nl, (size_t)n, h->nlmsg_seq, cb, data);
		if (r <= 0)
			return r;
	}
}

static int nl_request(struct cell_nl *nl, struct nlmsghdr *h, nl_cb *cb, void *data)
{
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	return nl_run(nl, h, cb, data);
}

static int nl_dump(struct cell_nl *nl, struct nlmsghdr *h, nl_cb *cb, void *data)
{
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	return nl_run(nl, h, cb, data);
}

static struct nlmsghdr *nl_msg(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	return h;
}

static struct ifinfomsg *put_ifinfo(struct nlmsghdr *h, int family, int ifindex)
{
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = (unsigned char)family;
	ifi->ifi_index = ifindex;
	return ifi;
}

/* ---- reading links ---------------------------------------------------- */

/* Attributes kept from a message: a table of the expected type per attribute;
 * one the table does not name, or of the wrong shape, is left out. */
struct nl_attrs {
	const struct nlattr **tb;
	const enum mnl_attr_data_type *types;
	uint16_t max;
};

static int attr_keep(const struct nlattr *a, void *data)
{
	const struct nl_attrs *at = data;
	uint16_t type = mnl_attr_get_type(a);
	if (type <= at->max && at->types[type] != MNL_TYPE_UNSPEC &&
	    mnl_attr_validate(a, at->types[type]) >= 0)
		at->tb[type] = a;
	return MNL_CB_OK;
}

static const enum mnl_attr_data_type link_types[IFLA_MAX + 1] = {
    [IFLA_IFNAME] = MNL_TYPE_NUL_STRING, [IFLA_MASTER] = MNL_TYPE_U32,
    [IFLA_MTU] = MNL_TYPE_U32,		 [IFLA_ADDRESS] = MNL_TYPE_BINARY,
    [IFLA_LINKINFO] = MNL_TYPE_NESTED,
};
static const enum mnl_attr_data_type linkinfo_types[IFLA_INFO_MAX + 1] = {
    [IFLA_INFO_KIND] = MNL_TYPE_NUL_STRING,
};

static void copy_name(char dst[CELL_IFNAMSIZ], const struct nlattr *a)
{
	if (a)
		(void)snprintf(dst, CELL_IFNAMSIZ, "%s", mnl_attr_get_str(a));
}

static void link_parse(const struct nlmsghdr *h, struct cell_nl_link *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	const struct nlattr *tb[IFLA_MAX + 1] = {0}, *info[IFLA_INFO_MAX + 1] = {0};
	struct nl_attrs at = {tb, link_types, IFLA_MAX},
			ati = {info, linkinfo_types, IFLA_INFO_MAX};

	*l = (struct cell_nl_link){.ifindex = ifi->ifi_index, .up = ifi->ifi_flags & IFF_UP};
	(void)mnl_attr_parse(h, sizeof(*ifi), attr_keep, &at);
	copy_name(l->name, tb[IFLA_IFNAME]);
	if (tb[IFLA_MASTER])
		l->master = (int)mnl_attr_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_MTU])
		l->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == sizeof(l->mac))
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), sizeof(l->mac));
	if (tb[IFLA_LINKINFO])
		(void)mnl_attr_parse_nested(tb[IFLA_LINKINFO], attr_keep, &ati);
	copy_name(l->kind, info[IFLA_INFO_KIND]);
}

static void link_one_cb(const struct nlmsghdr *h, void *data)
{
	if (h->nlmsg_type == RTM_NEWLINK)
		link_parse(h, data);
}

/* One link by index (name NULL) or by name; -errno, nothing recorded. */
static int link_query(struct cell_nl *nl, int ifindex, const char *name, struct cell_nl_link *out)
{
	NL_ALIGNED char buf[NL_SEND_SIZE];
	struct nlmsghdr *h = nl_msg(buf, RTM_GETLINK, 0);
	struct cell_nl_link l = {.ifindex = -1};

	(void)put_ifinfo(h, AF_UNSPEC, ifindex);
	if (name)
		mnl_attr_put_strz(h, IFLA_IFNAME, name);
	int r = nl_request(nl, h, link_one_cb, &l);
	if (r < 0)
		return r;
	if (l.ifindex < 0)
		return -ENODEV;
	*out = l;
	return 0;
}

/* A link's name for a message: "#7" when the kernel does not say. */
struct link_label {
	char s[CELL_IFNAMSIZ];
};

static struct link_label link_label(struct cell_nl *nl, int ifindex)
{
	struct link_label lb;
	struct cell_nl_link l;
	if (link_query(nl, ifindex, NULL, &l) == 0)
		memcpy(lb.s, l.name, sizeof(lb.s));
	else
		(void)snprintf(lb.s, sizeof(lb.s), "#%d", ifindex);
	return lb;
}

int cell_nl_link_get(struct cell_nl *nl, const char *name, struct cell_nl_link *out,
		     struct cell_error *err)
{
	int r = link_query(nl, 0, name, out);
	if (r == -ENODEV)
		return cell_errx(err, ENODEV, "no link named %s", name);
	if (r < 0)
		return cell_err(err, r, "look up link %s", name);
	return 0;
}

struct link_vec {
	struct cell_nl_link *v;
	size_t n;
};

static void link_vec_cb(const struct nlmsghdr *h, void *data)
{
	struct link_vec *lv = data;
	if (h->nlmsg_type != RTM_NEWLINK)
		return;
	lv->v = xrealloc(lv->v, (lv->n + 1) * sizeof(*lv->v));
	link_parse(h, &lv->v[lv->n++]);
}

int cell_nl_links(struct cell_nl *nl, struct cell_nl_link **out, size_t *n, struct cell_error *err)
{
	NL_ALIGNED char buf[NL_SEND_SIZE];
	struct nlmsghdr *h = nl_msg(buf, RTM_GETLINK, 0);
	struct link_vec lv = {0};

	(void)put_ifinfo(h, AF_UNSPEC, 0);
	int r = nl_dump(nl, h, link_vec_cb, &lv);
	if (r < 0) {
		free(lv.v);
		return cell_err(err, r, "list the links");
	}
	*out = lv.v;
	*n = lv.n;
	return 0;
}

/* ---- new links -------------------------------------------------------- */

/* Kinds cell creates, with the kernel option that provides each. */
static const struct {
	const char *kind, *config;
} link_kinds[] = {
    {"bridge", "CONFIG_BRIDGE"},
    {"veth", "CONFIG_VETH"},
    {"macvlan", "CONFIG_MACVLAN"},
    {"ipvlan", "CONFIG_IPVLAN"},
};

static int check_name(const char *name, struct cell_error *err)
{
	if (!name || !*name || strlen(name) >= CELL_IFNAMSIZ || strchr(name, '/'))
		return cell_errx(err, EINVAL,
				 "invalid link name \"%s\" (1 to %d characters, no '/')",
				 name ? name : "", CELL_IFNAMSIZ - 1);
	return 0;
}

/* RTM_NEWLINK for a new link called name, up to its IFLA_LINKINFO nest. */
static struct nlmsghdr *link_new(char *buf, const char *name, unsigned mtu, struct nlattr **info,
				 const char *kind)
{
	struct nlmsghdr *h = nl_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	(void)put_ifinfo(h, AF_UNSPEC, 0);
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(h, IFLA_MTU, mtu);
	*info = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, kind);
	return h;
}

/* Send a new link's request; what says it in a failure's message.  An
 * unknown kind is -EOPNOTSUPP ("Unknown device type", rtnl_newlink). */
static int link_create(struct cell_nl *nl, struct nlmsghdr *h, const char *kind, const char *what,
		       struct cell_error *err)
{
	int r = nl_request(nl, h, NULL, NULL);
	if (r == -EOPNOTSUPP) {
		for (size_t i = 0; i < ARRAY_SIZE(link_kinds); i++)
			if (streq(link_kinds[i].kind, kind))
				return cell_errx(err, ENOTSUP, "this kernel has no %s (%s)", kind,
						 link_kinds[i].config);
	}
	if (r < 0)
		return cell_err(err, r, "%s", what);
	return 0;
}

int cell_nl_bridge_add(struct cell_nl *nl, const char *name, unsigned mtu, struct cell_error *err)
{
	NL_ALIGNED char buf[NL_SEND_SIZE];
	struct nlattr *info;
	int r = check_name(name, err);
	if (r < 0)
		return r;
	struct nlmsghdr *h = link_new(buf, name, mtu, &info, "bridge");
	mnl_attr_nest_end(h, info);
	_cleanup_free_ char *what = xasprintf("create bridge %s", name);
	return link_create(nl, h, "bridge", what, err);
}

int cell_nl_veth_add(struct cell_nl *nl, const char *name, const char *peer, int peer_netns_fd,
		     unsigned mtu, struct cell_error *err)
{
	NL_ALIGNED char buf[NL_SEND_SIZE];
	struct nlattr *info;
	int r = check_name(name, err);
	if (r < 0 || (r = check_name(peer, err)) < 0)
		return r;
	struct nlmsghdr *h = link_new(buf, name, mtu, &info, "veth");
	struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	/* VETH_INFO_PEER's payload is a whole ifinfomsg and its attributes */
	struct nlattr *p = mnl_attr_nest_start(h, VETH_INFO_PEER);
	(void)put_ifinfo(h, AF_UNSPEC, 0);
	mnl_attr_put_strz(h, IFLA_IFNAME, peer);
	if (mtu)
		mnl_attr_put_u32(h, IFLA_MTU, mtu);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	mnl_attr_nest_end(h, p);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, info);
	_cleanup_free_ char *what =
	    xasprintf("create veth %s with peer %s%s", name, peer,
		      peer_netns_fd >= 0 ? " in another network namespace" : "");
	return link_create(nl, h, "veth", what, err);
}

/* The mode attribute of each child kind: macvlan's is a u32, ipvlan's a u16. */
static const struct {
	const char *kind;
	uint16_t attr, size;
	uint32_t mode;
} vlan_kinds[] = {
    {"macvlan", IFLA_MACVLAN_MODE, sizeof(uint32_t), MACVLAN_MODE_BRIDGE},
    {"ipvlan", IFLA_IPVLAN_MODE, sizeof(uint16_t), IPVLAN_MODE_L2},
};

static int vlan_kind(const char *kind, struct cell_error *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(vlan_kinds); i++)
		if (streq(vlan_kinds[i].kind, kind))
			return (int)i;
	return cell_errx(err, EINVAL, "unknown link kind \"%s\" (macvlan or ipvlan)", kind);
}

int cell_nl_vlan_add(struct cell_nl *nl, const char *kind, const char *name, const char *parent,
		     int netns_fd, struct cell_error *err)
{
	NL_ALIGNED char buf[NL_SEND_SIZE];
	struct nlattr *info;
	struct cell_nl_link pl;
	int k = vlan_kind(kind, err);
	if (k < 0)
		return k;
	int r = check_name(name, err);
	if (r < 0)
		return r;
	if (cell_nl_link_get(nl, parent, &pl, err) < 0)
		return cell_err_prefix(err, "create %s %s", kind, name);
	struct nlmsghdr *h = link_new(buf, name, 0, &info, kind);
	struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	if (vlan_kinds[k].size == sizeof(uint16_t))
		mnl_attr_put_u16(h, vlan_kinds[k].attr, (uint16_t)vlan_kinds[k].mode);
	else
		mnl_attr_put_u32(h, vlan_kinds[k].attr, vlan_kinds[k].mode);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, info);
	mnl_attr_put_u32(h, IFLA_LINK, (uint32_t)pl.ifindex);
	if (netns_fd >= 0)
		mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	_cleanup_free_ char *what = xasprintf("create %s %s on %s%s", kind, name, parent,
					      netns_fd >= 0 ? " in another network namespace" : "");
	return link_create(nl, h, kind, what, err);
}

int cell_nl_link_del(struct cell_nl *nl, const char *name, struct cell_error *err)
{
	NL_ALIGNED char buf[NL_SEND_SIZE];
	struct nlmsghdr *h = nl_msg(buf, RTM_DELLINK, 0);
	(void)put_ifinfo(h, AF_UNSPEC, 0);
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	int r = nl_request(nl, h, NULL, NULL);
	if (r < 0 && r != -ENODEV)
		return cell_err(err, r, "delete link %s", name);
	return r;
}

/* ---- changing links --------------------------------------------------- */

/* "name eth0, mtu 1400, master cell0": what a failed change asked for. */
static void change_text(struct cell_nl *nl, const struct cell_nl_link_change *c, char *buf,
			size_t size)
{
	int n = snprintf(buf, size, "%s%s%s", c->name ? ", name " : "", c->name ? c->name : "",
			 c->mac ? ", mac address" : "");
	if (c->mtu && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, ", mtu %u", c->mtu);
	if (c->master && n >= 0 && (size_t)n < size)
		(void)snprintf(buf + n, size - (size_t)n, ", master %s",
			       link_label(nl, c->master).s);
}

static int link_set_attrs(struct cell_nl *nl, int ifindex, const struct cell_nl_link_change *c,
			  struct cell_error *err)
{
	NL_ALIGNED char buf[NL_SEND_SIZE];
	char what[128];
	struct nlmsghdr *h = nl_msg(buf, RTM_NEWLINK, 0);
	(void)put_ifinfo(h, AF_UNSPEC, ifindex);
	if (c->name)
		mnl_attr_put_strz(h, IFLA_IFNAME, c->name);
	if (c->mac)
		mnl_attr_put(h, IFLA_ADDRESS, 6, c->mac);
	if (c->mtu)
		mnl_attr_put_u32(h, IFLA_MTU, c->mtu);
	if (c->master)
		mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)c->master);
	if (!c->name && !c->mac && !c->mtu && !c->master)
		return 0;
	int r = nl_request(nl, h, NULL, NULL);
	if (r < 0) {
		change_text(nl, c, what, sizeof(what));
		return cell_err(err, r, "set %s of link %s", what + 2, link_label(nl, ifindex).s);
	}
	return 0;
}

int cell_nl_link_set(struct cell_nl *nl, int ifindex, const struct cell_nl_link_change *c,
		     struct cell_error *err)
{
	NL_ALIGNED char buf[NL_SEND_SIZE];
	int r = c->name ? check_name(c->name, err) : 0;
	if (r < 0)
		return r;
	r = link_set_attrs(nl, ifindex, c, err);
	if (r < 0 || !c->up)
		return r;
	/* up last: a rename needs the link down, and a port joins before it carries */
	struct nlmsghdr *h = nl_msg(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = put_ifinfo(h, AF_UNSPEC, ifindex);
	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	r = nl_request(nl, h, NULL, NULL);
	if (r < 0)
		return cell_err(err, r, "bring up link %s", link_label(nl, ifindex).s);
	return 0;
}

/* As `bridge link set dev X isolated on`: PF_BRIDGE's RTM_SETLINK reaches the
 * master's br_setlink, which reads IFLA_PROTINFO as port options only when it
 * is marked nested (mnl_attr_nest_start does). */
int cell_nl_brport_set(struct cell_nl *nl, int ifindex, const struct cell_nl_brport *p,
		       struct cell_error *err)
{
	NL_ALIGNED char buf[NL_SEND_SIZE];
	struct nlmsghdr *h = nl_msg(buf, RTM_SETLINK, 0);
	(void)put_ifinfo(h, AF_BRIDGE, ifindex);
	struct nlattr *pi = mnl_attr_nest_start(h, IFLA_PROTINFO);
	mnl_attr_put_u8(h, IFLA_BRPORT_ISOLATED, p->isolated);
	mnl_attr_put_u8(h, IFLA_BRPORT_MODE, p->hairpin);
	mnl_attr_nest_end(h, pi);
	int r = nl_request(nl, h, NULL, NULL);
	if (r == -EOPNOTSUPP) /* rtnl_bridge_setlink: no master */
		return cell_errx(err, EINVAL, "link %s is not a bridge port",
				 link_label(nl, ifindex).s);
	if (r < 0)
		return cell_err(err, r, "set isolated %s, hairpin %s on bridge port %s",
				p->isolated ? "on" : "off", p->hairpin ? "on" : "off",
				link_label(nl, ifindex).s);
	return 0;
}

/* ---- addresses and routes --------------------------------------------- */

static int addr_len(int family, unsigned prefix, struct cell_error *err)
{
	size_t len = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	if (!len)
		return cell_errx(err, EAFNOSUPPORT, "address family %d is neither IPv4 nor IPv6",
				 family);
	if (prefix > len * 8)
		return cell_errx(err, EINVAL, "prefix length %u is longer than the address",
				 prefix);
	return (int)len;
}

struct addr_text {
	char s[INET6_ADDRSTRLEN];
};

static struct addr_text addr_text(int family, const unsigned char *a)
{
	struct addr_text t = {"?"};
	(void)inet_ntop(family, a, t.s, sizeof(t.s));
	return t;
}

int cell_nl_addr_add(struct cell_nl *nl, int ifindex, int family, const unsigned char *addr,
		     unsigned prefix, struct cell_error *err)
{
	NL_ALIGNED char buf[NL_SEND_SIZE];
	int len = addr_len(family, prefix, err);
	if (len < 0)
		return len;
	struct nlmsghdr *h = nl_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	*ifa = (struct ifaddrmsg){.ifa_family = (unsigned char)family,
				  .ifa_prefixlen = (unsigned char)prefix,
				  .ifa_scope = RT_SCOPE_UNIVERSE,
				  .ifa_index = (unsigned)ifindex};
	mnl_attr_put(h, IFA_LOCAL, (size_t)len, addr);
	mnl_attr_put(h, IFA_ADDRESS, (size_t)len, addr);
	if (family == AF_INET6) /* no duplicate detection: usable at once */
		mnl_attr_put_u32(h, IFA_FLAGS, IFA_F_NODAD);
	int r = nl_request(nl, h, NULL, NULL);
	if (r < 0 && r != -EEXIST)
		return cell_err(err, r, "add address %s/%u to %s", addr_text(family, addr).s,
				prefix, link_label(nl, ifindex).s);
	return 0;
}

int cell_nl_route_add(struct cell_nl *nl, int family, const unsigned char *dst, unsigned dst_len,
		      const unsigned char *gw, int ifindex, struct cell_error *err)
{
	NL_ALIGNED char buf[NL_SEND_SIZE];
	int len = addr_len(family, dst ? dst_len : 0, err);
	if (len < 0)
		return len;
	struct nlmsghdr *h = nl_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
	*rt = (struct rtmsg){.rtm_family = (unsigned char)family,
			     .rtm_dst_len = (unsigned char)(dst ? dst_len : 0),
			     .rtm_table = RT_TABLE_MAIN,
			     .rtm_protocol = RTPROT_BOOT,
			     .rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
			     .rtm_type = RTN_UNICAST};
	if (dst)
		mnl_attr_put(h, RTA_DST, (size_t)len, dst);
	if (gw)
		mnl_attr_put(h, RTA_GATEWAY, (size_t)len, gw);
	mnl_attr_put_u32(h, RTA_OIF, (uint32_t)ifindex);
	int r = nl_request(nl, h, NULL, NULL);
	if (r < 0 && r != -EEXIST) {
		struct addr_text d = dst ? addr_text(family, dst) : (struct addr_text){"default"};
		return cell_err(err, r, "add route %s/%u%s%s dev %s", d.s, dst ? dst_len : 0,
				gw ? " via " : "", gw ? addr_text(family, gw).s : "",
				link_label(nl, ifindex).s);
	}
	return 0;
}

static const enum mnl_attr_data_type route_types[RTA_MAX + 1] = {
    [RTA_DST] = MNL_TYPE_BINARY,
    [RTA_OIF] = MNL_TYPE_U32,
    [RTA_TABLE] = MNL_TYPE_U32,
};

struct route_vec {
	struct cell_nl_route *v;
	size_t n;
};

static void route_vec_cb(const struct nlmsghdr *h, void *data)
{
	struct route_vec *rv = data;
	const struct rtmsg *rt = mnl_nlmsg_get_payload(h);
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	struct nl_attrs at = {tb, route_types, RTA_MAX};

	if (h->nlmsg_type != RTM_NEWROUTE)
		return;
	(void)mnl_attr_parse(h, sizeof(*rt), attr_keep, &at);
	/* rtm_table is 8 bits: tables over 255 say RT_TABLE_COMPAT there */
	if ((tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rt->rtm_table) != RT_TABLE_MAIN)
		return;
	rv->v = xrealloc(rv->v, (rv->n + 1) * sizeof(*rv->v));
	struct cell_nl_route *r = &rv->v[rv->n++];
	*r = (struct cell_nl_route){.family = rt->rtm_family, .dst_len = rt->rtm_dst_len};
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) <= sizeof(r->dst))
		memcpy(r->dst, mnl_attr_get_payload(tb[RTA_DST]),
		       mnl_attr_get_payload_len(tb[RTA_DST]));
	if (tb[RTA_OIF])
		r->oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
}

int cell_nl_routes(struct cell_nl *nl, int family, struct cell_nl_route **out, size_t *n,
		   struct cell_error *err)
{
	NL_ALIGNED char buf[NL_SEND_SIZE];
	struct nlmsghdr *h = nl_msg(buf, RTM_GETROUTE, 0);
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
	struct route_vec rv = {0};

	rt->rtm_family = (unsigned char)family;
	int r = nl_dump(nl, h, route_vec_cb, &rv);
	if (r < 0) {
		free(rv.v);
		return cell_err(err, r, "list the %s routes", family == AF_INET6 ? "IPv6" : "IPv4");
	}
	*out = rv.v;
	*n = rv.n;
	return 0;
}
