/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cell's settings compiled into config.json (manager/compile.c): what an app and a
 * system container get, limits, binds, id maps, the network and the errors. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/manager/manager.h"

static void settings_freep(struct cell_settings **s)
{
	cell_settings_free(*s);
}

static struct cell_settings *settings(const char *const (*kv)[2], size_t n)
{
	struct cell_settings *s = xzalloc(sizeof(*s));
	struct cell_error err = { 0 };

	s->name = xstrdup("web");
	for (size_t i = 0; i < n; i++)
		assert_int_equal(cell_settings_set(s, kv[i][0], kv[i][1], &err), 0);
	return s;
}

/* the host facts the store hands the compiler: here every capability */
static struct cell_compile_host host = { .cgroup_parent = NULL, .cap_bounding = ~UINT64_C(0) };

static json_t *compile(const struct cell_settings *s)
{
	struct cell_error err = { 0 };
	_cleanup_free_ char *text = cell_settings_compile(s, &host, "/store/web/rootfs", &err);
	json_error_t je;

	assert_non_null(text);
	json_t *c = json_loads(text, 0, &je);
	assert_non_null(c);
	return c;
}

static json_t *at(json_t *o, const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);
	for (char *p = copy, *dot; o && p; p = dot) {
		dot = strchr(p, '.');
		if (dot)
			*dot++ = '\0';
		o = json_object_get(o, p);
	}
	return o;
}

static const char *str(json_t *o, const char *path)
{
	return json_string_value(at(o, path));
}

static bool has_string(json_t *a, const char *s)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e)
		if (json_is_string(e) && streq(json_string_value(e), s))
			return true;
	return false;
}

static bool has_namespace(json_t *c, const char *type)
{
	size_t i;
	json_t *n;

	json_array_foreach(at(c, "linux.namespaces"), i, n)
		if (streq(str(n, "type"), type))
			return true;
	return false;
}

static json_t *mount_at(json_t *c, const char *dst)
{
	size_t i;
	json_t *m;

	json_array_foreach(json_object_get(c, "mounts"), i, m)
		if (streq(str(m, "destination"), dst))
			return m;
	return NULL;
}

/* the options of the mount at dst, comma-joined */
static char *options_of(json_t *c, const char *dst)
{
	json_t *m = mount_at(c, dst), *e;
	char *out = xstrdup("");
	size_t i;

	assert_non_null(m);
	json_array_foreach(json_object_get(m, "options"), i, e) {
		char *n = xasprintf("%s%s%s", out, i ? "," : "", json_string_value(e));
		free(out);
		out = n;
	}
	return out;
}

static void test_app_defaults(void **state)
{
	_cleanup_(settings_freep) struct cell_settings *s = settings(NULL, 0);
	_cleanup_(json_decrefp) json_t *c = NULL;

	(void)state;
	assert_int_equal(unsetenv("CELL_CGROUP_PARENT"), 0);
	c = compile(s);
	assert_string_equal(str(c, "root.path"), "/store/web/rootfs");
	assert_true(json_is_false(at(c, "root.readonly")));
	assert_string_equal(str(c, "hostname"), "web"); /* the name, when no hostname is set */
	assert_string_equal(str(c, "process.cwd"), "/");
	assert_true(json_is_false(at(c, "process.terminal")));
	/* no command and no init: /sbin/init */
	assert_int_equal(json_array_size(at(c, "process.args")), 1);
	assert_string_equal(json_string_value(json_array_get(at(c, "process.args"), 0)),
			    "/sbin/init");
	assert_false(has_string(at(c, "process.env"), "container=cell"));
	/* no user setting: the default spec's root */
	assert_int_equal(json_integer_value(at(c, "process.user.uid")), 0);
	assert_int_equal(json_integer_value(at(c, "process.user.gid")), 0);
	assert_true(has_namespace(c, "network"));
	assert_true(has_namespace(c, "pid"));
	assert_false(has_namespace(c, "user"));
	assert_null(at(c, "linux.uidMappings"));
	assert_null(at(c, "linux.resources.memory"));
	assert_null(at(c, "linux.resources.cpu"));
	assert_null(at(c, "linux.resources.pids"));
	assert_null(at(c, "linux.seccomp.syscalls.0")); /* the default spec's own profile */
	assert_null(mount_at(c, "/run/lock"));
	assert_string_equal(str(c, "linux.cgroupsPath"), "/cell/web");
	assert_string_equal(json_string_value(json_object_get(json_object_get(c, "annotations"),
							       "org.cell.name")),
			    "web");
}

