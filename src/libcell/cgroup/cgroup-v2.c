/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroup v2 backend (Documentation/admin-guide/cgroup-v2.rst).  The controllers the
 * resources need are enabled through cgroup-unified.c (shared with the v1 backend on
 * hybrid hosts); enable_available() offers the rest, best effort.  Devices are an
 * eBPF program (devices-bpf.c).
 */
#include "cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

#define OFF(f) offsetof(struct cell_resources, f)
#define FREEZE_POLL_MS 10
#define FREEZE_POLLS 500 /* 5 s: tasks in uninterruptible sleep delay the freeze */

/* ---- controllers ---- */

static void need(char ***v, const char *c)
{
	if (!cell_strv_contains(*v, c))
		cell_strv_push(v, xstrdup(c));
}

static bool needs_cpu(const struct cell_resources *r)
{
	return r->cpu.shares.set || r->cpu.quota.set || r->cpu.period.set || r->cpu.burst.set ||
	       r->cpu.idle.set;
}

static bool needs_io(const struct cell_resources *r)
{
	return r->block_io.weight.set || r->block_io.n_weight_devices || r->block_io.n_read_bps ||
	       r->block_io.n_write_bps || r->block_io.n_read_iops || r->block_io.n_write_iops;
}

static char **needed_controllers(const struct cell_resources *r)
{
	char **v = NULL;

	if (r->memory.limit.set || r->memory.reservation.set || r->memory.swap.set)
		need(&v, "memory");
	if (needs_cpu(r))
		need(&v, "cpu");
	if (r->cpu.cpus || r->cpu.mems)
		need(&v, "cpuset");
	if (r->pids.limit.set)
		need(&v, "pids");
	if (needs_io(r))
		need(&v, "io");
	if (r->n_hugepage_limits)
		need(&v, "hugetlb");
	for (size_t i = 0; i < r->n_unified; i++) {
		_cleanup_free_ char *c = cgroup_unified_controller(r->unified[i].key);
		if (c)
			need(&v, c);
	}
	return v;
}

/* Every controller an ancestor has, enabled for its children whatever the resources
 * (runc's fs2 CreateCgroupPath): a nested runtime, an init inside and a later update
 * find them.  Best effort, as runc: a cgroup with processes (EBUSY), a threaded one or
 * one not delegated keeps what it has; what the resources need is enforced after. */
static void enable_available(struct cgroup_hier *h)
{
	_cleanup_strv_free_ char **parts = cg_split(h->path, '/'); /* "", "a", ..., leaf */
	_cleanup_free_ char *dir = xstrdup(h->root);
	size_t n = cell_strv_len(parts);
	int r;

	for (size_t i = 1; i < n && !h->fake; i++) {
		_cleanup_strv_free_ char **avail = cg_read_list(dir, "cgroup.controllers", &r);
		_cleanup_strv_free_ char **have = cg_read_list(dir, "cgroup.subtree_control", &r);
		_cleanup_free_ char *file = xasprintf("%s/cgroup.subtree_control", dir);
		_cleanup_close_ int fd = open(file, O_WRONLY | O_CLOEXEC);
		for (size_t k = 0; fd >= 0 && avail && avail[k]; k++) {
			_cleanup_free_ char *line = xasprintf("+%s", avail[k]);
			if (!cell_strv_contains(have, avail[k]) &&
			    (r = cell_write_all(fd, line, strlen(line))) < 0)
				cell_debug("cgroup: enable %s in %s: %s", avail[k], dir,
					   strerror(-r));
		}
		char *next = xasprintf("%s/%s", dir, parts[i]);
		free(dir);
		dir = next;
	}
}

/* ---- limits ---- */

static const struct cg_field v2_fields[] = {
    {"memory", "memory.low", OFF(memory.reservation), CG_I64_MAX},
    {"cpu", "cpu.max.burst", OFF(cpu.burst), CG_U64},
    {"cpu", "cpu.idle", OFF(cpu.idle), CG_I64},
    {"cpuset", "cpuset.cpus", OFF(cpu.cpus), CG_STR},
    {"cpuset", "cpuset.mems", OFF(cpu.mems), CG_STR},
    {"pids", "pids.max", OFF(pids.limit), CG_PIDS},
};

static int set_fields(struct cell_cgroup *cg, struct cgroup_hier *h, const struct cell_resources *r,
		      struct cell_error *err)
{
	return cg_apply_fields(cg, v2_fields, ARRAY_SIZE(v2_fields), r, err);
}

