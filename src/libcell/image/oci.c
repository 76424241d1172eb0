/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An OCI image layout directory (image-spec image-layout.md):
 *   oci-layout                     {"imageLayoutVersion": "1.0.0"}
 *   index.json                     an image index: manifests[] descriptors
 *   blobs/<alg>/<hex>              content addressed by descriptors
 * index.json -> (nested indexes) -> manifest -> config + layers.  Every blob
 * is read through its descriptor, whose digest is validated before it is
 * used as a path and checked against the content with its size.
 */
#include "image-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MAX_INDEX_DEPTH 4

struct oci {
	int dirfd;
	const char *dir;
};

struct desc {
	const char *media_type; /* may be NULL */
	const char *digest;
	int64_t size;
};

static int desc_parse(json_t *j, const char *what, struct desc *d, struct cell_error *err)
{
	json_t *size = json_object_get(j, "size");

	d->media_type = json_string_value(json_object_get(j, "mediaType"));
	d->digest = json_string_value(json_object_get(j, "digest"));
	if (!json_is_object(j) || !d->digest || !json_is_integer(size))
		return cell_errx(err, EINVAL, "%s: not a descriptor (digest, size)", what);
	if (!image_digest_valid(d->digest))
		return cell_errx(err, EINVAL, "%s: unsupported or malformed digest %s", what,
				 d->digest);
	d->size = json_integer_value(size);
	if (d->size < 0)
		return cell_errx(err, EINVAL, "%s: negative size", what);
	return 0;
}

/* blobs/<alg>/<hex>: safe as a path because the digest was validated. */
static int open_blob(const struct oci *o, const struct desc *d, struct cell_error *err)
{
	_cleanup_free_ char *path = xstrdup(d->digest);
	char *colon = strchr(path, ':');
	_cleanup_free_ char *rel = NULL;
	int fd;

	*colon = '/';
	rel = xasprintf("blobs/%s", path);
	fd = openat(o->dirfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cell_err(err, errno, "blob %s: open %s/%s", d->digest, o->dir, rel);
	return fd;
}

/* A small blob, read whole and verified. */
static int load_blob(const struct oci *o, const struct desc *d, char **text, size_t *len,
		     struct cell_error *err)
{
	_cleanup_close_ int fd = open_blob(o, d, err);
	_cleanup_free_ char *buf = NULL;
	char got[IMAGE_DIGEST_MAX];
	struct image_hash h = {0};
	struct stat st;
	size_t n = 0;
	int r;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return cell_err(err, errno, "blob %s: stat", d->digest);
	if (d->size > IMAGE_JSON_MAX || st.st_size > IMAGE_JSON_MAX)
		return cell_errx(err, EFBIG, "blob %s: too large for JSON", d->digest);
	r = cell_read_fd(fd, &buf, &n);
	if (r < 0)
		return cell_err(err, r, "blob %s: read", d->digest);
	if ((int64_t)n != d->size)
		return cell_errx(err, EINVAL, "blob %s: size mismatch: %zu bytes, expected %lld",
				 d->digest, n, (long long)d->size);
	if (image_hash_init(&h, d->digest) < 0)
		return cell_err(err, ENOMEM, "hash");
	image_hash_update(&h, buf, n);
	image_hash_final(&h, got);
	if (!streq(got, d->digest))
		return cell_errx(err, EINVAL, "blob %s: digest mismatch: content is %s", d->digest,
				 got);
	*text = TAKE_PTR(buf);
	*len = n;
	return 0;
}

static int load_json_blob(const struct oci *o, const struct desc *d, json_t **out,
			  struct cell_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	json_error_t jerr;
	int r = load_blob(o, d, &text, &len, err);

	if (r < 0)
		return r;
	*out = json_loadb(text, len, 0, &jerr);
	if (!*out)
		return cell_errx(err, EINVAL, "blob %s: line %d: %s", d->digest, jerr.line,
				 jerr.text);
	return 0;
}

const char *image_host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}


static bool platform_matches(json_t *m)
{
	json_t *p = json_object_get(m, "platform");
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));

	return os && arch && streq(os, "linux") && streq(arch, image_host_arch());
}

/* The only manifest, or the one for linux/<host arch>. */
static int pick_manifest(json_t *index, const char *what, json_t **out, struct cell_error *err)
{
	json_t *list = json_object_get(index, "manifests"), *m;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return cell_errx(err, EINVAL, "%s: no manifests", what);
	if (json_array_size(list) == 1) {
		*out = json_array_get(list, 0);
		return 0;
	}
	json_array_foreach(list, i, m)
	{
		if (platform_matches(m)) {
			*out = m;
			return 0;
		}
	}
	return cell_errx(err, ENOENT, "%s: none of its %zu manifests is for linux/%s", what,
			 json_array_size(list), image_host_arch());
}

static bool is_index(const char *media_type)
{
	return media_type && (streq(media_type, MT_INDEX) || streq(media_type, MT_DOCKER_LIST));
}

/* Follow index.json and nested indexes to one manifest, loaded. */
static int find_manifest(const struct oci *o, json_t *index, json_t **manifest,
			 struct cell_error *err)
{
	json_t *cur = json_incref(index);

