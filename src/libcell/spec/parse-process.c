/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process object (runtime-spec config.md "Process" and its Linux
 * fields).  It is also the whole document of `exec -p process.json`, where
 * error paths start at the object itself ("args: ...").
 */
#include "parse-internal.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/cleanup.h"
#include "../base/util.h"

#define P struct cell_process

static const struct spec_field console_fields[] = {
	{ "height", F_UINT, M(P, console_height), .required = true },
	{ "width", F_UINT, M(P, console_width), .required = true },
	FIELD_END,
};
static const struct spec_obj console_obj = { console_fields, 0, NULL };

/* ---- user ---- */

static int parse_gids(struct pctx *c, const struct jp *at, json_t *v, void *member)
{
	static const struct spec_field gid = { "gid", F_UINT, .size = sizeof(uint32_t) };
	struct cell_user *u = member;
	size_t i;
	json_t *x;
	int r;

	if (!json_is_array(v))
		return jp_fail(c, at, "expected an array of integers");
	if (json_array_size(v) == 0)
		return 0;
	u->additional_gids = xcalloc(json_array_size(v), sizeof(uint32_t));
	u->n_additional_gids = json_array_size(v);
	json_array_foreach(v, i, x)
		if ((r = spec_parse_value(c, JP_IDX(at, i), x, &gid, &u->additional_gids[i])) < 0)
			return r;
	return 0;
}

static void release_gids(void *member)
{
	free(((struct cell_user *)member)->additional_gids);
}

#define U struct cell_user
static const struct spec_field user_fields[] = {
	{ "uid", F_UINT, M(U, uid) },
	{ "gid", F_UINT, M(U, gid) },
	{ "umask", F_UINT, M(U, umask), SET(U, umask_set) },
	{ "additionalGids", F_FN, .fn = parse_gids, .release = release_gids },
	FIELD_END,
};
static const struct spec_obj user_obj = { user_fields, 0, NULL };

/* ---- capabilities ---- */

static int parse_capset(struct pctx *c, const struct jp *at, json_t *v, void *member)
{
	uint64_t *mask = member;
	const char *name;
	size_t i;
	json_t *x;
	int cap;

	if (!json_is_array(v))
		return jp_fail(c, at, "expected an array of strings");
	json_array_foreach(v, i, x) {
		if (!(name = jstring(c, x)))
			return jp_fail(c, JP_IDX(at, i), "expected a string");
		/* an unknown name is left out, and named by caps_post */
		if ((cap = cell_cap_from_name(name)) >= 0)
			*mask |= UINT64_C(1) << cap;
	}
	return 0;
}

#define CAPS struct cell_caps
static const struct spec_field caps_fields[] = {
	{ "bounding", F_FN, M(CAPS, bounding), .fn = parse_capset },
	{ "effective", F_FN, M(CAPS, effective), .fn = parse_capset },
	{ "inheritable", F_FN, M(CAPS, inheritable), .fn = parse_capset },
	{ "permitted", F_FN, M(CAPS, permitted), .fn = parse_capset },
	{ "ambient", F_FN, M(CAPS, ambient), .fn = parse_capset },
	FIELD_END,
};
/* Each unknown name once into caps->unknown (quoted: it reaches a terminal). */
static void unknown_add(struct cell_caps *caps, const char *name)
{
	char q[48];
	size_t used = strlen(caps->unknown);

	spec_quote(q, sizeof(q), name);
	for (const char *at = strstr(caps->unknown, q); at; at = strstr(at + 1, q))
		if ((at == caps->unknown || at[-1] == ' ') && (at[strlen(q)] == ' ' || !at[strlen(q)]))
			return;
	(void)snprintf(caps->unknown + used, sizeof(caps->unknown) - used, "%s%s",
		       used ? " " : "", q);
}

static int caps_post(struct pctx *c, const struct jp *at, json_t *obj, void *base)
{
	struct cell_caps *caps = base;
	const char *key;
	json_t *set, *x;
	size_t i;

	(void)at;
	json_object_foreach(obj, key, set) {
		if (!json_is_array(set))
			continue;
		json_array_foreach(set, i, x) {
			const char *name = jstring(c, x);
			if (name && cell_cap_from_name(name) < 0)
				unknown_add(caps, name);
		}
	}
	return 0;
}

static const struct spec_obj caps_obj = { caps_fields, 0, caps_post };

/* ---- rlimits ---- */

static int rlimit_post(struct pctx *c, const struct jp *at, json_t *obj, void *base)
{
	const struct cell_rlimit *rl = base;

	/* setrlimit(2) refuses soft > hard with EINVAL; say which entry. */
	if (rl->soft > rl->hard)
		return jp_fail(c, JP_KEY(at, "soft"), "%s soft limit %llu must not exceed hard (%llu)",
			       rl->type ? rl->type : "rlimit", (unsigned long long)rl->soft,
			       (unsigned long long)rl->hard);
	return 0;
}

#define RL struct cell_rlimit
/* "type" twice: once resolved to RLIMIT_*, once kept as written. */
static const struct spec_field rlimit_fields[] = {
	{ "type", F_ENUM, M(RL, resource), .required = true, .names = spec_rlimit_names,
	  .what = "rlimit" },
	{ "type", F_STR, M(RL, type) },
	{ "soft", F_UINT, M(RL, soft), .required = true },
	{ "hard", F_UINT, M(RL, hard), .required = true },
	FIELD_END,
};
static const struct spec_obj rlimit_obj = { rlimit_fields, sizeof(RL), rlimit_post };

