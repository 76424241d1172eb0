/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Internals shared by the storage backends (and exposed to
 * tests/unit/test-storage.c).  storage.c owns the layout and the
 * all-or-nothing framing (a failed create or clone is destroyed, a snapshot
 * is built under a temporary name and renamed); a backend only fills in
 * what varies, through struct storage_ops.
 *
 * Three tiers (docs/dev/architecture.md, scripts/layers): the helpers
 * (storage-fs.c, storage-subvol.c, storage-copy.c, storage-mount.c), the
 * backends that use only them (storage-dir.c, storage-overlay.c,
 * storage-btrfs.c, storage-image.c), and the front that holds their tables
 * (storage.c, storage-snapshot.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "storage.h"

struct storage_ops {
	/* Make rootfs/ (and storage/) from tmpl (may be NULL); st->dir exists. */
	int (*create)(const struct cell_storage *st, const char *tmpl, struct cell_error *err);
	/* NULL: nothing to mount (dir, btrfs). */
	int (*mount)(const struct cell_storage *st, struct cell_error *err);
	/* Make dst's rootfs/ (and storage/) from src's; dst->dir exists. */
	int (*clone)(const struct cell_storage *src, const struct cell_storage *dst,
		     struct cell_error *err);
	/* Fill snapdir (exists, empty) with the current state. */
	int (*snapshot)(const struct cell_storage *st, const char *snapdir, struct cell_error *err);
	/* Rollback: build at tmp (absent) what `rollback_target` (relative to
	 * st->dir) must become from snapdir; storage.c then exchanges the two. */
	int (*restore)(const struct cell_storage *st, const char *snapdir, const char *tmp,
		       struct cell_error *err);
	const char *rollback_target;
};

extern const struct storage_ops storage_dir_ops;
extern const struct storage_ops storage_overlay_ops;
extern const struct storage_ops storage_btrfs_ops;
extern const struct storage_ops storage_image_ops;

/* ---- layout (storage.c) ---- */

/* NULL for an unknown kind. */
const struct storage_ops *storage_ops_of(enum cell_storage_kind kind);

/* -ENOENT when st has no rootfs/, -EBUSY when it is mounted; op names the caller. */
int storage_need_unmounted(const struct cell_storage *st, const char *op, struct cell_error *err);
/* mkdir <st->dir>/storage unless it exists. */
int storage_mkdir_storage(const struct cell_storage *st, struct cell_error *err);

/* ---- filesystem helpers (storage-fs.c) ---- */

/* "<st->dir>/<rel>"; caller frees. */
char *storage_path(const struct cell_storage *st, const char *rel);
/* mkdir(2) of <st->dir>/<rel> with mode 0700 (EEXIST is an error); errors name the path. */
int storage_mkdir(const struct cell_storage *st, const char *rel, struct cell_error *err);
/* Is dirfd/name (not followed) the root of a mount (statx STATX_ATTR_MOUNT_ROOT)? */
bool storage_is_mount_point_at(int dirfd, const char *name);
/* The filesystem type holding path ("ext4"), from mountinfo; "0x<magic>" if not found. */
void storage_fstype(const char *path, char *buf, size_t len);
/* "/a/b/c": an fd of "/a/b" (O_DIRECTORY) and *name = "c" (set even on failure). */
int storage_open_parent(const char *path, const char **name, struct cell_error *err);
/* rm -rf dirfd/name: never crosses into a mount (-EBUSY), destroys btrfs
 * subvolumes, clears immutable/append-only flags that block removal.
 * `parent` names dirfd in errors.  0 when absent. */
int storage_remove_at(int dirfd, const char *name, const char *parent, struct cell_error *err);
int storage_remove(const char *path, struct cell_error *err);
/* Bytes allocated below path (st_blocks, each inode once, the same mount only,
 * btrfs subvolumes included).  0 when absent. */
int storage_du(const char *path, uint64_t *bytes, struct cell_error *err);
/* Run argv (argv[0] searched in PATH, then /usr/sbin and /sbin) with stdin and
 * stdout on /dev/null; a failure quotes the first line of its stderr. */
int storage_run(const char *const argv[], struct cell_error *err);
/* First line of a small text file / write one. */
int storage_read_line(const char *path, char **out, struct cell_error *err);
int storage_write_line(const char *path, const char *line, struct cell_error *err);

/* ---- btrfs subvolumes (storage-subvol.c); -errno, no message ---- */

/* The inode of a btrfs subvolume's root directory (BTRFS_FIRST_FREE_OBJECTID). */
#define STORAGE_BTRFS_SUBVOL_ROOT_INO 256

bool storage_fd_on_btrfs(int fd);
bool storage_btrfs_is_subvolume(int fd);
int storage_btrfs_subvolume_create(int parentfd, const char *name);
int storage_btrfs_snapshot(int srcfd, int parentfd, const char *name, bool readonly);
int storage_btrfs_subvolume_destroy(int parentfd, const char *name);

/* ---- copying (storage-copy.c) ---- */

/* Copy the contents of directory src into the existing directory dst, then
 * give dst src's owner, mode, xattrs and times.  Labels name them in errors. */
int storage_copy_into(int srcfd, const char *src_label, int dstfd, const char *dst_label,
		      struct cell_error *err);
/* Only the root's owner, mode, xattrs and times (directory src onto directory dst). */
int storage_copy_attrs(int srcfd, const char *src_label, int dstfd, const char *dst_label,
		       struct cell_error *err);
/* Copy the tree at src (a directory path) to a new directory dst (made here). */
int storage_copy_tree(const char *src, const char *dst, struct cell_error *err);
/* Copy the regular file src to a new file dst (reflink, else sparse), with metadata. */
int storage_copy_file(const char *src, const char *dst, struct cell_error *err);

/* ---- mounting (storage-mount.c) ---- */

int storage_mount_overlay(const char *lower, const char *upper, const char *work,
			  const char *target, struct cell_error *err);
/* Overlay options cannot carry ',' ':' '\\' or newlines in a path. */
int storage_overlay_path_ok(const char *path, struct cell_error *err);
/* Attach image to a free loop device with LO_FLAGS_AUTOCLEAR and mount it
 * (fstype) on target: the loop device goes away with the mount, or at once if
 * the mount fails. */
int storage_loop_mount(const char *image, const char *fstype, const char *target,
		       struct cell_error *err);
/* Unmount target until it is no longer a mount point (0 when it is not one). */
int storage_umount(const char *target, struct cell_error *err);
