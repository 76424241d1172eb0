/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cell.json: a container's persistent settings, and `cell config`.
 *
 * One row per setting (nspawn's gperf table, LXC's config_jump_table): its
 * name in cell.json and for config, how cell.json holds it, where it lives in
 * struct cell_settings, the parser of `cell config KEY VALUE` (none: one of
 * create's own fields, not a config key) and, for --help, the shape of a
 * value.  Save, load, free, config's set and get and its list of keys all read
 * the table; a new setting is one row (and a parser when config may change it).
 */
#include "manager.h"

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/cleanup.h"
#include "../base/signame.h"
#include "../base/util.h"
#include "../net/ipam.h"
#include "../net/net.h"
#include "../net/nft.h"

enum setting_type {
	SETTING_STRING,	  /* char *: not written while NULL; config: "" clears */
	SETTING_STRV,	  /* char **: always written ([] for none); config: a,b,... */
	SETTING_STRV_OPT, /* char **: not written while NULL (no command is not an empty one) */
	SETTING_BOOL,
	SETTING_INT64,	  /* config: "none" for 0 */
	SETTING_DOUBLE,	  /* config: "none" for 0 */
	SETTING_IDS,	  /* uint32_t: written for an unprivileged container only */
	SETTING_BINDS,	  /* binds and n_binds; config: SRC:DST[:ro],... */
};

struct setting;
typedef int (*setting_parse_fn)(struct cell_settings *s, const struct setting *k,
				const char *value, struct cell_error *err);

struct setting {
	const char *key;
	enum setting_type type;
	size_t offset;
	setting_parse_fn parse; /* NULL: not a config key */
	const char *help;	/* what a value looks like, when the name does not say */
};

#define AT(s, k, T) ((T *)(void *)((char *)(s) + (k)->offset))
#define AT_CONST(s, k, T) ((T const *)(const void *)((const char *)(s) + (k)->offset))

int cell_parse_bytes(const char *s, int64_t *out)
{
	long long v;
	int r = cell_parse_size(s, &v);

	if (r < 0 || v < 0)
		return r < 0 ? r : -EINVAL;
	*out = v;
	return 0;
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

static int parse_list(struct cell_settings *s, const struct setting *k, const char *value,
		      struct cell_error *err)
{
	(void)err;
	return set_list(AT(s, k, char **), value);
}

static int parse_mounts(struct cell_settings *s, const struct setting *k, const char *value,
			struct cell_error *err)
{
	_cleanup_strv_free_ char **items = NULL;
	struct cell_settings tmp = { 0 };
	int r;

	(void)k;
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

static int parse_memory(struct cell_settings *s, const struct setting *k, const char *value,
			struct cell_error *err)
{
	int64_t n = 0;

	if (!streq(value, "none") && cell_parse_bytes(value, &n) < 0)
		return cell_err(err, EINVAL, "memory \"%s\": want a size like 512M or none", value);
	if (n != 0 && n < CELL_MEMORY_MIN)
		return cell_err(err, EINVAL,
				"memory \"%s\" (%lld bytes) is below the minimum of %lld MiB that a "
				"container needs to run",
				value, (long long)n, CELL_MEMORY_MIN >> 20);
	*AT(s, k, int64_t) = n;
	return 0;
}

static int parse_cpus(struct cell_settings *s, const struct setting *k, const char *value,
		      struct cell_error *err)
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
	*AT(s, k, double) = d;
	return 0;
}

static int parse_pids(struct cell_settings *s, const struct setting *k, const char *value,
		      struct cell_error *err)
{
	long long v = 0;

	if (!streq(value, "none") && (cell_parse_long(value, &v) < 0 || v < CELL_PIDS_MIN))
		return cell_err(err, EINVAL,
				"pids \"%s\": want a count of at least %d (the init) or none", value,
				CELL_PIDS_MIN);
	*AT(s, k, int64_t) = v;
	return 0;
}

static int parse_bool(struct cell_settings *s, const struct setting *k, const char *value,
		      struct cell_error *err)
{
	if (!streq(value, "true") && !streq(value, "false"))
		return cell_err(err, EINVAL, "%s \"%s\": want true or false", k->key, value);
	*AT(s, k, bool) = streq(value, "true");
	return 0;
}

static int parse_string(struct cell_settings *s, const struct setting *k, const char *value,
			struct cell_error *err)
{
	char **dst = AT(s, k, char *);

	(void)err;
	free(*dst);
	*dst = *value ? xstrdup(value) : NULL;
	return 0;
}

static int parse_hostname(struct cell_settings *s, const struct setting *k, const char *value,
			  struct cell_error *err)
{
	if (strlen(value) > 64)
		return cell_err(err, EINVAL, "hostname \"%s\": at most 64 characters", value);
	return parse_string(s, k, value, err);
}

static int parse_net(struct cell_settings *s, const struct setting *k, const char *value,
		     struct cell_error *err)
{
	enum cell_net_kind kind;
	const char *arg;
	int r = cell_net_mode_parse(value, &kind, &arg, err);

	return r < 0 ? r : parse_string(s, k, value, err);
}

/* ADDR, or ADDR/PREFIX (a macvlan's or ipvlan's own subnet); "" clears */
static int parse_ip(struct cell_settings *s, const struct setting *k, const char *value,
		    struct cell_error *err)
{
	_cleanup_free_ char *addr = xstrndup(value, strcspn(value, "/"));
	const char *slash = strchr(value, '/');
	int want = streq(k->key, "ip") ? AF_INET : AF_INET6, family = 0;
	unsigned char bytes[16];
	long long prefix = 0;

	if (*value && (cell_ip_parse(addr, &family, bytes) < 0 || family != want ||
		       (slash && (cell_parse_long(slash + 1, &prefix) < 0 || prefix < 1 ||
				  prefix > (want == AF_INET ? 32 : 128)))))
		return cell_errx(err, EINVAL, "%s \"%s\": want an %s address (ADDR or ADDR/PREFIX)",
				 k->key, value, want == AF_INET ? "IPv4" : "IPv6");
	return parse_string(s, k, value, err);
}

static int parse_mac(struct cell_settings *s, const struct setting *k, const char *value,
		     struct cell_error *err)
{
	unsigned char mac[6];

	if (*value && cell_mac_parse(value, mac) < 0)
		return cell_errx(err, EINVAL,
				 "mac \"%s\": want a unicast MAC such as 02:00:00:00:00:01", value);
	return parse_string(s, k, value, err);
}

static int parse_publish(struct cell_settings *s, const struct setting *k, const char *value,
			 struct cell_error *err)
{
	_cleanup_strv_free_ char **list = NULL;
	struct cell_port p;
	int r;

	set_list(&list, value);
	for (size_t i = 0; list[i]; i++)
		if ((r = cell_port_parse(list[i], &p, err)) < 0)
			return r;
	return parse_list(s, k, value, err);
}

/* kept as written (an image's StopSignal too); the manager reads it with the
 * same parser when it stops the container */
static int parse_stop_signal(struct cell_settings *s, const struct setting *k, const char *value,
			     struct cell_error *err)
{
	int sig;

	if (*value && cell_signal_parse(value, &sig) < 0)
		return cell_err(err, EINVAL,
				"stop_signal \"%s\": unknown signal (want a name like SIGTERM or "
				"RTMIN+3, or a number)",
				value);
	return parse_string(s, k, value, err);
}

#define ROW(name, type, member) name, type, offsetof(struct cell_settings, member)

/* config's keys first, in the order `cell config NAME` lists them */
static const struct setting settings[] = {
	{ ROW("memory", SETTING_INT64, memory), parse_memory, NULL },
	{ ROW("cpus", SETTING_DOUBLE, cpus), parse_cpus, NULL },
	{ ROW("pids", SETTING_INT64, pids), parse_pids, NULL },
	{ ROW("hostname", SETTING_STRING, hostname), parse_hostname, NULL },
	{ ROW("env", SETTING_STRV, env), parse_list, "K=V,..." },
	{ ROW("mounts", SETTING_BINDS, binds), parse_mounts, "SRC:DST[:ro],..." },
	{ ROW("autostart", SETTING_BOOL, autostart), parse_bool, NULL },
	{ ROW("init", SETTING_STRING, init), parse_string, NULL },
	{ ROW("command", SETTING_STRV_OPT, command), parse_list, "a,b,..." },
	{ ROW("net", SETTING_STRING, net), parse_net,
	  "bridge[=NET]|none|host|macvlan=DEV|ipvlan=DEV|netns=PATH|container=NAME" },
	{ ROW("ip", SETTING_STRING, ip), parse_ip, NULL },
	{ ROW("ip6", SETTING_STRING, ip6), parse_ip, NULL },
	{ ROW("mac", SETTING_STRING, mac), parse_mac, NULL },
	{ ROW("publish", SETTING_STRV_OPT, publish), parse_publish, "[HOSTIP:]HOSTPORT:CTRPORT[/udp],..." },
	{ ROW("stop_signal", SETTING_STRING, stop_signal), parse_stop_signal, NULL },
	{ ROW("user", SETTING_STRING, user), parse_string, NULL },
	{ ROW("cwd", SETTING_STRING, cwd), parse_string, NULL },
	/* create's own; "name" is the directory's (written for readers, never loaded) */
	{ ROW("template", SETTING_STRING, template_name), NULL, NULL },
	{ ROW("storage", SETTING_STRING, storage), NULL, NULL },
	{ ROW("unprivileged", SETTING_BOOL, unprivileged), NULL, NULL },
	{ ROW("idmap_host", SETTING_IDS, idmap_host), NULL, NULL },
	{ ROW("idmap_size", SETTING_IDS, idmap_size), NULL, NULL },
	{ ROW("system", SETTING_BOOL, system), NULL, NULL },
	{ ROW("terminal", SETTING_BOOL, terminal), NULL, NULL },
	{ ROW("created", SETTING_STRING, created), NULL, NULL },
};

static const struct setting *config_key(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
		if (settings[i].parse && streq(settings[i].key, key))
			return &settings[i];
	return NULL;
}

const char *cell_settings_key(size_t i, const char **help)
{
	if (i >= ARRAY_SIZE(settings) || !settings[i].parse)
		return NULL;
	if (help)
		*help = settings[i].help;
	return settings[i].key;
}

/* ---- cell.json ---- */

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *binds_json(const struct cell_settings *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n_binds; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:b}", "source", s->binds[i].source,
						   "destination", s->binds[i].destination,
						   "readonly", s->binds[i].readonly));
	return a;
}

