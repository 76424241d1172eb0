/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manager's pure logic: `cell config` keys (set, get, their errors), mount and
 * size parsing, container names, cell.json round trip, the store's list and lock. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/manager/manager.h"

static char tmp[] = "/tmp/cell-test-manager.XXXXXX";

static struct cell_settings *fresh(void)
{
	struct cell_settings *s = xzalloc(sizeof(*s));
	s->name = xstrdup("web");
	return s;
}

static void settings_freep(struct cell_settings **s)
{
	cell_settings_free(*s);
}

/* set key=value on fresh settings; it must fail with EINVAL and exactly this text */
static void refused(const char *key, const char *value, const char *msg)
{
	_cleanup_(settings_freep) struct cell_settings *s = fresh();
	struct cell_error err = { 0 };

	assert_int_equal(cell_settings_set(s, key, value, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, msg);
}

/* set key=value, then get key: want (the canonical text) */
static void accepted(const char *key, const char *value, const char *want)
{
	_cleanup_(settings_freep) struct cell_settings *s = fresh();
	struct cell_error err = { 0 };

	assert_int_equal(cell_settings_set(s, key, value, &err), 0);
	_cleanup_free_ char *got = cell_settings_get(s, key);
	assert_non_null(got);
	assert_string_equal(got, want);
	/* what get prints, set takes back to the same value */
	_cleanup_(settings_freep) struct cell_settings *again = fresh();
	assert_int_equal(cell_settings_set(again, key, got, &err), 0);
	_cleanup_free_ char *got2 = cell_settings_get(again, key);
	assert_string_equal(got2, want);
}

static void test_keys_table(void **state)
{
	static const char *const want[] = { "memory", "cpus", "pids", "hostname", "env",
					     "mounts", "autostart", "init", "command", "net",
					     "ip", "ip6", "mac", "publish", "stop_signal", "user",
					     "cwd" };
	_cleanup_(settings_freep) struct cell_settings *s = fresh();
	size_t n = 0;

	(void)state;
	for (; cell_settings_key(n, NULL); n++) {
		assert_true(n < ARRAY_SIZE(want));
		assert_string_equal(cell_settings_key(n, NULL), want[n]);
		_cleanup_free_ char *v = cell_settings_get(s, cell_settings_key(n, NULL));
		assert_non_null(v); /* every key has a value, also when unset */
	}
	assert_int_equal(n, ARRAY_SIZE(want));
	assert_null(cell_settings_key(n, NULL));
	assert_null(cell_settings_key(1000, NULL));
	assert_null(cell_settings_get(s, "colour"));
	/* create's own fields are in cell.json, but no config keys */
	assert_null(cell_settings_get(s, "template"));
	assert_null(cell_settings_get(s, "idmap_host"));
	assert_null(cell_settings_get(s, ""));
}

/* --help shows the shape of a list's value next to its key */
static void test_keys_help(void **state)
{
	const char *help = "unset", *key;
	size_t with_help = 0;

	(void)state;
	for (size_t i = 0; (key = cell_settings_key(i, &help)); i++) {
		if (streq(key, "env"))
			assert_string_equal(help, "K=V,...");
		else if (streq(key, "mounts"))
			assert_string_equal(help, "SRC:DST[:ro],...");
		else if (streq(key, "command"))
			assert_string_equal(help, "a,b,...");
		else if (streq(key, "net"))
			assert_non_null(strstr(help, "bridge[=NET]"));
		else if (streq(key, "publish"))
			assert_string_equal(help, "[HOSTIP:]HOSTPORT:CTRPORT[/udp],...");
		else
			assert_null(help);
		with_help += help != NULL;
	}
	assert_int_equal(with_help, 5);
}

static void test_unset_values(void **state)
{
	static const char *const kv[][2] = {
		{ "memory", "none" }, { "cpus", "none" }, { "pids", "none" }, { "hostname", "" },
		{ "env", "" }, { "mounts", "" }, { "autostart", "false" }, { "init", "" },
		{ "command", "" }, { "net", "" }, { "ip", "" }, { "ip6", "" }, { "mac", "" }, { "publish", "" }, { "stop_signal", "" }, { "user", "" },
		{ "cwd", "" },
	};
	_cleanup_(settings_freep) struct cell_settings *s = fresh();

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(kv); i++) {
		_cleanup_free_ char *v = cell_settings_get(s, kv[i][0]);
		assert_string_equal(v, kv[i][1]);
	}
}

