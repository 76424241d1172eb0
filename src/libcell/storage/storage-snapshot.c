/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshots, the same way on every backend: snapshots/<name>/ holds what the
 * backend saves.  It is built as snapshots/.tmp-<name> and renamed into
 * place, so a listed snapshot is always complete.  A rollback builds the
 * restored state at storage/rollback, exchanges it with the live one
 * (renameat2 RENAME_EXCHANGE: never a moment without a rootfs) and removes
 * what it replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage-internal.h"
#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

#define SNAPSHOT_NAME_MAX 64

bool cell_storage_snapshot_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > SNAPSHOT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || !strchr("_.-", c)))
			return false;
	}
	return true;
}

static int check_name(const char *name, const char *dir, struct cell_error *err)
{
	if (cell_storage_snapshot_name_valid(name))
		return 0;
	return cell_err(err, EINVAL,
			"snapshot of %s: invalid name \"%s\" (letters, digits, '_', "
			"'.', '-', up to %d, not starting with a symbol)",
			dir, name ? name : "", SNAPSHOT_NAME_MAX);
}

static char *snapshot_path(const struct cell_storage *st, const char *name)
{
	return xasprintf("%s/snapshots/%s", st->dir, name);
}

static bool exists(const char *path)
{
	struct stat s;

	return lstat(path, &s) == 0;
}

/* The first free snap0, snap1, ... */
static char *free_name(const struct cell_storage *st)
{
	for (unsigned i = 0;; i++) {
		char *name = xasprintf("snap%u", i);
		_cleanup_free_ char *path = snapshot_path(st, name);
		if (!exists(path))
			return name;
		free(name);
	}
}

static int build(const struct cell_storage *st, const struct storage_ops *ops, const char *name,
		 struct cell_error *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s/snapshots/.tmp-%s", st->dir, name);
	_cleanup_free_ char *final = snapshot_path(st, name);
	struct cell_error ignored;

	if (exists(final))
		return cell_err(err, EEXIST, "snapshot %s exists", final);
	int r = storage_remove(tmp, err); /* a crashed attempt's leftovers */
	if (r == 0 && mkdir(tmp, 0700) < 0)
		return cell_err(err, errno, "mkdir %s", tmp);
	if (r == 0)
		r = ops->snapshot(st, tmp, err);
	if (r == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) < 0)
		r = cell_err(err, errno, "rename %s to %s", tmp, final);
	if (r < 0)
		(void)storage_remove(tmp, &ignored);
	return r;
}

static const struct storage_ops *ops_of(const struct cell_storage *st)
{
	return storage_ops_of(st->kind);
}

static int prepare(const struct cell_storage *st, const char *op, const char *name,
		   struct cell_error *err)
{
	if (!ops_of(st) || !st->dir || st->dir[0] != '/')
		return cell_err(err, EINVAL, "%s: no such storage", op);
	int r = name ? check_name(name, st->dir, err) : 0;
	return r < 0 ? r : storage_need_unmounted(st, op, err);
}

int cell_storage_snapshot(const struct cell_storage *st, const char *name, char **out_name,
			  struct cell_error *err)
{
	_cleanup_free_ char *dir = NULL, *chosen = NULL;
	int r = prepare(st, "snapshot", name, err);

	if (r < 0)
		return r;
	dir = xasprintf("%s/snapshots", st->dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return cell_err(err, errno, "mkdir %s", dir);
	chosen = name ? xstrdup(name) : free_name(st);
	r = build(st, ops_of(st), chosen, err);
	if (r < 0)
		return cell_err_prefix(err, "snapshot %s as %s", st->dir, chosen);
	if (out_name)
		*out_name = TAKE_PTR(chosen);
	return 0;
}

/* ---- listing ---- */

static int snapshot_cmp(const void *a, const void *b)
{
	const struct cell_storage_snapshot *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void push(struct cell_storage_snapshot **v, size_t *n, const char *name, time_t created)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = (struct cell_storage_snapshot){.name = xstrdup(name), .created = created};
}

static int read_snapshots(DIR *d, const char *dir, struct cell_storage_snapshot **v, size_t *n,
			  struct cell_error *err)
{
	struct stat s;

