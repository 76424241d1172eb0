/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mounting by fd: targets opened inside the rootfs, detached mounts shaped
 * with mount_setattr(2) and moved into place with move_mount(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "../sys/fsctx.h"
#include "../sys/syscalls.h"
#include "rootfs-internal.h"

#define MAX_SYMLINKS 40 /* as the kernel's path walk */

static int mkpath_at(int rootfd, const char *path, bool file, int depth, struct cell_error *err);

/* mkdir, or with `file` an empty file; -errno. */
static int create_entry(int parent, const char *name, bool file)
{
	int fd;

	if (!file)
		return mkdirat(parent, name, 0755) < 0 ? -errno : 0;
	fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	(void)close(fd);
	return 0;
}

/* `name` exists in `prefix` without resolving: a dangling symlink.  Its target is created
 * instead, inside the root as well. */
static int create_link_target(int rootfd, int parent, const char *prefix, const char *name,
			      bool file, int depth, struct cell_error *err)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(parent, name, target, sizeof(target) - 1);

	if (n < 0 && errno == EINVAL)
		return 0; /* not a link: someone made it meanwhile */
	if (n < 0)
		return cell_err(err, errno, "readlink %s in %s", name, prefix);
	if (depth >= MAX_SYMLINKS)
		return cell_err(err, ELOOP, "create %s in %s", name, prefix);
	target[n] = '\0';
	_cleanup_free_ char *next =
	    target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", prefix, target);
	_cleanup_close_ int fd = mkpath_at(rootfd, next, file, depth + 1, err);
	return fd < 0 ? fd : 0;
}

/* Create `name` in the directory `prefix` resolves to. */
static int create_component(int rootfd, const char *prefix, const char *name, bool file, int depth,
			    struct cell_error *err)
{
	_cleanup_close_ int parent = cell_open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY, 0);
	int r;

	if (parent < 0)
		return cell_err(err, errno, "open %s", prefix);
	r = create_entry(parent, name, file);
	if (r == -EEXIST)
		return create_link_target(rootfd, parent, prefix, name, file, depth, err);
	return r < 0 ? cell_err(err, r, "create %s in %s", name, prefix) : 0;
}

static int mkpath_at(int rootfd, const char *path, bool file, int depth, struct cell_error *err)
{
	_cleanup_free_ char *prefix = xstrdup("/");
	const char *p = path;
	int r;

	while (*(p += strspn(p, "/"))) {
		size_t len = strcspn(p, "/");
		_cleanup_free_ char *name = xstrndup(p, len);
		_cleanup_free_ char *next =
		    xasprintf("%s/%s", streq(prefix, "/") ? "" : prefix, name);
		p += len;
		_cleanup_close_ int fd = cell_open_in_root(rootfd, next, O_PATH, 0);
		if (fd < 0 && errno != ENOENT)
			return cell_err(err, errno, "open %s", next);
		bool last = !p[strspn(p, "/")];
		if (fd < 0 &&
		    (r = create_component(rootfd, prefix, name, file && last, depth, err)) < 0)
			return r;
		free(prefix);
		prefix = TAKE_PTR(next);
	}
	int fd = cell_open_in_root(rootfd, path, O_PATH, 0);
	return fd < 0 ? cell_err(err, errno, "open %s", path) : fd;
}

int cell_rootfs_mkpath(int rootfd, const char *path, bool file, struct cell_error *err)
{
	return mkpath_at(rootfd, path, file, 0, err);
}

int cell_rootfs_mkdir(int rootfd, const char *path, struct cell_error *err)
{
	return mkpath_at(rootfd, path, false, 0, err);
}

/* Every data option as one fsconfig() key: "k=v" a string, "k" a flag. */
static int fs_set_data(int fs, const char *data)
{
	_cleanup_free_ char *copy = xstrdup(data ? data : "");

	for (char *o = copy, *next; o; o = next) {
		next = strchr(o, ',');
		if (next)
			*next++ = '\0';
		if (!*o)
			continue;
		char *v = strchr(o, '=');
		if (v)
			*v++ = '\0';
		if (fsconfig(fs, v ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, o, v, 0) < 0)
			return -errno;
	}
	return 0;
}

static int fs_configure(int fs, const char *source, const struct cell_mount_plan *p)
{
	const char *sb[8];
	size_t n = cell_mount_sb_flag_names(p->flags, sb, ARRAY_SIZE(sb));

	if (source && fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		return -errno;
	for (size_t i = 0; i < n; i++)
		if (fsconfig(fs, FSCONFIG_SET_FLAG, sb[i], NULL, 0) < 0)
			return -errno;
	int r = fs_set_data(fs, p->data);
	if (r < 0)
		return r;
	return fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ? -errno : 0;
}

int cell_mnt_fresh(const char *type, const char *source, const struct cell_mount_plan *p,
		   const char *dest, struct cell_error *err)
{
	_cleanup_close_ int fs = fsopen(type, FSOPEN_CLOEXEC);
	uint64_t set, clr;
	int r, mnt;

	if (fs < 0)
		return cell_err(err, errno, "mount %s on %s", type, dest);
	if ((r = fs_configure(fs, source, p)) < 0)
		return cell_fs_fail(fs, r, type, dest, err);
	cell_mount_plan_attr(p, &set, &clr);
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned int)set);
	if (mnt < 0)
		return cell_fs_fail(fs, errno, type, dest, err);
	return mnt;
}

