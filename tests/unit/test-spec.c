/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spec/: config.json parsing (fields and every class of error, with its
 * JSON path), the bare process object, names, the default config and the
 * features document.
 *
 * JSON in this file is written with single quotes for readability; q()
 * turns them into double quotes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/spec/spec.h"

#define BASE "{'ociVersion': '1.0.0', 'root': {'path': 'rootfs'}, "

/* Single quotes to double quotes; the result is static, one at a time. */
static const char *q(const char *s)
{
	static char buf[8192];
	size_t i;

	for (i = 0; s[i] && i + 1 < sizeof(buf); i++)
		buf[i] = s[i] == '\'' ? '"' : s[i];
	buf[i] = '\0';
	return buf;
}

static struct cell_spec *parse_ok(const char *json)
{
	struct cell_error err = { 0 };
	struct cell_spec *s = NULL;

	if (cell_spec_parse(json, strlen(json), &s, &err) < 0) {
		print_error("unexpected error: %s\n  json: %s\n", err.msg, json);
		fail();
	}
	return s;
}

/* Parsing fails and the message contains `want`; *out stays NULL. */
static bool parse_fails_with(const char *json, const char *want)
{
	struct cell_error err = { 0 };
	struct cell_spec *s = NULL;
	int r = cell_spec_parse(json, strlen(json), &s, &err);

	if (r >= 0) {
		print_error("parsed, expected \"%s\"\n  json: %s\n", want, json);
		cell_spec_free(s);
		return false;
	}
	if (!strstr(err.msg, want) || s || r != -EINVAL) {
		print_error("got \"%s\" (r=%d), expected \"%s\"\n  json: %s\n", err.msg, r, want,
			    json);
		return false;
	}
	return true;
}

static char *srcdir_path(const char *rel)
{
	const char *root = getenv("CELL_TEST_SRCDIR");

	return xasprintf("%s/%s", root ? root : ".", rel);
}

/* ---- valid configs ---- */

static void test_minimal(void **state)
{
	struct cell_spec *s = parse_ok(q("{'ociVersion': '1.0.0', 'root': {'path': 'rootfs'}}"));

	assert_string_equal(s->oci_version, "1.0.0");
	assert_string_equal(s->root.path, "rootfs");
	assert_false(s->root.readonly);
	assert_false(s->process_set);
	assert_null(s->hostname);
	assert_int_equal(s->n_mounts, 0);
	assert_int_equal(s->n_annotations, 0);
	for (int t = 0; t < CELL_NS_COUNT; t++)
		assert_false(s->linux.ns[t].enabled);
	assert_false(s->linux.resources_set);
	assert_false(s->linux.seccomp.set);
	assert_false(s->linux.personality.set);
	for (int k = 0; k < CELL_HOOK_KIND_COUNT; k++)
		assert_int_equal(s->hooks[k].n, 0);
	cell_spec_free(s);
}

/* Forward compatibility as in runc: unknown keys anywhere are ignored and
 * null is the same as absent. */
static void test_unknown_and_null(void **state)
{
	struct cell_spec *s = parse_ok(
		q(BASE "'process': {'cwd': '/', 'args': ['sh'], 'futureField': {'x': 1},"
		       " 'env': null, 'capabilities': null}, 'hooks': null, 'mounts': null,"
		       " 'linux': {'seccomp': null, 'namespaces': [{'type': 'pid', 'path': null,"
		       " 'extra': true}]}, 'windows': {'layerFolders': []}, 'zos': 1}"));

	assert_true(s->process_set);
	assert_null(s->process.env);
	assert_false(s->process.caps.set);
	assert_false(s->linux.seccomp.set);
	assert_true(s->linux.ns[CELL_NS_PID].enabled);
	assert_null(s->linux.ns[CELL_NS_PID].path);
	cell_spec_free(s);
}

static void check_full_process(const struct cell_process *p)
{
	assert_true(p->terminal);
	assert_true(p->console_size_set);
	assert_int_equal(p->console_height, 25);
	assert_int_equal(p->console_width, 80);
	assert_string_equal(p->cwd, "/home/user");
	assert_int_equal(cell_strv_len(p->args), 3);
	assert_string_equal(p->args[2], "true");
	assert_string_equal(p->env[1], "TERM=xterm");
	assert_int_equal(p->user.uid, 1000);
	assert_int_equal(p->user.gid, 1001);
	assert_true(p->user.umask_set);
	assert_int_equal(p->user.umask, 18);
	assert_int_equal(p->user.n_additional_gids, 3);
	assert_int_equal(p->user.additional_gids[2], UINT32_MAX);
	assert_true(p->caps.set);
	assert_int_equal(p->caps.bounding, (1ULL << 0) | (1ULL << 5) | (1ULL << 40));
	assert_int_equal(p->caps.effective, 1ULL << 5);
	assert_int_equal(p->caps.inheritable, 0);
	assert_int_equal(p->caps.ambient, 1ULL << 10);
	assert_int_equal(p->n_rlimits, 3);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_string_equal(p->rlimits[0].type, "RLIMIT_NOFILE");
	assert_int_equal(p->rlimits[0].hard, 4096);
	assert_int_equal(p->rlimits[1].resource, RLIMIT_CORE);
	assert_true(p->rlimits[1].soft == UINT64_MAX && p->rlimits[1].hard == UINT64_MAX);
	assert_int_equal(p->rlimits[2].resource, RLIMIT_RTTIME);
	assert_true(p->no_new_privileges);
	assert_true(p->oom_score_adj_set);
	assert_int_equal(p->oom_score_adj, -500);
	assert_string_equal(p->apparmor_profile, "cell-default");
	assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0");
	assert_true(p->scheduler.set);
	assert_int_equal(p->scheduler.policy, SCHED_DEADLINE);
	assert_int_equal(p->scheduler.nice, -5);
	assert_int_equal(p->scheduler.flags, 0x01 | 0x40);
	assert_int_equal(p->scheduler.runtime, 10000000);
	assert_int_equal(p->scheduler.period, 30000000);
	assert_true(p->io_priority.set);
	assert_int_equal(p->io_priority.klass, 2);
	assert_int_equal(p->io_priority.priority, 4);
	assert_string_equal(p->exec_cpu_affinity_initial, "0-3,7");
	assert_string_equal(p->exec_cpu_affinity_final, "1");
}

