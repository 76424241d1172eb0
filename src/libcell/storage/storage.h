/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Container storage: where a container's root filesystem lives and how it is
 * made, mounted, cloned, snapshotted and removed.  Used by the `cell` manager;
 * the runtime only ever sees <dir>/rootfs.
 *
 * Layout, all below st->dir (<root>/containers/<name>):
 *
 *     rootfs/             the root filesystem: a directory (dir), a btrfs
 *                         subvolume (btrfs) or a mount point (overlay, image)
 *     storage/            backend data: overlay upper/ work/ lower (a text
 *                         file naming the lower directory); image disk.img;
 *                         a temporary tree during rollback
 *     snapshots/<snap>/   one snapshot: rootfs/ (dir: a copy; btrfs: a
 *                         read-only subvolume), upper/ (overlay), disk.img (image)
 *
 * What each backend does:
 *
 *   op        dir           overlay                   btrfs                 image:SIZE
 *   create    copy tmpl     empty upper/work; tmpl    snapshot tmpl subvol  reserved disk.img,
 *                           is the lower (O(1))       (else new subvol +    mkfs.ext4, loop
 *                                                     copy)                 mount, copy, unmount
 *   mount     -             overlay on rootfs         -                     loop (autoclear) +
 *                                                                           ext4 on rootfs
 *   clone     copy rootfs   copy upper, same lower    rw snapshot           copy disk.img
 *   snapshot  copy rootfs   copy upper                ro snapshot           copy disk.img
 *   rollback  copy back,    copy upper back,          rw snapshot back,     copy back,
 *             exchange      exchange                  exchange              exchange
 *             (renameat2 RENAME_EXCHANGE with the live tree, then the old one is removed)
 *   usage     rootfs        upper (not the shared     rootfs (shared        allocated blocks
 *                           lower)                    extents in full)      of disk.img
 *   destroy   unmount (overlay, image), remove rootfs/ storage/ snapshots/ (btrfs
 *             subvolumes with BTRFS_IOC_SNAP_DESTROY, never crossing into a mount)
 *
 * The image's SIZE includes ext4's own metadata (journal, inode tables): a
 * 32M image holds about 24M of files.
 *
 * Copies keep owners, modes, timestamps, xattrs (ACLs, file capabilities,
 * overlay whiteouts and opaque markers), hard links, devices, fifos,
 * sockets and symlinks (never followed); file data is reflinked (FICLONE)
 * where the filesystem can, else copied extent by extent keeping holes.
 * Inode flags (chattr) are not copied; mounts inside a template are copied
 * through.  Nested btrfs subvolumes are not part of a btrfs snapshot (the
 * kernel leaves an empty directory in their place).
 *
 * Mount state: overlay and image are mounted by cell_storage_mount() before
 * start and unmounted by cell_storage_unmount() after stop.  clone, snapshot
 * and rollback need the storage unmounted (-EBUSY otherwise): a copy of a
 * live upper or disk image is not consistent.  For dir and btrfs the caller
 * makes sure the container is stopped.
 *
 * Failure: every operation that makes something removes what it made when it
 * fails (mounts, loop devices, half-copied trees, subvolumes); errors name the
 * operation and the path.  The store must not be searchable by untrusted
 * users (a container's set-uid files live in it): st->dir (when made here),
 * storage/ and snapshots/ are mode 0700.  Functions return 0 or -errno and
 * fill *err, which must not be NULL.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../base/error.h"

enum cell_storage_kind {
	CELL_STORAGE_DIR,
	CELL_STORAGE_OVERLAY,
	CELL_STORAGE_BTRFS,
	CELL_STORAGE_IMAGE,
};

/* Smallest image:SIZE accepted (ext4 with a journal needs a few MiB). */
#define CELL_STORAGE_IMAGE_MIN (16ULL << 20)

struct cell_storage {
	enum cell_storage_kind kind;
	uint64_t image_size; /* bytes; image only, used by create */
	char *dir;	     /* <root>/containers/<name>, absolute; owned */
};

/* "dir", "overlay", "btrfs", "image:SIZE" (SIZE: bytes or K/M/G/T, powers of
 * 1024, e.g. 512M, 2G).  Fills st->kind and st->image_size only. */
int cell_storage_parse(const char *text, struct cell_storage *st, struct cell_error *err);
/* Parse and set st->dir to a copy of dir.  Release with cell_storage_release(). */
int cell_storage_init(struct cell_storage *st, const char *text, const char *dir,
		      struct cell_error *err);
void cell_storage_release(struct cell_storage *st);
/* The text form cell_storage_parse() reads back ("image:512M"); caller frees. */
char *cell_storage_format(const struct cell_storage *st);
const char *cell_storage_kind_name(enum cell_storage_kind kind);
/* <dir>/rootfs; caller frees. */
char *cell_storage_rootfs(const struct cell_storage *st);

/* Make <dir>/rootfs (and storage/) from template_rootfs, a read-only tree.
 * template_rootfs may be NULL (an empty root) except for overlay.  st->dir is
 * made (0700) when missing; rootfs/, storage/ and snapshots/ must not exist.
 * Leaves overlay and image unmounted. */
int cell_storage_create(const struct cell_storage *st, const char *template_rootfs,
			struct cell_error *err);

/* Before start / after stop.  mount: -EBUSY when rootfs is already a mount
 * point.  unmount: 0 when not mounted; -EBUSY while the container still uses
 * it.  dir and btrfs: nothing to do. */
int cell_storage_mount(const struct cell_storage *st, struct cell_error *err);
int cell_storage_unmount(const struct cell_storage *st, struct cell_error *err);
bool cell_storage_is_mounted(const struct cell_storage *st);

/* A new container dst (same kind as src; for image the size is src's) from
 * src's current state.  dst is made as by cell_storage_create(). */
int cell_storage_clone(const struct cell_storage *src, const struct cell_storage *dst,
		       struct cell_error *err);

/* Snapshot names follow container names: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}. */
bool cell_storage_snapshot_name_valid(const char *name);
/* Take snapshot `name`, or the first free "snapN" when name is NULL.  The
 * name used is returned in *out_name when out_name is not NULL (caller frees). */
int cell_storage_snapshot(const struct cell_storage *st, const char *name, char **out_name,
			  struct cell_error *err);

struct cell_storage_snapshot {
	char *name;
	time_t created;
};
/* Snapshots, oldest first.  Free with cell_storage_snapshots_free(). */
int cell_storage_snapshots(const struct cell_storage *st, struct cell_storage_snapshot **out,
			   size_t *n, struct cell_error *err);
void cell_storage_snapshots_free(struct cell_storage_snapshot *s, size_t n);
/* Make the container's root filesystem what it was at snapshot `name` (the
 * snapshot stays).  Storage must be unmounted. */
int cell_storage_rollback(const struct cell_storage *st, const char *name, struct cell_error *err);
int cell_storage_snapshot_delete(const struct cell_storage *st, const char *name,
				 struct cell_error *err);

/* Unmount, then remove rootfs/, storage/ and snapshots/ (btrfs subvolumes
 * destroyed), then st->dir itself if that left it empty.  Other files in
 * st->dir (config.json, ...) are the caller's.  0 when nothing exists. */
int cell_storage_destroy(const struct cell_storage *st, struct cell_error *err);

struct cell_storage_usage {
	uint64_t data;	    /* bytes allocated to the container (see table above) */
	uint64_t snapshots; /* bytes allocated to its snapshots */
	uint64_t limit;	    /* image: the disk image's size; 0 when unlimited */
};
int cell_storage_usage(const struct cell_storage *st, struct cell_storage_usage *out,
		       struct cell_error *err);

/* A directory for a template tree: a btrfs subvolume when `path` is on btrfs
 * (so btrfs storage can snapshot it), else a plain directory (mode 0755). */
int cell_storage_template_mkdir(const char *path, struct cell_error *err);
