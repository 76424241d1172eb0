/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table-driven JSON reader behind cell_spec_parse() (parse-internal.h):
 * document loading, JSON paths in messages, the field engine and its
 * mirror image spec_release().
 */
#include "parse-internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

/* ---- integers above INT64_MAX ---- */

/*
 * jansson rejects integers that do not fit json_int_t ("too big integer"),
 * yet uint64 fields legitimately hold them: RLIM_INFINITY is written as
 * 18446744073709551615 by runc, podman and friends.  Before parsing, every
 * such integer in a value position is replaced by a string of the *same
 * length*, "\u0001" and the index of the value kept aside.  Lengths and
 * newlines do not change, so jansson's line/column for any other error stay
 * right; the getters below turn the marker back into the number, and refuse
 * it where a string is expected.
 */
#define BIG_MARK '\x01'
#define SCAN_MAX_DEPTH 4096 /* jansson itself stops at 2048 */

struct big_scan {
	const char *s;
	size_t len;
	char *copy; /* NULL until the first replacement */
	uint64_t *big;
	size_t n_big;
	size_t depth;
	char prev; /* last significant character outside strings */
	char open[SCAN_MAX_DEPTH];
};

/* 19 or 20 digits, no leading zero, above INT64_MAX, at most UINT64_MAX. */
static bool big_integer(const char *t, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if ((n != 19 && n != 20) || t[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(t[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return v > (uint64_t)INT64_MAX;
}

/* Where a value may stand.  Deeper than SCAN_MAX_DEPTH nothing is tracked
 * (jansson gives up long before). */
static bool value_position(const struct big_scan *b)
{
	if (b->depth > SCAN_MAX_DEPTH)
		return false;
	if (b->prev == ':' || b->prev == '[')
		return true;
	return b->prev == ',' && b->depth > 0 && b->open[b->depth - 1] == '[';
}

static void big_replace(struct big_scan *b, size_t at, size_t n, uint64_t v)
{
	char mark[32];

	if (!b->copy) {
		b->copy = xmalloc(b->len);
		memcpy(b->copy, b->s, b->len);
	}
	/* 2 quotes + 6 for \u0001 + n - 8 digits == n characters */
	(void)snprintf(mark, sizeof(mark), "\"\\u0001%0*zu\"", (int)(n - 8), b->n_big);
	memcpy(b->copy + at, mark, n);
	b->big = xrealloc(b->big, (b->n_big + 1) * sizeof(*b->big));
	b->big[b->n_big++] = v;
}

/* A number token at i: replace it when it is a big integer; returns its end. */
static size_t scan_number(struct big_scan *b, size_t i)
{
	size_t end = i;
	bool delimited;
	uint64_t v;

	while (end < b->len && b->s[end] && strchr("0123456789.eE+-", b->s[end]))
		end++;
	delimited = end == b->len || (b->s[end] && strchr(" \t\r\n,]}", b->s[end]));
	if (value_position(b) && delimited && big_integer(b->s + i, end - i, &v))
		big_replace(b, i, end - i, v);
	return end;
}

static void scan_structural(struct big_scan *b, char ch)
{
	if ((ch == '{' || ch == '[') && b->depth < SCAN_MAX_DEPTH)
		b->open[b->depth] = ch;
	if (ch == '{' || ch == '[')
		b->depth++;
	else if ((ch == '}' || ch == ']') && b->depth > 0)
		b->depth--;
	b->prev = ch;
}

static void scan_big_integers(struct big_scan *b)
{
	bool in_string = false;

	for (size_t i = 0; i < b->len; i++) {
		char ch = b->s[i];
		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_string = false;
		} else if (ch == '"') {
			in_string = true;
			b->prev = ch;
		} else if (isdigit((unsigned char)ch)) {
			i = scan_number(b, i) - 1;
			b->prev = '0';
		} else if (!isspace((unsigned char)ch)) {
			scan_structural(b, ch);
		}
	}
}

static bool big_lookup(const struct spec_doc *d, const char *s, uint64_t *out)
{
	unsigned long long idx;
	char *end = NULL;

	if (!d || s[0] != BIG_MARK || !isdigit((unsigned char)s[1]))
		return false;
	errno = 0;
	idx = strtoull(s + 1, &end, 10);
	if (errno || *end || idx >= d->n_big)
		return false;
	*out = d->big[idx];
	return true;
}

int spec_doc_load(const char *text, size_t len, struct spec_doc *doc, struct cell_error *err)
{
	_cleanup_free_ struct big_scan *b = xzalloc(sizeof(*b));
	json_error_t je;

	b->s = text;
	b->len = len;
	scan_big_integers(b);
	doc->big = b->big;
	doc->n_big = b->n_big;
	doc->root = json_loadb(b->copy ? b->copy : text, len, 0, &je);
	free(b->copy);
	if (!doc->root)
		return cell_errx(err, EINVAL, "line %d, column %d: %s", je.line, je.column,
				 je.text);
	if (!json_is_object(doc->root))
		return cell_errx(err, EINVAL, "expected a JSON object at the top level");
	return 0;
}

void spec_doc_done(struct spec_doc *doc)
{
	json_decref(doc->root);
	free(doc->big);
	*doc = (struct spec_doc){ 0 };
}

/* ---- paths and messages ---- */

const char *spec_quote(char *buf, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s && o + 5 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			buf[o++] = '\\';
		buf[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (*s) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static bool plain_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_')
			return false;
	return true;
}

static size_t jp_put(const struct jp *p, char *buf, size_t len, size_t o)
{
	const char *dot;
	char q[80];
	int n;

	if (!p)
		return o;
	o = jp_put(p->up, buf, len, o);
	if (o >= len)
		return o;
	dot = p->up ? "." : "";
	if (!p->key)
		n = snprintf(buf + o, len - o, "[%zu]", p->idx);
	else if (plain_key(p->key))
		n = snprintf(buf + o, len - o, "%s%s", dot, p->key);
	else
		n = snprintf(buf + o, len - o, "%s\"%s\"", dot, spec_quote(q, sizeof(q), p->key));
	return n < 0 ? len : o + (size_t)n;
}

void jp_format(const struct jp *p, char *buf, size_t len)
{
	buf[0] = '\0';
	(void)jp_put(p, buf, len, 0);
}

int(jp_fail)(struct pctx *c, const struct jp *at, const char *fmt, ...) /* (): not the macro */
{
	char path[256], msg[CELL_ERROR_MSG];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jp_format(at, path, sizeof(path));
	if (!path[0])
		return cell_errx(c->err, EINVAL, "%s", msg);
	return cell_errx(c->err, EINVAL, "%s: %s", path, msg);
}

/* ---- typed getters ---- */

json_t *jfield(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

const char *jstring(const struct pctx *c, json_t *v)
{
	const char *s = json_string_value(v);
	uint64_t ignored;

	if (!s || big_lookup(c->doc, s, &ignored))
		return NULL;
	return s;
}

/* An integer: `neg` with its value in `i`, else its magnitude in `u`. */
struct jint {
	bool neg;
	int64_t i;
	uint64_t u;
};

static int get_int(struct pctx *c, const struct jp *at, json_t *v, struct jint *out)
{
	const char *s = json_string_value(v);

	if (json_is_integer(v)) {
		out->i = json_integer_value(v);
		out->neg = out->i < 0;
		out->u = out->neg ? 0 : (uint64_t)out->i;
		return 0;
	}
	if (s && big_lookup(c->doc, s, &out->u)) {
		out->neg = false; /* above INT64_MAX: only `u` holds it */
		return 0;
	}
	return jp_fail(c, at, "expected an integer");
}

static void int_limits(const struct spec_field *f, int64_t *min, uint64_t *max)
{
	unsigned bits = 8 * (unsigned)f->size;

	if (f->ranged) {
		*min = f->min;
		*max = (uint64_t)f->max;
	} else if (f->type == F_SINT) {
		*min = bits >= 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1));
		*max = bits >= 64 ? (uint64_t)INT64_MAX : (UINT64_C(1) << (bits - 1)) - 1;
	} else {
		*min = 0;
		*max = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
	}
}

static void store_int(void *p, size_t size, uint64_t bits)
{
	uint8_t b8 = (uint8_t)bits;
	uint16_t b16 = (uint16_t)bits;
	uint32_t b32 = (uint32_t)bits;

	if (size == 1)
		memcpy(p, &b8, 1);
	else if (size == 2)
		memcpy(p, &b16, 2);
	else if (size == 4)
		memcpy(p, &b32, 4);
	else
		memcpy(p, &bits, 8);
}

static int set_int(struct pctx *c, const struct jp *at, json_t *v, const struct spec_field *f,
		   void *p)
{
	struct jint n;
	int64_t min;
	uint64_t max;
	bool ok;
	int r = get_int(c, at, v, &n);

	if (r < 0)
		return r;
	int_limits(f, &min, &max);
	if (n.neg)
		ok = n.i >= min;
	else
		ok = n.u <= max && (min <= 0 || n.u >= (uint64_t)min);
	if (!ok)
		return jp_fail(c, at, "must be between %" PRId64 " and %" PRIu64, min, max);
	store_int(p, f->size, n.neg ? (uint64_t)n.i : n.u);
	return 0;
}

static int set_bool(struct pctx *c, const struct jp *at, json_t *v, void *p)
{
	if (!json_is_boolean(v))
		return jp_fail(c, at, "expected a boolean");
	*(bool *)p = json_is_true(v);
	return 0;
}

/* .names and .check on one string (F_STR value or F_STRV element). */
static int str_allowed(struct pctx *c, const struct jp *at, const struct spec_field *f,
		       const char *s)
{
	const char *why;
	char q[80];

	if (f->names && !spec_name_find(f->names, s))
		return jp_fail(c, at, "unknown %s \"%s\"", f->what, spec_quote(q, sizeof(q), s));
	if (f->check && (why = f->check(s)))
		return jp_fail(c, at, "%s", why);
	return 0;
}

static int set_str(struct pctx *c, const struct jp *at, json_t *v, const struct spec_field *f,
		   void *p)
{
	const char *s = jstring(c, v);
	int r;

	if (!s)
		return jp_fail(c, at, "expected a string");
	if (f->nonempty && !*s)
		return jp_fail(c, at, "must not be empty");
	if ((r = str_allowed(c, at, f, s)) < 0)
		return r;
	*(char **)p = xstrdup(s);
	return 0;
}

static const char nonempty_strv[] = "must be a non-empty array of strings";

static int set_strv(struct pctx *c, const struct jp *at, json_t *v, const struct spec_field *f,
		    void *p)
{
	size_t i;
	json_t *x;
	char **strv;
	int r;

	if (!json_is_array(v) || (f->nonempty && json_array_size(v) == 0))
		return jp_fail(c, at, "%s",
			       f->nonempty ? nonempty_strv : "expected an array of strings");
	strv = xcalloc(json_array_size(v) + 1, sizeof(char *));
	*(char ***)p = strv; /* filled in place: spec_release() frees a partial one */
	json_array_foreach(v, i, x) {
		const char *s = jstring(c, x);
		if (!s && f->nonempty)
			return jp_fail(c, at, "%s", nonempty_strv);
		if (!s)
			return jp_fail(c, JP_IDX(at, i), "expected a string");
		if ((r = str_allowed(c, JP_IDX(at, i), f, s)) < 0)
			return r;
		strv[i] = xstrdup(s);
	}
	return 0;
}

static int name_value(struct pctx *c, const struct jp *at, json_t *v, const struct spec_field *f,
		      int64_t *out)
{
	const struct cell_name_value *nv;
	const char *s = jstring(c, v);
	char q[80];

	if (!s)
		return jp_fail(c, at, "expected a string");
	if (!(nv = spec_name_find(f->names, s)))
		return jp_fail(c, at, "unknown %s \"%s\"", f->what, spec_quote(q, sizeof(q), s));
	*out = nv->value;
	return 0;
}

static int set_enum(struct pctx *c, const struct jp *at, json_t *v, const struct spec_field *f,
		    void *p)
{
	int64_t value;
	int r = name_value(c, at, v, f, &value);

	if (r < 0)
		return r;
	store_int(p, f->size, (uint64_t)value);
	return 0;
}

static int set_flags(struct pctx *c, const struct jp *at, json_t *v, const struct spec_field *f,
		     void *p)
{
	uint64_t flags = 0;
	int64_t value;
	size_t i;
	json_t *x;
	int r;

	if (!json_is_array(v))
		return jp_fail(c, at, "expected an array of strings");
	json_array_foreach(v, i, x) {
		if ((r = name_value(c, JP_IDX(at, i), x, f, &value)) < 0)
			return r;
		flags |= (uint64_t)value;
	}
	store_int(p, f->size, flags);
	return 0;
}

static int set_map(struct pctx *c, const struct jp *at, json_t *v, const struct spec_field *f,
		   void *p, size_t *count)
{
	struct cell_kv *kv;
	const char *key, *why;
	json_t *x;

	if (!json_is_object(v))
		return jp_fail(c, at, "expected an object");
	if (json_object_size(v) == 0)
		return 0;
	kv = xcalloc(json_object_size(v), sizeof(*kv));
	*(struct cell_kv **)p = kv;
	json_object_foreach(v, key, x) {
		const char *value = jstring(c, x);
		if (f->check && (why = f->check(key)))
			return jp_fail(c, JP_KEY(at, key), "%s", why);
		if (!value)
			return jp_fail(c, JP_KEY(at, key), "expected a string");
		kv[*count] = (struct cell_kv){ xstrdup(key), xstrdup(value) };
		(*count)++;
	}
	return 0;
}

static int parse_field(struct pctx *c, const struct jp *at, json_t *v, const struct spec_field *f,
		       char *base)
{
	char *p = base + f->off;
	char path[256];

	switch (f->type) {
	case F_BOOL:
		return set_bool(c, at, v, p);
	case F_STR:
		return set_str(c, at, v, f, p);
	case F_STRV:
		return set_strv(c, at, v, f, p);
	case F_SINT:
	case F_UINT:
		return set_int(c, at, v, f, p);
	case F_ENUM:
		return set_enum(c, at, v, f, p);
	case F_FLAGS:
		return set_flags(c, at, v, f, p);
	case F_OBJ:
		return spec_parse_object(c, at, v, f->sub, p);
	case F_ARRAY:
		return spec_parse_array(c, at, v, f->sub, (void **)p, (size_t *)(base + f->count));
	case F_MAP:
		return set_map(c, at, v, f, p, (size_t *)(base + f->count));
	case F_FN:
		return f->fn(c, at, v, p);
	case F_IGNORE:
		jp_format(at, path, sizeof(path));
		cell_debug("config: %s is not supported, ignored", path);
		return 0;
	}
	return 0;
}

int spec_parse_value(struct pctx *c, const struct jp *at, json_t *v, const struct spec_field *f,
		     void *base)
{
	return parse_field(c, at, v, f, base);
}

int spec_parse_object(struct pctx *c, const struct jp *at, json_t *v, const struct spec_obj *d,
		      void *base)
{
	if (!json_is_object(v))
		return jp_fail(c, at, "expected an object");
	for (const struct spec_field *f = d->fields; f->key; f++) {
		const struct jp *here = JP_KEY(at, f->key);
		json_t *x = jfield(v, f->key);
		int r;

		if (!x && f->required && f->type == F_STRV && f->nonempty)
			return jp_fail(c, here, "%s", nonempty_strv);
		if (!x && f->required)
			return jp_fail(c, here, "is required");
		if (!x)
			continue;
		if ((r = parse_field(c, here, x, f, base)) < 0)
			return r;
		if (f->set)
			*((bool *)((char *)base + f->set - 1)) = true;
	}
	return d->post ? d->post(c, at, v, base) : 0;
}

int spec_parse_array(struct pctx *c, const struct jp *at, json_t *v, const struct spec_obj *d,
		     void **arr, size_t *n)
{
	size_t i;
	json_t *x;
	char *a;

	if (!json_is_array(v))
		return jp_fail(c, at, "expected an array");
	if (json_array_size(v) == 0)
		return 0;
	a = xcalloc(json_array_size(v), d->size);
	*arr = a;
	*n = json_array_size(v);
	json_array_foreach(v, i, x) {
		int r = spec_parse_object(c, JP_IDX(at, i), x, d, a + i * d->size);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- release ---- */

static void release_array(const struct spec_obj *d, char *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		spec_release(d, a + i * d->size);
	free(a);
}

static void release_map(struct cell_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void spec_release(const struct spec_obj *d, void *base)
{
	for (const struct spec_field *f = d->fields; f->key; f++) {
		char *p = (char *)base + f->off;
		size_t *count = (size_t *)((char *)base + f->count);

		if (f->type == F_STR)
			free(*(char **)p);
		else if (f->type == F_STRV)
			cell_strv_free(*(char ***)p);
		else if (f->type == F_OBJ)
			spec_release(f->sub, p);
		else if (f->type == F_ARRAY)
			release_array(f->sub, *(char **)p, *count);
		else if (f->type == F_MAP)
			release_map(*(struct cell_kv **)p, *count);
		else if (f->type == F_FN && f->release)
			f->release(p);
	}
}

/* ---- shared string checks ---- */

const char *spec_check_abs_path(const char *s)
{
	return s[0] == '/' ? NULL : "must be an absolute path";
}

const char *spec_check_nonempty(const char *s)
{
	return *s ? NULL : "must not be empty";
}

/* One "N" or "N-M" (N <= M) of a CPU list; returns the end or NULL. */
static const char *cpulist_item(const char *p)
{
	unsigned long a, b;
	char *end = NULL;

	if (!isdigit((unsigned char)*p))
		return NULL;
	errno = 0;
	a = b = strtoul(p, &end, 10);
	if (*end == '-') {
		if (!isdigit((unsigned char)end[1]))
			return NULL;
		b = strtoul(end + 1, &end, 10);
	}
	return errno || a > b ? NULL : end;
}

/* "0-3,7" (the kernel's cpuset list format); "" means unset. */
const char *spec_check_cpulist(const char *s)
{
	static const char bad[] = "invalid CPU list (expected e.g. \"0-3,7\")";

	if (!*s)
		return NULL;
	for (const char *p = s;; p++) {
		if (!(p = cpulist_item(p)))
			return bad;
		if (*p == '\0')
			return NULL;
		if (*p != ',')
			return bad;
	}
}
