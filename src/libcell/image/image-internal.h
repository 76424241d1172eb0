/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Internals of image/, shared by its files and exposed to tests/unit/test-image.c.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "image.h"

struct archive;
struct archive_entry;

/* ---- digest.c: content digests "<alg>:<hex>" (image-spec descriptor.md) ---- */

#define IMAGE_DIGEST_MAX 136 /* "sha512:" + 128 hex + NUL, rounded */

struct image_hash {
	void *ctx; /* EVP_MD_CTX */
	char alg[8];
};

/* true for "sha256:<64 lowercase hex>" and "sha512:<128 lowercase hex>" */
bool image_digest_valid(const char *digest);
/* Start hashing with the algorithm of `digest` (or "sha256" when NULL). */
int image_hash_init(struct image_hash *h, const char *digest);
void image_hash_update(struct image_hash *h, const void *buf, size_t n);
/* Writes "<alg>:<hex>" and releases the context. */
void image_hash_final(struct image_hash *h, char out[IMAGE_DIGEST_MAX]);
/* Releases the context without a result (safe after final, and twice). */
void image_hash_done(struct image_hash *h);
/* Digest of a whole file, "sha256:<hex>". */
int image_digest_file(const char *path, char out[IMAGE_DIGEST_MAX], struct cell_error *err);

/* ---- extract.c: one tar entry into the tree, contained in rootfd ---- */

/*
 * Normalise a tar path: "./a//b/" -> "a/b"; "" for the root itself.
 * -EINVAL for an absolute path or a ".." component.
 */
int image_path_clean(const char *in, char **out);
/* The same with ".." allowed where it stays inside: "a/b/../c" -> "a/c"; -EINVAL above the top. */
int image_path_normalize(const char *in, bool allow_up, char **out);
/* Open (O_PATH) the directory `dir` under rootfd, creating missing parts 0755. */
int image_open_dir(int rootfd, const char *dir, bool create);
/* rm -rf of name under dirfd; never follows symlinks nor crosses mounts. ENOENT is 0. */
int image_rm_rf_at(int dirfd, const char *name);
/* Create one entry (path already cleaned, not "" nor a whiteout). */
int image_entry_write(int rootfd, const char *path, struct archive *ar, struct archive_entry *e,
		      struct cell_error *err);
/* Set a directory's times once a layer is done (its children changed them). */
int image_dir_set_times(int rootfd, const char *path, const struct timespec ts[2]);

/* ---- layer.c: one layer stream, decompressed, verified, applied ---- */

/* Source of a blob: returns bytes read, 0 at end, < 0 with err filled. */
typedef ssize_t (*image_read_fn)(void *ctx, void *buf, size_t len, struct cell_error *err);

struct image_layer_want {
	const char *digest;  /* of the bytes as read (compressed), or NULL */
	int64_t size;	     /* of the same, or -1 */
	const char *diff_id; /* of the uncompressed tar, or NULL */
	bool plain;	     /* a plain tarball: ".wh." names are files, not whiteouts */
};

/* Apply a layer; `name` labels errors ("layer sha256:..."). */
int image_layer_apply(int rootfd, image_read_fn read, void *src, const char *name,
		      const struct image_layer_want *want, struct cell_error *err);
/* A read callback over a file descriptor (src: int *). */
ssize_t image_read_fd(void *src, void *buf, size_t len, struct cell_error *err);
/* Extract a plain tar file (the debian tree cache), checking `digest` if not NULL. */
int image_apply_tar_file(int rootfd, const char *path, const char *digest, struct cell_error *err);

/* ---- config.c, user.c: the image config ---- */

#define IMAGE_JSON_MAX (4 << 20) /* manifests, indexes and configs are small */

/* Parse a config blob; diff_ids (NULL-terminated) returned for layer checks. */
int image_config_parse(const char *json, size_t len, struct cell_image_config *cfg,
		       char ***diff_ids, struct cell_error *err);

/* ---- oci.c, docker.c: the two source formats ---- */

/* Both apply the layers into rootfd and fill cfg (owned by the caller on any return). */
int image_oci_import(const char *dir, int rootfd, struct cell_image_config *cfg,
		     struct cell_error *err);
int image_docker_import(const char *tarball, int rootfd, struct cell_image_config *cfg,
			struct cell_error *err);
/* This machine's architecture in GOARCH spelling ("amd64", "arm64"). */
const char *image_host_arch(void);

/* ---- dest.c: the destination contract of image.h ---- */

struct image_dest {
	char *path;
	int fd;	      /* O_DIRECTORY of path */
	bool created; /* we made it: rollback removes it; else rollback empties it */
};

int image_dest_open(const char *path, struct image_dest *d, struct cell_error *err);
/* Empty the tree and keep it open (a corrupt cache is retried into it). */
int image_dest_empty(struct image_dest *d);
/* Close; on failure (ok == false) remove or empty the tree first. */
void image_dest_close(struct image_dest *d, bool ok);
/* Write a file of the tree rooted at dirfd (cell_root_write_file: resolved
 * inside the tree, never through a symlink out of it). */
int image_write_at(int dirfd, const char *path, mode_t mode, const char *text,
		   struct cell_error *err);

/* ---- run.c: a helper program, its output as lines ---- */

struct image_run {
	char **argv;
	bool new_mount_ns;     /* unshare(CLONE_NEWNS) + make / private first */
	cell_progress_fn line; /* each line of stdout+stderr, may be NULL */
	void *arg;
	char last[256]; /* the last non-empty line, for error messages */
};

/* Run argv[0] (absolute path); 0 when it exits 0, else an error naming it. */
int image_run(struct image_run *r, struct cell_error *err);

/* ---- busybox.c, debian.c, pack.c ---- */

/* The busybox template from a given binary (tests pass a dynamic one). */
int image_busybox_build(const char *busybox, int rootfd, struct cell_error *err);
/* true when the ELF file at fd has no PT_INTERP (statically linked). */
int image_elf_is_static(int fd, bool *is_static);
/* Write the tree at dir as a pax tar + zstd to out_fd; digest of the bytes written. */
int image_pack_tree(const char *dir, int out_fd, char digest[IMAGE_DIGEST_MAX],
		    struct cell_error *err);
/* Cache key of a debian template: hash of variant, mirror, sorted includes. */
char *image_debian_key(const char *suite, char **includes);
