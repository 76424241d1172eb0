/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* The program and environment execve gets, looked up in the container's root. */
#include "../base/error.h"
#include "../spec/spec.h"

struct cell_exec_target {
	char *file; /* args[0] resolved through PATH of process.env */
	char **env; /* process.env, one entry a key (the last value), HOME added when it lacks one */
};

/* The value of `key` in a NULL-terminated KEY=VALUE list, or NULL. */
const char *cell_env_get(char *const *env, const char *key);

/* Call after pivot_root ("/" is the container's root).  Resolves
 * process.args[0] as runc does (exec.LookPath: a name with a slash as is,
 * relative to process.cwd; else each PATH entry), and checks that it is a
 * regular file the process's user may execute, on a mount without noexec.
 * Errors read as runc's: exec: "foo": executable file not found in $PATH.
 * HOME comes from the user's /etc/passwd entry, "/" without one. */
int cell_exec_target_prepare(const struct cell_process *p, struct cell_exec_target *out,
			     struct cell_error *err);
void cell_exec_target_release(struct cell_exec_target *t);
