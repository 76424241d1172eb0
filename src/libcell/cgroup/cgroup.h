/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * cgroup manager: one API, backends for v1 and v2 hosts; a hybrid host is the v1
 * backend with the cgroup2 "unified" hierarchy as its helper (cgroup-unified.c).
 *
 * Path rules (runc-compatible):
 *  - absolute cgroupsPath "/a/b": that path from the root of each hierarchy;
 *  - relative "a/b": below the runtime's own cgroup in each hierarchy
 *    (read from /proc/self/cgroup, per controller on v1);
 *  - systemd form "slice:prefix:name" (or --systemd-cgroup): "/<expanded
 *    slice>/<prefix>-<name>.scope"; "a-b.slice" expands to /a.slice/a-b.slice;
 *  - absent: relative "cellrun/<id>".
 *
 * With opts.systemd (--systemd-cgroup, cgroup/systemd.c) the cgroup is also a transient
 * systemd unit, as runc's: plan refuses unless systemd runs, join_rest starts the unit
 * with the new process, apply also sets the unit's properties, destroy stops it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../plan/host.h"
#include "../spec/spec.h"

enum cell_cgroup_mode { CELL_CGROUP_V1, CELL_CGROUP_V2, CELL_CGROUP_HYBRID };

struct cell_cgroup_opts {
	const char *fs_root;   /* "/sys/fs/cgroup"; a fake tree in unit tests */
	const char *self_cgroup_file; /* "/proc/self/cgroup"; a fake file in unit tests */
	bool systemd;          /* --systemd-cgroup: a systemd unit (the user's when rootless) */
	bool rootless;         /* skip (with a warning) what is not delegated */
	const char *id;        /* container id (for defaults / systemd names) */
};

struct cell_cgroup; /* opaque */

/* Detect the host's layout. */
int cell_cgroup_detect(const char *fs_root, enum cell_cgroup_mode *mode, struct cell_error *err);

/* Resolve cgroups_path (may be NULL) without making anything: cell_cgroup_path() is known
 * (to be recorded first), cell_cgroup_make() then creates it.  A cgroup that exists and
 * is frozen (or would be, below a frozen one) is refused, with EBUSY. */
int cell_cgroup_plan(const struct cell_cgroup_opts *o, const char *cgroups_path,
		     struct cell_cgroup **out, struct cell_error *err);
int cell_cgroup_make(struct cell_cgroup *cg, struct cell_error *err);
/* plan + make: resolve cgroups_path (may be NULL), create the cgroup in every hierarchy. Fails with
 * EEXIST-free semantics: an existing empty cgroup is reused. */
int cell_cgroup_create(const struct cell_cgroup_opts *o, const char *cgroups_path,
		       struct cell_cgroup **out, struct cell_error *err);
/* Re-open an existing cgroup from the path cell_cgroup_path() returned. */
int cell_cgroup_open(const struct cell_cgroup_opts *o, const char *saved_path,
		     struct cell_cgroup **out, struct cell_error *err);
/* A string to persist in state; feeds cell_cgroup_open().  "/a/b" when every hierarchy
 * uses the same path, else "name:/path" per hierarchy joined by ';' (v1 relative paths
 * differ per controller: "memory:/x/cellrun/id;cpu:/cellrun/id"). */
const char *cell_cgroup_path(const struct cell_cgroup *cg);
enum cell_cgroup_mode cell_cgroup_get_mode(const struct cell_cgroup *cg);

/* Move pid into the cgroup in every hierarchy. */
int cell_cgroup_enter(struct cell_cgroup *cg, pid_t pid, struct cell_error *err);

/*
 * A new process joins without the kernel's global attach lock (cgroup-join.c): a v1
 * hierarchy is joined by the child itself ("0" to "tasks"), the cgroup2 one by the clone
 * (CLONE_INTO_CGROUP); the rest by the parent through cgroup.procs.
 *   parent: cell_cgroup_join_open(); pid = cell_cgroup_join_clone();
 *   child:  cell_cgroup_join_self() first, while single-threaded (its children inherit);
 *   parent: cell_cgroup_join_rest(pid) before the child goes on; cell_cgroup_join_close().
 */
enum cell_join_how { CELL_JOIN_SKIP, CELL_JOIN_SELF, CELL_JOIN_CLONE, CELL_JOIN_PROCS };
struct cell_cgroup_join {
	enum cell_join_how *how; /* per hierarchy */
	int *task_fds;           /* CELL_JOIN_SELF: the open "tasks" file, else -1 */
	char **paths;            /* CELL_JOIN_SELF: its path, for messages */
	size_t n;
	int clone_fd;            /* the cgroup2 directory for CLONE_INTO_CGROUP, or -1 */
	bool rootless;           /* EACCES/EPERM/EROFS are warnings */
};
struct clone_args;
void cell_cgroup_join_init(struct cell_cgroup_join *j);
int cell_cgroup_join_open(struct cell_cgroup *cg, struct cell_cgroup_join *j,
			  struct cell_error *err);
