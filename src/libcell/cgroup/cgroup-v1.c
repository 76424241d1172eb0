/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroup v1 backend (Documentation/admin-guide/cgroup-v1/), also used on hybrid hosts:
 * there the unified (cgroup2) hierarchy is one more directory the container lives in,
 * and it takes what v1 lacks (hugetlb on some hosts, linux.resources.unified), written
 * through the unified-hierarchy helper (cgroup-unified.c), never the v2 backend.
 */
#include "cgroup-internal.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

#define OFF(f) offsetof(struct cell_resources, f)
#define FREEZER_POLL_MS 5
#define FREEZER_POLLS 1000 /* 5 s */
#define FREEZER_REWRITE 20 /* write the state again every 100 ms */

/* ---- directories ---- */

/* A new cpuset cgroup starts with empty cpus/mems and refuses tasks (ENOSPC) until they
 * are set; copy the parent's, as cgroup.clone_children would.  Only an empty value is
 * written. */
static int cpuset_copy(const struct cgroup_hier *h, const char *dir, const char *file,
		       struct cell_error *err)
{
	_cleanup_free_ char *cur = NULL, *parent = NULL, *val = NULL;
	const char *slash = strrchr(dir, '/');

	if (cg_read_at(dir, file, &cur) == 0 && cur[0])
		return 0;
	parent = xstrndup(dir, (size_t)(slash - dir));
	if (cg_read_at(parent, file, &val) < 0 || !val[0])
		return 0;
	return cg_write_at(h, dir, file, val, err);
}

static int v1_init_dir(const struct cgroup_hier *h, const char *dir, struct cell_error *err)
{
	int r;

	if (!cell_strv_contains(h->controllers, "cpuset"))
		return 0;
	r = cpuset_copy(h, dir, "cpuset.cpus", err);
	return r < 0 ? r : cpuset_copy(h, dir, "cpuset.mems", err);
}

/* ---- limits ---- */

static const struct cg_field v1_fields[] = {
    {"cpu", "cpu.cfs_burst_us", OFF(cpu.burst), CG_U64},
    {"cpu", "cpu.rt_period_us", OFF(cpu.realtime_period), CG_U64},
    {"cpu", "cpu.rt_runtime_us", OFF(cpu.realtime_runtime), CG_I64},
    {"cpu", "cpu.idle", OFF(cpu.idle), CG_I64},
    {"cpuset", "cpuset.cpus", OFF(cpu.cpus), CG_STR},
    {"cpuset", "cpuset.mems", OFF(cpu.mems), CG_STR},
    {"memory", "memory.soft_limit_in_bytes", OFF(memory.reservation), CG_I64},
    {"pids", "pids.max", OFF(pids.limit), CG_PIDS},
    {"net_cls", "net_cls.classid", OFF(network.class_id), CG_U64},
};

static int write_i64(struct cgroup_hier *h, const char *file, int64_t v, struct cell_error *err)
{
	return cg_writef(h, file, err, "%lld", (long long)v);
}

/* The kernel clamps cpu.shares to [2, 262144]; say so rather than run with another value. */
static int set_shares(struct cgroup_hier *h, uint64_t shares, struct cell_error *err)
{
	uint64_t got = shares;
	int ret = cg_writef(h, "cpu.shares", err, "%llu", (unsigned long long)shares);

	/* rootless: a refused write was only a warning, the old value reads back */
	if (ret < 0 || h->fake || h->rootless || cg_read_u64(h, "cpu.shares", &got) < 0 ||
	    got == shares)
		return ret;
	return cell_err(err, ERANGE, "cpu.shares %llu: the %s allowed cpu-shares is %llu",
			(unsigned long long)shares, shares > got ? "maximum" : "minimum",
			(unsigned long long)got);
}

/* A new period below the current one can make old_quota/new_period exceed the parent's
 * limit (EINVAL); when a quota comes too, the period is written again after it. */
