/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Putting a new process into the container's cgroup without the kernel's global attach
 * lock.
 *
 * Writing another process's pid to cgroup.procs takes cgroup_threadgroup_rwsem for
 * writing, and taking that percpu rwsem waits for an RCU grace period: 10-15 ms on this
 * kind of host, most of a container start.  Two moves do without it:
 *  - v1: a single-threaded process that writes "0" to a hierarchy's "tasks" file moves
 *    only itself, and the kernel skips the lock for that case (the thread is current and
 *    cannot exit or exec meanwhile).  The parent opens the files; the permission check
 *    uses the opener's credentials, so the child may already be in a user namespace.
 *  - v2 (also the hybrid "unified" hierarchy): clone3(CLONE_INTO_CGROUP) makes the child
 *    in the cgroup, under the read side of the lock only.
 * What neither covers (a fake tree in unit tests, a clone3 that is refused) is joined the
 * old way, with the pid written to cgroup.procs by the parent.
 */
#include "cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../sys/syscalls.h"

void cell_cgroup_join_init(struct cell_cgroup_join *j)
{
	memset(j, 0, sizeof(*j));
	j->clone_fd = -1;
}

/* A rootless create could not make h's cgroup: the container is not in it either. */
static enum cell_join_how never_created(const struct cgroup_hier *h)
{
	cell_debug("cgroup: %s: never created; skipped (rootless)", h->dir);
	return CELL_JOIN_SKIP;
}

int cell_cgroup_join_open(struct cell_cgroup *cg, struct cell_cgroup_join *j,
			  struct cell_error *err)
{
	cell_cgroup_join_init(j);
	j->n = cg->n_h;
	j->how = xcalloc(cg->n_h ? cg->n_h : 1, sizeof(*j->how));
	j->task_fds = xcalloc(cg->n_h ? cg->n_h : 1, sizeof(*j->task_fds));
	j->paths = xcalloc(cg->n_h ? cg->n_h : 1, sizeof(*j->paths));
	j->rootless = cg->rootless;
	for (size_t i = 0; i < cg->n_h; i++) {
		const struct cgroup_hier *h = &cg->h[i];
		j->task_fds[i] = -1;
		j->how[i] = CELL_JOIN_SKIP;
		if (h->skipped)
			continue;
		j->how[i] = CELL_JOIN_PROCS;
		if (h->fake)
			continue;
		if (h->v2) {
			/* one cgroup2 hierarchy at most: the clone's target */
			if (j->clone_fd >= 0)
				continue;
			j->clone_fd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (j->clone_fd >= 0)
				j->how[i] = CELL_JOIN_CLONE;
			else if (h->rootless && errno == ENOENT)
				j->how[i] = never_created(h);
			continue;
		}
		_cleanup_free_ char *path = xasprintf("%s/tasks", h->dir);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 && h->rootless && cg_delegation_errno(errno)) {
			cell_warn("cgroup: open %s: %s; skipped (rootless)", path, strerror(errno));
			j->how[i] = CELL_JOIN_SKIP;
			continue;
		}
		if (fd < 0 && h->rootless && errno == ENOENT) {
			j->how[i] = never_created(h);
			continue;
		}
		if (fd < 0) {
			int e = errno;
			cell_cgroup_join_close(j);
			return cell_err(err, e, "open %s", path);
		}
		j->task_fds[i] = fd;
		j->paths[i] = TAKE_PTR(path);
		j->how[i] = CELL_JOIN_SELF;
	}
	return 0;
}

pid_t cell_cgroup_join_clone(struct cell_cgroup_join *j, struct clone_args *ca)
{
	pid_t pid;

	if (j && j->clone_fd >= 0) {
		struct clone_args into = *ca;
		into.flags |= CLONE_INTO_CGROUP;
		into.cgroup = (uint64_t)j->clone_fd;
		pid = cell_sys_clone3(&into);
		if (pid >= 0)
			return pid;
		/* ENOSYS (no clone3), or the kernel refused the cgroup: the parent writes the
		 * pid instead.  A namespace error repeats below and is reported from there. */
		cell_debug("clone3 into cgroup: %s; joining through cgroup.procs", strerror(errno));
		for (size_t i = 0; i < j->n; i++)
			if (j->how[i] == CELL_JOIN_CLONE)
				j->how[i] = CELL_JOIN_PROCS;
	}
	return cell_sys_clone3(ca);
}

