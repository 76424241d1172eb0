/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cellrun.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/log.h"
#include "libcell/base/util.h"
#include "libcell/sys/privilege.h"
#include "libcell/sys/selfexec.h"

static const struct cli_verb verbs[] = {
	{ "create", cmd_create, "create a container (its process waits for start)" },
	{ "start", cmd_start, "start the process of a created container" },
	{ "run", cmd_run, "create and start; in the foreground exits with the container's status" },
	{ "state", cmd_state, "print the state of a container as JSON" },
	{ "kill", cmd_kill, "send a signal (default SIGTERM) to the container's init" },
	{ "delete", cmd_delete, "delete a stopped (or, with --force, any) container" },
	{ "list", cmd_list, "list containers" },
	{ "ps", cmd_ps, "list the processes of a container" },
	{ "exec", cmd_exec, "run a new process inside a running container" },
	{ "pause", cmd_pause, "freeze every process of a container" },
	{ "resume", cmd_resume, "thaw a paused container" },
	{ "update", cmd_update, "change a running container's resource limits" },
	{ "events", cmd_events, "print a container's resource usage (and OOM events) as JSON" },
	{ "checkpoint", cmd_checkpoint, "checkpoint a container (needs CRIU: not supported yet)" },
	{ "restore", cmd_restore, "restore a checkpoint (needs CRIU: not supported yet)" },
	{ "spec", cmd_spec, "write a default config.json" },
	{ "features", cmd_features, "print the runtime's features document" },
};

/* runc's choice: /run for root, the user's runtime dir otherwise */
/* runc's rule for $XDG_RUNTIME_DIR: honoured by every user but the host's root;
 * root in a user namespace (rootless podman) honours it unless $USER is root. */
static bool honour_xdg_runtime_dir(const char *xdg)
{
	const char *user = getenv("USER");

	if (!xdg || !*xdg)
		return false;
	if (geteuid() != 0)
		return true;
	if (!cell_running_in_userns())
		return false;
	return !user || !streq(user, "root");
}

static const char *default_root(void)
{
	static char buf[256];
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (honour_xdg_runtime_dir(xdg))
		(void)snprintf(buf, sizeof(buf), "%s/cellrun", xdg);
	else if (geteuid() == 0)
		return "/run/cellrun";
	else
		(void)snprintf(buf, sizeof(buf), "/tmp/cellrun-%u", (unsigned)geteuid());
	return buf;
}

static int parse_global(int argc, char **argv, struct cli *c, struct cell_error *err)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "systemd-cgroup", no_argument, NULL, 's' },
		{ "rootless", required_argument, NULL, 'R' },
		{ "criu", required_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *log = NULL, *fmt = "text", *rootless = "auto";
	int o;

	c->rt.root = default_root();
	while ((o = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (o) {
		case 'r': c->rt.root = optarg; break;
		case 'l': log = optarg; break;
		case 'f': fmt = optarg; break;
		case 'd': cell_log_set_level(CELL_LOG_DEBUG); break;
		case 's': c->rt.systemd_cgroup = true; break;
		case 'R': rootless = optarg; break;
		case 'C': break; /* accepted for runc compatibility */
		case 'v': cli_print_version(c->prog); exit(0);
		case 'h': cli_print_help(stdout, c->prog, verbs, ARRAY_SIZE(verbs)); exit(0);
		default: return cell_err(err, EINVAL, "unknown global option (see cellrun --help)");
		}
	}
	if (!streq(fmt, "text") && !streq(fmt, "json"))
		return cell_err(err, EINVAL, "--log-format %s: want text or json", fmt);
	if (log && cell_log_open(log, streq(fmt, "json") ? CELL_LOG_JSON : CELL_LOG_LOGFMT) < 0)
		return cell_err(err, errno, "open log file %s", log);
	if (!log)
		(void)cell_log_open(NULL, streq(fmt, "json") ? CELL_LOG_JSON : CELL_LOG_LOGFMT);
	/* auto: rootless unless the host's root; root in a user namespace cannot
	 * create cgroups that were not delegated to it, so is rootless too (runc's
	 * cgroupfs rule; with --systemd-cgroup runc asks the bus, cellrun does not) */
	/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): getopt sets optarg for -R */
	if (streq(rootless, "auto"))
		c->rt.rootless = !cell_really_root();
	else if (streq(rootless, "true") || streq(rootless, "false"))
		c->rt.rootless = streq(rootless, "true");
	else
		return cell_err(err, EINVAL, "--rootless %s: want auto, true or false", rootless);
	c->argc = argc - optind;
	c->argv = argv + optind;
	return 0;
}

