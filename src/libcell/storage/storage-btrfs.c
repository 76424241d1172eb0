/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * btrfs storage: rootfs/ is a subvolume.  Made as a snapshot of the template
 * when the template is a subvolume of the same filesystem (O(1)); otherwise
 * as a new subvolume filled by a copy (file data reflinked where it can be),
 * so any template works and clones and snapshots are O(1) from then on.
 * Snapshots are read-only subvolumes; a rollback snapshots one back
 * (writable) and exchanges it with rootfs/.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "storage-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"

static int open_dir(const char *path, struct cell_error *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? cell_err(err, errno, "open %s", path) : fd;
}

static int require_btrfs(const char *dir, int dirfd, struct cell_error *err)
{
	char type[64];

	if (storage_fd_on_btrfs(dirfd))
		return 0;
	storage_fstype(dir, type, sizeof(type));
	return cell_errx(err, ENOTSUP, "btrfs storage needs the store on btrfs (it is %s)", type);
}

/* parentfd/name := a new subvolume holding a copy of srcfd (-1: empty). */
static int subvolume_copy(int srcfd, const char *src, int parentfd, const char *path,
			  struct cell_error *err)
{
	const char *name = strrchr(path, '/') + 1;
	int r = storage_btrfs_subvolume_create(parentfd, name);

	if (r < 0)
		return cell_err(err, r, "create btrfs subvolume %s", path);
	if (srcfd < 0)
		return 0;
	_cleanup_close_ int fd =
	    openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cell_err(err, errno, "open %s", path);
	return storage_copy_into(srcfd, src, fd, path, err);
}

/* path (in the directory parentfd) := src: a snapshot when src is a subvolume
 * of this filesystem, else a copy in a new subvolume. */
static int subvolume_from(const char *src, int parentfd, const char *path, bool readonly,
			  struct cell_error *err)
{
	_cleanup_close_ int srcfd = src ? open_dir(src, err) : -1;

	if (src && srcfd < 0)
		return srcfd;
	if (srcfd >= 0 && storage_btrfs_is_subvolume(srcfd)) {
		int r = storage_btrfs_snapshot(srcfd, parentfd, strrchr(path, '/') + 1, readonly);
		if (r != -EXDEV)
			return r < 0 ? cell_err(err, r, "snapshot %s to %s", src, path) : 0;
	}
	return subvolume_copy(srcfd, src, parentfd, path, err);
}

static int btrfs_create(const struct cell_storage *st, const char *tmpl, struct cell_error *err)
{
	_cleanup_close_ int dirfd = open_dir(st->dir, err);
	_cleanup_free_ char *rootfs = storage_path(st, "rootfs");

	if (dirfd < 0)
		return dirfd;
	int r = require_btrfs(st->dir, dirfd, err);
	return r < 0 ? r : subvolume_from(tmpl, dirfd, rootfs, false, err);
}

static int btrfs_clone(const struct cell_storage *src, const struct cell_storage *dst,
		       struct cell_error *err)
{
	_cleanup_free_ char *rootfs = storage_path(src, "rootfs");

	return btrfs_create(dst, rootfs, err);
}

static int btrfs_snapshot(const struct cell_storage *st, const char *snapdir,
			  struct cell_error *err)
{
	_cleanup_close_ int fd = open_dir(snapdir, err);
	_cleanup_free_ char *rootfs = storage_path(st, "rootfs");
	_cleanup_free_ char *dst = xasprintf("%s/rootfs", snapdir);

	return fd < 0 ? fd : subvolume_from(rootfs, fd, dst, true, err);
}

static int btrfs_restore(const struct cell_storage *st, const char *snapdir, const char *tmp,
			 struct cell_error *err)
{
	_cleanup_free_ char *src = xasprintf("%s/rootfs", snapdir);
	_cleanup_free_ char *parent = xstrndup(tmp, (size_t)(strrchr(tmp, '/') - tmp));
	_cleanup_close_ int fd = open_dir(parent, err);

	return fd < 0 ? fd : subvolume_from(src, fd, tmp, false, err);
}

const struct storage_ops storage_btrfs_ops = {
    .create = btrfs_create,
    .clone = btrfs_clone,
    .snapshot = btrfs_snapshot,
    .restore = btrfs_restore,
    .rollback_target = "rootfs",
};
