/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Resource semantics on fake cgroupfs trees (as test-cgroup.c): the zeros runc treats as
 * unset, and the usage report of `events` (runc's Stats shape) from v1 and v2 files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/cgroup/cgroup-internal.h"

#include "fake-cgroupfs.h"

#include <jansson.h>

/* What Docker sends for "not given": every 0 (and "" cpus/mems) writes nothing, the
 * non-zero fields of the same request are all written. */
static const char *const v2_untouched[] = {"memory.max", "memory.low",	"memory.swap.max",
					   "cpu.weight", "pids.max",	"io.weight",
					   "cpuset.cpus", "cpuset.mems", "io.bfq.weight"};

static void docker_zeros(struct cell_resources *r, struct cell_weight_device *wd)
{
	*wd = (struct cell_weight_device){.major = 8, .weight_set = true, .leaf_weight_set = true};
	r->memory.limit = r->memory.reservation = r->memory.swap = (struct cell_i64){true, 0};
	r->memory.kernel = r->memory.kernel_tcp = (struct cell_i64){true, 0};
	r->cpu.shares = r->cpu.period = r->cpu.realtime_period = (struct cell_u64){true, 0};
	r->cpu.quota = r->cpu.realtime_runtime = (struct cell_i64){true, 0};
	r->cpu.cpus = r->cpu.mems = (char *)"";
	r->pids.limit = (struct cell_i64){true, 0};
	r->block_io.weight = r->block_io.leaf_weight = (struct cell_u64){true, 0};
	r->block_io.weight_devices = wd;
	r->block_io.n_weight_devices = 1;
	r->network.class_id = (struct cell_u64){true, 0};
}

static void test_v2_zero_is_unset(void **state)
{
	struct fx *f = *state;
	struct cell_weight_device wd;
	struct cell_resources r = {0};

	make_v2(f);
	create(f, "/z");
	put(f, "z/memory.swap.max", "max");
	put(f, "z/io.bfq.weight", "default 100");
	put(f, "z/cpu.max", "max 100000");
	docker_zeros(&r, &wd);
	apply_ok(f, &r);
	for (size_t i = 0; i < ARRAY_SIZE(v2_untouched); i++) {
		_cleanup_free_ char *rel = xasprintf("z/%s", v2_untouched[i]);
		if (streq(v2_untouched[i], "memory.swap.max"))
			assert_file(f, rel, "max");
		else if (streq(v2_untouched[i], "io.bfq.weight"))
			assert_file(f, rel, "default 100");
		else
			assert_false(exists(f, rel));
	}
	assert_file(f, "z/cpu.max", "max 100000");
	/* the valid fields of the same update are all applied */
	r.memory.limit = (struct cell_i64){true, 1 << 26};
	r.cpu.period = (struct cell_u64){true, 50000};
	r.pids.limit = (struct cell_i64){true, 9};
	apply_ok(f, &r);
	assert_file(f, "z/memory.max", "67108864");
	assert_file(f, "z/cpu.max", "max 50000");
	assert_file(f, "z/pids.max", "9");
	assert_false(exists(f, "z/cpu.weight"));
	/* lifting the memory limit with swap 0 lifts swap too (runc's conversion) */
	put(f, "z/memory.swap.max", "1000");
	r.memory.limit = (struct cell_i64){true, -1};
	apply_ok(f, &r);
	assert_file(f, "z/memory.max", "max");
	assert_file(f, "z/memory.swap.max", "max");
}

static const char *const v1_untouched[] = {
    "cpu,cpuacct/z/cpu.shares",	       "cpu,cpuacct/z/cpu.cfs_period_us",
    "cpu,cpuacct/z/cpu.cfs_quota_us",  "cpu,cpuacct/z/cpu.rt_period_us",
    "cpu,cpuacct/z/cpu.rt_runtime_us", "pids/z/pids.max",
    "memory/z/memory.limit_in_bytes",  "memory/z/memory.soft_limit_in_bytes",
    "blkio/z/blkio.bfq.weight",	       "blkio/z/blkio.leaf_weight",
    "blkio/z/blkio.bfq.weight_device", "blkio/z/blkio.leaf_weight_device",
    "memory/z/memory.kmem.tcp.limit_in_bytes"};

/* Docker's zeros on v1: nothing written, no error for the absent net_cls either. */
static void test_v1_zero_is_unset(void **state)
{
	struct fx *f = *state;
	struct cell_weight_device wd;
	struct cell_resources r = {0};

	make_v1(f);
	create(f, "/z");
	docker_zeros(&r, &wd);
	apply_ok(f, &r);
	for (size_t i = 0; i < ARRAY_SIZE(v1_untouched); i++)
		if (exists(f, v1_untouched[i]))
			fail_msg("%s was written", v1_untouched[i]);
	assert_file(f, "cpuset/z/cpuset.cpus", "0-3"); /* the parent's copy stays */
	assert_false(exists(f, "memory/z/memory.memsw.limit_in_bytes"));
	r.cpu.quota = (struct cell_i64){true, 20000};
	r.pids.limit = (struct cell_i64){true, -1};
	apply_ok(f, &r);
	assert_file(f, "cpu,cpuacct/z/cpu.cfs_quota_us", "20000");
	assert_false(exists(f, "cpu,cpuacct/z/cpu.cfs_period_us"));
	assert_file(f, "pids/z/pids.max", "max");
}


/* ---- stats ---- */

static json_t *stats_of(struct fx *f)
{
	json_t *s = NULL;

	if (cell_cgroup_stats(f->cg, &s, &f->err) < 0)
		fail_msg("stats: %s", f->err.msg);
	return s;
}

static long long at(json_t *s, const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);
	json_t *v = s;

	for (char *p = copy, *dot; v && p; p = dot ? dot + 1 : NULL) {
		dot = strchr(p, '.');
		if (dot)
			*dot = '\0';
		v = json_object_get(v, p);
	}
	if (!v)
		return -1; /* absent: omitempty */
	return json_integer_value(v);
}

