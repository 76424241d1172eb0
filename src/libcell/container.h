/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Container lifecycle (runtime-spec runtime.md): the one execution path
 * that cellrun and cell share.  Every operation locks <root>/<id>.
 */
#include <stdbool.h>
#include <sys/types.h>
#include "base/error.h"
#include "spec/spec.h"
#include "spec/state.h"

struct cell_runtime {
	const char *root;    /* state directory, e.g. /run/cellrun */
	bool systemd_cgroup; /* --systemd-cgroup */
	bool rootless;       /* resolved from --rootless */
};

struct cell_create_opts {
	const char *id;
	const char *bundle;
	const char *console_socket;
	const char *pid_file;
	bool no_pivot;
	bool no_new_keyring;
	int preserve_fds;
	/* socket activation: fds 3 .. 3+listen_fds-1 came with LISTEN_FDS; they
	 * pass before the preserve_fds ones, and the process is told so
	 * (LISTEN_FDS=n, LISTEN_PID=1), as runc does */
	int listen_fds;
	/* `run --keep`: a foreground run leaves the stopped container (its state,
	 * cgroup and mounts) to `delete` (runc) */
	bool keep;
};

int cell_container_create(const struct cell_runtime *rt, const struct cell_create_opts *o,
			  struct cell_error *err);
int cell_container_start(const struct cell_runtime *rt, const char *id, struct cell_error *err);
/* create + start; with detach=false waits, forwards signals, deletes and
 * returns the exit status (128+signal when killed) in *status. */
int cell_container_run(const struct cell_runtime *rt, const struct cell_create_opts *o,
		       bool detach, int *status, struct cell_error *err);
/* Current state; the caller frees *out. */
int cell_container_state(const struct cell_runtime *rt, const char *id, struct cell_state **out,
			 enum cell_status *status, struct cell_error *err);
int cell_container_kill(const struct cell_runtime *rt, const char *id, int sig, bool all,
			struct cell_error *err);
int cell_container_delete(const struct cell_runtime *rt, const char *id, bool force,
			  struct cell_error *err);
/* Ids present under root (sorted). */
int cell_container_list(const struct cell_runtime *rt, char ***ids, struct cell_error *err);
int cell_container_pids(const struct cell_runtime *rt, const char *id, pid_t **pids, size_t *n,
			struct cell_error *err);
int cell_container_pause(const struct cell_runtime *rt, const char *id, bool pause,
			 struct cell_error *err);
int cell_container_update(const struct cell_runtime *rt, const char *id,
			  const struct cell_resources *r, struct cell_error *err);

struct cell_exec_opts {
	const char *console_socket;
	const char *pid_file;
	bool detach;
	bool ignore_paused; /* exec into a paused container: the process starts on resume */
	char **cgroups;     /* exec --cgroup "[CTRL,...:]PATH": sub-cgroups to join */
	int preserve_fds;
};
/* Run `p` inside the container; foreground: *status is its exit status. */
int cell_container_exec(const struct cell_runtime *rt, const char *id,
			const struct cell_process *p, const struct cell_exec_opts *o, int *status,
			struct cell_error *err);
/* Memory the container's cgroup uses, in bytes. */
int cell_container_memory(const struct cell_runtime *rt, const struct cell_state *st,
			  unsigned long long *bytes, struct cell_error *err);
/* Resource usage as runc's events "data" (the caller json_decref()s); ESRCH when the
 * container is stopped. */
typedef struct json_t json_t;
int cell_container_stats(const struct cell_runtime *rt, const char *id, json_t **out,
			 struct cell_error *err);
/* The cgroup's OOM-kill counter, and whether the container still runs. */
int cell_container_oom_count(const struct cell_runtime *rt, const char *id, uint64_t *count,
			     bool *running, struct cell_error *err);
/* The container's saved config (copy taken at create). */
int cell_container_config(const struct cell_runtime *rt, const char *id, struct cell_spec **out,
			  struct cell_error *err);
/* A valid id: 1-1024 chars of [A-Za-z0-9_+.-], not "." or "..". */
bool cell_id_valid(const char *id);
