/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The systemd cgroup driver (--systemd-cgroup), as runc's: the container's cgroup is a
 * transient unit that systemd knows, "<prefix>-<name>.scope" in the cgroupsPath's slice,
 * made with StartTransientUnit (Delegate=yes, DefaultDependencies=no, PIDs=[init]) and
 * the limits systemd can express as unit properties; what it cannot (devices, hugetlb,
 * exact cpu.max, most unified keys) is still written to cgroupfs afterwards, and after
 * every SetUnitProperties, which re-applies the unit's own values.
 *
 * Order at create: the cgroupfs backend makes the directory (systemd reuses an
 * existing one) and the init is cloned into it as always; the unit is started with the
 * init's pid when it joins (cell_cgroup_join_rest), then the limits are written again
 * over the unit's.  Root talks to the system instance, a rootless runtime to the
 * user's, whose units live below user@UID.service.
 */
#include "cgroup-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "sdbus.h"

#define JOB_TIMEOUT_S 30 /* runc's */
#define SD_INFINITY UINT64_MAX
#define QUOTA_STEP_USEC 10000 /* systemd keeps CPUQuotaPerSecUSec in 10 ms steps */

struct cgroup_systemd {
	char *unit;  /* "celltest-x.scope" */
	char *slice; /* "system.slice" */
	char *description;
	bool user;    /* the user's manager */
	bool started; /* the unit exists (it did when the cgroup was opened) */
	bool have_res;
	struct cell_resources res; /* the last applied: for the unit at start */
	struct sdb bus;
	bool connected;
};

/* ---- pure helpers ---- */

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && streq(s + a - b, suffix);
}

int cgroup_systemd_unit_of(const char *path, char **unit, char **slice, struct cell_error *err)
{
	const char *last = strrchr(path, '/');
	const char *prev = last;

	if (!last || !last[1] || (!has_suffix(last, ".scope") && !has_suffix(last, ".slice")))
		return cell_err(err, EINVAL, "systemd cgroup driver: %s names no scope or slice",
				path);
	while (prev > path && prev[-1] != '/')
		prev--;
	_cleanup_free_ char *parent = xstrndup(prev, (size_t)(last - prev));
	*unit = xstrdup(last + 1);
	/* the root slice's children (and a user manager's) have a parent that is no slice */
	*slice = has_suffix(parent, ".slice") ? TAKE_PTR(parent) : xstrdup("-.slice");
	return 0;
}

uint64_t cgroup_systemd_quota_per_sec(int64_t quota, uint64_t period)
{
	uint64_t v;

	if (quota <= 0)
		return SD_INFINITY;
	if (period == 0)
		period = 100000; /* the kernel's default cpu.max period */
	v = (uint64_t)quota * 1000000u / period;
	/* rounded up, as runc does: never less CPU than asked */
	if (v % QUOTA_STEP_USEC)
		v = (v / QUOTA_STEP_USEC + 1) * QUOTA_STEP_USEC;
	return v;
}

#define CPU_MAX 65535 /* systemd's CPU_SET limit is far lower; enough for a mask */

static int parse_cpu(const char *s, char **end, unsigned long *v)
{
	errno = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	*v = strtoul(s, end, 10);
	return errno || *v > CPU_MAX ? -EINVAL : 0;
}

/* "0-2,7" -> bytes where bit n%8 of byte n/8 is cpu n (systemd's CPUSet on D-Bus). */
int cgroup_systemd_cpuset_mask(const char *list, uint8_t **out, size_t *n,
			       struct cell_error *err)
{
	_cleanup_free_ uint8_t *m = xzalloc(CPU_MAX / 8 + 1);
	size_t len = 0;