	for (struct dirent *de; (errno = 0, de = readdir(d));) {
		if (de->d_name[0] == '.') /* ".", "..", unfinished ".tmp-*" */
			continue;
		if (fstatat(dirfd(d), de->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0)
			return cell_err(err, errno, "stat %s/%s", dir, de->d_name);
		if (S_ISDIR(s.st_mode))
			push(v, n, de->d_name, s.st_mtime);
	}
	return errno ? cell_err(err, errno, "read %s", dir) : 0;
}

int cell_storage_snapshots(const struct cell_storage *st, struct cell_storage_snapshot **out,
			   size_t *n, struct cell_error *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/snapshots", st->dir);
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct cell_storage_snapshot *v = NULL;
	size_t count = 0;

	if (!d && errno != ENOENT)
		return cell_err(err, errno, "list snapshots in %s", dir);
	int r = d ? read_snapshots(d, dir, &v, &count, err) : 0;
	if (r < 0) {
		cell_storage_snapshots_free(v, count);
		return r;
	}
	if (count)
		qsort(v, count, sizeof(*v), snapshot_cmp);
	*out = v;
	*n = count;
	return 0;
}

void cell_storage_snapshots_free(struct cell_storage_snapshot *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].name);
	free(s);
}

/* ---- rollback / delete ---- */

static int exchange(const char *tmp, const char *target, struct cell_error *err)
{
	struct cell_error e;
	char text[CELL_ERROR_MSG + 64];

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_EXCHANGE) < 0)
		return cell_err(err, errno, "exchange %s and %s", tmp, target);
	/* the rollback took; what it replaced goes now, or with destroy */
	if (storage_remove(tmp, &e) < 0)
		cell_debug("rollback: %s", cell_err_text(&e, text, sizeof(text)));
	return 0;
}

static int restore(const struct cell_storage *st, const char *snapdir, struct cell_error *err)
{
	const struct storage_ops *ops = ops_of(st);
	_cleanup_free_ char *tmp = storage_path(st, "storage/rollback");
	_cleanup_free_ char *target = storage_path(st, ops->rollback_target);
	struct cell_error ignored;

	int r = storage_mkdir_storage(st, err);
	if (r == 0)
		r = storage_remove(tmp, err); /* a crashed attempt's leftovers */
	if (r == 0)
		r = ops->restore(st, snapdir, tmp, err);
	if (r == 0)
		r = exchange(tmp, target, err);
	if (r < 0)
		(void)storage_remove(tmp, &ignored);
	return r;
}

int cell_storage_rollback(const struct cell_storage *st, const char *name, struct cell_error *err)
{
	_cleanup_free_ char *snapdir = NULL;
	int r = name ? prepare(st, "rollback", name, err)
		     : cell_err(err, EINVAL, "rollback %s: no snapshot named", st->dir);

	if (r < 0)
		return r;
	snapdir = snapshot_path(st, name);
	if (!exists(snapdir))
		return cell_err(err, ENOENT, "rollback %s: no snapshot %s", st->dir, name);
	r = restore(st, snapdir, err);
	return r < 0 ? cell_err_prefix(err, "rollback %s to %s", st->dir, name) : 0;
}

int cell_storage_snapshot_delete(const struct cell_storage *st, const char *name,
				 struct cell_error *err)
{
	_cleanup_free_ char *snapdir = NULL;
	int r = check_name(name, st->dir, err);

	if (r < 0)
		return r;
	snapdir = snapshot_path(st, name);
	if (!exists(snapdir))
		return cell_err(err, ENOENT, "delete snapshot %s: no such snapshot", snapdir);
	r = storage_remove(snapdir, err);
	return r < 0 ? cell_err_prefix(err, "delete snapshot %s", snapdir) : 0;
}
