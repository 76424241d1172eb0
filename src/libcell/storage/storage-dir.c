/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dir storage: rootfs/ is a plain directory holding a full copy of the
 * template; clones and snapshots are full copies too (cheap reflinks when
 * the store is on a filesystem that has them).
 */
#include <errno.h>
#include <sys/stat.h>

#include "storage-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"

static int dir_create(const struct cell_storage *st, const char *tmpl, struct cell_error *err)
{
	_cleanup_free_ char *rootfs = storage_path(st, "rootfs");

	if (tmpl)
		return storage_copy_tree(tmpl, rootfs, err);
	return mkdir(rootfs, 0755) < 0 ? cell_err(err, errno, "mkdir %s", rootfs) : 0;
}

static int dir_clone(const struct cell_storage *src, const struct cell_storage *dst,
		     struct cell_error *err)
{
	_cleanup_free_ char *from = storage_path(src, "rootfs");
	_cleanup_free_ char *to = storage_path(dst, "rootfs");

	return storage_copy_tree(from, to, err);
}

static int dir_snapshot(const struct cell_storage *st, const char *snapdir, struct cell_error *err)
{
	_cleanup_free_ char *from = storage_path(st, "rootfs");
	_cleanup_free_ char *to = xasprintf("%s/rootfs", snapdir);

	return storage_copy_tree(from, to, err);
}

static int dir_restore(const struct cell_storage *st, const char *snapdir, const char *tmp,
		       struct cell_error *err)
{
	_cleanup_free_ char *from = xasprintf("%s/rootfs", snapdir);

	return storage_copy_tree(from, tmp, err);
}

const struct storage_ops storage_dir_ops = {
    .create = dir_create,
    .clone = dir_clone,
    .snapshot = dir_snapshot,
    .restore = dir_restore,
    .rollback_target = "rootfs",
};
