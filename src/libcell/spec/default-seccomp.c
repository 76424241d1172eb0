/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The default seccomp profile, as data.
 *
 * Semantics (those of the profiles container users already know):
 *  - the default action is SCMP_ACT_ERRNO with ENOSYS, so that a syscall
 *    newer than this list fails as on an older kernel and libc falls back;
 *  - syscalls that ordinary programs need are allowed by name;
 *  - syscalls that are dangerous in a container fail with EPERM, unless a
 *    capability in the bounding set makes them the kernel's business again
 *    (mount with CAP_SYS_ADMIN, ptrace with CAP_SYS_PTRACE, ...);
 *  - argument filters where a syscall is safe only for some arguments:
 *    clone without CLONE_NEW* flags, personality for the usual personas,
 *    socket below AF_VSOCK.
 *
 * Each list may name syscalls of any architecture or newer than the
 * libseccomp in use: the runtime skips names it cannot resolve as long as
 * a rule names at least one it knows, so every list holds a common one.
 */
#include "default-seccomp.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/sched.h>

#include "../base/cleanup.h"
#include "../base/util.h"

#define CAP(c) (UINT64_C(1) << (CAP_##c))

/* clone(2) flags that make a namespace; a process without CAP_SYS_ADMIN
 * can still make a user namespace and gain every capability inside it. */
#define CLONE_NS_FLAGS                                                                             \
	((uint64_t)(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |     \
		    CLONE_NEWNET | CLONE_NEWCGROUP))

/* Families at and above AF_VSOCK (40): vsock talks to the hypervisor and is
 * not namespaced; AF_KCM, AF_QIPCRTR, AF_SMC, AF_XDP, AF_MCTP are rarely
 * needed in a container and have a history of kernel bugs.  A 64-bit
 * comparison, so garbage in the upper half (the kernel reads an int) fails
 * too.  libseccomp cannot add an EPERM rule next to this one (EEXIST), so
 * those families get the default ENOSYS.  Limit: i386 binaries reach socket
 * also through socketcall(2), whose arguments are in memory, out of a
 * filter's reach; it stays allowed, as Debian's i386 glibc uses it. */
#define SOCKET_FAMILY_LIMIT 40

enum action { ACT_ALLOW, ACT_EPERM, ACT_ENOSYS };

/* One argument condition (runtime-spec: for SCMP_CMP_MASKED_EQ, value is
 * the mask and value_two the expected result); op NULL: none. */
struct arg_cond {
	unsigned index;
	const char *op;
	uint64_t value, value_two;
};

struct rule {
	const char *const *names;
	enum action action;
	uint64_t when;	 /* emitted only when the bounding set has one of these; 0: always */
	uint64_t unless; /* emitted only when it has none of these */
	struct arg_cond arg;
};

/* Name tables read better packed than one per line. */
/* clang-format off */
/* What ordinary programs use: files, memory, processes, signals, time,
 * IPC, sockets, and the 32-bit/x32/arm spellings of the same. */
static const char *const allow_common[] = {
	"_llseek", "_newselect", "accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl",
	"arm_fadvise64_64", "arm_sync_file_range", "bind", "breakpoint", "brk", "cacheflush",
	"cachestat", "capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime",
	"clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
	"clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
	"connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
	"epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2", "epoll_wait", "eventfd",
	"eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2",
	"fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
	"fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
	"fgetxattr", "file_getattr", "file_setattr", "flistxattr", "flock", "fork", "fremovexattr",
	"fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
	"ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
	"futex_wake", "futimesat", "get_mempolicy", "get_robust_list", "get_thread_area", "getcpu",
	"getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32",
	"getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid",
	"getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
	"getresuid", "getresuid32", "getrlimit", "getrusage", "getsid", "getsockname",
	"getsockopt", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat",
	"inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
	"io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup",
	"io_submit", "ioctl", "ioprio_get", "ioprio_set", "ipc", "kill", "landlock_add_rule",
	"landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
	"link", "linkat", "listen", "listmount", "listxattr", "listxattrat", "llistxattr",
	"lremovexattr", "lseek", "lsetxattr", "lsm_get_self_attr", "lsm_list_modules",
	"lsm_set_self_attr", "lstat", "lstat64", "madvise", "map_shadow_stack", "mbind",
	"membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
	"mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "modify_ldt", "mprotect",
	"mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
	"mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "mseal", "msgctl", "msgget",
	"msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at",
	"nanosleep", "newfstatat", "open", "openat", "openat2", "pause", "pidfd_open",
	"pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
	"ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
	"process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2",
	"read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
	"recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "removexattrat", "rename",
	"renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
	"rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
	"sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
	"sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
	"sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
	"sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
	"semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
	"set_mempolicy", "set_mempolicy_home_node", "set_robust_list", "set_thread_area",
	"set_tid_address", "set_tls", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid",
	"setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
	"setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid",
	"setreuid32", "setrlimit", "setsid", "setsockopt", "setuid", "setuid32", "setxattr",
	"setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
	"signalfd4", "sigpending", "sigprocmask", "sigreturn", "sigsuspend", "socketcall",
	"socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statmount", "statx",
	"symlink", "symlinkat", "sync", "sync_file_range", "sync_file_range2", "syncfs", "sysinfo",
	"tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
	"timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
	"timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
	"tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
	"uretprobe", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice",
	"wait4", "waitid", "waitpid", "write", "writev", NULL,
};

