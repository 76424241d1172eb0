/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cgroup manager against fake cgroupfs trees: plain directories and files in a temp
 * dir, laid out like /sys/fs/cgroup on v2, v1 and hybrid hosts.  Plain files only keep the
 * last value written, so each check reads back what a single write left.
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

/* ---- tree helpers ---- */

static void dir(const struct fx *f, const char *rel)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", f->root, rel);

	assert_int_equal(cell_mkdir_p(p, 0755), 0);
}

static void write_self(const struct fx *f, const char *text)
{
	assert_int_equal(cell_write_file_atomic(f->self, text, strlen(text), 0644), 0);
}

static void make_hybrid(const struct fx *f)
{
	make_v1(f);
	put(f, "unified/cgroup.controllers", "hugetlb");
	put(f, "unified/cgroup.subtree_control", "");
	put(f, "unified/cgroup.procs", "");
}

static bool contains_word(const char *list, const char *word)
{
	_cleanup_strv_free_ char **v = cg_split(list, ' ');

	return cell_strv_contains(v, word);
}

/* ---- path rules ---- */

static void resolve_is(const struct cell_cgroup_opts *o, const char *in, const char *want,
		       bool want_rel)
{
	_cleanup_free_ char *out = NULL;
	struct cell_error err = {0};
	bool rel = !want_rel;

	if (cell_cgroup_resolve_path(o, in, &out, &rel, &err) < 0)
		fail_msg("resolve %s: %s", in ? in : "(null)", err.msg);
	assert_string_equal(out, want);
	assert_int_equal(rel, want_rel);
}

static void resolve_fails(const struct cell_cgroup_opts *o, const char *in)
{
	_cleanup_free_ char *out = NULL;
	struct cell_error err = {0};
	bool rel;

	assert_int_equal(cell_cgroup_resolve_path(o, in, &out, &rel, &err), -EINVAL);
	assert_null(out);
	assert_true(err.msg[0]);
}

static void test_resolve_path(void **state)
{
	struct cell_cgroup_opts o = {.id = "c1"}, sd = {.id = "c1", .systemd = true};

	resolve_is(&o, "/a//b/./", "/a/b", false);
	resolve_is(&o, "x/y", "x/y", true);
	resolve_is(&o, NULL, "cellrun/c1", true);
	resolve_is(&o, "machine-web.slice:cell:c1",
		   "/machine.slice/machine-web.slice/cell-c1.scope", false);
	resolve_is(&o, "system.slice:cell:c1", "/system.slice/cell-c1.scope", false);
	resolve_is(&o, ":cell:c1", "/system.slice/cell-c1.scope", false);
	resolve_is(&o, "-.slice::c1", "/c1.scope", false);
	resolve_is(&o, "a-b.slice:p:sub.slice", "/a.slice/a-b.slice/sub.slice", false);
	resolve_is(&sd, NULL, "/system.slice/cellrun-c1.scope", false);
	resolve_is(&sd, "user.slice:p:n", "/user.slice/p-n.scope", false);
	resolve_fails(&o, "/a/../b");
	resolve_fails(&o, "/");
	resolve_fails(&o, "a--b.slice:p:n");
	resolve_fails(&o, "-a.slice:p:n");
	resolve_fails(&o, "nope:p:n");
	resolve_fails(&o, "a.slice:p:");
	resolve_fails(&sd, "/abs/path");
	o.id = NULL;
	resolve_fails(&o, NULL);
}

static void base_is(const char *text, struct cgroup_hier *h, const char *want)
{
	_cleanup_free_ char *got = cgroup_self_base(text, h);

	assert_string_equal(got, want);
}

static void test_self_base(void **state)
{
	const char *text = "9:name=systemd:/init.scope\n4:memory:/process_api/abc\n"
			   "2:cpu,cpuacct:/\n0::/user.slice/s1\n";
	char *mem[] = {(char *)"memory", NULL}, *cpu[] = {(char *)"cpuacct", NULL};
	char *sd[] = {(char *)"name=systemd", NULL}, *pids[] = {(char *)"pids", NULL};
	struct cgroup_hier h = {.controllers = mem}, v2 = {.v2 = true};

	base_is(text, &h, "/process_api/abc");
	h.controllers = cpu;
	base_is(text, &h, "/");
	h.controllers = sd;
	base_is(text, &h, "/init.scope");
	h.controllers = pids; /* not listed */
	base_is(text, &h, "/");
	base_is(text, &v2, "/user.slice/s1");
}

/* ---- detection ---- */

static void test_detect(void **state)
{
	struct fx *f = *state;
	enum cell_cgroup_mode m;
	struct cell_error err = {0};

	assert_int_equal(cell_cgroup_detect(f->root, &m, &err), -ENOENT);
	make_v1(f);
	assert_int_equal(cell_cgroup_detect(f->root, &m, &err), 0);
	assert_int_equal(m, CELL_CGROUP_V1);
	dir(f, "unified"); /* present but not a cgroup2 tree: still v1 */
	assert_int_equal(cell_cgroup_detect(f->root, &m, &err), 0);
	assert_int_equal(m, CELL_CGROUP_V1);
	put(f, "unified/cgroup.controllers", "hugetlb");
	assert_int_equal(cell_cgroup_detect(f->root, &m, &err), 0);
	assert_int_equal(m, CELL_CGROUP_HYBRID);
	put(f, "cgroup.controllers", "memory");
	assert_int_equal(cell_cgroup_detect(f->root, &m, &err), 0);
	assert_int_equal(m, CELL_CGROUP_V2);
}

/* ---- v2 ---- */

