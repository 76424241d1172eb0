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
#include "libcell/sys/selfexec.h"

#define CELLRUN_VERSION "0.1.0"

static const struct {
	const char *name;
	cli_verb_fn fn;
	const char *help;
} verbs[] = {
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

static void usage(FILE *f)
{
	fprintf(f, "Usage: cellrun [global options] COMMAND [options] [ID]\n\n"
		   "cellrun is an OCI runtime (runtime-spec 1.2/1.3) with runc's command line.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "\nGlobal options:\n"
		   "  --root DIR            state directory (default /run/cellrun; for other users\n"
		   "                        $XDG_RUNTIME_DIR/cellrun or /tmp/cellrun-UID)\n"
		   "  --log FILE            write log messages to FILE\n"
		   "  --log-format FMT      text or json\n"
		   "  --debug               log debug messages\n"
		   "  --systemd-cgroup      cgroupsPath is \"slice:prefix:name\"\n"
		   "  --rootless MODE       auto, true or false\n"
		   "  --version, -v         print the version\n"
		   "  --help, -h            this help; COMMAND --help for a command's options\n");
}

/* runc's choice: /run for root, the user's runtime dir otherwise */
static const char *default_root(void)
{
	static char buf[256];
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		return "/run/cellrun";
	if (xdg && *xdg)
		(void)snprintf(buf, sizeof(buf), "%s/cellrun", xdg);
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
		case 'v': printf("cellrun version %s\nspec: 1.3.0\n", CELLRUN_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: return cell_err(err, EINVAL, "unknown global option (see cellrun --help)");
		}
	}
	if (!streq(fmt, "text") && !streq(fmt, "json"))
		return cell_err(err, EINVAL, "--log-format %s: want text or json", fmt);
	if (log && cell_log_open(log, streq(fmt, "json") ? CELL_LOG_JSON : CELL_LOG_TEXT) < 0)
		return cell_err(err, errno, "open log file %s", log);
	if (!log)
		(void)cell_log_open(NULL, streq(fmt, "json") ? CELL_LOG_JSON : CELL_LOG_TEXT);
	/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): getopt sets optarg for -R */
	if (streq(rootless, "auto"))
		c->rt.rootless = geteuid() != 0;
	else if (streq(rootless, "true") || streq(rootless, "false"))
		c->rt.rootless = streq(rootless, "true");
	else
		return cell_err(err, EINVAL, "--rootless %s: want auto, true or false", rootless);
	c->argc = argc - optind;
	c->argv = argv + optind;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c = { .prog = "cellrun" };
	struct cell_error err = { 0 };
	char buf[CELL_ERROR_MSG + 128];
	int r = parse_global(argc, argv, &c, &err);

	if (r >= 0 && c.argc == 0) {
		usage(stderr);
		return 2;
	}
	/* verbs that put a runtime process into a container run from a sealed copy */
	if (r >= 0 &&
	    (streq(c.argv[0], "create") || streq(c.argv[0], "run") || streq(c.argv[0], "exec")))
		r = cell_selfexec_sealed(argc, argv, &err);
	if (r >= 0 && streq(c.argv[0], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(verbs); i++) {
		if (!streq(c.argv[0], verbs[i].name))
			continue;
		optind = 0; /* reset getopt for the verb's own options */
		r = verbs[i].fn(&c, &err);
		if (r >= 0)
			return c.exit_status;
		break;
	}
	if (r >= 0)
		(void)cell_err(&err, EINVAL, "unknown command \"%s\" (see cellrun --help)",
			       c.argv[0]);
	cell_err_text(&err, buf, sizeof(buf));
	if (cell_log_to_file())
		cell_log(CELL_LOG_ERROR, "%s", buf);
	fprintf(stderr, "cellrun: %s\n", buf);
	return 1;
}
