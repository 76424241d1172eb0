/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Storage: parsing, the layout below st->dir, and the framing every backend
 * shares.  A new container (create, clone) must not find rootfs/, storage/ or
 * snapshots/ in place, so on failure everything of those three is ours to
 * remove (after unmounting); st->dir itself goes too when we made it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage-internal.h"
#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

static const struct backend {
	const char *name;
	enum cell_storage_kind kind;
	const struct storage_ops *ops;
} backends[] = {
    {"dir", CELL_STORAGE_DIR, &storage_dir_ops},
    {"overlay", CELL_STORAGE_OVERLAY, &storage_overlay_ops},
    {"btrfs", CELL_STORAGE_BTRFS, &storage_btrfs_ops},
    {"image", CELL_STORAGE_IMAGE, &storage_image_ops},
};

/* What a container's storage owns below st->dir. */
static const char *const owned[] = {"rootfs", "storage", "snapshots"};

static const struct backend *backend_of(enum cell_storage_kind kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (backends[i].kind == kind)
			return &backends[i];
	return NULL;
}

const struct storage_ops *storage_ops_of(enum cell_storage_kind kind)
{
	const struct backend *b = backend_of(kind);

	return b ? b->ops : NULL;
}

const char *cell_storage_kind_name(enum cell_storage_kind kind)
{
	const struct backend *b = backend_of(kind);

	return b ? b->name : "unknown";
}

/* The backend of st, or NULL (err filled) for an unknown kind or a relative dir. */
static const struct storage_ops *backend_ops(const struct cell_storage *st, struct cell_error *err)
{
	const struct backend *b = backend_of(st->kind);

	if (!b)
		(void)cell_err(err, EINVAL, "storage kind %d is unknown", (int)st->kind);
	else if (!st->dir || st->dir[0] != '/')
		(void)cell_err(err, EINVAL, "storage directory %s is not an absolute path",
			       st->dir ? st->dir : "(none)");
	else
		return b->ops;
	return NULL;
}

/* ---- parsing ---- */

static const struct unit {
	char suffix;
	unsigned shift;
} units[] = {{'K', 10}, {'M', 20}, {'G', 30}, {'T', 40}};

