/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cgroup2 hierarchy as a helper of both backends: the v2 backend's one hierarchy,
 * and on a hybrid host the "unified" one next to the v1 mounts, where the v1 backend
 * puts what v1 lacks (hugetlb on some hosts, linux.resources.unified).  So "hybrid" is
 * the v1 backend plus this file, not a backend of its own.  Controllers are enabled in
 * cgroup.subtree_control of every ancestor, only by adding: the manager never disables
 * what someone else enabled.
 */
#include "cgroup-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/cleanup.h"
#include "../base/util.h"

static const char *const v2_controllers[] = {"cpuset",	"cpu",	"io",	"memory",
					     "hugetlb", "pids", "rdma", "misc"};

int cgroup_unified_key_check(const char *key, struct cell_error *err)
{
	if (!*key || strchr(key, '/') || streq(key, ".") || streq(key, ".."))
		return cell_err(err, EINVAL, "linux.resources.unified: invalid key \"%s\"", key);
	return 0;
}

char *cgroup_unified_controller(const char *key)
{
	const char *dot = strchr(key, '.');

	for (size_t i = 0; dot && i < ARRAY_SIZE(v2_controllers); i++)
		if (strlen(v2_controllers[i]) == (size_t)(dot - key) &&
		    cell_startswith(key, v2_controllers[i]))
			return xstrdup(v2_controllers[i]);
	return NULL;
}

/* ---- controllers ---- */

static int enable_in(const struct cgroup_hier *h, const char *dir, char *const *want,
		     char *const *avail, struct cell_error *err)
{
	_cleanup_strv_free_ char **have = NULL;
	_cleanup_free_ char *line = xstrdup("");
	int r;

	have = cg_read_list(dir, "cgroup.subtree_control", &r);
	for (size_t i = 0; want && want[i]; i++) {
		if (cell_strv_contains(have, want[i]))
			continue;
		if (!cell_strv_contains(avail, want[i])) {
			_cleanup_free_ char *what =
			    xasprintf("cgroup v2 controller %s in %s", want[i], dir);
			if ((r = cg_unsupported(h->rootless, err, what)) < 0)
				return r;
			continue;
		}
		char *next = xasprintf("%s%s+%s", line, *line ? " " : "", want[i]);
		free(line);
		line = next;
	}
	return *line ? cg_write_at(h, dir, "cgroup.subtree_control", line, err) : 0;
}

int cgroup_unified_enable(struct cgroup_hier *h, char *const *want, struct cell_error *err)
{
	_cleanup_strv_free_ char **parts = cg_split(h->path, '/'); /* "", "a", ..., leaf */
	_cleanup_free_ char *dir = xstrdup(h->root);
	size_t n = cell_strv_len(parts);
	int r;

	if (!want)
		return 0;
	for (size_t i = 1; i < n; i++) { /* the ancestors: root .. parent of the leaf */
		_cleanup_strv_free_ char **avail = cg_read_list(dir, "cgroup.controllers", &r);
		/* a fake tree has no kernel filling cgroup.controllers of a new directory:
		 * what the parent enabled is what the kernel would show */
		if (!avail && r == -ENOENT && i > 1)
			avail = cg_read_list(dir, "../cgroup.subtree_control", &r);
		r = enable_in(h, dir, want, avail, err);
		if (r < 0)
			return r;
		char *next = xasprintf("%s/%s", dir, parts[i]);
		free(dir);
		dir = next;
	}
	return 0;
}

int cgroup_unified_set_hugetlb(struct cgroup_hier *h, const struct cell_resources *r,
			       struct cell_error *err)
{
	return cg_write_hugetlb(h, r, "max", err);
}
