/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../linux/rootfs.h"
#include "../sys/syscalls.h"

/* Longest chain of ".." from a cwd to the root: a path of PATH_MAX has at
 * most PATH_MAX / 2 components. */
#define MAX_DEPTH (PATH_MAX / 2)
/* The runtime's own fds a child keeps: a handful of sockets and the log. */
#define MAX_KEEP 16

static int cmp_fd(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Close [from, to] (to may be ~0U); -errno. */
static int close_span(unsigned int from, unsigned int to)
{
	if (from > to)
		return 0;
	return syscall(SYS_close_range, from, to, 0) < 0 ? -errno : 0;
}

/* The fds to keep (>= first) into out, sorted, without duplicates or -1: their count. */
static size_t keep_sorted(const int *keep, size_t n_keep, unsigned int first, int *out)
{
	size_t n = 0;

	for (size_t i = 0; i < n_keep; i++)
		if (keep[i] >= 0 && (unsigned int)keep[i] >= first)
			out[n++] = keep[i];
	qsort(out, n, sizeof(*out), cmp_fd);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || out[u - 1] != out[i])
			out[u++] = out[i];
	return u;
}

static int mark_cloexec(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return errno == EBADF ? 0 : -errno;
	fl = on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, fl) < 0 ? -errno : 0;
}

int cell_fds_confine(int preserve_fds, const int *keep, size_t n_keep, struct cell_error *err)
{
	unsigned int first = 3 + (unsigned int)preserve_fds;
	int sorted[MAX_KEEP];
	unsigned int from = first;
	int r;

	if (n_keep > MAX_KEEP)
		return cell_err(err, E2BIG, "keep %zu fds (at most %d)", n_keep, MAX_KEEP);
	size_t n = keep_sorted(keep, n_keep, first, sorted);
	for (size_t i = 0; i < n; i++) {
		if ((r = close_span(from, (unsigned int)sorted[i] - 1)) < 0)
			return cell_err(err, r, "close inherited fds %u-%d", from, sorted[i] - 1);
		if ((r = mark_cloexec(sorted[i], true)) < 0)
			return cell_err(err, r, "mark fd %d close-on-exec", sorted[i]);
		from = (unsigned int)sorted[i] + 1;
	}
	if ((r = close_span(from, ~0U)) < 0)
		return cell_err(err, r, "close inherited fds >= %u", from);
	for (unsigned int fd = 3; fd < first; fd++)
		if ((r = mark_cloexec((int)fd, false)) < 0)
			return cell_err(err, r, "preserve fd %u", fd);
	return 0;
}

int cell_session_new(struct cell_error *err)
{
	if (getsid(0) == getpid())
		return 0;
	if (setsid() < 0)
		return cell_err(err, errno, "new session (setsid)");
	return 0;
}

int cell_cwd_make(const char *cwd, struct cell_error *err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (root < 0)
		return cell_err(err, errno, "open / to create process.cwd %s", cwd);
	_cleanup_close_ int fd = cell_rootfs_mkdir(root, cwd, err);
	return fd < 0 ? cell_err_prefix(err, "create process.cwd %s", cwd) : 0;
}

struct fs_id {
	unsigned long long mnt, dev, ino;
};

static int fs_id_of(int fd, struct fs_id *id)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO | STATX_MNT_ID, &sx) < 0)
		return -errno;
	/* without a mount id, a directory of the same inode reached by another
	 * mount (the host's view of the rootfs) would pass for the root */
	if (!(sx.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;
	id->mnt = sx.stx_mnt_id;
	id->dev = ((unsigned long long)sx.stx_dev_major << 32) | sx.stx_dev_minor;
	id->ino = sx.stx_ino;
	return 0;
}

static bool fs_id_eq(const struct fs_id *a, const struct fs_id *b)
{
	return a->mnt == b->mnt && a->dev == b->dev && a->ino == b->ino;
}

/* Walk ".." from the cwd: inside the root it reaches the root; outside, it
 * ends at a directory that is its own parent without meeting it. */
int cell_cwd_check_in_root(const char *cwd, struct cell_error *err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int cur = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct fs_id rid = { 0 }, id = { 0 }, up = { 0 };
	int r;

	if (root < 0 || cur < 0)
		return cell_err(err, errno, "open the root and process.cwd %s", cwd);
	if ((r = fs_id_of(root, &rid)) < 0 || (r = fs_id_of(cur, &id)) < 0)
		return cell_err(err, r, "statx the root and process.cwd %s", cwd);
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		if (fs_id_eq(&id, &rid))
			return 0;
		int parent = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0)
			return cell_err(err, errno, "walk up from process.cwd %s", cwd);
		(void)close(cur);
		cur = parent;
		if ((r = fs_id_of(cur, &up)) < 0)
			return cell_err(err, r, "walk up from process.cwd %s", cwd);
		if (fs_id_eq(&up, &id))
			break;
		id = up;
	}
	return cell_err(err, EXDEV, "process.cwd %s is outside the container's root", cwd);
}

int cell_cwd_enter(const char *cwd, struct cell_error *err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (root < 0)
		return cell_err(err, errno, "open / to enter process.cwd %s", cwd);
	/* resolved inside the root: no /proc/self/fd/N jump to an fd held */
	_cleanup_close_ int fd = cell_open_in_root(root, cwd, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return cell_err(err, errno, "open process.cwd %s inside the root", cwd);
	if (fchdir(fd) < 0)
		return cell_err(err, errno, "chdir to process.cwd %s", cwd);
	return cell_cwd_check_in_root(cwd, err);
}