static int parse_size(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned shift = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	for (size_t i = 0; *end && i < ARRAY_SIZE(units); i++)
		if ((*end & ~0x20) == units[i].suffix && !end[1])
			shift = units[i].shift;
	if (*end && !shift)
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_image(const char *text, uint64_t *size, struct cell_error *err)
{
	const char *arg = text + strlen("image:");

	if (parse_size(arg, size) < 0)
		return cell_err(err, EINVAL,
				"storage \"%s\": bad size \"%s\" (bytes, or a number with K, M, G "
				"or T, e.g. image:2G)",
				text, arg);
	if (*size < CELL_STORAGE_IMAGE_MIN)
		return cell_err(err, EINVAL,
				"storage \"%s\": size \"%s\" is below the minimum of %lluM", text,
				arg, CELL_STORAGE_IMAGE_MIN >> 20);
	return 0;
}

int cell_storage_parse(const char *text, struct cell_storage *st, struct cell_error *err)
{
	uint64_t size = 0;

	if (!text)
		return cell_err(err, EINVAL,
				"no storage given (dir, overlay, btrfs or image:SIZE)");
	if (cell_startswith(text, "image:")) {
		int r = parse_image(text, &size, err);
		if (r < 0)
			return r;
		st->kind = CELL_STORAGE_IMAGE;
		st->image_size = size;
		return 0;
	}
	if (streq(text, "image"))
		return cell_err(err, EINVAL,
				"storage \"image\" needs a size: image:SIZE (e.g. image:2G)");
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (backends[i].kind != CELL_STORAGE_IMAGE && streq(text, backends[i].name)) {
			st->kind = backends[i].kind;
			st->image_size = 0;
			return 0;
		}
	return cell_err(err, EINVAL, "unknown storage \"%s\" (dir, overlay, btrfs or image:SIZE)",
			text);
}

int cell_storage_init(struct cell_storage *st, const char *text, const char *dir,
		      struct cell_error *err)
{
	struct cell_storage s = {0};
	int r = cell_storage_parse(text, &s, err);

	if (r < 0)
		return r;
	if (!dir || dir[0] != '/')
		return cell_err(err, EINVAL, "storage directory %s is not an absolute path",
				dir ? dir : "(none)");
	s.dir = xstrdup(dir);
	*st = s;
	return 0;
}

void cell_storage_release(struct cell_storage *st)
{
	free(st->dir);
	st->dir = NULL;
}

char *cell_storage_format(const struct cell_storage *st)
{
	if (st->kind != CELL_STORAGE_IMAGE)
		return xstrdup(cell_storage_kind_name(st->kind));
	for (size_t i = ARRAY_SIZE(units); i-- > 0;)
		if (st->image_size && !(st->image_size & ((1ULL << units[i].shift) - 1)))
			return xasprintf("image:%llu%c",
					 (unsigned long long)(st->image_size >> units[i].shift),
					 units[i].suffix);
	return xasprintf("image:%llu", (unsigned long long)st->image_size);
}

/* ---- layout ---- */

char *cell_storage_rootfs(const struct cell_storage *st)
{
	return storage_path(st, "rootfs");
}

int storage_mkdir_storage(const struct cell_storage *st, struct cell_error *err)
{
	_cleanup_free_ char *path = storage_path(st, "storage");

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return cell_err(err, errno, "mkdir %s", path);
	return 0;
}

bool cell_storage_is_mounted(const struct cell_storage *st)
{
	_cleanup_free_ char *rootfs = storage_path(st, "rootfs");

	return storage_is_mount_point_at(AT_FDCWD, rootfs);
}

/* ---- mount / unmount ---- */

int cell_storage_mount(const struct cell_storage *st, struct cell_error *err)
{
	const struct storage_ops *ops = backend_ops(st, err);

	if (!ops)
		return -EINVAL;
	if (!ops->mount)
		return 0;
	if (cell_storage_is_mounted(st))
		return cell_err(err, EBUSY, "mount %s/rootfs: already mounted", st->dir);
	return ops->mount(st, err);
}

/* Only backends that mount unmount: a mount on a dir or btrfs rootfs is not ours. */
int cell_storage_unmount(const struct cell_storage *st, struct cell_error *err)
{
	const struct storage_ops *ops = backend_ops(st, err);

	if (!ops)
		return -EINVAL;
	if (!ops->mount)
		return 0;
	_cleanup_free_ char *rootfs = storage_path(st, "rootfs");
	return storage_umount(rootfs, err);
}

/* ---- create / clone / destroy ---- */

static int remove_owned(const struct cell_storage *st, struct cell_error *err)
{
	int r = cell_storage_unmount(st, err);

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(owned); i++) {
		_cleanup_free_ char *path = storage_path(st, owned[i]);
		r = storage_remove(path, err);
	}
	return r;
}

/* st->dir exists (made now: *made) and holds none of `owned`. */
static int begin_new(const struct cell_storage *st, bool *made, struct cell_error *err)
{
	struct stat s;

	*made = mkdir(st->dir, 0700) == 0;
	if (!*made && errno != EEXIST)
		return cell_err(err, errno, "mkdir %s", st->dir);
	for (size_t i = 0; i < ARRAY_SIZE(owned); i++) {
		_cleanup_free_ char *path = storage_path(st, owned[i]);
		if (lstat(path, &s) == 0)
			return cell_err(err, EEXIST, "%s already exists", path);
	}
	return 0;
}

/* Undo a failed create/clone; the first error is the one reported. */
static int abort_new(const struct cell_storage *st, bool made, int r)
{
	struct cell_error e = {0};
	char text[CELL_ERROR_MSG + 64];

	if (remove_owned(st, &e) < 0)
		cell_debug("storage: cleaning up %s: %s", st->dir,
			   cell_err_text(&e, text, sizeof(text)));
	if (made && rmdir(st->dir) < 0)
		cell_debug("storage: rmdir %s: %m", st->dir);
	return r;
}

int cell_storage_create(const struct cell_storage *st, const char *template_rootfs,
			struct cell_error *err)
{
	const struct storage_ops *ops = backend_ops(st, err);
	bool made = false;

	if (!ops)
		return -EINVAL;
	int r = begin_new(st, &made, err);
	if (r < 0)
		return cell_err_prefix(err, "create %s storage", cell_storage_kind_name(st->kind));
	r = ops->create(st, template_rootfs, err);
	if (r < 0) {
		(void)cell_err_prefix(err, "create %s storage in %s",
				      cell_storage_kind_name(st->kind), st->dir);
		return abort_new(st, made, r);
	}
	return 0;
}