int cell_mnt_setattr(int mntfd, bool recursive, uint64_t set, uint64_t clr, unsigned long prop)
{
	struct mount_attr a = {.attr_set = set, .attr_clr = clr, .propagation = prop};
	unsigned int flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);

	if (!set && !clr && !prop)
		return 0;
	return mount_setattr(mntfd, "", flags, &a, sizeof(a)) < 0 ? -errno : 0;
}

static int mnt_id(int fd, uint64_t *id)
{
	struct statx st;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &st) < 0)
		return -errno;
	if (!(st.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;
	*id = st.stx_mnt_id;
	return 0;
}

int cell_mnt_attach(int mntfd, int rootfd, int targetfd, const char *path, struct cell_error *err)
{
	const unsigned int flags = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;
	uint64_t want = 0, got = 1;

	if (move_mount(mntfd, "", targetfd, "", flags) < 0)
		return cell_err(err, errno, "attach the mount on %s", path);
	_cleanup_close_ int now = cell_open_in_root(rootfd, path, O_PATH, 0);
	if (now < 0)
		return cell_err(err, errno, "reopen %s after mounting", path);
	int r = mnt_id(mntfd, &want);
	if (r == 0)
		r = mnt_id(now, &got);
	if (r < 0)
		return cell_err(err, r, "mount id of %s", path);
	if (want != got)
		return cell_err(err, EXDEV, "%s changed while it was mounted on", path);
	return 0;
}

/* runc's words (mountToRootfs), which its mask.bats reads */
#define PLAIN_DIR_ONLY "proc and sysfs must be mounted on ordinary directory"

/* What the symlink fd names points to, for the message. */
static void link_target(int fd, char target[static PATH_MAX])
{
	ssize_t n = readlinkat(fd, "", target, PATH_MAX - 1);

	target[n < 0 ? 0 : n] = '\0';
}

static int check_component(int rootfd, const char *prefix, bool *missing, struct cell_error *err)
{
	_cleanup_close_ int fd = cell_open_in_root(rootfd, prefix, O_PATH | O_NOFOLLOW, 0);
	char target[PATH_MAX];
	struct stat st;

	if (fd < 0 && errno == ENOENT) {
		*missing = true;
		return 0;
	}
	if (fd < 0 || fstat(fd, &st) < 0)
		return cell_err(err, errno, "open %s in the rootfs", prefix);
	if (S_ISLNK(st.st_mode)) {
		link_target(fd, target);
		return cell_errx(err, ELOOP, "%s in the rootfs is a symlink (to %s): %s", prefix,
				 target, PLAIN_DIR_ONLY);
	}
	if (!S_ISDIR(st.st_mode))
		return cell_err(err, ENOTDIR, "%s in the rootfs: %s", prefix, PLAIN_DIR_ONLY);
	return 0;
}

int cell_rootfs_check_plain(int rootfd, const char *path, struct cell_error *err)
{
	const char *p = path;
	bool missing = false;
	int r;

	while (!missing && *(p += strspn(p, "/"))) {
		p += strcspn(p, "/");
		_cleanup_free_ char *prefix = xstrndup(path, (size_t)(p - path));
		if ((r = check_component(rootfd, prefix, &missing, err)) < 0)
			return r;
	}
	return 0;
}

int cell_mnt_check_plain(int mntfd, int rootfd, const char *path, struct cell_error *err)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS,
	};
	_cleanup_close_ int now = -1;
	uint64_t want = 0, got = 1;
	int r;

	do
		now = cell_sys_openat2(rootfd, path, &how);
	while (now < 0 && errno == EAGAIN);
	if (now < 0 && errno == ELOOP)
		return cell_errx(err, ELOOP,
				 "%s in the rootfs became a symlink while it was mounted on", path);
	if (now < 0)
		return cell_err(err, errno, "reopen %s after mounting", path);
	if ((r = mnt_id(mntfd, &want)) < 0 || (r = mnt_id(now, &got)) < 0)
		return cell_err(err, r, "mount id of %s", path);
	if (want != got)
		return cell_err(err, EXDEV, "%s changed while it was mounted on", path);
	return 0;
}

int cell_mnt_place(int mntfd, int rootfd, const char *path, bool file, struct cell_error *err)
{
	_cleanup_close_ int target = cell_rootfs_mkpath(rootfd, path, file, err);

	if (target < 0)
		return target;
	return cell_mnt_attach(mntfd, rootfd, target, path, err);
}