static void test_v2_create_apply(void **state)
{
	struct fx *f = *state;
	struct cell_throttle_device rbps = {8, 0, 1048576}, wiops = {8, 0, 100},
				    rbps2 = {8, 16, 2048};
	struct cell_throttle_device rb[] = {rbps, rbps2};
	struct cell_hugepage_limit huge = {(char *)"2MB", 4194304};
	struct cell_kv uni = {(char *)"memory.high", (char *)"900000000"};
	struct cell_resources r = {0};

	make_v2(f);
	create(f, "/a/b");
	assert_int_equal(cell_cgroup_get_mode(f->cg), CELL_CGROUP_V2);
	assert_string_equal(cell_cgroup_path(f->cg), "/a/b");
	assert_true(exists(f, "a/b"));
	put(f, "a/b/memory.swap.max", "max"); /* swap accounting on */

	r.memory.limit = (struct cell_i64){true, 1 << 30};
	r.memory.swap = (struct cell_i64){true, 3LL << 29};
	r.memory.reservation = (struct cell_i64){true, 1 << 29};
	r.cpu.shares = (struct cell_u64){true, 1024};
	r.cpu.quota = (struct cell_i64){true, 50000};
	r.cpu.period = (struct cell_u64){true, 100000};
	r.pids.limit = (struct cell_i64){true, 32};
	r.block_io.weight = (struct cell_u64){true, 500};
	r.block_io.read_bps = rb;
	r.block_io.n_read_bps = 2;
	r.block_io.write_iops = &wiops;
	r.block_io.n_write_iops = 1;
	r.hugepage_limits = &huge;
	r.n_hugepage_limits = 1;
	r.unified = &uni;
	r.n_unified = 1;
	apply_ok(f, &r);

	_cleanup_free_ char *top = get(f, "cgroup.subtree_control");
	_cleanup_free_ char *mid = get(f, "a/cgroup.subtree_control");
	const char *want[] = {"+memory", "+cpu", "+pids", "+io", "+hugetlb"};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_true(contains_word(top, want[i]));
		assert_true(contains_word(mid, want[i]));
	}
	assert_false(contains_word(top, "+cpuset"));	       /* not needed */
	assert_false(exists(f, "a/b/cgroup.subtree_control")); /* the leaf holds tasks */
	assert_file(f, "a/b/memory.max", "1073741824");
	assert_file(f, "a/b/memory.swap.max", "536870912");
	assert_file(f, "a/b/memory.low", "536870912");
	assert_file(f, "a/b/cpu.weight", "39");
	assert_file(f, "a/b/cpu.max", "50000 100000");
	assert_file(f, "a/b/pids.max", "32");
	assert_file(f, "a/b/io.weight", "4950");
	/* one line per device; a plain file keeps the last one */
	assert_file(f, "a/b/io.max", "8:16 rbps=2048");
	assert_file(f, "a/b/hugetlb.2MB.max", "4194304");
	assert_file(f, "a/b/memory.high", "900000000");
	assert_false(exists(f, "a/b/hugetlb.2MB.rsvd.max"));
}

static void test_v2_io_max_line(void **state)
{
	struct fx *f = *state;
	struct cell_throttle_device rbps = {8, 0, 1048576}, wiops = {8, 0, 100};
	struct cell_weight_device wd = {.major = 8, .minor = 0, .weight_set = true, .weight = 300};
	struct cell_resources r = {0};

	make_v2(f);
	create(f, "/io");
	put(f, "io/io.bfq.weight", "default 100");
	r.block_io.read_bps = &rbps;
	r.block_io.n_read_bps = 1;
	r.block_io.write_iops = &wiops;
	r.block_io.n_write_iops = 1;
	r.block_io.weight = (struct cell_u64){true, 500};
	r.block_io.weight_devices = &wd;
	r.block_io.n_weight_devices = 1;
	apply_ok(f, &r);
	assert_file(f, "io/io.max", "8:0 rbps=1048576 wiops=100");
	/* BFQ takes blkio's scale unconverted */
	assert_file(f, "io/io.bfq.weight", "8:0 300");
	assert_false(exists(f, "io/io.weight"));
}

static void test_v2_cpu_max_forms(void **state)
{
	struct fx *f = *state;
	struct cell_resources r = {0};

	make_v2(f);
	create(f, "/c");
	r.cpu.quota = (struct cell_i64){true, -1};
	apply_ok(f, &r);
	assert_file(f, "c/cpu.max", "max");
	put(f, "c/cpu.max", "20000 100000");
	r.cpu.quota.set = false;
	r.cpu.period = (struct cell_u64){true, 50000};
	apply_ok(f, &r); /* the quota is kept */
	assert_file(f, "c/cpu.max", "20000 50000");
	r.pids.limit = (struct cell_i64){true, -1};
	apply_ok(f, &r);
	assert_file(f, "c/pids.max", "max");
	r.pids.limit = (struct cell_i64){true, 0}; /* runc: 0 is unset, not "max" */
	put(f, "c/pids.max", "40");
	apply_ok(f, &r);
	assert_file(f, "c/pids.max", "40");
	r = (struct cell_resources){0};
	r.cpu.realtime_runtime = (struct cell_i64){true, 1000};
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -ENOTSUP);
}

static void test_v2_relative(void **state)
{
	struct fx *f = *state;
	struct cell_resources r = {0};

	make_v2(f);
	put(f, "user.slice/cgroup.controllers", "memory pids");
	put(f, "user.slice/s1/cgroup.procs", "");
	write_self(f, "0::/user.slice/s1\n");
	create(f, NULL);
	assert_string_equal(cell_cgroup_path(f->cg), "/user.slice/s1/cellrun/c1");
	assert_true(exists(f, "user.slice/s1/cellrun/c1"));
	r.pids.limit = (struct cell_i64){true, 10};
	apply_ok(f, &r);
	assert_file(f, "cgroup.subtree_control", "+pids");
	assert_file(f, "user.slice/cgroup.subtree_control", "+pids");
	assert_file(f, "user.slice/s1/cgroup.subtree_control", "+pids");
	assert_file(f, "user.slice/s1/cellrun/cgroup.subtree_control", "+pids");
	assert_file(f, "user.slice/s1/cellrun/c1/pids.max", "10");
}

