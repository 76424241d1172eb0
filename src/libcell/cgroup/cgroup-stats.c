/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Resource usage in the shape of runc's `events` data (runc types/events.go Stats):
 * containerd and podman parse it, so the field names, units (nanoseconds, bytes) and
 * omissions (Go's omitempty: zero numbers and empty lists left out) follow runc.
 * v1 reads cpuacct, cpu, memory, pids, blkio, hugetlb, cpuset; v2 the same
 * controllers' stat and current files.  A controller the host lacks is left at zero.
 */
#include "cgroup-internal.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_SEC 1000000000ULL

static void put(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)(v > INT64_MAX ? INT64_MAX : v)));
}

/* Go's omitempty on a number */
static void put_nz(json_t *o, const char *k, uint64_t v)
{
	if (v)
		put(o, k, v);
}

static uint64_t read_u64(const struct cgroup_hier *h, const char *file)
{
	_cleanup_free_ char *s = NULL;
	uint64_t v = 0;

	if (!h || cg_read(h, file, &s) < 0)
		return 0;
	if (streq(s, "max"))
		return UINT64_MAX;
	(void)cg_read_u64(h, file, &v);
	return v;
}

/* "key value" lines: the value of key, 0 when absent. */
static uint64_t keyed(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "key value" lines as an object with sorted keys (Go encodes a map sorted). */
static json_t *keyed_map(const char *text)
{
	_cleanup_strv_free_ char **lines = NULL;
	json_t *m = json_object();
	char key[128];
	unsigned long long v;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		cell_strv_push(&lines, xstrndup(p, strcspn(p, "\n")));
	if (lines)
		qsort(lines, cell_strv_len(lines), sizeof(char *), cmp_key);
	for (size_t i = 0; lines && lines[i]; i++)
		if (sscanf(lines[i], "%127s %llu", key, &v) == 2)
			put(m, key, v);
	return m;
}

static char *read_text(const struct cgroup_hier *h, const char *file)
{
	char *s = NULL;

	return h && cg_read(h, file, &s) == 0 ? s : xstrdup("");
}

/* ---- cpu ---- */

static json_t *u64_list(const char *text, uint64_t mult)
{
	json_t *a = json_array();
	char *end;

	for (const char *p = text; *p;) {
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p)
			break;
		json_array_append_new(a, json_integer((json_int_t)(v * mult)));
		p = end;
	}
	return a;
}

static void set_list(json_t *o, const char *k, json_t *a)
{
	if (json_array_size(a)) /* omitempty */
		json_object_set_new(o, k, a);
	else
		json_decref(a);
}

static json_t *throttling(uint64_t periods, uint64_t throttled, uint64_t ns)
{
	json_t *t = json_object();

	put_nz(t, "periods", periods);
	put_nz(t, "throttledPeriods", throttled);
	put_nz(t, "throttledTime", ns);
	return t;
}

static json_t *cpu_v1(struct cell_cgroup *cg)
{
	struct cgroup_hier *acct = cgroup_hier_for(cg, "cpuacct"), *cpu = cgroup_hier_for(cg, "cpu");
	_cleanup_free_ char *stat = read_text(acct, "cpuacct.stat");
	_cleanup_free_ char *percpu = read_text(acct, "cpuacct.usage_percpu");
	_cleanup_free_ char *sys = read_text(acct, "cpuacct.usage_percpu_sys");
	_cleanup_free_ char *user = read_text(acct, "cpuacct.usage_percpu_user");
	_cleanup_free_ char *cstat = read_text(cpu, "cpu.stat");
	long hz = sysconf(_SC_CLK_TCK);
	json_t *c = json_object(), *u = json_object();

	hz = hz > 0 ? hz : 100;
	put_nz(u, "total", read_u64(acct, "cpuacct.usage"));
	set_list(u, "percpu", u64_list(percpu, 1));
	set_list(u, "percpu_kernel", u64_list(sys, 1));
	set_list(u, "percpu_user", u64_list(user, 1));
	/* cpuacct.stat counts USER_HZ ticks */
	put(u, "kernel", keyed(stat, "system") * NSEC_PER_SEC / (uint64_t)hz);
	put(u, "user", keyed(stat, "user") * NSEC_PER_SEC / (uint64_t)hz);
	json_object_set_new(c, "usage", u);
	json_object_set_new(c, "throttling",
			    throttling(keyed(cstat, "nr_periods"), keyed(cstat, "nr_throttled"),
				       keyed(cstat, "throttled_time")));
	return c;
}