static int set_cfs(struct cgroup_hier *h, const struct cell_resources *r, struct cell_error *err)
{
	bool period_later = false;
	int ret = 0;

	if (r->cpu.period.set) {
		struct cell_error e = {0};
		ret = cg_writef(h, "cpu.cfs_period_us", &e, "%llu",
				(unsigned long long)r->cpu.period.v);
		period_later = ret == -EINVAL && r->cpu.quota.set;
		if (ret < 0 && !period_later) {
			*err = e;
			return ret;
		}
	}
	if (r->cpu.quota.set)
		ret = write_i64(h, "cpu.cfs_quota_us", r->cpu.quota.v, err);
	if (ret == 0 && period_later)
		ret = cg_writef(h, "cpu.cfs_period_us", err, "%llu",
				(unsigned long long)r->cpu.period.v);
	return ret;
}

static int set_cpu(struct cell_cgroup *cg, const struct cell_resources *r, struct cell_error *err)
{
	struct cgroup_hier *h;
	int ret = 0;

	if (!r->cpu.shares.set && !r->cpu.period.set && !r->cpu.quota.set)
		return 0;
	if (!(h = cgroup_hier_for(cg, "cpu")))
		return cg_unsupported(cg->rootless, err, "controller cpu");
	if (r->cpu.shares.set)
		ret = set_shares(h, r->cpu.shares.v, err);
	return ret < 0 ? ret : set_cfs(h, r, err);
}

static int set_fields(struct cell_cgroup *cg, const struct cell_resources *r,
		      struct cell_error *err)
{
	int ret = set_cpu(cg, r, err);

	return ret < 0 ? ret : cg_apply_fields(cg, v1_fields, ARRAY_SIZE(v1_fields), r, err);
}

bool cgroup_v1_swap_first(int64_t new_swap, uint64_t cur_memsw)
{
	/* The kernel keeps limit <= memsw at every step: raise memsw before the limit,
	 * lower the limit before memsw. */
	return new_swap < 0 || (uint64_t)new_swap >= cur_memsw;
}

/* The memsw value to write; *set false when there is none. */
static int memsw_value(struct cgroup_hier *h, const struct cell_resources *r, bool *set, int64_t *v,
		       struct cell_error *err)
{
	const struct cell_i64 *lim = &r->memory.limit, *swap = &r->memory.swap;
	bool has = cg_has(h, "memory.memsw.limit_in_bytes");

	*set = swap->set && swap->v != 0; /* 0 is "unset" for runc compatibility */
	*v = swap->v;
	if (!*set && lim->set && lim->v < 0) { /* lifting the limit needs memsw lifted too */
		*set = has;
		*v = -1;
	}
	if (*set && *v >= 0 && lim->set && lim->v >= 0 && *v < lim->v)
		return cell_err(err, EINVAL, "memory.swap %lld is below memory.limit %lld",
				(long long)*v, (long long)lim->v);
	if (!*set || has)
		return 0;
	*set = false;
	if (*v < 0) {
		cell_debug("cgroup: no swap accounting in %s; unlimited swap is a no-op", h->dir);
		return 0;
	}
	return cell_err(err, ENOTSUP,
			"memory.swap: %s/memory.memsw.limit_in_bytes does not "
			"exist (swap accounting is off)",
			h->dir);
}

static int set_limit_and_swap(struct cgroup_hier *h, const struct cell_resources *r,
			      struct cell_error *err)
{
	const struct cell_i64 *lim = &r->memory.limit;
	uint64_t cur = UINT64_MAX;
	bool swap_set;
	int64_t swap;
	int ret = memsw_value(h, r, &swap_set, &swap, err);

	if (ret < 0 || !swap_set)
		return ret < 0 || !lim->set ? ret
					    : write_i64(h, "memory.limit_in_bytes", lim->v, err);
	(void)cg_read_u64(h, "memory.memsw.limit_in_bytes", &cur);
	if (cgroup_v1_swap_first(swap, cur)) {
		ret = write_i64(h, "memory.memsw.limit_in_bytes", swap, err);
		if (ret == 0 && lim->set)
			ret = write_i64(h, "memory.limit_in_bytes", lim->v, err);
		return ret;
	}
	if (lim->set)
		ret = write_i64(h, "memory.limit_in_bytes", lim->v, err);
	return ret < 0 ? ret : write_i64(h, "memory.memsw.limit_in_bytes", swap, err);
}

