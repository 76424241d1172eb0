/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A docker-archive: the tarball `docker save` and `podman save` write,
 * possibly compressed as a whole.
 *   manifest.json    [{"Config": "<hex>.json", "RepoTags": [...], "Layers": [...]}]
 *   <hex>.json       the image config, named by its sha256 (the image id)
 *   <id>/layer.tar   uncompressed layers, checked against rootfs.diff_ids
 * Docker 25 and later name config and layers "blobs/sha256/<hex>", which
 * carries the digest of those bytes as well.
 *
 * Members are looked up by name, one pass over the tarball each (on an
 * uncompressed tar libarchive skips data by seeking).  A member that is a
 * symlink or a hardlink (docker stores a shared layer once) is followed,
 * inside the archive only.
 */
#include "image-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINK_HOPS 8

typedef int (*member_fn)(struct archive *a, struct archive_entry *e, void *arg,
			 struct cell_error *err);

struct member_text {
	char *text;
	size_t len;
};

struct member_layer {
	int rootfd;
	const char *name;
	struct image_layer_want want;
};

static int open_outer(const char *path, struct archive **out, struct cell_error *err)
{
	struct archive *a = archive_read_new();

	if (!a)
		return cell_err(err, ENOMEM, "libarchive");
	(void)archive_read_support_filter_gzip(a);
	(void)archive_read_support_filter_zstd(a);
	(void)archive_read_support_filter_xz(a);
	(void)archive_read_support_filter_bzip2(a);
	(void)archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		int e = archive_errno(a);
		int r = e > 0 ? cell_err(err, e, "%s: %s", path, archive_error_string(a))
			      : cell_errx(err, EIO, "%s: %s", path, archive_error_string(a));
		(void)archive_read_free(a);
		return r;
	}
	*out = a;
	return 0;
}

/* A symlink's target, relative to the member's directory, kept inside the archive. */
static int join_link(const char *member, const char *target, char **out)
{
	const char *slash = strrchr(member, '/');
	_cleanup_free_ char *joined = NULL, *res = NULL;
	int r;

	if (target[0] == '/')
		return -EINVAL;
	joined = slash ? xasprintf("%.*s/%s", (int)(slash - member), member, target)
		       : xstrdup(target);
	if ((r = image_path_normalize(joined, true, &res)) < 0)
		return r;
	if (!res[0])
		return -EINVAL;
	*out = TAKE_PTR(res);
	return 0;
}

/* 1 with *next set when the member is a link to follow. */
static int link_next(const char *name, struct archive_entry *e, char **next)
{
	const char *hard = archive_entry_hardlink(e);

	if (hard)
		return image_path_clean(hard, next) < 0 || !**next ? -EINVAL : 1;
	if (archive_entry_filetype(e) == AE_IFLNK)
		return join_link(name, archive_entry_symlink(e), next) < 0 ? -EINVAL : 1;
	return 0;
}

/* One pass: 0 when fn ran, 1 with *next for a link, < 0 on error. */
static int scan(const char *tarball, const char *name, member_fn fn, void *arg, char **next,
		struct cell_error *err)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	int q = ARCHIVE_EOF, r = open_outer(tarball, &a, err);

	while (r == 0 &&
	       ((q = archive_read_next_header(a, &e)) == ARCHIVE_OK || q == ARCHIVE_WARN)) {
		_cleanup_free_ char *p = NULL;
		if (image_path_clean(archive_entry_pathname(e), &p) < 0 || !streq(p, name))
			continue;
		r = link_next(name, e, next);
		if (r < 0)
			r = cell_errx(err, EPERM, "%s: member %s: link leaves the archive", tarball,
				      name);
		else if (r == 0 && archive_entry_filetype(e) != AE_IFREG)
			r = cell_errx(err, EINVAL, "%s: member %s: not a file", tarball, name);
		else if (r == 0)
			r = fn(a, e, arg, err);
		goto out;
	}
	if (r == 0 && q == ARCHIVE_EOF)
		r = cell_errx(err, ENOENT, "%s: no member %s", tarball, name);
	else if (r == 0)
		r = cell_errx(err, EIO, "%s: %s", tarball, archive_error_string(a));
out:
	if (a)
		(void)archive_read_free(a);
	return r;
}

static int find_member(const char *tarball, const char *member, member_fn fn, void *arg,
		       struct cell_error *err)
{
	_cleanup_free_ char *name = NULL;

	if (image_path_clean(member, &name) < 0 || !*name)
		return cell_errx(err, EINVAL, "%s: invalid member name %s", tarball, member);
	for (int hops = 0; hops < MAX_LINK_HOPS; hops++) {
		char *next = NULL;
		int r = scan(tarball, name, fn, arg, &next, err);
		if (r <= 0 || !next)
			return r < 0 ? r : 0;
		free(name);
		name = next;
	}
	return cell_errx(err, ELOOP, "%s: member %s: too many links", tarball, member);
}

