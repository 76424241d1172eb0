/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The debian template: debootstrap is the engine (run, not reimplemented),
 * behind two caches (image.h describes them).  A cache file is trusted only
 * with its "<file>.sha256" beside it and matching: files are written under a
 * temporary name, renamed, and the sidecar comes last, so a crash at any
 * point leaves either a complete entry or one that is rebuilt.
 */
#include "image-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"
#include "../sys/rootfile.h"
#include "../sys/syscalls.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEBOOTSTRAP "/usr/sbin/debootstrap"
#define MIRROR "http://deb.debian.org/debian"
#define VARIANT "minbase"
#define INIT_PACKAGE "systemd-sysv"
#define KEY_VERSION "1"	 /* bump when what goes into the package cache changes */
#define TREE_VERSION "2" /* bump when what goes into the tree cache changes */

struct debian {
	const char *suite;
	char *include_arg; /* "--include=a,b" */
	char *key;
	char *cache_dir;   /* absolute */
	char *debs, *tree; /* cache files */
	char *target;	   /* absolute dest path, for debootstrap */
	struct image_dest dest;
	cell_progress_fn progress;
	void *arg;
};

static void say(const struct debian *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct debian *d, const char *fmt, ...)
{
	char line[768];
	va_list ap;

	if (!d->progress)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	d->progress(line, d->arg);
}