	for (const char *p = list; *p;) {
		char *end = NULL;
		unsigned long lo, hi;
		if (parse_cpu(p, &end, &lo) < 0)
			return cell_err(err, EINVAL, "cpuset \"%s\": bad number at \"%s\"", list, p);
		hi = lo;
		if (*end == '-' && parse_cpu(end + 1, &end, &hi) < 0)
			return cell_err(err, EINVAL, "cpuset \"%s\": bad range", list);
		if (hi < lo || (*end && *end != ','))
			return cell_err(err, EINVAL, "cpuset \"%s\": bad range", list);
		for (unsigned long c = lo; c <= hi; c++)
			m[c / 8] |= (uint8_t)(1u << (c % 8));
		if (hi / 8 + 1 > len)
			len = hi / 8 + 1;
		p = *end ? end + 1 : end;
	}
	*out = TAKE_PTR(m);
	*n = len;
	return 0;
}

/* ---- unit properties ---- */

/* An a(sv) being filled; the first error sticks and later appends are skipped. */
struct props {
	struct sdb *b;
	sd_bus_message *m;
	int r;
};

static void prop_t(struct props *p, const char *name, uint64_t v)
{
	if (p->r >= 0)
		p->r = p->b->fn.sd_bus_message_append(p->m, "(sv)", name, "t", v);
}

static void prop_b(struct props *p, const char *name, bool v)
{
	if (p->r >= 0)
		p->r = p->b->fn.sd_bus_message_append(p->m, "(sv)", name, "b", (int)v);
}

static void prop_s(struct props *p, const char *name, const char *v)
{
	if (p->r >= 0)
		p->r = p->b->fn.sd_bus_message_append(p->m, "(sv)", name, "s", v);
}

static void prop_ay(struct props *p, const char *name, const uint8_t *v, size_t n)
{
	const struct sd_fn *f = &p->b->fn;

	if (p->r >= 0)
		p->r = f->sd_bus_message_open_container(p->m, 'r', "sv");
	if (p->r >= 0)
		p->r = f->sd_bus_message_append(p->m, "s", name);
	if (p->r >= 0)
		p->r = f->sd_bus_message_open_container(p->m, 'v', "ay");
	if (p->r >= 0)
		p->r = f->sd_bus_message_append_array(p->m, 'y', v, n);
	if (p->r >= 0)
		p->r = f->sd_bus_message_close_container(p->m);
	if (p->r >= 0)
		p->r = f->sd_bus_message_close_container(p->m);
}

static uint64_t limit_value(int64_t v)
{
	return v < 0 ? SD_INFINITY : (uint64_t)v;
}

static void props_memory(struct props *p, const struct cell_resources *r)
{
	struct cell_error ignored = {0}; /* a bad swap value fails the cgroupfs write too */
	bool set = false, max = false;
	int64_t swap = 0;

	if (r->memory.limit.set)
		prop_t(p, "MemoryMax", limit_value(r->memory.limit.v));
	if (r->memory.reservation.set)
		prop_t(p, "MemoryLow", limit_value(r->memory.reservation.v));
	if (cgroup_v2_swap_max(r, &set, &max, &swap, &ignored) == 0 && set)
		prop_t(p, "MemorySwapMax", max ? SD_INFINITY : limit_value(swap));
}

static void prop_cpuset(struct props *p, const char *name, const char *list)
{
	_cleanup_free_ uint8_t *mask = NULL;
	struct cell_error ignored = {0}; /* cgroupfs says what is wrong with it */
	size_t n = 0;

	if (list && cgroup_systemd_cpuset_mask(list, &mask, &n, &ignored) == 0)
		prop_ay(p, name, mask, n);
}

static void props_cpu(struct props *p, const struct cell_resources *r)
{
	const struct cell_u64 *period = &r->cpu.period;
	const struct cell_i64 *quota = &r->cpu.quota;

	if (r->cpu.shares.set)
		prop_t(p, "CPUWeight", cgroup_v2_cpu_weight(r->cpu.shares.v));
	if (period->set)
		prop_t(p, "CPUQuotaPeriodUSec", period->v);
	if (quota->set || period->set)
		prop_t(p, "CPUQuotaPerSecUSec",
		       cgroup_systemd_quota_per_sec(quota->set ? quota->v : 0,
						    period->set ? period->v : 0));
	prop_cpuset(p, "AllowedCPUs", r->cpu.cpus);
	prop_cpuset(p, "AllowedMemoryNodes", r->cpu.mems);
}