static int read_text(struct archive *a, struct archive_entry *e, void *arg, struct cell_error *err)
{
	struct member_text *t = arg;
	la_int64_t size = archive_entry_size(e);
	la_ssize_t n;

	if (size < 0 || size > IMAGE_JSON_MAX)
		return cell_errx(err, EFBIG, "%s: too large for JSON", archive_entry_pathname(e));
	t->text = xmalloc((size_t)size + 1);
	n = archive_read_data(a, t->text, (size_t)size);
	if (n != size)
		return cell_errx(err, EIO, "%s: short read: %s", archive_entry_pathname(e),
				 n < 0 ? archive_error_string(a) : "truncated");
	t->text[size] = '\0';
	t->len = (size_t)size;
	return 0;
}

static ssize_t read_member(void *src, void *buf, size_t len, struct cell_error *err)
{
	la_ssize_t n = archive_read_data(src, buf, len);

	return n < 0 ? cell_errx(err, EIO, "%s", archive_error_string(src)) : n;
}

static int apply_member(struct archive *a, struct archive_entry *e, void *arg,
			struct cell_error *err)
{
	struct member_layer *l = arg;

	return image_layer_apply(l->rootfd, read_member, a, l->name, &l->want, err);
}

/* "blobs/sha256/<hex>" or "<hex>.json" -> "sha256:<hex>", else NULL. */
static char *digest_of_name(const char *name)
{
	_cleanup_free_ char *d = NULL;

	if (cell_startswith(name, "blobs/")) {
		d = xstrdup(name + strlen("blobs/"));
		char *slash = strchr(d, '/');
		if (slash)
			*slash = ':';
	} else if (strlen(name) == 64 + strlen(".json") && streq(name + 64, ".json")) {
		d = xasprintf("sha256:%.64s", name);
	}
	return d && image_digest_valid(d) ? TAKE_PTR(d) : NULL;
}

static int load_config(const char *tarball, const char *name, struct cell_image_config *cfg,
		       char ***diff_ids, struct cell_error *err)
{
	_cleanup_free_ char *want = digest_of_name(name);
	struct member_text t = {0};
	char got[IMAGE_DIGEST_MAX];
	struct image_hash h = {0};
	int r;

	if (!want)
		return cell_errx(err, EINVAL, "%s: Config %s: its name carries no digest", tarball,
				 name);
	r = find_member(tarball, name, read_text, &t, err);
	if (r == 0 && image_hash_init(&h, want) < 0)
		r = cell_err(err, ENOMEM, "hash");
	if (r == 0) {
		image_hash_update(&h, t.text, t.len);
		image_hash_final(&h, got);
		if (!streq(got, want))
			r = cell_errx(err, EINVAL, "config %s: digest mismatch: content is %s",
				      name, got);
	}
	if (r == 0 && image_config_parse(t.text, t.len, cfg, diff_ids, err) < 0)
		r = cell_err_prefix(err, "config %s", name);
	free(t.text);
	return r;
}

static int apply_layers(const char *tarball, int rootfd, json_t *layers, char **diff_ids,
			struct cell_error *err)
{
	size_t i, n_ids = cell_strv_len(diff_ids);
	json_t *lj;

	if (!json_is_array(layers) || json_array_size(layers) != n_ids)
		return cell_errx(err, EINVAL,
				 "manifest.json: Layers do not match config rootfs.diff_ids");
	json_array_foreach(layers, i, lj)
	{
		const char *name = json_string_value(lj);
		if (!name)
			return cell_errx(err, EINVAL, "manifest.json: Layers[%zu]: not a string",
					 i);
		_cleanup_free_ char *digest = digest_of_name(name);
		_cleanup_free_ char *label = xasprintf("layer %zu (%s)", i + 1, name);
		struct member_layer l = {
		    .rootfd = rootfd,
		    .name = label,
		    .want = {.digest = digest,
			     .size = -1,
			     .diff_id = diff_ids && i < n_ids ? diff_ids[i] : NULL},
		};
		int r = find_member(tarball, name, apply_member, &l, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_manifest(const char *tarball, json_t **image, struct cell_error *err)
{
	struct member_text t = {0};
	json_error_t jerr;
	json_t *list;
	int r = find_member(tarball, "manifest.json", read_text, &t, err);

	if (r < 0)
		return r;
	list = json_loadb(t.text, t.len, 0, &jerr);
	free(t.text);
	if (!list)
		return cell_errx(err, EINVAL, "manifest.json: line %d: %s", jerr.line, jerr.text);
	if (!json_is_array(list) || json_array_size(list) != 1)
		r = cell_errx(err, ENOTSUP, "manifest.json: %zu images; import one at a time",
			      json_is_array(list) ? json_array_size(list) : 0);
	else
		*image = json_incref(json_array_get(list, 0));
	json_decref(list);
	return r;
}

int image_docker_import(const char *tarball, int rootfd, struct cell_image_config *cfg,
			struct cell_error *err)
{
	json_t *image = NULL;
	_cleanup_strv_free_ char **diff_ids = NULL;
	const char *config;
	int r = load_manifest(tarball, &image, err);

	if (r < 0)
		return r;
	config = json_string_value(json_object_get(image, "Config"));
	if (!config) {
		json_decref(image);
		return cell_errx(err, EINVAL, "manifest.json: no Config");
	}
	r = load_config(tarball, config, cfg, &diff_ids, err);
	if (r == 0)
		r = apply_layers(tarball, rootfd, json_object_get(image, "Layers"), diff_ids, err);
	json_decref(image);
	return r;
}
