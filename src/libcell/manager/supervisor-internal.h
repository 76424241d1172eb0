/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <sys/ioctl.h>
#include "manager.h"

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
void cell_sd_notify(const char *text);
/* The signal the container's init takes as "power off" (stop-signal.c). */
int cell_stop_signal_of(const struct cell_store *st, const char *name);
/* Storage glue (storage-glue.c): template → rootfs on the chosen backend, then the
 * new root's identity (system containers) and default stop signal. */
int cell_manager_make_rootfs(const struct cell_store *st, struct cell_create_req *req,
			     const char *dir, struct cell_error *err);
int cell_manager_remove_rootfs(const struct cell_store *st, const struct cell_settings *s,
			       const char *dir, struct cell_error *err);
int cell_manager_mount(const struct cell_store *st, const struct cell_settings *s,
		       struct cell_error *err);
/* The template's cache key: a directory name under <root>/templates, which changes
 * with the template and the extra packages. */
char *cell_manager_template_key(const char *template_name, char **packages);
struct cell_image_config;
/* An OCI template's config into settings the user left unset (command, cwd, user,
 * stop signal); its env is appended. */
void cell_manager_apply_image_config(struct cell_settings *s,
				     const struct cell_image_config *cfg);
unsigned long long cell_manager_memory(const struct cell_runtime *rt, const struct cell_state *st);
/* The container's directory: 0700, owned by its root's host id (store.c). */
int cell_manager_protect_dir(const char *dir, const struct cell_settings *s,
			     struct cell_error *err);
/* Processes in the container's cgroup (cleanup.c), 0 when it has none or no cgroup. */
size_t cell_manager_cgroup_procs(const struct cell_store *st, const char *name);
/* With no live supervisor: kill everything in the container's cgroup and remove it, the
 * runtime state, the storage mount and <run>/<name> (cleanup.c).  Idempotent. */
int cell_manager_cleanup(const struct cell_store *st, const char *name, struct cell_error *err);
/* The storage backend of name: its cell.json's, else guessed from the store dir. */
char *cell_manager_storage_kind(const struct cell_store *st, const char *name);