/* [a-z0-9][a-z0-9<more>]* */
static bool name_ok(const char *s, const char *more)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	_cleanup_free_ char *set = xasprintf("%s%s", alnum, more);

	return s[0] && strchr(alnum, s[0]) && strspn(s, set) == strlen(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* INIT_PACKAGE plus packages: validated, sorted, unique. */
static int includes_of(char **packages, char ***out, struct cell_error *err)
{
	_cleanup_strv_free_ char **v = NULL;
	size_t n = 0;

	cell_strv_push(&v, xstrdup(INIT_PACKAGE));
	for (size_t i = 0; packages && packages[i]; i++) {
		if (strlen(packages[i]) < 2 || !name_ok(packages[i], "+.-"))
			return cell_errx(err, EINVAL, "invalid package name \"%s\"", packages[i]);
		if (!cell_strv_contains(v, packages[i]))
			cell_strv_push(&v, xstrdup(packages[i]));
	}
	n = cell_strv_len(v);
	qsort(v, n, sizeof(char *), cmp_str);
	*out = TAKE_PTR(v);
	return 0;
}

char *image_debian_key(const char *suite, char **includes)
{
	struct image_hash h = {0};
	char digest[IMAGE_DIGEST_MAX];
	_cleanup_free_ char *text =
	    xasprintf("cell-debian-" KEY_VERSION "\n%s\n" VARIANT "\n" MIRROR "\n", suite);

	if (image_hash_init(&h, NULL) < 0)
		return NULL;
	image_hash_update(&h, text, strlen(text));
	for (size_t i = 0; includes && includes[i]; i++) {
		image_hash_update(&h, includes[i], strlen(includes[i]));
		image_hash_update(&h, ",", 1);
	}
	image_hash_final(&h, digest);
	return xstrndup(digest + strlen("sha256:"), 16);
}

static char *join_includes(char **includes)
{
	char *arg = xstrdup("--include=");

	for (size_t i = 0; includes && includes[i]; i++) {
		char *next = xasprintf("%s%s%s", arg, i ? "," : "", includes[i]);
		free(arg);
		arg = next;
	}
	return arg;
}

/* ---- cache files and their sidecars ---- */

static int sidecar_read(const char *file, char out[IMAGE_DIGEST_MAX])
{
	_cleanup_free_ char *path = xasprintf("%s.sha256", file);
	_cleanup_free_ char *text = NULL;
	int r = cell_read_file(path, &text, NULL);

	if (r < 0)
		return r;
	text[strcspn(text, "\n")] = '\0';
	if (!image_digest_valid(text))
		return -EINVAL;
	(void)snprintf(out, IMAGE_DIGEST_MAX, "%s", text);
	return 0;
}

static int sidecar_write(const char *file, const char *digest, struct cell_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s.sha256", file);
	_cleanup_free_ char *text = xasprintf("%s\n", digest);
	int r = cell_write_file_atomic(path, text, strlen(text), 0600);

	return r < 0 ? cell_err(err, r, "write %s", path) : 0;
}

static void cache_drop(const char *file)
{
	_cleanup_free_ char *path = xasprintf("%s.sha256", file);

	(void)unlink(path);
	(void)unlink(file);
}

/* 0: the tree is in place; -ENOENT: build it; else a hard error. */
static int use_tree_cache(struct debian *d, struct cell_error *err)
{
	char want[IMAGE_DIGEST_MAX];
	struct cell_error e = {0};

	if (access(d->tree, F_OK) < 0)
		return -ENOENT;
	if (sidecar_read(d->tree, want) < 0) {
		say(d, "cell: %s has no valid checksum: rebuilding it", d->tree);
		cache_drop(d->tree);
		return -ENOENT;
	}
	say(d, "cell: unpacking cached tree %s", d->tree);
	if (image_apply_tar_file(d->dest.fd, d->tree, want, &e) == 0)
		return 0;
	say(d, "cell: cached tree unusable (%s): rebuilding it", e.msg);
	cache_drop(d->tree);
	int r = image_dest_empty(&d->dest);
	return r < 0 ? cell_err(err, r, "empty %s", d->dest.path) : -ENOENT;
}

static int debootstrap(struct debian *d, const char *tarball_opt, const char *target,
		       struct cell_error *err)
{
	char *argv[] = {(char *)DEBOOTSTRAP, (char *)"--variant=" VARIANT,
			d->include_arg,	     (char *)tarball_opt,
			(char *)d->suite,    (char *)target,
			(char *)MIRROR,	     NULL};
	struct image_run run = {
	    .argv = argv,
	    .new_mount_ns = true,
	    .line = d->progress,
	    .arg = d->arg,
	};

	if (access(DEBOOTSTRAP, X_OK) < 0)
		return cell_err(err, errno, "%s (install debootstrap)", DEBOOTSTRAP);
	return image_run(&run, err);
}

static bool debs_valid(const struct debian *d)
{
	char want[IMAGE_DIGEST_MAX], got[IMAGE_DIGEST_MAX];
	struct cell_error e = {0};

	return sidecar_read(d->debs, want) == 0 && image_digest_file(d->debs, got, &e) == 0 &&
	       streq(want, got);
}

/* debootstrap --make-tarball into a temporary name, then rename. */
static int make_debs(struct debian *d, struct cell_error *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", d->debs, (int)getpid());
	_cleanup_free_ char *opt = xasprintf("--make-tarball=%s", tmp);
	_cleanup_free_ char *work = xasprintf("%s/.work-XXXXXX", d->cache_dir);
	char digest[IMAGE_DIGEST_MAX];
	int r;

	if (!mkdtemp(work))
		return cell_err(err, errno, "mkdtemp in %s", d->cache_dir);
	say(d, "cell: downloading %s packages into %s", d->suite, d->debs);
	r = debootstrap(d, opt, work, err);
	(void)cell_rm_rf(work);
	if (r == 0)
		r = image_digest_file(tmp, digest, err);
	if (r == 0 && rename(tmp, d->debs) < 0)
		r = cell_err(err, errno, "rename %s", tmp);
	if (r == 0)
		r = sidecar_write(d->debs, digest, err);
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

static int ensure_debs(struct debian *d, struct cell_error *err)
{
	if (debs_valid(d))
		return 0;
	if (access(d->debs, F_OK) == 0)
		say(d, "cell: package cache %s is corrupt: downloading again", d->debs);
	cache_drop(d->debs);
	return make_debs(d, err);
}

/* The downloaded .debs stay in the debs cache, not in every container. */
static void clean_tree(struct debian *d)
{
	int fd = cell_open_in_root(d->dest.fd, "var/cache/apt/archives",
				   O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!dir) {
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name);
		if (n > 4 && streq(de->d_name + n - 4, ".deb"))
			(void)unlinkat(dirfd(dir), de->d_name, 0);
	}
	(void)closedir(dir);
}

/*
 * debootstrap copies the host's /etc/hostname (and resolv.conf, kept), and
 * systemd's postinst made a machine-id every container from this tree would
 * share.  An empty /etc/machine-id makes systemd generate one at first boot;
 * the manager writes the container's hostname.
 */
static void reset_identity(struct debian *d)
{
	_cleanup_close_ int dbus =
		cell_open_in_root(d->dest.fd, "var/lib/dbus", O_PATH | O_DIRECTORY, 0);
	struct stat st;

	(void)image_write_at(d->dest.fd, "etc/hostname", 0644, "debian\n", NULL);
	(void)cell_root_rewrite_file(d->dest.fd, "etc/machine-id", "");
	if (dbus >= 0 && fstatat(dbus, "machine-id", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode))
		(void)unlinkat(dbus, "machine-id", 0);
}

/* Not fatal: the container is fine without a cache. */
static void save_tree_cache(struct debian *d)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", d->tree, (int)getpid());
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	char digest[IMAGE_DIGEST_MAX];
	struct cell_error e = {0};
	int r = fd < 0 ? cell_err(&e, errno, "create %s", tmp) : 0;

	say(d, "cell: saving the tree to %s", d->tree);
	if (r == 0)
		r = image_pack_tree(d->target, fd, digest, &e);
	if (r == 0 && fsync(fd) < 0)
		r = cell_err(&e, errno, "fsync %s", tmp);
	if (r == 0 && rename(tmp, d->tree) < 0)
		r = cell_err(&e, errno, "rename %s", tmp);
	if (r == 0)
		r = sidecar_write(d->tree, digest, &e);
	if (r < 0) {
		(void)unlink(tmp);
		say(d, "cell: tree cache not saved: %s", e.msg);
	}
}