/* The value of one row, or NULL when cell.json leaves it out. */
static json_t *setting_json(const struct cell_settings *s, const struct setting *k)
{
	switch (k->type) {
	case SETTING_STRING: {
		const char *v = *AT_CONST(s, k, char *);
		return v ? json_string(v) : NULL;
	}
	case SETTING_STRV_OPT:
		if (!*AT_CONST(s, k, char **))
			return NULL;
		return strv_json(*AT_CONST(s, k, char **));
	case SETTING_STRV: return strv_json(*AT_CONST(s, k, char **));
	case SETTING_BOOL: return json_boolean(*AT_CONST(s, k, bool));
	case SETTING_INT64: return json_integer(*AT_CONST(s, k, int64_t));
	case SETTING_DOUBLE: return json_real(*AT_CONST(s, k, double));
	case SETTING_IDS:
		return s->unprivileged ? json_integer(*AT_CONST(s, k, uint32_t)) : NULL;
	case SETTING_BINDS: return binds_json(s);
	}
	return NULL;
}

static json_t *settings_json(const struct cell_settings *s)
{
	json_t *o = json_object();

	if (s->name)
		json_object_set_new(o, "name", json_string(s->name));
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		json_t *v = setting_json(s, &settings[i]);
		if (v)
			json_object_set_new(o, settings[i].key, v);
	}
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