/* linux.resources.unified keys systemd 252 has a property for (runc's list). */
static const struct {
	const char *key, *prop;
} unified_props[] = {
    {"memory.min", "MemoryMin"},	{"memory.low", "MemoryLow"},
    {"memory.high", "MemoryHigh"},	{"memory.max", "MemoryMax"},
    {"memory.swap.max", "MemorySwapMax"}, {"pids.max", "TasksMax"},
    {"cpu.weight", "CPUWeight"},
};

static void prop_unified(struct props *p, const struct cell_kv *kv)
{
	char *end = NULL;
	uint64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(unified_props); i++) {
		if (!streq(kv->key, unified_props[i].key))
			continue;
		errno = 0;
		v = streq(kv->value, "max") ? SD_INFINITY : strtoull(kv->value, &end, 10);
		if (errno || (end && (end == kv->value || *end)))
			return; /* left to the cgroupfs write, which reports it */
		prop_t(p, unified_props[i].prop, v);
		return;
	}
}

static void props_resources(struct props *p, const struct cell_resources *r)
{
	props_memory(p, r);
	props_cpu(p, r);
	if (r->pids.limit.set)
		prop_t(p, "TasksMax", r->pids.limit.v > 0 ? (uint64_t)r->pids.limit.v : SD_INFINITY);
	if (r->block_io.weight.set)
		prop_t(p, "IOWeight", cgroup_v2_io_weight(r->block_io.weight.v));
	for (size_t i = 0; i < r->n_unified; i++)
		prop_unified(p, &r->unified[i]);
}

static void props_unit(struct props *p, const struct cgroup_systemd *sd, pid_t pid)
{
	static const char *const accounting[] = {"MemoryAccounting", "CPUAccounting",
						 "IOAccounting", "TasksAccounting"};

	prop_s(p, "Description", sd->description);
	if (has_suffix(sd->unit, ".scope")) {
		prop_s(p, "Slice", sd->slice);
		prop_b(p, "Delegate", true);
		if (p->r >= 0)
			p->r = p->b->fn.sd_bus_message_append(p->m, "(sv)", "PIDs", "au", 1,
							      (uint32_t)pid);
	} else if (p->r >= 0) { /* a slice of its own: its parent is wanted, as runc does */
		p->r = p->b->fn.sd_bus_message_append(p->m, "(sv)", "Wants", "as", 1,
						      sd->slice);
	}
	for (size_t i = 0; i < ARRAY_SIZE(accounting); i++)
		prop_b(p, accounting[i], true);
	prop_b(p, "DefaultDependencies", false);
	if (sd->have_res)
		props_resources(p, &sd->res);
}

/* ---- talking to the manager ---- */

static int connect_bus(struct cgroup_systemd *sd, struct cell_error *err)
{
	int r;

	if (sd->connected)
		return 0;
	if ((r = sdb_open(&sd->bus, sd->user, err)) < 0)
		return r;
	sd->connected = true;
	return 0;
}

/* A method call taking (s unit, <head>, a(sv) props): StartTransientUnit, SetUnitProperties. */
static int unit_call(struct cgroup_systemd *sd, const char *method, sd_bus_message **out,
		     struct props *p, struct cell_error *err)
{
	int r;

