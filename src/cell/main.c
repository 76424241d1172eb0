/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cell.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/log.h"
#include "libcell/base/util.h"
#include "libcell/sys/selfexec.h"

static const struct {
	const char *name;
	verb_fn fn;
	const char *help;
} verbs[] = {
	{ "create", cmd_create, "make a container from a template" },
	{ "start", cmd_start, "boot a container (detached; -a attaches)" },
	{ "stop", cmd_stop, "power a container off (kill after --timeout)" },
	{ "restart", cmd_restart, "stop, then start" },
	{ "kill", cmd_kill, "send a signal to the container's init" },
	{ "exec", cmd_exec, "run a command inside a running container" },
	{ "console", cmd_console, "attach to the console (detach: Ctrl-a q)" },
	{ "logs", cmd_logs, "print the console log" },
	{ "ls", cmd_ls, "list containers" },
	{ "info", cmd_info, "show one container" },
	{ "top", cmd_top, "processes of a container" },
	{ "run", cmd_run, "a throw-away app container" },
	{ "clone", cmd_clone, "copy a container (copy-on-write where storage allows)" },
	{ "snapshot", cmd_snapshot, "snapshot a container's root filesystem" },
	{ "snapshots", cmd_snapshots, "list snapshots" },
	{ "rollback", cmd_rollback, "return to a snapshot" },
	{ "destroy", cmd_destroy, "remove a container and its storage" },
	{ "config", cmd_config, "read or change persistent settings" },
	{ "network", cmd_network, "make, list, inspect and remove networks" },
	{ "systemd-unit", cmd_systemd_unit, "print a systemd unit for a container" },
	{ "enable", cmd_enable, "install and enable the systemd unit" },
	{ "disable", cmd_disable, "disable and remove the systemd unit" },
	{ "__finish", cmd_finish, NULL }, /* cell-monitor's last step */
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: cell [--root DIR] [--debug] COMMAND [options] [NAME]\n\n"
		   "cell manages system containers (a whole OS with its init) and throw-away\n"
		   "app containers, on the same engine as the OCI runtime cellrun.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (verbs[i].help)
			fprintf(f, "  %-13s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "\nGlobal options:\n"
		   "  --root DIR   the store (default /var/lib/cell, or $CELL_ROOT);\n"
		   "               runtime state lives in /run/cell (or $CELL_RUNTIME_DIR)\n"
		   "               networks: /var/lib/cell-net, /run/cell-net (or $CELL_NET_DIR,\n"
		   "               $CELL_NET_RUNTIME_DIR), shared by every store of the host;\n"
		   "               without root: <store>/net and <runtime dir>/net\n"
		   "  --json       print data as JSON (ls, info, snapshots, config)\n"
		   "  --debug      log debug messages\n"
		   "  --version    print the version\n\n"
		   "cell COMMAND --help shows a command's options.\n");
}

/* An empty variable counts as unset. */
static const char *env_path(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* Without root the host's /var/lib/cell-net and /run/cell-net are not ours:
 * the store's own places (a rootless store's networks are its own anyway). */
static char *net_dir(const char *env, const char *base, const char *fallback)
{
	const char *v = env_path(env);

	if (v)
		return xstrdup(v);
	if (geteuid() == 0)
		return NULL; /* libcell's default, shared by every store of the host */
	return xasprintf("%s/net", base ? base : fallback);
}

/* The store's places, from --root and the environment: libcell reads none. */
int cli_store(struct cli *c, struct cell_error *err)
{
	const char *root = c->root ? c->root : env_path("CELL_ROOT");
	_cleanup_free_ char *net_state = net_dir("CELL_NET_DIR", root, "/var/lib/cell");
	_cleanup_free_ char *net_run = net_dir("CELL_NET_RUNTIME_DIR", env_path("CELL_RUNTIME_DIR"),
					       "/run/cell");
	const struct cell_store_paths paths = {
		.root = root,
		.run = env_path("CELL_RUNTIME_DIR"),
		/* tests and CI point it at a persistent place, kept when a store goes */
		.cache = env_path("CELL_CACHE_DIR"),
		.cgroup_parent = env_path("CELL_CGROUP_PARENT"),
		.binary = getenv("CELL_BINARY"), /* set below, before the sealed re-exec */
		.subuid = env_path("CELL_SUBUID_FILE"),
		.subgid = env_path("CELL_SUBGID_FILE"),
		.idmap_registry = env_path("CELL_IDMAP_REGISTRY"),
		.net_state = net_state,
		.net_run = net_run,
	};

	return cell_store_open(&c->st, &paths, err);
}

bool cli_help(struct cli *c, const char *text)
{
	for (int i = 1; i < c->argc; i++) {
		if (streq(c->argv[i], "--"))
			break;
		if (streq(c->argv[i], "--help") || streq(c->argv[i], "-h")) {
			printf("Usage: cell %s\n", text);
			return true;
		}
	}
	return false;
}

int cli_positional(struct cli *c, int n, const char *text, struct cell_error *err)
{
	if (optind == 0)
		optind = 1; /* no getopt ran for this verb */
	if (c->argc - optind != n)
		return cell_errx(err, EINVAL, "usage: cell %s", text);
	return 0;
}

static int parse_global(int argc, char **argv, struct cli *c, struct cell_error *err)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' }, { "json", no_argument, NULL, 'j' },
		{ "debug", no_argument, NULL, 'd' },      { "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },       {},
	};
	int o;

	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (o) {
		case 'r': c->root = optarg; break;
		case 'j': c->json = true; break;
		case 'd': cell_log_set_level(CELL_LOG_DEBUG); break;
		case 'v': printf("cell version 0.1.0\n"); exit(0);
		case 'h': usage(stdout); exit(0);
		default: return cell_errx(err, EINVAL, "unknown option (see cell --help)");
		}
	}
	c->argc = argc - optind;
	c->argv = argv + optind;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	struct cell_error err = { 0 };
	char buf[CELL_ERROR_MSG + 128];
	int r;

	cell_log_set_program("cell");
	r = parse_global(argc, argv, &c, &err);

	if (r >= 0 && c.argc == 0) {
		usage(stderr);
		return 2;
	}
	if (r >= 0 && streq(c.argv[0], "help")) {
		usage(stdout);
		return 0;
	}
	/* Verbs that put a process of ours into a container run from a sealed
	 * copy of the binary (CVE-2019-5736); the real path stays known for
	 * cell-monitor and the systemd unit. */
	if (r >= 0 && !getenv("CELL_BINARY")) {
		char *self = realpath("/proc/self/exe", NULL);
		if (self)
			(void)setenv("CELL_BINARY", self, 1);
		free(self);
	}
	static const char *const sealed[] = { "create", "start", "restart", "run", "exec", NULL };
	if (r >= 0 && cell_strv_contains((char **)sealed, c.argv[0]))
		r = cell_selfexec_sealed(argc, argv, &err);
	bool found = false;
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(verbs); i++) {
		if (!streq(c.argv[0], verbs[i].name))
			continue;
		found = true;
		optind = 0;
		r = verbs[i].fn(&c, &err);
		break;
	}
	if (r >= 0 && !found)
		r = cell_errx(&err, EINVAL, "unknown command \"%s\" (see cell --help)", c.argv[0]);
	cell_store_close(&c.st);
	if (r >= 0)
		return c.exit_status;
	fprintf(stderr, "cell: %s\n", cell_err_text(&err, buf, sizeof(buf)));
	return 1;
}