/* No capability makes these safe in a container. */
static const char *const deny_always[] = {
	"_sysctl", "bdflush", "create_module", "get_kernel_syms", "kexec_file_load", "kexec_load",
	"nfsservctl", "query_module", "swapoff", "swapon", "uselib", "vm86", "vm86old", NULL,
};

/* Refused as "not implemented", so that callers fall back: clone3's flags
 * live in memory where a filter cannot see them (glibc then uses clone),
 * and io_uring bypasses the per-syscall filter for the operations it runs. */
static const char *const sc_clone3[] = { "clone3", NULL };
static const char *const sc_io_uring[] = {
	"io_uring_enter", "io_uring_register", "io_uring_setup", NULL,
};

static const char *const sc_clone[] = { "clone", NULL };
static const char *const sc_clone_any[] = { "clone", "clone3", NULL };
static const char *const sc_personality[] = { "personality", NULL };
static const char *const sc_socket[] = { "socket", NULL };

/* Mounts, namespaces, the host's names, quotas, fanotify, the kernel keyring
 * (not namespaced). */
static const char *const sc_sys_admin[] = {
	"add_key", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "keyctl",
	"lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "open_tree_attr",
	"pivot_root", "quotactl", "quotactl_fd", "request_key", "setdomainname", "sethostname",
	"setns", "umount", "umount2", "unshare", NULL,
};
static const char *const sc_sys_ptrace[] = {
	"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
	"ptrace", "userfaultfd", NULL,
};
static const char *const sc_sys_bpf[] = { "bpf", NULL };
static const char *const sc_sys_perfmon[] = { "perf_event_open", NULL };
static const char *const sc_sys_boot[] = { "reboot", NULL };
static const char *const sc_sys_chroot[] = { "chroot", NULL };
static const char *const sc_sys_module[] = { "delete_module", "finit_module", "init_module", NULL };
static const char *const sc_sys_nice[] = { "migrate_pages", "move_pages", NULL };
static const char *const sc_sys_pacct[] = { "acct", NULL };
static const char *const sc_sys_rawio[] = { "ioperm", "iopl", NULL };
static const char *const sc_sys_time[] = {
	"clock_settime", "clock_settime64", "settimeofday", "stime", NULL,
};
static const char *const sc_sys_tty_config[] = { "vhangup", NULL };
static const char *const sc_syslog[] = { "syslog", NULL };
static const char *const sc_dac_read_search[] = { "open_by_handle_at", NULL };

/* Allowed with one of `caps` in the bounding set, EPERM without. */
#define GATED(list, caps) \
	{ .names = (list), .action = ACT_ALLOW, .when = (caps) }, \
	{ .names = (list), .action = ACT_EPERM, .unless = (caps) }
/* personality(2) for one persona. */
#define PERSONA(v) \
	{ .names = sc_personality, .action = ACT_ALLOW, .arg = { 0, "SCMP_CMP_EQ", (v), 0 } }
/* clone(2) with a namespace flag: EPERM without CAP_SYS_ADMIN. */
#define CLONE_NS_DENY(f) \
	{ .names = sc_clone, .action = ACT_EPERM, .unless = CAP(SYS_ADMIN), \
	  .arg = { 0, "SCMP_CMP_MASKED_EQ", (f), (f) } }