static void test_unknown_key(void **state)
{
	(void)state;
	refused("colour", "red", "unknown setting \"colour\" (see cell config --help)");
	refused("", "x", "unknown setting \"\" (see cell config --help)");
	refused("Memory", "1G", "unknown setting \"Memory\" (see cell config --help)");
	/* cell create's own fields are not config keys */
	refused("name", "x", "unknown setting \"name\" (see cell config --help)");
	refused("storage", "dir", "unknown setting \"storage\" (see cell config --help)");
	refused("unprivileged", "true", "unknown setting \"unprivileged\" (see cell config --help)");
	refused("created", "x", "unknown setting \"created\" (see cell config --help)");
}

static void test_memory(void **state)
{
	(void)state;
	accepted("memory", "512M", "536870912");
	accepted("memory", "1G", "1073741824");
	accepted("memory", "6M", "6291456"); /* the minimum */
	accepted("memory", "6291456", "6291456");
	accepted("memory", "1.5g", "1610612736");
	accepted("memory", "64MiB", "67108864");
	accepted("memory", "none", "none");
	accepted("memory", "0", "none");
	static const char *const bad[] = { "lots", "", "-1", "-5M", "12X", "1e30", "M", "5 M" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *msg =
			xasprintf("memory \"%s\": want a size like 512M or none", bad[i]);
		refused("memory", bad[i], msg);
	}
	refused("memory", "5M",
		"memory \"5M\" (5242880 bytes) is below the minimum of 6 MiB that a container "
		"needs to run");
	refused("memory", "1",
		"memory \"1\" (1 bytes) is below the minimum of 6 MiB that a container needs to run");
}

static void test_cpus(void **state)
{
	(void)state;
	accepted("cpus", "1.5", "1.5");
	accepted("cpus", "2", "2");
	accepted("cpus", "0.01", "0.01"); /* the minimum */
	accepted("cpus", "4096", "4096"); /* the maximum */
	accepted("cpus", "none", "none");
	accepted("cpus", "0", "none");
	static const char *const bad[] = { "x", "", "1.5x", "-1", "4097", "nan", "inf", "1,5" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *msg =
			xasprintf("cpus \"%s\": want a number like 1.5 or none", bad[i]);
		refused("cpus", bad[i], msg);
	}
	refused("cpus", "0.005",
		"cpus \"0.005\" is below the minimum of 0.01 (the kernel's smallest CFS quota, 1 ms "
		"per 100 ms)");
}

static void test_pids(void **state)
{
	(void)state;
	accepted("pids", "100", "100");
	accepted("pids", "1", "1"); /* the init alone */
	accepted("pids", "none", "none");
	static const char *const bad[] = { "0", "-3", "x", "", "1.5", "10k",
					   "99999999999999999999" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *msg = xasprintf(
			"pids \"%s\": want a count of at least 1 (the init) or none", bad[i]);
		refused("pids", bad[i], msg);
	}
}