static void test_v2_enable_only_adds(void **state)
{
	struct fx *f = *state;
	struct cell_resources r = {0};

	make_v2(f);
	put(f, "cgroup.subtree_control", "memory pids");
	create(f, "/x");
	r.pids.limit = (struct cell_i64){true, 5};
	r.memory.limit = (struct cell_i64){true, 4096};
	apply_ok(f, &r);
	assert_file(f, "cgroup.subtree_control", "memory pids"); /* nothing written */
	r.cpu.shares = (struct cell_u64){true, 2};
	apply_ok(f, &r);
	assert_file(f, "cgroup.subtree_control", "+cpu");
	assert_file(f, "x/cpu.weight", "1");
}

static void test_v2_unavailable_controller(void **state)
{
	struct fx *f = *state;
	struct cell_hugepage_limit huge = {(char *)"1GB", 1 << 30};
	struct cell_resources r = {.hugepage_limits = &huge, .n_hugepage_limits = 1};

	make_v2(f);
	put(f, "cgroup.controllers", "memory pids");
	create(f, "/h");
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -ENOTSUP);
	assert_non_null(strstr(f->err.msg, "hugetlb"));
}

static void test_v2_errors(void **state)
{
	struct fx *f = *state;
	struct cell_kv bad = {(char *)"../../memory.max", (char *)"1"};
	struct cell_resources r = {0};
	_cleanup_free_ char *want = NULL;

	make_v2(f);
	create(f, "/e");
	r.unified = &bad;
	r.n_unified = 1;
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -EINVAL);
	assert_non_null(strstr(f->err.msg, "../../memory.max"));

	r = (struct cell_resources){0};
	r.memory.swap = (struct cell_i64){true, 1024};
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -EINVAL); /* no limit */
	r.memory.limit = (struct cell_i64){true, 2048};
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -EINVAL); /* swap < limit */

	/* a refused write names the file and the value */
	r = (struct cell_resources){0};
	r.memory.limit = (struct cell_i64){true, 1024};
	dir(f, "e/memory.max");
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -EISDIR);
	want = xasprintf("write %s/e/memory.max \"1024\"", f->root);
	assert_string_equal(f->err.msg, want);
}

static void test_v2_memory_swap_absent(void **state)
{
	struct fx *f = *state;
	struct cell_resources r = {0};

	make_v2(f);
	create(f, "/m");
	r.memory.limit = (struct cell_i64){true, 1 << 20};
	r.memory.swap = (struct cell_i64){true, -1};
	r.memory.kernel = (struct cell_i64){true, 1 << 20}; /* deprecated: ignored */
	apply_ok(f, &r); /* no swap accounting: unlimited swap is fine */
	assert_false(exists(f, "m/memory.swap.max"));
	r.memory.swap = (struct cell_i64){true, 2 << 20};
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -ENOTSUP);
	put(f, "m/memory.swap.max", "max");
	apply_ok(f, &r);
	assert_file(f, "m/memory.swap.max", "1048576");
}