	if ((r = connect_bus(sd, err)) < 0 || (r = sdb_new_call(&sd->bus, method, out, err)) < 0)
		return r;
	*p = (struct props){.b = &sd->bus, .m = *out};
	r = streq(method, "StartTransientUnit")
		? sd->bus.fn.sd_bus_message_append(*out, "ss", sd->unit, "replace")
		: sd->bus.fn.sd_bus_message_append(*out, "sb", sd->unit, 1);
	if (r >= 0)
		r = sd->bus.fn.sd_bus_message_open_container(*out, 'a', "(sv)");
	p->r = r;
	return 0;
}

static int close_props(struct cgroup_systemd *sd, struct props *p, const char *what,
		       struct cell_error *err)
{
	if (p->r >= 0)
		p->r = sd->bus.fn.sd_bus_message_close_container(p->m);
	if (p->r < 0) {
		sdb_unref(&sd->bus, p->m);
		return cell_err(err, -p->r, "systemd: %s %s: build the properties", what, sd->unit);
	}
	return 0;
}

static void reset_failed(struct cgroup_systemd *sd)
{
	struct cell_error e = {0};
	sd_bus_message *m = NULL;

	if (sdb_new_call(&sd->bus, "ResetFailedUnit", &m, &e) < 0)
		return;
	if (sd->bus.fn.sd_bus_message_append(m, "s", sd->unit) < 0) {
		sdb_unref(&sd->bus, m);
		return;
	}
	if (sdb_call(&sd->bus, m, "ResetFailedUnit", "org.freedesktop.systemd1.NoSuchUnit", NULL,
		     &e) < 0)
		cell_debug("%s", e.msg);
}

static int start_unit(struct cgroup_systemd *sd, pid_t pid, struct cell_error *err)
{
	sd_bus_message *m = NULL;
	struct props p;
	char result[32] = "";
	int r = unit_call(sd, "StartTransientUnit", &m, &p, err);

	if (r < 0)
		return r;
	props_unit(&p, sd, pid);
	if ((r = close_props(sd, &p, "start", err)) < 0)
		return r;
	if (p.r >= 0 && (p.r = sd->bus.fn.sd_bus_message_append(m, "a(sa(sv))", 0)) < 0)
		return close_props(sd, &p, "start", err);
	/* UnitExists: a unit of that name is there already; runc goes on with it */
	r = sdb_call_job(&sd->bus, m, "StartTransientUnit", "org.freedesktop.systemd1.UnitExists",
			 JOB_TIMEOUT_S, result, sizeof(result), err);
	if (r == 0 && !streq(result, "done")) {
		reset_failed(sd);
		return cell_err(err, EIO, "systemd: start %s: the job ended with result \"%s\"",
				sd->unit, result);
	}
	if (r > 0)
		cell_debug("systemd: %s exists already; using it", sd->unit);
	return r < 0 ? cell_err_prefix(err, "start %s", sd->unit) : 0;
}

static int stop_unit(struct cgroup_systemd *sd, struct cell_error *err)
{
	sd_bus_message *m = NULL;
	char result[32] = "";
	int r;

	if ((r = connect_bus(sd, err)) < 0 ||
	    (r = sdb_new_call(&sd->bus, "StopUnit", &m, err)) < 0)
		return r;
	if ((r = sd->bus.fn.sd_bus_message_append(m, "ss", sd->unit, "replace")) < 0) {
		sdb_unref(&sd->bus, m);
		return cell_err(err, -r, "systemd: stop %s: build the message", sd->unit);
	}
	r = sdb_call_job(&sd->bus, m, "StopUnit", "org.freedesktop.systemd1.NoSuchUnit",
			 JOB_TIMEOUT_S, result, sizeof(result), err);
	if (r < 0)
		return cell_err_prefix(err, "stop %s", sd->unit);
	if (r == 0 && !streq(result, "done"))
		cell_debug("systemd: stop %s: the job ended with result \"%s\"", sd->unit, result);
	reset_failed(sd);
	return 0;
}

/* ---- the driver's entry points (cgroup-internal.h) ---- */

