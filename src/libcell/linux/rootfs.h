/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Rootfs and mounts, run in the container child inside its new mount
 * namespace.  Three phases because createRuntime hooks run between
 * prepare and pivot (runtime-spec config.md#posix-platform-hooks).
 *
 * Without "mount" in linux.namespaces the child shares the runtime's mount
 * namespace (config-linux.md: an unlisted namespace is inherited).  Nothing
 * is mounted then — runc would mount in the host's namespace — the
 * validator refuses what would need a mount (mounts, maskedPaths,
 * readonlyPaths, root.readonly, rootfsPropagation, devices) and the pivot
 * is a chroot(2), as runc's.
 *
 * Every target inside the rootfs is opened relative to the rootfs fd with
 * openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS), and mounted by fd
 * (/proc/self/fd/N or the new mount API), so symlinks cannot lead out.
 */
#include <stdbool.h>
#include "../base/error.h"
#include "../plan/plan.h"

/* The plan (built by the parent, cell_plan_build) and what the child holds to run it. */
struct cell_rootfs_ctx {
	const struct cell_plan *plan;
	int tree_fd;     /* a detached, idmapped rootfs to attach instead of a bind, or -1 */
	int *source_fds; /* per spec mount: its bind source opened by the runtime, or -1 (or NULL) */
};

/* Make / rslave (or linux.rootfsPropagation), bind the rootfs on itself, perform all
 * spec mounts, create /dev (default devices, linux.devices, symlinks, /dev/pts, ptmx). */
int cell_rootfs_prepare(const struct cell_rootfs_ctx *c, struct cell_error *err);
/* pivot_root (or move+chroot with no_pivot) into the rootfs; chdir("/"). */
int cell_rootfs_pivot(const struct cell_rootfs_ctx *c, struct cell_error *err);
/* Create directory `path` (and its parents) inside the tree at rootfd; every component
 * resolved inside it (a dangling symlink's target is created there too).  Returns an
 * O_PATH fd of it, or -errno recorded in err. */
int cell_rootfs_mkdir(int rootfd, const char *path, struct cell_error *err);
/* After pivot: maskedPaths, readonlyPaths, root.readonly, rootfsPropagation. */
int cell_rootfs_finalize(const struct cell_rootfs_ctx *c, struct cell_error *err);

/*
 * Root that is not root: with a new user namespace made by host root, a
 * rootfs owned by ids the namespace does not map is shifted.  Preferably an
 * idmapped clone of the rootfs (*tree_fd, attached by the child); where the
 * filesystem refuses idmapping, a one-time chown of the tree into the
 * mapped range (*tree_fd = -1).  Nothing to do: *tree_fd = -1.
 */
int cell_rootfs_shift_prepare(const struct cell_spec *s, const char *rootfs, int *tree_fd,
			      struct cell_error *err);
/* Move a tree shifted on disk from host ids from..from+size-1 to to..to+size-1
 * (a copy of an unprivileged container's root that gets ids of its own); ids
 * outside the range stay.  Does not cross mounts or follow symlinks. */
int cell_rootfs_shift_range(const char *rootfs, uint32_t from, uint32_t to, uint32_t size,
			    struct cell_error *err);
