/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spec -> plan, against golden files: tests/unit/plan-golden/<name>.json is
 * parsed (and validated) as a config.json, planned for the host facts below,
 * and cell_plan_dump() of the plan (or "error: <message>") must equal
 * <name>.plan.  No root needed: planning makes no syscall.
 *
 * After an intended change of the plan, rewrite the golden files with
 *   CELL_PLAN_GOLDEN_UPDATE=1 build-test/tests/unit/test-plan-golden
 * and review the diff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/plan/plan.h"

static char *v1_aliases[] = {"cpu", "cpuacct", NULL};
static const struct cell_cgroup_mount v1_host[] = {
    {.name = "memory",
     .fstype = "cgroup",
     .options = "memory",
     .host_path = "/sys/fs/cgroup/memory/c1"},
    {.name = "cpu,cpuacct",
     .fstype = "cgroup",
     .options = "cpu,cpuacct",
     .host_path = "/sys/fs/cgroup/cpu,cpuacct/c1",
     .aliases = v1_aliases},
    {.name = "unified",
     .fstype = "cgroup2",
     .options = "",
     .host_path = "/sys/fs/cgroup/unified/c1"},
};
static const struct cell_cgroup_mount v2_host = {
    .name = "", .fstype = "cgroup2", .options = "", .host_path = "/sys/fs/cgroup/c1"};

#define FACTS(...)                                                                                 \
	{                                                                                          \
		.rootfs = "/bundle/rootfs", .bundle = "/bundle", __VA_ARGS__                       \
	}

static const struct golden {
	const char *name;
	struct cell_host_facts facts;
} cases[] = {
    {"default", FACTS(.cgroup_mounts = &v2_host, .n_cgroup_mounts = 1)},
    {"userns-v1", FACTS(.in_userns = true, .cgroup_mounts = v1_host, .n_cgroup_mounts = 3)},
    {"binds", FACTS(.no_pivot = true)},
    {"devices", FACTS(.in_userns = true)},
    {"rootfs-dev", FACTS(0)},
    {"no-mount-ns", FACTS(0)},
    {"error-escape", FACTS(0)},
    {"error-cover-root", FACTS(0)},
    {"error-bind-no-source", FACTS(0)},
    {"error-no-type", FACTS(0)},
    {"error-device-path", FACTS(0)},
    {"error-sysctl-key", FACTS(0)},
    /* unprivileged: a single mapping of our own ids is written, setgroups denied */
    {"rootless-self", FACTS(.in_userns = true, .ids = {.euid = 1000, .egid = 1000})},
    /* unprivileged with subordinate ids: newuidmap/newgidmap */
    {"rootless-subid", FACTS(.in_userns = true, .ids = {.euid = 1000, .egid = 1000})},
    /* root of a user namespace whose setgroups is denied: no setgroups(2) inside */
    {"userns-setgroups-denied", FACTS(.in_userns = true, .ids = {.setgroups_denied = true})},
};

static char *golden_path(const char *name, const char *ext)
{
	const char *src = getenv("CELL_TEST_SRCDIR");

	return xasprintf("%s/tests/unit/plan-golden/%s.%s", src ? src : ".", name, ext);
}

/* The plan of the case as text, or "error: ..." when spec or plan refuse it. */
static char *plan_text(const struct golden *g)
{
	_cleanup_free_ char *path = golden_path(g->name, "json"), *json = NULL;
	_cleanup_(cell_plan_free) struct cell_plan plan = {0};
	struct cell_spec *spec = NULL;
	struct cell_error err = {0};
	char *text;
	size_t len;

	assert_int_equal(cell_read_file(path, &json, &len), 0);
	if (cell_spec_parse(json, len, &spec, &err) < 0)
		return xasprintf("spec error: %s\n", err.msg);
	if (cell_plan_build(spec, &g->facts, &plan, &err) < 0)
		text = xasprintf("error: %s\n", err.msg);
	else
		text = cell_plan_dump(&plan);
	cell_plan_free(&plan);
	cell_spec_free(spec);
	return text;
}

static void check_case(const struct golden *g)
{
	_cleanup_free_ char *got = plan_text(g), *want = NULL;
	_cleanup_free_ char *path = golden_path(g->name, "plan");
	size_t len;

	if (getenv("CELL_PLAN_GOLDEN_UPDATE")) {
		assert_int_equal(cell_write_file_replace(path, got, strlen(got), 0644, false), 0);
		return;
	}
	if (cell_read_file(path, &want, &len) < 0)
		fail_msg("%s missing; the plan is:\n%s", path, got);
	if (!streq(got, want))
		fail_msg("%s differs; the plan is:\n%s", path, got);
}

static void test_golden(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		check_case(&cases[i]);
}

/* The plan is rebuilt the same from the same input, and leaves the spec as it was. */
static void test_deterministic(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *a = plan_text(&cases[i]), *b = plan_text(&cases[i]);
		assert_string_equal(a, b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),
	    cmocka_unit_test(test_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
