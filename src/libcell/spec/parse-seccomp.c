/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * linux.seccomp (runtime-spec config-linux.md "Seccomp").  Names are only
 * checked against the spec's lists here; whether this host's libseccomp
 * knows a syscall or an architecture is for linux/seccomp.c to say.
 */
#include "parse-internal.h"

#include "../base/util.h"

#define SA struct cell_seccomp_arg
static const struct spec_field arg_fields[] = {
	{ "index", F_UINT, M(SA, index), .required = true, RANGE(0, 5) },
	{ "value", F_UINT, M(SA, value), .required = true },
	{ "valueTwo", F_UINT, M(SA, value_two) },
	{ "op", F_ENUM, M(SA, op), .required = true, .names = spec_seccomp_op_names,
	  .what = "seccomp operator" },
	FIELD_END,
};
static const struct spec_obj arg_obj = { arg_fields, sizeof(SA), NULL };

/* "When the action doesn't support an errno, the runtime MUST print an
 * error and fail." */
static int errno_ret_allowed(struct pctx *c, const struct jp *at, enum cell_seccomp_action a)
{
	if (a == CELL_SCMP_ERRNO || a == CELL_SCMP_TRACE)
		return 0;
	return jp_fail(c, at, "only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE");
}

static int syscall_post(struct pctx *c, const struct jp *at, json_t *obj, void *base)
{
	const struct cell_seccomp_syscall *s = base;

	return s->errno_ret_set ? errno_ret_allowed(c, JP_KEY(at, "errnoRet"), s->action) : 0;
}

#define SS struct cell_seccomp_syscall
static const struct spec_field syscall_fields[] = {
	{ "names", F_STRV, M(SS, names), .required = true, .nonempty = true,
	  .check = spec_check_nonempty },
	{ "action", F_ENUM, M(SS, action), .required = true, .names = spec_seccomp_action_names,
	  .what = "seccomp action" },
	{ "errnoRet", F_UINT, M(SS, errno_ret), SET(SS, errno_ret_set) },
	{ "args", F_ARRAY, ARR(SS, args, n_args), .sub = &arg_obj },
	FIELD_END,
};
static const struct spec_obj syscall_obj = { syscall_fields, sizeof(SS), syscall_post };

/* SCMP_ACT_NOTIFY hands a listener fd to an agent at listenerPath; without
 * one nobody would answer and the syscall would hang. */
static int notify_listener(struct pctx *c, const struct jp *at, const struct cell_seccomp *sc)
{
	if (sc->default_action == CELL_SCMP_NOTIFY)
		return jp_fail(c, JP_KEY(at, "defaultAction"),
			       "SCMP_ACT_NOTIFY cannot be the default action");
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		const struct cell_seccomp_syscall *s = &sc->syscalls[i];
		if (s->action != CELL_SCMP_NOTIFY)
			continue;
		if (!sc->listener_path)
			return jp_fail(c, JP_KEY(JP_IDX(JP_KEY(at, "syscalls"), i), "action"),
				       "SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath");
		/* the runtime writes to its sync socket after the filter is loaded: a
		 * notified write would wait for an agent that has no fd yet (runc's rule) */
		if (cell_strv_contains(s->names, "write"))
			return jp_fail(c, JP_KEY(JP_IDX(JP_KEY(at, "syscalls"), i), "names"),
				       "SCMP_ACT_NOTIFY cannot be used for the write syscall");
	}
	return 0;
}

static int seccomp_post(struct pctx *c, const struct jp *at, json_t *obj, void *base)
{
	struct cell_seccomp *sc = base;
	int r;

	free(sc->canonical);
	sc->canonical = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);

	if (sc->default_errno_ret_set &&
	    (r = errno_ret_allowed(c, JP_KEY(at, "defaultErrnoRet"), sc->default_action)) < 0)
		return r;
	/* "listenerMetadata ... MUST NOT be set if listenerPath is not set." */
	if (sc->listener_metadata && !sc->listener_path)
		return jp_fail(c, JP_KEY(at, "listenerMetadata"), "requires listenerPath");
	return notify_listener(c, at, sc);
}

#define S struct cell_seccomp
static const struct spec_field seccomp_fields[] = {
	{ "defaultAction", F_ENUM, M(S, default_action), .required = true,
	  .names = spec_seccomp_action_names, .what = "seccomp action" },
	{ "defaultErrnoRet", F_UINT, M(S, default_errno_ret), SET(S, default_errno_ret_set) },
	{ "architectures", F_STRV, M(S, architectures), .names = spec_seccomp_arch_names,
	  .what = "seccomp architecture" },
	{ "flags", F_STRV, M(S, flags), .names = spec_seccomp_flag_names,
	  .what = "seccomp flag" },
	{ "listenerPath", F_STR, M(S, listener_path), .nonempty = true },
	{ "listenerMetadata", F_STR, M(S, listener_metadata) },
	{ "syscalls", F_ARRAY, ARR(S, syscalls, n_syscalls), .sub = &syscall_obj },
	FIELD_END,
};
const struct spec_obj spec_seccomp_obj = { seccomp_fields, sizeof(S), seccomp_post };