static int build(struct debian *d, struct cell_error *err)
{
	_cleanup_free_ char *opt = xasprintf("--unpack-tarball=%s", d->debs);
	int r = use_tree_cache(d, err);

	if (r != -ENOENT)
		return r;
	r = ensure_debs(d, err);
	if (r == 0) {
		say(d, "cell: installing %s into %s", d->suite, d->target);
		r = debootstrap(d, opt, d->target, err);
	}
	if (r < 0)
		return r;
	clean_tree(d);
	reset_identity(d);
	save_tree_cache(d);
	return 0;
}

static int setup(struct debian *d, const char *suite, char **packages, const char *cache_dir,
		 struct cell_error *err)
{
	_cleanup_strv_free_ char **includes = NULL;
	char buf[PATH_MAX];
	int r;

	if (!*suite || !name_ok(suite, ".-"))
		return cell_errx(err, EINVAL, "invalid suite name \"%s\"", suite);
	r = includes_of(packages, &includes, err);
	if (r < 0)
		return r;
	r = cell_mkdir_p(cache_dir, 0700);
	if (r < 0 || !realpath(cache_dir, buf))
		return cell_err(err, r < 0 ? r : errno, "cache directory %s", cache_dir);
	d->suite = suite;
	d->cache_dir = xstrdup(buf);
	d->include_arg = join_includes(includes);
	d->key = image_debian_key(suite, includes);
	d->debs = xasprintf("%s/debian-%s-%s.tgz", d->cache_dir, suite, d->key);
	d->tree = xasprintf("%s/debian-%s-%s.rootfs.v" TREE_VERSION ".tar.zst", d->cache_dir, suite,
			    d->key);
	return 0;
}

static void debian_free(struct debian *d)
{
	free(d->include_arg);
	free(d->key);
	free(d->cache_dir);
	free(d->debs);
	free(d->tree);
	free(d->target);
}

int cell_template_debian(const char *suite, char **packages, const char *dest_rootfs,
			 const char *cache_dir, cell_progress_fn progress, void *arg,
			 struct cell_error *err)
{
	struct debian d = {.progress = progress, .arg = arg, .dest = {.fd = -1}};
	int r = setup(&d, suite, packages, cache_dir, err);

	if (r == 0)
		r = image_dest_open(dest_rootfs, &d.dest, err);
	if (r == 0) {
		d.target = realpath(dest_rootfs, NULL);
		r = d.target ? build(&d, err) : cell_err(err, errno, "%s", dest_rootfs);
		image_dest_close(&d.dest, r == 0);
	}
	debian_free(&d);
	return r < 0 ? cell_err_prefix(err, "debian template %s", suite) : 0;
}
