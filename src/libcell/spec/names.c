/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Names of the spec: namespaces, hooks, capabilities, and the closed lists
 * of config.json values (runtime-spec config.md, config-linux.md).
 */
#include "names.h"
#include "spec.h"

#include <linux/ioprio.h>
#include <linux/sched.h>
#include <sched.h>
#include <stddef.h>
#include <sys/personality.h>
#include <sys/resource.h>

#include "../base/cleanup.h"
#include "../base/util.h"

const struct cell_name_value *spec_name_find(const struct cell_name_value *t, const char *name)
{
	for (; t->name; t++)
		if (streq(t->name, name))
			return t;
	return NULL;
}

const char *spec_name_of(const struct cell_name_value *t, int64_t value)
{
	for (; t->name; t++)
		if (t->value == value)
			return t->name;
	return NULL;
}

/* ---- namespaces ---- */

static const struct {
	const char *name;
	int clone_flag;
} namespaces[CELL_NS_COUNT] = {
	[CELL_NS_PID] = { "pid", CLONE_NEWPID },
	[CELL_NS_NET] = { "network", CLONE_NEWNET },
	[CELL_NS_MNT] = { "mount", CLONE_NEWNS },
	[CELL_NS_IPC] = { "ipc", CLONE_NEWIPC },
	[CELL_NS_UTS] = { "uts", CLONE_NEWUTS },
	[CELL_NS_USER] = { "user", CLONE_NEWUSER },
	[CELL_NS_CGROUP] = { "cgroup", CLONE_NEWCGROUP },
	[CELL_NS_TIME] = { "time", CLONE_NEWTIME },
};

const struct cell_name_value spec_ns_names[] = {
	{ "pid", CELL_NS_PID }, { "network", CELL_NS_NET }, { "mount", CELL_NS_MNT },
	{ "ipc", CELL_NS_IPC }, { "uts", CELL_NS_UTS }, { "user", CELL_NS_USER },
	{ "cgroup", CELL_NS_CGROUP }, { "time", CELL_NS_TIME }, { NULL, 0 },
};

const char *cell_ns_type_name(enum cell_ns_type t)
{
	return (unsigned)t < CELL_NS_COUNT ? namespaces[t].name : NULL;
}

int cell_ns_type_from_name(const char *name)
{
	const struct cell_name_value *nv = name ? spec_name_find(spec_ns_names, name) : NULL;

	return nv ? (int)nv->value : -1;
}

int cell_ns_clone_flag(enum cell_ns_type t)
{
	return (unsigned)t < CELL_NS_COUNT ? namespaces[t].clone_flag : 0;
}

/* ---- hooks ---- */

static const char *const hook_kinds[CELL_HOOK_KIND_COUNT] = {
	[CELL_HOOK_PRESTART] = "prestart",
	[CELL_HOOK_CREATE_RUNTIME] = "createRuntime",
	[CELL_HOOK_CREATE_CONTAINER] = "createContainer",
	[CELL_HOOK_START_CONTAINER] = "startContainer",
	[CELL_HOOK_POSTSTART] = "poststart",
	[CELL_HOOK_POSTSTOP] = "poststop",
};

const char *cell_hook_kind_name(enum cell_hook_kind k)
{
	return (unsigned)k < CELL_HOOK_KIND_COUNT ? hook_kinds[k] : NULL;
}

/* ---- capabilities: numbers of include/uapi/linux/capability.h ---- */

static const char *const capabilities[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

int cell_cap_from_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(capabilities); i++)
		if (streq(capabilities[i], name))
			return (int)i;
	return -1;
}

const char *cell_cap_name(int cap)
{
	return cap >= 0 && (size_t)cap < ARRAY_SIZE(capabilities) ? capabilities[cap] : NULL;
}

int cell_cap_last(void)
{
	return (int)ARRAY_SIZE(capabilities) - 1;
}

/* ---- process ---- */

const struct cell_name_value spec_rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
	{ NULL, 0 },
};

/* SCHED_ISO (4) is reserved by the kernel and refused by sched_setattr;
 * the spec lists it, so it parses and fails when applied. */
const struct cell_name_value spec_sched_policy_names[] = {
	{ "SCHED_OTHER", SCHED_OTHER }, { "SCHED_FIFO", SCHED_FIFO }, { "SCHED_RR", SCHED_RR },
	{ "SCHED_BATCH", SCHED_BATCH }, { "SCHED_ISO", 4 }, { "SCHED_IDLE", SCHED_IDLE },
	{ "SCHED_DEADLINE", SCHED_DEADLINE }, { NULL, 0 },
};

