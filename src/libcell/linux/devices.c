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

/* The host's node at the same path, bound onto an empty file. */
static int bind_host_node(int rootfd, int dirfd, const char *base, const struct cell_dev_op *n,
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

static int mknod_node(int dirfd, const char *base, const struct cell_dev_op *n,
		      struct cell_error *err)
{
	uid_t uid = n->uid_set ? n->uid : (uid_t)-1;
	gid_t gid = n->gid_set ? n->gid : (gid_t)-1;

	/* the exact mode at creation: a chmod by name afterwards would follow a
	 * symlink swapped in by a racing process sharing the rootfs */
	mode_t old = umask(0);
	int r = mknodat(dirfd, base, n->mode, makedev(n->major, n->minor));
	int saved = errno;
	(void)umask(old);
	if (r < 0)
		return cell_err(err, saved, "mknod %s", n->path);
	if ((n->uid_set || n->gid_set) && fchownat(dirfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return cell_err(err, errno, "chown %s", n->path);
	return 0;
}

/* An existing node at the path is replaced. */
static int node_at(int rootfd, const struct cell_dev_op *n, struct cell_error *err)
{
	const char *slash = strrchr(n->path, '/');
	_cleanup_free_ char *dir = xstrndup(n->path, (size_t)(slash - n->path));
	_cleanup_close_ int dirfd = cell_rootfs_mkpath(rootfd, *dir ? dir : "/", false, err);

	if (dirfd < 0)
		return dirfd;
	if (unlinkat(dirfd, slash + 1, 0) < 0 && errno != ENOENT)
		return cell_err(err, errno, "replace %s", n->path);
	if (n->bind_host)
		return bind_host_node(rootfd, dirfd, slash + 1, n, err);
	return mknod_node(dirfd, slash + 1, n, err);
}

static int make_node(int rootfd, const struct cell_dev_op *n, struct cell_error *err)
{
	int r = node_at(rootfd, n, err);

	if (r < 0 && n->from_spec)
		return cell_err_prefix(err, "linux.devices[%zu]", n->index);
	return r;
}

static int make_link(int devfd, const struct cell_dev_link_op *l, struct cell_error *err)
{
	const char *name = l->link.name, *target = l->link.target;

	if (l->replace && unlinkat(devfd, name, 0) < 0 && errno != ENOENT)
		return cell_err(err, errno, "replace /dev/%s", name);
	if (symlinkat(target, devfd, name) < 0 && errno != EEXIST)
		return cell_err(err, errno, "link /dev/%s to %s", name, target);
	return 0;
}

static int make_links(const struct cell_plan *p, int rootfd, struct cell_error *err)
{
	_cleanup_close_ int devfd = -1;
	int r;

	if (p->n_links == 0)
		return 0;
	devfd = cell_rootfs_mkpath(rootfd, "/dev", false, err);
	if (devfd < 0)
		return devfd;
	for (size_t i = 0; i < p->n_links; i++)
		if ((r = make_link(devfd, &p->links[i], err)) < 0)
			return r;
	return 0;
}

int cell_rootfs_make_dev(const struct cell_plan *p, int rootfd, struct cell_error *err)
{
	int r;

	if (p->dev_setup == CELL_DEV_HOST) {
		cell_debug("/dev is a bind mount: no device nodes made");
		return 0;
	}
	for (size_t i = 0; i < p->n_devices; i++)
		if ((r = make_node(rootfd, &p->devices[i], err)) < 0)
			return r;
	return make_links(p, rootfd, err);
}
