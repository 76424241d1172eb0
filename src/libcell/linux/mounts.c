/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One spec mount into the rootfs (runtime-spec config.md#mounts): made
 * detached, shaped (flags, recursive attributes, idmap), moved onto the
 * destination opened inside the rootfs, then given its propagation.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "rootfs-internal.h"

struct job {
	const struct cell_rootfs_ctx *c;
	int rootfd;
	const struct cell_mount_op *op;
};

static int apply_idmap(const struct job *j, int mnt, struct cell_error *err)
{
	unsigned int flags = AT_EMPTY_PATH | (j->op->p.ridmap ? AT_RECURSIVE : 0);
	_cleanup_close_ int ns = -1;

	if (!j->op->idmap)
		return 0;
	ns = cell_idmap_userns_fd(j->c->plan->spec, j->op->m, err);
	if (ns < 0)
		return ns;
	struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns};
	if (mount_setattr(mnt, "", flags, &a, sizeof(a)) < 0)
		return cell_err(err, errno, "idmap the mount");
	return 0;
}

/* Recursive attributes and idmap on the detached tree, then into place, then propagation
 * (which concerns the mount's place among its peers, so after attaching). */
static int finish(const struct job *j, int mnt, bool file, uint64_t rec_set, uint64_t rec_clr,
		  struct cell_error *err)
{
	const struct cell_mount_op *op = j->op;
	unsigned long prop = op->p.propagation;
	int r = cell_mnt_setattr(mnt, true, rec_set, rec_clr, 0);

	if (r < 0)
		return cell_err(err, r, "set recursive mount attributes");
	if ((r = apply_idmap(j, mnt, err)) < 0)
		return r;
	if ((r = cell_mnt_place(mnt, j->rootfd, op->dest, file, err)) < 0)
		return r;
	if (op->kernel_dest && (r = cell_mnt_check_plain(mnt, j->rootfd, op->dest, err)) < 0)
		return r;
	r = cell_mnt_setattr(mnt, prop & MS_REC, 0, 0, prop & ~MS_REC);
	return r < 0 ? cell_err(err, r, "set propagation") : 0;
}

/* tmpcopyup: what the rootfs has at the destination goes into the new tmpfs first. */
static int copy_up(const struct job *j, int mnt, struct cell_error *err)
{
	_cleanup_close_ int target = cell_rootfs_mkpath(j->rootfd, j->op->dest, false, err);
	_cleanup_close_ int src = -1, dst = -1;

	if (target < 0)
		return target;
	src = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dst = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src < 0 || dst < 0)
		return cell_err(err, errno, "tmpcopyup: open %s", j->op->dest);
	if (cell_copy_tree(src, dst, err) < 0)
		return cell_err_prefix(err, "tmpcopyup");
	return 0;
}

static int mount_fresh(const struct job *j, struct cell_error *err)
{
	const struct cell_mount_op *op = j->op;
	_cleanup_close_ int mnt = cell_mnt_fresh(op->type, op->source, &op->p, op->dest, err);
	int r;

	if (mnt < 0)
		return mnt;
	if (op->copy_up && (r = copy_up(j, mnt, err)) < 0)
		return r;
	return finish(j, mnt, false, op->p.rec_set, op->p.rec_clr, err);
}

/* A bind of the source: the plan's flags on the top mount, its recursive attributes on
 * all.  In a user namespace the source's locked flags stay as they are
 * (mount_namespaces(7)). */
static int mount_bind(const struct job *j, struct cell_error *err)
{
	const struct cell_mount_op *op = j->op;
	unsigned int flags =
	    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (op->recursive ? AT_RECURSIVE : 0);
	int srcfd = op->source_fd && j->c->source_fds ? j->c->source_fds[op->index] : -1;
	/* an fd the runtime opened: cloned from, with no walk down the path */
	_cleanup_close_ int mnt = srcfd >= 0 ? open_tree(srcfd, "", flags | AT_EMPTY_PATH)
					     : open_tree(AT_FDCWD, op->source, flags);
	uint64_t set, clr, rset = op->p.rec_set, rclr = op->p.rec_clr;
	struct statvfs sv;
	struct stat st;
	int r;

	if (mnt < 0)
		return cell_err(err, errno, "open source %s", op->source);
	if (fstat(mnt, &st) < 0 || fstatvfs(mnt, &sv) < 0)
		return cell_err(err, errno, "stat source %s", op->source);
	cell_mount_plan_attr(&op->p, &set, &clr);
	if (op->keep_locked) {
		cell_mount_attr_keep_locked(sv.f_flag, &set, &clr);
		cell_mount_attr_keep_locked(sv.f_flag, &rset, &rclr);
	}
	if ((r = cell_mnt_setattr(mnt, false, set, clr, 0)) < 0)
		return cell_err(err, r, "set mount flags of %s", op->source);
	return finish(j, mnt, !S_ISDIR(st.st_mode), rset, rclr, err);
}

static int mount_cgroup(const struct job *j, struct cell_error *err)
{
	return cell_rootfs_mount_cgroup(j->c->plan, j->rootfd, j->op, err);
}

typedef int (*mount_fn)(const struct job *j, struct cell_error *err);

static const mount_fn mounters[] = {
    [CELL_MOP_FRESH] = mount_fresh,
    [CELL_MOP_BIND] = mount_bind,
    [CELL_MOP_CGROUP_V2] = mount_cgroup,
    [CELL_MOP_CGROUP_V1] = mount_cgroup,
};

int cell_rootfs_mount_entry(const struct cell_rootfs_ctx *c, int rootfd,
			    const struct cell_mount_op *op, struct cell_error *err)
{
	struct job j = {c, rootfd, op};
	int r = 0;

	if (op->kernel_dest)
		r = cell_rootfs_check_plain(rootfd, op->dest, err);
	if (r >= 0)
		r = mounters[op->how](&j, err);
	if (r < 0)
		cell_err_prefix(err, "mounts[%zu] (%s)", op->index, op->m->destination);
	return r;
}