/* clone3 into the cgroup2 cgroup when there is one; if that is refused, a plain clone3
 * (cell_sys_clone3) and cell_cgroup_join_rest() covers that hierarchy. */
pid_t cell_cgroup_join_clone(struct cell_cgroup_join *j, struct clone_args *ca);
/* In the child: join every "self" hierarchy, then close all of j's fds. */
int cell_cgroup_join_self(struct cell_cgroup_join *j, struct cell_error *err);
int cell_cgroup_join_rest(struct cell_cgroup *cg, const struct cell_cgroup_join *j, pid_t pid,
			  struct cell_error *err);
void cell_cgroup_join_close(struct cell_cgroup_join *j);
/* exec --cgroup "[CTRL[,CTRL...]:]PATH" (runc's): the new process joins PATH below the
 * container's cgroup, in the hierarchies of those controllers (all without); PATH must
 * stay below it and exist.  Call before cell_cgroup_join_open(). */
int cell_cgroup_descend(struct cell_cgroup *cg, const char *spec, struct cell_error *err);
/* Delegate the container's cgroup to the root of its user namespace (uid/gid on the
 * host), as an init inside needs to make its own groups (systemd's init.scope): the
 * directory and the files that move processes and (v2) enable controllers below it.
 * Limits stay root's.  Skipped and fake hierarchies are left alone. */
int cell_cgroup_chown(struct cell_cgroup *cg, uid_t uid, gid_t gid, struct cell_error *err);
/* Apply (create) or change (update) resource limits, devices included. */
int cell_cgroup_apply(struct cell_cgroup *cg, const struct cell_resources *r,
		      struct cell_error *err);
/* Freeze / thaw (v1 freezer.state, v2 cgroup.freeze); waits until it took. */
int cell_cgroup_freeze(struct cell_cgroup *cg, bool frozen, struct cell_error *err);
int cell_cgroup_is_frozen(struct cell_cgroup *cg, bool *frozen, struct cell_error *err);
/* All pids in the cgroup (recursively). Caller frees *pids. */
int cell_cgroup_pids(struct cell_cgroup *cg, pid_t **pids, size_t *n, struct cell_error *err);
/* Signal every process in the cgroup (cgroup.kill where the kernel has it for SIGKILL). */
int cell_cgroup_kill(struct cell_cgroup *cg, int sig, struct cell_error *err);
/* Remove the cgroup in every hierarchy (waits briefly for it to empty). */
int cell_cgroup_destroy(struct cell_cgroup *cg, struct cell_error *err);
void cell_cgroup_free(struct cell_cgroup *cg);
DEFINE_FREEP(struct cell_cgroup *, cell_cgroup_free)

/* struct cell_cgroup_mount (one hierarchy as the container mounts it) is in plan/host.h:
 * the plan is built from it. */
int cell_cgroup_mounts(struct cell_cgroup *cg, struct cell_cgroup_mount **out, size_t *n,
		       struct cell_error *err);
void cell_cgroup_mounts_free(struct cell_cgroup_mount *m, size_t n);

/*
 * Added helpers.
 *
 * The device rules every container gets after linux.resources.devices (as runc):
 * c *:* m, b *:* m, c 1:3/1:5/1:7/1:8/1:9/5:0/5:1/5:2/136:* rwm.  Caller frees *out.
 */
int cell_cgroup_default_device_rules(struct cell_device_rule **out, size_t *n);
/* The path-rule expansion alone (pure; also for tests and `cellrun state`): *out is
 * "/a/b" (absolute) or "a/b" with *relative set (below the runtime's own cgroup). */
int cell_cgroup_resolve_path(const struct cell_cgroup_opts *o, const char *cgroups_path,
			     char **out, bool *relative, struct cell_error *err);

/* Memory usage in bytes (for `ps`/`cell ls`); -ENODATA when not available. */
/* Usage in the shape of runc's events "data" (types.Stats); caller json_decref()s. */
typedef struct json_t json_t;
int cell_cgroup_stats(struct cell_cgroup *cg, json_t **out, struct cell_error *err);
/* How many times the OOM killer acted in the cgroup (a rising counter). */
int cell_cgroup_oom_count(struct cell_cgroup *cg, uint64_t *count, struct cell_error *err);
int cell_cgroup_memory_current(struct cell_cgroup *cg, unsigned long long *bytes,
			       struct cell_error *err);
