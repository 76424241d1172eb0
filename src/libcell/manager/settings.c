/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cell.json: a container's persistent settings, and `cell config`. */
#include "manager.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/cleanup.h"
#include "../base/util.h"

const char *const cell_settings_keys[] = { "memory", "cpus", "pids", "hostname", "env",
					   "mounts", "autostart", "init", "command", "net",
					   "stop_signal", "user", "cwd", NULL };

int cell_parse_bytes(const char *s, int64_t *out)
{
	long long v;
	int r = cell_parse_size(s, &v);

	if (r < 0 || v < 0)
		return r < 0 ? r : -EINVAL;
	*out = v;
	return 0;
}

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static char **json_strv(json_t *a)
{
	char **v = NULL;
	size_t i;
	json_t *e;

	if (!json_is_array(a))
		return NULL;
	v = xcalloc(1, sizeof(char *));
	json_array_foreach(a, i, e)
		if (json_is_string(e))
			cell_strv_push(&v, xstrdup(json_string_value(e)));
	return v;
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static json_t *settings_json(const struct cell_settings *s)
{
	json_t *o = json_object(), *binds = json_array();

	set_str(o, "name", s->name);
	set_str(o, "template", s->template_name);
	set_str(o, "storage", s->storage);
	json_object_set_new(o, "unprivileged", json_boolean(s->unprivileged));
	if (s->unprivileged) {
		json_object_set_new(o, "idmap_host", json_integer(s->idmap_host));
		json_object_set_new(o, "idmap_size", json_integer(s->idmap_size));
	}
	json_object_set_new(o, "memory", json_integer(s->memory));
	json_object_set_new(o, "cpus", json_real(s->cpus));
	json_object_set_new(o, "pids", json_integer(s->pids));
	set_str(o, "hostname", s->hostname);
	for (size_t i = 0; i < s->n_binds; i++)
		json_array_append_new(binds, json_pack("{s:s,s:s,s:b}", "source", s->binds[i].source,
						       "destination", s->binds[i].destination,
						       "readonly", s->binds[i].readonly));
	json_object_set_new(o, "mounts", binds);
	json_object_set_new(o, "env", strv_json(s->env));
	if (s->command)
		json_object_set_new(o, "command", strv_json(s->command));
	set_str(o, "init", s->init);
	set_str(o, "net", s->net);
	set_str(o, "cwd", s->cwd);
	set_str(o, "user", s->user);
	set_str(o, "stop_signal", s->stop_signal);
	json_object_set_new(o, "autostart", json_boolean(s->autostart));
	json_object_set_new(o, "system", json_boolean(s->system));
	json_object_set_new(o, "terminal", json_boolean(s->terminal));
	set_str(o, "created", s->created);
	return o;
}

int cell_settings_save(const struct cell_store *st, const struct cell_settings *s,
		       struct cell_error *err)
{
	json_t *o = settings_json(s);
	_cleanup_free_ char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	_cleanup_free_ char *dir = cell_store_dir(st, s->name);
	_cleanup_free_ char *path = xasprintf("%s/cell.json", dir);
	int r;

	json_decref(o);
	if (!text)
		return cell_err(err, ENOMEM, "encode %s", path);
	r = cell_write_file_atomic(path, text, strlen(text), 0644);
	return r < 0 ? cell_err(err, r, "write %s", path) : 0;
}

static char *get_str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? xstrdup(v) : NULL;
}

static void load_binds(json_t *a, struct cell_settings *s)
{
	size_t i;
	json_t *e;

	s->binds = xcalloc(json_array_size(a) + 1, sizeof(*s->binds));
	json_array_foreach(a, i, e)
	{
		const char *src = json_string_value(json_object_get(e, "source"));
		const char *dst = json_string_value(json_object_get(e, "destination"));
		if (!src || !dst)
			continue;
		s->binds[s->n_binds].source = xstrdup(src);
		s->binds[s->n_binds].destination = xstrdup(dst);
		s->binds[s->n_binds++].readonly = json_is_true(json_object_get(e, "readonly"));
	}
}

