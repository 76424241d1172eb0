/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state, list */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellrun.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"

int cmd_state(struct cli *c, struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *st = NULL;
	enum cell_status s;
	const char *id;
	int r;

	if (c->argc == 2 && (streq(c->argv[1], "--help") || streq(c->argv[1], "-h"))) {
		printf("Usage: cellrun state ID\n");
		return 0;
	}
	if ((r = cli_one_id(c, 1, &id, err)) < 0 ||
	    (r = cell_container_state(&c->rt, id, &st, &s, err)) < 0)
		return r;
	_cleanup_free_ char *json = cell_state_oci_json(st, s, true);
	printf("%s\n", json);
	return 0;
}

static int format_opt(struct cli *c, bool *json, bool *quiet, const char *usage,
		      struct cell_error *err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int o;

	while ((o = getopt_long(c->argc, c->argv, "f:qh", opts, NULL)) != -1) {
		if (o == 'f' && (streq(optarg, "json") || streq(optarg, "table")))
			*json = streq(optarg, "json");
		else if (o == 'q' && quiet)
			*quiet = true;
		else if (o == 'h') {
			printf("Usage: cellrun %s\n", usage);
			return 1;
		} else
			return cell_err(err, EINVAL, "%s: bad option (see --help)", c->argv[0]);
	}
	return 0;
}

static void list_print(struct cli *c, const char *id, bool json, bool quiet, json_t *arr)
{
	struct cell_state *st = NULL;
	struct cell_error ignored = { 0 };
	enum cell_status s;

	if (quiet) {
		printf("%s\n", id);
		return;
	}
	if (cell_container_state(&c->rt, id, &st, &s, &ignored) < 0) {
		/* damaged state (or being made or removed): no OCI state to give; the
		 * table still shows the id, for delete --force */
		if (!json)
			printf("%-20s %-8d %-10s %-40s %s\n", id, 0, "unknown", "", "");
		return;
	}
	if (json) {
		_cleanup_free_ char *one = cell_state_oci_json(st, s, false);
		json_array_append_new(arr, json_loads(one, 0, NULL));
	} else {
		printf("%-20s %-8d %-10s %-40s %s\n", st->id, s == CELL_STOPPED ? 0 : (int)st->pid,
		       cell_status_name(s), st->bundle, st->created ? st->created : "");
	}
	cell_state_free(st);
}

int cmd_list(struct cli *c, struct cell_error *err)
{
	_cleanup_strv_free_ char **ids = NULL;
	bool json = false, quiet = false;
	int r = format_opt(c, &json, &quiet, "list [-q] [--format table|json]", err);

	if (r != 0)
		return r < 0 ? r : 0;
	if ((r = cell_container_list(&c->rt, &ids, err)) < 0)
		return r;
	json_t *arr = json_array();
	if (!json && !quiet)
		printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
	for (size_t i = 0; ids[i]; i++)
		list_print(c, ids[i], json, quiet, arr);
	if (json) {
		_cleanup_free_ char *text = json_dumps(arr, JSON_COMPACT);
		printf("%s\n", text);
	}
	json_decref(arr);
	return 0;
}