static void check_full_top(const struct cell_spec *s)
{
	assert_string_equal(s->oci_version, "1.3.0");
	assert_string_equal(s->root.path, "/var/lib/bundle/rootfs");
	assert_true(s->root.readonly);
	assert_string_equal(s->hostname, "box");
	assert_string_equal(s->domainname, "example.org");
	assert_int_equal(s->n_mounts, 2);
	assert_string_equal(s->mounts[1].destination, "/data");
	assert_string_equal(s->mounts[1].source, "/srv/data");
	assert_string_equal(s->mounts[1].type, "none");
	assert_string_equal(s->mounts[1].options[2], "idmap");
	assert_int_equal(s->mounts[1].n_uid_mappings, 1);
	assert_int_equal(s->mounts[1].gid_mappings[0].host_id, 200000);
	assert_null(s->mounts[0].options);
	assert_int_equal(s->hooks[CELL_HOOK_PRESTART].n, 1);
	assert_string_equal(s->hooks[CELL_HOOK_PRESTART].hooks[0].args[1], "prestart");
	assert_true(s->hooks[CELL_HOOK_PRESTART].hooks[0].timeout_set);
	assert_int_equal(s->hooks[CELL_HOOK_PRESTART].hooks[0].timeout, 5);
	assert_int_equal(s->hooks[CELL_HOOK_CREATE_RUNTIME].n, 2);
	assert_string_equal(s->hooks[CELL_HOOK_CREATE_RUNTIME].hooks[1].path, "/usr/bin/hook2");
	assert_false(s->hooks[CELL_HOOK_CREATE_RUNTIME].hooks[1].timeout_set);
	for (int k = 0; k < CELL_HOOK_KIND_COUNT; k++)
		assert_true(s->hooks[k].n >= 1);
	assert_int_equal(s->n_annotations, 2);
	assert_string_equal(s->annotations[0].key, "org.example.key");
	assert_string_equal(s->annotations[1].value, "");
}

static void check_full_linux(const struct cell_linux *l)
{
	for (int t = 0; t < CELL_NS_COUNT; t++)
		assert_true(l->ns[t].enabled);
	assert_string_equal(l->ns[CELL_NS_NET].path, "/var/run/netns/a");
	assert_null(l->ns[CELL_NS_PID].path);
	assert_int_equal(l->n_uid_mappings, 2);
	assert_int_equal(l->uid_mappings[1].host_id, 100000);
	assert_int_equal(l->uid_mappings[1].size, 65536);
	assert_true(l->time_monotonic.set);
	assert_int_equal(l->time_monotonic.secs, -86400);
	assert_int_equal(l->time_monotonic.nanosecs, 500);
	assert_true(l->time_boottime.set);
	assert_int_equal(l->n_devices, 2);
	assert_int_equal(l->devices[0].type, 'c');
	assert_int_equal(l->devices[0].minor, 229);
	assert_true(l->devices[0].file_mode_set);
	assert_int_equal(l->devices[0].file_mode, 438);
	assert_int_equal(l->devices[1].type, 'p');
	assert_false(l->devices[1].uid_set);
	assert_string_equal(l->cgroups_path, "/cell/full");
	assert_int_equal(l->n_sysctl, 5);
	assert_string_equal(l->sysctl[0].key, "net.ipv4.ip_forward");
	assert_string_equal(l->rootfs_propagation, "rslave");
	assert_string_equal(l->masked_paths[1], "/sys/firmware");
	assert_string_equal(l->readonly_paths[0], "/proc/sys");
	assert_string_equal(l->mount_label, "system_u:object_r:container_file_t:s0");
	assert_true(l->personality.set);
	assert_int_equal(l->personality.domain, PER_LINUX32);
	assert_non_null(l->personality.flags);
	assert_null(l->personality.flags[0]);
}

static void check_full_resources(const struct cell_resources *r)
{
	assert_int_equal(r->n_devices, 3);
	assert_false(r->devices[0].allow);
	assert_int_equal(r->devices[0].type, 'a');
	assert_int_equal(r->devices[0].major, -1);
	assert_string_equal(r->devices[1].access, "rw");
	assert_int_equal(r->devices[2].minor, -1);
	assert_string_equal(r->devices[2].access, "rwm");
	assert_true(r->memory.limit.set);
	assert_int_equal(r->memory.limit.v, 536870912);
	assert_int_equal(r->memory.swap.v, -1);
	assert_int_equal(r->memory.kernel_tcp.v, 1048576);
	assert_int_equal(r->memory.swappiness.v, 60);
	assert_true(r->memory.disable_oom_killer_set && r->memory.disable_oom_killer);
	assert_true(r->memory.use_hierarchy_set && !r->memory.use_hierarchy);
	assert_true(r->memory.check_before_update);
	assert_int_equal(r->cpu.shares.v, 1024);
	assert_int_equal(r->cpu.quota.v, 100000);
	assert_int_equal(r->cpu.burst.v, 50000);
	assert_int_equal(r->cpu.realtime_runtime.v, 950000);
	assert_string_equal(r->cpu.cpus, "0-1");
	assert_true(r->cpu.idle.set);
	assert_int_equal(r->pids.limit.v, 32771);
	assert_int_equal(r->block_io.weight.v, 500);
	assert_int_equal(r->block_io.n_weight_devices, 2);
	assert_false(r->block_io.weight_devices[1].weight_set);
	assert_int_equal(r->block_io.weight_devices[1].leaf_weight, 200);
	assert_int_equal(r->block_io.write_iops[0].rate, 300);
	assert_int_equal(r->block_io.read_iops[0].rate, 800);
	assert_int_equal(r->n_hugepage_limits, 2);
	assert_string_equal(r->hugepage_limits[1].page_size, "1GB");
	assert_int_equal(r->network.class_id.v, 1048577);
	assert_string_equal(r->network.priorities[0].name, "eth0");
	assert_int_equal(r->n_unified, 2);
	assert_string_equal(r->unified[1].value, "8:0 rbps=1048576");
}

