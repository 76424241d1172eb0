/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manager's side of networking: cell.json's net, ip, ip6, mac and
 * publish turned into what net/ asks (net/net.h), the lease kept with the
 * container (create to destroy), the link made by the supervisor between the
 * runtime's create and start, and the container's /etc/hosts and
 * /etc/resolv.conf written inside its root (sys/rootfile.h: never through a
 * symlink of the container's).
 */
#include "manager.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../sys/rootfile.h"
#include "supervisor-internal.h"

int cell_manager_net_want(const struct cell_store *st, const struct cell_settings *s,
			  struct cell_net_want *w, struct cell_port **ports, struct cell_error *err)
{
	size_t n = cell_strv_len(s->publish);
	int r = 0;

	*w = (struct cell_net_want){.store = st->root_real,
				    .name = s->name,
				    .dns_name = s->name,
				    .ip4 = s->ip,
				    .ip6 = s->ip6,
				    .mac = s->mac};
	*ports = NULL;
	if (s->net && (r = cell_net_mode_parse(s->net, &w->kind, &w->arg, err)) < 0)
		return r;
	*ports = xcalloc(n + 1, sizeof(**ports));
	for (size_t i = 0; i < n && r == 0; i++)
		r = cell_port_parse(s->publish[i], &(*ports)[i], err);
	if (r < 0) {
		free(TAKE_PTR(*ports));
		return r;
	}
	/* pasta joins the namespaces of a holder it made rootless (net/pasta.h);
	 * root's init cannot be joined by it before its exec (not dumpable, and
	 * pasta drops root's capabilities before it opens them) */
	if (w->kind == CELL_NET_PASTA && !st->host.rootless_map)
		return cell_errx(err, EINVAL,
				 "%s: --net pasta is for a user without root (root's containers: "
				 "--net bridge)",
				 s->name);
	if (n && w->kind != CELL_NET_BRIDGE && w->kind != CELL_NET_PASTA)
		return cell_errx(
		    err, EINVAL,
		    "%s: published ports need --net bridge or pasta (the host's network "
		    "or another namespace has no NAT of cell's)",
		    s->name);
	w->ports = *ports;
	w->n_ports = n;
	return 0;
}

int cell_manager_net_lease(const struct cell_store *st, const struct cell_settings *s,
			   struct cell_error *err)
{
	_cleanup_free_ struct cell_port *ports = NULL;
	struct cell_net_want w;
	int r = cell_manager_net_want(st, s, &w, &ports, err);

	if (r < 0)
		return r;
	if (w.kind != CELL_NET_BRIDGE)
		return cell_net_release(&st->net, st->root_real, s->name, err);
	return cell_net_lease(&st->net, &w, NULL, err);
}

int cell_manager_net_release(const struct cell_store *st, const char *name, struct cell_error *err)
{
	return cell_net_release(&st->net, st->root_real, name, err);
}

int cell_manager_net_down(const struct cell_store *st, const char *name, struct cell_error *err)
{
	return cell_net_down(&st->net, st->root_real, name, err);
}

/* pasta answers DNS on its forwarding address (net/pasta.h) */
static void write_pasta_resolv(const struct cell_store *st, const char *name)
{
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
	_cleanup_close_ int rootfd = cell_root_open(rootfs);
	int r = rootfd < 0 ? rootfd
			   : cell_root_write_file(rootfd, "etc/resolv.conf", 0644,
						  "# written by cell at each start: --net pasta\n"
						  "nameserver " CELL_PASTA_DNS "\n");

	if (r < 0)
		cell_debug("%s: /etc/resolv.conf left as it is (%s)", name, strerror(-r));
}

int cell_manager_pasta_first(const struct cell_store *st, const struct cell_settings *s,
			     char **netns, char **userns, struct cell_error *err)
{
	_cleanup_free_ struct cell_port *ports = NULL;
	_cleanup_free_ char *rundir = cell_store_rundir(st, s->name);
	struct cell_net_want w;
	pid_t holder;
	int r;

	if ((r = cell_manager_net_want(st, s, &w, &ports, err)) < 0)
		return r;
	if ((r = cell_mkdir_p(rundir, 0700)) < 0)
		return cell_err(err, r, "create %s", rundir);
	w.ctr_run_dir = rundir;
	if (cell_pasta_holder(rundir, &holder, err) < 0 ||
	    cell_net_up(&st->net, &w, -1, (int)holder, NULL, err) < 0) {
		struct cell_error ignored = { 0 };
		(void)cell_pasta_stop(rundir, &ignored);
		return cell_err_prefix(err, "network of %s", s->name);
	}
	write_pasta_resolv(st, s->name);
	*netns = xasprintf("/proc/%d/ns/net", (int)holder);
	*userns = xasprintf("/proc/%d/ns/user", (int)holder);
	return 0;
}

int cell_manager_pasta_stop(const struct cell_store *st, const char *name, struct cell_error *err)
{
	_cleanup_free_ char *rundir = cell_store_rundir(st, name);

	return cell_pasta_stop(rundir, err);
}

char *cell_manager_net_address(const struct cell_store *st, const char *name)
{
	struct cell_lease l = {0};
	struct cell_error ignored = {0};
	char a[CELL_IP_STRLEN] = "", b[CELL_IP_STRLEN] = "";

	if (cell_net_lease_of(&st->net, st->root_real, name, &l, &ignored) < 0)
		return NULL;
	if (l.has4)
		cell_ip_format(AF_INET, l.ip4, a, sizeof(a));
	if (l.has6)
		cell_ip_format(AF_INET6, l.ip6, b, sizeof(b));
	cell_lease_clear(&l);
	return xasprintf("%s%s%s", a, *a && *b ? "," : "", b);
}

/* A network namespace belongs to a user namespace: joining an unprivileged
 * container's means joining its user namespace too, with its ids. */
static int same_ids(const struct cell_settings *s, const struct cell_settings *o,
		    struct cell_error *err)
{
	if (o->unprivileged && s->unprivileged &&
	    (o->idmap_host != s->idmap_host || o->idmap_size != s->idmap_size))
		return cell_errx(err, EINVAL,
				 "--net container=%s: %s has ids of its own: make it again with "
				 "--idmap-share %s (the default for --net container=)",
				 o->name, s->name, o->name);
	if (!o->unprivileged && s->unprivileged)
		return cell_errx(
		    err, EINVAL,
		    "--net container=%s: %s is privileged, so its network namespace is "
		    "the host's root's: %s must be --privileged too",
		    o->name, o->name, s->name);
	return 0;
}

int cell_manager_netns_of(const struct cell_store *st, const struct cell_settings *s,
			  const char *other, char **netns, char **userns, struct cell_error *err)
{
	_cleanup_(cell_settings_freep) struct cell_settings *o = NULL;
	_cleanup_(cell_state_freep) struct cell_state *state = NULL;
	enum cell_status status;
	int r;

	if ((r = cell_settings_load(st, other, &o, err)) < 0 || (r = same_ids(s, o, err)) < 0)
		return r;
	if (cell_container_state(&st->rt, other, &state, &status, err) < 0 ||
	    status != CELL_RUNNING)
		return cell_errx(
		    err, ESRCH,
		    "--net container=%s: %s is not running (start it first: its network "
		    "namespace is joined)",
		    other, other);
	*netns = xasprintf("/proc/%d/ns/net", (int)state->pid);
	*userns = o->unprivileged && s->unprivileged
		      ? xasprintf("/proc/%d/ns/user", (int)state->pid)
		      : NULL;
	return 0;
}

/* what marks the lines of /etc/hosts that cell writes */
#define HOSTS_MARK "# cell"

static void append(char **out, const char *line)
{
	char *next = xasprintf("%s%s\n", *out, line);

	free(*out);
	*out = next;
}

/* /etc/hosts: the container's own lines (marked) replaced, the rest kept. */
static char *hosts_text(const char *old, const char *name, const char *addrs)
{
	char *out = xstrdup(old && *old ? ""
					: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
					  "ip6-loopback\n");

	for (const char *p = old ? old : ""; *p;) {
		size_t n = strcspn(p, "\n");
		_cleanup_free_ char *line = xstrndup(p, n);
		p += n + (p[n] == '\n');
		if (!strstr(line, HOSTS_MARK))
			append(&out, line);
	}
	for (const char *a = addrs; *a;) {
		size_t n = strcspn(a, ",");
		_cleanup_free_ char *addr = xstrndup(a, n);
		_cleanup_free_ char *line = xasprintf("%s\t%s\t" HOSTS_MARK, addr, name);
		a += n + (a[n] == ',');
		append(&out, line);
	}
	return out;
}

/* The gateway answers DNS (net/dns.h); a resolv.conf that is a symlink is the
 * container's own resolver's (systemd-resolved, resolvconf) and is left. */
static void write_resolv(int rootfd, const char *name, const struct cell_net_given *g)
{
	_cleanup_free_ char *text = xasprintf("# written by cell at each start: network %s\n"
					      "nameserver %s\n",
					      g->network, g->dns);
	int r = cell_root_write_file(rootfd, "etc/resolv.conf", 0644, text);
	if (r < 0)
		cell_debug("%s: /etc/resolv.conf left as it is (%s)", name, strerror(-r));
}

static void write_hosts(int rootfd, const char *name, const char *addrs)
{
	_cleanup_free_ char *old = NULL;
	int r = cell_root_read_file(rootfd, "etc/hosts", &old, NULL);

	if (r < 0 && r != -ENOENT) {
		cell_debug("%s: /etc/hosts left as it is (%s)", name, strerror(-r));
		return;
	}
	_cleanup_free_ char *text = hosts_text(old, name, addrs);
	if ((r = cell_root_write_file(rootfd, "etc/hosts", 0644, text)) < 0)
		cell_debug("%s: /etc/hosts not written (%s)", name, strerror(-r));
}

/* from what cell_net_up gave: no second look at the registry or the links */
static void write_name_files(const struct cell_store *st, const struct cell_settings *s,
			     const struct cell_net_given *g)
{
	_cleanup_free_ char *dir = cell_store_dir(st, s->name);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
	_cleanup_free_ char *addrs =
		xasprintf("%s%s%s", g->ip4, *g->ip4 && *g->ip6 ? "," : "", g->ip6);
	_cleanup_close_ int rootfd = cell_root_open(rootfs);

	if (rootfd < 0 || !*addrs)
		return;
	if (*g->dns)
		write_resolv(rootfd, s->name, g);
	write_hosts(rootfd, s->hostname ? s->hostname : s->name, addrs);
}

int cell_manager_net_up(const struct cell_store *st, const char *name, pid_t init,
			struct cell_error *err)
{
	_cleanup_(cell_settings_freep) struct cell_settings *s = NULL;
	_cleanup_free_ struct cell_port *ports = NULL;
	_cleanup_free_ char *rundir = cell_store_rundir(st, name);
	struct cell_net_want w;
	char path[64];
	int r;

	if ((r = cell_settings_load(st, name, &s, err)) < 0 ||
	    (r = cell_manager_net_want(st, s, &w, &ports, err)) < 0)
		return r;
	w.ctr_run_dir = rundir;
	if (w.kind == CELL_NET_NONE || w.kind == CELL_NET_HOST || w.kind == CELL_NET_NETNS ||
	    w.kind == CELL_NET_CONTAINER || (w.kind == CELL_NET_PASTA && st->host.rootless_map))
		return 0; /* (rootless pasta: made before the container, pasta_first) */
	(void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cell_err(err, errno, "open %s (the container's network namespace)", path);
	struct cell_net_given given = { 0 };
	if (cell_net_up(&st->net, &w, fd, (int)init, &given, err) < 0)
		return cell_err_prefix(err, "network of %s", name);
	if (w.kind == CELL_NET_BRIDGE)
		write_name_files(st, s, &given);
	if (w.kind == CELL_NET_PASTA)
		write_pasta_resolv(st, name);
	return 0;
}
