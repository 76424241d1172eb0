/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A "cgroup"/"cgroup2" spec mount: the container's own cgroups, one mount per
 * host hierarchy.  With a cgroup namespace each hierarchy is a fresh mount
 * (its root is the container's cgroup); without one, the container's cgroup
 * directory on the host is bound.  v1 and hybrid hosts get a tmpfs holding a
 * directory per hierarchy, as /sys/fs/cgroup looks on such hosts.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "rootfs-internal.h"

static int hierarchy_mount(const struct cell_plan *c, const struct cell_cgroup_op *g,
			   const struct cell_mount_op *op, struct cell_error *err)
{
	const struct cell_cgroup_mount *h = g->h;
	struct cell_mount_plan fp = {.flags = op->p.flags, .data = h->options};
	uint64_t set, clr;
	struct statvfs sv;
	int mnt, r;

	if (c->cgroupns)
		return cell_mnt_fresh(h->fstype, "cgroup", &fp, g->path, err);
	mnt = open_tree(AT_FDCWD, h->host_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (mnt < 0)
		return cell_err(err, errno, "open cgroup %s", h->host_path);
	cell_mount_plan_attr(&op->p, &set, &clr);
	if (op->keep_locked && fstatvfs(mnt, &sv) == 0)
		cell_mount_attr_keep_locked(sv.f_flag, &set, &clr);
	if ((r = cell_mnt_setattr(mnt, false, set, clr, 0)) < 0) {
		(void)close(mnt);
		return cell_err(err, r, "set mount flags of %s", h->host_path);
	}
	return mnt;
}

static int place_hierarchy(const struct cell_plan *c, int rootfd, const struct cell_cgroup_op *g,
			   const struct cell_mount_op *op, struct cell_error *err)
{
	_cleanup_close_ int mnt = hierarchy_mount(c, g, op, err);

	if (mnt < 0)
		return mnt;
	return cell_mnt_place(mnt, rootfd, g->path, false, err);
}

/* The links the host has next to a hierarchy ("cpu" -> "cpu,cpuacct") are made here too. */
static int alias_links(int dirfd, const struct cell_cgroup_mount *h, struct cell_error *err)
{
	for (size_t i = 0; h->aliases && h->aliases[i]; i++)
		if (symlinkat(h->name, dirfd, h->aliases[i]) < 0 && errno != EEXIST)
			return cell_err(err, errno, "link %s to %s", h->aliases[i], h->name);
	return 0;
}

static int mount_v1(const struct cell_plan *c, int rootfd, const struct cell_mount_op *op,
		    struct cell_error *err)
{
	const char *dest = op->dest;
	struct cell_mount_plan tp = {.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC, .data = "mode=755"};
	_cleanup_close_ int tmp = cell_mnt_fresh("tmpfs", "tmpfs", &tp, dest, err);
	int r;

	if (tmp < 0)
		return tmp;
	if ((r = cell_mnt_place(tmp, rootfd, dest, false, err)) < 0)
		return r;
	for (size_t i = 0; i < op->n_cgroups; i++) {
		if ((r = place_hierarchy(c, rootfd, &op->cgroups[i], op, err)) < 0)
			return r;
		if ((r = alias_links(tmp, op->cgroups[i].h, err)) < 0)
			return r;
	}
	/* read-only only now that the directories are made */
	r = cell_mnt_setattr(tmp, false, (op->p.flags & MS_RDONLY) ? MOUNT_ATTR_RDONLY : 0, 0, 0);
	return r < 0 ? cell_err(err, r, "make %s read-only", dest) : 0;
}

int cell_rootfs_mount_cgroup(const struct cell_plan *p, int rootfd, const struct cell_mount_op *op,
			     struct cell_error *err)
{
	if (op->how == CELL_MOP_CGROUP_V2) /* a v2 host: one hierarchy */
		return place_hierarchy(p, rootfd, &op->cgroups[0], op, err);
	return mount_v1(p, rootfd, op, err);
}