int cell_settings_load(const struct cell_store *st, const char *name, struct cell_settings **out,
		       struct cell_error *err)
{
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	_cleanup_free_ char *path = xasprintf("%s/cell.json", dir);
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je);

	if (!o) {
		if (access(dir, F_OK) < 0)
			return cell_errx(err, ENOENT, "no container named \"%s\" (see cell ls)", name);
		return cell_err(err, EINVAL, "%s: line %d, column %d: %s", path, je.line, je.column,
				je.text);
	}
	struct cell_settings *s = xzalloc(sizeof(*s));
	s->name = xstrdup(name);
	s->template_name = get_str(o, "template");
	s->storage = get_str(o, "storage");
	s->unprivileged = json_is_true(json_object_get(o, "unprivileged"));
	s->idmap_host = (uint32_t)json_integer_value(json_object_get(o, "idmap_host"));
	s->idmap_size = (uint32_t)json_integer_value(json_object_get(o, "idmap_size"));
	s->memory = json_integer_value(json_object_get(o, "memory"));
	s->cpus = json_number_value(json_object_get(o, "cpus"));
	s->pids = json_integer_value(json_object_get(o, "pids"));
	s->hostname = get_str(o, "hostname");
	load_binds(json_object_get(o, "mounts"), s);
	s->env = json_strv(json_object_get(o, "env"));
	s->command = json_strv(json_object_get(o, "command"));
	s->init = get_str(o, "init");
	s->net = get_str(o, "net");
	s->cwd = get_str(o, "cwd");
	s->user = get_str(o, "user");
	s->stop_signal = get_str(o, "stop_signal");
	s->autostart = json_is_true(json_object_get(o, "autostart"));
	s->system = json_is_true(json_object_get(o, "system"));
	s->terminal = json_is_true(json_object_get(o, "terminal"));
	s->created = get_str(o, "created");
	json_decref(o);
	*out = s;
	return 0;
}

static void binds_free(struct cell_settings *s)
{
	for (size_t i = 0; i < s->n_binds; i++) {
		free(s->binds[i].source);
		free(s->binds[i].destination);
	}
	free(s->binds);
	s->binds = NULL;
	s->n_binds = 0;
}

void cell_settings_free(struct cell_settings *s)
{
	if (!s)
		return;
	char *strs[] = { s->name, s->template_name, s->storage, s->hostname, s->init, s->net,
			 s->cwd, s->user, s->stop_signal, s->created };
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		free(strs[i]);
	binds_free(s);
	cell_strv_free(s->env);
	cell_strv_free(s->command);
	free(s);
}

/* "SRC:DST[:ro]" */
int cell_bind_parse(const char *spec, struct cell_bind *b, struct cell_error *err)
{
	_cleanup_free_ char *copy = xstrdup(spec);
	char *dst = strchr(copy, ':'), *mode;

	if (!dst || dst == copy)
		return cell_err(err, EINVAL, "mount \"%s\": want SRC:DST[:ro]", spec);
	*dst++ = '\0';
	mode = strchr(dst, ':');
	if (mode)
		*mode++ = '\0';
	if (copy[0] != '/' || dst[0] != '/' || (mode && !streq(mode, "ro") && !streq(mode, "rw")))
		return cell_err(err, EINVAL, "mount \"%s\": want absolute SRC:DST[:ro|rw]", spec);
	b->source = xstrdup(copy);
	b->destination = xstrdup(dst);
	b->readonly = mode && !strcmp(mode, "ro");
	return 0;
}

static int set_list(char ***dst, const char *value)
{
	char **v = xcalloc(1, sizeof(char *));

	for (const char *p = value; *p;) {
		size_t n = strcspn(p, ",");
		if (n)
			cell_strv_push(&v, xstrndup(p, n));
		p += n + (p[n] == ',');
	}
	cell_strv_free(*dst);
	*dst = v;
	return 0;
}

static int set_mounts(struct cell_settings *s, const char *value, struct cell_error *err)
{
	_cleanup_strv_free_ char **items = NULL;
	struct cell_settings tmp = { 0 };
	int r;

	set_list(&items, value);
	tmp.binds = xcalloc(cell_strv_len(items) + 1, sizeof(*tmp.binds));
	for (size_t i = 0; items[i]; i++) {
		if ((r = cell_bind_parse(items[i], &tmp.binds[i], err)) < 0) {
			tmp.n_binds = i;
			binds_free(&tmp);
			return r;
		}
		tmp.n_binds = i + 1;
	}
	binds_free(s);
	s->binds = tmp.binds;
	s->n_binds = tmp.n_binds;
	return 0;
}

/*
 * The smallest limits a container can run under (checked at create and config, not
 * found out at start): memory 6 MiB, docker's --memory minimum, which leaves room
 * for the runtime's setup in the cgroup, a busybox init and an exec'd shell (2 MiB
 * starts one, but `cell exec` then dies); cpus 0.01, as the kernel refuses a CFS quota
 * under 1 ms of the 100 ms period; pids 1, the init alone.
 */
#define CELL_MEMORY_MIN (6LL << 20)
#define CELL_CPUS_MIN 0.01
#define CELL_PIDS_MIN 1

static int set_memory(struct cell_settings *s, const char *value, struct cell_error *err)
{
	int64_t n = 0;

	if (!streq(value, "none") && cell_parse_bytes(value, &n) < 0)
		return cell_err(err, EINVAL, "memory \"%s\": want a size like 512M or none", value);
	if (n != 0 && n < CELL_MEMORY_MIN)
		return cell_err(err, EINVAL,
				"memory \"%s\" (%lld bytes) is below the minimum of %lld MiB that a "
				"container needs to run",
				value, (long long)n, CELL_MEMORY_MIN >> 20);
	s->memory = n;
	return 0;
}