static json_t *cpu_v2(const struct cgroup_hier *h)
{
	_cleanup_free_ char *st = read_text(h, "cpu.stat");
	json_t *c = json_object(), *u = json_object();

	put_nz(u, "total", keyed(st, "usage_usec") * NSEC_PER_USEC);
	put(u, "kernel", keyed(st, "system_usec") * NSEC_PER_USEC);
	put(u, "user", keyed(st, "user_usec") * NSEC_PER_USEC);
	json_object_set_new(c, "usage", u);
	json_object_set_new(c, "throttling",
			    throttling(keyed(st, "nr_periods"), keyed(st, "nr_throttled"),
				       keyed(st, "throttled_usec") * NSEC_PER_USEC));
	return c;
}

/* ---- memory ---- */

static json_t *mem_entry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt)
{
	json_t *e = json_object();

	/* runc reports "max" as the largest uint64; JSON numbers here stop at int64 */
	put(e, "limit", limit);
	put_nz(e, "usage", usage);
	put_nz(e, "max", max);
	put(e, "failcnt", failcnt);
	return e;
}

static json_t *mem_entry_v1(const struct cgroup_hier *h, const char *prefix)
{
	char f[4][96];
	static const char *const names[] = { "limit_in_bytes", "usage_in_bytes",
					     "max_usage_in_bytes", "failcnt" };

	for (int i = 0; i < 4; i++)
		(void)snprintf(f[i], sizeof(f[i]), "%s%s", prefix, names[i]);
	return mem_entry(read_u64(h, f[0]), read_u64(h, f[1]), read_u64(h, f[2]),
			 read_u64(h, f[3]));
}

static void mem_raw(json_t *m, const char *stat)
{
	json_t *raw = keyed_map(stat);

	if (json_object_size(raw))
		json_object_set_new(m, "raw", raw);
	else
		json_decref(raw);
}

static json_t *memory_v1(const struct cgroup_hier *h)
{
	_cleanup_free_ char *stat = read_text(h, "memory.stat");
	json_t *m = json_object();

	put_nz(m, "cache", keyed(stat, "cache"));
	json_object_set_new(m, "usage", mem_entry_v1(h, "memory."));
	json_object_set_new(m, "swap", mem_entry_v1(h, "memory.memsw."));
	json_object_set_new(m, "kernel", mem_entry_v1(h, "memory.kmem."));
	json_object_set_new(m, "kernelTCP", mem_entry_v1(h, "memory.kmem.tcp."));
	mem_raw(m, stat);
	return m;
}

/* v2 swap is reported as memory+swap, as v1's memsw (runc does the same). */
static json_t *memory_v2(const struct cgroup_hier *h)
{
	_cleanup_free_ char *stat = read_text(h, "memory.stat");
	_cleanup_free_ char *events = read_text(h, "memory.events");
	uint64_t use = read_u64(h, "memory.current"), lim = read_u64(h, "memory.max");
	uint64_t swap = read_u64(h, "memory.swap.current"), slim = read_u64(h, "memory.swap.max");
	json_t *m = json_object();

	if (!cg_has(h, "memory.swap.current"))
		slim = 0;
	put_nz(m, "cache", keyed(stat, "file"));
	json_object_set_new(m, "usage", mem_entry(lim, use, 0, keyed(events, "max")));
	json_object_set_new(m, "swap", mem_entry(slim == UINT64_MAX || lim == UINT64_MAX
						     ? UINT64_MAX
						     : slim + lim,
						 swap + use, 0, 0));
	json_object_set_new(m, "kernel", mem_entry(0, 0, 0, 0));
	json_object_set_new(m, "kernelTCP", mem_entry(0, 0, 0, 0));
	mem_raw(m, stat);
	return m;
}

/* ---- pids, blkio, hugetlb, cpuset ---- */

static json_t *pids_stats(const struct cgroup_hier *h)
{
	json_t *p = json_object();
	uint64_t max = read_u64(h, "pids.max");

	put_nz(p, "current", read_u64(h, "pids.current"));
	put_nz(p, "limit", max == UINT64_MAX ? 0 : max); /* runc: "max" is 0 */
	return p;
}

static void blkio_entry(json_t *a, unsigned maj, unsigned min, const char *op, uint64_t v)
{
	json_t *e = json_object();

	put_nz(e, "major", maj);
	put_nz(e, "minor", min);
	if (*op)
		json_object_set_new(e, "op", json_string(op));
	put_nz(e, "value", v);
	json_array_append_new(a, e);
}