static bool memory_set(const struct cell_resources *r)
{
	return r->memory.limit.set || r->memory.swap.set || r->memory.swappiness.set ||
	       r->memory.disable_oom_killer_set || r->memory.use_hierarchy_set;
}

static int set_memory_flags(struct cgroup_hier *h, const struct cell_resources *r,
			    struct cell_error *err)
{
	int ret = 0;

	if (r->memory.swappiness.set && r->memory.swappiness.v > 100)
		return cell_err(err, EINVAL, "memory.swappiness %llu is above 100",
				(unsigned long long)r->memory.swappiness.v);
	if (r->memory.swappiness.set)
		ret = cg_writef(h, "memory.swappiness", err, "%llu",
				(unsigned long long)r->memory.swappiness.v);
	if (ret == 0 && r->memory.disable_oom_killer_set)
		ret = cg_write(h, "memory.oom_control", r->memory.disable_oom_killer ? "1" : "0",
			       err);
	if (ret == 0 && r->memory.use_hierarchy_set)
		ret = cg_write(h, "memory.use_hierarchy", r->memory.use_hierarchy ? "1" : "0", err);
	return ret;
}

static int set_memory(struct cell_cgroup *cg, const struct cell_resources *r,
		      struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_hier_for(cg, "memory");
	int ret;

	if (r->memory.kernel.set)
		cell_debug("cgroup: memory.kernel is deprecated (no effect since Linux 6.x); ignored");
	if (!memory_set(r) && !r->memory.kernel_tcp.set)
		return 0;
	if (!h)
		return cg_unsupported(cg->rootless, err, "controller memory");
	ret = cg_check_memory_usage(h, r, "memory.usage_in_bytes", err);
	if (ret == 0)
		ret = set_limit_and_swap(h, r, err);
	/* TCP buffer memory still has its own v1 limit */
	if (ret == 0 && r->memory.kernel_tcp.set)
		ret = cg_writef(h, "memory.kmem.tcp.limit_in_bytes", err, "%lld",
				(long long)r->memory.kernel_tcp.v);
	return ret < 0 ? ret : set_memory_flags(h, r, err);
}

static bool blkio_set(const struct cell_resources *r)
{
	const __typeof__(r->block_io) *b = &r->block_io;

	return b->weight.set || b->leaf_weight.set || b->n_weight_devices || b->n_read_bps ||
	       b->n_write_bps || b->n_read_iops || b->n_write_iops;
}

static int set_blkio_weights(struct cgroup_hier *h, const struct cell_resources *r,
			     struct cell_error *err)
{
	/* CFQ is gone since 5.0; BFQ has the same files with a "bfq." prefix */
	bool bfq = !cg_has(h, "blkio.weight");
	const char *w = bfq ? "blkio.bfq.weight" : "blkio.weight";
	const char *wd = bfq ? "blkio.bfq.weight_device" : "blkio.weight_device";
	int ret = 0;

	if (r->block_io.weight.set)
		ret = cg_writef(h, w, err, "%llu", (unsigned long long)r->block_io.weight.v);
	if (ret == 0 && r->block_io.leaf_weight.set)
		ret = cg_writef(h, "blkio.leaf_weight", err, "%llu",
				(unsigned long long)r->block_io.leaf_weight.v);
	for (size_t i = 0; ret == 0 && i < r->block_io.n_weight_devices; i++) {
		const struct cell_weight_device *d = &r->block_io.weight_devices[i];
		if (d->weight_set && d->weight) /* 0: unset, as runc */
			ret = cg_writef(h, wd, err, "%lld:%lld %u", (long long)d->major,
					(long long)d->minor, d->weight);
		if (ret == 0 && d->leaf_weight_set && d->leaf_weight)
			ret = cg_writef(h, "blkio.leaf_weight_device", err, "%lld:%lld %u",
					(long long)d->major, (long long)d->minor, d->leaf_weight);
	}
	return ret;
}