static int set_cpus(struct cell_settings *s, const char *value, struct cell_error *err)
{
	char *end = NULL;
	double d = streq(value, "none") ? 0 : strtod(value, &end);

	if ((end && (*end || end == value)) || !(d >= 0) || d > 4096)
		return cell_err(err, EINVAL, "cpus \"%s\": want a number like 1.5 or none", value);
	if (d != 0 && d < CELL_CPUS_MIN)
		return cell_err(err, EINVAL,
				"cpus \"%s\" is below the minimum of %.2f (the kernel's smallest CFS "
				"quota, 1 ms per 100 ms)",
				value, CELL_CPUS_MIN);
	s->cpus = d;
	return 0;
}

static int set_pids(struct cell_settings *s, const char *value, struct cell_error *err)
{
	long long v = 0;

	if (!streq(value, "none") && (cell_parse_long(value, &v) < 0 || v < CELL_PIDS_MIN))
		return cell_err(err, EINVAL,
				"pids \"%s\": want a count of at least %d (the init) or none", value,
				CELL_PIDS_MIN);
	s->pids = v;
	return 0;
}

static int set_number(const char *key, const char *value, struct cell_settings *s,
		      struct cell_error *err)
{
	if (streq(key, "memory"))
		return set_memory(s, value, err);
	if (streq(key, "cpus"))
		return set_cpus(s, value, err);
	return set_pids(s, value, err);
}

static int set_string(char **dst, const char *value)
{
	free(*dst);
	*dst = *value ? xstrdup(value) : NULL;
	return 0;
}

int cell_settings_set(struct cell_settings *s, const char *key, const char *value,
		      struct cell_error *err)
{
	if (streq(key, "memory") || streq(key, "cpus") || streq(key, "pids"))
		return set_number(key, value, s, err);
	if (streq(key, "env"))
		return set_list(&s->env, value);
	if (streq(key, "command"))
		return set_list(&s->command, value);
	if (streq(key, "mounts"))
		return set_mounts(s, value, err);
	if (streq(key, "autostart")) {
		if (!streq(value, "true") && !streq(value, "false"))
			return cell_err(err, EINVAL, "autostart \"%s\": want true or false", value);
		s->autostart = streq(value, "true");
		return 0;
	}
	if (streq(key, "net")) {
		if (!streq(value, "none") && !streq(value, "host"))
			return cell_err(err, EINVAL, "net \"%s\": want none or host", value);
		return set_string(&s->net, value);
	}
	if (streq(key, "hostname") && strlen(value) > 64)
		return cell_err(err, EINVAL, "hostname \"%s\": at most 64 characters", value);
	char **fields[] = { &s->hostname, &s->init, &s->stop_signal, &s->user, &s->cwd };
	const char *names[] = { "hostname", "init", "stop_signal", "user", "cwd" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (streq(key, names[i]))
			return set_string(fields[i], value);
	return cell_err(err, EINVAL, "unknown setting \"%s\" (see cell config --help)", key);
}

static char *join(char **v, const char *sep)
{
	char *out = xstrdup("");
	for (size_t i = 0; v && v[i]; i++) {
		char *n = xasprintf("%s%s%s", out, i ? sep : "", v[i]);
		free(out);
		out = n;
	}
	return out;
}

char *cell_settings_get(const struct cell_settings *s, const char *key)
{
	if (streq(key, "memory"))
		return s->memory ? xasprintf("%lld", (long long)s->memory) : xstrdup("none");
	if (streq(key, "cpus"))
		return s->cpus > 0 ? xasprintf("%g", s->cpus) : xstrdup("none");
	if (streq(key, "pids"))
		return s->pids ? xasprintf("%lld", (long long)s->pids) : xstrdup("none");
	if (streq(key, "env"))
		return join(s->env, ",");
	if (streq(key, "command"))
		return join(s->command, ",");
	if (streq(key, "autostart"))
		return xstrdup(s->autostart ? "true" : "false");
	if (streq(key, "mounts")) {
		char *out = xstrdup("");
		for (size_t i = 0; i < s->n_binds; i++) {
			char *n = xasprintf("%s%s%s:%s%s", out, i ? "," : "", s->binds[i].source,
					    s->binds[i].destination, s->binds[i].readonly ? ":ro" : "");
			free(out);
			out = n;
		}
		return out;
	}
	const char *vals[] = { s->hostname, s->init, s->stop_signal, s->user, s->cwd, s->net };
	const char *names[] = { "hostname", "init", "stop_signal", "user", "cwd", "net" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (streq(key, names[i]))
			return xstrdup(vals[i] ? vals[i] : "");
	return NULL;
}
