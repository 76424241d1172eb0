/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * OCI hooks (runtime-spec config.md#posix-platform-hooks): run with the
 * container state on stdin, the hook's args and env, and a timeout after
 * which the hook is killed and counts as failed.
 */
#include "../base/error.h"
#include "../spec/spec.h"

/* Run one hook.  exec_fd >= 0: execute that pre-opened file (hooks that run
 * in the container namespace but resolve in the runtime namespace).  A hook
 * without "env" gets inherit_env, as runc's hooks inherit the environment of
 * the process that runs them (NULL: an empty one). */
int cell_hook_run(const struct cell_hook *h, int exec_fd, char *const *inherit_env,
		  const char *state_json, struct cell_error *err);
/* Run a list in order; stops at the first failure, error names kind and index. */
int cell_hooks_run(const struct cell_hook_list *l, enum cell_hook_kind kind, const int *exec_fds,
		   char *const *inherit_env, const char *state_json, struct cell_error *err);
/* poststart/poststop (the runtime's environment is inherited): a failure is a warning and the later hooks still run
 * (runtime.md lifecycle steps 7 and 9).  Returns how many failed. */
int cell_hooks_run_all(const struct cell_hook_list *l, enum cell_hook_kind kind,
		       const char *state_json);