/* A missing or mistyped key loads as unset: a cell.json of an older cell. */
static void load_setting(json_t *v, struct cell_settings *s, const struct setting *k)
{
	switch (k->type) {
	case SETTING_STRING: {
		const char *str = json_string_value(v);
		*AT(s, k, char *) = str ? xstrdup(str) : NULL;
		break;
	}
	case SETTING_STRV:
	case SETTING_STRV_OPT: *AT(s, k, char **) = json_strv(v); break;
	case SETTING_BOOL: *AT(s, k, bool) = json_is_true(v); break;
	case SETTING_INT64: *AT(s, k, int64_t) = json_integer_value(v); break;
	case SETTING_DOUBLE: *AT(s, k, double) = json_number_value(v); break;
	case SETTING_IDS: *AT(s, k, uint32_t) = (uint32_t)json_integer_value(v); break;
	case SETTING_BINDS: load_binds(v, s); break;
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
		int r = cell_store_exists(st, name, err);
		if (r < 0)
			return r;
		return cell_err(err, EINVAL, "%s: line %d, column %d: %s", path, je.line, je.column,
				je.text);
	}
	struct cell_settings *s = xzalloc(sizeof(*s));
	s->name = xstrdup(name);
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
		load_setting(json_object_get(o, settings[i].key), s, &settings[i]);
	json_decref(o);
	*out = s;
	return 0;
}