/* v1 "8:0 Read 4096" lines ("Total 4096" has no device and is skipped, as runc) */
static json_t *blkio_list_v1(const struct cgroup_hier *h, const char *file)
{
	_cleanup_free_ char *text = read_text(h, file);
	json_t *a = json_array();
	unsigned maj, min;
	unsigned long long v;
	char op[32];

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (sscanf(p, "%u:%u %31s %llu", &maj, &min, op, &v) == 4)
			blkio_entry(a, maj, min, op, v);
	return a;
}

/* "key=value" in a blank-separated line: the value, 0 when absent. */
static uint64_t keyed_eq(const char *line, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = line; (p = strstr(p, key)); p += n)
		if ((p == line || p[-1] == ' ') && p[n] == '=')
			return strtoull(p + n + 1, NULL, 10);
	return 0;
}

/* v2 io.stat "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." */
static void io_stat_v2(const struct cgroup_hier *h, json_t *bytes, json_t *ios)
{
	_cleanup_free_ char *text = read_text(h, "io.stat");
	unsigned maj, min;
	int off = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (sscanf(p, "%u:%u%n", &maj, &min, &off) != 2)
			continue;
		_cleanup_free_ char *line = xstrndup(p, strcspn(p, "\n"));
		blkio_entry(bytes, maj, min, "Read", keyed_eq(line, "rbytes"));
		blkio_entry(bytes, maj, min, "Write", keyed_eq(line, "wbytes"));
		blkio_entry(ios, maj, min, "Read", keyed_eq(line, "rios"));
		blkio_entry(ios, maj, min, "Write", keyed_eq(line, "wios"));
	}
}

static json_t *blkio_stats(struct cell_cgroup *cg)
{
	static const struct {
		const char *key, *file, *bfq;
	} v1[] = {
		{ "ioServiceBytesRecursive", "blkio.throttle.io_service_bytes_recursive",
		  "blkio.bfq.io_service_bytes_recursive" },
		{ "ioServicedRecursive", "blkio.throttle.io_serviced_recursive",
		  "blkio.bfq.io_serviced_recursive" },
	};
	struct cgroup_hier *h = cgroup_hier_for(cg, "blkio");
	struct cgroup_hier *u = cg->mode == CELL_CGROUP_V2 ? cgroup_unified(cg) : NULL;
	json_t *b = json_object(), *lists[2];

	for (size_t i = 0; i < ARRAY_SIZE(v1); i++)
		lists[i] = u || !h ? json_array()
				   : blkio_list_v1(h, cg_has(h, v1[i].bfq) ? v1[i].bfq : v1[i].file);
	if (u)
		io_stat_v2(u, lists[0], lists[1]);
	for (size_t i = 0; i < ARRAY_SIZE(v1); i++)
		set_list(b, v1[i].key, lists[i]);
	return b;
}

/* /sys/kernel/mm/hugepages/hugepages-2048kB -> "2MB", as the cgroup file names. */
static bool page_size_name(const char *dirent, char *out, size_t len)
{
	static const char units[] = "KMGTPE";
	unsigned long long kb;
	int u = 0;

	if (sscanf(dirent, "hugepages-%llukB", &kb) != 1 || !kb)
		return false;
	while (kb >= 1024 && kb % 1024 == 0 && u < 5) {
		kb /= 1024;
		u++;
	}
	return snprintf(out, len, "%llu%cB", kb, units[u]) < (int)len;
}

static json_t *hugetlb_one(const struct cgroup_hier *h, const char *size)
{
	_cleanup_free_ char *cur = xasprintf(h->v2 ? "hugetlb.%s.current" : "hugetlb.%s.usage_in_bytes", size);
	_cleanup_free_ char *max = xasprintf("hugetlb.%s.max_usage_in_bytes", size);
	_cleanup_free_ char *fail = xasprintf(h->v2 ? "hugetlb.%s.events" : "hugetlb.%s.failcnt", size);
	_cleanup_free_ char *events = h->v2 ? read_text(h, fail) : NULL;
	json_t *e = json_object();

	put_nz(e, "usage", read_u64(h, cur));
	put_nz(e, "max", h->v2 ? 0 : read_u64(h, max));
	put(e, "failcnt", h->v2 ? keyed(events, "max") : read_u64(h, fail));
	return e;
}