static void test_v2_lifecycle(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ char *me = xasprintf("%d", (int)getpid());
	struct cell_cgroup_mount *m = NULL;
	unsigned long long mem = 0;
	size_t n = 0;
	bool frozen = true;

	make_v2(f);
	create(f, "/life");
	assert_int_equal(cell_cgroup_enter(f->cg, getpid(), &f->err), 0);
	assert_file(f, "life/cgroup.procs", me);

	put(f, "life/cgroup.procs", "101\n102\n");
	put(f, "life/child/cgroup.procs", "103\n");
	assert_int_equal(cell_cgroup_pids(f->cg, &pids, &n, &f->err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pids[2], 103);

	/* no freezer file: old kernel */
	assert_int_equal(cell_cgroup_freeze(f->cg, true, &f->err), -ENOTSUP);
	put(f, "life/cgroup.freeze", "0");
	put(f, "life/cgroup.events", "populated 1\nfrozen 1\n");
	assert_int_equal(cell_cgroup_freeze(f->cg, true, &f->err), 0);
	assert_file(f, "life/cgroup.freeze", "1");
	assert_int_equal(cell_cgroup_is_frozen(f->cg, &frozen, &f->err), 0);
	assert_true(frozen);
	put(f, "life/cgroup.events", "populated 1\nfrozen 0\n");
	assert_int_equal(cell_cgroup_freeze(f->cg, false, &f->err), 0);
	assert_file(f, "life/cgroup.freeze", "0");
	assert_int_equal(cell_cgroup_is_frozen(f->cg, &frozen, &f->err), 0);
	assert_false(frozen);

	put(f, "life/cgroup.kill", "");
	assert_int_equal(cell_cgroup_kill(f->cg, SIGKILL, &f->err), 0);
	assert_file(f, "life/cgroup.kill", "1");

	assert_int_equal(cell_cgroup_memory_current(f->cg, &mem, &f->err), -ENODATA);
	put(f, "life/memory.current", "4096\n");
	assert_int_equal(cell_cgroup_memory_current(f->cg, &mem, &f->err), 0);
	assert_int_equal(mem, 4096);

	assert_int_equal(cell_cgroup_mounts(f->cg, &m, &n, &f->err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].name, "");
	assert_string_equal(m[0].fstype, "cgroup2");
	assert_string_equal(m[0].options, "");
	assert_true(cell_startswith(m[0].host_path, f->root));
	assert_string_equal(m[0].host_path + strlen(f->root), "/life");
	cell_cgroup_mounts_free(m, n);

	assert_int_equal(cell_cgroup_destroy(f->cg, &f->err), 0);
	assert_false(exists(f, "life"));
	assert_true(exists(f, "cgroup.controllers"));
	assert_int_equal(cell_cgroup_destroy(f->cg, &f->err), 0); /* already gone is fine */
}

static void test_v2_reuse_and_open(void **state)
{
	struct fx *f = *state;
	struct cell_cgroup *again = NULL;

	make_v2(f);
	put(f, "busy/cgroup.procs", "42\n");
	assert_int_equal(cell_cgroup_create(&f->o, "/busy", &f->cg, &f->err), -EBUSY);
	assert_null(f->cg);
	put(f, "idle/cgroup.procs", "");
	create(f, "/idle");
	assert_int_equal(cell_cgroup_open(&f->o, cell_cgroup_path(f->cg), &again, &f->err), 0);
	assert_string_equal(cell_cgroup_path(again), "/idle");
	assert_int_equal(cell_cgroup_enter(again, 7, &f->err), 0);
	assert_file(f, "idle/cgroup.procs", "7");
	cell_cgroup_free(again);
}

/* ---- v1 ---- */

static const char v1_self[] = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n"
			      "5:devices:/\n4:memory:/process_api/abc\n3:cpuset:/\n"
			      "2:cpu,cpuacct:/\n0::/\n";

static void test_v1_relative_paths(void **state)
{
	struct fx *f = *state;
	struct cell_cgroup *again = NULL;
	struct cell_cgroup_mount *m = NULL;
	size_t n = 0;
	const char *saved;

	make_v1(f);
	write_self(f, v1_self);
	create(f, "cellrun/x");
	assert_int_equal(cell_cgroup_get_mode(f->cg), CELL_CGROUP_V1);
	assert_true(exists(f, "memory/process_api/abc/cellrun/x"));
	assert_true(exists(f, "cpu,cpuacct/cellrun/x"));
	assert_true(exists(f, "systemd/cellrun/x"));
	assert_false(exists(f, "memory/cellrun"));
	saved = cell_cgroup_path(f->cg);
	assert_non_null(strstr(saved, "memory:/process_api/abc/cellrun/x"));
	assert_non_null(strstr(saved, "cpu,cpuacct:/cellrun/x"));

	assert_int_equal(cell_cgroup_open(&f->o, saved, &again, &f->err), 0);
	assert_int_equal(cell_cgroup_mounts(again, &m, &n, &f->err), 0);
	assert_int_equal(n, ARRAY_SIZE(v1_dirs));
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(m[i].fstype, "cgroup");
		if (streq(m[i].name, "memory"))
			assert_non_null(
			    strstr(m[i].host_path, "/memory/process_api/abc/cellrun/x"));
		if (streq(m[i].name, "cpu,cpuacct")) {
			assert_string_equal(m[i].options, "cpu,cpuacct");
			assert_true(cell_strv_contains(m[i].aliases, "cpu"));
			assert_true(cell_strv_contains(m[i].aliases, "cpuacct"));
		}
		if (streq(m[i].name, "systemd"))
			assert_string_equal(m[i].options, "none,name=systemd");
	}
	cell_cgroup_mounts_free(m, n);
	cell_cgroup_free(again);
}

static void test_v1_cpuset_inherit(void **state)
{
	struct fx *f = *state;
	struct cell_cgroup *other = NULL;

	make_v1(f);
	put(f, "cpuset/pre/cpuset.cpus", "");
	put(f, "cpuset/pre/cgroup.procs", "");
	create(f, "/new/leaf");
	assert_file(f, "cpuset/new/cpuset.cpus", "0-3");
	assert_file(f, "cpuset/new/cpuset.mems", "0");
	assert_file(f, "cpuset/new/leaf/cpuset.cpus", "0-3");
	assert_file(f, "cpuset/new/leaf/cpuset.mems", "0");
	assert_false(exists(f, "memory/new/leaf/cpuset.cpus"));
	/* an existing level with an empty cpuset (a pod's parent made by mkdir) gets its
	 * parent's, as runc's ensureParent; one with values keeps them */
	assert_int_equal(cell_cgroup_create(&f->o, "/pre/y", &other, &f->err), 0);
	assert_file(f, "cpuset/pre/cpuset.cpus", "0-3");
	assert_file(f, "cpuset/pre/y/cpuset.cpus", "0-3");
	cell_cgroup_free(other);
	other = NULL;
	put(f, "cpuset/set/cpuset.cpus", "1");
	put(f, "cpuset/set/cpuset.mems", "0");
	assert_int_equal(cell_cgroup_create(&f->o, "/set/z", &other, &f->err), 0);
	assert_file(f, "cpuset/set/cpuset.cpus", "1");
	assert_file(f, "cpuset/set/z/cpuset.cpus", "1");
	cell_cgroup_free(other);
}

