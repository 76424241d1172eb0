/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One layer: source bytes -> decompression -> tar -> entries, with both
 * digests computed on the way (image-spec layer.md, descriptor.md):
 *
 *   source --hash(blob digest)--> raw reader with filters (gzip, zstd, ...)
 *          --hash(diff_id)------> tar reader --> whiteouts / image_entry_write
 *
 * Two libarchive readers in a row: the first (format "raw") only
 * decompresses, so the uncompressed stream passes through our hands and is
 * hashed; the second reads tar from it.
 *
 * Whiteouts (layer.md "Whiteouts"): ".wh.NAME" removes NAME; the opaque
 * marker ".wh..wh..opq" removes what lower layers put in its directory.
 * Entries of the layer itself must survive the marker wherever it sits in
 * the tar, so the paths this layer wrote are recorded ("touched") and the
 * directory is pruned of everything else.
 */
#include "image-internal.h"
#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WHITEOUT ".wh."
#define OPAQUE ".wh..wh..opq"
#define BUF_SIZE (1 << 16)

struct dir_time {
	char *path;
	struct timespec ts[2];
};

struct layer {
	int rootfd;
	bool plain;
	char **touched; /* paths this layer wrote, sorted on demand */
	size_t n_touched, cap_touched;
	bool sorted;
	struct dir_time *dirs;
	size_t n_dirs, cap_dirs;
};

struct pipe {
	image_read_fn read;
	void *src;
	struct image_hash blob, diff;
	int64_t blob_size;
	struct archive *raw;
	bool failed; /* src_err holds why the source or decompression failed */
	struct cell_error src_err;
	char inbuf[BUF_SIZE];
	char rawbuf[BUF_SIZE];
};

static void layer_free(struct layer *l)
{
	for (size_t i = 0; i < l->n_touched; i++)
		free(l->touched[i]);
	free(l->touched);
	for (size_t i = 0; i < l->n_dirs; i++)
		free(l->dirs[i].path);
	free(l->dirs);
}