static void test_a_refused_value_keeps_the_old_one(void **state)
{
	_cleanup_(settings_freep) struct cell_settings *s = fresh();
	struct cell_error err = { 0 };
	static const char *const kv[][3] = {
		{ "memory", "64M", "1k" }, { "cpus", "2", "x" },     { "pids", "5", "0" },
		{ "autostart", "true", "yes" }, { "net", "host", "bridge=No!" },
		{ "mounts", "/a:/b", "/a:/b,c:/d" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(kv); i++) {
		assert_int_equal(cell_settings_set(s, kv[i][0], kv[i][1], &err), 0);
		_cleanup_free_ char *before = cell_settings_get(s, kv[i][0]);
		assert_int_equal(cell_settings_set(s, kv[i][0], kv[i][2], &err), -EINVAL);
		_cleanup_free_ char *after = cell_settings_get(s, kv[i][0]);
		assert_string_equal(after, before);
	}
}

static void test_autostart_and_net(void **state)
{
	(void)state;
	accepted("autostart", "true", "true");
	accepted("autostart", "false", "false");
	refused("autostart", "yes", "autostart \"yes\": want true or false");
	refused("autostart", "TRUE", "autostart \"TRUE\": want true or false");
	refused("autostart", "", "autostart \"\": want true or false");
	accepted("net", "none", "none");
	accepted("net", "host", "host");
	accepted("net", "bridge", "bridge");
	accepted("net", "bridge=lan-2", "bridge=lan-2");
	accepted("net", "macvlan=eth0", "macvlan=eth0");
	accepted("net", "netns=/run/netns/x", "netns=/run/netns/x");
	accepted("net", "container=web", "container=web");
	refused("net", "bridge=Lan", "net \"bridge=Lan\": want bridge=a network's name");
	refused("net", "macvlan", "net \"macvlan\": want macvlan=a host link's name");
	refused("net", "netns=run/x", "net \"netns=run/x\": want netns=an absolute path");
	refused("net", "host=1", "net \"host=1\": host takes no value");
	refused("net", "", "net \"\": want bridge[=NETWORK], none, host, macvlan=DEV, ipvlan=DEV, "
			   "netns=PATH, container=NAME or pasta");
	refused("net", "Host", "net \"Host\": want bridge[=NETWORK], none, host, macvlan=DEV, "
			       "ipvlan=DEV, netns=PATH, container=NAME or pasta");
}

static void test_addresses_and_ports(void **state)
{
	(void)state;
	accepted("ip", "10.66.0.9", "10.66.0.9");
	accepted("ip", "192.168.1.5/24", "192.168.1.5/24");
	accepted("ip6", "fd00::5", "fd00::5");
	accepted("ip", "", "");
	refused("ip", "fd00::5", "ip \"fd00::5\": want an IPv4 address (ADDR or ADDR/PREFIX)");
	refused("ip", "10.1.2.3/33", "ip \"10.1.2.3/33\": want an IPv4 address (ADDR or ADDR/PREFIX)");
	refused("ip6", "10.1.2.3", "ip6 \"10.1.2.3\": want an IPv6 address (ADDR or ADDR/PREFIX)");
	accepted("mac", "02:00:00:00:00:01", "02:00:00:00:00:01");
	refused("mac", "01:00:00:00:00:01",
		"mac \"01:00:00:00:00:01\": want a unicast MAC such as 02:00:00:00:00:01");
	accepted("publish", "8080:80,127.0.0.1:53:53/udp", "8080:80,127.0.0.1:53:53/udp");
	_cleanup_(settings_freep) struct cell_settings *s = fresh();
	struct cell_error err = { 0 };
	assert_int_equal(cell_settings_set(s, "publish", "8080:80,99999:80", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "99999:80"));
	assert_null(s->publish);
}

static void test_strings(void **state)
{
	char h64[65], h65[66];

	(void)state;
	memset(h64, 'h', 64);
	h64[64] = '\0';
	memset(h65, 'h', 65);
	h65[65] = '\0';
	accepted("hostname", "db-1", "db-1");
	accepted("hostname", h64, h64);
	_cleanup_free_ char *msg = xasprintf("hostname \"%s\": at most 64 characters", h65);
	refused("hostname", h65, msg);
	accepted("init", "/lib/systemd/systemd", "/lib/systemd/systemd");
	accepted("stop_signal", "SIGRTMIN+3", "SIGRTMIN+3");
	/* kept as written: the manager reads it with the same parser */
	accepted("stop_signal", "term", "term");
	accepted("stop_signal", "15", "15");
	refused("stop_signal", "x",
		"stop_signal \"x\": unknown signal (want a name like SIGTERM or RTMIN+3, or a "
		"number)");
	refused("stop_signal", "SIGRTMIN+31",
		"stop_signal \"SIGRTMIN+31\": unknown signal (want a name like SIGTERM or "
		"RTMIN+3, or a number)");
	refused("stop_signal", "0",
		"stop_signal \"0\": unknown signal (want a name like SIGTERM or RTMIN+3, or a "
		"number)");
	accepted("user", "1000:1000", "1000:1000");
	accepted("cwd", "/srv", "/srv");

	/* "" clears a string: get prints "", the field is NULL */
	_cleanup_(settings_freep) struct cell_settings *s = fresh();
	struct cell_error err = { 0 };
	const char *keys[] = { "hostname", "init", "stop_signal", "user", "cwd" };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		/* stop_signal takes only a signal */
		assert_int_equal(cell_settings_set(s, keys[i], i == 2 ? "USR1" : "x", &err), 0);
		assert_int_equal(cell_settings_set(s, keys[i], "", &err), 0);
	}
	assert_null(s->hostname);
	assert_null(s->init);
	assert_null(s->stop_signal);
	assert_null(s->user);
	assert_null(s->cwd);
}

