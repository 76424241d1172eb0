/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* start, stop, restart, kill, destroy, exec */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/signame.h"
#include "libcell/base/util.h"

static int one_name(struct cli *c, const char *usage, const struct option *opts,
		    const char *shorts, int (*on_opt)(int, const char *, void *), void *arg,
		    struct cell_error *err)
{
	int o, r;

	while ((o = getopt_long(c->argc, c->argv, shorts, opts, NULL)) != -1) {
		if (o == '?' || !on_opt)
			return cell_errx(err, EINVAL, "usage: cell %s", usage);
		if (on_opt(o, optarg, arg) < 0)
			return cell_errx(err, EINVAL, "usage: cell %s", usage);
	}
	if ((r = cli_positional(c, 1, usage, err)) < 0)
		return r;
	return cli_store(c, err);
}

struct start_args {
	bool attach, all;
};

static int start_opt(int o, const char *v, void *arg)
{
	struct start_args *a = arg;
	(void)v;
	if (o == 'a')
		a->attach = true;
	else if (o == 'A')
		a->all = true;
	else
		return -EINVAL;
	return 0;
}

static int start_autostart(struct cli *c, struct cell_error *err)
{
	_cleanup_strv_free_ char **names = NULL;
	int r = cli_store(c, err), failed = 0;

	if (r < 0 || (r = cell_store_list(&c->st, &names, err)) < 0)
		return r;
	for (size_t i = 0; names[i]; i++) {
		struct cell_settings *s = NULL;
		struct cell_error e = { 0 };
		char buf[CELL_ERROR_MSG + 64];
		if (cell_settings_load(&c->st, names[i], &s, &e) == 0 && s->autostart &&
		    cell_supervisor_pid(&c->st, names[i]) <= 0 &&
		    cell_manager_start(&c->st, names[i], CELL_START_DETACHED, &e) < 0) {
			fprintf(stderr, "cell: %s\n", cell_err_text(&e, buf, sizeof(buf)));
			failed++;
		}
		cell_settings_free(s);
	}
	return failed ? cell_errx(err, EIO, "%d container(s) failed to start", failed) : 0;
}

int cmd_start(struct cli *c, struct cell_error *err)
{
	static const struct option opts[] = { { "foreground", no_argument, NULL, 'a' },
					      { "attach", no_argument, NULL, 'a' },
					      { "all-autostart", no_argument, NULL, 'A' },
					      {} };
	const char *usage = "start NAME [--foreground|-a] | start --all-autostart";
	struct start_args a = { 0 };
	int r;

	if (cli_help(c, usage))
		return 0;
	if (c->argc == 2 && streq(c->argv[1], "--all-autostart"))
		return start_autostart(c, err);
	if ((r = one_name(c, usage, opts, "a", start_opt, &a, err)) < 0)
		return r;
	r = cell_manager_start(&c->st, c->argv[optind],
			       a.attach ? CELL_START_FOREGROUND : CELL_START_DETACHED, err);
	if (r > 0)
		c->exit_status = r;
	return r < 0 ? r : 0;
}

static int timeout_opt(int o, const char *v, void *arg)
{
	long long n;
	if (o != 't' || cell_parse_long(v, &n) < 0 || n < 0 || n > 86400)
		return -EINVAL;
	*(int *)arg = (int)n;
	return 0;
}

static const struct option timeout_opts[] = { { "timeout", required_argument, NULL, 't' }, {} };

int cmd_stop(struct cli *c, struct cell_error *err)
{
	const char *usage = "stop NAME [--timeout SECONDS]   (default 30)";
	int timeout = 30, r;

	if (cli_help(c, usage))
		return 0;
	if ((r = one_name(c, usage, timeout_opts, "t:", timeout_opt, &timeout, err)) < 0)
		return r;
	return cell_manager_stop(&c->st, c->argv[optind], timeout, err);
}

int cmd_restart(struct cli *c, struct cell_error *err)
{
	const char *usage = "restart NAME [--timeout SECONDS]";
	int timeout = 30, r;

	if (cli_help(c, usage))
		return 0;
	if ((r = one_name(c, usage, timeout_opts, "t:", timeout_opt, &timeout, err)) < 0)
		return r;
	struct cell_info i;
	if ((r = cell_manager_info(&c->st, c->argv[optind], &i, err)) < 0)
		return r;
	cell_info_free(&i);
	/* a container that lost its supervisor is stopped the same way */
	if ((i.supervisor > 0 || i.supervisor_lost) &&
	    (r = cell_manager_stop(&c->st, c->argv[optind], timeout, err)) < 0)
		return r;
	return cell_manager_start(&c->st, c->argv[optind], CELL_START_DETACHED, err) < 0 ? -1 : 0;
}

int cmd_kill(struct cli *c, struct cell_error *err)
{
	const char *usage = "kill NAME [SIGNAL]   (default SIGKILL)";
	int sig = SIGKILL, r;

	if (cli_help(c, usage))
		return 0;
	if (c->argc == 3) {
		if (cell_signal_parse(c->argv[2], &sig) < 0)
			return cell_errx(err, EINVAL, "kill: unknown signal \"%s\"", c->argv[2]);
		c->argc = 2;
	}
	if ((r = one_name(c, usage, NULL, "", NULL, NULL, err)) < 0)
		return r;
	return cell_manager_kill(&c->st, c->argv[optind], sig, err);
}

static int force_opt(int o, const char *v, void *arg)
{
	(void)v;
	if (o != 'f')
		return -EINVAL;
	*(bool *)arg = true;
	return 0;
}

int cmd_destroy(struct cli *c, struct cell_error *err)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, {} };
	const char *usage = "destroy NAME [--force]";
	bool force = false;
	int r;

	if (cli_help(c, usage))
		return 0;
	if ((r = one_name(c, usage, opts, "f", force_opt, &force, err)) < 0)
		return r;
	return cell_manager_destroy(&c->st, c->argv[optind], force, err);
}

/* `cell __finish NAME STATUS`: run by cell-monitor when the init exited. */
int cmd_finish(struct cli *c, struct cell_error *err)
{
	long long status;
	int r;

	if (c->argc != 3 || cell_parse_long(c->argv[2], &status) < 0)
		return cell_errx(err, EINVAL, "__finish is cell-monitor's, not for hand use");
	if ((r = cli_store(c, err)) < 0)
		return r;
	c->exit_status = cell_supervise_finish(&c->st, c->argv[1], (int)status);
	return 0;
}