static void check_full_seccomp(const struct cell_seccomp *sc)
{
	assert_true(sc->set);
	assert_int_equal(sc->default_action, CELL_SCMP_ERRNO);
	assert_true(sc->default_errno_ret_set);
	assert_int_equal(sc->default_errno_ret, 1);
	assert_string_equal(sc->architectures[2], "SCMP_ARCH_X32");
	assert_string_equal(sc->flags[0], "SECCOMP_FILTER_FLAG_LOG");
	assert_string_equal(sc->listener_path, "/run/agent.sock");
	assert_string_equal(sc->listener_metadata, "meta");
	assert_int_equal(sc->n_syscalls, 4);
	assert_string_equal(sc->syscalls[0].names[1], "write");
	assert_int_equal(sc->syscalls[1].n_args, 2);
	assert_int_equal(sc->syscalls[1].args[1].index, 5);
	assert_true(sc->syscalls[1].args[1].value == UINT64_MAX);
	assert_int_equal(sc->syscalls[1].args[1].value_two, 3);
	assert_int_equal(sc->syscalls[1].args[1].op, CELL_SCMP_CMP_MASKED_EQ);
	assert_int_equal(sc->syscalls[2].errno_ret, 38);
	assert_int_equal(sc->syscalls[3].action, CELL_SCMP_NOTIFY);
}

static void test_full(void **state)
{
	_cleanup_free_ char *path = srcdir_path("tests/fuzz/corpus/config/full.json");
	struct cell_error err = { 0 };
	struct cell_spec *s = NULL;

	if (cell_spec_load(path, &s, &err) < 0) {
		print_error("%s\n", err.msg);
		fail();
	}
	assert_true(s->process_set);
	check_full_top(s);
	check_full_process(&s->process);
	check_full_linux(&s->linux);
	assert_true(s->linux.resources_set);
	check_full_resources(&s->linux.resources);
	check_full_seccomp(&s->linux.seccomp);
	cell_spec_free(s);
}

/* ---- errors ---- */

static void test_syntax_errors(void **state)
{
	assert_true(parse_fails_with(q("{\n  'ociVersion': '1.0.0',\n  'root': {'path': 'r'},\n"
				       "  'process': {'args': ['sh',]}\n}"),
				     "line 4, column 29: unexpected token near ']'"));
	assert_true(parse_fails_with("", "line 1, column 0: "));
	assert_true(parse_fails_with(q("{'a': 1} x"), "line 1, column 10: end of file expected"));
	assert_true(parse_fails_with(q("{'a': 'x\ny'}"), "line 1, column "));
	assert_true(parse_fails_with("[1, 2]", "expected a JSON object at the top level"));
	/* above UINT64_MAX stays jansson's error, with its position */
	assert_true(parse_fails_with(q(BASE "'x': 18446744073709551616}"),
				     "line 1, column 77: too big integer"));
}

static const struct {
	const char *json; /* complete document */
	const char *want;
} top_errors[] = {
	{ "{'root': {'path': 'r'}}", "ociVersion: is required" },
	{ "{'ociVersion': 1, 'root': {'path': 'r'}}", "ociVersion: expected a string" },
	{ "{'ociVersion': '2.0.0', 'root': {'path': 'r'}}", "ociVersion: unsupported version" },
	{ "{'ociVersion': '1.0.0'}", "root: is required" },
	{ "{'ociVersion': '1.0.0', 'root': 'r'}", "root: expected an object" },
	{ "{'ociVersion': '1.0.0', 'root': {'path': ''}}", "root.path: must not be empty" },
	{ "{'ociVersion': '1.0.0', 'root': {'path': 'r', 'readonly': 'yes'}}",
	  "root.readonly: expected a boolean" },
};