static void test_lists(void **state)
{
	_cleanup_(settings_freep) struct cell_settings *s = fresh();
	struct cell_error err = { 0 };

	(void)state;
	accepted("env", "A=1,B=two", "A=1,B=two");
	accepted("command", "/bin/sh,-c,sleep 1", "/bin/sh,-c,sleep 1");
	/* empty items are dropped */
	accepted("env", ",A=1,,B=2,", "A=1,B=2");
	accepted("env", "", "");
	assert_int_equal(cell_settings_set(s, "command", "/bin/sh,-c,x", &err), 0);
	assert_int_equal(cell_strv_len(s->command), 3);
	assert_string_equal(s->command[2], "x");
	/* an empty list is an empty array, not "unset" */
	assert_int_equal(cell_settings_set(s, "command", "", &err), 0);
	assert_non_null(s->command);
	assert_int_equal(cell_strv_len(s->command), 0);
	assert_int_equal(cell_settings_set(s, "env", "X=1", &err), 0);
	assert_int_equal(cell_settings_set(s, "env", "Y=2,Z=3", &err), 0); /* replaces */
	assert_int_equal(cell_strv_len(s->env), 2);
	assert_string_equal(s->env[0], "Y=2");
}

static void test_mounts_key(void **state)
{
	_cleanup_(settings_freep) struct cell_settings *s = fresh();
	struct cell_error err = { 0 };

	(void)state;
	accepted("mounts", "/srv/data:/data", "/srv/data:/data");
	accepted("mounts", "/a:/b:ro,/c:/d", "/a:/b:ro,/c:/d");
	accepted("mounts", "/a:/b:rw", "/a:/b"); /* rw is the default */
	accepted("mounts", "", "");
	/* the item at fault is named, the earlier items are not kept */
	refused("mounts", "/a:/b,c:/d", "mount \"c:/d\": want absolute SRC:DST[:ro|rw]");
	refused("mounts", "/a:/b,/c", "mount \"/c\": want SRC:DST[:ro]");
	assert_int_equal(cell_settings_set(s, "mounts", "/a:/b:ro,/c:/d", &err), 0);
	assert_int_equal(s->n_binds, 2);
	assert_string_equal(s->binds[0].source, "/a");
	assert_string_equal(s->binds[0].destination, "/b");
	assert_true(s->binds[0].readonly);
	assert_false(s->binds[1].readonly);
	assert_int_equal(cell_settings_set(s, "mounts", "/e:/f,/g:/h,x", &err), -EINVAL);
	assert_int_equal(s->n_binds, 2); /* unchanged */
	assert_string_equal(s->binds[1].source, "/c");
	assert_int_equal(cell_settings_set(s, "mounts", "", &err), 0);
	assert_int_equal(s->n_binds, 0);
}

