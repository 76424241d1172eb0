/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /dev inside the rootfs: default nodes, linux.devices and the standard
 * links (runtime-spec config-linux.md#devices, runtime-linux.md#dev-symbolic-links).
 * In a user namespace mknod(2) of devices is refused, so the host's node is
 * bound onto an empty file instead.  A /dev bound from the host is never
 * written to.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "rootfs-internal.h"

struct node {
	const char *path; /* clean, absolute, inside the rootfs */
	mode_t mode;
	dev_t rdev;
	bool uid_set, gid_set;
	uid_t uid;
	gid_t gid;
};

/* The host's node at the same path, bound onto an empty file. */
static int bind_host_node(int rootfd, int dirfd, const char *base, const struct node *n,
			  struct cell_error *err)
{
	_cleanup_close_ int target = -1, mnt = -1;

	target = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (target < 0)
		return cell_err(err, errno, "create %s", n->path);
	mnt = open_tree(AT_FDCWD, n->path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (mnt < 0)
		return cell_err(err, errno, "open host device %s", n->path);
	return cell_mnt_attach(mnt, rootfd, target, n->path, err);
}

static int mknod_node(int dirfd, const char *base, const struct node *n, struct cell_error *err)
{
	uid_t uid = n->uid_set ? n->uid : (uid_t)-1;
	gid_t gid = n->gid_set ? n->gid : (gid_t)-1;

	/* the exact mode at creation: a chmod by name afterwards would follow a
	 * symlink swapped in by a racing process sharing the rootfs */
	mode_t old = umask(0);
	int r = mknodat(dirfd, base, n->mode, n->rdev);
	int saved = errno;
	(void)umask(old);
	if (r < 0)
		return cell_err(err, saved, "mknod %s", n->path);
	if ((n->uid_set || n->gid_set) && fchownat(dirfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return cell_err(err, errno, "chown %s", n->path);
	return 0;
}

/* An existing node at the path is replaced. */
static int make_node(const struct cell_rootfs_ctx *c, int rootfd, const struct node *n,
		     struct cell_error *err)
{
	const char *slash = strrchr(n->path, '/');
	_cleanup_free_ char *dir = xstrndup(n->path, (size_t)(slash - n->path));
	_cleanup_close_ int dirfd = cell_rootfs_mkpath(rootfd, *dir ? dir : "/", false, err);

	if (dirfd < 0)
		return dirfd;
	if (unlinkat(dirfd, slash + 1, 0) < 0 && errno != ENOENT)
		return cell_err(err, errno, "replace %s", n->path);
	if (c->in_userns && !S_ISFIFO(n->mode))
		return bind_host_node(rootfd, dirfd, slash + 1, n, err);
	return mknod_node(dirfd, slash + 1, n, err);
}

static bool in_spec_devices(const struct cell_spec *s, const char *path)
{
	for (size_t i = 0; i < s->linux.n_devices; i++) {
		_cleanup_free_ char *p = cell_path_clean(s->linux.devices[i].path);
		if (streq(p, path))
			return true;
	}
	return false;
}

/* The defaults, but for those linux.devices redefines. */
static int make_defaults(const struct cell_rootfs_ctx *c, int rootfd, struct cell_error *err)
{
	for (size_t i = 0; i < cell_n_default_devices; i++) {
		const struct cell_dev_node *d = &cell_default_devices[i];
		_cleanup_free_ char *path = xasprintf("/dev/%s", d->name);
		struct node n = {
		    .path = path, .mode = d->mode, .rdev = makedev(d->major, d->minor)};
		if (in_spec_devices(c->spec, path))
			continue;
		int r = make_node(c, rootfd, &n, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int make_spec_device(const struct cell_rootfs_ctx *c, int rootfd, size_t i,
			    struct cell_error *err)
{
	const struct cell_device *d = &c->spec->linux.devices[i];
	_cleanup_free_ char *path = cell_path_clean(d->path);
	struct node n = {.path = path,
			 .uid_set = d->uid_set,
			 .gid_set = d->gid_set,
			 .uid = d->uid,
			 .gid = d->gid};

	if (cell_path_escapes_root(d->path) || streq(path, "/"))
		return cell_errx(err, EINVAL, "linux.devices[%zu].path \"%s\": not a path in the rootfs",
				i, d->path);
	if (cell_device_mode(d, &n.mode) < 0)
		return cell_errx(err, EINVAL, "linux.devices[%zu].type '%c': unknown", i, d->type);
	n.rdev = makedev((unsigned int)d->major, (unsigned int)d->minor);
	if (make_node(c, rootfd, &n, err) < 0)
		return cell_err_prefix(err, "linux.devices[%zu]", i);
	return 0;
}

static int make_link(int devfd, const struct cell_dev_link *l, bool replace, struct cell_error *err)
{
	if (replace && unlinkat(devfd, l->name, 0) < 0 && errno != ENOENT)
		return cell_err(err, errno, "replace /dev/%s", l->name);
	if (symlinkat(l->target, devfd, l->name) < 0 && errno != EEXIST)
		return cell_err(err, errno, "link /dev/%s to %s", l->name, l->target);
	return 0;
}

static int make_links(const struct cell_rootfs_ctx *c, int rootfd, struct cell_error *err)
{
	_cleanup_close_ int devfd = cell_rootfs_mkpath(rootfd, "/dev", false, err);
	int r;

	if (devfd < 0)
		return devfd;
	for (size_t i = 0; i < cell_n_default_dev_links; i++)
		if ((r = make_link(devfd, &cell_default_dev_links[i], false, err)) < 0)
			return r;
	if (cell_spec_has_devpts(c->spec))
		return make_link(devfd, &cell_dev_ptmx_link, true, err);
	return 0;
}

int cell_rootfs_make_dev(const struct cell_rootfs_ctx *c, int rootfd, struct cell_error *err)
{
	enum cell_dev_setup how = cell_spec_dev_setup(c->spec);
	int r;

	if (how == CELL_DEV_HOST) {
		cell_debug("/dev is a bind mount: no device nodes made");
		return 0;
	}
	if (how == CELL_DEV_FILL && (r = make_defaults(c, rootfd, err)) < 0)
		return r;
	for (size_t i = 0; i < c->spec->linux.n_devices; i++)
		if ((r = make_spec_device(c, rootfd, i, err)) < 0)
			return r;
	return how == CELL_DEV_FILL ? make_links(c, rootfd, err) : 0;
}
