/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* clone, snapshot, snapshots, rollback */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"

int cmd_clone(struct cli *c, struct cell_error *err)
{
	_cleanup_free_ char *notice = NULL;
	int r;

	if (cli_help(c, "clone SRC DST   (SRC stopped; copy-on-write where storage allows)"))
		return 0;
	if (c->argc != 3)
		return cell_errx(err, EINVAL, "usage: cell clone SRC DST");
	if ((r = cli_store(c, err)) < 0)
		return r;
	r = cell_manager_clone(&c->st, c->argv[1], c->argv[2], &notice, err);
	if (notice)
		fprintf(stderr, "cell: %s (the host ids of unprivileged containers)\n", notice);
	return r;
}

int cmd_snapshot(struct cli *c, struct cell_error *err)
{
	_cleanup_free_ char *made = NULL;
	int r;

	if (cli_help(c, "snapshot NAME [SNAP]"))
		return 0;
	if (c->argc != 2 && c->argc != 3)
		return cell_errx(err, EINVAL, "usage: cell snapshot NAME [SNAP]");
	if ((r = cli_store(c, err)) < 0 ||
	    (r = cell_manager_snapshot(&c->st, c->argv[1], c->argc == 3 ? c->argv[2] : NULL, &made,
				       err)) < 0)
		return r;
	printf("%s\n", made);
	return 0;
}

int cmd_snapshots(struct cli *c, struct cell_error *err)
{
	_cleanup_strv_free_ char **snaps = NULL;
	bool json = c->json;
	int r;

	if (cli_help(c, "snapshots NAME [--json]"))
		return 0;
	if (c->argc == 3 && streq(c->argv[2], "--json")) {
		json = true;
		c->argc = 2;
	}
	if (c->argc != 2)
		return cell_errx(err, EINVAL, "usage: cell snapshots NAME [--json]");
	if ((r = cli_store(c, err)) < 0 ||
	    (r = cell_manager_snapshots(&c->st, c->argv[1], &snaps, err)) < 0)
		return r;
	if (!json) {
		for (size_t i = 0; snaps[i]; i++)
			printf("%s\n", snaps[i]);
		return 0;
	}
	json_t *a = json_array();
	for (size_t i = 0; snaps[i]; i++)
		json_array_append_new(a, json_string(snaps[i]));
	_cleanup_free_ char *t = json_dumps(a, JSON_INDENT(2));
	printf("%s\n", t);
	json_decref(a);
	return 0;
}

int cmd_rollback(struct cli *c, struct cell_error *err)
{
	int r;

	if (cli_help(c, "rollback NAME SNAP   (NAME stopped)"))
		return 0;
	if (c->argc != 3)
		return cell_errx(err, EINVAL, "usage: cell rollback NAME SNAP");
	if ((r = cli_store(c, err)) < 0)
		return r;
	return cell_manager_rollback(&c->st, c->argv[1], c->argv[2], err);
}
