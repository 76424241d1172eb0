/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which of a cgroup's hierarchies holds a controller: the lookups every tier shares
 * (the front's loops, both backends, the field tables of cgroup-fs.c).  On a hybrid
 * host the v1 mounts answer for their controllers and "unified" is the cgroup2 one.
 */
#include "cgroup-internal.h"

#include "../base/cleanup.h"
#include "../base/util.h"

struct cgroup_hier *cgroup_hier_for(struct cell_cgroup *cg, const char *c)
{
	for (size_t i = 0; i < cg->n_h; i++) {
		struct cgroup_hier *h = &cg->h[i];
		if (h->skipped)
			continue;
		if (h->v2 ? cg->mode == CELL_CGROUP_V2 : cell_strv_contains(h->controllers, c))
			return h;
	}
	return NULL;
}

struct cgroup_hier *cgroup_unified(struct cell_cgroup *cg)
{
	for (size_t i = 0; i < cg->n_h; i++)
		if (cg->h[i].v2 && !cg->h[i].skipped)
			return &cg->h[i];
	return NULL;
}

struct cgroup_hier *cgroup_procs_hier(struct cell_cgroup *cg)
{
	static const char *const prefer[] = {"pids", "freezer", "memory", "cpu", "devices"};

	for (size_t i = 0; i < ARRAY_SIZE(prefer); i++) {
		struct cgroup_hier *h = cgroup_hier_for(cg, prefer[i]);
		if (h)
			return h;
	}
	for (size_t i = 0; i < cg->n_h; i++)
		if (!cg->h[i].skipped)
			return &cg->h[i];
	return NULL;
}