static void touched_add(struct layer *l, const char *path)
{
	if (l->n_touched == l->cap_touched) {
		l->cap_touched = l->cap_touched ? 2 * l->cap_touched : 64;
		l->touched = xrealloc(l->touched, l->cap_touched * sizeof(char *));
	}
	l->touched[l->n_touched++] = xstrdup(path);
	l->sorted = false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* First index whose path is >= key. */
static size_t lower_bound(const struct layer *l, const char *key)
{
	size_t lo = 0, hi = l->n_touched;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(l->touched[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Did this layer write path, or anything below it? */
static bool touched(const struct layer *l, const char *path)
{
	size_t i = lower_bound(l, path);
	if (i < l->n_touched && streq(l->touched[i], path))
		return true;
	_cleanup_free_ char *prefix = xasprintf("%s/", path);
	i = lower_bound(l, prefix);
	return i < l->n_touched && cell_startswith(l->touched[i], prefix);
}

static int list_names(int dfd, char ***names)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!d) {
		int r = -errno;
		if (fd >= 0)
			(void)close(fd);
		return r;
	}
	_cleanup_closedir_ DIR *dir = d;
	while ((de = readdir(dir)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			cell_strv_push(names, xstrdup(de->d_name));
	return 0;
}

/* Remove from dir (open as dfd) every entry this layer did not write. */
static int prune(const struct layer *l, int dfd, const char *dir)
{
	_cleanup_strv_free_ char **names = NULL;
	int r = list_names(dfd, &names);

	for (size_t i = 0; r == 0 && names && names[i]; i++) {
		_cleanup_free_ char *child =
		    *dir ? xasprintf("%s/%s", dir, names[i]) : xstrdup(names[i]);
		if (!touched(l, child)) {
			r = image_rm_rf_at(dfd, names[i]);
			continue;
		}
		_cleanup_close_ int cfd =
		    openat(dfd, names[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* a directory of this layer hides what a lower one had in it */
		if (cfd >= 0)
			r = prune(l, cfd, child);
	}
	return r;
}

static int whiteout(struct layer *l, const char *path, const char *base, struct cell_error *err)
{
	_cleanup_free_ char *dir = xstrndup(path, (size_t)(base - path - (base > path)));
	const char *name = base + strlen(WHITEOUT);
	_cleanup_close_ int dfd = image_open_dir(l->rootfd, dir, false);
	int r;

	if (dfd == -ENOENT || dfd == -ENOTDIR)
		return 0; /* nothing below to hide */
	if (dfd < 0)
		return cell_err(err, dfd, "whiteout %s: open %s", path, *dir ? dir : "/");
	if (streq(base, OPAQUE)) {
		if (!l->sorted)
			qsort(l->touched, l->n_touched, sizeof(char *), cmp_str);
		l->sorted = true;
		r = prune(l, dfd, dir);
	} else if (cell_startswith(base, WHITEOUT WHITEOUT)) {
		return 0; /* reserved (aufs hardlink dirs): no meaning here */
	} else if (!*name || streq(name, ".") || streq(name, "..")) {
		return cell_errx(err, EINVAL, "whiteout %s: invalid name", path);
	} else {
		r = image_rm_rf_at(dfd, name);
	}
	return r < 0 ? cell_err(err, r, "whiteout %s", path) : 0;
}

static void dir_time_add(struct layer *l, const char *path, struct archive_entry *e)
{
	if (l->n_dirs == l->cap_dirs) {
		l->cap_dirs = l->cap_dirs ? 2 * l->cap_dirs : 32;
		l->dirs = xrealloc(l->dirs, l->cap_dirs * sizeof(*l->dirs));
	}
	struct dir_time *d = &l->dirs[l->n_dirs++];
	d->path = xstrdup(path);
	d->ts[1].tv_sec = archive_entry_mtime(e);
	d->ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	d->ts[0] = d->ts[1];
}

static int apply_entry(struct layer *l, struct archive *tar, struct archive_entry *e,
		       struct cell_error *err)
{
	const char *raw = archive_entry_pathname(e);
	_cleanup_free_ char *path = NULL;
	const char *base;

	if (!raw || image_path_clean(raw, &path) < 0)
		return cell_errx(err, EPERM, "entry %s refused: absolute or \"..\" path",
				 raw ? raw : "(no name)");
	if (!*path)
		return 0; /* the root itself keeps dest_rootfs's owner and mode */
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!l->plain && cell_startswith(base, WHITEOUT))
		return whiteout(l, path, base, err);
	touched_add(l, path);
	int r = image_entry_write(l->rootfd, path, tar, e, err);
	if (r == 0 && archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e))
		dir_time_add(l, path, e);
	return r;
}

static la_ssize_t raw_read_cb(struct archive *a, void *ctx, const void **buf)
{
	struct pipe *p = ctx;
	ssize_t n = p->read(p->src, p->inbuf, sizeof(p->inbuf), &p->src_err);

	if (n < 0) {
		p->failed = true;
		archive_set_error(a, EIO, "%s", p->src_err.msg);
		return -1;
	}
	image_hash_update(&p->blob, p->inbuf, (size_t)n);
	p->blob_size += n;
	*buf = p->inbuf;
	return n;
}

static la_ssize_t tar_read_cb(struct archive *a, void *ctx, const void **buf)
{
	struct pipe *p = ctx;
	la_ssize_t n = archive_read_data(p->raw, p->rawbuf, sizeof(p->rawbuf));

	if (n < 0) {
		if (!p->failed)
			(void)cell_errx(&p->src_err, EIO, "%s decompression failed: %s",
					archive_filter_name(p->raw, 0),
					archive_error_string(p->raw));
		p->failed = true;
		archive_set_error(a, EIO, "%s", p->src_err.msg);
		return -1;
	}
	image_hash_update(&p->diff, p->rawbuf, (size_t)n);
	*buf = p->rawbuf;
	return n;
}

/* Failure of a reader: the source's or decompressor's story first. */
static int read_failed(struct pipe *p, struct archive *a, const char *what, struct cell_error *err)
{
	if (p->failed) {
		*err = p->src_err;
		return err->code ? -err->code : -EIO;
	}
	return cell_errx(err, EIO, "%s: %s", what, archive_error_string(a));
}

static int open_raw(struct pipe *p, struct cell_error *err)
{
	struct archive_entry *e;

	p->raw = archive_read_new();
	if (!p->raw)
		return cell_err(err, ENOMEM, "libarchive");
	/* library-backed filters only; never an external program */
	(void)archive_read_support_filter_gzip(p->raw);
	(void)archive_read_support_filter_zstd(p->raw);
	(void)archive_read_support_filter_xz(p->raw);
	(void)archive_read_support_filter_bzip2(p->raw);
	(void)archive_read_support_format_raw(p->raw);
	if (archive_read_open2(p->raw, p, NULL, raw_read_cb, NULL, NULL) != ARCHIVE_OK)
		return read_failed(p, p->raw, "decompress", err);
	int r = archive_read_next_header(p->raw, &e);
	if (r == ARCHIVE_EOF)
		return cell_errx(err, EINVAL, "empty blob");
	return r != ARCHIVE_OK && r != ARCHIVE_WARN ? read_failed(p, p->raw, "decompress", err) : 0;
}

static int read_entries(struct layer *l, struct pipe *p, struct cell_error *err)
{
	struct archive *tar = archive_read_new();
	struct archive_entry *e;
	int r = 0, q;

	if (!tar)
		return cell_err(err, ENOMEM, "libarchive");
	(void)archive_read_support_format_tar(tar);
	if (archive_read_open2(tar, p, NULL, tar_read_cb, NULL, NULL) != ARCHIVE_OK)
		r = read_failed(p, tar, "tar", err);
	while (r == 0 && (q = archive_read_next_header(tar, &e)) != ARCHIVE_EOF) {
		if (q != ARCHIVE_OK && q != ARCHIVE_WARN) { /* RETRY too: a damaged header */
			r = read_failed(p, tar, "tar", err);
			break;
		}
		if (q == ARCHIVE_WARN)
			cell_debug("image: tar: %s", archive_error_string(tar));
		r = apply_entry(l, tar, e, err);
		if (r < 0 && p->failed)
			r = read_failed(p, tar, "tar", err);
	}
	(void)archive_read_free(tar);
	return r;
}

/* Hash what the tar reader left unread: end padding, trailing bytes. */
static int drain(struct pipe *p, struct cell_error *err)
{
	la_ssize_t n;
	ssize_t m;

	while ((n = archive_read_data(p->raw, p->rawbuf, sizeof(p->rawbuf))) > 0)
		image_hash_update(&p->diff, p->rawbuf, (size_t)n);
	if (n < 0)
		return read_failed(p, p->raw, "decompress", err);
	while ((m = p->read(p->src, p->inbuf, sizeof(p->inbuf), &p->src_err)) > 0) {
		image_hash_update(&p->blob, p->inbuf, (size_t)m);
		p->blob_size += m;
	}
	if (m < 0) {
		*err = p->src_err;
		return -EIO;
	}
	return 0;
}

static int check(struct pipe *p, const struct image_layer_want *want, struct cell_error *err)
{
	char blob[IMAGE_DIGEST_MAX], diff[IMAGE_DIGEST_MAX];

	image_hash_final(&p->blob, blob);
	image_hash_final(&p->diff, diff);
	if (want->size >= 0 && p->blob_size != want->size)
		return cell_errx(err, EINVAL, "size mismatch: %lld bytes, expected %lld",
				 (long long)p->blob_size, (long long)want->size);
	if (want->digest && !streq(blob, want->digest))
		return cell_errx(err, EINVAL, "digest mismatch: content is %s", blob);
	if (want->diff_id && !streq(diff, want->diff_id))
		return cell_errx(err, EINVAL,
				 "diff_id mismatch: uncompressed content is %s, config says %s",
				 diff, want->diff_id);
	return 0;
}

static int finish_dirs(struct layer *l, struct cell_error *err)
{
	for (size_t i = l->n_dirs; i-- > 0;) {
		int r = image_dir_set_times(l->rootfd, l->dirs[i].path, l->dirs[i].ts);
		if (r < 0)
			return cell_err(err, r, "%s: set times", l->dirs[i].path);
	}
	return 0;
}

static int run_pipe(struct layer *l, struct pipe *p, const struct image_layer_want *want,
		    struct cell_error *err)
{
	int r;

	if (image_hash_init(&p->blob, want->digest) < 0 ||
	    image_hash_init(&p->diff, want->diff_id) < 0)
		return cell_err(err, ENOMEM, "hash");
	r = open_raw(p, err);
	if (r == 0)
		r = read_entries(l, p, err);
	if (r == 0)
		r = drain(p, err);
	if (r == 0)
		r = check(p, want, err);
	if (r == 0)
		r = finish_dirs(l, err);
	return r;
}

int image_layer_apply(int rootfd, image_read_fn read, void *src, const char *name,
		      const struct image_layer_want *want, struct cell_error *err)
{
	struct layer l = {.rootfd = rootfd, .plain = want->plain};
	struct pipe *p = xzalloc(sizeof(*p));
	int r;

	p->read = read;
	p->src = src;
	r = run_pipe(&l, p, want, err);
	if (p->raw)
		(void)archive_read_free(p->raw);
	image_hash_done(&p->blob);
	image_hash_done(&p->diff);
	free(p);
	layer_free(&l);
	return r < 0 ? cell_err_prefix(err, "%s", name) : 0;
}

ssize_t image_read_fd(void *src, void *buf, size_t len, struct cell_error *err)
{
	ssize_t n;

	do
		n = read(*(int *)src, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? cell_err(err, errno, "read") : n;
}

int image_apply_tar_file(int rootfd, const char *path, const char *digest, struct cell_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct image_layer_want want = {.digest = digest, .size = -1, .plain = true};

	if (fd < 0)
		return cell_err(err, errno, "open %s", path);
	return image_layer_apply(rootfd, image_read_fd, &fd, path, &want, err);
}