static void test_bind_parse(void **state)
{
	static const struct {
		const char *spec, *src, *dst;
		bool ro;
	} good[] = {
		{ "/a:/b", "/a", "/b", false },
		{ "/a:/b:ro", "/a", "/b", true },
		{ "/a:/b:rw", "/a", "/b", false },
		{ "/:/host", "/", "/host", false },
		{ "/a b:/c d", "/a b", "/c d", false },
	};
	static const struct {
		const char *spec, *want;
	} bad[] = {
		{ "nocolon", "want SRC:DST[:ro]" },
		{ ":/b", "want SRC:DST[:ro]" },
		{ "", "want SRC:DST[:ro]" },
		{ "a:/b", "want absolute SRC:DST[:ro|rw]" },
		{ "/a:b", "want absolute SRC:DST[:ro|rw]" },
		{ "/a:", "want absolute SRC:DST[:ro|rw]" },
		{ "/a:/b:", "want absolute SRC:DST[:ro|rw]" },
		{ "/a:/b:rx", "want absolute SRC:DST[:ro|rw]" },
		{ "/a:/b:RO", "want absolute SRC:DST[:ro|rw]" },
		{ "/a:/b:ro:x", "want absolute SRC:DST[:ro|rw]" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct cell_bind b = { 0 };
		struct cell_error err = { 0 };
		assert_int_equal(cell_bind_parse(good[i].spec, &b, &err), 0);
		assert_string_equal(b.source, good[i].src);
		assert_string_equal(b.destination, good[i].dst);
		assert_int_equal(b.readonly, good[i].ro);
		free(b.source);
		free(b.destination);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct cell_bind b = { 0 };
		struct cell_error err = { 0 };
		_cleanup_free_ char *msg = xasprintf("mount \"%s\": %s", bad[i].spec, bad[i].want);
		assert_int_equal(cell_bind_parse(bad[i].spec, &b, &err), -EINVAL);
		assert_string_equal(err.msg, msg);
		assert_null(b.source); /* written only on success */
		assert_null(b.destination);
	}
}

static void test_parse_bytes(void **state)
{
	static const struct {
		const char *s;
		int64_t v;
	} good[] = {
		{ "0", 0 },		  { "100", 100 },	  { "1k", 1024 },
		{ "1K", 1024 },	  { "1.5K", 1536 },	  { "512M", 512LL << 20 },
		{ "2G", 2LL << 30 },	  { "1T", 1LL << 40 },	  { "10b", 10 },
		{ "3MB", 3LL << 20 },	  { "3MiB", 3LL << 20 }, { "3mib", 3LL << 20 },
	};
	static const struct {
		const char *s;
		int r;
	} bad[] = {
		{ "", -EINVAL },   { "x", -EINVAL },    { "-1", -EINVAL }, { "-2", -EINVAL },
		{ "10X", -EINVAL }, { "1Mx", -EINVAL }, { "1e30", -ERANGE }, { "nan", -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		int64_t v = -7;
		assert_int_equal(cell_parse_bytes(good[i].s, &v), 0);
		assert_int_equal(v, good[i].v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int64_t v = -7;
		assert_int_equal(cell_parse_bytes(bad[i].s, &v), bad[i].r);
		assert_int_equal(v, -7); /* untouched */
	}
}

static void test_name_valid(void **state)
{
	char n64[65], n65[66];
	static const char *const good[] = { "a", "web", "web-1", "A.b_c", "0", "9lives", "a.." };
	static const char *const bad[] = { "",	 ".x",	 "-x",	 "_x",	"a/b", "a b", "..",
					   ".",	 "a:b",	 "a\n",	 "\xc3\xa4", "a*", "x;y" };

	(void)state;
	memset(n64, 'n', 64);
	n64[64] = '\0';
	memset(n65, 'n', 65);
	n65[65] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_true(cell_name_valid(good[i]));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_false(cell_name_valid(bad[i]));
	assert_true(cell_name_valid(n64));
	assert_false(cell_name_valid(n65));
}

/* ---- the store, in a directory of our own ---- */

static int open_store(struct cell_store *st, const char *sub)
{
	_cleanup_free_ char *root = xasprintf("%s/%s/root", tmp, sub);
	_cleanup_free_ char *run = xasprintf("%s/%s/run", tmp, sub);
	struct cell_error err = { 0 };

	const struct cell_store_paths paths = { .root = root, .run = run };

	return cell_store_open(st, &paths, &err);
}

static void test_store_paths(void **state)
{
	struct cell_store st;
	struct stat sb;

	(void)state;
	assert_int_equal(open_store(&st, "paths"), 0);
	_cleanup_free_ char *want_root = xasprintf("%s/paths/root", tmp);
	_cleanup_free_ char *want_state = xasprintf("%s/paths/run/state", tmp);
	assert_string_equal(st.root, want_root);
	assert_string_equal(st.rt.root, want_state);
	_cleanup_free_ char *containers = xasprintf("%s/containers", st.root);
	assert_int_equal(stat(containers, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0711);
	assert_int_equal(stat(st.rt.root, &sb), 0);
	_cleanup_free_ char *dir = cell_store_dir(&st, "web");
	_cleanup_free_ char *want_dir = xasprintf("%s/containers/web", want_root);
	assert_string_equal(dir, want_dir);
	_cleanup_free_ char *rundir = cell_store_rundir(&st, "web");
	_cleanup_free_ char *want_run = xasprintf("%s/paths/run/web", tmp);
	assert_string_equal(rundir, want_run);
	cell_store_close(&st);
	assert_null(st.root);
}

/* what the front-end does not give takes the default; libcell reads no environment */
static void test_store_paths_defaults(void **state)
{
	struct cell_store st;
	struct cell_error err = { 0 };
	_cleanup_free_ char *root = xasprintf("%s/defaults/root", tmp);
	_cleanup_free_ char *run = xasprintf("%s/defaults/run", tmp);
	const struct cell_store_paths paths = { .root = root, .run = run };

	(void)state;
	assert_int_equal(setenv("CELL_CACHE_DIR", "/nowhere/env", 1), 0); /* not read */
	assert_int_equal(setenv("CELL_CGROUP_PARENT", "env-parent", 1), 0);
	assert_int_equal(cell_store_open(&st, &paths, &err), 0);
	(void)unsetenv("CELL_CACHE_DIR");
	(void)unsetenv("CELL_CGROUP_PARENT");
	_cleanup_free_ char *cache = xasprintf("%s/cache", root);
	assert_string_equal(st.cache, cache);
	assert_string_equal(st.cgroup_parent, "cell");
	assert_string_equal(st.host.cgroup_parent, "cell");
	assert_null(st.binary);
	assert_string_equal(st.subuid, "/etc/subuid");
	assert_string_equal(st.subgid, "/etc/subgid");
	assert_string_equal(st.idmap_registry, "/var/lib/cell-idmap/ranges.json");
	cell_store_close(&st);
}

static void test_store_paths_given(void **state)
{
	struct cell_store st;
	struct cell_error err = { 0 };
	_cleanup_free_ char *root = xasprintf("%s/given/root", tmp);
	_cleanup_free_ char *run = xasprintf("%s/given/run", tmp);
	const struct cell_store_paths paths = {
		.root = root,		   .run = run,		     .cache = "/c",
		.cgroup_parent = "cg-7",   .binary = "/usr/bin/cell", .subuid = "/u",
		.subgid = "/g",		   .idmap_registry = "/r.json",
	};

	(void)state;
	assert_int_equal(cell_store_open(&st, &paths, &err), 0);
	assert_string_equal(st.root, root);
	assert_string_equal(st.run, run);
	assert_string_equal(st.cache, "/c");
	assert_string_equal(st.host.cgroup_parent, "cg-7");
	assert_string_equal(st.binary, "/usr/bin/cell");
	assert_string_equal(st.subuid, "/u");
	assert_string_equal(st.subgid, "/g");
	assert_string_equal(st.idmap_registry, "/r.json");
	cell_store_close(&st);
	assert_null(st.cache);
}

static void make_container(const struct cell_store *st, const char *name, bool with_json)
{
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	assert_int_equal(mkdir(dir, 0700), 0);
	if (with_json) {
		_cleanup_free_ char *meta = xasprintf("%s/cell.json", dir);
		assert_int_equal(cell_write_file_atomic(meta, "{}", 2, 0644), 0);
	}
}

static void test_store_list(void **state)
{
	struct cell_store st;
	struct cell_error err = { 0 };
	char **names = NULL;

	(void)state;
	assert_int_equal(open_store(&st, "list"), 0);
	assert_int_equal(cell_store_list(&st, &names, &err), 0);
	assert_int_equal(cell_strv_len(names), 0);
	cell_strv_free(names);
	make_container(&st, "zeta", true);
	make_container(&st, "alpha", true);
	make_container(&st, "Beta", true);
	make_container(&st, "half-made", false); /* no cell.json: not a container */
	make_container(&st, ".hidden", true);    /* not a valid name */
	int fd = cell_store_lock(&st, "alpha", &err); /* alpha.lock: a file, not listed */
	assert_true(fd >= 0);
	(void)close(fd);
	assert_int_equal(cell_store_list(&st, &names, &err), 0);
	assert_int_equal(cell_strv_len(names), 3);
	assert_string_equal(names[0], "Beta");
	assert_string_equal(names[1], "alpha");
	assert_string_equal(names[2], "zeta");
	cell_strv_free(names);
	cell_store_close(&st);
}

static void test_store_lock(void **state)
{
	struct cell_store st;
	struct cell_error err = { 0 };
	struct stat sb;

	(void)state;
	assert_int_equal(open_store(&st, "lock"), 0);
	static const char *const bad[] = { "../x", "", ".web", "a/b" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *msg = xasprintf(
			"invalid name \"%s\": 1-64 of [A-Za-z0-9_.-], starting with a letter or digit",
			bad[i]);
		assert_int_equal(cell_store_lock(&st, bad[i], &err), -EINVAL);
		assert_string_equal(err.msg, msg);
	}
	_cleanup_free_ char *escaped = xasprintf("%s/x.lock", st.root);
	assert_int_equal(stat(escaped, &sb), -1); /* nothing made outside containers/ */
	/* an existing container's lock: none for a name the store has not, and no
	 * lock file made for it; the lock of a container to be made is made */
	assert_int_equal(cell_store_lock(&st, "web", &err), -ENOENT);
	assert_string_equal(err.msg, "no container named \"web\" (see cell ls)");
	_cleanup_free_ char *path = xasprintf("%s/containers/web.lock", st.root);
	assert_int_equal(stat(path, &sb), -1);
	int fd = cell_store_lock_new(&st, "web", &err);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	(void)close(fd);
	/* released with the fd: taking it again does not block */
	_cleanup_free_ char *dir = cell_store_dir(&st, "web");
	assert_int_equal(mkdir(dir, 0711), 0);
	fd = cell_store_lock(&st, "web", &err);
	assert_true(fd >= 0);
	(void)close(fd);
	cell_store_close(&st);
}

/* ---- cell.json ---- */

static struct cell_settings *full_settings(void)
{
	struct cell_settings *s = fresh();
	struct cell_error err = { 0 };

	s->template_name = xstrdup("debian:bookworm");
	s->storage = xstrdup("overlay");
	s->unprivileged = true;
	s->idmap_host = 1065536;
	s->idmap_size = 65536;
	s->system = true;
	s->terminal = true;
	s->created = xstrdup("2026-12-02T01:00:00Z");
	static const char *const kv[][2] = {
		{ "memory", "512M" }, { "cpus", "1.5" },	 { "pids", "64" },
		{ "hostname", "db" }, { "env", "A=1,B=2" },	 { "mounts", "/a:/b:ro,/c:/d" },
		{ "autostart", "true" }, { "init", "/sbin/init" }, { "command", "/bin/sh,-l" },
		{ "net", "host" },	 { "stop_signal", "SIGRTMIN+3" }, { "user", "0:0" },
		{ "cwd", "/root" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(kv); i++)
		assert_int_equal(cell_settings_set(s, kv[i][0], kv[i][1], &err), 0);
	return s;
}

static void test_settings_round_trip(void **state)
{
	struct cell_store st;
	struct cell_error err = { 0 };
	_cleanup_(settings_freep) struct cell_settings *s = full_settings();
	_cleanup_(settings_freep) struct cell_settings *back = NULL;

	(void)state;
	assert_int_equal(open_store(&st, "json"), 0);
	make_container(&st, "web", false);
	assert_int_equal(cell_settings_save(&st, s, &err), 0);
	assert_int_equal(cell_settings_load(&st, "web", &back, &err), 0);
	const char *key;
	for (size_t i = 0; (key = cell_settings_key(i, NULL)); i++) {
		_cleanup_free_ char *a = cell_settings_get(s, key);
		_cleanup_free_ char *b = cell_settings_get(back, key);
		assert_string_equal(a, b);
	}
	assert_string_equal(back->name, "web");
	assert_string_equal(back->template_name, "debian:bookworm");
	assert_string_equal(back->storage, "overlay");
	assert_string_equal(back->created, "2026-12-02T01:00:00Z");
	assert_true(back->unprivileged && back->system && back->terminal);
	assert_int_equal(back->idmap_host, 1065536);
	assert_int_equal(back->idmap_size, 65536);
	assert_true(back->cpus == 1.5);
	cell_store_close(&st);
}

/* cell.json as written, byte for byte: what older and newer cells read */
static char *saved_text(const struct cell_settings *s, const char *sub)
{
	struct cell_store st;
	struct cell_error err = { 0 };
	char *text = NULL;

	assert_int_equal(open_store(&st, sub), 0);
	make_container(&st, s->name, false);
	assert_int_equal(cell_settings_save(&st, s, &err), 0);
	_cleanup_free_ char *meta = xasprintf("%s/containers/%s/cell.json", st.root, s->name);
	assert_int_equal(cell_read_file(meta, &text, NULL), 0);
	cell_store_close(&st);
	return text;
}

static void test_settings_json_text(void **state)
{
	_cleanup_(settings_freep) struct cell_settings *full = full_settings();
	_cleanup_(settings_freep) struct cell_settings *bare = fresh();

	(void)state;
	static const char *const want_full =
		"{\n"
		"  \"autostart\": true,\n"
		"  \"command\": [\n"
		"    \"/bin/sh\",\n"
		"    \"-l\"\n"
		"  ],\n"
		"  \"cpus\": 1.5,\n"
		"  \"created\": \"2026-12-02T01:00:00Z\",\n"
		"  \"cwd\": \"/root\",\n"
		"  \"env\": [\n"
		"    \"A=1\",\n"
		"    \"B=2\"\n"
		"  ],\n"
		"  \"hostname\": \"db\",\n"
		"  \"idmap_host\": 1065536,\n"
		"  \"idmap_size\": 65536,\n"
		"  \"init\": \"/sbin/init\",\n"
		"  \"memory\": 536870912,\n"
		"  \"mounts\": [\n"
		"    {\n"
		"      \"destination\": \"/b\",\n"
		"      \"readonly\": true,\n"
		"      \"source\": \"/a\"\n"
		"    },\n"
		"    {\n"
		"      \"destination\": \"/d\",\n"
		"      \"readonly\": false,\n"
		"      \"source\": \"/c\"\n"
		"    }\n"
		"  ],\n"
		"  \"name\": \"web\",\n"
		"  \"net\": \"host\",\n"
		"  \"pids\": 64,\n"
		"  \"stop_signal\": \"SIGRTMIN+3\",\n"
		"  \"storage\": \"overlay\",\n"
		"  \"system\": true,\n"
		"  \"template\": \"debian:bookworm\",\n"
		"  \"terminal\": true,\n"
		"  \"unprivileged\": true,\n"
		"  \"user\": \"0:0\"\n"
		"}";
	/* a privileged container without a command: no idmap keys, no "command" */
	static const char *const want_bare =
		"{\n"
		"  \"autostart\": false,\n"
		"  \"cpus\": 0.0,\n"
		"  \"env\": [],\n"
		"  \"memory\": 0,\n"
		"  \"mounts\": [],\n"
		"  \"name\": \"web\",\n"
		"  \"pids\": 0,\n"
		"  \"system\": false,\n"
		"  \"terminal\": false,\n"
		"  \"unprivileged\": false\n"
		"}";
	_cleanup_free_ char *a = saved_text(full, "text-full");
	_cleanup_free_ char *b = saved_text(bare, "text-bare");
	assert_string_equal(a, want_full);
	assert_string_equal(b, want_bare);
}

static void test_settings_load_errors(void **state)
{
	struct cell_store st;
	struct cell_error err = { 0 };
	struct cell_settings *s = NULL;

	(void)state;
	assert_int_equal(open_store(&st, "bad"), 0);
	/* not found is EINVAL today (code 0; issue 10 item 4 is to tell it apart) */
	assert_true(cell_settings_load(&st, "ghost", &s, &err) < 0);
	assert_string_equal(err.msg, "no container named \"ghost\" (see cell ls)");
	assert_null(s);
	make_container(&st, "broken", false);
	_cleanup_free_ char *meta = xasprintf("%s/containers/broken/cell.json", st.root);
	assert_int_equal(cell_write_file_atomic(meta, "{\n\"memory\": ", 12, 0644), 0);
	assert_int_equal(cell_settings_load(&st, "broken", &s, &err), -EINVAL);
	_cleanup_free_ char *prefix = xasprintf("%s: line 2, column", meta);
	assert_true(cell_startswith(err.msg, prefix));
	assert_null(s);
	/* the directory without cell.json is a damaged container, not a missing one */
	make_container(&st, "empty", false);
	assert_int_equal(cell_settings_load(&st, "empty", &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "empty/cell.json: line"));
	cell_store_close(&st);
}

static void test_settings_load_tolerates_missing_keys(void **state)
{
	struct cell_store st;
	struct cell_error err = { 0 };
	_cleanup_(settings_freep) struct cell_settings *s = NULL;

	(void)state;
	assert_int_equal(open_store(&st, "sparse"), 0);
	make_container(&st, "old", false);
	_cleanup_free_ char *meta = xasprintf("%s/containers/old/cell.json", st.root);
	/* a cell.json of an older cell, and a mount entry without a destination */
	const char *text = "{\"template\": \"busybox\", \"mounts\": [{\"source\": \"/a\"}, "
			   "{\"source\": \"/c\", \"destination\": \"/d\"}], \"env\": [\"A=1\", 7]}";
	assert_int_equal(cell_write_file_atomic(meta, text, strlen(text), 0644), 0);
	assert_int_equal(cell_settings_load(&st, "old", &s, &err), 0);
	assert_string_equal(s->template_name, "busybox");
	assert_int_equal(s->n_binds, 1);
	assert_string_equal(s->binds[0].destination, "/d");
	assert_int_equal(cell_strv_len(s->env), 1);
	assert_null(s->command);
	assert_null(s->storage);
	assert_false(s->unprivileged);
	assert_int_equal(s->memory, 0);
	cell_store_close(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_table),
		cmocka_unit_test(test_keys_help),
		cmocka_unit_test(test_unset_values),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_pids),
		cmocka_unit_test(test_a_refused_value_keeps_the_old_one),
		cmocka_unit_test(test_autostart_and_net),
		cmocka_unit_test(test_addresses_and_ports),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_mounts_key),
		cmocka_unit_test(test_bind_parse),
		cmocka_unit_test(test_parse_bytes),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_store_paths),
		cmocka_unit_test(test_store_paths_defaults),
		cmocka_unit_test(test_store_paths_given),
		cmocka_unit_test(test_store_list),
		cmocka_unit_test(test_store_lock),
		cmocka_unit_test(test_settings_round_trip),
		cmocka_unit_test(test_settings_json_text),
		cmocka_unit_test(test_settings_load_errors),
		cmocka_unit_test(test_settings_load_tolerates_missing_keys),
	};
	if (!mkdtemp(tmp))
		return 1;
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	(void)cell_rm_rf(tmp);
	return r;
}