/* Each fragment completes BASE. */
static const struct {
	const char *frag;
	const char *want;
} errors[] = {
	/* process */
	{ "'process': {'cwd': '/'}}", "process.args: must be a non-empty array of strings" },
	{ "'process': {'cwd': '/', 'args': []}}",
	  "process.args: must be a non-empty array of strings" },
	{ "'process': {'cwd': '/', 'args': ['sh', 1]}}",
	  "process.args: must be a non-empty array of strings" },
	{ "'process': {'args': ['sh']}}", "process.cwd: is required" },
	{ "'process': {'cwd': 'tmp', 'args': ['sh']}}", "process.cwd: must be an absolute path" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'env': ['A=1', 2]}}",
	  "process.env[1]: expected a string" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'terminal': 'yes'}}",
	  "process.terminal: expected a boolean" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'consoleSize': {'height': 1}}}",
	  "process.consoleSize.width: is required" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'user': {'uid': -1}}}",
	  "process.user.uid: must be between 0 and 4294967295" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'user': {'uid': 1.5}}}",
	  "process.user.uid: expected an integer" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'user': {'gid': 4294967296}}}",
	  "process.user.gid: must be between 0 and 4294967295" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'user': {'additionalGids': [1, 'x']}}}",
	  "process.user.additionalGids[1]: expected an integer" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'capabilities': {'bounding': ['CAP_KILL', 7]}}}",
	  "process.capabilities.bounding[1]: expected a string" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'rlimits': [{'type': 'RLIMIT_NOFILE', "
	  "'soft': 1, 'hard': 1}, {'type': 'RLIMIT_FOO', 'soft': 1, 'hard': 1}]}}",
	  "process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'rlimits': [{'type': 'RLIMIT_NOFILE', "
	  "'soft': 1, 'hard': 1}, {'type': 'RLIMIT_NOFILE', 'soft': 2, 'hard': 2}]}}",
	  "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\"" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'rlimits': [{'type': 'RLIMIT_CPU', "
	  "'soft': 1}]}}",
	  "process.rlimits[0].hard: is required" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'rlimits': [{'type': 'RLIMIT_CPU', "
	  "'soft': 3, 'hard': 2}]}}",
	  "process.rlimits[0].soft: RLIMIT_CPU soft limit 3 must not exceed hard (2)" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'rlimits': [{'type': 'RLIMIT_CPU', "
	  "'soft': -1, 'hard': 2}]}}",
	  "process.rlimits[0].soft: must be between 0 and 18446744073709551615" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'rlimits': {}}}",
	  "process.rlimits: expected an array" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'rlimits': [1]}}",
	  "process.rlimits[0]: expected an object" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'oomScoreAdj': 1001}}",
	  "process.oomScoreAdj: must be between -1000 and 1000" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'oomScoreAdj': -1001}}",
	  "process.oomScoreAdj: must be between -1000 and 1000" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'scheduler': {'nice': 1}}}",
	  "process.scheduler.policy: is required" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'scheduler': {'policy': 'SCHED_FOO'}}}",
	  "process.scheduler.policy: unknown scheduler policy \"SCHED_FOO\"" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'scheduler': {'policy': 'SCHED_RR', "
	  "'flags': ['SCHED_FLAG_NOPE']}}}",
	  "process.scheduler.flags[0]: unknown scheduler flag \"SCHED_FLAG_NOPE\"" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'scheduler': {'policy': 'SCHED_OTHER', "
	  "'priority': 5}}}",
	  "process.scheduler.priority: only applies to SCHED_FIFO and SCHED_RR" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'scheduler': {'policy': 'SCHED_FIFO', "
	  "'runtime': 5}}}",
	  "process.scheduler: runtime, deadline and period only apply to SCHED_DEADLINE" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'scheduler': {'policy': 'SCHED_OTHER', "
	  "'nice': 20}}}",
	  "process.scheduler.nice: must be between -20 and 19" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'ioPriority': {'class': 'IOPRIO_CLASS_NONE'}}}",
	  "process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_NONE\"" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'ioPriority': {'class': 'IOPRIO_CLASS_RT', "
	  "'priority': 8}}}",
	  "process.ioPriority.priority: must be between 0 and 7" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'execCPUAffinity': {'initial': '0-'}}}",
	  "process.execCPUAffinity.initial: invalid CPU list" },
	{ "'process': {'cwd': '/', 'args': ['sh'], 'execCPUAffinity': {'final': '3-1'}}}",
	  "process.execCPUAffinity.final: invalid CPU list" },
	/* mounts, hooks, annotations, hostname */
	{ "'mounts': [{'destination': '/a'}, {'destination': '/b'}, {'destination': '/c'}, "
	  "{'destination': 'd'}]}",
	  "mounts[3].destination: must be an absolute path" },
	{ "'mounts': [{'source': '/a'}]}", "mounts[0].destination: is required" },
	{ "'mounts': [{'destination': '/a', 'options': 'ro'}]}",
	  "mounts[0].options: expected an array of strings" },
	{ "'mounts': [{'destination': '/a', 'uidMappings': [{'containerID': 0, 'hostID': 1}]}]}",
	  "mounts[0].uidMappings[0].size: is required" },
	/* no mount namespace: nothing may need a mount */
	{ "'mounts': [{'destination': '/tmp', 'type': 'tmpfs'}]}",
	  "mounts: requires a mount namespace (no \"mount\" in linux.namespaces)" },
	{ "'linux': {'maskedPaths': ['/proc/kcore']}}", "linux.maskedPaths: requires a mount" },
	{ "'linux': {'readonlyPaths': ['/proc/sys']}}", "linux.readonlyPaths: requires a mount" },
	{ "'linux': {'rootfsPropagation': 'shared'}}", "linux.rootfsPropagation: requires a mount" },
	{ "'hooks': {'prestart': [{'path': 'hook'}]}}",
	  "hooks.prestart[0].path: must be an absolute path" },
	{ "'hooks': {'poststop': [{'path': '/hook', 'timeout': 0}]}}",
	  "hooks.poststop[0].timeout: must be between 1 and 2147483647" },
	{ "'hooks': {'createRuntime': [{'args': []}]}}",
	  "hooks.createRuntime[0].path: is required" },
	{ "'annotations': {'a.b': 1}}", "annotations.\"a.b\": expected a string" },
	{ "'annotations': {'': 'x'}}", "annotations.\"\": must not be empty" },
	{ "'annotations': {'a\\u001bb': 1}}", "annotations.\"a?b\": expected a string" },
	{ "'hostname': 'box'}", "hostname: requires a UTS namespace" },
	{ "'domainname': 'example.org'}", "domainname: requires a UTS namespace" },
	{ "'hostname': 18446744073709551615}", "hostname: expected a string" },
	{ "'linux': {'namespaces': [{'type': 'uts'}]}, 'hostname': "
	  "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}",
	  "hostname: must be at most 64 characters" },
	/* linux */
	{ "'linux': []}", "linux: expected an object" },
	{ "'linux': {'namespaces': [{'type': 'pid'}, {'type': 'mount'}, {'type': 'foo'}]}}",
	  "linux.namespaces[2].type: unknown namespace \"foo\"" },
	{ "'linux': {'namespaces': [{'type': 'pid'}, {'type': 'pid'}]}}",
	  "linux.namespaces[1].type: duplicate namespace \"pid\"" },
	{ "'linux': {'namespaces': [{'type': 'net', 'path': '/x'}]}}",
	  "linux.namespaces[0].type: unknown namespace \"net\"" },
	{ "'linux': {'namespaces': [{'type': 'network', 'path': 'run/netns/x'}]}}",
	  "linux.namespaces[0].path: must be an absolute path" },
	{ "'linux': {'namespaces': [{'path': '/x'}]}}", "linux.namespaces[0].type: is required" },
	{ "'linux': {'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]}}",
	  "linux.uidMappings: requires a user namespace" },
	{ "'linux': {'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]}}",
	  "linux.gidMappings: requires a user namespace" },
	{ "'linux': {'namespaces': [{'type': 'user'}], 'uidMappings': [{'containerID': 0, "
	  "'hostID': 1000, 'size': 0}]}}",
	  "linux.uidMappings[0].size: must be between 1 and 4294967295" },
	{ "'linux': {'timeOffsets': {'monotonic': {'secs': 1}}}}",
	  "linux.timeOffsets: requires a time namespace" },
	{ "'linux': {'namespaces': [{'type': 'time', 'path': '/proc/1/ns/time'}], "
	  "'timeOffsets': {'boottime': {'secs': 1}}}}",
	  "linux.timeOffsets: cannot be set when joining an existing time namespace" },
	{ "'linux': {'namespaces': [{'type': 'time'}], 'timeOffsets': {'realtime': {'secs': 1}}}}",
	  "linux.timeOffsets.realtime: unknown clock" },
	{ "'linux': {'namespaces': [{'type': 'time'}], 'timeOffsets': {'boottime': {'nanosecs': "
	  "1000000000}}}}",
	  "linux.timeOffsets.boottime.nanosecs: must be between 0 and 999999999" },
	{ "'linux': {'devices': [{'type': 'x', 'path': '/dev/x'}]}}",
	  "linux.devices[0].type: unknown device type \"x\"" },
	{ "'linux': {'devices': [{'type': 'c', 'path': 'dev/x', 'major': 1, 'minor': 1}]}}",
	  "linux.devices[0].path: must be an absolute path" },
	{ "'linux': {'devices': [{'type': 'p', 'path': '/dev/p'}, {'type': 'b', 'path': "
	  "'/dev/b', 'minor': 1}]}}",
	  "linux.devices[1].major: is required for type \"b\"" },
	{ "'linux': {'devices': [{'type': 'u', 'path': '/dev/u', 'major': 1}]}}",
	  "linux.devices[0].minor: is required for type \"u\"" },
	{ "'linux': {'intelRdt': {'closID': 'x'}}}", "linux.intelRdt: Intel RDT is not supported" },
	{ "'linux': {'sysctl': {'vm.foo': '1'}}}",
	  "linux.sysctl.\"vm.foo\": not namespaced, refusing to set a host-wide sysctl" },
	{ "'linux': {'sysctl': {'kernel.domainname': 'x'}, 'namespaces': [{'type': 'ipc'}]}}",
	  "linux.sysctl.\"kernel.domainname\": requires a new uts namespace" },
	{ "'linux': {'sysctl': {'net.ipv4.ip_forward': '1'}}}",
	  "linux.sysctl.\"net.ipv4.ip_forward\": requires a new network namespace" },
	{ "'linux': {'sysctl': {'kernel.shmmax': '1'}, 'namespaces': [{'type': 'uts'}]}}",
	  "linux.sysctl.\"kernel.shmmax\": requires a new ipc namespace" },
	{ "'linux': {'sysctl': {'fs/mqueue/msg_max': '1'}}}",
	  "linux.sysctl.\"fs/mqueue/msg_max\": requires a new ipc namespace" },
	{ "'linux': {'sysctl': {'kernel.hostname': 'x'}, 'namespaces': [{'type': 'uts'}]}}",
	  "linux.sysctl.\"kernel.hostname\": conflicts with the \"hostname\" field" },
	{ "'domainname': 'a.b', 'linux': {'sysctl': {'kernel/domainname': 'x'}, 'namespaces': "
	  "[{'type': 'uts'}]}}",
	  "linux.sysctl.\"kernel/domainname\": conflicts with the \"domainname\" field" },
	{ "'linux': {'sysctl': {'kernel.printk': '1'}, 'namespaces': [{'type': 'ipc'}]}}",
	  "linux.sysctl.\"kernel.printk\": not namespaced" },
	{ "'linux': {'namespaces': [{'type': 'network'}], 'sysctl': {'net..x': '1'}}}",
	  "linux.sysctl.\"net..x\": invalid sysctl name" },
	{ "'linux': {'namespaces': [{'type': 'network'}], 'sysctl': {'net/../kernel/x': '1'}}}",
	  "linux.sysctl.\"net/../kernel/x\": invalid sysctl name" },
	{ "'linux': {'namespaces': [{'type': 'network'}], 'sysctl': {'net.core.x': 1}}}",
	  "linux.sysctl.\"net.core.x\": expected a string" },
	{ "'linux': {'rootfsPropagation': 'bogus'}}",
	  "linux.rootfsPropagation: unknown rootfs propagation \"bogus\"" },
	{ "'linux': {'maskedPaths': ['/proc/kcore', 'proc/keys']}}",
	  "linux.maskedPaths[1]: must be an absolute path" },
	{ "'linux': {'readonlyPaths': '/proc/sys'}}",
	  "linux.readonlyPaths: expected an array of strings" },
	{ "'linux': {'personality': {'domain': 'LINUX64'}}}",
	  "linux.personality.domain: unknown personality domain \"LINUX64\"" },
	{ "'linux': {'personality': {'flags': []}}}", "linux.personality.domain: is required" },
	/* resources */
	{ "'linux': {'resources': {'memory': {'limit': '1G'}}}}",
	  "linux.resources.memory.limit: expected an integer" },
	{ "'linux': {'resources': {'memory': {'limit': 9223372036854775808}}}}",
	  "linux.resources.memory.limit: must be between -9223372036854775808 and "
	  "9223372036854775807" },
	{ "'linux': {'resources': {'memory': {'disableOOMKiller': 1}}}}",
	  "linux.resources.memory.disableOOMKiller: expected a boolean" },
	{ "'linux': {'resources': {'devices': [{'access': 'rwm'}]}}}",
	  "linux.resources.devices[0].allow: is required" },
	{ "'linux': {'resources': {'devices': [{'allow': true, 'access': 'rwx'}]}}}",
	  "linux.resources.devices[0].access: must be a combination of r, w and m" },
	{ "'linux': {'resources': {'devices': [{'allow': true, 'access': 'rr'}]}}}",
	  "linux.resources.devices[0].access: must be a combination of r, w and m" },
	{ "'linux': {'resources': {'devices': [{'allow': true, 'type': 'p'}]}}}",
	  "linux.resources.devices[0].type: unknown device type \"p\"" },
	{ "'linux': {'resources': {'devices': [{'allow': true, 'major': -2}]}}}",
	  "linux.resources.devices[0].major: must be between -1 and" },
	{ "'linux': {'resources': {'cpu': {'cpus': 'all'}}}}",
	  "linux.resources.cpu.cpus: invalid CPU list" },
	{ "'linux': {'resources': {'cpu': {'quota': 1000, 'burst': 2000}}}}",
	  "linux.resources.cpu.burst: must not exceed quota (1000)" },
	{ "'linux': {'resources': {'cpu': {'shares': -1}}}}",
	  "linux.resources.cpu.shares: must be between 0 and 18446744073709551615" },
	{ "'linux': {'resources': {'pids': {'limit': true}}}}",
	  "linux.resources.pids.limit: expected an integer" },
	{ "'linux': {'resources': {'blockIO': {'weight': 70000}}}}",
	  "linux.resources.blockIO.weight: must be between 0 and 65535" },
	{ "'linux': {'resources': {'blockIO': {'weightDevice': [{'major': 8, 'minor': 0}]}}}}",
	  "linux.resources.blockIO.weightDevice[0]: needs weight or leafWeight" },
	{ "'linux': {'resources': {'blockIO': {'throttleReadBpsDevice': [{'major': 8, "
	  "'minor': 0}]}}}}",
	  "linux.resources.blockIO.throttleReadBpsDevice[0].rate: is required" },
	{ "'linux': {'resources': {'blockIO': {'throttleWriteIOPSDevice': [{'minor': 0, "
	  "'rate': 1}]}}}}",
	  "linux.resources.blockIO.throttleWriteIOPSDevice[0].major: is required" },
	{ "'linux': {'resources': {'hugepageLimits': [{'pageSize': '../../x', 'limit': 1}]}}}",
	  "linux.resources.hugepageLimits[0].pageSize: invalid page size" },
	{ "'linux': {'resources': {'hugepageLimits': [{'pageSize': '2MB'}]}}}",
	  "linux.resources.hugepageLimits[0].limit: is required" },
	{ "'linux': {'resources': {'network': {'classID': 4294967296}}}}",
	  "linux.resources.network.classID: must be between 0 and 4294967295" },
	{ "'linux': {'resources': {'network': {'priorities': [{'name': 'eth0\\nx', 'priority': "
	  "1}]}}}}",
	  "linux.resources.network.priorities[0].name: invalid interface name" },
	{ "'linux': {'resources': {'unified': {'../cgroup.procs': '0'}}}}",
	  "linux.resources.unified.\"../cgroup.procs\": not a cgroup file name" },
	{ "'linux': {'resources': {'unified': {'memory.max': 1}}}}",
	  "linux.resources.unified.\"memory.max\": expected a string" },
	/* seccomp */
	{ "'linux': {'seccomp': {}}}", "linux.seccomp.defaultAction: is required" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_NOPE'}}}",
	  "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_NOPE\"" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_NOTIFY', 'listenerPath': '/s'}}}",
	  "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
	  "['read'], 'action': 'SCMP_ACT_LOG'}, {'names': ['mount'], 'action': "
	  "'SCMP_ACT_NOTIFY'}]}}}",
	  "linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'listenerMetadata': 'x'}}}",
	  "linux.seccomp.listenerMetadata: requires listenerPath" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': "
	  "['SCMP_ARCH_X86_64', 'SCMP_ARCH_FOO']}}}",
	  "linux.seccomp.architectures[1]: unknown seccomp architecture \"SCMP_ARCH_FOO\"" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'flags': "
	  "['SECCOMP_FILTER_FLAG_NOPE']}}}",
	  "linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_NOPE\"" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'defaultErrnoRet': 1}}}",
	  "linux.seccomp.defaultErrnoRet: only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': "
	  "['read'], 'action': 'SCMP_ACT_KILL', 'errnoRet': 1}]}}}",
	  "linux.seccomp.syscalls[0].errnoRet: only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': [], "
	  "'action': 'SCMP_ACT_ALLOW'}]}}}",
	  "linux.seccomp.syscalls[0].names: must be a non-empty array of strings" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': [''], "
	  "'action': 'SCMP_ACT_ALLOW'}]}}}",
	  "linux.seccomp.syscalls[0].names[0]: must not be empty" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': "
	  "['read']}]}}}",
	  "linux.seccomp.syscalls[0].action: is required" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': "
	  "['read'], 'action': 'SCMP_ACT_ALLOW', 'args': [{'index': 6, 'value': 1, 'op': "
	  "'SCMP_CMP_EQ'}]}]}}}",
	  "linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': "
	  "['read'], 'action': 'SCMP_ACT_ALLOW', 'args': [{'index': 0, 'value': 1, 'op': "
	  "'SCMP_CMP_LIKE'}]}]}}}",
	  "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_LIKE\"" },
	{ "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': "
	  "['read'], 'action': 'SCMP_ACT_ALLOW', 'args': [{'index': 0, 'op': "
	  "'SCMP_CMP_EQ'}]}]}}}",
	  "linux.seccomp.syscalls[0].args[0].value: is required" },
};