static void test_app_settings(void **state)
{
	static const char *const kv[][2] = {
		{ "command", "/bin/sh,-c,sleep 1" }, { "env", "A=1,B=two" }, { "cwd", "/srv" },
		{ "user", "1000:100" },	{ "hostname", "box" },	 { "memory", "64M" },
		{ "cpus", "1.5" },	{ "pids", "10" },	 { "mounts", "/data:/data:ro,/c:/d" },
		{ "net", "host" },	{ "init", "/ignored" },
	};
	_cleanup_(settings_freep) struct cell_settings *s = settings(kv, ARRAY_SIZE(kv));
	_cleanup_(json_decrefp) json_t *c = NULL;

	(void)state;
	s->terminal = true;
	c = compile(s);
	json_t *args = at(c, "process.args");
	assert_int_equal(json_array_size(args), 3); /* the command wins over init */
	assert_string_equal(json_string_value(json_array_get(args, 2)), "sleep 1");
	assert_true(has_string(at(c, "process.env"), "A=1"));
	assert_true(has_string(at(c, "process.env"), "B=two"));
	assert_true(has_string(at(c, "process.env"), "PATH=/usr/local/sbin:/usr/local/bin:"
						     "/usr/sbin:/usr/bin:/sbin:/bin"));
	assert_string_equal(str(c, "process.cwd"), "/srv");
	assert_int_equal(json_integer_value(at(c, "process.user.uid")), 1000);
	assert_int_equal(json_integer_value(at(c, "process.user.gid")), 100);
	assert_true(json_is_true(at(c, "process.terminal")));
	assert_string_equal(str(c, "hostname"), "box");
	assert_int_equal(json_integer_value(at(c, "linux.resources.memory.limit")), 64 << 20);
	assert_int_equal(json_integer_value(at(c, "linux.resources.cpu.quota")), 150000);
	assert_int_equal(json_integer_value(at(c, "linux.resources.cpu.period")), 100000);
	assert_int_equal(json_integer_value(at(c, "linux.resources.pids.limit")), 10);
	assert_false(has_namespace(c, "network")); /* net host: the host's network */
	assert_true(has_namespace(c, "mount"));
	json_t *m = mount_at(c, "/data");
	assert_non_null(m);
	assert_string_equal(str(m, "type"), "bind");
	assert_string_equal(str(m, "source"), "/data");
	_cleanup_free_ char *ro = options_of(c, "/data");
	assert_string_equal(ro, "rbind,ro");
	_cleanup_free_ char *rw = options_of(c, "/d");
	assert_string_equal(rw, "rbind,rw");
	assert_string_equal(str(mount_at(c, "/d"), "source"), "/c");
}

static void test_user_forms(void **state)
{
	static const struct {
		const char *user;
		long long uid, gid;
	} good[] = { { "0", 0, 0 }, { "1000", 1000, 0 }, { "1000:1000", 1000, 1000 },
		     { "65534:65534", 65534, 65534 } };
	static const char *const bad[] = { "alice", "1000:", ":100", "-1", "1000:-5", "1000:staff",
					   "1.5", "1000:100:7" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		const char *const kv[][2] = { { "user", good[i].user } };
		_cleanup_(settings_freep) struct cell_settings *s = settings(kv, 1);
		_cleanup_(json_decrefp) json_t *c = compile(s);
		assert_int_equal(json_integer_value(at(c, "process.user.uid")), good[i].uid);
		assert_int_equal(json_integer_value(at(c, "process.user.gid")), good[i].gid);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *const kv[][2] = { { "user", bad[i] } };
		_cleanup_(settings_freep) struct cell_settings *s = settings(kv, 1);
		struct cell_error err = { 0 };
		_cleanup_free_ char *msg = xasprintf("user \"%s\": want numeric UID[:GID]", bad[i]);
		assert_null(cell_settings_compile(s, &host, "/r", &err));
		assert_int_equal(err.code, EINVAL);
		assert_string_equal(err.msg, msg);
	}
}

static void test_system_container(void **state)
{
	static const char *const kv[][2] = { { "init", "/lib/systemd/systemd" } };
	static const char *const dropped[] = { "CAP_SYS_MODULE", "CAP_SYS_TIME", "CAP_MAC_ADMIN",
					       "CAP_MAC_OVERRIDE", "CAP_SYS_RAWIO" };
	_cleanup_(settings_freep) struct cell_settings *s = settings(kv, ARRAY_SIZE(kv));
	_cleanup_(json_decrefp) json_t *c = NULL;

	(void)state;
	s->system = true;
	c = compile(s);
	assert_string_equal(json_string_value(json_array_get(at(c, "process.args"), 0)),
			    "/lib/systemd/systemd");
	assert_true(json_is_true(at(c, "process.terminal"))); /* always, for a system container */
	assert_true(has_string(at(c, "process.env"), "container=cell"));
	assert_true(json_is_false(at(c, "process.noNewPrivileges")));
	const char *sets[] = { "bounding", "effective", "permitted" };
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		_cleanup_free_ char *path = xasprintf("process.capabilities.%s", sets[i]);
		json_t *caps = at(c, path);
		assert_true(json_is_array(caps));
		for (size_t j = 0; j < ARRAY_SIZE(dropped); j++)
			assert_false(has_string(caps, dropped[j]));
	}
	/* inheritable and ambient are not granted */
	assert_null(at(c, "process.capabilities.inheritable"));
	assert_null(at(c, "process.capabilities.ambient"));
	assert_string_equal(str(c, "linux.seccomp.defaultAction"), "SCMP_ACT_ALLOW");
	json_t *rule = json_array_get(at(c, "linux.seccomp.syscalls"), 0);
	assert_string_equal(str(rule, "action"), "SCMP_ACT_ERRNO");
	assert_int_equal(json_integer_value(json_object_get(rule, "errnoRet")), 1);
	assert_true(has_string(json_object_get(rule, "names"), "kexec_load"));
	assert_true(has_string(json_object_get(rule, "names"), "init_module"));
	_cleanup_free_ char *run = options_of(c, "/run");
	assert_string_equal(run, "nosuid,nodev,mode=755,size=64m");
	_cleanup_free_ char *lock = options_of(c, "/run/lock");
	assert_string_equal(lock, "nosuid,nodev,noexec,size=5m");
	_cleanup_free_ char *tmp = options_of(c, "/tmp");
	assert_string_equal(tmp, "nosuid,nodev,mode=1777,size=256m");
	assert_string_equal(str(mount_at(c, "/tmp"), "type"), "tmpfs");
	_cleanup_free_ char *cg = options_of(c, "/sys/fs/cgroup");
	assert_string_equal(cg, "nosuid,noexec,nodev,rw"); /* the init's own subtree */
}

