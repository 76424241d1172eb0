/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Root's subordinate ids (subuid(5), subgid(5): NAME:START:COUNT per line).
 * When root has no entry, one is added as LXD and Incus do on first use:
 * root:START:1000000000, above every other user's range, so that ~15000
 * containers fit.
 */
#include "idmap-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/cleanup.h"
#include "../base/util.h"

#define SUBID_FIRST 1000000ULL
#define SUBID_COUNT 1000000000ULL
/* uid_t is 32 bits and (uid_t)-1 means "no change" to chown(2): ids stay below it */
#define SUBID_LIMIT 4294967295ULL

static int parse_u64(const char *s, uint64_t *out)
{
	long long v;

	if (cell_parse_long(s, &v) < 0 || v < 0 || (uint64_t)v > SUBID_LIMIT)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

/* "NAME:START:COUNT" → name (in place) and range */
static int split_line(char *line, struct cell_id_range *r)
{
	char *f1 = strchr(line, ':'), *f2 = f1 ? strchr(f1 + 1, ':') : NULL;

	if (!f1 || !f2 || f1 == line || strchr(f2 + 1, ':'))
		return -EINVAL;
	*f1 = *f2 = '\0';
	if (parse_u64(f1 + 1, &r->start) < 0 || parse_u64(f2 + 1, &r->count) < 0 ||
	    r->start + r->count > SUBID_LIMIT)
		return -EINVAL;
	return 0;
}

static int parse_line(char *line, const char *path, unsigned no, struct cell_subid *out,
		      struct cell_error *err)
{
	struct cell_id_range r;

	if (split_line(line, &r) < 0)
		return cell_err(err, EINVAL, "%s line %u: want NAME:START:COUNT (ids below 2^32-1)",
				path, no);
	if (r.start + r.count > out->max_end)
		out->max_end = r.start + r.count;
	if (r.count && (streq(line, "root") || streq(line, "0"))) {
		out->root = xrealloc(out->root, (out->n_root + 1) * sizeof(*out->root));
		out->root[out->n_root++] = r;
	}
	return 0;
}

int cell_subid_parse(const char *text, const char *path, struct cell_subid *out,
		     struct cell_error *err)
{
	_cleanup_free_ char *copy = xstrdup(text);
	struct cell_subid s = { 0 };
	unsigned no = 0;
	int r;

	for (char *line = copy, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		no++;
		if (!*line || *line == '#')
			continue;
		if ((r = parse_line(line, path, no, &s, err)) < 0) {
			cell_subid_free(&s);
			return r;
		}
	}
	s.path = path;
	*out = s;
	return 0;
}

void cell_subid_free(struct cell_subid *s)
{
	free(s->root);
	*s = (struct cell_subid){ 0 };
}

struct subid_file {
	const char *path;
	char *text; /* "" when the file is missing */
	mode_t mode;
	struct cell_subid ids;
};

static int load_file(struct subid_file *f, const char *path, struct cell_error *err)
{
	struct stat sb;
	int r;

	f->path = path;
	f->mode = stat(f->path, &sb) == 0 ? (sb.st_mode & 07777) : 0644;
	r = cell_read_file(f->path, &f->text, NULL);
	if (r == -ENOENT)
		f->text = xstrdup("");
	else if (r < 0)
		return cell_err(err, r, "read %s", f->path);
	return cell_subid_parse(f->text, f->path, &f->ids, err);
}

/* Append root:START:COUNT (tmp + rename: a reader never sees half a file). */
static int add_root(struct subid_file *f, struct cell_id_range range, char **notice,
		    struct cell_error *err)
{
	size_t len = strlen(f->text);
	_cleanup_free_ char *text =
		xasprintf("%s%sroot:%llu:%llu\n", f->text, len && f->text[len - 1] != '\n' ? "\n" : "",
			  (unsigned long long)range.start, (unsigned long long)range.count);
	int r = cell_write_file_atomic(f->path, text, strlen(text), f->mode);

	if (r < 0)
		return cell_err(err, r, "add an entry for root to %s", f->path);
	_cleanup_free_ char *old = *notice;
	*notice = xasprintf("%s%sadded root:%llu:%llu to %s", old ? old : "", old ? "; " : "",
			    (unsigned long long)range.start, (unsigned long long)range.count,
			    f->path);
	f->ids.root = xrealloc(f->ids.root, (f->ids.n_root + 1) * sizeof(*f->ids.root));
	f->ids.root[f->ids.n_root++] = range;
	return 0;
}

/* Where a new root entry goes: the other file's root range when it lies above every
 * entry of this one (both files then agree), else above every entry of both. */
static int new_root_range(const struct subid_file *f, const struct subid_file *other,
			  struct cell_id_range *out, struct cell_error *err)
{
	uint64_t start = SUBID_FIRST;

	if (other->ids.n_root && other->ids.root[0].start >= f->ids.max_end) {
		*out = other->ids.root[0];
		return 0;
	}
	start = f->ids.max_end > start ? f->ids.max_end : start;
	start = other->ids.max_end > start ? other->ids.max_end : start;
	if (start + CELL_IDMAP_SIZE > SUBID_LIMIT)
		return cell_err(err, ENOSPC, "%s: no room above the existing entries for root's ids",
				f->path);
	out->start = start;
	out->count = SUBID_LIMIT - start < SUBID_COUNT ? SUBID_LIMIT - start : SUBID_COUNT;
	return 0;
}

static int ensure_root(struct subid_file *f, const struct subid_file *other, char **notice,
		       struct cell_error *err)
{
	struct cell_id_range range = { 0 };
	int r;

	if (f->ids.n_root)
		return 0;
	if ((r = new_root_range(f, other, &range, err)) < 0)
		return r;
	return add_root(f, range, notice, err);
}

int cell_subid_load_root(const char *subuid, const char *subgid, struct cell_subid *uids,
			 struct cell_subid *gids, char **notice, struct cell_error *err)
{
	struct subid_file u = { 0 }, g = { 0 };
	_cleanup_free_ char *note = NULL;
	int r;

	if ((r = load_file(&u, subuid, err)) >= 0 && (r = load_file(&g, subgid, err)) >= 0 &&
	    (r = ensure_root(&u, &g, &note, err)) >= 0)
		r = ensure_root(&g, &u, &note, err);
	free(u.text);
	free(g.text);
	if (r < 0) {
		cell_subid_free(&u.ids);
		cell_subid_free(&g.ids);
		return r;
	}
	*uids = u.ids;
	*gids = g.ids;
	*notice = TAKE_PTR(note);
	return 0;
}

static bool inside(const struct cell_subid *ids, uint64_t s)
{
	for (size_t i = 0; i < ids->n_root; i++)
		if (s >= ids->root[i].start &&
		    s + CELL_IDMAP_SIZE <= ids->root[i].start + ids->root[i].count)
			return true;
	return false;
}

/* The end of a used range that [s, s+65536) overlaps, or 0. */
static uint64_t conflict_end(const struct cell_id_range *used, size_t n, uint64_t s)
{
	for (size_t i = 0; i < n; i++)
		if (used[i].count && s < used[i].start + used[i].count &&
		    used[i].start < s + CELL_IDMAP_SIZE)
			return used[i].start + used[i].count;
	return 0;
}

static bool fit_in(const struct cell_id_range *u, const struct cell_subid *gids,
		   const struct cell_id_range *used, size_t n_used, uint64_t *start)
{
	uint64_t s = u->start, end;

	while (s + CELL_IDMAP_SIZE <= u->start + u->count) {
		if ((end = conflict_end(used, n_used, s))) {
			/* the next slice of this range at or after the conflict's end */
			s = u->start + (end - u->start + CELL_IDMAP_SIZE - 1) / CELL_IDMAP_SIZE *
					       CELL_IDMAP_SIZE;
			continue;
		}
		if (inside(gids, s)) {
			*start = s;
			return true;
		}
		s += CELL_IDMAP_SIZE;
	}
	return false;
}

int cell_idmap_first_fit(const struct cell_subid *uids, const struct cell_subid *gids,
			 const struct cell_id_range *used, size_t n_used, uint64_t *start,
			 struct cell_error *err)
{
	for (size_t i = 0; i < uids->n_root; i++)
		if (fit_in(&uids->root[i], gids, used, n_used, start))
			return 0;
	return cell_err(err, ENOSPC,
			"no free range of %u ids left in root's entries of %s and %s (used: %zu "
			"ranges): widen them",
			CELL_IDMAP_SIZE, uids->path, gids->path, n_used);
}
