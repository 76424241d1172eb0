/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The systemd cgroup driver's pure parts: the unit and slice named by a cgroup path,
 * cpu.shares as CPUWeight, the quota as CPUQuotaPerSecUSec and cpusets as the byte
 * masks systemd's AllowedCPUs/AllowedMemoryNodes take (no bus involved).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/cgroup/cgroup-internal.h"

static void unit_is(const char *spec, const char *want_unit, const char *want_slice)
{
	_cleanup_free_ char *path = NULL, *unit = NULL, *slice = NULL;
	struct cell_error err = {0};

	assert_int_equal(cgroup_systemd_path(spec, &path, &err), 0);
	assert_int_equal(cgroup_systemd_unit_of(path, &unit, &slice, &err), 0);
	assert_string_equal(unit, want_unit);
	assert_string_equal(slice, want_slice);
}

static void test_unit_names(void **state)
{
	_cleanup_free_ char *unit = NULL, *slice = NULL;
	struct cell_error err = {0};

	unit_is("system.slice:celltest:c1", "celltest-c1.scope", "system.slice");
	unit_is(":libpod:abc", "libpod-abc.scope", "system.slice");
	unit_is("machine.slice:libpod:abc", "libpod-abc.scope", "machine.slice");
	unit_is("a-b.slice:p:n", "p-n.scope", "a-b.slice");
	unit_is("-.slice:p:n", "p-n.scope", "-.slice");
	unit_is("a-b.slice::n", "n.scope", "a-b.slice");
	unit_is("a.slice:p:sub.slice", "sub.slice", "a.slice");
	/* a rootless path: below the user's manager, whose cgroup is no slice */
	assert_int_equal(cgroup_systemd_unit_of("/user.slice/user-1000.slice/user@1000.service/"
						"user.slice/p-n.scope", &unit, &slice, &err), 0);
	assert_string_equal(unit, "p-n.scope");
	assert_string_equal(slice, "user.slice");
	free(TAKE_PTR(unit));
	free(TAKE_PTR(slice));
	assert_int_equal(cgroup_systemd_unit_of("/user.slice/user-1000.slice/user@1000.service/"
						"p-n.scope", &unit, &slice, &err), 0);
	assert_string_equal(slice, "-.slice");
	free(TAKE_PTR(unit));
	free(TAKE_PTR(slice));
	assert_int_equal(cgroup_systemd_unit_of("/a/b", &unit, &slice, &err), -EINVAL);
	assert_int_equal(cgroup_systemd_unit_of("/a/", &unit, &slice, &err), -EINVAL);
	assert_null(unit);
}

static void test_default_paths(void **state)
{
	struct cell_cgroup_opts root = {.id = "c1", .systemd = true};
	struct cell_cgroup_opts user = {.id = "c1", .systemd = true, .rootless = true};
	_cleanup_free_ char *a = NULL, *b = NULL;
	struct cell_error err = {0};
	bool rel = true;

	/* runc's default slices: system.slice, user.slice in the user's own manager */
	assert_int_equal(cell_cgroup_resolve_path(&root, NULL, &a, &rel, &err), 0);
	assert_string_equal(a, "/system.slice/cellrun-c1.scope");
	assert_false(rel);
	assert_int_equal(cell_cgroup_resolve_path(&user, NULL, &b, &rel, &err), 0);
	assert_string_equal(b, "/user.slice/cellrun-c1.scope");
}

static void test_cpu_weight_and_quota(void **state)
{
	/* CPUWeight from cpu.shares: runc's linear map of [2, 262144] onto [1, 10000] */
	assert_int_equal(cgroup_v2_cpu_weight(2), 1);
	assert_int_equal(cgroup_v2_cpu_weight(1024), 39);
	assert_int_equal(cgroup_v2_cpu_weight(512), 20);
	assert_int_equal(cgroup_v2_cpu_weight(262144), 10000);
	assert_true(cgroup_systemd_quota_per_sec(-1, 100000) == UINT64_MAX);
	assert_true(cgroup_systemd_quota_per_sec(0, 0) == UINT64_MAX);
	assert_int_equal(cgroup_systemd_quota_per_sec(50000, 100000), 500000);
	assert_int_equal(cgroup_systemd_quota_per_sec(50000, 0), 500000); /* period 100 ms */
	assert_int_equal(cgroup_systemd_quota_per_sec(200000, 100000), 2000000);
	/* 1234 us per 10 ms is 123400 us/s: up to the next 10 ms step */
	assert_int_equal(cgroup_systemd_quota_per_sec(1234, 10000), 130000);
	assert_int_equal(cgroup_systemd_quota_per_sec(1, 1000000), 10000);
}

static void mask_is(const char *list, const uint8_t *want, size_t n)
{
	_cleanup_free_ uint8_t *m = NULL;
	struct cell_error err = {0};
	size_t len = 99;

	assert_int_equal(cgroup_systemd_cpuset_mask(list, &m, &len, &err), 0);
	assert_int_equal(len, n);
	if (n)
		assert_memory_equal(m, want, n);
}

static void mask_fails(const char *list)
{
	_cleanup_free_ uint8_t *m = NULL;
	struct cell_error err = {0};
	size_t len = 99;

	assert_int_equal(cgroup_systemd_cpuset_mask(list, &m, &len, &err), -EINVAL);
	assert_null(m);
	assert_int_equal(len, 99);
	assert_non_null(strstr(err.msg, list));
}

static void test_cpuset_mask(void **state)
{
	mask_is("", NULL, 0);
	mask_is("0", (const uint8_t[]){0x01}, 1);
	mask_is("1", (const uint8_t[]){0x02}, 1);
	mask_is("0-3", (const uint8_t[]){0x0f}, 1);
	mask_is("7,8", (const uint8_t[]){0x80, 0x01}, 2);
	mask_is("0-2,7", (const uint8_t[]){0x87}, 1);
	mask_is("9,0", (const uint8_t[]){0x01, 0x02}, 2);
	mask_is("16", (const uint8_t[]){0, 0, 0x01}, 3);
	mask_is("1-2,4-5,62-63", (const uint8_t[]){0x36, 0, 0, 0, 0, 0, 0, 0xc0}, 8);
	mask_fails("a");
	mask_fails("3-1");
	mask_fails("1-");
	mask_fails("1;2");
	mask_fails("-1");
	mask_fails("70000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unit_names),
	    cmocka_unit_test(test_default_paths),
	    cmocka_unit_test(test_cpu_weight_and_quota),
	    cmocka_unit_test(test_cpuset_mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