static int set_blkio(struct cell_cgroup *cg, const struct cell_resources *r, struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_hier_for(cg, "blkio");
	int ret;
	size_t n;

	if (!blkio_set(r))
		return 0;
	if (!h)
		return cg_unsupported(cg->rootless, err, "controller blkio");
	ret = set_blkio_weights(h, r, err);
	for (size_t l = 0; ret == 0 && l < ARRAY_SIZE(cg_throttles); l++) {
		const struct cell_throttle_device *v = cg_throttle_list(r, &cg_throttles[l], &n);
		for (size_t i = 0; ret == 0 && i < n; i++) /* one device per write */
			ret = cg_writef(h, cg_throttles[l].v1_file, err, "%lld:%lld %llu",
					(long long)v[i].major, (long long)v[i].minor,
					(unsigned long long)v[i].rate);
	}
	return ret;
}

/* hugetlb may be bound to the unified hierarchy only (hybrid hosts). */
static int set_hugetlb(struct cell_cgroup *cg, const struct cell_resources *r,
		       struct cell_error *err)
{
	static char *const want[] = {(char *)"hugetlb", NULL};
	struct cgroup_hier *h = cgroup_hier_for(cg, "hugetlb"), *u = cgroup_unified(cg);
	int ret;

	if (!r->n_hugepage_limits)
		return 0;
	if (h)
		return cg_write_hugetlb(h, r, "limit_in_bytes", err);
	if (!u)
		return cg_unsupported(cg->rootless, err, "controller hugetlb");
	ret = cgroup_unified_enable(u, want, err);
	return ret < 0 ? ret : cgroup_unified_set_hugetlb(u, r, err);
}

static int set_netprio(struct cell_cgroup *cg, const struct cell_resources *r,
		       struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_hier_for(cg, "net_prio");

	if (!r->network.n_priorities)
		return 0;
	if (!h)
		return cg_unsupported(cg->rootless, err, "controller net_prio");
	for (size_t i = 0; i < r->network.n_priorities; i++) {
		const struct cell_net_priority *p = &r->network.priorities[i];
		int ret = cg_writef(h, "net_prio.ifpriomap", err, "%s %u", p->name, p->priority);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* "a" in devices.deny empties the allow list (default deny); then each rule in order, so
 * that a later rule overrides an earlier one as the spec requires. */
static int set_devices(struct cell_cgroup *cg, const struct cell_resources *r,
		       struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_hier_for(cg, "devices");
	_cleanup_free_ struct cell_device_rule *rules = NULL;
	size_t n = 0;
	char line[64];
	int ret;

	if (cg->rootless) {
		cell_debug("cgroup: device rules need privileges; skipped (rootless)");
		return 0;
	}
	if (!h)
		return cell_err(err, ENOTSUP, "cgroup: controller devices is not available");
	ret = cg_write(h, "devices.deny", "a", err);
	rules = cgroup_device_rules(r, &n);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		cgroup_device_line(&rules[i], line, sizeof(line));
		ret = cg_write(h, rules[i].allow ? "devices.allow" : "devices.deny", line, err);
	}
	return ret;
}

static int unified_entry(struct cgroup_hier *u, const struct cell_kv *kv, struct cell_error *err)
{
	_cleanup_free_ char *ctrl = cgroup_unified_controller(kv->key);
	char *want[] = {ctrl, NULL};
	struct cell_error e = {0};
	int ret = cgroup_unified_key_check(kv->key, err);

	if (ret < 0)
		return ret;
	/* runc's words for unified on v1 (ErrV1NoUnified): "invalid configuration" */
	if (ctrl && cgroup_unified_enable(u, want, &e) < 0)
		return cell_err(err, e.code, "invalid configuration: linux.resources.unified \"%s\": %s",
				kv->key, e.msg);
	if (!cg_has(u, kv->key))
		return cell_err(err, ENOENT, "linux.resources.unified \"%s\": no such file in %s",
				kv->key, u->dir);
	return cg_write(u, kv->key, kv->value, err);
}

static int set_unified(struct cell_cgroup *cg, const struct cell_resources *r,
		       struct cell_error *err)
{
	struct cgroup_hier *u = cgroup_unified(cg);

	for (size_t i = 0; i < r->n_unified; i++) {
		int ret = u ? unified_entry(u, &r->unified[i], err)
			    : cell_err(err, ENOTSUP,
				       "invalid configuration: linux.resources.unified \"%s\": "
				       "no cgroup v2 hierarchy on this host",
				       r->unified[i].key);
		if (ret < 0)
			return ret;
	}
	return 0;
}

typedef int (*v1_setter)(struct cell_cgroup *cg, const struct cell_resources *r,
			 struct cell_error *err);

static const v1_setter v1_setters[] = {
    set_fields, set_memory, set_blkio, set_hugetlb, set_netprio, set_devices, set_unified,
};

static int v1_apply(struct cell_cgroup *cg, const struct cell_resources *r, struct cell_error *err)
{
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < ARRAY_SIZE(v1_setters); i++)
		ret = v1_setters[i](cg, r, err);
	return ret;
}

