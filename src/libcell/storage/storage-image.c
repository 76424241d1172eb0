/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * image:SIZE storage: storage/disk.img, a file of SIZE bytes holding an ext4
 * filesystem, loop-mounted on rootfs/ while the container runs.  The
 * filesystem's size is a hard quota: a full container gets ENOSPC and the
 * host store only ever holds the image.  The file's blocks are reserved when
 * it is made (fallocate(2) mode 0, not thin provisioning): a sparse image on a
 * store that fills up has its writes fail on the host filesystem, beneath an
 * ext4 that already acknowledged them (the kernel logs data loss in the image
 * and the container sees nothing).  A store without room is refused up front,
 * saying what is free; a filesystem that cannot reserve (EOPNOTSUPP) is refused
 * too, as glibc's posix_fallocate fallback (a write per block) would only
 * pretend on copy-on-write filesystems.
 * mke2fs makes the filesystem (no second ext4 writer here); -m 0 because the
 * blocks ext4 reserves for root would only go to the container's root;
 * -E nodiscard because its discard of a regular file punches the reserved
 * blocks out again, and no lazy init, because the kernel's zeroing of inode
 * tables and journal at the first mount goes through the loop device as
 * WRITE_ZEROES, which punches holes too.  mke2fs still zeroes with
 * PUNCH_HOLE where the store lacks FALLOC_FL_ZERO_RANGE (tmpfs), and a
 * privileged container can fstrim its image: the holes are filled again
 * (fallocate over the whole file, which reads as zeros either way) after
 * mkfs, after the template is copied in and before every mount.  Clones and
 * restored snapshots copy the image (reflinked, else sparse) and reserve the
 * copy's holes the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "storage-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"

static int reserve_fail(int fd, int e, const char *img, uint64_t size, struct cell_error *err)
{
	struct statvfs sv;

	if (e == ENOSPC && fstatvfs(fd, &sv) == 0)
		return cell_err(err, ENOSPC,
				"reserve %s: the store has %llu MiB free, the image needs %llu MiB", img, (unsigned long long)(sv.f_bavail * sv.f_frsize) >> 20,
				(unsigned long long)size >> 20);
	if (e == EOPNOTSUPP)
		return cell_err(err, e,
				"reserve %llu MiB for %s: the store's filesystem cannot allocate "
				"space ahead (fallocate); put the store on ext4, xfs, btrfs or "
				"tmpfs, or use dir or overlay storage",
				(unsigned long long)size >> 20, img);
	return cell_err(err, e, "reserve %llu bytes for %s", (unsigned long long)size, img);
}

/* Blocks for all of [0, size) now, or an error that says what is free. */
static int reserve(int fd, const char *img, uint64_t size, struct cell_error *err)
{
	struct statvfs sv;
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return cell_err(err, errno, "stat %s", img);
	uint64_t have = (uint64_t)sb.st_blocks * 512;
	/* refused before a partial allocation can eat what is left */
	if (fstatvfs(fd, &sv) == 0 && have < size &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < size - have)
		return reserve_fail(fd, ENOSPC, img, size, err);
	if (fallocate(fd, 0, 0, (off_t)size) < 0)
		return reserve_fail(fd, errno, img, size, err);
	return 0;
}

static int make_image(const char *img, uint64_t size, struct cell_error *err)
{
	_cleanup_close_ int fd =
	    open(img, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return cell_err(err, errno, "create %s", img);
	if ((r = reserve(fd, img, size, err)) < 0) {
		(void)unlink(img); /* give the space back now */
		return r;
	}
	return 0;
}

/* A copied image (clone, restore) keeps the source's holes: reserve them. */
static int reserve_copy(const char *img, struct cell_error *err)
{
	_cleanup_close_ int fd = open(img, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;

	if (fd < 0 || fstat(fd, &sb) < 0)
		return cell_err(err, errno, "open %s", img);
	return reserve(fd, img, (uint64_t)sb.st_size, err);
}

static int make_fs(const char *img, struct cell_error *err)
{
	const char *argv[] = {"mkfs.ext4", "-q", "-F", "-m", "0", "-E",
			      "nodiscard,lazy_itable_init=0,lazy_journal_init=0", img, NULL};
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
	    (r = make_image(img, st->image_size, err)) < 0 || (r = make_fs(img, err)) < 0 ||
	    (r = reserve_copy(img, err)) < 0)
		return r;
	if (mkdir(rootfs, 0755) < 0)
		return cell_err(err, errno, "mkdir %s", rootfs);
	return tmpl && (r = fill(img, rootfs, tmpl, err)) < 0 ? r : reserve_copy(img, err);
}

static int image_mount(const struct cell_storage *st, struct cell_error *err)
{
	_cleanup_free_ char *img = storage_path(st, "storage/disk.img");
	_cleanup_free_ char *rootfs = storage_path(st, "rootfs");
	int r = reserve_copy(img, err); /* holes a discard or trim punched since */

	return r < 0 ? r : storage_loop_mount(img, "ext4", rootfs, err);
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
	if (r == 0)
		r = reserve_copy(to, err);
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
	int r = storage_copy_file(from, tmp, err);

	return r < 0 ? r : reserve_copy(tmp, err);
}

const struct storage_ops storage_image_ops = {
    .create = image_create,
    .mount = image_mount,
    .clone = image_clone,
    .snapshot = image_snapshot,
    .restore = image_restore,
    .rollback_target = "storage/disk.img",
};