static void test_v2_stats(void **state)
{
	struct fx *f = *state;
	json_t *s;

	make_v2(f);
	create(f, "/s");
	put(f, "s/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
			     "nr_periods 7\nnr_throttled 2\nthrottled_usec 30\n");
	put(f, "s/memory.current", "4096");
	put(f, "s/memory.max", "max");
	put(f, "s/memory.swap.current", "0");
	put(f, "s/memory.swap.max", "max");
	put(f, "s/memory.stat", "file 1024\nanon 3072\n");
	put(f, "s/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
	put(f, "s/pids.current", "2");
	put(f, "s/pids.max", "max");
	put(f, "s/io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n");
	put(f, "s/cpuset.cpus.effective", "0-2,5");
	s = stats_of(f);
	assert_int_equal(at(s, "cpu.usage.total"), 1500000);
	assert_int_equal(at(s, "cpu.usage.user"), 1000000);
	assert_int_equal(at(s, "cpu.usage.kernel"), 500000);
	assert_int_equal(at(s, "cpu.throttling.throttledPeriods"), 2);
	assert_int_equal(at(s, "cpu.throttling.throttledTime"), 30000);
	assert_int_equal(at(s, "memory.cache"), 1024);
	assert_int_equal(at(s, "memory.usage.usage"), 4096);
	assert_int_equal(at(s, "memory.usage.failcnt"), 3);
	assert_int_equal(at(s, "memory.swap.usage"), 4096); /* memory+swap, as v1 */
	assert_int_equal(at(s, "memory.raw.anon"), 3072);
	assert_int_equal(at(s, "pids.current"), 2);
	assert_int_equal(at(s, "pids.limit"), -1); /* "max": left out */
	json_t *bytes = json_object_get(json_object_get(s, "blkio"), "ioServiceBytesRecursive");
	assert_int_equal(json_array_size(bytes), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(bytes, 1), "op")),
			    "Write");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(bytes, 1), "value")),
			 200);
	assert_int_equal(json_array_size(json_object_get(json_object_get(s, "cpuset"), "cpus")), 4);
	json_decref(s);
	uint64_t n = 0;
	assert_int_equal(cell_cgroup_oom_count(f->cg, &n, &f->err), 0);
	assert_int_equal(n, 1);
}

static void test_v1_stats(void **state)
{
	struct fx *f = *state;
	json_t *s;

	make_v1(f);
	create(f, "/s");
	put(f, "cpu,cpuacct/s/cpuacct.usage", "900");
	put(f, "cpu,cpuacct/s/cpuacct.usage_percpu", "400 500 ");
	put(f, "memory/s/memory.usage_in_bytes", "8192");
	put(f, "memory/s/memory.limit_in_bytes", "65536");
	put(f, "memory/s/memory.failcnt", "4");
	put(f, "memory/s/memory.stat", "rss 10\ncache 20\n");
	put(f, "memory/s/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	put(f, "pids/s/pids.current", "3");
	put(f, "pids/s/pids.max", "50");
	put(f, "blkio/s/blkio.throttle.io_serviced_recursive", "8:0 Read 5\n8:0 Write 6\nTotal 11\n");
	s = stats_of(f);
	assert_int_equal(at(s, "cpu.usage.total"), 900);
	assert_int_equal(json_array_size(json_object_get(json_object_get(json_object_get(s, "cpu"),
									  "usage"),
							 "percpu")),
			 2);
	assert_int_equal(at(s, "memory.usage.limit"), 65536);
	assert_int_equal(at(s, "memory.usage.failcnt"), 4);
	assert_int_equal(at(s, "memory.cache"), 20);
	assert_int_equal(at(s, "pids.limit"), 50);
	json_t *ios = json_object_get(json_object_get(s, "blkio"), "ioServicedRecursive");
	assert_int_equal(json_array_size(ios), 2); /* "Total" has no device */
	assert_int_equal(at(s, "blkio.ioServiceBytesRecursive"), -1);
	json_decref(s);
	uint64_t n = 0;
	assert_int_equal(cell_cgroup_oom_count(f->cg, &n, &f->err), 0);
	assert_int_equal(n, 2);
}

#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    FX(test_v2_zero_is_unset),
	    FX(test_v1_zero_is_unset),
	    FX(test_v2_stats),
	    FX(test_v1_stats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
