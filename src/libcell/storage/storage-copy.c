/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tree copier behind dir storage, overlay upper copies, image fills and
 * btrfs fallbacks.  Walks by fd: every name is opened or stat'ed relative to
 * its parent's fd with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, so a symlink in the
 * source is copied as a symlink and never followed, in or out of the tree.
 *
 * Per entry: create it (mode 0600/0700 while it is filled), chown, copy
 * xattrs, chmod, set times, in that order: chown clears set-uid bits and file
 * capabilities, so those come after it; a directory's times are set after its
 * children.  Hard links are recreated by remembering (dev, ino) -> the first
 * copy's path.  File data is reflinked (FICLONE) when source and destination
 * share a filesystem that can, else copied extent by extent (SEEK_DATA /
 * SEEK_HOLE, copy_file_range) so sparse files stay sparse.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <search.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "storage-internal.h"
#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

#define COPY_BUF ((size_t)256 << 10)

struct copy_ctx {
	int dst_root;	       /* hard links are made relative to it */
	const char *src, *dst; /* labels of the two roots, for errors */
	void *links;	       /* tsearch tree of struct link */
	bool no_reflink;       /* FICLONE failed for the filesystem: stop trying */
	char *buf;	       /* read/write fallback */
	struct cell_error *err;
};

struct link {
	dev_t dev;
	ino_t ino;
	char *rel; /* the first copy, relative to dst_root */
};

static int copy_fail(struct copy_ctx *c, int code, const char *rel, const char *what)
{
	const char *sep = *rel ? "/" : "";

	return cell_err(c->err, code, "copy %s%s%s to %s%s%s: %s", c->src, sep, rel, c->dst, sep,
			rel, what);
}

static char *join(const char *rel, const char *name)
{
	return *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
}

/* ---- hard links ---- */