static int set_swap(struct cgroup_hier *h, const struct cell_resources *r, struct cell_error *err)
{
	bool set, max;
	int64_t val;
	int ret = cgroup_v2_swap_max(r, &set, &max, &val, err);

	if (ret < 0 || !set)
		return ret;
	if (!cg_has(h, "memory.swap.max")) {
		if (max) {
			cell_debug("cgroup: no swap accounting in %s; unlimited swap is a no-op",
				   h->dir);
			return 0;
		}
		return cell_err(err, ENOTSUP,
				"memory.swap: %s/memory.swap.max does not exist "
				"(swap accounting is off)",
				h->dir);
	}
	return max ? cg_write(h, "memory.swap.max", "max", err)
		   : cg_writef(h, "memory.swap.max", err, "%lld", (long long)val);
}

static int set_memory(struct cell_cgroup *cg, struct cgroup_hier *h, const struct cell_resources *r,
		      struct cell_error *err)
{
	const struct cell_i64 *lim = &r->memory.limit;
	int ret = cg_check_memory_usage(h, r, "memory.current", err);

	if (ret == 0)
		ret = set_swap(h, r, err);
	if (ret < 0 || !lim->set)
		return ret;
	return lim->v < 0 ? cg_write(h, "memory.max", "max", err)
			  : cg_writef(h, "memory.max", err, "%lld", (long long)lim->v);
}

static int set_cpu_max(struct cgroup_hier *h, const struct cell_resources *r,
		       struct cell_error *err)
{
	_cleanup_free_ char *cur = NULL;
	char quota[32] = "max";

	if (r->cpu.quota.set && r->cpu.quota.v >= 0)
		(void)snprintf(quota, sizeof(quota), "%lld", (long long)r->cpu.quota.v);
	if (!r->cpu.period.set)
		return cg_write(h, "cpu.max", quota, err);	   /* the kernel keeps the period */
	if (!r->cpu.quota.set && cg_read(h, "cpu.max", &cur) == 0) /* keep the quota */
		(void)snprintf(quota, sizeof(quota), "%.*s", (int)strcspn(cur, " "), cur);
	return cg_writef(h, "cpu.max", err, "%s %llu", quota, (unsigned long long)r->cpu.period.v);
}

static int set_cpu(struct cell_cgroup *cg, struct cgroup_hier *h, const struct cell_resources *r,
		   struct cell_error *err)
{
	int ret = 0;

	if ((r->cpu.realtime_period.set && r->cpu.realtime_period.v) ||
	    (r->cpu.realtime_runtime.set && r->cpu.realtime_runtime.v))
		return cell_err(err, ENOTSUP,
				"cpu.realtimePeriod/realtimeRuntime: not supported "
				"by cgroup v2");
	if (r->cpu.shares.set && r->cpu.shares.v)
		ret = cg_writef(h, "cpu.weight", err, "%llu",
				(unsigned long long)cgroup_v2_cpu_weight(r->cpu.shares.v));
	if (ret == 0 && (r->cpu.quota.set || r->cpu.period.set))
		ret = set_cpu_max(h, r, err);
	return ret;
}

/* BFQ takes blkio's own 1..1000 scale; io.weight (iocost) needs conversion. */
static int set_io_weights(struct cgroup_hier *h, const struct cell_resources *r,
			  struct cell_error *err)
{
	bool bfq = cg_has(h, "io.bfq.weight");
	const char *file = bfq ? "io.bfq.weight" : "io.weight";
	int ret = 0;

	if (r->block_io.weight.set)
		ret = cg_writef(
		    h, file, err, "%llu",
		    (unsigned long long)(bfq ? r->block_io.weight.v
					     : cgroup_v2_io_weight(r->block_io.weight.v)));
	for (size_t i = 0; ret == 0 && i < r->block_io.n_weight_devices; i++) {
		const struct cell_weight_device *d = &r->block_io.weight_devices[i];
		if (d->weight_set && d->weight) /* 0: unset, as runc */
			ret = cg_writef(h, file, err, "%lld:%lld %u", (long long)d->major,
					(long long)d->minor,
					bfq ? d->weight : (unsigned)cgroup_v2_io_weight(d->weight));
	}
	return ret;
}

static bool same_dev(const struct cell_throttle_device *a, const struct cell_throttle_device *b)
{
	return a->major == b->major && a->minor == b->minor;
}

