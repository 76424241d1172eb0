/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* User namespace id maps, written by the parent for the child's pid. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "../base/error.h"
#include "../plan/plan.h"
#include "../spec/spec.h"

/* (cell_idmap_format, and how the maps are written, are plan/'s: plan.h) */
/* Parse the kernel/newuidmap text format back (pure; used for validation and fuzzing). */
int cell_idmap_parse(const char *text, struct cell_idmap **out, size_t *n, struct cell_error *err);
/* Write uid_map/gid_map of pid as p says (cell_idmap_plan_build). */
int cell_userns_write_maps(pid_t pid, const struct cell_idmap_plan *p, struct cell_error *err);
/* Who we are, for cell_idmap_plan_build. */
void cell_userns_facts(struct cell_id_facts *f);
/* The host id of container id k; false when no mapping covers it (pure). */
bool cell_idmap_to_host(const struct cell_idmap *m, size_t n, uint32_t k, uint32_t *host);
/* Whether setgroups(2) is allowed in the container's userns after the maps (for us, now). */
bool cell_userns_setgroups_allowed(const struct cell_linux *l);
