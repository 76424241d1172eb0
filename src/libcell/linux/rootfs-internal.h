/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Shared by the rootfs executor's files (rootfs.c, mounts.c, mount-fd.c,
 * devices.c, cgroup-mounts.c, tmpcopyup.c, idmap.c); not a public API.
 *
 * Every mount is made detached first (fsopen/fsmount or open_tree), shaped
 * with mount_setattr(2), then moved onto an O_PATH fd of the target that was
 * opened inside the rootfs; cell_mnt_attach() checks that it landed there.
 */
#include <stdbool.h>
#include <stdint.h>

#include "../base/error.h"
#include "../plan/plan.h"
#include "rootfs.h"

/* O_PATH fd of path inside rootfd, creating what is missing: directories, and with
 * `file` an empty file as the last component.  Symlinks on the way (dangling ones too)
 * resolve inside the root. */
int cell_rootfs_mkpath(int rootfd, const char *path, bool file, struct cell_error *err);

/* A detached fresh filesystem: fsopen(type), "source", the superblock flags and data of p
 * as fsconfig() keys, fsmount() with p's mount attributes.  Errors say
 * "mount <type> on <dest>" and add the kernel's own explanation when it gave one. */
int cell_mnt_fresh(const char *type, const char *source, const struct cell_mount_plan *p,
		   const char *dest, struct cell_error *err);
/* mount_setattr(2) on mntfd (AT_RECURSIVE with `recursive`); -errno.  A no-op when
 * nothing is asked. */
int cell_mnt_setattr(int mntfd, bool recursive, uint64_t set, uint64_t clr, unsigned long prop);
/* Move detached mntfd onto targetfd, then check that `path` inside rootfd now resolves to
 * that very mount (the target was not swapped meanwhile). */
int cell_mnt_attach(int mntfd, int rootfd, int targetfd, const char *path, struct cell_error *err);
/* Every existing component of path inside rootfd is a directory, none a symlink (what is
 * missing is made as directories later).  Nothing is created. */
int cell_rootfs_check_plain(int rootfd, const char *path, struct cell_error *err);
/* path inside rootfd resolves, without following any symlink, to the attached mntfd. */
int cell_mnt_check_plain(int mntfd, int rootfd, const char *path, struct cell_error *err);
/* Make it, then attach it on path in rootfd (created as a dir, or a file with `file`). */
int cell_mnt_place(int mntfd, int rootfd, const char *path, bool file, struct cell_error *err);

/* One planned mount into the rootfs. */
int cell_rootfs_mount_entry(const struct cell_rootfs_ctx *c, int rootfd,
			    const struct cell_mount_op *op, struct cell_error *err);
/* A "cgroup"/"cgroup2" mount planned as CELL_MOP_CGROUP_V1/V2, from the plan's
 * cgroup_mounts. */
int cell_rootfs_mount_cgroup(const struct cell_plan *p, int rootfd, const struct cell_mount_op *op,
			     struct cell_error *err);
/* /dev: the planned nodes and links. */
int cell_rootfs_make_dev(const struct cell_plan *p, int rootfd, struct cell_error *err);
/* tmpcopyup: copy the tree under srcfd (a directory) into dstfd (the new tmpfs). */
int cell_copy_tree(int srcfd, int dstfd, struct cell_error *err);
/* A user namespace fd whose maps are the mount's (or, without them, the container's)
 * uid/gid mappings, for MOUNT_ATTR_IDMAP. */
int cell_idmap_userns_fd(const struct cell_spec *s, const struct cell_mount *m,
			 struct cell_error *err);
