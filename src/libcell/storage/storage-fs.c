/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Filesystem helpers for the storage backends: the paths below st->dir,
 * mount-point and filesystem type checks, a remover that understands btrfs
 * subvolumes, disk usage, and running the mkfs tools.  Trees are walked by fd (openat/statx with
 * AT_SYMLINK_NOFOLLOW), never by re-resolving string paths, and never into
 * another mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <search.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"
#include "../sys/run.h"

/* ---- the layout below st->dir ---- */

char *storage_path(const struct cell_storage *st, const char *rel)
{
	return xasprintf("%s/%s", st->dir, rel);
}

int storage_mkdir(const struct cell_storage *st, const char *rel, struct cell_error *err)
{
	_cleanup_free_ char *path = storage_path(st, rel);

	return mkdir(path, 0700) < 0 ? cell_err(err, errno, "mkdir %s", path) : 0;
}

/* ---- mount points and filesystem types ---- */

static bool statx_is_mount_root(const struct statx *sx)
{
	return (sx->stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (sx->stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

bool storage_is_mount_point_at(int dirfd, const char *name)
{
	struct statx sx;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &sx) < 0)
		return false;
	return statx_is_mount_root(&sx);
}

/* The fstype field of mountinfo line `id` ("... - ext4 /dev/vda rw"). */
static bool mountinfo_fstype(uint64_t id, char *buf, size_t len)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], type[64];
	unsigned long long mid;

	while (f && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");
		if (sscanf(line, "%llu", &mid) != 1 || mid != id || !sep)
			continue;
		if (sscanf(sep + 3, "%63s", type) != 1)
			return false;
		(void)snprintf(buf, len, "%s", type);
		return true;
	}
	return false;
}

void storage_fstype(const char *path, char *buf, size_t len)
{
	struct statx sx;
	struct statfs sf;

	if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID) &&
	    mountinfo_fstype(sx.stx_mnt_id, buf, len))
		return;
	if (statfs(path, &sf) == 0)
		(void)snprintf(buf, len, "0x%llx", (unsigned long long)sf.f_type);
	else
		(void)snprintf(buf, len, "unknown");
}

/* ---- removal ---- */

/* chattr -i -a: the only inode flags that make unlink/rmdir fail for root. */
static void clear_blocking_flags(int fd)
{
	int flags = 0;

	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0 || !(flags & (FS_IMMUTABLE_FL | FS_APPEND_FL)))
		return;
	flags &= ~(FS_IMMUTABLE_FL | FS_APPEND_FL);
	(void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
}

/* Devices and fifos are never opened (that would open the device); only
 * regular files and directories carry the flags in practice. */
static void clear_flags_at(int dirfd, const char *name, mode_t type)
{
	if (type != S_IFREG && type != S_IFDIR)
		return;
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0)
		clear_blocking_flags(fd);
}

static int unlink_entry(int dirfd, const char *name, mode_t type, const char *parent,
			struct cell_error *err)
{
	int flag = type == S_IFDIR ? AT_REMOVEDIR : 0;

	if (unlinkat(dirfd, name, flag) == 0 || errno == ENOENT)
		return 0;
	if (errno == EPERM) {
		clear_blocking_flags(dirfd);
		clear_flags_at(dirfd, name, type);
		if (unlinkat(dirfd, name, flag) == 0)
			return 0;
	}
	return cell_err(err, errno, "remove %s/%s", parent, name);
}

static int remove_entry(int dirfd, const char *name, const char *parent, struct cell_error *err);

static int remove_children(int fd, const char *path, struct cell_error *err)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cell_err(err, errno, "open %s", path);
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		(void)close(dfd);
		return cell_err(err, errno, "read %s", path);
	}
	for (struct dirent *de; (errno = 0, de = readdir(d));) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		int r = remove_entry(dirfd(d), de->d_name, path, err);
		if (r < 0)
			return r;
	}
	return errno ? cell_err(err, errno, "read %s", path) : 0;
}