static void test_v1_apply(void **state)
{
	struct fx *f = *state;
	struct cell_device_rule deny = {
	    .allow = false, .type = 'c', .major = 10, .minor = 200, .access = "rwm"};
	struct cell_throttle_device wbps = {8, 0, 4096};
	struct cell_resources r = {0};

	make_v1(f);
	create(f, "/v1");
	r.cpu.shares = (struct cell_u64){true, 512};
	r.cpu.quota = (struct cell_i64){true, 25000};
	r.cpu.period = (struct cell_u64){true, 100000};
	r.cpu.cpus = (char *)"1";
	r.pids.limit = (struct cell_i64){true, 64};
	r.memory.limit = (struct cell_i64){true, 1 << 26};
	r.memory.reservation = (struct cell_i64){true, 1 << 25};
	r.memory.swappiness = (struct cell_u64){true, 10};
	r.memory.disable_oom_killer_set = r.memory.disable_oom_killer = true;
	r.memory.kernel = (struct cell_i64){true, 1 << 20}; /* ignored */
	r.block_io.write_bps = &wbps;
	r.block_io.n_write_bps = 1;
	r.devices = &deny;
	r.n_devices = 1;
	apply_ok(f, &r);
	assert_file(f, "cpu,cpuacct/v1/cpu.shares", "512");
	assert_file(f, "cpu,cpuacct/v1/cpu.cfs_quota_us", "25000");
	assert_file(f, "cpu,cpuacct/v1/cpu.cfs_period_us", "100000");
	assert_file(f, "cpuset/v1/cpuset.cpus", "1");
	assert_file(f, "pids/v1/pids.max", "64");
	assert_file(f, "memory/v1/memory.limit_in_bytes", "67108864");
	assert_file(f, "memory/v1/memory.soft_limit_in_bytes", "33554432");
	assert_file(f, "memory/v1/memory.swappiness", "10");
	assert_file(f, "memory/v1/memory.oom_control", "1");
	assert_false(exists(f, "memory/v1/memory.kmem.limit_in_bytes"));
	assert_file(f, "blkio/v1/blkio.throttle.write_bps_device", "8:0 4096");
	assert_file(f, "devices/v1/devices.deny", "c 10:200 rwm");
	assert_file(f, "devices/v1/devices.allow", "b *:* m");

	r = (struct cell_resources){0};
	r.memory.swappiness = (struct cell_u64){true, 101};
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -EINVAL);
	r = (struct cell_resources){0};
	r.network.class_id = (struct cell_u64){true, 0x100001};
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -ENOTSUP);
	assert_non_null(strstr(f->err.msg, "net_cls"));
	struct cell_kv kv = {(char *)"memory.high", (char *)"1"};
	r = (struct cell_resources){.unified = &kv, .n_unified = 1};
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -ENOTSUP);
	assert_non_null(strstr(f->err.msg, "memory.high"));
}

static void test_v1_default_devices(void **state)
{
	struct fx *f = *state;

	make_v1(f);
	create(f, "/dev");
	apply_ok(f, NULL);
	assert_file(f, "devices/dev/devices.deny", "a");
	assert_file(f, "devices/dev/devices.allow", "b *:* m");
}

static void memsw_case(struct fx *f, const char *cur, int64_t limit, int64_t swap,
		       const char *memsw_after)
{
	struct cell_resources r = {0};

	put(f, "memory/sw/memory.memsw.limit_in_bytes", cur);
	r.memory.limit = (struct cell_i64){true, limit};
	r.memory.swap = (struct cell_i64){true, swap};
	/* the limit file refuses writes: what happened before it shows the order */
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -EISDIR);
	assert_non_null(strstr(f->err.msg, "memory.limit_in_bytes"));
	assert_file(f, "memory/sw/memory.memsw.limit_in_bytes", memsw_after);
}

static void test_v1_memory_swap_order(void **state)
{
	struct fx *f = *state;
	struct cell_resources r = {0};

	assert_true(cgroup_v1_swap_first(-1, 1 << 30));
	assert_true(cgroup_v1_swap_first(2LL << 30, 1 << 30));
	assert_false(cgroup_v1_swap_first(1 << 29, 1 << 30));

	make_v1(f);
	create(f, "/sw");
	put(f, "memory/sw/memory.memsw.limit_in_bytes", "9223372036854771712");
	r.memory.limit = (struct cell_i64){true, 1 << 29};
	r.memory.swap = (struct cell_i64){true, 1 << 30};
	apply_ok(f, &r);
	assert_file(f, "memory/sw/memory.limit_in_bytes", "536870912");
	assert_file(f, "memory/sw/memory.memsw.limit_in_bytes", "1073741824");

	_cleanup_free_ char *lim = xasprintf("%s/memory/sw/memory.limit_in_bytes", f->root);
	assert_int_equal(unlink(lim), 0);
	assert_int_equal(mkdir(lim, 0755), 0);
	/* raising: memsw first, so it is written before the limit fails */
	memsw_case(f, "1073741824", 3LL << 29, 2LL << 30, "2147483648");
	/* lowering: the limit first, so memsw is untouched */
	memsw_case(f, "2147483648", 1 << 29, 1 << 30, "2147483648");
}

static void test_v1_memsw_absent(void **state)
{
	struct fx *f = *state;
	struct cell_resources r = {0};
	_cleanup_free_ char *memsw = NULL;

	make_v1(f);
	memsw = xasprintf("%s/memory/memory.memsw.limit_in_bytes", f->root);
	assert_int_equal(unlink(memsw), 0);
	create(f, "/ns");
	r.memory.limit = (struct cell_i64){true, -1};
	apply_ok(f, &r); /* lifting the limit needs no memsw when there is none */
	assert_file(f, "memory/ns/memory.limit_in_bytes", "-1");
	r.memory.swap = (struct cell_i64){true, -1};
	apply_ok(f, &r);
	r.memory.limit = (struct cell_i64){true, 1 << 20};
	r.memory.swap = (struct cell_i64){true, 2 << 20};
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -ENOTSUP);
	assert_non_null(strstr(f->err.msg, "memory.memsw.limit_in_bytes"));
}

