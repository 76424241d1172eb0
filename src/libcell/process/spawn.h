/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Making the container's init process.  Everything the child needs is
 * prepared and validated in the parent first (struct cell_spawn); the
 * child only executes it and reports over the sync socket.
 */
#include <stdbool.h>
#include <sys/types.h>
#include "../base/error.h"
#include "../spec/spec.h"
#include "../spec/state.h"
#include "../cgroup/cgroup.h"
#include "../linux/rootfs.h"
#include "../linux/seccomp.h"

struct cell_spawn {
	const char *id;
	struct cell_plan plan;             /* built by the parent: its spec, rootfs, bundle, every mount */
	struct cell_rootfs_ctx rootfs_ctx; /* .plan = &plan */
	struct cell_seccomp_filter *seccomp;
	int ns_fds[CELL_NS_COUNT]; /* namespaces joined by path, else -1 */
	int clone_flags;           /* CLONE_NEW* to create */
	bool intermediate;         /* join/unshare in a first child, then fork init */
	struct cell_cgroup_join join; /* set up by cell_spawn_init */
	int sync_fd;               /* the child's end */
	int state_dirfd;           /* locked by the parent: the child must not keep it */
	int exec_listen_fd;        /* start connects here; -1: the start byte comes on sync_fd */
	int console_fd;            /* console socket (connected) or -1 */
	int listener_fd;           /* seccomp notify agent (connected) or -1 */
	int preserve_fds;
	bool no_new_keyring;
	bool send_mount_sources;    /* bind sources opened by the runtime (mount-sources.c) */
};

/* Clone the child (and, when needed, the intermediate).  Returns the host
 * pid of the container init, already in the cgroup `cg` (may be NULL), after
 * the GO step.  On failure nothing is left running. */
int cell_spawn_init(struct cell_spawn *s, struct cell_cgroup *cg, int parent_sync,
		    pid_t *out_pid, struct cell_error *err);

/* Build the OCI state JSON for hooks run in the child or parent. */
char *cell_spawn_state_json(const struct cell_spawn *s, pid_t pid, enum cell_status status);

/* exec the process args as looked up (lookup.h). */
struct cell_exec_target;
int cell_exec_process(const struct cell_process *p, const struct cell_exec_target *t,
		      struct cell_error *err);
/* Apply everything from cwd to seccomp, run start_hooks (the init's startContainer
 * hooks, or NULL) under all of it, then exec (the common tail of init and exec). */
struct cell_hook_list;
int cell_process_finish(const struct cell_process *p, const struct cell_linux *l,
			struct cell_seccomp_filter *sc, int listener_fd, const char *state_json,
			bool setgroups_allowed, const struct cell_hook_list *start_hooks,
			struct cell_error *err);