/* A btrfs subvolume goes in one ioctl unless it holds further subvolumes
 * (ENOTEMPTY): then its contents go first and the empty subvolume is rmdir'ed
 * (allowed since Linux 4.18). */
static int remove_dir(int dirfd, const char *name, const struct statx *sx, const char *parent,
		      struct cell_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", parent, name);
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : cell_err(err, errno, "open %s", path);
	if (sx->stx_ino == STORAGE_BTRFS_SUBVOL_ROOT_INO && storage_fd_on_btrfs(fd) &&
	    storage_btrfs_subvolume_destroy(dirfd, name) == 0)
		return 0;
	int r = remove_children(fd, path, err);
	if (r < 0)
		return r;
	return unlink_entry(dirfd, name, S_IFDIR, parent, err);
}

static int remove_entry(int dirfd, const char *name, const char *parent, struct cell_error *err)
{
	struct statx sx;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE | STATX_INO, &sx) <
	    0)
		return errno == ENOENT ? 0 : cell_err(err, errno, "stat %s/%s", parent, name);
	if (!S_ISDIR(sx.stx_mode))
		return unlink_entry(dirfd, name, sx.stx_mode & S_IFMT, parent, err);
	if (statx_is_mount_root(&sx))
		return cell_err(err, EBUSY, "remove %s/%s: a mount point", parent, name);
	return remove_dir(dirfd, name, &sx, parent, err);
}

int storage_remove_at(int dirfd, const char *name, const char *parent, struct cell_error *err)
{
	return remove_entry(dirfd, name, parent, err);
}

int storage_open_parent(const char *path, const char **name, struct cell_error *err)
{
	const char *slash = strrchr(path, '/');

	*name = slash ? slash + 1 : path;
	if (!slash || !slash[1])
		return cell_err(err, EINVAL, "%s: not a path to a name", path);
	_cleanup_free_ char *dir =
	    slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? cell_err(err, errno, "open %s", dir) : fd;
}

int storage_remove(const char *path, struct cell_error *err)
{
	const char *name = path;
	_cleanup_free_ char *parent = NULL;
	_cleanup_close_ int dirfd = storage_open_parent(path, &name, err);

	if (dirfd < 0)
		return dirfd == -ENOENT ? 0 : dirfd;
	parent = xstrndup(path, (size_t)(name - 1 - path));
	return remove_entry(dirfd, name, parent, err);
}

/* ---- disk usage ---- */

struct du_ctx {
	void *seen; /* tsearch tree of hard-linked inodes already counted */
	uint64_t bytes;
};

struct inode_key {
	dev_t dev;
	ino_t ino;
};

static int inode_key_cmp(const void *a, const void *b)
{
	const struct inode_key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* True the first time a hard-linked inode is seen. */
static bool first_sight(struct du_ctx *c, const struct statx *sx)
{
	struct inode_key *k = xmalloc(sizeof(*k));

	k->dev = makedev(sx->stx_dev_major, sx->stx_dev_minor);
	k->ino = sx->stx_ino;
	struct inode_key **found = tsearch(k, &c->seen, inode_key_cmp);
	if (!found)
		abort(); /* out of memory, like x* allocators */
	if (*found != k) {
		free(k);
		return false;
	}
	return true;
}

static int du_dir(int fd, const char *path, struct du_ctx *c, struct cell_error *err);

static int du_entry(int dirfd, const char *name, const char *parent, struct du_ctx *c,
		    struct cell_error *err)
{
	struct statx sx;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
		  STATX_TYPE | STATX_NLINK | STATX_INO | STATX_BLOCKS, &sx) < 0)
		return errno == ENOENT ? 0 : cell_err(err, errno, "stat %s/%s", parent, name);
	if (statx_is_mount_root(&sx))
		return 0;
	if (!S_ISDIR(sx.stx_mode) && sx.stx_nlink > 1 && !first_sight(c, &sx))
		return 0;
	c->bytes += sx.stx_blocks * 512;
	if (!S_ISDIR(sx.stx_mode))
		return 0;
	_cleanup_free_ char *path = xasprintf("%s/%s", parent, name);
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : cell_err(err, errno, "open %s", path);
	return du_dir(fd, path, c, err);
}

