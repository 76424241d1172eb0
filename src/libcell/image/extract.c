/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One tar entry into a root filesystem, never outside it.
 *
 * Not archive_write_disk(): it resolves names against the process's working
 * directory (so it would need chdir, process-wide state) and checks for
 * symlinks by walking path strings.  Here every parent directory is opened
 * with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so no ".." and no
 * symlink can leave the tree whatever it holds, and the last component is
 * created with *at calls that do not follow it (O_EXCL | O_NOFOLLOW,
 * AT_SYMLINK_NOFOLLOW, symlinkat, mknodat, linkat without AT_SYMLINK_FOLLOW).
 */
#include "image-internal.h"
#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../sys/syscalls.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

int image_path_normalize(const char *in, bool allow_up, char **out)
{
	_cleanup_free_ char *res = xzalloc(strlen(in) + 1);
	size_t n = 0;

	if (in[0] == '/')
		return -EINVAL;
	for (const char *p = in; *p;) {
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			/* never above the top */
			if (!allow_up || n == 0)
				return -EINVAL;
			char *up = memrchr(res, '/', n);
			n = up ? (size_t)(up - res) : 0;
		} else if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (n > 0)
				res[n++] = '/';
			memcpy(res + n, p, len);
			n += len;
		}
		p += len;
		p += strspn(p, "/");
	}
	res[n] = '\0';
	*out = TAKE_PTR(res);
	return 0;
}

int image_path_clean(const char *in, char **out)
{
	return image_path_normalize(in, false, out);
}

/* Split "a/b/c" into "a/b" and "c" (dir "" at the top). */
static void split_path(const char *path, char **dir, const char **base)
{
	const char *slash = strrchr(path, '/');

	*dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
	*base = slash ? slash + 1 : path;
}

static int open_in_root(int rootfd, const char *path, int flags)
{
	if (!*path)
		return openat(rootfd, ".", flags | O_CLOEXEC);
	return cell_open_in_root(rootfd, path, (uint64_t)flags, 0);
}

/* mkdir the last component of prefix, its parent resolved in the root. */
static int mkdir_in_root(int rootfd, const char *prefix)
{
	_cleanup_free_ char *dir = NULL;
	const char *base;
	_cleanup_close_ int pfd = -1;

	split_path(prefix, &dir, &base);
	pfd = open_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
	if (pfd < 0)
		return -errno;
	if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int image_open_dir(int rootfd, const char *dir, bool create)
{
	int fd = open_in_root(rootfd, dir, O_PATH | O_DIRECTORY);

	if (fd >= 0)
		return fd;
	if (errno != ENOENT || !create)
		return -errno;
	_cleanup_free_ char *p = xstrdup(dir);
	for (char *s = p;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = '\0';
		int r = mkdir_in_root(rootfd, p);
		if (r < 0)
			return r;
		if (!c)
			break;
		*s = c;
	}
	fd = open_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
	return fd < 0 ? -errno : fd;
}

static int rm_children(int fd, dev_t dev)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	_cleanup_closedir_ DIR *dir = d;
	while ((de = readdir(dir))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && st.st_dev != dev)
			return -EXDEV; /* never descend into a mount */
		int q = image_rm_rf_at(dirfd(dir), de->d_name);
		if (q < 0 && r == 0)
			r = q;
	}
	return r;
}

int image_rm_rf_at(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = rm_children(fd, st.st_dev);
	if (r < 0)
		return r;
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

/* 1: an existing directory stays (a directory entry over it); 0: the name is free. */
static int clear_name(int pfd, const char *base, bool new_is_dir)
{
	struct stat st;

	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (new_is_dir && S_ISDIR(st.st_mode))
		return 1;
	return image_rm_rf_at(pfd, base);
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	ts[0] = ts[1];
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	}
}

/* After chown (which clears security.capability and setuid bits). */
static int set_xattrs(int fd, struct archive_entry *e, const char *path, struct cell_error *err)
{
	const char *name;
	const void *value;
	size_t size;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (fsetxattr(fd, name, value, size, 0) == 0)
			continue;
		if (errno == ENOTSUP || errno == EPERM) {
			cell_debug("image: %s: xattr %s not kept: %m", path, name);
			continue;
		}
		return cell_err(err, errno, "%s: set xattr %s", path, name);
	}
	return 0;
}

/* Owner, mode, xattrs of an open file or directory. */
static int set_fd_meta(int fd, struct archive_entry *e, const char *path, struct cell_error *err)
{
	if (fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) < 0)
		return cell_err(err, errno, "%s: chown %lld:%lld", path,
				(long long)archive_entry_uid(e), (long long)archive_entry_gid(e));
	if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return cell_err(err, errno, "%s: chmod", path);
	return set_xattrs(fd, e, path, err);
}

static int pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t w = pwrite(fd, buf, len, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		len -= (size_t)w;
		off += w;
	}
	return 0;
}

static int copy_data(struct archive *ar, struct archive_entry *e, int fd, const char *path,
		     struct cell_error *err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(ar, &buf, &size, &off)) == ARCHIVE_OK) {
		int q = pwrite_all(fd, buf, size, (off_t)off);
		if (q < 0)
			return cell_err(err, q, "%s: write", path);
	}
	if (r != ARCHIVE_EOF)
		return cell_errx(err, EIO, "%s: read data: %s", path, archive_error_string(ar));
	/* a sparse file may end in a hole */
	if (ftruncate(fd, (off_t)archive_entry_size(e)) < 0)
		return cell_err(err, errno, "%s: truncate", path);
	return 0;
}

