/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* User namespace id maps, written by the parent for the child's pid. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "../base/error.h"
#include "../spec/spec.h"

/* Render maps as the kernel's "inside outside count\n" lines (pure). */
char *cell_idmap_format(const struct cell_idmap *m, size_t n);
/* Parse the kernel/newuidmap text format back (pure; used for validation and fuzzing). */
int cell_idmap_parse(const char *text, struct cell_idmap **out, size_t *n, struct cell_error *err);
/* Write uid_map/gid_map of pid.  As root: directly.  Unprivileged: a single
 * mapping of our own id directly (setgroups "deny" first), anything else
 * through newuidmap/newgidmap (checked against /etc/subuid, /etc/subgid). */
int cell_userns_write_maps(pid_t pid, const struct cell_linux *l, struct cell_error *err);
/* The host id of container id k; false when no mapping covers it (pure). */
bool cell_idmap_to_host(const struct cell_idmap *m, size_t n, uint32_t k, uint32_t *host);
/* Whether setgroups(2) is allowed in the container's userns after the maps. */
bool cell_userns_setgroups_allowed(const struct cell_linux *l);