/* snapshot, clone and rollback read or replace what a live mount would be changing. */
int storage_need_unmounted(const struct cell_storage *st, const char *op, struct cell_error *err)
{
	struct stat s;
	_cleanup_free_ char *rootfs = storage_path(st, "rootfs");

	if (lstat(rootfs, &s) < 0)
		return cell_err(err, errno, "%s %s: no storage there", op, st->dir);
	if (storage_is_mount_point_at(AT_FDCWD, rootfs))
		return cell_err(err, EBUSY,
				"%s %s: its rootfs is mounted (stop the container first)", op,
				st->dir);
	return 0;
}

static int clone_check(const struct cell_storage *src, const struct cell_storage *dst,
		       struct cell_error *err)
{
	if (src->kind != dst->kind)
		return cell_err(err, EINVAL, "clone %s storage as %s storage: kinds differ",
				cell_storage_kind_name(src->kind),
				cell_storage_kind_name(dst->kind));
	if (streq(src->dir, dst->dir))
		return cell_err(err, EINVAL, "clone %s onto itself", src->dir);
	return storage_need_unmounted(src, "clone", err);
}

int cell_storage_clone(const struct cell_storage *src, const struct cell_storage *dst,
		       struct cell_error *err)
{
	const struct storage_ops *ops = backend_ops(src, err);
	bool made = false;

	if (!ops || !backend_ops(dst, err))
		return -EINVAL;
	int r = clone_check(src, dst, err);
	if (r == 0)
		r = begin_new(dst, &made, err);
	if (r < 0)
		return r;
	r = ops->clone(src, dst, err);
	if (r < 0) {
		(void)cell_err_prefix(err, "clone %s to %s", src->dir, dst->dir);
		return abort_new(dst, made, r);
	}
	return 0;
}

int cell_storage_destroy(const struct cell_storage *st, struct cell_error *err)
{
	int r = backend_ops(st, err) ? remove_owned(st, err) : -EINVAL;

	if (r < 0)
		return cell_err_prefix(err, "destroy %s", st->dir);
	if (rmdir(st->dir) < 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
		return cell_err(err, errno, "destroy %s: rmdir", st->dir);
	return 0;
}

/* ---- usage ---- */

static int du_rel(const struct cell_storage *st, const char *rel, uint64_t *sum,
		  struct cell_error *err)
{
	_cleanup_free_ char *path = storage_path(st, rel);
	uint64_t bytes = 0;
	int r = storage_du(path, &bytes, err);

	*sum += bytes;
	return r;
}

int cell_storage_usage(const struct cell_storage *st, struct cell_storage_usage *out,
		       struct cell_error *err)
{
	struct cell_storage_usage u = {0};
	_cleanup_free_ char *img = storage_path(st, "storage/disk.img");
	struct stat s;
	int r = backend_ops(st, err) ? 0 : -EINVAL;

	/* a mounted rootfs is not walked (du stays on its filesystem): the upper
	 * or the image below storage/ is what the container really uses */
	if (r == 0)
		r = du_rel(st, "rootfs", &u.data, err);
	if (r == 0)
		r = du_rel(st, "storage", &u.data, err);
	if (r == 0)
		r = du_rel(st, "snapshots", &u.snapshots, err);
	if (r < 0)
		return cell_err_prefix(err, "disk usage of %s", st->dir);
	if (st->kind == CELL_STORAGE_IMAGE && stat(img, &s) == 0)
		u.limit = (uint64_t)s.st_size;
	*out = u;
	return 0;
}

/* ---- templates ---- */

int cell_storage_template_mkdir(const char *path, struct cell_error *err)
{
	const char *name = path;
	_cleanup_close_ int fd = storage_open_parent(path, &name, err);

	if (fd < 0)
		return fd;
	if (!storage_fd_on_btrfs(fd))
		return mkdirat(fd, name, 0755) < 0 ? cell_err(err, errno, "mkdir %s", path) : 0;
	int r = storage_btrfs_subvolume_create(fd, name);
	return r < 0 ? cell_err(err, r, "create btrfs subvolume %s", path) : 0;
}