static int link_cmp(const void *a, const void *b)
{
	const struct link *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void link_free(void *p)
{
	struct link *l = p;

	free(l->rel);
	free(l);
}

static const struct link *link_find(struct copy_ctx *c, const struct stat *s)
{
	struct link key = {.dev = s->st_dev, .ino = s->st_ino};
	struct link **found = tfind(&key, &c->links, link_cmp);

	return found ? *found : NULL;
}

static void link_remember(struct copy_ctx *c, const struct stat *s, const char *rel)
{
	struct link *l = xmalloc(sizeof(*l));

	*l = (struct link){.dev = s->st_dev, .ino = s->st_ino, .rel = xstrdup(rel)};
	if (!tsearch(l, &c->links, link_cmp))
		abort(); /* out of memory, like the x* allocators */
}

/* ---- metadata ---- */

static char *proc_path(int dirfd, const char *name)
{
	return xasprintf("/proc/self/fd/%d/%s", dirfd, name);
}

static int copy_one_xattr(struct copy_ctx *c, const char *sp, const char *dp, const char *key,
			  const char *rel)
{
	ssize_t n = lgetxattr(sp, key, NULL, 0);
	_cleanup_free_ char *val = n > 0 ? xmalloc((size_t)n) : NULL;
	char what[300];

	if (n > 0)
		n = lgetxattr(sp, key, val, (size_t)n);
	if (n < 0) {
		(void)snprintf(what, sizeof(what), "read xattr %s", key);
		return copy_fail(c, errno, rel, what);
	}
	if (lsetxattr(dp, key, val, (size_t)n, 0) == 0)
		return 0;
	if (errno == EOPNOTSUPP) { /* the destination filesystem has no such namespace */
		cell_debug("copy %s/%s: xattr %s not supported by %s", c->src, rel, key, c->dst);
		return 0;
	}
	(void)snprintf(what, sizeof(what), "set xattr %s", key);
	return copy_fail(c, errno, rel, what);
}

/* l*xattr on /proc/self/fd/<dirfd>/<name>: the directory is reached through
 * its fd, the name itself is not followed (xattrs of a symlink stay its own). */
static int copy_xattrs(struct copy_ctx *c, int sfd, const char *sname, int dfd, const char *dname,
		       const char *rel)
{
	_cleanup_free_ char *sp = proc_path(sfd, sname), *dp = proc_path(dfd, dname);
	ssize_t n = llistxattr(sp, NULL, 0);

	if (n <= 0)
		return n < 0 && errno != EOPNOTSUPP ? copy_fail(c, errno, rel, "list xattrs") : 0;
	_cleanup_free_ char *keys = xmalloc((size_t)n);
	n = llistxattr(sp, keys, (size_t)n);
	if (n < 0)
		return copy_fail(c, errno, rel, "list xattrs");
	for (char *k = keys; k < keys + n; k += strlen(k) + 1) {
		int r = copy_one_xattr(c, sp, dp, k, rel);
		if (r < 0)
			return r;
	}
	return 0;
}

/* sfd/sname's owner, xattrs, mode and times onto dfd/dname. */
static int set_meta(struct copy_ctx *c, int sfd, const char *sname, int dfd, const char *name,
		    const char *rel, const struct stat *s)
{
	const struct timespec times[2] = {s->st_atim, s->st_mtim};

	if (fchownat(dfd, name, s->st_uid, s->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return copy_fail(c, errno, rel, "chown");
	int r = copy_xattrs(c, sfd, sname, dfd, name, rel);
	if (r < 0)
		return r;
	if (!S_ISLNK(s->st_mode) &&
	    fchmodat(dfd, name, s->st_mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
		return copy_fail(c, errno, rel, "chmod");
	if (utimensat(dfd, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return copy_fail(c, errno, rel, "set times");
	return 0;
}

/* ---- file data ---- */

static int copy_range_rw(struct copy_ctx *c, int in, int out, off_t off, off_t len)
{
	if (!c->buf)
		c->buf = xmalloc(COPY_BUF);
	while (len > 0) {
		size_t want = (uint64_t)len < COPY_BUF ? (size_t)len : COPY_BUF;
		ssize_t n = pread(in, c->buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		for (ssize_t done = 0, w; done < n; done += w)
			if ((w = pwrite(out, c->buf + done, (size_t)(n - done), off + done)) < 0)
				return -errno;
		off += n;
		len -= n;
	}
	return 0;
}

static int copy_range(struct copy_ctx *c, int in, int out, off_t off, off_t len)
{
	off_t ioff = off, ooff = off;

	while (len > 0) {
		ssize_t n = copy_file_range(in, &ioff, out, &ooff, (size_t)len, 0);
		if (n < 0 &&
		    (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
			return copy_range_rw(c, in, out, ioff, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) /* 0: the source shrank under us */
			return n < 0 ? -errno : 0;
		len -= n;
	}
	return 0;
}

/* Data extents only; the holes between them stay holes. */
static int copy_extents(struct copy_ctx *c, int in, int out, off_t size)
{
	for (off_t pos = 0; pos < size;) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0 && errno != EINVAL)
			return -errno;
		off_t hole = data < 0 ? size : lseek(in, data, SEEK_HOLE);
		if (data < 0)
			data = pos; /* no SEEK_DATA: all of it is data */
		if (hole < 0)
			hole = size;
		int r = copy_range(c, in, out, data, hole - data);
		if (r < 0)
			return r;
		pos = hole;
	}
	return ftruncate(out, size) < 0 ? -errno : 0;
}

static int copy_data(struct copy_ctx *c, int in, int out, off_t size)
{
	if (!c->no_reflink) {
		if (ioctl(out, FICLONE, in) == 0)
			return 0;
		if (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOTTY)
			c->no_reflink = true;
	}
	return copy_extents(c, in, out, size);
}

/* ---- entries ---- */

static int copy_children(struct copy_ctx *c, int sfd, int dfd, const char *rel);

static int copy_reg(struct copy_ctx *c, int sfd, const char *sname, int dfd, const char *name,
		    const char *rel, const struct stat *s)
{
	_cleanup_close_ int out =
	    openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return copy_fail(c, errno, rel, "create");
	_cleanup_close_ int in = openat(sfd, sname, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (in < 0)
		return copy_fail(c, errno, rel, "open");
	int r = copy_data(c, in, out, s->st_size);
	return r < 0 ? copy_fail(c, r, rel, "write") : 0;
}

static int copy_symlink(struct copy_ctx *c, int sfd, int dfd, const char *name, const char *rel)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(sfd, name, target, sizeof(target));

	if (n < 0 || n == (ssize_t)sizeof(target))
		return copy_fail(c, n < 0 ? errno : ENAMETOOLONG, rel, "read link");
	target[n] = '\0';
	return symlinkat(target, dfd, name) < 0 ? copy_fail(c, errno, rel, "symlink") : 0;
}

/* An existing directory (lost+found of a fresh ext4) is merged into. */
static int make_dir(struct copy_ctx *c, int dfd, const char *name, const char *rel)
{
	struct stat s;

	if (mkdirat(dfd, name, 0700) == 0)
		return 0;
	if (errno == EEXIST && fstatat(dfd, name, &s, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(s.st_mode))
		return 0;
	return copy_fail(c, errno, rel, "mkdir");
}

static int copy_dir(struct copy_ctx *c, int sfd, int dfd, const char *name, const char *rel)
{
	int r = make_dir(c, dfd, name, rel);
	if (r < 0)
		return r;
	_cleanup_close_ int in = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return copy_fail(c, errno, rel, "open");
	_cleanup_close_ int out =
	    openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (out < 0)
		return copy_fail(c, errno, rel, "open the copy");
	return copy_children(c, in, out, rel);
}

static int copy_node(struct copy_ctx *c, int sfd, int dfd, const char *name, const char *rel,
		     const struct stat *s)
{
	switch (s->st_mode & S_IFMT) {
	case S_IFREG:
		return copy_reg(c, sfd, name, dfd, name, rel, s);
	case S_IFDIR:
		return copy_dir(c, sfd, dfd, name, rel);
	case S_IFLNK:
		return copy_symlink(c, sfd, dfd, name, rel);
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		if (mknodat(dfd, name, (s->st_mode & S_IFMT) | 0600, s->st_rdev) < 0)
			return copy_fail(c, errno, rel, "mknod");
		return 0;
	default:
		return copy_fail(c, EINVAL, rel, "unknown file type");
	}
}

static int copy_entry(struct copy_ctx *c, int sfd, int dfd, const char *name, const char *parent)
{
	_cleanup_free_ char *rel = join(parent, name);
	struct stat s;

	if (fstatat(sfd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return copy_fail(c, errno, rel, "stat");
	bool multi = !S_ISDIR(s.st_mode) && s.st_nlink > 1;
	const struct link *l = multi ? link_find(c, &s) : NULL;
	if (l)
		return linkat(c->dst_root, l->rel, dfd, name, 0) < 0
			   ? copy_fail(c, errno, rel, "link")
			   : 0;
	int r = copy_node(c, sfd, dfd, name, rel, &s);
	if (r == 0)
		r = set_meta(c, sfd, name, dfd, name, rel, &s);
	if (r == 0 && multi)
		link_remember(c, &s, rel);
	return r;
}

static int copy_children(struct copy_ctx *c, int sfd, int dfd, const char *rel)
{
	int fd = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		if (fd >= 0)
			(void)close(fd);
		return copy_fail(c, errno, rel, "read directory");
	}
	_cleanup_closedir_ DIR *dir = d;
	for (struct dirent *de; (errno = 0, de = readdir(dir));) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		int r = copy_entry(c, dirfd(dir), dfd, de->d_name, rel);
		if (r < 0)
			return r;
	}
	return errno ? copy_fail(c, errno, rel, "read directory") : 0;
}

static void ctx_done(struct copy_ctx *c)
{
	tdestroy(c->links, link_free);
	free(c->buf);
}

int storage_copy_into(int srcfd, const char *src_label, int dstfd, const char *dst_label,
		      struct cell_error *err)
{
	struct copy_ctx c = {.dst_root = dstfd, .src = src_label, .dst = dst_label, .err = err};
	struct stat s;
	int r;

	if (fstat(srcfd, &s) < 0)
		r = copy_fail(&c, errno, "", "stat");
	else if ((r = copy_children(&c, srcfd, dstfd, "")) == 0)
		r = set_meta(&c, srcfd, ".", dstfd, ".", "", &s);
	ctx_done(&c);
	return r;
}

int storage_copy_attrs(int srcfd, const char *src_label, int dstfd, const char *dst_label,
		       struct cell_error *err)
{
	struct copy_ctx c = {.dst_root = dstfd, .src = src_label, .dst = dst_label, .err = err};
	struct stat s;

	if (fstat(srcfd, &s) < 0)
		return copy_fail(&c, errno, "", "stat");
	return set_meta(&c, srcfd, ".", dstfd, ".", "", &s);
}

static int open_dir(const char *path, struct cell_error *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? cell_err(err, errno, "open %s", path) : fd;
}

int storage_copy_tree(const char *src, const char *dst, struct cell_error *err)
{
	_cleanup_close_ int in = open_dir(src, err);

	if (in < 0)
		return in;
	if (mkdir(dst, 0700) < 0)
		return cell_err(err, errno, "mkdir %s", dst);
	_cleanup_close_ int out = open_dir(dst, err);
	return out < 0 ? out : storage_copy_into(in, src, out, dst, err);
}

static int copy_file_at(struct copy_ctx *c, int sfd, const char *sname, int dfd, const char *dname)
{
	struct stat s;

	if (fstatat(sfd, sname, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return cell_err(c->err, errno, "stat %s", c->src);
	if (!S_ISREG(s.st_mode))
		return cell_err(c->err, EINVAL, "copy %s: not a regular file", c->src);
	int r = copy_reg(c, sfd, sname, dfd, dname, "", &s);
	if (r == -EEXIST)
		return r; /* not ours to remove */
	if (r == 0)
		r = set_meta(c, sfd, sname, dfd, dname, "", &s);
	if (r < 0)
		(void)unlinkat(dfd, dname, 0);
	return r;
}

int storage_copy_file(const char *src, const char *dst, struct cell_error *err)
{
	const char *sname = src, *dname = dst;
	_cleanup_close_ int sfd = storage_open_parent(src, &sname, err);
	_cleanup_close_ int dfd = sfd < 0 ? -1 : storage_open_parent(dst, &dname, err);
	struct copy_ctx c = {.dst_root = dfd, .src = src, .dst = dst, .err = err};

	if (sfd < 0 || dfd < 0)
		return sfd < 0 ? sfd : dfd;
	int r = copy_file_at(&c, sfd, sname, dfd, dname);
	ctx_done(&c);
	return r;
}