static const struct rule rules[] = {
	{ .names = allow_common, .action = ACT_ALLOW },
	/* PER_LINUX, PER_LINUX32, UNAME26, both, and the query */
	PERSONA(0x0), PERSONA(0x8), PERSONA(0x20000), PERSONA(0x20008), PERSONA(0xffffffff),
	{ .names = sc_socket, .action = ACT_ALLOW,
	  .arg = { 0, "SCMP_CMP_LT", SOCKET_FAMILY_LIMIT, 0 } },
	{ .names = sc_clone, .action = ACT_ALLOW, .unless = CAP(SYS_ADMIN),
	  .arg = { 0, "SCMP_CMP_MASKED_EQ", CLONE_NS_FLAGS, 0 } },
	CLONE_NS_DENY(CLONE_NEWNS), CLONE_NS_DENY(CLONE_NEWUTS), CLONE_NS_DENY(CLONE_NEWIPC),
	CLONE_NS_DENY(CLONE_NEWUSER), CLONE_NS_DENY(CLONE_NEWPID), CLONE_NS_DENY(CLONE_NEWNET),
	CLONE_NS_DENY(CLONE_NEWCGROUP),
	{ .names = sc_clone_any, .action = ACT_ALLOW, .when = CAP(SYS_ADMIN) },
	{ .names = sc_clone3, .action = ACT_ENOSYS, .unless = CAP(SYS_ADMIN) },
	{ .names = sc_io_uring, .action = ACT_ENOSYS },
	{ .names = deny_always, .action = ACT_EPERM },
	GATED(sc_sys_admin, CAP(SYS_ADMIN)),
	GATED(sc_sys_ptrace, CAP(SYS_PTRACE)),
	GATED(sc_sys_bpf, CAP(SYS_ADMIN) | CAP(BPF)),
	GATED(sc_sys_perfmon, CAP(SYS_ADMIN) | CAP(PERFMON)),
	GATED(sc_sys_boot, CAP(SYS_BOOT)),
	GATED(sc_sys_chroot, CAP(SYS_CHROOT)),
	GATED(sc_sys_module, CAP(SYS_MODULE)),
	GATED(sc_sys_nice, CAP(SYS_NICE)),
	GATED(sc_sys_pacct, CAP(SYS_PACCT)),
	GATED(sc_sys_rawio, CAP(SYS_RAWIO)),
	GATED(sc_sys_time, CAP(SYS_TIME)),
	GATED(sc_sys_tty_config, CAP(SYS_TTY_CONFIG)),
	GATED(sc_syslog, CAP(SYSLOG) | CAP(SYS_ADMIN)),
	GATED(sc_dac_read_search, CAP(DAC_READ_SEARCH)),
};

/* The ABIs a process on this machine can call the kernel through: a filter
 * for x86_64 alone would let an i386 or x32 binary past it. */
static const char *const architectures[] = {
#if defined(__x86_64__)
	"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
#elif defined(__i386__)
	"SCMP_ARCH_X86",
#elif defined(__aarch64__)
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",
#elif defined(__arm__)
	"SCMP_ARCH_ARM",
#endif
	NULL,
};
/* clang-format on */

static json_t *strv_json(const char *const *v)
{
	json_t *a = json_array();

	for (; *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *arg_json(const struct arg_cond *c)
{
	json_t *o =
	    json_pack("{s:I, s:I}", "index", (json_int_t)c->index, "value", (json_int_t)c->value);

	if (streq(c->op, "SCMP_CMP_MASKED_EQ"))
		json_object_set_new(o, "valueTwo", json_integer((json_int_t)c->value_two));
	json_object_set_new(o, "op", json_string(c->op));
	return json_pack("[o]", o);
}

static json_t *rule_json(const struct rule *r)
{
	static const char *const action_names[] = {[ACT_ALLOW] = "SCMP_ACT_ALLOW",
						   [ACT_EPERM] = "SCMP_ACT_ERRNO",
						   [ACT_ENOSYS] = "SCMP_ACT_ERRNO"};
	static const int errno_ret[] = {
	    [ACT_ALLOW] = 0, [ACT_EPERM] = EPERM, [ACT_ENOSYS] = ENOSYS};
	json_t *o = json_pack("{s:o, s:s}", "names", strv_json(r->names), "action",
			      action_names[r->action]);

	if (errno_ret[r->action])
		json_object_set_new(o, "errnoRet", json_integer(errno_ret[r->action]));
	if (r->arg.op)
		json_object_set_new(o, "args", arg_json(&r->arg));
	return o;
}

static bool rule_applies(const struct rule *r, uint64_t caps)
{
	return (r->when == 0 || (caps & r->when)) && !(caps & r->unless);
}

json_t *cell_default_seccomp_json(uint64_t bounding_caps)
{
	json_t *syscalls = json_array();

	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		if (rule_applies(&rules[i], bounding_caps))
			json_array_append_new(syscalls, rule_json(&rules[i]));
	return json_pack("{s:s, s:i, s:o, s:o}", "defaultAction", "SCMP_ACT_ERRNO",
			 "defaultErrnoRet", ENOSYS, "architectures", strv_json(architectures),
			 "syscalls", syscalls);
}
