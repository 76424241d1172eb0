/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * checkpoint / restore.  cellrun has no CRIU integration yet: both verbs take runc's
 * flags (so a caller's command line parses), check the container as runc does, then
 * fail as runc fails without criu: one error line, exit status 1.  Unlike runc, a
 * failed checkpoint leaves the container as it was.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cellrun.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/spec/state.h"

#define ARG required_argument
#define NOARG no_argument

/* runc 1.1.5 checkpoint.go */
static const struct option checkpoint_opts[] = {
	{ "image-path", ARG, NULL, 0 },	   { "work-path", ARG, NULL, 0 },
	{ "parent-path", ARG, NULL, 0 },   { "leave-running", NOARG, NULL, 0 },
	{ "tcp-established", NOARG, NULL, 0 }, { "ext-unix-sk", NOARG, NULL, 0 },
	{ "shell-job", NOARG, NULL, 0 },   { "lazy-pages", NOARG, NULL, 0 },
	{ "status-fd", ARG, NULL, 0 },	   { "page-server", ARG, NULL, 0 },
	{ "file-locks", NOARG, NULL, 0 },  { "pre-dump", NOARG, NULL, 0 },
	{ "manage-cgroups-mode", ARG, NULL, 0 }, { "empty-ns", ARG, NULL, 0 },
	{ "auto-dedup", NOARG, NULL, 0 },  { "help", NOARG, NULL, 'h' },
	{},
};

/* runc 1.1.5 restore.go */
static const struct option restore_opts[] = {
	{ "console-socket", ARG, NULL, 0 }, { "image-path", ARG, NULL, 0 },
	{ "work-path", ARG, NULL, 0 },	    { "tcp-established", NOARG, NULL, 0 },
	{ "ext-unix-sk", NOARG, NULL, 0 },  { "shell-job", NOARG, NULL, 0 },
	{ "file-locks", NOARG, NULL, 0 },   { "manage-cgroups-mode", ARG, NULL, 0 },
	{ "bundle", ARG, NULL, 'b' },	    { "detach", NOARG, NULL, 'd' },
	{ "pid-file", ARG, NULL, 0 },	    { "no-subreaper", NOARG, NULL, 0 },
	{ "no-pivot", NOARG, NULL, 0 },	    { "empty-ns", ARG, NULL, 0 },
	{ "auto-dedup", NOARG, NULL, 0 },   { "lazy-pages", NOARG, NULL, 0 },
	{ "lsm-profile", ARG, NULL, 0 },    { "lsm-mount-context", ARG, NULL, 0 },
	{ "help", NOARG, NULL, 'h' },
	{},
};

struct image_paths {
	const char *image, *parent;
};

/* The options are accepted and have no effect but the image paths, which are checked
 * as runc checks them: nothing is done before the refusal. */
static int parse(struct cli *c, const struct option *opts, const char *shorts, const char **id,
		 struct image_paths *paths, struct cell_error *err)
{
	int o, i = -1;

	while ((o = getopt_long(c->argc, c->argv, shorts, opts, &i)) != -1) {
		if (o == 0 && streq(opts[i].name, "image-path"))
			paths->image = optarg;
		if (o == 0 && streq(opts[i].name, "parent-path"))
			paths->parent = optarg;
		if (o == 'h') {
			printf("Usage: cellrun %s [options] ID\n"
			       "runc's options are accepted; CRIU support is not built in.\n",
			       c->argv[0]);
			return 1;
		}
		if (o == '?' || o == ':')
			return cell_err(err, EINVAL, "%s: bad option (see --help)", c->argv[0]);
	}
	return cli_one_id(c, optind, id, err);
}

/* runc's prepareImagePaths: --parent-path is relative to the image path (default
 * ./checkpoint) and must be a directory there.  runc creates the image path first;
 * here nothing is created, since nothing is written. */
static int check_parent_path(const struct image_paths *p, struct cell_error *err)
{
	struct stat sb;

	if (!p->parent || !*p->parent)
		return 0;
	if (p->parent[0] == '/')
		return cell_err(err, EINVAL, "--parent-path must be relative");
	_cleanup_free_ char *real =
		xasprintf("%s/%s", p->image && *p->image ? p->image : "checkpoint", p->parent);
	if (stat(real, &sb) < 0)
		return cell_err(err, errno, "invalid --parent-path: stat %s", real);
	if (!S_ISDIR(sb.st_mode))
		return cell_err(err, ENOTDIR, "invalid --parent-path: %s", real);
	return 0;
}

static int no_criu(const char *verb, const char *id, struct cell_error *err)
{
	return cell_err(err, ENOTSUP,
			"%s %s: CRIU is not available: cellrun does not implement "
			"checkpoint/restore yet",
			verb, id);
}

int cmd_checkpoint(struct cli *c, struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *st = NULL;
	enum cell_status s;
	struct image_paths paths = { 0 };
	const char *id;
	int r = parse(c, checkpoint_opts, "h", &id, &paths, err);

	if (r != 0)
		return r < 0 ? r : 0;
	if ((r = cell_container_state(&c->rt, id, &st, &s, err)) < 0)
		return r;
	if (s == CELL_CREATED || s == CELL_STOPPED || s == CELL_CREATING)
		return cell_err(err, EINVAL, "checkpoint %s: container cannot be checkpointed in %s state",
				id, cell_status_name(s));
	if (check_parent_path(&paths, err) < 0)
		return cell_err_prefix(err, "checkpoint %s", id);
	return no_criu("checkpoint", id, err);
}

int cmd_restore(struct cli *c, struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *st = NULL;
	struct cell_error ignored = { 0 };
	enum cell_status s;
	struct image_paths paths = { 0 };
	const char *id;
	int r = parse(c, restore_opts, "b:dh", &id, &paths, err);

	if (r != 0)
		return r < 0 ? r : 0;
	if (!cell_id_valid(id))
		return cell_err(err, EINVAL, "restore: invalid container id \"%s\"", id);
	if (cell_container_state(&c->rt, id, &st, &s, &ignored) == 0)
		return cell_err(err, EEXIST, "restore %s: container with id exists", id);
	return no_criu("restore", id, err);
}