/* sd_booted(3), which runc checks the same way */
static int check_running(struct cell_error *err)
{
	struct stat st;

	if (stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return cell_errx(err, ENOTSUP, "systemd not running on this host, cannot use systemd cgroups "
				"manager");
}

static int attach(struct cell_cgroup *cg, const struct cell_cgroup_opts *o, const char *path,
		  struct cell_error *err)
{
	struct cgroup_systemd *sd = xzalloc(sizeof(*sd));
	int r;

	cg->sd = sd;
	sd->user = o->rootless;
	sd->description = xasprintf("cellrun container %s", o->id ? o->id : "");
	if ((r = check_running(err)) < 0)
		return r;
	return cgroup_systemd_unit_of(path, &sd->unit, &sd->slice, err);
}

int cgroup_systemd_plan(struct cell_cgroup *cg, const struct cell_cgroup_opts *o, char **path,
			struct cell_error *err)
{
	_cleanup_free_ char *root = NULL;
	int r = attach(cg, o, *path, err);

	if (r < 0 || !cg->sd->user)
		return r;
	/* the user's units are below its manager's own cgroup, user@UID.service */
	if ((r = connect_bus(cg->sd, err)) < 0 ||
	    (r = sdb_manager_string(&cg->sd->bus, "ControlGroup", &root, err)) < 0)
		return r;
	char *full = xasprintf("%s%s", streq(root, "/") ? "" : root, *path);
	free(*path);
	*path = full;
	return 0;
}

int cgroup_systemd_open(struct cell_cgroup *cg, const struct cell_cgroup_opts *o,
			struct cell_error *err)
{
	const char *path = NULL;
	int r;

	/* the same path in every hierarchy; one a rootless create skipped may have none */
	for (size_t i = 0; i < cg->n_h && !path; i++)
		path = cg->h[i].path;
	if (!path)
		return cell_err(err, EINVAL, "systemd cgroup driver: no path in \"%s\"",
				cg->saved ? cg->saved : "");
	r = attach(cg, o, path, err);

	if (r == 0)
		cg->sd->started = true;
	return r;
}

int cgroup_systemd_apply(struct cell_cgroup *cg, const struct cell_resources *r,
			 struct cell_error *err)
{
	struct cgroup_systemd *sd = cg->sd;
	sd_bus_message *m = NULL;
	struct props p;
	int ret;

	sd->res = *r; /* shallow: the spec outlives the create */
	sd->have_res = true;
	if (!sd->started)
		return 0;
	if ((ret = unit_call(sd, "SetUnitProperties", &m, &p, err)) < 0)
		return ret;
	props_resources(&p, r);
	if ((ret = close_props(sd, &p, "update", err)) < 0)
		return ret;
	ret = sdb_call(&sd->bus, m, "SetUnitProperties", NULL, NULL, err);
	return ret < 0 ? cell_err_prefix(err, "update %s", sd->unit) : 0;
}

int cgroup_systemd_start(struct cell_cgroup *cg, pid_t pid, struct cell_error *err)
{
	struct cgroup_systemd *sd = cg->sd;
	int r;

	if (sd->started)
		return 0;
	if ((r = start_unit(sd, pid, err)) < 0)
		return r;
	sd->started = true;
	/* the unit wrote its own values (cpu.max rounded to 10 ms steps): ours again */
	if (sd->have_res && cg->ops->apply(cg, &sd->res, err) < 0)
		return cell_err_prefix(err, "linux.resources");
	return 0;
}

int cgroup_systemd_stop(struct cell_cgroup *cg, struct cell_error *err)
{
	return cg->sd->started ? stop_unit(cg->sd, err) : 0;
}

void cgroup_systemd_free(struct cgroup_systemd *sd)
{
	if (!sd)
		return;
	if (sd->connected)
		sdb_close(&sd->bus);
	free(sd->unit);
	free(sd->slice);
	free(sd->description);
	free(sd);
}
