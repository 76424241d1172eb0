/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create, and run (a throw-away app container) */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cell.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"

#define CREATE_USAGE                                                                               \
	"create NAME [--template busybox|debian[:SUITE]|oci:PATH|dir:PATH]\n"                      \
	"       [--storage dir|overlay|btrfs|image:SIZE] [--privileged | --idmap-share NAME]\n"    \
	"       [-m MEM] [--cpus N] [--pids N] [--hostname H] [--mount SRC:DST[:ro]]...\n"         \
	"       [--env K=V]... [--init PATH] [--packages P1,P2] [--autostart]\n"                   \
	"       [--net bridge[=NET]|none|host|macvlan=DEV|ipvlan=DEV|netns=PATH|container=NAME|\n" \
	"        pasta]\n"                                                                         \
	"       [--ip ADDR] [--ip6 ADDR] [--mac MAC] [-p [HOSTIP:]HOSTPORT:CTRPORT[/udp]]...\n"    \
	"  --net bridge (the default, as root): eth0 on network cell0 (made on first use;\n"       \
	"  `cell network` makes others), its address leased, NAT out, DNS by name;\n"              \
	"  --net pasta (without root only; the default then when pasta is on PATH, else\n"         \
	"  none): a user-mode network (Debian's passt), the host's address, -p by pasta;\n"        \
	"  unprivileged by default: a user namespace with 65536 host ids of its own, from\n"       \
	"  root's /etc/subuid and /etc/subgid; --privileged: no user namespace, container\n"       \
	"  root is host root (not root-safe); --idmap-share NAME: the ids of container NAME"

enum { O_TEMPLATE = 256, O_STORAGE, O_UNPRIV, O_PRIV, O_SHARE, O_CPUS, O_PIDS, O_HOST, O_MOUNT, O_ENV, O_INIT,
       O_NET, O_IP, O_IP6, O_MAC, O_PKGS, O_AUTO, O_RM, O_NAME };