const struct cell_name_value spec_sched_flag_names[] = {
	{ "SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK },
	{ "SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM },
	{ "SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN },
	{ "SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY },
	{ "SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS },
	{ "SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN },
	{ "SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX },
	{ NULL, 0 },
};

const struct cell_name_value spec_ioprio_class_names[] = {
	{ "IOPRIO_CLASS_RT", IOPRIO_CLASS_RT },
	{ "IOPRIO_CLASS_BE", IOPRIO_CLASS_BE },
	{ "IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE },
	{ NULL, 0 },
};

/* ---- seccomp (names of libseccomp's seccomp.h) ---- */

const struct cell_name_value spec_seccomp_action_names[] = {
	{ "SCMP_ACT_KILL", CELL_SCMP_KILL },
	{ "SCMP_ACT_KILL_PROCESS", CELL_SCMP_KILL_PROCESS },
	{ "SCMP_ACT_KILL_THREAD", CELL_SCMP_KILL_THREAD },
	{ "SCMP_ACT_TRAP", CELL_SCMP_TRAP },
	{ "SCMP_ACT_ERRNO", CELL_SCMP_ERRNO },
	{ "SCMP_ACT_TRACE", CELL_SCMP_TRACE },
	{ "SCMP_ACT_ALLOW", CELL_SCMP_ALLOW },
	{ "SCMP_ACT_LOG", CELL_SCMP_LOG },
	{ "SCMP_ACT_NOTIFY", CELL_SCMP_NOTIFY },
	{ NULL, 0 },
};

const struct cell_name_value spec_seccomp_op_names[] = {
	{ "SCMP_CMP_NE", CELL_SCMP_CMP_NE },
	{ "SCMP_CMP_LT", CELL_SCMP_CMP_LT },
	{ "SCMP_CMP_LE", CELL_SCMP_CMP_LE },
	{ "SCMP_CMP_EQ", CELL_SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", CELL_SCMP_CMP_GE },
	{ "SCMP_CMP_GT", CELL_SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", CELL_SCMP_CMP_MASKED_EQ },
	{ NULL, 0 },
};

/* The spec's list plus the later libseccomp additions; whether this host's
 * libseccomp knows one is the seccomp layer's concern (and features.c's). */
const struct cell_name_value spec_seccomp_arch_names[] = {
	{ "SCMP_ARCH_X86", 0 }, { "SCMP_ARCH_X86_64", 0 }, { "SCMP_ARCH_X32", 0 },
	{ "SCMP_ARCH_ARM", 0 }, { "SCMP_ARCH_AARCH64", 0 }, { "SCMP_ARCH_MIPS", 0 },
	{ "SCMP_ARCH_MIPS64", 0 }, { "SCMP_ARCH_MIPS64N32", 0 }, { "SCMP_ARCH_MIPSEL", 0 },
	{ "SCMP_ARCH_MIPSEL64", 0 }, { "SCMP_ARCH_MIPSEL64N32", 0 }, { "SCMP_ARCH_PPC", 0 },
	{ "SCMP_ARCH_PPC64", 0 }, { "SCMP_ARCH_PPC64LE", 0 }, { "SCMP_ARCH_S390", 0 },
	{ "SCMP_ARCH_S390X", 0 }, { "SCMP_ARCH_PARISC", 0 }, { "SCMP_ARCH_PARISC64", 0 },
	{ "SCMP_ARCH_RISCV64", 0 }, { "SCMP_ARCH_LOONGARCH64", 0 }, { "SCMP_ARCH_M68K", 0 },
	{ "SCMP_ARCH_SH", 0 }, { "SCMP_ARCH_SHEB", 0 }, { NULL, 0 },
};

/* Values: the SECCOMP_FILTER_FLAG_* bits of linux/seccomp.h. */
const struct cell_name_value spec_seccomp_flag_names[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", 1 << 0 },
	{ "SECCOMP_FILTER_FLAG_LOG", 1 << 1 },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1 << 2 },
	{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1 << 5 },
	{ NULL, 0 },
};

/* ---- linux ---- */

const struct cell_name_value spec_propagation_names[] = {
	{ "shared", 0 }, { "slave", 0 }, { "private", 0 }, { "unbindable", 0 }, { "rshared", 0 },
	{ "rslave", 0 }, { "rprivate", 0 }, { "runbindable", 0 }, { NULL, 0 },
};

const struct cell_name_value spec_personality_names[] = {
	{ "LINUX", PER_LINUX },
	{ "LINUX32", PER_LINUX32 },
	{ NULL, 0 },
};

const struct cell_name_value spec_device_type_names[] = {
	{ "c", 'c' }, { "b", 'b' }, { "u", 'u' }, { "p", 'p' }, { NULL, 0 },
};

const struct cell_name_value spec_rule_type_names[] = {
	{ "a", 'a' },
	{ "c", 'c' },
	{ "b", 'b' },
	{ NULL, 0 },
};
