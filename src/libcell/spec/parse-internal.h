/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The config.json reader (internal to spec/).
 *
 * Every JSON object of the spec is described by a table of fields: JSON key,
 * kind, where the value goes in the C struct, and its constraints.  One
 * engine (parse-json.c) walks the tables, so type checks, range checks and
 * error messages are written once, and spec_release() frees exactly what
 * the same tables filled.  What a table cannot say goes into a `post` hook
 * (rules across fields of one object) or a F_FN field (odd shapes).
 *
 * Errors name the field by its JSON path, built lazily from a chain of
 * `struct jp` on the stack: "linux.resources.memory.limit: expected an
 * integer".  As runc does, unknown keys are ignored and `null` counts as
 * absent.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/error.h"
#include "names.h"
#include "spec.h"

/* A JSON document with integers above INT64_MAX kept aside (jansson stores
 * json_int_t = long long; rlimits use 2^64-1 for RLIM_INFINITY). */
struct spec_doc {
	json_t *root;
	uint64_t *big;
	size_t n_big;
};

/* Parse `len` bytes; the top level must be an object.  On a syntax error the
 * message is "line L, column C: <jansson's text>". */
int spec_doc_load(const char *text, size_t len, struct spec_doc *doc, struct cell_error *err);
void spec_doc_done(struct spec_doc *doc);

/* One step of a JSON path: an object key, or (key == NULL) an array index. */
struct jp {
	const struct jp *up;
	const char *key;
	size_t idx;
};
#define JP_KEY(p, k) (&(const struct jp){ .up = (p), .key = (k) })
#define JP_IDX(p, i) (&(const struct jp){ .up = (p), .idx = (i) })

struct pctx {
	struct cell_error *err;
	const struct spec_doc *doc;
};

/* "a.b[2].\"x.y\"" into buf (always terminated). */
void jp_format(const struct jp *p, char *buf, size_t len);
/* Record "<path>: <message>" (no errno); returns -EINVAL. */
int jp_fail(struct pctx *c, const struct jp *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#ifdef __clang_analyzer__
#define jp_fail(...) CELL_ANALYZER_NEGATIVE((jp_fail)(__VA_ARGS__)) /* see error.h */
#endif
/* A printable, bounded copy of a user string for messages. */
const char *spec_quote(char *buf, size_t len, const char *s);

/* obj[key], with JSON null treated as absent. */
json_t *jfield(json_t *obj, const char *key);
/* The string value of v, or NULL when v is not a string. */
const char *jstring(const struct pctx *c, json_t *v);

/* Validates a string: NULL when fine, else the reason. */
typedef const char *(*spec_check_fn)(const char *s);
/* A field with its own parser; `member` is base + off. */
typedef int (*spec_field_fn)(struct pctx *c, const struct jp *at, json_t *v, void *member);
typedef void (*spec_release_fn)(void *member);

enum spec_ftype {
	F_BOOL,   /* bool */
	F_STR,    /* char *; .names restricts the values, .check validates */
	F_STRV,   /* char ** (NULL-terminated); .check / .names apply to each element */
	F_SINT,   /* signed integer of .size bytes; .ranged narrows the type's range */
	F_UINT,   /* unsigned integer of .size bytes */
	F_ENUM,   /* string looked up in .names, value stored as an integer of .size bytes */
	F_FLAGS,  /* array of strings looked up in .names, values ORed */
	F_OBJ,    /* nested object described by .sub, stored at base + off */
	F_ARRAY,  /* array of objects (.sub, .sub->size each): pointer at off, count at .count */
	F_MAP,    /* object of string values: struct cell_kv * at off, count at .count */
	F_FN,     /* .fn parses, .release frees */
	F_IGNORE, /* accepted and ignored, with a debug line */
};

struct spec_obj;

struct spec_field {
	const char *key;
	enum spec_ftype type;
	size_t off, size;
	size_t set;   /* offsetof(a bool "present" flag) + 1; 0: none */
	size_t count; /* F_ARRAY, F_MAP: offsetof(size_t) */
	bool required;
	bool nonempty; /* F_STR: not ""; F_STRV: at least one element */
	bool ranged;
	int64_t min, max;
	const struct cell_name_value *names;
	const char *what; /* noun for "unknown <what> \"x\"" */
	spec_check_fn check;
	const struct spec_obj *sub;
	spec_field_fn fn;
	spec_release_fn release;
};

struct spec_obj {
	const struct spec_field *fields; /* ends with FIELD_END */
	size_t size;                     /* element size, for F_ARRAY */
	/* Rules across the fields of one object, run after them. */
	int (*post)(struct pctx *c, const struct jp *at, json_t *obj, void *base);
};

#define FIELD_END { .key = NULL }
#define M(T, m) .off = offsetof(T, m), .size = sizeof(((T *)0)->m)
#define SET(T, m) .set = offsetof(T, m) + 1
#define OPT(T, m) M(T, m.v), SET(T, m.set) /* struct cell_u64 / cell_i64 */
#define ARR(T, m, n) .off = offsetof(T, m), .count = offsetof(T, n)
#define RANGE(a, b) .ranged = true, .min = (a), .max = (b)

int spec_parse_object(struct pctx *c, const struct jp *at, json_t *v, const struct spec_obj *d,
		      void *base);
/* One field's value (v present), stored at base + f->off. */
int spec_parse_value(struct pctx *c, const struct jp *at, json_t *v, const struct spec_field *f,
		     void *base);
/* An F_ARRAY by hand: *arr and *n are set before the elements are parsed,
 * so spec_release() frees a half-parsed array too. */
int spec_parse_array(struct pctx *c, const struct jp *at, json_t *v, const struct spec_obj *d,
		     void **arr, size_t *n);
/* Free every member the table describes (base itself stays). */
void spec_release(const struct spec_obj *d, void *base);

/* String checks shared by the tables. */
const char *spec_check_abs_path(const char *s);
const char *spec_check_nonempty(const char *s);
const char *spec_check_cpulist(const char *s);

/* The tables, one per section. */
extern const struct spec_obj spec_process_obj; /* struct cell_process */
extern const struct spec_obj spec_linux_obj;   /* struct cell_linux */
extern const struct spec_obj spec_resources_obj;
extern const struct spec_obj spec_seccomp_obj;
extern const struct spec_obj spec_idmap_obj; /* struct cell_idmap */

/* Rules across sections (validate.c). */
int spec_validate(struct pctx *c, const struct cell_spec *s);

/* JSON output helpers (default.c). */
json_t *spec_json_strv(const char *const *v);
/* Pretty-printed (2 spaces) with a final newline; consumes root.  Aborts
 * on allocation failure like the x* allocators. */
char *spec_json_dump(json_t *root);