static void test_v1_freezer_and_kill(void **state)
{
	struct fx *f = *state;
	int status = 0;
	bool frozen = false;
	pid_t child;

	make_v1(f);
	create(f, "/fz");
	assert_int_equal(cell_cgroup_freeze(f->cg, true, &f->err), 0);
	assert_file(f, "freezer/fz/freezer.state", "FROZEN");
	assert_int_equal(cell_cgroup_is_frozen(f->cg, &frozen, &f->err), 0);
	assert_true(frozen);
	assert_int_equal(cell_cgroup_freeze(f->cg, false, &f->err), 0);
	assert_file(f, "freezer/fz/freezer.state", "THAWED");

	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	_cleanup_free_ char *pid = xasprintf("%d", (int)child);
	put(f, "pids/fz/cgroup.procs", pid);
	assert_int_equal(cell_cgroup_kill(f->cg, SIGKILL, &f->err), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_file(f, "freezer/fz/freezer.state", "THAWED");

	assert_int_equal(cell_cgroup_destroy(f->cg, &f->err), 0);
	for (size_t i = 0; i < ARRAY_SIZE(v1_dirs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/fz", v1_dirs[i]);
		assert_false(exists(f, p));
	}
}

/* A frozen cgroup (or one below a frozen one) is refused before anything is made:
 * a process joining it would stop for good. */
static void test_frozen_refused(void **state)
{
	struct fx *f = *state;

	make_v1(f);
	put(f, "freezer/fz/freezer.state", "FROZEN");
	assert_int_equal(cell_cgroup_create(&f->o, "/fz", &f->cg, &f->err), -EBUSY);
	assert_null(f->cg);
	assert_non_null(strstr(f->err.msg, "/freezer/fz is FROZEN"));
	assert_int_equal(cell_cgroup_create(&f->o, "/fz/below/c", &f->cg, &f->err), -EBUSY);
	assert_false(exists(f, "memory/fz"));
	assert_false(exists(f, "freezer/fz/below"));
	put(f, "freezer/fz/freezer.state", "FREEZING");
	assert_int_equal(cell_cgroup_create(&f->o, "/fz", &f->cg, &f->err), -EBUSY);
	put(f, "freezer/fz/freezer.state", "THAWED");
	create(f, "/fz/c");
}

static void test_v2_frozen_refused(void **state)
{
	struct fx *f = *state;

	make_v2(f);
	put(f, "fz/cgroup.events", "populated 0\nfrozen 1");
	assert_int_equal(cell_cgroup_create(&f->o, "/fz/c", &f->cg, &f->err), -EBUSY);
	assert_non_null(strstr(f->err.msg, "/fz is frozen (cgroup.freeze)"));
	assert_false(exists(f, "fz/c"));
	put(f, "fz/cgroup.events", "populated 0\nfrozen 0");
	put(f, "fz/cgroup.freeze", "1");
	assert_int_equal(cell_cgroup_create(&f->o, "/fz", &f->cg, &f->err), -EBUSY);
	assert_non_null(strstr(f->err.msg, "is freezing"));
	put(f, "fz/cgroup.freeze", "0");
	create(f, "/fz");
}

/* ---- hybrid ---- */

/* A fake tree has no kernel to take "0" in tasks or a clone into a cgroup: every
 * hierarchy is left to the parent's cgroup.procs write. */
static void test_join_on_a_fake_tree(void **state)
{
	struct fx *f = *state;
	struct cell_cgroup_join j;
	_cleanup_free_ char *pid = xasprintf("%d", 4242);

	make_hybrid(f);
	create(f, "/jn");
	assert_int_equal(cell_cgroup_join_open(f->cg, &j, &f->err), 0);
	assert_int_equal(j.clone_fd, -1);
	assert_int_equal(j.n, f->cg->n_h);
	for (size_t i = 0; i < j.n; i++) {
		assert_int_equal(j.how[i], CELL_JOIN_PROCS);
		assert_int_equal(j.task_fds[i], -1);
	}
	/* the child's part has nothing to do */
	assert_int_equal(cell_cgroup_join_self(&j, &f->err), 0);
	assert_int_equal(cell_cgroup_join_rest(f->cg, &j, 4242, &f->err), 0);
	assert_file(f, "unified/jn/cgroup.procs", pid);
	assert_file(f, "memory/jn/cgroup.procs", pid);
	cell_cgroup_join_close(&j);
	assert_null(j.how);
}

static void test_hybrid(void **state)
{
	struct fx *f = *state;
	struct cell_hugepage_limit huge = {(char *)"2MB", 8388608};
	struct cell_kv depth = {(char *)"cgroup.max.depth", (char *)"3"};
	struct cell_kv high = {(char *)"memory.high", (char *)"1"};
	struct cell_resources r = {.hugepage_limits = &huge, .n_hugepage_limits = 1};
	struct cell_cgroup_mount *m = NULL;
	_cleanup_free_ char *me = xasprintf("%d", (int)getpid());
	size_t n = 0;
	bool seen = false;

	make_hybrid(f);
	create(f, "/hy/c");
	assert_int_equal(cell_cgroup_get_mode(f->cg), CELL_CGROUP_HYBRID);
	assert_true(exists(f, "unified/hy/c"));
	assert_true(exists(f, "memory/hy/c"));
	assert_int_equal(cell_cgroup_enter(f->cg, getpid(), &f->err), 0);
	assert_file(f, "unified/hy/c/cgroup.procs", me);
	assert_file(f, "memory/hy/c/cgroup.procs", me);

	apply_ok(f, &r);
	assert_file(f, "unified/hy/c/hugetlb.2MB.max", "8388608");
	assert_file(f, "unified/cgroup.subtree_control", "+hugetlb");
	assert_file(f, "unified/hy/cgroup.subtree_control", "+hugetlb");
	assert_false(exists(f, "hugetlb"));

	r = (struct cell_resources){.unified = &depth, .n_unified = 1};
	assert_int_equal(cell_cgroup_apply(f->cg, &r, &f->err), -ENOENT);
	assert_non_null(strstr(f->err.msg, "cgroup.max.depth"));
	put(f, "unified/hy/c/cgroup.max.depth", "max");
	apply_ok(f, &r);
	assert_file(f, "unified/hy/c/cgroup.max.depth", "3");
	r.unified = &high; /* memory is bound to v1 here */
	assert_true(cell_cgroup_apply(f->cg, &r, &f->err) < 0);
	assert_non_null(strstr(f->err.msg, "memory.high"));

	assert_int_equal(cell_cgroup_mounts(f->cg, &m, &n, &f->err), 0);
	for (size_t i = 0; i < n; i++)
		if (streq(m[i].name, "unified")) {
			assert_string_equal(m[i].fstype, "cgroup2");
			seen = true;
		}
	assert_true(seen);
	cell_cgroup_mounts_free(m, n);
	assert_int_equal(cell_cgroup_destroy(f->cg, &f->err), 0);
	assert_false(exists(f, "unified/hy/c"));
}

/* ---- devices ---- */

static void test_device_rules(void **state)
{
	struct cell_device_rule *d = NULL, spec = {.allow = true,
						   .type = 'c',
						   .major = 10,
						   .minor = 200,
						   .access = "rw"};
	struct cell_resources r = {.devices = &spec, .n_devices = 1};
	size_t n = 0;
	char line[64];

	assert_int_equal(cell_cgroup_default_device_rules(&d, &n), 0);
	assert_int_equal(n, 11);
	cgroup_device_line(&d[0], line, sizeof(line));
	assert_string_equal(line, "c 1:3 rwm");
	cgroup_device_line(&d[8], line, sizeof(line));
	assert_string_equal(line, "c 136:* rwm");
	cgroup_device_line(&d[10], line, sizeof(line));
	assert_string_equal(line, "b *:* m");
	free(d);
	/* without a leading deny-all the defaults come first, the config's rules last */
	d = cgroup_device_rules(&r, &n);
	assert_int_equal(n, 12);
	cgroup_device_line(&d[11], line, sizeof(line));
	assert_string_equal(line, "c 10:200 rw");
	free(d);
	/* after a leading deny-all: deny, defaults, then the rest */
	struct cell_device_rule two[] = {
		{ .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
		{ .allow = false, .type = 'c', .major = 1, .minor = 9, .access = "rwm" },
	};
	struct cell_resources r2 = { .devices = two, .n_devices = 2 };
	d = cgroup_device_rules(&r2, &n);
	assert_int_equal(n, 13);
	cgroup_device_line(&d[0], line, sizeof(line));
	assert_string_equal(line, "a");
	cgroup_device_line(&d[1], line, sizeof(line));
	assert_string_equal(line, "c 1:3 rwm");
	assert_false(d[12].allow);
	assert_int_equal(d[12].minor, 9);
	free(d);
	assert_int_equal(cgroup_device_access(""), 7);
	assert_int_equal(cgroup_device_access("m"), BPF_DEVCG_ACC_MKNOD);
}

/* A tiny interpreter for the instructions devices-bpf.c emits. */
static int run_bpf(const struct bpf_insn *p, size_t n, char type, unsigned acc, uint32_t major,
		   uint32_t minor)
{
	const uint32_t ctx[3] = {
	    acc << 16 | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR), major, minor};
	uint64_t reg[11] = {0};

	for (size_t pc = 0; pc < n; pc++) {
		const struct bpf_insn *i = &p[pc];
		uint64_t *d = &reg[i->dst_reg], s = reg[i->src_reg], k = (uint64_t)(int64_t)i->imm;
		switch (i->code) {
		case BPF_LDX | BPF_MEM | BPF_W:
			*d = ctx[i->off / 4];
			break;
		case BPF_ALU64 | BPF_MOV | BPF_X:
			*d = s;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			*d = k;
			break;
		case BPF_ALU64 | BPF_AND | BPF_K:
			*d &= k;
			break;
		case BPF_ALU64 | BPF_RSH | BPF_K:
			*d >>= k;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			pc += *d != k ? (size_t)i->off : 0;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += *d == k ? (size_t)i->off : 0;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)reg[0];
		default:
			fail_msg("unexpected opcode 0x%x at %zu", i->code, pc);
		}
	}
	fail_msg("fell off the program");
	return -1;
}

#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

static void bpf_for(const struct cell_resources *r, struct bpf_insn **p, size_t *n)
{
	_cleanup_free_ struct cell_device_rule *rules = NULL;
	struct cell_error err = {0};
	size_t k = 0;

	rules = cgroup_device_rules(r, &k);
	assert_int_equal(cgroup_bpf_program(rules, k, p, n, &err), 0);
}

static void test_bpf_semantics(void **state)
{
	struct cell_device_rule rules[] = {
	    {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
	    {.allow = true, .type = 'c', .major = 10, .minor = 200, .access = "rwm"},
	    {.allow = false, .type = 'c', .major = 10, .minor = 200, .access = "w"},
	    {.allow = true, .type = 'b', .major = 8, .minor = -1, .access = "r"},
	};
	struct cell_resources r = {.devices = rules, .n_devices = ARRAY_SIZE(rules)};
	_cleanup_free_ struct bpf_insn *p = NULL;
	size_t n = 0;

	bpf_for(&r, &p, &n);
	assert_int_equal(run_bpf(p, n, 'c', R | W, 1, 3), 1);	/* /dev/null */
	assert_int_equal(run_bpf(p, n, 'c', R, 1, 1), 0);	/* /dev/mem */
	assert_int_equal(run_bpf(p, n, 'c', M, 1, 1), 1);	/* c *:* m */
	assert_int_equal(run_bpf(p, n, 'c', R | W, 136, 4), 1); /* a pty */
	assert_int_equal(run_bpf(p, n, 'c', R, 10, 200), 1);
	assert_int_equal(run_bpf(p, n, 'c', W, 10, 200), 0);	 /* later deny wins */
	assert_int_equal(run_bpf(p, n, 'c', R | W, 10, 200), 0); /* any denied bit */
	assert_int_equal(run_bpf(p, n, 'b', R, 8, 1), 1);
	assert_int_equal(run_bpf(p, n, 'b', R | W, 8, 1), 0); /* not a subset of "r" */
	assert_int_equal(run_bpf(p, n, 'b', R, 9, 1), 0);
	free(TAKE_PTR(p));

	/* a catch-all allow (privileged): everything passes */
	struct cell_device_rule only[] = {
	    {.allow = true, .type = 'a', .major = -1, .minor = -1, .access = "rwm"}};
	struct cell_resources all = {.devices = only, .n_devices = 1};
	struct cell_error err = {0};
	bpf_for(&all, &p, &n);
	assert_int_equal(run_bpf(p, n, 'b', R | W | M, 254, 0), 1);
	free(TAKE_PTR(p));
	/* alone, nothing may follow it: the verifier refuses unreachable code */
	assert_int_equal(cgroup_bpf_program(only, 1, &p, &n, &err), 0);
	assert_int_equal(n, 7 + 2); /* prologue, r0 = 1, exit */
	assert_int_equal(run_bpf(p, n, 'c', W, 1, 1), 1);
	free(TAKE_PTR(p));
	assert_int_equal(cgroup_bpf_program(NULL, 0, &p, &n, &err), 0);
	assert_int_equal(run_bpf(p, n, 'c', R, 1, 3), 0); /* no rule: deny */

	struct cell_device_rule bad = {.allow = true, .type = 'x', .access = "r"};
	free(TAKE_PTR(p));
	assert_int_equal(cgroup_bpf_program(&bad, 1, &p, &n, &err), -EINVAL);
}

/* The kernel's verifier accepts what we build (needs CAP_BPF or CAP_SYS_ADMIN). */
static void test_bpf_verifier(void **state)
{
	struct cell_device_rule rules[] = {
	    {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
	    {.allow = false, .type = 'c', .major = 10, .minor = 200, .access = "w"},
	    {.allow = true, .type = 'b', .major = 8, .minor = -1, .access = "r"},
	};
	struct cell_resources r = {.devices = rules, .n_devices = ARRAY_SIZE(rules)};
	_cleanup_free_ struct bpf_insn *p = NULL;
	struct cell_error err = {0};
	size_t n = 0;
	int fd;

	if (geteuid() != 0)
		skip();
	bpf_for(&r, &p, &n);
	fd = cgroup_bpf_load(p, n, &err);
	if (fd == -EPERM)
		skip();
	if (fd < 0)
		fail_msg("load: %s (%s)", err.msg, strerror(err.code));
	(void)close(fd);
}

static void test_conversions(void **state)
{
	struct cell_resources r = {0};
	struct cell_error err = {0};
	bool set, max;
	int64_t v;

	assert_int_equal(cgroup_v2_cpu_weight(2), 1);
	assert_int_equal(cgroup_v2_cpu_weight(1024), 39);
	assert_int_equal(cgroup_v2_cpu_weight(262144), 10000);
	assert_int_equal(cgroup_v2_cpu_weight(0), 1);
	assert_int_equal(cgroup_v2_io_weight(10), 1);
	assert_int_equal(cgroup_v2_io_weight(1000), 10000);
	assert_int_equal(cgroup_v2_io_weight(500), 4950);
	assert_int_equal(cgroup_v2_swap_max(&r, &set, &max, &v, &err), 0);
	assert_false(set);
	r.memory.swap = (struct cell_i64){true, -1};
	assert_int_equal(cgroup_v2_swap_max(&r, &set, &max, &v, &err), 0);
	assert_true(set && max);
	r.memory.swap = (struct cell_i64){true, 300};
	r.memory.limit = (struct cell_i64){true, 100};
	assert_int_equal(cgroup_v2_swap_max(&r, &set, &max, &v, &err), 0);
	assert_true(set && !max);
	assert_int_equal(v, 200);
	char *c = cgroup_unified_controller("memory.high");
	assert_string_equal(c, "memory");
	free(c);
	assert_null(cgroup_unified_controller("cgroup.max.depth"));
	assert_null(cgroup_unified_controller("memoryx.high"));
	assert_int_equal(cgroup_unified_key_check("..", &err), -EINVAL);
	assert_int_equal(cgroup_unified_key_check("a/b", &err), -EINVAL);
	assert_int_equal(cgroup_unified_key_check("io.max", &err), 0);
}

#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolve_path),
	    cmocka_unit_test(test_self_base),
	    FX(test_detect),
	    FX(test_v2_create_apply),
	    FX(test_v2_io_max_line),
	    FX(test_v2_cpu_max_forms),
	    FX(test_v2_relative),
	    FX(test_v2_enable_only_adds),
	    FX(test_v2_unavailable_controller),
	    FX(test_v2_errors),
	    FX(test_v2_memory_swap_absent),
	    FX(test_v2_lifecycle),
	    FX(test_v2_reuse_and_open),
	    FX(test_v1_relative_paths),
	    FX(test_v1_cpuset_inherit),
	    FX(test_v1_apply),
	    FX(test_v1_default_devices),
	    FX(test_v1_memory_swap_order),
	    FX(test_v1_memsw_absent),
	    FX(test_v1_freezer_and_kill),
	    FX(test_hybrid),
	    FX(test_join_on_a_fake_tree),
	    FX(test_frozen_refused),
	    FX(test_v2_frozen_refused),
	    cmocka_unit_test(test_device_rules),
	    cmocka_unit_test(test_bpf_semantics),
	    cmocka_unit_test(test_bpf_verifier),
	    cmocka_unit_test(test_conversions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
