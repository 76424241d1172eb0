/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create, start, run, delete, kill, pause, resume */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cellrun.h"
#include "libcell/base/util.h"

enum { OPT_BUNDLE = 'b', OPT_DETACH = 'd', OPT_HELP = 'h', OPT_CONSOLE = 256, OPT_PIDFILE,
       OPT_NOPIVOT, OPT_NOKEYRING, OPT_PRESERVE, OPT_NOSUBREAPER, OPT_KEEP };

static const struct option create_opts[] = {
	{ "bundle", required_argument, NULL, OPT_BUNDLE },
	{ "console-socket", required_argument, NULL, OPT_CONSOLE },
	{ "pid-file", required_argument, NULL, OPT_PIDFILE },
	{ "no-pivot", no_argument, NULL, OPT_NOPIVOT },
	{ "no-new-keyring", no_argument, NULL, OPT_NOKEYRING },
	{ "preserve-fds", required_argument, NULL, OPT_PRESERVE },
	{ "detach", no_argument, NULL, OPT_DETACH },
	{ "no-subreaper", no_argument, NULL, OPT_NOSUBREAPER },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "help", no_argument, NULL, OPT_HELP },
	{},
};

static void create_usage(const char *verb)
{
	printf("Usage: cellrun %s [options] ID\n\n"
	       "  -b, --bundle DIR        the bundle (default: current directory)\n"
	       "      --console-socket P  send the terminal master to this unix socket\n"
	       "      --pid-file P        write the container's pid here\n"
	       "      --no-pivot          use MS_MOVE+chroot instead of pivot_root\n"
	       "      --no-new-keyring    keep the caller's session keyring\n"
	       "      --preserve-fds N    pass N extra fds (from 3) to the container\n%s",
	       verb, streq(verb, "run") ? "  -d, --detach            do not wait for the container\n"
				    "      --keep              keep the stopped container until delete\n"
				  : "");
}

/* Socket activation: LISTEN_FDS fds from 3 on, when LISTEN_PID names us (sd_listen_fds). */
static int listen_fds_of_env(void)
{
	const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	long long n, p;

	if (!fds || !pid || cell_parse_long(fds, &n) < 0 || cell_parse_long(pid, &p) < 0)
		return 0;
	return p == (long long)getpid() && n > 0 && n <= 65536 ? (int)n : 0;
}

static int parse_create(struct cli *c, struct cell_create_opts *o, bool *detach, bool *help,
			struct cell_error *err)
{
	long long n;
	int opt;

	while ((opt = getopt_long(c->argc, c->argv, "b:dh", create_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_BUNDLE: o->bundle = optarg; break;
		case OPT_CONSOLE: o->console_socket = optarg; break;
		case OPT_PIDFILE: o->pid_file = optarg; break;
		case OPT_NOPIVOT: o->no_pivot = true; break;
		case OPT_NOKEYRING: o->no_new_keyring = true; break;
		case OPT_PRESERVE:
			if (cell_parse_long(optarg, &n) < 0 || n < 0 || n > 65536)
				return cell_err(err, EINVAL, "--preserve-fds %s: want a count", optarg);
			o->preserve_fds = (int)n;
			break;
		case OPT_DETACH: *detach = true; break;
		case OPT_KEEP: o->keep = true; break;
		case OPT_NOSUBREAPER: break;
		case OPT_HELP: *help = true; return 0;
		default: return cell_err(err, EINVAL, "%s: unknown option (see --help)", c->argv[0]);
		}
	}
	o->listen_fds = listen_fds_of_env();
	return cli_one_id(c, optind, &o->id, err);
}

int cmd_create(struct cli *c, struct cell_error *err)
{
	struct cell_create_opts o = { 0 };
	bool detach = false, help = false;
	int r = parse_create(c, &o, &detach, &help, err);

	if (help) {
		create_usage("create");
		return 0;
	}
	return r < 0 ? r : cell_container_create(&c->rt, &o, err);
}

int cmd_run(struct cli *c, struct cell_error *err)
{
	struct cell_create_opts o = { 0 };
	bool detach = false, help = false;
	int r = parse_create(c, &o, &detach, &help, err);

	if (help) {
		create_usage("run");
		return 0;
	}
	if (r < 0)
		return r;
	return cell_container_run(&c->rt, &o, detach, &c->exit_status, err);
}

/* Verbs whose only option is --help (and maybe --force/--all). */
static int simple_args(struct cli *c, const char *usage, const char **id, bool *flag,
		       const char *flag_name, struct cell_error *err)
{
	const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ flag_name ? flag_name : "help", no_argument, NULL, 'f' },
		{},
	};
	/* runc's short forms: delete -f, kill -a */
	const char *shorts = !flag_name ? "h" : streq(flag_name, "all") ? "ha" : "hf";
	int opt;

	while ((opt = getopt_long(c->argc, c->argv, shorts, opts, NULL)) != -1) {
		if (opt == 'a')
			opt = 'f';
		if (opt == 'h') {
			printf("Usage: cellrun %s\n", usage);
			*id = NULL;
			return 0;
		}
		if (opt == 'f' && flag) {
			*flag = true;
			continue;
		}
		return cell_err(err, EINVAL, "%s: unknown option (see --help)", c->argv[0]);
	}
	if (flag_name && flag && !strcmp(flag_name, "all") && optind + 2 == c->argc)
		return 0; /* kill ID SIGNAL */
	return cli_one_id(c, optind, id, err);
}

int cmd_start(struct cli *c, struct cell_error *err)
{
	const char *id = NULL;
	int r = simple_args(c, "start ID", &id, NULL, NULL, err);
	return r < 0 || !id ? r : cell_container_start(&c->rt, id, err);
}

int cmd_delete(struct cli *c, struct cell_error *err)
{
	const char *id = NULL;
	bool force = false;
	int r = simple_args(c, "delete [--force] ID", &id, &force, "force", err);
	return r < 0 || !id ? r : cell_container_delete(&c->rt, id, force, err);
}

int cmd_pause(struct cli *c, struct cell_error *err)
{
	const char *id = NULL;
	int r = simple_args(c, "pause ID", &id, NULL, NULL, err);
	return r < 0 || !id ? r : cell_container_pause(&c->rt, id, true, err);
}

int cmd_resume(struct cli *c, struct cell_error *err)
{
	const char *id = NULL;
	int r = simple_args(c, "resume ID", &id, NULL, NULL, err);
	return r < 0 || !id ? r : cell_container_pause(&c->rt, id, false, err);
}

int cmd_kill(struct cli *c, struct cell_error *err)
{
	const char *id = NULL;
	bool all = false;
	int sig = SIGTERM;
	int r = simple_args(c, "kill [--all] ID [SIGNAL]", &id, &all, "all", err);

	if (r < 0)
		return r;
	if (!id && optind + 2 == c->argc) {
		id = c->argv[optind];
		if (cli_parse_signal(c->argv[optind + 1], &sig) < 0)
			return cell_err(err, EINVAL, "kill: unknown signal \"%s\"", c->argv[optind + 1]);
	}
	return id ? cell_container_kill(&c->rt, id, sig, all, err) : 0;
}
