/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host-wide registry of the id ranges given to unprivileged containers:
 * /var/lib/cell-idmap/ranges.json, outside every store, so that containers
 * of stores at different CELL_ROOTs never share ids (each store alone would
 * start at the same place).  It is state, not configuration, hence /var/lib
 * and not /etc.  Entries are keyed by the store's real path and the
 * container's name:
 *
 *   { "ranges": [ { "store": "/var/lib/cell", "name": "web", "start": 1000000,
 *                   "size": 65536 } ] }
 *
 * Every change happens under flock(2) on ranges.json.lock and replaces the
 * file by rename, so readers see the old or the new registry, never half.
 * An entry whose container directory is gone (a store removed by hand, a
 * crash between mkdir and release) is reclaimed by the next change.
 */
#include "idmap-internal.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/lockfile.h"
#include "../base/util.h"

struct registry {
	char *path;
	char *store; /* realpath of this store's root */
	int lock_fd;
	json_t *ranges;
};

static void registry_close(struct registry *g)
{
	if (g->lock_fd >= 0)
		(void)close(g->lock_fd);
	json_decref(g->ranges);
	free(g->path);
	free(g->store);
	*g = (struct registry){ .lock_fd = -1 };
}

static bool entry_valid(json_t *e)
{
	json_t *start = json_object_get(e, "start"), *size = json_object_get(e, "size");

	return json_is_string(json_object_get(e, "store")) &&
	       json_is_string(json_object_get(e, "name")) && json_is_integer(start) &&
	       json_is_integer(size) && json_integer_value(start) >= 0 &&
	       json_integer_value(size) > 0 &&
	       json_integer_value(start) + json_integer_value(size) <= (json_int_t)UINT32_MAX;
}

static int load_ranges(struct registry *g, struct cell_error *err)
{
	json_t *o = NULL, *a, *e;
	size_t i;
	int r;

	r = cell_locked_json_load("idmap registry", g->path, &g->lock_fd, &o, err);
	if (r < 0)
		return r;
	if (!o) {
		g->ranges = json_array();
		return 0;
	}
	a = json_incref(json_object_get(o, "ranges"));
	json_decref(o);
	if (!json_is_array(a)) {
		json_decref(a);
		return cell_err(err, EINVAL, "idmap registry %s: no \"ranges\" array (repair it)",
				g->path);
	}
	g->ranges = a;
	json_array_foreach(a, i, e)
		if (!entry_valid(e))
			return cell_err(err, EINVAL,
					"idmap registry %s: ranges[%zu]: want store, name, start, size",
					g->path, i);
	return 0;
}

static int registry_open(struct registry *g, const struct cell_store *st, struct cell_error *err)
{
	char real[PATH_MAX];

	*g = (struct registry){ .lock_fd = -1, .path = xstrdup(st->idmap_registry) };
	if (!realpath(st->root, real))
		return cell_err(err, errno, "resolve the store %s", st->root);
	g->store = xstrdup(real);
	return load_ranges(g, err);
}

static int registry_save(const struct registry *g, struct cell_error *err)
{
	json_t *o = json_pack("{s:O}", "ranges", g->ranges);
	int r = cell_json_save_atomic("idmap registry", g->path, o, err);

	json_decref(o);
	return r;
}

static const char *entry_str(json_t *e, const char *k)
{
	return json_string_value(json_object_get(e, k));
}

/* Only a directory that is certainly gone counts: EACCES and the like keep the entry. */
static bool entry_stale(json_t *e)
{
	_cleanup_free_ char *dir =
		xasprintf("%s/containers/%s", entry_str(e, "store"), entry_str(e, "name"));

	return access(dir, F_OK) < 0 && (errno == ENOENT || errno == ENOTDIR);
}

static bool entry_is(json_t *e, const char *store, const char *name)
{
	return streq(entry_str(e, "store"), store) && streq(entry_str(e, "name"), name);
}

/* Drop the stale entries and name's own; true when something went. */
static bool prune(struct registry *g, const char *name)
{
	bool changed = false;

	for (size_t i = json_array_size(g->ranges); i-- > 0;) {
		json_t *e = json_array_get(g->ranges, i);
		if (entry_stale(e) || (name && entry_is(e, g->store, name))) {
			(void)json_array_remove(g->ranges, i);
			changed = true;
		}
	}
	return changed;
}