static const struct option create_opts[] = {
	{ "template", required_argument, NULL, O_TEMPLATE },
	{ "storage", required_argument, NULL, O_STORAGE },
	{ "unprivileged", no_argument, NULL, O_UNPRIV }, /* the default; kept for scripts */
	{ "privileged", no_argument, NULL, O_PRIV },
	{ "idmap-share", required_argument, NULL, O_SHARE },
	{ "memory", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, O_CPUS },
	{ "pids", required_argument, NULL, O_PIDS },
	{ "hostname", required_argument, NULL, O_HOST },
	{ "mount", required_argument, NULL, O_MOUNT },
	{ "env", required_argument, NULL, O_ENV },
	{ "init", required_argument, NULL, O_INIT },
	{ "net", required_argument, NULL, O_NET },
	{ "ip", required_argument, NULL, O_IP },
	{ "ip6", required_argument, NULL, O_IP6 },
	{ "mac", required_argument, NULL, O_MAC },
	{ "publish", required_argument, NULL, 'p' },
	{ "packages", required_argument, NULL, O_PKGS },
	{ "autostart", no_argument, NULL, O_AUTO },
	{ "rm", no_argument, NULL, O_RM },
	{ "name", required_argument, NULL, O_NAME },
	{ "interactive", no_argument, NULL, 'i' },
	{ "tty", no_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

struct create_args {
	struct cell_settings *s;
	char **packages;
	bool rm, tty, interactive;
	int privileged; /* -1: not said */
	const char *name, *idmap_share;
};

static int add_bind(struct cell_settings *s, const char *spec, struct cell_error *err)
{
	struct cell_bind b;
	int r = cell_bind_parse(spec, &b, err);

	if (r < 0)
		return r;
	s->binds = xrealloc(s->binds, (s->n_binds + 1) * sizeof(*s->binds));
	s->binds[s->n_binds++] = b;
	return 0;
}

/* -p is given once per port */
static int add_port(struct cell_settings *s, const char *v, struct cell_error *err)
{
	_cleanup_free_ char *joined = cell_settings_get(s, "publish");
	_cleanup_free_ char *next = joined && *joined ? xasprintf("%s,%s", joined, v) : xstrdup(v);

	return cell_settings_set(s, "publish", next, err);
}

static int set_opt(struct create_args *a, int o, const char *v, struct cell_error *err)
{
	struct cell_settings *s = a->s;

	switch (o) {
	case O_TEMPLATE: free(s->template_name); s->template_name = xstrdup(v); return 0;
	case O_STORAGE: free(s->storage); s->storage = xstrdup(v); return 0;
	case O_UNPRIV:
	case O_PRIV:
		if (a->privileged == (o == O_UNPRIV))
			return cell_errx(err, EINVAL, "--privileged and --unprivileged contradict");
		a->privileged = o == O_PRIV;
		return 0;
	case O_SHARE: a->idmap_share = v; return 0;
	case 'm': return cell_settings_set(s, "memory", v, err);
	case O_CPUS: return cell_settings_set(s, "cpus", v, err);
	case O_PIDS: return cell_settings_set(s, "pids", v, err);
	case O_HOST: return cell_settings_set(s, "hostname", v, err);
	case O_MOUNT: return add_bind(s, v, err);
	case O_ENV:
		if (!strchr(v, '='))
			return cell_errx(err, EINVAL, "--env %s: want KEY=VALUE", v);
		cell_strv_push(&s->env, xstrdup(v));
		return 0;
	case O_INIT: free(s->init); s->init = xstrdup(v); return 0;
	case O_NET: return cell_settings_set(s, "net", v, err);
	case O_IP: return cell_settings_set(s, "ip", v, err);
	case O_IP6: return cell_settings_set(s, "ip6", v, err);
	case O_MAC: return cell_settings_set(s, "mac", v, err);
	case 'p': return add_port(s, v, err);
	case O_PKGS:
		for (const char *p = v; *p;) {
			size_t n = strcspn(p, ",");
			if (n)
				cell_strv_push(&a->packages, xstrndup(p, n));
			p += n + (p[n] == ',');
		}
		return 0;
	case O_AUTO: s->autostart = true; return 0;
	case O_RM: a->rm = true; return 0;
	case O_NAME: a->name = v; return 0;
	case 't': a->tty = true; return 0;
	case 'i': a->interactive = true; return 0;
	default: return cell_errx(err, EINVAL, "unknown option (see --help)");
	}
}

/* create takes options anywhere; run stops at TEMPLATE (what follows is the command) */
/* whether name is an executable in $PATH (the front-end reads the environment) */
static bool on_path(const char *name)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = xstrdup(path && *path ? path : "/usr/bin:/bin");
	bool found = false;

	for (char *dir = copy, *end; dir && !found; dir = end) {
		if ((end = strchr(dir, ':')))
			*end++ = '\0';
		_cleanup_free_ char *file = xasprintf("%s/%s", *dir ? dir : ".", name);
		found = access(file, X_OK) == 0;
	}
	return found;
}

static int parse(struct cli *c, struct create_args *a, bool in_order, struct cell_error *err)
{
	int o, r;

	a->s = xzalloc(sizeof(*a->s));
	a->s->env = xcalloc(1, sizeof(char *));
	a->privileged = -1;
	while ((o = getopt_long(c->argc, c->argv, in_order ? "+m:p:ith" : "m:p:ith", create_opts,
				NULL)) != -1)
		if ((r = set_opt(a, o, optarg, err)) < 0)
			return r;
	if (!a->s->template_name)
		a->s->template_name = xstrdup("busybox");
	if (!a->s->storage)
		a->s->storage = xstrdup(CELL_STORAGE_DEFAULT);
	/* root's containers are bridged (LXC's, podman's default); a rootless cell
	 * cannot make a bridge: pasta's user-mode network when it is there */
	if (!a->s->net)
		a->s->net = xstrdup(geteuid() == 0     ? "bridge"
				    : on_path("pasta") ? "pasta"
						       : "none");
	/* unprivileged unless asked (as root: host ids come from root's subordinate
	 * ranges; a rootless cell is in the caller's user namespace already) */
	a->s->unprivileged = a->privileged == -1 ? geteuid() == 0 : !a->privileged;
	return 0;
}

static void progress(const char *line, void *arg)
{
	(void)arg;
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K%s", line);
}

static int do_create(struct cli *c, struct create_args *a, struct cell_error *err)
{
	struct cell_create_req req = { .s = a->s, .packages = a->packages, .progress = progress,
				       .idmap_share = a->idmap_share };
	int r = cli_store(c, err);

	if (r >= 0)
		r = cell_manager_create(&c->st, &req, err);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
	if (req.notice)
		fprintf(stderr, "cell: %s (the host ids of unprivileged containers)\n", req.notice);
	free(req.notice);
	/* rootless: its root is the caller's own id (a user namespace of one id) */
	if (r >= 0 && !a->s->unprivileged && !c->st.rt.rootless)
		fprintf(stderr, "cell: warning: %s: privileged: yes (not root-safe): no user "
				"namespace, its root is host root\n", a->s->name);
	return r;
}

/* What create made: an unprivileged container's ids on the host (a privileged
 * one got its warning). */
static void say_made(const struct cell_settings *s)
{
	if (s->unprivileged)
		printf("%s: unprivileged: container ids 0-%u are host ids %u-%u\n", s->name,
		       s->idmap_size - 1, s->idmap_host, s->idmap_host + s->idmap_size - 1);
}

int cmd_create(struct cli *c, struct cell_error *err)
{
	struct create_args a = { 0 };
	int r;

	if (cli_help(c, CREATE_USAGE))
		return 0;
	r = parse(c, &a, false, err);
	if (r >= 0 && (a.rm || a.name || a.tty || a.interactive))
		r = cell_errx(err, EINVAL, "--rm, --name, -i and -t are options of cell run");
	if (r >= 0 && (r = cli_positional(c, 1, CREATE_USAGE, err)) >= 0) {
		a.s->name = xstrdup(c->argv[optind]);
		if (!cell_name_valid(a.s->name))
			r = cell_errx(err, EINVAL,
				      "invalid name \"%s\": 1-64 of [A-Za-z0-9_.-], starting with a letter or digit",
				      a.s->name);
	}
	a.s->system = true;
	if (r >= 0 && (r = do_create(c, &a, err)) >= 0)
		say_made(a.s);
	cell_settings_free(a.s);
	cell_strv_free(a.packages);
	return r;
}

#define RUN_USAGE "run [--rm] [-it] [--name N] [create options] TEMPLATE [-- CMD ARGS...]"

int cmd_run(struct cli *c, struct cell_error *err)
{
	struct create_args a = { 0 };
	struct cell_error ignored = { 0 };
	int r;

	if (cli_help(c, RUN_USAGE))
		return 0;
	if ((r = parse(c, &a, true, err)) < 0 || optind >= c->argc) {
		cell_settings_free(a.s);
		cell_strv_free(a.packages);
		return r < 0 ? r : cell_errx(err, EINVAL, "usage: cell %s", RUN_USAGE);
	}
	free(a.s->template_name);
	a.s->template_name = xstrdup(c->argv[optind++]);
	if (optind < c->argc && streq(c->argv[optind], "--"))
		optind++;
	if (optind < c->argc)
		a.s->command = cell_strv_copy(c->argv + optind);
	a.s->name = a.name ? xstrdup(a.name) : xasprintf("run-%d", (int)getpid());
	a.s->system = false;
	a.s->terminal = a.tty;
	if ((r = do_create(c, &a, err)) >= 0) {
		r = cell_manager_start(&c->st, a.s->name, CELL_START_RUN, err);
		if (r >= 0)
			c->exit_status = r;
		if (a.rm)
			(void)cell_manager_destroy(&c->st, a.s->name, true, &ignored);
	}
	cell_settings_free(a.s);
	cell_strv_free(a.packages);
	return r < 0 ? r : 0;
}