static void test_errors(void **state)
{
	_cleanup_free_ char *json = NULL;
	int failures = 0;

	for (size_t i = 0; i < ARRAY_SIZE(top_errors); i++)
		failures += !parse_fails_with(q(top_errors[i].json), top_errors[i].want);
	for (size_t i = 0; i < ARRAY_SIZE(errors); i++) {
		json = xasprintf("%s%s", BASE, errors[i].frag);
		failures += !parse_fails_with(q(json), errors[i].want);
		free(TAKE_PTR(json));
	}
	assert_int_equal(failures, 0);
}

/* A long user string is cut and control characters never reach a terminal. */
static void test_error_quoting(void **state)
{
	_cleanup_free_ char *json = NULL;
	char name[300];

	memset(name, 'A', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	json = xasprintf(BASE "'process': {'cwd': '/', 'args': ['sh'], 'rlimits': "
			      "[{'type': '\\u001b[31m%s', 'soft': 1, 'hard': 1}]}}",
			 name);
	assert_true(parse_fails_with(q(json), "unknown rlimit \"?[31mAAAA"));
	assert_true(parse_fails_with(q(json), "AAA...\""));
}

/* ---- the bare process object (exec -p) ---- */

/* Paths start at the process object itself: "args", not "process.args". */
static bool process_fails_with(const char *json, const char *want)
{
	struct cell_error err = { 0 };
	struct cell_process *p = NULL;

	if (cell_process_parse(json, strlen(json), &p, &err) >= 0) {
		print_error("parsed, expected \"%s\"\n  json: %s\n", want, json);
		cell_process_free(p);
		return false;
	}
	if (!strstr(err.msg, want) || strstr(err.msg, "process.") || p) {
		print_error("got \"%s\", expected \"%s\"\n", err.msg, want);
		return false;
	}
	return true;
}

/* runtime-spec 1.1: unknown capabilities are left out (the runtime warns),
 * each named once, quoted. */
static void test_unknown_capabilities_left_out(void **state)
{
	struct cell_spec *s = parse_ok(
		q(BASE "'process': {'cwd': '/', 'args': ['sh'], 'capabilities': {'bounding': "
		       "['CAP_KILL', 'CAP_FOO'], 'effective': ['CAP_FOO', 'kill', "
		       "'\\u001b[31m']}}}"));

	(void)state;
	assert_true(s->process.caps.set);
	assert_true(s->process.caps.bounding == (UINT64_C(1) << 5)); /* CAP_KILL */
	assert_true(s->process.caps.effective == 0);
	assert_string_equal(s->process.caps.unknown, "CAP_FOO kill ?[31m");
	cell_spec_free(s);
}

static void test_process_parse(void **state)
{
	const char *ok = q("{'cwd': '/tmp', 'args': ['ls', '-l'], 'terminal': false, 'env': "
			   "['A=1'], 'rlimits': [{'type': 'RLIMIT_NPROC', 'soft': 10, 'hard': "
			   "18446744073709551615}], 'capabilities': {'bounding': ['CAP_KILL']}}");
	struct cell_error err = { 0 };
	struct cell_process *p = NULL;

	assert_int_equal(cell_process_parse(ok, strlen(ok), &p, &err), 0);
	assert_string_equal(p->cwd, "/tmp");
	assert_string_equal(p->args[1], "-l");
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NPROC);
	assert_true(p->rlimits[0].hard == UINT64_MAX);
	assert_true(p->caps.set);
	cell_process_free(p);
	cell_process_free(NULL);

	static const struct {
		const char *json, *want;
	} bad[] = {
		{ "{'cwd': '/'}", "args: must be a non-empty array of strings" },
		{ "{'cwd': 'x', 'args': ['sh']}", "cwd: must be an absolute path" },
		{ "{'cwd': '/', 'args': ['sh'], 'rlimits': [{'type': 'RLIMIT_FOO', 'soft': 1, "
		  "'hard': 1}]}",
		  "rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"" },
		{ "{'cwd': '/', 'args': ['sh'], 'user': {'uid': 'root'}}",
		  "user.uid: expected an integer" },
		{ "{'cwd': '/',\n 'args': ['sh'\n}", "line 3, column 1: " },
		{ "[]", "expected a JSON object at the top level" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_true(process_fails_with(q(bad[i].json), bad[i].want));
}

/* ---- cell_spec_load ---- */

static void test_load(void **state)
{
	char dir[] = "/tmp/celltest-spec-XXXXXX";
	_cleanup_free_ char *path = NULL;
	struct cell_error err = { 0 };
	struct cell_spec *s = NULL;
	const char *bad = "{\n  \"ociVersion\": \"1.0.0\",\n  \"root\": }\n";
	int r;

	assert_int_equal(cell_spec_load("/nonexistent/celltest/config.json", &s, &err), -ENOENT);
	assert_string_equal(err.msg, "read /nonexistent/celltest/config.json");
	assert_int_equal(err.code, ENOENT);
	assert_null(s);

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/config.json", dir);
	r = cell_write_file_atomic(path, bad, strlen(bad), 0600);
	if (r == 0)
		r = cell_spec_load(path, &s, &err);
	(void)unlink(path); /* before any assertion can jump out */
	(void)rmdir(dir);
	assert_int_equal(r, -EINVAL);
	assert_null(s);
	assert_true(cell_startswith(err.msg, path));
	assert_non_null(strstr(err.msg, "config.json: line 3, column 11: "));
	assert_int_equal(err.code, EINVAL);
	assert_true(err.plain); /* the message says it all: no ": Invalid argument" */
}

/* ---- integers above INT64_MAX ---- */

static void test_big_integers(void **state)
{
	struct cell_spec *s = parse_ok(q(BASE "'process': {'cwd': '/', 'args': ['sh'], "
					 "'rlimits': [{'type': 'RLIMIT_AS', 'soft': "
					 "9223372036854775808, 'hard':18446744073709551615}]},"
					 " 'annotations': {'k': '18446744073709551615'}}"));

	assert_true(s->process.rlimits[0].soft == UINT64_C(9223372036854775808));
	assert_true(s->process.rlimits[0].hard == UINT64_MAX);
	/* digits inside strings are left alone */
	assert_string_equal(s->annotations[0].value, "18446744073709551615");
	cell_spec_free(s);
	/* a marker-like string written by the user is not a number */
	assert_true(parse_fails_with(q(BASE "'process': {'cwd': '/', 'args': ['sh'], "
					    "'oomScoreAdj': '\\u000100000000000'}}"),
				     "process.oomScoreAdj: expected an integer"));
	/* a big integer in a key position stays a syntax error */
	assert_true(parse_fails_with(q("{18446744073709551615: 1}"), "line 1, column"));
	assert_true(parse_fails_with(q(BASE "'linux': {'resources': {'pids': {'limit': "
					    "18446744073709551615}}}}"),
				     "linux.resources.pids.limit: must be between"));
}

/* ---- default config and features ---- */

static int ns_count(const struct cell_spec *s)
{
	int n = 0;

	for (int t = 0; t < CELL_NS_COUNT; t++)
		n += s->linux.ns[t].enabled;
	return n;
}

static const struct cell_mount *find_mount(const struct cell_spec *s, const char *dest)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (streq(s->mounts[i].destination, dest))
			return &s->mounts[i];
	return NULL;
}

static void check_default_common(const struct cell_spec *s)
{
	assert_string_equal(s->oci_version, "1.2.0");
	assert_string_equal(s->root.path, "rootfs");
	assert_true(s->root.readonly);
	assert_string_equal(s->hostname, "cellrun");
	assert_true(s->process.terminal);
	assert_string_equal(s->process.args[0], "sh");
	assert_null(s->process.args[1]);
	assert_string_equal(s->process.cwd, "/");
	assert_string_equal(s->process.env[1], "TERM=xterm");
	assert_int_equal(__builtin_popcountll(s->process.caps.bounding), 14);
	assert_true(s->process.caps.bounding == s->process.caps.effective &&
		    s->process.caps.bounding == s->process.caps.permitted);
	assert_true(s->process.caps.bounding & (1ULL << cell_cap_from_name("CAP_SYS_CHROOT")));
	assert_int_equal(s->process.caps.ambient, 0);
	assert_int_equal(s->process.n_rlimits, 1);
	assert_int_equal(s->process.rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(s->process.rlimits[0].soft, 1024);
	assert_true(s->process.no_new_privileges);
	assert_non_null(find_mount(s, "/proc"));
	assert_non_null(find_mount(s, "/dev/shm"));
	assert_non_null(find_mount(s, "/dev/mqueue"));
	assert_true(cell_strv_contains(s->linux.masked_paths, "/proc/kcore"));
	assert_true(cell_strv_contains(s->linux.readonly_paths, "/proc/sysrq-trigger"));
}

static void test_default_rootful(void **state)
{
	_cleanup_free_ char *json = cell_spec_default_json(false, true);
	struct cell_spec *s = parse_ok(json);
	const struct cell_mount *pts = find_mount(s, "/dev/pts");

	assert_non_null(strstr(json, "\n  \"process\": {\n    \"terminal\": true,"));
	check_default_common(s);
	assert_int_equal(ns_count(s), 6);
	assert_true(s->linux.ns[CELL_NS_NET].enabled && s->linux.ns[CELL_NS_CGROUP].enabled);
	assert_false(s->linux.ns[CELL_NS_USER].enabled);
	assert_int_equal(s->n_mounts, 7);
	assert_true(cell_strv_contains(pts->options, "gid=5"));
	assert_string_equal(find_mount(s, "/sys")->type, "sysfs");
	assert_non_null(find_mount(s, "/sys/fs/cgroup"));
	assert_true(s->linux.resources_set);
	assert_int_equal(s->linux.resources.n_devices, 1);
	assert_false(s->linux.resources.devices[0].allow);
	cell_spec_free(s);
}

static void test_default_rootless(void **state)
{
	_cleanup_free_ char *json = cell_spec_default_json(true, true);
	struct cell_spec *s = parse_ok(json);
	const struct cell_mount *sys = find_mount(s, "/sys");

	check_default_common(s);
	assert_int_equal(ns_count(s), 6);
	assert_true(s->linux.ns[CELL_NS_USER].enabled);
	assert_false(s->linux.ns[CELL_NS_NET].enabled);
	assert_int_equal(s->linux.n_uid_mappings, 1);
	assert_int_equal(s->linux.uid_mappings[0].host_id, getuid());
	assert_int_equal(s->linux.uid_mappings[0].container_id, 0);
	assert_int_equal(s->linux.uid_mappings[0].size, 1);
	assert_int_equal(s->linux.gid_mappings[0].host_id, getgid());
	assert_null(find_mount(s, "/sys/fs/cgroup"));
	assert_int_equal(s->n_mounts, 6);
	assert_string_equal(sys->source, "/sys");
	assert_true(cell_strv_contains(sys->options, "rbind"));
	assert_true(cell_strv_contains(sys->options, "ro"));
	assert_false(cell_strv_contains(find_mount(s, "/dev/pts")->options, "gid=5"));
	assert_false(s->linux.resources_set);
	cell_spec_free(s);
}

static bool json_array_has(json_t *a, const char *s)
{
	size_t i;
	json_t *x;

	json_array_foreach(a, i, x)
		if (json_is_string(x) && streq(json_string_value(x), s))
			return true;
	return false;
}

static void test_features(void **state)
{
	_cleanup_free_ char *text = cell_features_json();
	json_t *f = json_loads(text, 0, NULL), *l, *sc;

	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "ociVersionMin")), "1.0.0");
	assert_string_equal(json_string_value(json_object_get(f, "ociVersionMax")), "1.3.0");
	assert_int_equal(json_array_size(json_object_get(f, "hooks")), 6);
	assert_true(json_array_has(json_object_get(f, "mountOptions"), "rro"));
	assert_true(json_array_has(json_object_get(f, "mountOptions"), "idmap"));
	assert_true(json_array_has(json_object_get(f, "mountOptions"), "tmpcopyup"));
	l = json_object_get(f, "linux");
	assert_int_equal(json_array_size(json_object_get(l, "namespaces")), 8);
	assert_true(json_array_has(json_object_get(l, "namespaces"), "time"));
	assert_int_equal(json_array_size(json_object_get(l, "capabilities")), cell_cap_last() + 1);
	assert_true(json_is_true(json_object_get(json_object_get(l, "cgroup"), "v2")));
	assert_true(json_is_false(json_object_get(json_object_get(l, "cgroup"), "rdma")));
	sc = json_object_get(l, "seccomp");
	assert_true(json_is_true(json_object_get(sc, "enabled")));
	assert_int_equal(json_array_size(json_object_get(sc, "actions")), 9);
	assert_int_equal(json_array_size(json_object_get(sc, "operators")), 7);
	assert_true(json_array_has(json_object_get(sc, "archs"), "SCMP_ARCH_X86_64"));
	assert_int_equal(json_array_size(json_object_get(sc, "knownFlags")), 4);
	assert_true(json_array_size(json_object_get(sc, "supportedFlags")) <= 4);
	assert_true(json_is_boolean(json_object_get(json_object_get(l, "apparmor"), "enabled")));
	assert_true(json_is_boolean(json_object_get(json_object_get(l, "selinux"), "enabled")));
	assert_true(json_is_false(json_object_get(json_object_get(l, "intelRdt"), "enabled")));
	assert_true(json_is_true(json_object_get(
		json_object_get(json_object_get(l, "mountExtensions"), "idmap"), "enabled")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(f, "annotations"),
							      "io.github.cell.version")),
			    "0.1.0");
	json_decref(f);
}