/* Was this device already written with an earlier list or entry? */
static bool io_dev_seen(const struct cell_resources *r, size_t list, size_t idx)
{
	size_t n;
	const struct cell_throttle_device *d = &cg_throttle_list(r, &cg_throttles[list], &n)[idx];

	for (size_t l = 0; l <= list; l++) {
		const struct cell_throttle_device *v = cg_throttle_list(r, &cg_throttles[l], &n);
		for (size_t i = 0; i < (l == list ? idx : n); i++)
			if (same_dev(&v[i], d))
				return true;
	}
	return false;
}

/* One io.max line per device with every key for it: "8:0 rbps=1048576 wiops=100". */
static int write_io_max(struct cgroup_hier *h, const struct cell_resources *r,
			const struct cell_throttle_device *d, struct cell_error *err)
{
	_cleanup_free_ char *line =
	    xasprintf("%lld:%lld", (long long)d->major, (long long)d->minor);
	size_t n;

	for (size_t l = 0; l < ARRAY_SIZE(cg_throttles); l++) {
		const struct cell_throttle_device *v = cg_throttle_list(r, &cg_throttles[l], &n);
		for (size_t i = 0; i < n; i++) {
			if (!same_dev(&v[i], d))
				continue;
			char *next = xasprintf("%s %s=%llu", line, cg_throttles[l].v2_key,
					       (unsigned long long)v[i].rate);
			free(line);
			line = next;
		}
	}
	return cg_write(h, "io.max", line, err);
}

static int set_io(struct cell_cgroup *cg, struct cgroup_hier *h, const struct cell_resources *r,
		  struct cell_error *err)
{
	int ret = set_io_weights(h, r, err);
	size_t n;

	for (size_t l = 0; ret == 0 && l < ARRAY_SIZE(cg_throttles); l++) {
		const struct cell_throttle_device *v = cg_throttle_list(r, &cg_throttles[l], &n);
		for (size_t i = 0; ret == 0 && i < n; i++)
			if (!io_dev_seen(r, l, i))
				ret = write_io_max(h, r, &v[i], err);
	}
	return ret;
}

static int set_hugetlb(struct cell_cgroup *cg, struct cgroup_hier *h,
		       const struct cell_resources *r, struct cell_error *err)
{
	return cgroup_unified_set_hugetlb(h, r, err);
}

/* What v1 has and v2 does not: the spec allows ignoring it; say so in the debug log. */
static int note_ignored(struct cell_cgroup *cg, struct cgroup_hier *h,
			const struct cell_resources *r, struct cell_error *err)
{
	if (r->memory.kernel.set || r->memory.kernel_tcp.set)
		cell_debug("cgroup: memory.kernel/kernelTCP are deprecated; ignored");
	if (r->memory.swappiness.set)
		cell_debug("cgroup: memory.swappiness has no cgroup v2 equivalent; ignored");
	if (r->memory.disable_oom_killer_set)
		cell_debug("cgroup: memory.disableOOMKiller has no cgroup v2 equivalent; ignored");
	if (r->block_io.leaf_weight.set)
		cell_debug("cgroup: blockIO.leafWeight has no cgroup v2 equivalent; ignored");
	if (r->network.class_id.set || r->network.n_priorities)
		cell_debug(
		    "cgroup: network classID/priorities need net_cls/net_prio (v1); ignored");
	return 0;
}

static int set_devices(struct cell_cgroup *cg, struct cgroup_hier *h,
		       const struct cell_resources *r, struct cell_error *err)
{
	_cleanup_free_ struct cell_device_rule *rules = NULL;
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_close_ int prog = -1, dirfd = -1;
	size_t n = 0, len = 0;
	int ret;

	if (cg->rootless || h->fake) {
		cell_debug("cgroup: %s: device program not attached (%s)", h->dir,
			   cg->rootless ? "rootless" : "not a cgroup2 mount");
		return 0;
	}
	rules = cgroup_device_rules(r, &n);
	ret = cgroup_bpf_program(rules, n, &insns, &len, err);
	if (ret < 0)
		return ret;
	prog = cgroup_bpf_load(insns, len, err);
	if (prog < 0)
		return prog;
	dirfd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return cell_err(err, errno, "open %s", h->dir);
	ret = cgroup_bpf_replace(dirfd, prog, err);
	return ret < 0 ? cell_err_prefix(err, "device program for %s", h->dir) : 0;
}

