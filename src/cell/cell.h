/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* cell: the system- and app-container manager front-end (one file per verb group). */
#include <stdbool.h>
#include "libcell/base/error.h"
#include "libcell/manager/manager.h"

struct cli {
	struct cell_store st;
	const char *root; /* --root */
	bool json;        /* --json (global or per verb) */
	int argc;
	char **argv;      /* argv[0] is the verb */
	int exit_status;
};

typedef int (*verb_fn)(struct cli *c, struct cell_error *err);

int cmd_create(struct cli *c, struct cell_error *err);
int cmd_start(struct cli *c, struct cell_error *err);
int cmd_stop(struct cli *c, struct cell_error *err);
int cmd_restart(struct cli *c, struct cell_error *err);
int cmd_kill(struct cli *c, struct cell_error *err);
int cmd_exec(struct cli *c, struct cell_error *err);
int cmd_console(struct cli *c, struct cell_error *err);
int cmd_logs(struct cli *c, struct cell_error *err);
int cmd_ls(struct cli *c, struct cell_error *err);
int cmd_info(struct cli *c, struct cell_error *err);
int cmd_top(struct cli *c, struct cell_error *err);
int cmd_run(struct cli *c, struct cell_error *err);
int cmd_clone(struct cli *c, struct cell_error *err);
int cmd_snapshot(struct cli *c, struct cell_error *err);
int cmd_snapshots(struct cli *c, struct cell_error *err);
int cmd_rollback(struct cli *c, struct cell_error *err);
int cmd_destroy(struct cli *c, struct cell_error *err);
int cmd_config(struct cli *c, struct cell_error *err);
int cmd_network(struct cli *c, struct cell_error *err);
int cmd_systemd_unit(struct cli *c, struct cell_error *err);
int cmd_enable(struct cli *c, struct cell_error *err);
int cmd_disable(struct cli *c, struct cell_error *err);
int cmd_finish(struct cli *c, struct cell_error *err);

/* Open the store once a verb knows it needs it. */
int cli_store(struct cli *c, struct cell_error *err);
/* `--help` as the only argument: print usage, return true. */
bool cli_help(struct cli *c, const char *usage);
/* Exactly n positional args remain after options (optind). */
int cli_positional(struct cli *c, int n, const char *usage, struct cell_error *err);