static int du_dir(int fd, const char *path, struct du_ctx *c, struct cell_error *err)
{
	int dfd = dup(fd);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);

	if (!d) {
		if (dfd >= 0)
			(void)close(dfd);
		return cell_err(err, errno, "read %s", path);
	}
	_cleanup_closedir_ DIR *dir = d;
	for (struct dirent *de; (errno = 0, de = readdir(dir));) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		int r = du_entry(dirfd(dir), de->d_name, path, c, err);
		if (r < 0)
			return r;
	}
	return errno ? cell_err(err, errno, "read %s", path) : 0;
}

int storage_du(const char *path, uint64_t *bytes, struct cell_error *err)
{
	struct du_ctx c = {0};
	const char *name = path;
	_cleanup_free_ char *parent = NULL;
	_cleanup_close_ int dirfd = storage_open_parent(path, &name, err);
	int r = dirfd;

	if (dirfd >= 0) {
		parent = xstrndup(path, (size_t)(name - 1 - path));
		r = du_entry(dirfd, name, parent, &c, err);
	} else if (dirfd == -ENOENT) {
		r = 0;
	}
	tdestroy(c.seen, free);
	if (r == 0)
		*bytes = c.bytes;
	return r;
}

/* ---- external tools ---- */

static void read_first_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;
	char sink[256];

	while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	while (read(fd, sink, sizeof(sink)) > 0) /* let the tool finish writing */
		;
}

static int tool_result(const char *tool, int status, const char *why, struct cell_error *err)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return cell_errx(err, EIO, "%s exited with status %d%s%s", tool, WEXITSTATUS(status),
				*why ? ": " : "", why);
	return cell_errx(err, EIO, "%s killed by signal %d", tool, WTERMSIG(status));
}

int storage_run(const char *const argv[], struct cell_error *err)
{
	/* the tools live in sbin, which a user's $PATH may lack */
	static const char *const dirs[] = {"/usr/sbin", "/sbin", NULL};
	int pipefd[2], status = 0, r;
	char why[200];

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return cell_err(err, errno, "run %s: pipe", argv[0]);
	const struct cell_run run = {.argv = (char *const *)argv, .search = true, .dirs = dirs,
				     .fd = {CELL_RUN_NULL, CELL_RUN_NULL, pipefd[1]}};
	pid_t pid = cell_run_start(&run, NULL);
	(void)close(pipefd[1]);
	if (pid < 0) {
		(void)close(pipefd[0]);
		return cell_err(err, (int)-pid, "run %s", argv[0]);
	}
	read_first_line(pipefd[0], why, sizeof(why));
	(void)close(pipefd[0]);
	if ((r = cell_run_wait(pid, &status)) < 0)
		return cell_err(err, -r, "wait for %s", argv[0]);
	return tool_result(argv[0], status, why, err);
}

/* ---- small text files ---- */

int storage_read_line(const char *path, char **out, struct cell_error *err)
{
	char *text = NULL;
	int r = cell_read_file(path, &text, NULL);

	if (r < 0)
		return cell_err(err, r, "read %s", path);
	text[strcspn(text, "\n")] = '\0';
	*out = text;
	return 0;
}

int storage_write_line(const char *path, const char *line, struct cell_error *err)
{
	_cleanup_free_ char *text = xasprintf("%s\n", line);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return cell_err(err, errno, "create %s", path);
	int r = cell_write_all(fd, text, strlen(text));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	return r < 0 ? cell_err(err, r, "write %s", path) : 0;
}