/* ---- scheduler, I/O priority, CPU affinity ---- */

static int sched_post(struct pctx *c, const struct jp *at, json_t *obj, void *base)
{
	const struct cell_scheduler *s = base;

	if (s->priority && s->policy != SCHED_FIFO && s->policy != SCHED_RR)
		return jp_fail(c, JP_KEY(at, "priority"),
			       "only applies to SCHED_FIFO and SCHED_RR");
	if ((s->runtime || s->deadline || s->period) && s->policy != SCHED_DEADLINE)
		return jp_fail(c, at, "runtime, deadline and period only apply to SCHED_DEADLINE");
	return 0;
}

#define SC struct cell_scheduler
static const struct spec_field sched_fields[] = {
	{ "policy", F_ENUM, M(SC, policy), .required = true, .names = spec_sched_policy_names,
	  .what = "scheduler policy" },
	{ "nice", F_SINT, M(SC, nice), RANGE(-20, 19) },
	{ "priority", F_SINT, M(SC, priority), RANGE(0, 99) },
	{ "flags", F_FLAGS, M(SC, flags), .names = spec_sched_flag_names,
	  .what = "scheduler flag" },
	{ "runtime", F_UINT, M(SC, runtime) },
	{ "deadline", F_UINT, M(SC, deadline) },
	{ "period", F_UINT, M(SC, period) },
	FIELD_END,
};
static const struct spec_obj sched_obj = { sched_fields, 0, sched_post };

#define IO struct cell_io_priority
static const struct spec_field ioprio_fields[] = {
	{ "class", F_ENUM, M(IO, klass), .required = true, .names = spec_ioprio_class_names,
	  .what = "I/O priority class" },
	{ "priority", F_SINT, M(IO, priority), RANGE(0, 7) },
	FIELD_END,
};
static const struct spec_obj ioprio_obj = { ioprio_fields, 0, NULL };

static const struct spec_field affinity_fields[] = {
	{ "initial", F_STR, M(P, exec_cpu_affinity_initial), .check = spec_check_cpulist },
	{ "final", F_STR, M(P, exec_cpu_affinity_final), .check = spec_check_cpulist },
	FIELD_END,
};
static const struct spec_obj affinity_obj = { affinity_fields, 0, NULL };

/* ---- process ---- */

/* config.md: "Duplicate entries [of rlimits type] MUST generate an error". */
static int process_post(struct pctx *c, const struct jp *at, json_t *obj, void *base)
{
	const struct cell_process *p = base;
	char q[80];

	for (size_t i = 1; i < p->n_rlimits; i++)
		for (size_t j = 0; j < i; j++)
			if (p->rlimits[j].resource == p->rlimits[i].resource)
				return jp_fail(c, JP_KEY(JP_IDX(JP_KEY(at, "rlimits"), i), "type"),
					       "duplicate rlimit \"%s\"",
					       spec_quote(q, sizeof(q), p->rlimits[i].type));
	return 0;
}

/* commandLine (Windows) and user.username are ignored like any unknown key. */
static const struct spec_field process_fields[] = {
	{ "terminal", F_BOOL, M(P, terminal) },
	{ "consoleSize", F_OBJ, SET(P, console_size_set), .sub = &console_obj },
	{ "cwd", F_STR, M(P, cwd), .required = true, .check = spec_check_abs_path },
	{ "env", F_STRV, M(P, env) },
	{ "args", F_STRV, M(P, args), .required = true, .nonempty = true },
	{ "user", F_OBJ, M(P, user), .sub = &user_obj },
	{ "capabilities", F_OBJ, M(P, caps), SET(P, caps.set), .sub = &caps_obj },
	{ "rlimits", F_ARRAY, ARR(P, rlimits, n_rlimits), .sub = &rlimit_obj },
	{ "noNewPrivileges", F_BOOL, M(P, no_new_privileges) },
	{ "oomScoreAdj", F_SINT, M(P, oom_score_adj), SET(P, oom_score_adj_set),
	  RANGE(-1000, 1000) },
	{ "apparmorProfile", F_STR, M(P, apparmor_profile) },
	{ "selinuxLabel", F_STR, M(P, selinux_label) },
	{ "scheduler", F_OBJ, M(P, scheduler), SET(P, scheduler.set), .sub = &sched_obj },
	{ "ioPriority", F_OBJ, M(P, io_priority), SET(P, io_priority.set), .sub = &ioprio_obj },
	{ "execCPUAffinity", F_OBJ, .sub = &affinity_obj },
	FIELD_END,
};
const struct spec_obj spec_process_obj = { process_fields, sizeof(P), process_post };

void cell_process_free(struct cell_process *p)
{
	if (!p)
		return;
	spec_release(&spec_process_obj, p);
	free(p);
}

int cell_process_parse(const char *json, size_t len, struct cell_process **out,
		       struct cell_error *err)
{
	_cleanup_(spec_doc_done) struct spec_doc doc = { 0 };
	_cleanup_(cell_process_freep) struct cell_process *p = NULL;
	struct pctx c = { err, &doc };
	int r;

	if ((r = spec_doc_load(json, len, &doc, err)) < 0)
		return r;
	p = xzalloc(sizeof(*p));
	if ((r = spec_parse_object(&c, NULL, doc.root, &spec_process_obj, p)) < 0)
		return r;
	*out = TAKE_PTR(p);
	return 0;
}
