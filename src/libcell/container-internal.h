/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* Shared between container*.c; not part of the library's API. */
#include "container.h"
#include "cgroup/cgroup.h"

/* Open (optionally mkdir) <root>/<id> and take its lock. */
int cell_state_dir_open(const struct cell_runtime *rt, const char *id, bool create, int *dirfd,
			struct cell_error *err);
/* The cgroup options of the runtime rt for container id (a struct initializer). */
#define CELL_CGROUP_OPTS(rt, id_, systemd_)                                                   \
	.fs_root = "/sys/fs/cgroup", .self_cgroup_file = "/proc/self/cgroup",                  \
	.systemd = (systemd_), .rootless = (rt)->rootless, .id = (id_)
/* Create or reopen the container's cgroup. */
/* Reap pid, passing every other signal we take (all blocked by the caller) on to it,
 * as runc does; *status is its exit code, 128 + the signal that killed it. */
int cell_forward_until_exit(pid_t pid, int *status);
int cell_cgroup_of(const struct cell_runtime *rt, const char *id, bool systemd, const char *path,
		   bool create, struct cell_cgroup **out, struct cell_error *err);
/* What the caller already holds about a container (`run` made it): spares reading the
 * config and scanning the cgroup layout again.  Fields may be NULL. */
struct cell_known {
	pid_t pid; /* used only while the state still names this init */
	struct cell_cgroup *cg;
	const struct cell_spec *spec;
};
/* Foreground `run`: proxy the terminal, forward signals, reap, delete (unless keep). */
int cell_wait_foreground(const struct cell_runtime *rt, const char *id, pid_t pid, int master,
			 const struct cell_known *known, bool keep, int *status,
			 struct cell_error *err);
/* Create dirfd/name (O_EXCL, 0600) with text. */
int cell_write_file_at_new(int dirfd, const char *name, const char *text);

/* Compile (or fetch from the cache) the config's seccomp filter. */
struct cell_seccomp_filter;
int cell_seccomp_for(const struct cell_spec *spec, struct cell_seccomp_filter **out,
		     struct cell_error *err);
/* Fds 3..3+n-1 must be open and inheritable (passed by the caller). */
int cell_preserved_fds_check(int n, struct cell_error *err);