static void test_unprivileged_maps(void **state)
{
	_cleanup_(settings_freep) struct cell_settings *s = settings(NULL, 0);
	_cleanup_(json_decrefp) json_t *c = NULL;

	(void)state;
	s->unprivileged = true;
	s->idmap_host = 1065536;
	s->idmap_size = 65536;
	c = compile(s);
	assert_true(has_namespace(c, "user"));
	const char *maps[] = { "linux.uidMappings", "linux.gidMappings" };
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		json_t *m = at(c, maps[i]);
		assert_int_equal(json_array_size(m), 1);
		json_t *e = json_array_get(m, 0);
		assert_int_equal(json_integer_value(json_object_get(e, "containerID")), 0);
		assert_int_equal(json_integer_value(json_object_get(e, "hostID")), 1065536);
		assert_int_equal(json_integer_value(json_object_get(e, "size")), 65536);
	}
}

static void test_cgroup_parent(void **state)
{
	_cleanup_(settings_freep) struct cell_settings *s = settings(NULL, 0);

	(void)state;
	host.cgroup_parent = "cell-test-7";
	json_t *c = compile(s);
	assert_string_equal(str(c, "linux.cgroupsPath"), "/cell-test-7/web");
	json_decref(c);
	host.cgroup_parent = ""; /* empty: the default */
	c = compile(s);
	assert_string_equal(str(c, "linux.cgroupsPath"), "/cell/web");
	json_decref(c);
	host.cgroup_parent = NULL;
	c = compile(s);
	assert_string_equal(str(c, "linux.cgroupsPath"), "/cell/web");
	json_decref(c);
}

/* a system container gets no capability the runtime cannot hand on */
static void test_bounding_set_is_a_host_fact(void **state)
{
	_cleanup_(settings_freep) struct cell_settings *s = settings(NULL, 0);

	(void)state;
	s->system = true;
	json_t *c = compile(s);
	assert_true(has_string(at(c, "process.capabilities.bounding"), "CAP_SYS_ADMIN"));
	assert_true(has_string(at(c, "process.capabilities.bounding"), "CAP_NET_ADMIN"));
	json_decref(c);
	host.cap_bounding = ~(UINT64_C(1) << 21); /* CAP_SYS_ADMIN */
	c = compile(s);
	const char *sets[] = { "bounding", "effective", "permitted" };
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		_cleanup_free_ char *path = xasprintf("process.capabilities.%s", sets[i]);
		assert_false(has_string(at(c, path), "CAP_SYS_ADMIN"));
		assert_true(has_string(at(c, path), "CAP_NET_ADMIN"));
	}
	json_decref(c);
	host.cap_bounding = ~UINT64_C(0);
}

static void test_empty_command_falls_back_to_init(void **state)
{
	static const char *const kv[][2] = { { "command", "" }, { "init", "/bin/init.sh" } };
	_cleanup_(settings_freep) struct cell_settings *s = settings(kv, ARRAY_SIZE(kv));
	_cleanup_(json_decrefp) json_t *c = compile(s);

	(void)state;
	assert_int_equal(json_array_size(at(c, "process.args")), 1);
	assert_string_equal(json_string_value(json_array_get(at(c, "process.args"), 0)),
			    "/bin/init.sh");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_app_defaults),
		cmocka_unit_test(test_app_settings),
		cmocka_unit_test(test_user_forms),
		cmocka_unit_test(test_system_container),
		cmocka_unit_test(test_bounding_set_is_a_host_fact),
		cmocka_unit_test(test_unprivileged_maps),
		cmocka_unit_test(test_cgroup_parent),
		cmocka_unit_test(test_empty_command_falls_back_to_init),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
