/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * image:SIZE storage: storage/disk.img, a sparse file of SIZE bytes holding
 * an ext4 filesystem, loop-mounted on rootfs/ while the container runs.  The
 * filesystem's size is a hard quota: a full container gets ENOSPC and the
 * host store only ever holds the image.  The file is sparse (thin
 * provisioned): blocks are taken from the host as the container writes.
 * mke2fs makes the filesystem (no second ext4 writer here); -m 0 because the
 * blocks ext4 reserves for root would only go to the container's root.
 * Clones and snapshots copy the image (reflinked, else sparse).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"

static int make_sparse(const char *img, uint64_t size, struct cell_error *err)
{
	_cleanup_close_ int fd =
	    open(img, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return cell_err(err, errno, "create %s", img);
	if (ftruncate(fd, (off_t)size) < 0)
		return cell_err(err, errno, "resize %s to %llu bytes", img,
				(unsigned long long)size);
	return 0;
}

static int make_fs(const char *img, struct cell_error *err)
{
	const char *argv[] = {"mkfs.ext4", "-q", "-F", "-m", "0", img, NULL};
	int r = storage_run(argv, err);

	return r < 0 ? cell_err_prefix(err, "make ext4 in %s", img) : 0;
}

/* Mount the new filesystem, copy the template in, unmount (also on failure). */
static int fill(const char *img, const char *rootfs, const char *tmpl, struct cell_error *err)
{
	_cleanup_close_ int in = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct cell_error ignored;

	if (in < 0)
		return cell_err(err, errno, "open %s", tmpl);
	int r = storage_loop_mount(img, "ext4", rootfs, err);
	if (r < 0)
		return r;
	int out = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (out < 0)
		r = cell_err(err, errno, "open %s", rootfs);
	else
		r = storage_copy_into(in, tmpl, out, rootfs, err);
	if (out >= 0)
		(void)close(out);
	int q = storage_umount(rootfs, r < 0 ? &ignored : err);
	return r < 0 ? r : q;
}

static int image_create(const struct cell_storage *st, const char *tmpl, struct cell_error *err)
{
	_cleanup_free_ char *img = storage_path(st, "storage/disk.img");
	_cleanup_free_ char *rootfs = storage_path(st, "rootfs");
	int r;

	if (st->image_size < CELL_STORAGE_IMAGE_MIN)
		return cell_err(err, EINVAL, "image storage of %llu bytes: the minimum is %llu",
				(unsigned long long)st->image_size, CELL_STORAGE_IMAGE_MIN);
	if ((r = storage_mkdir(st, "storage", err)) < 0 ||
	    (r = make_sparse(img, st->image_size, err)) < 0 || (r = make_fs(img, err)) < 0)
		return r;
	if (mkdir(rootfs, 0755) < 0)
		return cell_err(err, errno, "mkdir %s", rootfs);
	return tmpl ? fill(img, rootfs, tmpl, err) : 0;
}

static int image_mount(const struct cell_storage *st, struct cell_error *err)
{
	_cleanup_free_ char *img = storage_path(st, "storage/disk.img");
	_cleanup_free_ char *rootfs = storage_path(st, "rootfs");

	return storage_loop_mount(img, "ext4", rootfs, err);
}

static int image_clone(const struct cell_storage *src, const struct cell_storage *dst,
		       struct cell_error *err)
{
	_cleanup_free_ char *from = storage_path(src, "storage/disk.img");
	_cleanup_free_ char *to = storage_path(dst, "storage/disk.img");
	_cleanup_free_ char *rootfs = storage_path(dst, "rootfs");
	int r = storage_mkdir(dst, "storage", err);

	if (r == 0)
		r = storage_copy_file(from, to, err);
	if (r == 0 && mkdir(rootfs, 0755) < 0)
		r = cell_err(err, errno, "mkdir %s", rootfs);
	return r;
}

static int image_snapshot(const struct cell_storage *st, const char *snapdir,
			  struct cell_error *err)
{
	_cleanup_free_ char *from = storage_path(st, "storage/disk.img");
	_cleanup_free_ char *to = xasprintf("%s/disk.img", snapdir);

	return storage_copy_file(from, to, err);
}

static int image_restore(const struct cell_storage *st, const char *snapdir, const char *tmp,
			 struct cell_error *err)
{
	_cleanup_free_ char *from = xasprintf("%s/disk.img", snapdir);

	return storage_copy_file(from, tmp, err);
}

const struct storage_ops storage_image_ops = {
    .create = image_create,
    .mount = image_mount,
    .clone = image_clone,
    .snapshot = image_snapshot,
    .restore = image_restore,
    .rollback_target = "storage/disk.img",
};