static json_t *hugetlb_stats(struct cell_cgroup *cg)
{
	struct cgroup_hier *h = cgroup_hier_for(cg, "hugetlb");
	_cleanup_closedir_ DIR *d = opendir("/sys/kernel/mm/hugepages");
	json_t *m = json_object();
	struct dirent *de;
	char size[32];

	_cleanup_strv_free_ char **sizes = NULL;

	if (!h) /* hybrid hosts may bind hugetlb to the unified hierarchy */
		h = cgroup_unified(cg);
	while (h && d && (de = readdir(d)))
		if (page_size_name(de->d_name, size, sizeof(size)))
			cell_strv_push(&sizes, xstrdup(size));
	if (sizes)
		qsort(sizes, cell_strv_len(sizes), sizeof(char *), cmp_key);
	for (size_t i = 0; sizes && sizes[i]; i++) {
		_cleanup_free_ char *probe = xasprintf(h->v2 ? "hugetlb.%s.current"
							      : "hugetlb.%s.usage_in_bytes",
						       sizes[i]);
		if (cg_has(h, probe))
			json_object_set_new(m, sizes[i], hugetlb_one(h, sizes[i]));
	}
	return m;
}

/* "0-3,5" -> [0,1,2,3,5] */
static json_t *cpu_list(const char *s)
{
	json_t *a = json_array();
	unsigned lo, hi;
	int n;

	for (const char *p = s; *p; p += *p == ',') {
		if (sscanf(p, "%u%n", &lo, &n) != 1)
			break;
		p += n;
		hi = lo;
		if (*p == '-' && sscanf(p + 1, "%u%n", &hi, &n) == 1)
			p += 1 + n;
		for (unsigned i = lo; i <= hi && i < 65536; i++)
			json_array_append_new(a, json_integer(i));
	}
	return a;
}

static json_t *cpuset_stats(struct cell_cgroup *cg)
{
	static const char *const flags[] = {
		"cpu_exclusive",      "mem_hardwall",	    "mem_exclusive",	  "memory_migrate",
		"memory_spread_page", "memory_spread_slab", "memory_pressure", "sched_load_balance",
	};
	struct cgroup_hier *h = cgroup_hier_for(cg, "cpuset");
	bool v2 = h && h->v2;
	_cleanup_free_ char *cpus = read_text(h, v2 ? "cpuset.cpus.effective" : "cpuset.cpus");
	_cleanup_free_ char *mems = read_text(h, v2 ? "cpuset.mems.effective" : "cpuset.mems");
	_cleanup_free_ char *relax = read_text(v2 ? NULL : h, "cpuset.sched_relax_domain_level");
	json_t *c = json_object();

	/* runc's field order: cpus, cpu_exclusive, mems, then the rest */
	set_list(c, "cpus", cpu_list(cpus));
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		_cleanup_free_ char *f = xasprintf("cpuset.%s", flags[i]);
		if (i == 1)
			set_list(c, "mems", cpu_list(mems));
		put(c, flags[i], v2 ? 0 : read_u64(h, f));
	}
	json_object_set_new(c, "sched_relax_domain_level", json_integer(strtoll(relax, NULL, 10)));
	return c;
}

int cell_cgroup_stats(struct cell_cgroup *cg, json_t **out, struct cell_error *err)
{
	struct cgroup_hier *mem = cgroup_hier_for(cg, "memory"), *pids = cgroup_hier_for(cg, "pids");
	struct cgroup_hier *cpu = cgroup_hier_for(cg, "cpu");
	json_t *s = json_object();

	if (!cgroup_procs_hier(cg)) {
		json_decref(s);
		return cell_err(err, ENOENT, "cgroup %s: no hierarchy to read", cg->saved);
	}
	json_object_set_new(s, "cpu", cpu && cpu->v2 ? cpu_v2(cpu) : cpu_v1(cg));
	json_object_set_new(s, "cpuset", cpuset_stats(cg));
	json_object_set_new(s, "memory", mem && mem->v2 ? memory_v2(mem) : memory_v1(mem));
	json_object_set_new(s, "pids", pids_stats(pids));
	json_object_set_new(s, "blkio", blkio_stats(cg));
	json_object_set_new(s, "hugetlb", hugetlb_stats(cg));
	json_object_set_new(s, "intel_rdt", json_object());
	json_object_set_new(s, "network_interfaces", json_null());
	*out = s;
	return 0;
}

/* v1: memory.oom_control "oom_kill N" (4.13+); v2: memory.events "oom_kill N".  0 when
 * there is nothing to count, so that events still streams stats. */
int cell_cgroup_oom_count(struct cell_cgroup *cg, uint64_t *count, struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_hier_for(cg, "memory");
	_cleanup_free_ char *text = NULL;
	const char *file = h && h->v2 ? "memory.events" : "memory.oom_control";
	int r = h ? cg_read(h, file, &text) : -ENOENT;

	/* no memory controller (rootless, not delegated) or no file: nothing to count */
	if (r < 0 && r != -ENOENT)
		return cell_err(err, r, "read %s/%s", h->dir, file);
	*count = text ? keyed(text, "oom_kill") : 0;
	return 0;
}