	for (int depth = 0; depth <= MAX_INDEX_DEPTH; depth++) {
		json_t *pick = NULL, *next = NULL;
		struct desc d = {0};
		int r = pick_manifest(cur, depth ? "nested index" : "index.json", &pick, err);
		if (r == 0)
			r = desc_parse(pick, "manifest descriptor", &d, err);
		if (r == 0)
			r = load_json_blob(o, &d, &next, err);
		bool nested = r == 0 && is_index(d.media_type); /* d points into cur */
		json_decref(cur);
		if (r < 0)
			return r;
		cur = next;
		if (!nested && !is_index(json_string_value(json_object_get(cur, "mediaType")))) {
			*manifest = cur;
			return 0;
		}
	}
	json_decref(cur);
	return cell_errx(err, ELOOP, "index.json: indexes nested too deep");
}

static int load_config(const struct oci *o, json_t *manifest, struct cell_image_config *cfg,
		       char ***diff_ids, struct cell_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	struct desc d;
	int r = desc_parse(json_object_get(manifest, "config"), "manifest config", &d, err);

	if (r == 0)
		r = load_blob(o, &d, &text, &len, err);
	if (r < 0)
		return r;
	r = image_config_parse(text, len, cfg, diff_ids, err);
	return r < 0 ? cell_err_prefix(err, "config %s", d.digest) : 0;
}

static int apply_layer(const struct oci *o, int rootfd, json_t *lj, size_t i, const char *diff_id,
		       struct cell_error *err)
{
	struct desc d;
	int r = desc_parse(lj, "manifest layer", &d, err);

	if (r < 0)
		return r;
	if (d.media_type && strstr(d.media_type, "encrypted"))
		return cell_errx(err, ENOTSUP, "layer %s: encrypted layers are not supported",
				 d.digest);
	_cleanup_close_ int fd = open_blob(o, &d, err);
	if (fd < 0)
		return fd;
	_cleanup_free_ char *name = xasprintf("layer %zu (%s)", i + 1, d.digest);
	struct image_layer_want want = {.digest = d.digest, .size = d.size, .diff_id = diff_id};
	return image_layer_apply(rootfd, image_read_fd, &fd, name, &want, err);
}

static int apply_layers(const struct oci *o, int rootfd, json_t *manifest, char **diff_ids,
			struct cell_error *err)
{
	json_t *layers = json_object_get(manifest, "layers"), *lj;
	size_t i, n_ids = cell_strv_len(diff_ids);

	if (!json_is_array(layers))
		return cell_errx(err, EINVAL, "manifest: no layers array");
	if (n_ids != json_array_size(layers))
		return cell_errx(err, EINVAL,
				 "manifest has %zu layers but config rootfs.diff_ids %zu",
				 json_array_size(layers), n_ids);
	json_array_foreach(layers, i, lj)
	{
		int r = apply_layer(o, rootfd, lj, i, diff_ids[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_file_json(const struct oci *o, const char *name, json_t **out,
			  struct cell_error *err)
{
	_cleanup_close_ int fd = openat(o->dirfd, name, O_RDONLY | O_CLOEXEC);
	json_error_t jerr;

	if (fd < 0)
		return cell_err(err, errno, "%s/%s", o->dir, name);
	*out = json_loadfd(fd, 0, &jerr);
	if (!*out)
		return cell_errx(err, EINVAL, "%s/%s: line %d: %s", o->dir, name, jerr.line,
				 jerr.text);
	return 0;
}

static int check_layout(const struct oci *o, struct cell_error *err)
{
	json_t *j = NULL;
	int r = load_file_json(o, "oci-layout", &j, err);

	if (r < 0)
		return r;
	const char *v = json_string_value(json_object_get(j, "imageLayoutVersion"));
	if (!v || !cell_startswith(v, "1."))
		r = cell_errx(err, ENOTSUP, "%s/oci-layout: unsupported imageLayoutVersion %s",
			      o->dir, v ? v : "(none)");
	json_decref(j);
	return r;
}

static int import_layout(const struct oci *o, int rootfd, struct cell_image_config *cfg,
			 struct cell_error *err)
{
	json_t *index = NULL, *manifest = NULL;
	_cleanup_strv_free_ char **diff_ids = NULL;
	int r = check_layout(o, err);

	if (r == 0)
		r = load_file_json(o, "index.json", &index, err);
	if (r == 0)
		r = find_manifest(o, index, &manifest, err);
	if (r == 0)
		r = load_config(o, manifest, cfg, &diff_ids, err);
	if (r == 0)
		r = apply_layers(o, rootfd, manifest, diff_ids, err);
	json_decref(index);
	json_decref(manifest);
	return r;
}

int image_oci_import(const char *dir, int rootfd, struct cell_image_config *cfg,
		     struct cell_error *err)
{
	_cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct oci o = {.dirfd = dirfd, .dir = dir};

	if (dirfd < 0)
		return cell_err(err, errno, "open %s", dir);
	return import_layout(&o, rootfd, cfg, err);
}
