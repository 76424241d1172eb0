/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* cellrun: the OCI runtime front-end.  One function per verb; main.c owns
 * global options, dispatch and printing the one error line. */
#include <stdbool.h>
#include <stdio.h>
#include "libcell/base/error.h"
#include "libcell/container.h"

struct cli {
	struct cell_runtime rt;
	const char *prog;
	int argc;    /* the verb's arguments, argv[0] is the verb */
	char **argv;
	int exit_status; /* set by verbs that pass a container's status on */
	int error_status; /* the exit status of a failure, when not runc's usual 1 (exec: 255) */
};

typedef int (*cli_verb_fn)(struct cli *c, struct cell_error *err);

struct cli_verb {
	const char *name;
	cli_verb_fn fn;
	const char *help;
};

/* help.c: runc's (urfave/cli) layout of --version and help pages */
const char *cli_prog_name(const char *argv0);
void cli_print_version(const char *prog);
void cli_print_help(FILE *f, const char *prog, const struct cli_verb *verbs, size_t n);
void cli_print_verb_name(const char *prog, const struct cli_verb *v);
/* -h or --help among the options before the first argument */
bool cli_wants_help(int argc, char **argv);

int cmd_create(struct cli *c, struct cell_error *err);
int cmd_start(struct cli *c, struct cell_error *err);
int cmd_run(struct cli *c, struct cell_error *err);
int cmd_state(struct cli *c, struct cell_error *err);
int cmd_kill(struct cli *c, struct cell_error *err);
int cmd_delete(struct cli *c, struct cell_error *err);
int cmd_list(struct cli *c, struct cell_error *err);
int cmd_ps(struct cli *c, struct cell_error *err);
int cmd_pause(struct cli *c, struct cell_error *err);
int cmd_resume(struct cli *c, struct cell_error *err);
int cmd_exec(struct cli *c, struct cell_error *err);
int cmd_update(struct cli *c, struct cell_error *err);
int cmd_spec(struct cli *c, struct cell_error *err);
int cmd_features(struct cli *c, struct cell_error *err);
int cmd_checkpoint(struct cli *c, struct cell_error *err);
int cmd_restore(struct cli *c, struct cell_error *err);
int cmd_events(struct cli *c, struct cell_error *err);

/* Exactly one positional argument (the id) after the options. */
int cli_one_id(struct cli *c, int optind_, const char **id, struct cell_error *err);
/* Signal by name ("TERM", "SIGTERM", "RTMIN+1") or number. */
int cli_parse_signal(const char *s, int *sig);
/* "512m" style sizes (runc's RAMInBytes); -1 stays -1. */
int cli_parse_size(const char *s, long long *out);
/* A Go duration ("5s", "250ms", "1m30s") in milliseconds, rounded up. */
int cli_parse_duration(const char *s, long long *ms);