void cell_settings_free(struct cell_settings *s)
{
	if (!s)
		return;
	free(s->name);
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		const struct setting *k = &settings[i];
		if (k->type == SETTING_STRING)
			free(*AT(s, k, char *));
		else if (k->type == SETTING_STRV || k->type == SETTING_STRV_OPT)
			cell_strv_free(*AT(s, k, char **));
		else if (k->type == SETTING_BINDS)
			binds_free(s);
	}
	free(s);
}

const char *cell_settings_storage(const struct cell_settings *s)
{
	return s->storage ? s->storage : CELL_STORAGE_DEFAULT;
}

/* ---- cell config ---- */

int cell_settings_set(struct cell_settings *s, const char *key, const char *value,
		      struct cell_error *err)
{
	const struct setting *k = config_key(key);

	if (!k)
		return cell_err(err, EINVAL, "unknown setting \"%s\" (see cell config --help)", key);
	return k->parse(s, k, value, err);
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

static char *binds_text(const struct cell_settings *s)
{
	char *out = xstrdup("");

	for (size_t i = 0; i < s->n_binds; i++) {
		char *n = xasprintf("%s%s%s:%s%s", out, i ? "," : "", s->binds[i].source,
				    s->binds[i].destination, s->binds[i].readonly ? ":ro" : "");
		free(out);
		out = n;
	}
	return out;
}

/* What config prints, and takes back as the same value. */
char *cell_settings_get(const struct cell_settings *s, const char *key)
{
	const struct setting *k = config_key(key);

	if (!k)
		return NULL;
	switch (k->type) {
	case SETTING_STRING: {
		const char *v = *AT_CONST(s, k, char *);
		return xstrdup(v ? v : "");
	}
	case SETTING_STRV:
	case SETTING_STRV_OPT: return join(*AT_CONST(s, k, char **), ",");
	case SETTING_BOOL: return xstrdup(*AT_CONST(s, k, bool) ? "true" : "false");
	case SETTING_INT64: {
		int64_t v = *AT_CONST(s, k, int64_t);
		return v ? xasprintf("%lld", (long long)v) : xstrdup("none");
	}
	case SETTING_DOUBLE: {
		double v = *AT_CONST(s, k, double);
		return v > 0 ? xasprintf("%g", v) : xstrdup("none");
	}
	case SETTING_BINDS: return binds_text(s);
	case SETTING_IDS: break;
	}
	return NULL;
}
