/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tmpcopyup (runtime-spec config.md#mounts, MAY): the directory a tmpfs is
 * about to cover is copied into it first, with owners, modes and times.
 * Both sides are fds, so nothing here follows a path out of the rootfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "rootfs-internal.h"

static int copy_data(int src, int dst)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(src, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		int r = cell_write_all(dst, buf, (size_t)n);
		if (r < 0)
			return r;
	}
	return 0;
}

static int copy_file(int sdir, int ddir, const char *name, const struct stat *st)
{
	_cleanup_close_ int src = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int dst = -1;

	if (src < 0)
		return -errno;
	dst = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     st->st_mode & 07777);
	if (dst < 0)
		return -errno;
	return copy_data(src, dst);
}

static int copy_link(int sdir, int ddir, const char *name)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	target[n] = '\0';
	return symlinkat(target, ddir, name) < 0 ? -errno : 0;
}

/* Owner, mode (umask applied at creation) and times as in the source. */
static int copy_meta(int ddir, const char *name, const struct stat *st)
{
	const struct timespec times[2] = {st->st_atim, st->st_mtim};

	if (fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISLNK(st->st_mode) && fchmodat(ddir, name, st->st_mode & 07777, 0) < 0)
		return -errno;
	return utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* Made 0700 and filled before it gets its own mode and times. */
static int copy_dir(int sdir, int ddir, const char *name, const struct stat *st,
		    struct cell_error *err)
{
	_cleanup_close_ int src = -1, dst = -1;

	if (mkdirat(ddir, name, 0700) < 0)
		return cell_err(err, errno, "copy %s", name);
	src = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	dst = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0 || dst < 0)
		return cell_err(err, errno, "copy %s", name);
	if (cell_copy_tree(src, dst, err) < 0)
		return cell_err_prefix(err, "%s", name);
	int r = copy_meta(ddir, name, st);
	return r < 0 ? cell_err(err, r, "copy %s", name) : 0;
}

static int copy_entry(int sdir, int ddir, const char *name, struct cell_error *err)
{
	struct stat st;
	int r;

	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return cell_err(err, errno, "stat %s", name);
	if (S_ISDIR(st.st_mode))
		return copy_dir(sdir, ddir, name, &st, err);
	if (S_ISREG(st.st_mode))
		r = copy_file(sdir, ddir, name, &st);
	else if (S_ISLNK(st.st_mode))
		r = copy_link(sdir, ddir, name);
	else
		r = mknodat(ddir, name, st.st_mode, st.st_rdev) < 0 ? -errno : 0;
	if (r == 0)
		r = copy_meta(ddir, name, &st);
	return r < 0 ? cell_err(err, r, "copy %s", name) : 0;
}

int cell_copy_tree(int srcfd, int dstfd, struct cell_error *err)
{
	int fd = dup(srcfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			(void)close(fd);
		return cell_err(err, errno, "read directory");
	}
	_cleanup_closedir_ DIR *dir = d;
	rewinddir(dir);
	while ((de = readdir(dir))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		int r = copy_entry(srcfd, dstfd, de->d_name, err);
		if (r < 0)
			return r;
	}
	return 0;
}