static int write_file(int pfd, const char *base, struct archive *ar, struct archive_entry *e,
		      const char *path, struct cell_error *err)
{
	struct timespec ts[2];
	_cleanup_close_ int fd =
	    openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return cell_err(err, errno, "%s: create", path);
	r = copy_data(ar, e, fd, path, err);
	if (r == 0)
		r = set_fd_meta(fd, e, path, err);
	entry_times(e, ts);
	if (r == 0 && futimens(fd, ts) < 0)
		r = cell_err(err, errno, "%s: set times", path);
	return r;
}

static int write_dir(int pfd, const char *base, bool exists, struct archive_entry *e,
		     const char *path, struct cell_error *err)
{
	if (!exists && mkdirat(pfd, base, 0700) < 0)
		return cell_err(err, errno, "%s: mkdir", path);
	_cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cell_err(err, errno, "%s: open", path);
	return set_fd_meta(fd, e, path, err); /* times: once the layer is done */
}

/* Owner and times of something we cannot open (symlink, node). */
static int set_path_meta(int pfd, const char *base, struct archive_entry *e, bool chmod,
			 const char *path, struct cell_error *err)
{
	struct timespec ts[2];

	if (fchownat(pfd, base, archive_entry_uid(e), archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) <
	    0)
		return cell_err(err, errno, "%s: chown", path);
	/* a node we just made, not a symlink: fchmodat cannot follow anything */
	if (chmod && fchmodat(pfd, base, archive_entry_perm(e) & 07777, 0) < 0)
		return cell_err(err, errno, "%s: chmod", path);
	entry_times(e, ts);
	if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return cell_err(err, errno, "%s: set times", path);
	return 0;
}

static int write_symlink(int pfd, const char *base, struct archive_entry *e, const char *path,
			 struct cell_error *err)
{
	const char *target = archive_entry_symlink(e);

	if (!target || !*target)
		return cell_errx(err, EINVAL, "%s: symlink without a target", path);
	if (symlinkat(target, pfd, base) < 0)
		return cell_err(err, errno, "%s: symlink", path);
	return set_path_meta(pfd, base, e, false, path, err);
}

static int write_node(int pfd, const char *base, struct archive_entry *e, const char *path,
		      struct cell_error *err)
{
	mode_t type = archive_entry_filetype(e);
	dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));

	if (mknodat(pfd, base, type | 0600, type == AE_IFIFO ? 0 : dev) < 0) {
		if (errno == EPERM && type != AE_IFIFO) {
			cell_debug("image: %s: device node not created: %m", path);
			return 0;
		}
		return cell_err(err, errno, "%s: mknod", path);
	}
	return set_path_meta(pfd, base, e, true, path, err);
}

static int write_hardlink(int rootfd, int pfd, const char *base, const char *target,
			  const char *path, struct cell_error *err)
{
	_cleanup_free_ char *clean = NULL, *tdir = NULL;
	const char *tbase;
	_cleanup_close_ int tfd = -1;

	if (image_path_clean(target, &clean) < 0 || !*clean)
		return cell_errx(err, EPERM, "%s: hardlink to %s refused (outside the tree)", path,
				 target);
	split_path(clean, &tdir, &tbase);
	tfd = image_open_dir(rootfd, tdir, false);
	if (tfd < 0)
		return cell_err(err, tfd, "%s: hardlink target %s", path, target);
	if (linkat(tfd, tbase, pfd, base, 0) < 0)
		return cell_err(err, errno, "%s: hardlink to %s", path, target);
	return 0;
}

int image_entry_write(int rootfd, const char *path, struct archive *ar, struct archive_entry *e,
		      struct cell_error *err)
{
	_cleanup_free_ char *dir = NULL;
	const char *base, *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	_cleanup_close_ int pfd = -1;
	int exists;

	split_path(path, &dir, &base);
	pfd = image_open_dir(rootfd, dir, true);
	if (pfd < 0)
		return cell_err(err, pfd, "%s: parent directory", path);
	exists = clear_name(pfd, base, type == AE_IFDIR && !hardlink);
	if (exists < 0)
		return cell_err(err, exists, "%s: remove the existing entry", path);
	if (hardlink)
		return write_hardlink(rootfd, pfd, base, hardlink, path, err);
	switch (type) {
	case AE_IFREG:
		return write_file(pfd, base, ar, e, path, err);
	case AE_IFDIR:
		return write_dir(pfd, base, exists == 1, e, path, err);
	case AE_IFLNK:
		return write_symlink(pfd, base, e, path, err);
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		return write_node(pfd, base, e, path, err);
	case AE_IFSOCK:
		return 0; /* a socket is meaningless once its server is gone */
	default:
		return cell_errx(err, ENOTSUP, "%s: unknown entry type 0%o", path, (unsigned)type);
	}
}

int image_dir_set_times(int rootfd, const char *path, const struct timespec ts[2])
{
	_cleanup_close_ int fd = open_in_root(rootfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

	if (fd < 0)
		/* whited out or replaced since */
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -errno;
	return futimens(fd, ts) < 0 ? -errno : 0;
}