/* ---- freezer ---- */

static int v1_is_frozen(struct cell_cgroup *cg, bool *frozen, struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_hier_for(cg, "freezer");
	_cleanup_free_ char *state = NULL;
	int r;

	if (!h)
		return cell_err(err, ENOTSUP, "cgroup: controller freezer is not available");
	r = cg_read(h, "freezer.state", &state);
	if (r < 0)
		return cell_err(err, r, "read %s/freezer.state", h->dir);
	*frozen = streq(state, "FROZEN");
	return 0;
}

/* freezer.state reads FREEZING until every task stopped; a task forking meanwhile can
 * leave it there, so the request is repeated now and then. */
static int v1_freeze(struct cell_cgroup *cg, bool frozen, struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_hier_for(cg, "freezer");
	const char *want = frozen ? "FROZEN" : "THAWED";

	if (!h)
		return cell_err(err, ENOTSUP, "cgroup: controller freezer is not available");
	for (int i = 0; i < FREEZER_POLLS; i++) {
		_cleanup_free_ char *state = NULL;
		int r;
		if (i % FREEZER_REWRITE == 0 && (r = cg_write(h, "freezer.state", want, err)) < 0)
			return r;
		if ((r = cg_read(h, "freezer.state", &state)) < 0)
			return cell_err(err, r, "read %s/freezer.state", h->dir);
		if (streq(state, want))
			return 0;
		cg_sleep_ms(FREEZER_POLL_MS);
	}
	if (frozen) /* do not leave it half frozen */
		(void)cg_write(h, "freezer.state", "THAWED", NULL);
	return cell_err(err, EBUSY, "%s/freezer.state did not become %s", h->dir, want);
}

/* Freeze, signal, thaw: no process can fork out of the way meanwhile.  A SIGKILLed
 * process dies only once thawed, so a paused container is thawed for SIGKILL. */
static int v1_kill(struct cell_cgroup *cg, int sig, struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_procs_hier(cg);
	bool has_freezer = cgroup_hier_for(cg, "freezer") != NULL, was = false;
	struct cell_error e = {0};
	int r;

	if (!h)
		return cell_err(err, ENOENT, "cgroup %s: no hierarchy to list processes",
				cg->saved);
	if (has_freezer && (r = v1_is_frozen(cg, &was, err)) < 0)
		return r;
	if (has_freezer && !was && (r = v1_freeze(cg, true, err)) < 0)
		return r;
	r = cg_signal_all(h, sig, err);
	if (has_freezer && (!was || sig == SIGKILL) && v1_freeze(cg, false, &e) < 0 && r == 0) {
		*err = e;
		r = -e.code;
	}
	return r;
}

const struct cgroup_ops cgroup_v1_ops = {
    .init_dir = v1_init_dir,
    .apply = v1_apply,
    .freeze = v1_freeze,
    .is_frozen = v1_is_frozen,
    .kill = v1_kill,
    .memory_usage_file = "memory.usage_in_bytes",
};