static int set_unified(struct cell_cgroup *cg, struct cgroup_hier *h,
		       const struct cell_resources *r, struct cell_error *err)
{
	for (size_t i = 0; i < r->n_unified; i++) {
		int ret = cgroup_unified_key_check(r->unified[i].key, err);
		if (ret == 0)
			ret = cg_write(h, r->unified[i].key, r->unified[i].value, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

typedef int (*v2_setter)(struct cell_cgroup *cg, struct cgroup_hier *h,
			 const struct cell_resources *r, struct cell_error *err);

/* Unified entries last: they are the user's explicit override of everything else. */
static const v2_setter v2_setters[] = {
    set_fields, set_memory, set_cpu, set_io, set_hugetlb, note_ignored, set_devices, set_unified,
};

static int v2_apply(struct cell_cgroup *cg, const struct cell_resources *r, struct cell_error *err)
{
	_cleanup_strv_free_ char **want = needed_controllers(r);
	struct cgroup_hier *h = cgroup_unified(cg);
	int ret;

	if (!h) /* rootless and nothing delegated */
		return 0;
	enable_available(h);
	ret = cgroup_unified_enable(h, want, err);
	for (size_t i = 0; ret == 0 && i < ARRAY_SIZE(v2_setters); i++)
		ret = v2_setters[i](cg, h, r, err);
	return ret;
}

/* ---- freezer ---- */

static int events_frozen(int fd, int *state)
{
	_cleanup_free_ char *text = NULL;
	const char *p;
	int r;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	r = cell_read_fd(fd, &text, NULL);
	if (r < 0)
		return r;
	p = strstr(text, "frozen ");
	*state = p ? p[7] - '0' : -1;
	return 0;
}

/* cgroup.events changes (with POLLPRI) once every task stopped or resumed. */
static int wait_frozen(struct cgroup_hier *h, bool frozen, struct cell_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/cgroup.events", h->dir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	int state = -1;

	if (fd < 0)
		return cell_err(err, errno, "open %s", path);
	for (int i = 0; i < FREEZE_POLLS; i++) {
		int r = events_frozen(fd, &state);
		if (r < 0)
			return cell_err(err, r, "read %s", path);
		if (state == (int)frozen)
			return 0;
		struct pollfd p = {.fd = fd, .events = POLLPRI};
		(void)poll(&p, 1, FREEZE_POLL_MS);
	}
	return cell_err(err, ETIMEDOUT, "%s did not report \"frozen %d\"", path, (int)frozen);
}

static int v2_freeze(struct cell_cgroup *cg, bool frozen, struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_unified(cg);
	int r;

	if (!h || !cg_has(h, "cgroup.freeze"))
		return cell_err(err, ENOTSUP, "cgroup %s: no cgroup v2 freezer (kernel 5.2+)",
				cg->saved);
	r = cg_write(h, "cgroup.freeze", frozen ? "1" : "0", err);
	return r < 0 ? r : wait_frozen(h, frozen, err);
}

static int v2_is_frozen(struct cell_cgroup *cg, bool *frozen, struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_unified(cg);
	_cleanup_free_ char *v = NULL;
	int r = h ? cg_read(h, "cgroup.freeze", &v) : -ENOTSUP;

	if (r < 0)
		return cell_err(err, r, "read %s/cgroup.freeze", h ? h->dir : cg->saved);
	*frozen = streq(v, "1");
	return 0;
}

static int v2_kill(struct cell_cgroup *cg, int sig, struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_unified(cg);
	struct cell_error e = {0};
	bool freezer, was = false;
	int r;

	if (!h)
		return cell_err(err, ENOENT, "cgroup %s: not available", cg->saved);
	/* cgroup.kill (5.14+) also gets processes forking meanwhile */
	if (sig == SIGKILL && cg_has(h, "cgroup.kill"))
		return cg_write(h, "cgroup.kill", "1", err);
	/* Otherwise the list is read first: frozen, nothing can fork past it.  A frozen
	 * task takes the signal when thawed (a fatal one at once); a cgroup that was
	 * frozen before stays frozen. */
	freezer = cg_has(h, "cgroup.freeze");
	if (freezer && (r = v2_is_frozen(cg, &was, err)) < 0)
		return r;
	if (freezer && !was && (r = v2_freeze(cg, true, err)) < 0)
		return r;
	r = cg_signal_all(h, sig, err);
	if (freezer && !was && v2_freeze(cg, false, &e) < 0 && r == 0) {
		*err = e;
		r = -e.code;
	}
	return r;
}

const struct cgroup_ops cgroup_v2_ops = {
    .init_dir = NULL,
    .apply = v2_apply,
    .freeze = v2_freeze,
    .is_frozen = v2_is_frozen,
    .kill = v2_kill,
    .memory_usage_file = "memory.current",
};
