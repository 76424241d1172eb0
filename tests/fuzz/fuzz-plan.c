/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: config.json text -> cell_spec_parse() -> cell_plan_build()
 * for a few host shapes (plain, a user namespace on a v1 host, a v2 host, an
 * unprivileged runtime),
 * then cell_plan_dump().
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/plan/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *aliases[] = {"cpu", "cpuacct", NULL};
static const struct cell_cgroup_mount v1_host[] = {
    {.name = "memory", .fstype = "cgroup", .options = "memory", .host_path = "/cg/memory"},
    {.name = "cpu,cpuacct",
     .fstype = "cgroup",
     .options = "cpu,cpuacct",
     .host_path = "/cg/cpu",
     .aliases = aliases},
};
static const struct cell_cgroup_mount v2_host = {
    .name = "", .fstype = "cgroup2", .options = "", .host_path = "/cg"};

static const struct cell_host_facts hosts[] = {
    {.rootfs = "/b/rootfs", .bundle = "/b"},
    {.rootfs = "/b/rootfs",
     .bundle = "/b",
     .in_userns = true,
     .no_pivot = true,
     .cgroup_mounts = v1_host,
     .n_cgroup_mounts = 2},
    {.rootfs = "/b/rootfs", .bundle = "/b", .cgroup_mounts = &v2_host, .n_cgroup_mounts = 1},
    {.rootfs = "/b/rootfs", .bundle = "/b", .in_userns = true, .ids = {.euid = 1000, .egid = 1000}},
};

/* Clean: absolute, no empty, "." or ".." component, no trailing slash (but "/"). */
static void assert_clean(const char *p)
{
	_cleanup_free_ char *again = cell_path_clean(p);

	assert(p[0] == '/');
	assert(streq(again, p));
}

static void assert_mount(const struct cell_mount_op *op, const struct cell_host_facts *f)
{
	assert_clean(op->dest);
	assert(!streq(op->dest, "/"));
	assert(!(op->ro_later && (op->p.flags & MS_RDONLY)));
	assert(op->keep_locked == f->in_userns);
	if (op->how == CELL_MOP_BIND)
		assert(op->source && op->source[0] == '/');
	else
		assert(op->type && *op->type && op->source);
	if (op->how == CELL_MOP_CGROUP_V1 || op->how == CELL_MOP_CGROUP_V2) {
		assert(op->p.kind == CELL_MOUNT_CGROUP && op->n_cgroups == f->n_cgroup_mounts);
		for (size_t i = 0; i < op->n_cgroups; i++)
			assert(cell_path_under(op->cgroups[i].path, op->dest));
	} else {
		assert(op->n_cgroups == 0);
	}
}

/* Maps are written only for a new user namespace that has them, as the spec gives them; only
 * an unprivileged runtime asks a helper or denies setgroups. */
static void assert_idmap(const struct cell_idmap_op *op, const struct cell_spec *s,
			 const struct cell_host_facts *f)
{
	const struct cell_namespace *user = &s->linux.ns[CELL_NS_USER];

	if (!user->enabled || user->path || op->n == 0) {
		assert(op->how == CELL_IDMAP_NONE && !op->text && !op->deny_setgroups);
		return;
	}
	_cleanup_free_ char *again = cell_idmap_format(op->map, op->n);
	assert(op->how != CELL_IDMAP_NONE && streq(op->text, again));
	assert(f->ids.euid != 0 || op->how == CELL_IDMAP_WRITE);
	assert(!op->deny_setgroups ||
	       (f->ids.euid != 0 && op->how == CELL_IDMAP_WRITE && streq(op->file, "gid_map")));
}

/* What the plan promises the child: every path clean and inside the rootfs. */
static void assert_plan(const struct cell_plan *p, const struct cell_host_facts *f)
{
	for (size_t i = 0; i < p->n_mounts; i++) {
		assert(p->mounts[i].index == i);
		assert_mount(&p->mounts[i], f);
	}
	for (size_t i = 0; i < p->n_devices; i++) {
		assert_clean(p->devices[i].path);
		assert(!streq(p->devices[i].path, "/"));
	}
	for (size_t i = 0; p->readonly_paths && p->readonly_paths[i]; i++)
		assert_clean(p->readonly_paths[i]);
	for (size_t i = 0; p->masked_paths && p->masked_paths[i]; i++)
		assert_clean(p->masked_paths[i]);
	assert(p->dev_setup != CELL_DEV_HOST || (p->n_devices == 0 && p->n_links == 0));
	assert_idmap(&p->userns.uid, p->spec, f);
	assert_idmap(&p->userns.gid, p->spec, f);
}

static void plan_on(const struct cell_spec *spec, const struct cell_host_facts *f)
{
	struct cell_plan plan = {.n_mounts = SIZE_MAX}; /* must stay untouched on error */
	struct cell_error err = {0};

	if (cell_plan_build(spec, f, &plan, &err) < 0) {
		assert(err.msg[0] != '\0');
		assert(plan.n_mounts == SIZE_MAX && plan.mounts == NULL);
		return;
	}
	assert_plan(&plan, f);
	free(cell_plan_dump(&plan));
	cell_plan_free(&plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cell_error err = {0};
	struct cell_spec *spec = NULL;

	if (cell_spec_parse((const char *)data, size, &spec, &err) < 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(hosts); i++)
		plan_on(spec, &hosts[i]);
	cell_spec_free(spec);
	return 0;
}