/* `help [VERB]`, `h [VERB]`, `version`; 0 when argv[0] is none of them. */
static int no_help_topic(struct cli *c, const char *topic, struct cell_error *err)
{
	c->error_status = 3; /* urfave/cli's, so runc's */
	return cell_errx(err, ENOENT, "No help topic for '%s'", topic);
}

static int builtin_verb(struct cli *c, const struct cli_verb **verb, struct cell_error *err)
{
	const char *topic = c->argc > 1 ? c->argv[1] : NULL;

	if (streq(c->argv[0], "version")) {
		cli_print_version(c->prog);
		return 1;
	}
	if (!streq(c->argv[0], "help") && !streq(c->argv[0], "h"))
		return 0;
	if (!topic) {
		cli_print_help(stdout, c->prog, verbs, ARRAY_SIZE(verbs));
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (streq(topic, verbs[i].name)) {
			*verb = &verbs[i];
			return 0;
		}
	return no_help_topic(c, topic, err);
}

static const struct cli_verb *find_verb(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (streq(name, verbs[i].name))
			return &verbs[i];
	return NULL;
}

/* Runs the verb; `help VERB` and `VERB --help` get runc's NAME: header first. */
static int dispatch(struct cli *c, struct cell_error *err)
{
	static char help_flag[] = "--help";
	static char *help_argv[3] = { NULL, help_flag, NULL }; /* c->argv outlives us */
	const struct cli_verb *v = NULL;
	int r = builtin_verb(c, &v, err);

	if (r != 0)
		return r < 0 ? r : 0;
	if (v) {
		help_argv[0] = c->argv[1];
		c->argc = 2;
		c->argv = help_argv;
	} else if (!(v = find_verb(c->argv[0]))) {
		/* urfave/cli's words, which runc's tests and users know */
		return no_help_topic(c, c->argv[0], err);
	}
	if (cli_wants_help(c->argc, c->argv))
		cli_print_verb_name(c->prog, v);
	/* reset getopt for the verb's own options.  The verbs take options after their
	 * arguments too (GNU permutation), as runc's CLI reorders them (urfave/cli v1)
	 * for every verb but exec and ps ("+": what follows the id is the command's). */
	optind = 0;
	return v->fn(c, err);
}

/* runc's statuses: 3 for a help topic that does not exist (urfave/cli), 255
 * when exec fails before its process runs ("exec failed: ..."), else 1. */
static int exit_code(const struct cli *c)
{
	/* exec sets 255 once its arguments parse (runc: a failed exec is told
	 * apart from the process's own status); a usage error stays 1 */
	return c->error_status ? c->error_status : 1;
}

int main(int argc, char **argv)
{
	struct cli c = { .prog = cli_prog_name(argv[0]) };
	struct cell_error err = { 0 };
	char buf[CELL_ERROR_MSG + 128];
	int r = parse_global(argc, argv, &c, &err);

	if (r >= 0 && c.argc == 0) {
		/* runc prints its help to stdout and exits 0 */
		cli_print_help(stdout, c.prog, verbs, ARRAY_SIZE(verbs));
		return 0;
	}
	/* verbs that put a runtime process into a container run from a sealed copy */
	if (r >= 0 &&
	    (streq(c.argv[0], "create") || streq(c.argv[0], "run") || streq(c.argv[0], "exec")))
		r = cell_selfexec_sealed(argc, argv, &err);
	if (r >= 0 && dispatch(&c, &err) >= 0)
		return c.exit_status;
	cell_err_text(&err, buf, sizeof(buf));
	if (cell_log_to_file())
		cell_log(CELL_LOG_ERROR, "%s", buf);
	fprintf(stderr, "cellrun: %s\n", buf);
	return exit_code(&c);
}