/* ---- names ---- */

static void test_names(void **state)
{
	for (int t = 0; t < CELL_NS_COUNT; t++) {
		const char *name = cell_ns_type_name((enum cell_ns_type)t);
		assert_non_null(name);
		assert_int_equal(cell_ns_type_from_name(name), t);
	}
	assert_string_equal(cell_ns_type_name(CELL_NS_NET), "network");
	assert_int_equal(cell_ns_type_from_name("net"), -1);
	assert_int_equal(cell_ns_type_from_name(NULL), -1);
	assert_null(cell_ns_type_name(CELL_NS_COUNT));
	assert_int_equal(cell_ns_clone_flag(CELL_NS_MNT), CLONE_NEWNS);
	assert_int_equal(cell_ns_clone_flag(CELL_NS_TIME), CLONE_NEWTIME);
	assert_int_equal(cell_ns_clone_flag(CELL_NS_USER), CLONE_NEWUSER);
	assert_string_equal(cell_hook_kind_name(CELL_HOOK_CREATE_CONTAINER), "createContainer");
	assert_string_equal(cell_hook_kind_name(CELL_HOOK_POSTSTOP), "poststop");
	assert_null(cell_hook_kind_name(CELL_HOOK_KIND_COUNT));
	assert_int_equal(cell_cap_last(), 40);
	assert_int_equal(cell_cap_from_name("CAP_CHOWN"), 0);
	assert_int_equal(cell_cap_from_name("CAP_SYS_ADMIN"), 21);
	assert_int_equal(cell_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	assert_int_equal(cell_cap_from_name("SYS_ADMIN"), -1);
	assert_string_equal(cell_cap_name(38), "CAP_PERFMON");
	assert_null(cell_cap_name(41));
	assert_null(cell_cap_name(-1));
	for (int c = 0; c <= cell_cap_last(); c++)
		assert_int_equal(cell_cap_from_name(cell_cap_name(c)), c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_unknown_and_null),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_quoting),
		cmocka_unit_test(test_unknown_capabilities_left_out),
		cmocka_unit_test(test_process_parse),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_big_integers),
		cmocka_unit_test(test_default_rootful),
		cmocka_unit_test(test_default_rootless),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
