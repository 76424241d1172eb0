/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shifting a root-owned rootfs into a container's user namespace.
 *
 * An idmapped mount (mount_setattr(2), MOUNT_ATTR_IDMAP) makes a file owned
 * by id k on disk appear as the host id that container id k maps to, so
 * container root owns what host root owns on disk, and the disk is never
 * touched.  It is made in the parent as a detached tree and attached by the
 * child in its own mount namespace (a detached mount can move anywhere).
 * Filesystems without idmap support get a one-time chown instead; once the
 * tree's owner is mapped, later creates find nothing to do.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "rootfs-internal.h"
#include "rootfs.h"
#include "userns.h"

static bool id_mapped(const struct cell_idmap *m, size_t n, uint32_t host_id)
{
	for (size_t i = 0; i < n; i++)
		if (host_id >= m[i].host_id && host_id - m[i].host_id < m[i].size)
			return true;
	return false;
}

/* container id k -> host id; unmapped ids stay as they are */
static uint32_t to_host(const struct cell_idmap *m, size_t n, uint32_t k)
{
	uint32_t host = k;

	(void)cell_idmap_to_host(m, n, k, &host);
	return host;
}

/* A detached clone of the rootfs's mount tree, made a slave: a clone of a shared source
 * (as on a systemd host) joins its peer group, so every mount the container made on it
 * would appear in our namespace, and pivot_root(2) would refuse it.  A slave, like the
 * bind the child makes of a rootfs below its rslave "/", sends nothing back. */
static int slave_clone(const char *rootfs, struct cell_error *err)
{
	_cleanup_close_ int tree =
		open_tree(AT_FDCWD, rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	int r;

	if (tree < 0)
		return cell_err(err, errno, "clone the mount tree of %s", rootfs);
	if ((r = cell_mnt_setattr(tree, true, 0, 0, MS_SLAVE)) < 0)
		return cell_err(err, r, "make the clone of %s a slave", rootfs);
	return TAKE_FD(tree);
}

static int idmap_tree(const struct cell_spec *s, int tree, const char *rootfs,
		      struct cell_error *err)
{
	static const struct cell_mount whole = { 0 };
	_cleanup_close_ int userns = cell_idmap_userns_fd(s, &whole, err);
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };

	if (userns < 0)
		return userns;
	attr.userns_fd = (uint64_t)userns;
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return cell_err(err, errno, "idmap %s", rootfs);
	return 0;
}

/* nftw has no user pointer: the id map of the one walk in progress */
static struct {
	const struct cell_idmap *uids, *gids;
	size_t n_uids, n_gids;
} chown_maps;

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	uid_t uid = to_host(chown_maps.uids, chown_maps.n_uids, st->st_uid);
	gid_t gid = to_host(chown_maps.gids, chown_maps.n_gids, st->st_gid);

	(void)flag;
	(void)ftw;
	if (uid == st->st_uid && gid == st->st_gid)
		return 0;
	if (lchown(path, uid, gid) < 0)
		return errno;
	/* chown clears set-id bits: put them back on what is not a symlink */
	if (!S_ISLNK(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) &&
	    chmod(path, st->st_mode & 07777) < 0)
		return errno;
	return 0;
}

static int chown_walk(const char *rootfs, const struct cell_idmap *uids, size_t n_uids,
		      const struct cell_idmap *gids, size_t n_gids, struct cell_error *err)
{
	chown_maps.uids = uids;
	chown_maps.n_uids = n_uids;
	chown_maps.gids = gids;
	chown_maps.n_gids = n_gids;
	int r = nftw(rootfs, chown_one, 64, FTW_PHYS | FTW_MOUNT);
	chown_maps.uids = chown_maps.gids = NULL;
	if (r != 0)
		return cell_err(err, r > 0 ? r : errno, "shift ownership of %s", rootfs);
	return 0;
}

static int chown_tree(const struct cell_spec *s, const char *rootfs, struct cell_error *err)
{
	const struct cell_linux *l = &s->linux;

	return chown_walk(rootfs, l->uid_mappings, l->n_uid_mappings, l->gid_mappings,
			  l->n_gid_mappings, err);
}

int cell_rootfs_shift_range(const char *rootfs, uint32_t from, uint32_t to, uint32_t size,
			    struct cell_error *err)
{
	/* read as "id `from + k` becomes `to + k`": the walk maps container_id -> host_id */
	const struct cell_idmap m = { .container_id = from, .host_id = to, .size = size };

	return chown_walk(rootfs, &m, 1, &m, 1, err);
}

int cell_rootfs_shift_prepare(const struct cell_spec *s, const char *rootfs, int *tree_fd,
			      struct cell_error *err)
{
	const struct cell_linux *l = &s->linux;
	struct cell_error idmap_err = { 0 };
	struct stat st;

	*tree_fd = -1;
	if (!l->ns[CELL_NS_USER].enabled || l->ns[CELL_NS_USER].path || geteuid() != 0 ||
	    !l->n_uid_mappings)
		return 0;
	if (stat(rootfs, &st) < 0)
		return cell_err(err, errno, "stat %s", rootfs);
	if (id_mapped(l->uid_mappings, l->n_uid_mappings, st.st_uid))
		return 0;
	_cleanup_close_ int tree = slave_clone(rootfs, err);
	if (tree < 0)
		return tree;
	if (idmap_tree(s, tree, rootfs, &idmap_err) == 0) {
		*tree_fd = TAKE_FD(tree);
		return 0;
	}
	cell_debug("rootfs %s: no idmapped mount (%s), shifting by chown", rootfs, idmap_err.msg);
	return chown_tree(s, rootfs, err);
}