static struct cell_id_range entry_range(json_t *e)
{
	return (struct cell_id_range){ (uint64_t)json_integer_value(json_object_get(e, "start")),
				       (uint64_t)json_integer_value(json_object_get(e, "size")) };
}

/* The registry's ranges, and those of this store's containers made before there
 * was a registry (their cell.json holds the range). */
static struct cell_id_range *used_ranges(const struct registry *g, const struct cell_store *st,
					 const char *name, size_t *n)
{
	_cleanup_strv_free_ char **names = NULL;
	struct cell_error ignored = { 0 };
	size_t cap = json_array_size(g->ranges), i;
	struct cell_id_range *v;
	json_t *e;

	(void)cell_store_list(st, &names, &ignored);
	cap += cell_strv_len(names);
	v = xcalloc(cap + 1, sizeof(*v));
	*n = 0;
	json_array_foreach(g->ranges, i, e)
		v[(*n)++] = entry_range(e);
	for (i = 0; names && names[i]; i++) {
		struct cell_settings *o = NULL;
		if (!streq(names[i], name) && cell_settings_load(st, names[i], &o, &ignored) == 0 &&
		    o->unprivileged && o->idmap_size)
			v[(*n)++] = (struct cell_id_range){ o->idmap_host, o->idmap_size };
		cell_settings_free(o);
	}
	return v;
}

static int shared_start(const struct registry *g, const struct cell_store *st, const char *share,
			uint64_t *start, struct cell_error *err)
{
	struct cell_settings *o = NULL;
	struct cell_error ignored = { 0 };
	size_t i;
	json_t *e;

	json_array_foreach(g->ranges, i, e)
		if (entry_is(e, g->store, share)) {
			*start = entry_range(e).start;
			return 0;
		}
	/* made before the registry: its cell.json has the range */
	bool ok = cell_settings_load(st, share, &o, &ignored) == 0 && o->unprivileged &&
		  o->idmap_size == CELL_IDMAP_SIZE;
	if (ok)
		*start = o->idmap_host;
	cell_settings_free(o);
	return ok ? 0
		  : cell_err(err, ENOENT,
			     "--idmap-share %s: no unprivileged container of that name in %s", share,
			     st->root);
}

static int pick(const struct registry *g, const struct cell_store *st, const char *name,
		const char *share, uint64_t *start, char **notice, struct cell_error *err)
{
	struct cell_subid uids = { 0 }, gids = { 0 };
	size_t n = 0;
	int r;

	if (share)
		return shared_start(g, st, share, start, err);
	if ((r = cell_subid_load_root(st->subuid, st->subgid, &uids, &gids, notice, err)) < 0)
		return r;
	_cleanup_free_ struct cell_id_range *used = used_ranges(g, st, name, &n);
	r = cell_idmap_first_fit(&uids, &gids, used, n, start, err);
	cell_subid_free(&uids);
	cell_subid_free(&gids);
	return r;
}

int cell_idmap_allocate(const struct cell_store *st, const char *name, const char *share,
			uint32_t *start, char **notice, struct cell_error *err)
{
	struct registry g;
	uint64_t s = 0;
	int r;

	*notice = NULL;
	if ((r = registry_open(&g, st, err)) >= 0) {
		(void)prune(&g, name);
		r = pick(&g, st, name, share, &s, notice, err);
	}
	if (r >= 0) {
		(void)json_array_append_new(g.ranges, json_pack("{s:s, s:s, s:I, s:I}", "store",
								g.store, "name", name, "start",
								(json_int_t)s, "size",
								(json_int_t)CELL_IDMAP_SIZE));
		r = registry_save(&g, err);
	}
	registry_close(&g);
	if (r < 0) {
		free(*notice);
		*notice = NULL;
		return cell_err_prefix(err, "allocate host ids for %s", name);
	}
	*start = (uint32_t)s;
	return 0;
}

int cell_idmap_release(const struct cell_store *st, const char *name, struct cell_error *err)
{
	struct registry g;
	int r;

	if (access(st->idmap_registry, F_OK) < 0 && errno == ENOENT)
		return 0;
	if ((r = registry_open(&g, st, err)) >= 0 && prune(&g, name))
		r = registry_save(&g, err);
	registry_close(&g);
	return r < 0 ? cell_err_prefix(err, "release the host ids of %s", name) : 0;
}
