/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * overlay storage: the template is the read-only lower layer, shared by every
 * container made from it; the container's changes live in storage/upper
 * (storage/work is overlayfs's scratch space on the same filesystem), and
 * storage/lower names the lower directory.  Creating one makes three empty
 * directories whatever the template's size.
 *
 * A clone gets a copy of the source's upper over the same lower: its cost is
 * the source's changes, not the template, and the two containers stay
 * independent (stacking the source's upper as a second lower would tie the
 * clone to the source forever).  Snapshots are copies of the upper.  Copying
 * an upper keeps whiteouts (0/0 character devices) and the trusted.overlay.*
 * xattrs (opaque directories, redirects), which refer to the same lower.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"

/* The lower directory, absolute and free of symlinks, so the recorded path
 * keeps naming the same tree. */
static char *resolve_lower(const char *tmpl, struct cell_error *err)
{
	char buf[PATH_MAX];
	struct stat s;

	if (!tmpl)
		(void)cell_err(err, EINVAL, "overlay storage needs a template (its lower layer)");
	else if (!realpath(tmpl, buf) || stat(buf, &s) < 0)
		(void)cell_err(err, errno, "template %s", tmpl);
	else if (!S_ISDIR(s.st_mode))
		(void)cell_err(err, ENOTDIR, "template %s", buf);
	else if (storage_overlay_path_ok(buf, err) == 0)
		return xstrdup(buf);
	return NULL;
}

/* The merged root takes its owner, mode and times from the upper's root. */
static int upper_like(const char *upper, const char *lower, struct cell_error *err)
{
	_cleanup_close_ int in = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int out = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (in < 0 || out < 0)
		return cell_err(err, errno, "open %s", in < 0 ? lower : upper);
	return storage_copy_attrs(in, lower, out, upper, err);
}

/* storage/{work,lower} and an empty rootfs/ (the mount point). */
static int finish_layout(const struct cell_storage *st, const char *lower, struct cell_error *err)
{
	_cleanup_free_ char *lowerfile = storage_path(st, "storage/lower");
	_cleanup_free_ char *rootfs = storage_path(st, "rootfs");
	_cleanup_free_ char *upper = storage_path(st, "storage/upper");
	int r = storage_overlay_path_ok(upper, err);

	if (r == 0)
		r = storage_mkdir(st, "storage/work", err);
	if (r == 0)
		r = storage_write_line(lowerfile, lower, err);
	if (r == 0 && mkdir(rootfs, 0755) < 0)
		r = cell_err(err, errno, "mkdir %s", rootfs);
	return r;
}

static int overlay_create(const struct cell_storage *st, const char *tmpl, struct cell_error *err)
{
	_cleanup_free_ char *lower = resolve_lower(tmpl, err);
	_cleanup_free_ char *upper = storage_path(st, "storage/upper");

	if (!lower)
		return err->code ? -err->code : -EINVAL;
	int r = storage_mkdir(st, "storage", err);
	if (r == 0)
		r = storage_mkdir(st, "storage/upper", err);
	if (r == 0)
		r = upper_like(upper, lower, err);
	return r < 0 ? r : finish_layout(st, lower, err);
}

static int read_lower(const struct cell_storage *st, char **lower, struct cell_error *err)
{
	_cleanup_free_ char *path = storage_path(st, "storage/lower");

	return storage_read_line(path, lower, err);
}

static int overlay_mount(const struct cell_storage *st, struct cell_error *err)
{
	_cleanup_free_ char *lower = NULL;
	_cleanup_free_ char *upper = storage_path(st, "storage/upper");
	_cleanup_free_ char *work = storage_path(st, "storage/work");
	_cleanup_free_ char *rootfs = storage_path(st, "rootfs");
	int r = read_lower(st, &lower, err);

	return r < 0 ? r : storage_mount_overlay(lower, upper, work, rootfs, err);
}

static int overlay_clone(const struct cell_storage *src, const struct cell_storage *dst,
			 struct cell_error *err)
{
	_cleanup_free_ char *lower = NULL;
	_cleanup_free_ char *from = storage_path(src, "storage/upper");
	_cleanup_free_ char *to = storage_path(dst, "storage/upper");
	int r = read_lower(src, &lower, err);

	if (r == 0)
		r = storage_mkdir(dst, "storage", err);
	if (r == 0)
		r = storage_copy_tree(from, to, err);
	return r < 0 ? r : finish_layout(dst, lower, err);
}

static int overlay_snapshot(const struct cell_storage *st, const char *snapdir,
			    struct cell_error *err)
{
	_cleanup_free_ char *from = storage_path(st, "storage/upper");
	_cleanup_free_ char *to = xasprintf("%s/upper", snapdir);

	return storage_copy_tree(from, to, err);
}

/* The work directory needs no reset: overlayfs empties it on every mount. */
static int overlay_restore(const struct cell_storage *st, const char *snapdir, const char *tmp,
			   struct cell_error *err)
{
	_cleanup_free_ char *from = xasprintf("%s/upper", snapdir);

	return storage_copy_tree(from, tmp, err);
}

const struct storage_ops storage_overlay_ops = {
    .create = overlay_create,
    .mount = overlay_mount,
    .clone = overlay_clone,
    .snapshot = overlay_snapshot,
    .restore = overlay_restore,
    .rollback_target = "storage/upper",
};
