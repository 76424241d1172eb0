/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Runtime state of one container, kept in <root>/<id>/state.json (written
 * atomically).  The OCI state (runtime-spec runtime.md#state) is derived
 * from it; the status is computed, not trusted: a pid is only "ours" while
 * its start time (/proc/<pid>/stat field 22) matches the recorded one.
 */
#include <stdbool.h>
#include <sys/types.h>
#include "../base/error.h"
#include "spec.h"

enum cell_status { CELL_CREATING, CELL_CREATED, CELL_RUNNING, CELL_PAUSED, CELL_STOPPED };

struct cell_state {
	char *id;
	pid_t pid;
	unsigned long long start_time; /* clock ticks since boot */
	char *bundle;
	char *rootfs;
	enum cell_status status; /* as recorded: created or running */
	char *created;           /* RFC 3339 UTC */
	char *cgroup_path;       /* cell_cgroup_path() */
	bool systemd_cgroup;
	bool rootless;
	uid_t owner;
	struct cell_kv *annotations;
	size_t n_annotations;
};

/* The state, rewritten as it changes; and the minimal record (id, bundle, cgroup,
 * runtime flags) written once before the container's cgroup is made, so that
 * `delete --force` finds what the id owns whatever became of state.json. */
#define CELL_STATE_FILE "state.json"
#define CELL_RECORD_FILE "cgroup.json"

const char *cell_status_name(enum cell_status s);
int cell_state_save(int dirfd, const struct cell_state *st, struct cell_error *err);
int cell_state_load(int dirfd, struct cell_state **out, struct cell_error *err);
int cell_state_save_as(int dirfd, const char *name, const struct cell_state *st,
		       struct cell_error *err);
int cell_state_load_from(int dirfd, const char *name, struct cell_state **out,
			 struct cell_error *err);
void cell_state_free(struct cell_state *st);
DEFINE_FREEP(struct cell_state *, cell_state_free)
/* OCI state JSON (with rootfs/created/owner extras like runc). status given explicitly;
 * the pid shown is st->pid, 0 while creating and once stopped. */
char *cell_state_oci_json(const struct cell_state *st, enum cell_status status, bool pretty);
/* The same showing `pid`: what a hook sees of a process the runtime has just made,
 * which has a pid while still "creating" (runtime.md#state). */
char *cell_state_oci_json_pid(const struct cell_state *st, enum cell_status status, pid_t pid,
			      bool pretty);
/* Start time of a live pid, or -ESRCH when gone or a zombie. */
int cell_pid_start_time(pid_t pid, unsigned long long *out);
/* true when st->pid still is the container's process. */
bool cell_state_pid_alive(const struct cell_state *st);
/* RFC 3339 "now" */
char *cell_now_rfc3339(void);