int cell_cgroup_join_self(struct cell_cgroup_join *j, struct cell_error *err)
{
	int r = 0;

	for (size_t i = 0; i < j->n && r >= 0; i++) {
		if (j->task_fds[i] < 0)
			continue;
		if (write(j->task_fds[i], "0", 1) == 1)
			continue;
		int e = errno;
		if (j->rootless && cg_delegation_errno(e))
			cell_warn("cgroup: write %s \"0\": %s; skipped (rootless)", j->paths[i],
				  strerror(e));
		else
			r = cell_err(err, e, "join the container's cgroup: write %s \"0\"",
				     j->paths[i]);
	}
	for (size_t i = 0; i < j->n; i++)
		if (j->task_fds[i] >= 0) {
			(void)close(j->task_fds[i]);
			j->task_fds[i] = -1;
		}
	if (j->clone_fd >= 0) {
		(void)close(j->clone_fd);
		j->clone_fd = -1;
	}
	return r;
}

int cell_cgroup_join_rest(struct cell_cgroup *cg, const struct cell_cgroup_join *j, pid_t pid,
			  struct cell_error *err)
{
	for (size_t i = 0; i < cg->n_h && i < j->n; i++) {
		if (j->how[i] != CELL_JOIN_PROCS)
			continue;
		int r = cg_writef(&cg->h[i], "cgroup.procs", err, "%d", (int)pid);
		if (r < 0)
			return r;
	}
	/* --systemd-cgroup: the unit takes over the cgroup the process is in now */
	return cg->sd ? cgroup_systemd_start(cg, pid, err) : 0;
}

void cell_cgroup_join_close(struct cell_cgroup_join *j)
{
	for (size_t i = 0; j->task_fds && i < j->n; i++) {
		if (j->task_fds[i] >= 0)
			(void)close(j->task_fds[i]);
		free(j->paths[i]);
	}
	if (j->clone_fd >= 0)
		(void)close(j->clone_fd);
	free(j->task_fds);
	free(j->how);
	free(j->paths);
	cell_cgroup_join_init(j);
}

/* ---- exec --cgroup: a sub-cgroup of the container's ---- */

static bool hier_has(const struct cgroup_hier *h, const char *ctrl)
{
	return h->v2 ? false : cell_strv_contains(h->controllers, ctrl);
}

/* The hierarchies named by the comma list ctrls (all when NULL); v2 has no controller
 * names in runc's sense: "" or a v1 name never selects it, as runc's v2 takes PATH
 * only.  The words of the errors are runc's. */
static int select_hiers(const struct cell_cgroup *cg, const char *ctrls, bool *want,
			struct cell_error *err)
{
	_cleanup_strv_free_ char **names = ctrls ? cg_split(ctrls, ',') : NULL;

	for (size_t i = 0; i < cg->n_h; i++)
		want[i] = !names;
	for (size_t n = 0; names && names[n]; n++) {
		bool found = false;
		for (size_t i = 0; i < cg->n_h; i++)
			if (hier_has(&cg->h[i], names[n]))
				found = want[i] = true;
		if (!found)
			return cell_err(err, EINVAL, "exec --cgroup: unknown controller \"%s\"",
					names[n]);
	}
	return 0;
}

static int descend_one(struct cgroup_hier *h, const char *sub, struct cell_error *err)
{
	_cleanup_free_ char *dir = xasprintf("%s%s", h->dir, sub);
	_cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);

	if (h->skipped)
		return 0;
	if (access(procs, F_OK) < 0)
		return cell_errx(err, errno, "adding pid to cgroups: %s: %s", procs,
				errno == ENOENT ? "no such file or directory" : strerror(errno));
	char *path = xasprintf("%s%s", h->path, sub);
	free(h->path);
	free(h->dir);
	h->path = path;
	h->dir = TAKE_PTR(dir);
	return 0;
}

int cell_cgroup_descend(struct cell_cgroup *cg, const char *spec, struct cell_error *err)
{
	const char *colon = strchr(spec, ':');
	const char *rel = colon ? colon + 1 : spec;
	_cleanup_free_ char *ctrls = colon ? xstrndup(spec, (size_t)(colon - spec)) : NULL;
	_cleanup_free_ char *sub = NULL;
	_cleanup_free_ bool *want = xcalloc(cg->n_h ? cg->n_h : 1, sizeof(bool));
	struct cell_error e = { 0 };
	int r;

	if (cgroup_path_normalize(rel, &sub, &e) < 0)
		return cell_err(err, EINVAL, "exec --cgroup: %s is not a sub cgroup path", rel);
	if ((r = select_hiers(cg, ctrls, want, err)) < 0 || streq(sub, "/"))
		return r;
	for (size_t i = 0; i < cg->n_h; i++)
		if (want[i] && (r = descend_one(&cg->h[i], sub, err)) < 0)
			return r;
	return 0;
}
