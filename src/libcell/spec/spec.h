/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * struct cell_spec: config.json (OCI runtime-spec 1.2/1.3, Linux parts)
 * after parsing and validation.  Everything the executors need, with
 * names already resolved (capabilities to numbers, rlimits to RLIMIT_*,
 * seccomp actions/operators to enums).  Optional scalars carry a `set`
 * flag so that "absent" and "zero" differ, as the spec requires.
 *
 * Ownership: everything is heap-allocated and released by cell_spec_free().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/cleanup.h"
#include "../base/error.h"

struct cell_u64 {
	bool set;
	uint64_t v;
};
struct cell_i64 {
	bool set;
	int64_t v;
};

struct cell_kv {
	char *key;
	char *value;
};

struct cell_idmap {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

/* ---- process ---- */

struct cell_rlimit {
	int resource; /* RLIMIT_* */
	char *type;   /* "RLIMIT_NOFILE" as written */
	uint64_t soft;
	uint64_t hard;
};

/* Capability sets as bit masks over CAP_* numbers (0..63). */
struct cell_caps {
	bool set; /* process.capabilities present */
	uint64_t bounding, effective, inheritable, permitted, ambient;
	/* names not known to this build, left out of the sets (runtime-spec 1.1:
	 * the runtime SHOULD warn and go on); space-separated, cut at the end */
	char unknown[160];
};

enum cell_sched_policy {
	CELL_SCHED_OTHER,
	CELL_SCHED_FIFO,
	CELL_SCHED_RR,
	CELL_SCHED_BATCH,
	CELL_SCHED_ISO,
	CELL_SCHED_IDLE,
	CELL_SCHED_DEADLINE,
};

struct cell_scheduler {
	bool set;
	int policy; /* kernel SCHED_* value */
	int32_t nice;
	int32_t priority;
	uint64_t flags; /* SCHED_FLAG_* ORed */
	uint64_t runtime, deadline, period;
};

struct cell_io_priority {
	bool set;
	int klass; /* IOPRIO_CLASS_RT=1, BE=2, IDLE=3 */
	int priority;
};

struct cell_user {
	uint32_t uid;
	uint32_t gid;
	bool umask_set;
	uint32_t umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
};

struct cell_process {
	bool terminal;
	bool console_size_set;
	uint32_t console_height, console_width;
	char *cwd;
	char **env;  /* NULL-terminated */
	char **args; /* NULL-terminated, at least one */
	struct cell_user user;
	struct cell_caps caps;
	struct cell_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool oom_score_adj_set;
	int oom_score_adj;
	char *apparmor_profile;
	char *selinux_label;
	struct cell_scheduler scheduler;
	struct cell_io_priority io_priority;
	char *exec_cpu_affinity_initial; /* cpu list, e.g. "0-3,7" */
	char *exec_cpu_affinity_final;
};

/* ---- mounts ---- */

struct cell_mount {
	char *destination;
	char *source; /* may be NULL */
	char *type;   /* may be NULL (bind when options say so) */
	char **options;
	struct cell_idmap *uid_mappings; /* idmapped mount */
	size_t n_uid_mappings;
	struct cell_idmap *gid_mappings;
	size_t n_gid_mappings;
};

/* ---- linux ---- */

enum cell_ns_type {
	CELL_NS_PID,
	CELL_NS_NET,
	CELL_NS_MNT,
	CELL_NS_IPC,
	CELL_NS_UTS,
	CELL_NS_USER,
	CELL_NS_CGROUP,
	CELL_NS_TIME,
	CELL_NS_COUNT
};

struct cell_namespace {
	bool enabled; /* listed in linux.namespaces */
	char *path;   /* join this one instead of creating */
};

struct cell_device {
	char *path;
	char type; /* 'c', 'b', 'u', 'p' */
	int64_t major, minor;
	bool file_mode_set;
	uint32_t file_mode;
	bool uid_set, gid_set;
	uint32_t uid, gid;
};

struct cell_device_rule {
	bool allow;
	char type;            /* 'a', 'c', 'b' */
	int64_t major, minor; /* -1: wildcard */
	char access[4];       /* subset of "rwm" */
};

struct cell_weight_device {
	int64_t major, minor;
	bool weight_set, leaf_weight_set;
	uint16_t weight, leaf_weight;
};

struct cell_throttle_device {
	int64_t major, minor;
	uint64_t rate;
};

struct cell_hugepage_limit {
	char *page_size; /* "2MB", "1GB" */
	uint64_t limit;
};

struct cell_net_priority {
	char *name;
	uint32_t priority;
};

struct cell_resources {
	struct cell_device_rule *devices;
	size_t n_devices;
	struct {
		struct cell_i64 limit, reservation, swap, kernel, kernel_tcp;
		struct cell_u64 swappiness;
		bool disable_oom_killer_set, disable_oom_killer;
		bool use_hierarchy_set, use_hierarchy;
		bool check_before_update;
	} memory;
	struct {
		struct cell_u64 shares, period, realtime_period, burst;
		struct cell_i64 quota, realtime_runtime, idle;
		char *cpus, *mems;
	} cpu;
	struct {
		struct cell_i64 limit;
	} pids;
	struct {
		struct cell_u64 weight, leaf_weight;
		struct cell_weight_device *weight_devices;
		size_t n_weight_devices;
		struct cell_throttle_device *read_bps, *write_bps, *read_iops, *write_iops;
		size_t n_read_bps, n_write_bps, n_read_iops, n_write_iops;
	} block_io;
	struct cell_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;
	struct {
		struct cell_u64 class_id;
		struct cell_net_priority *priorities;
		size_t n_priorities;
	} network;
	struct cell_kv *unified; /* cgroup v2 file -> value */
	size_t n_unified;
};

enum cell_seccomp_action {
	CELL_SCMP_KILL, /* SCMP_ACT_KILL == KILL_THREAD */
	CELL_SCMP_KILL_PROCESS,
	CELL_SCMP_KILL_THREAD,
	CELL_SCMP_TRAP,
	CELL_SCMP_ERRNO,
	CELL_SCMP_TRACE,
	CELL_SCMP_ALLOW,
	CELL_SCMP_LOG,
	CELL_SCMP_NOTIFY,
};

enum cell_seccomp_op {
	CELL_SCMP_CMP_NE,
	CELL_SCMP_CMP_LT,
	CELL_SCMP_CMP_LE,
	CELL_SCMP_CMP_EQ,
	CELL_SCMP_CMP_GE,
	CELL_SCMP_CMP_GT,
	CELL_SCMP_CMP_MASKED_EQ,
};

struct cell_seccomp_arg {
	uint32_t index;
	uint64_t value, value_two;
	enum cell_seccomp_op op;
};

struct cell_seccomp_syscall {
	char **names;
	enum cell_seccomp_action action;
	bool errno_ret_set;
	uint32_t errno_ret;
	struct cell_seccomp_arg *args;
	size_t n_args;
};

struct cell_seccomp {
	bool set;
	enum cell_seccomp_action default_action;
	bool default_errno_ret_set;
	uint32_t default_errno_ret;
	char **architectures; /* "SCMP_ARCH_X86_64" ... */
	char **flags;         /* "SECCOMP_FILTER_FLAG_LOG" ... */
	char *listener_path;
	char *listener_metadata;
	struct cell_seccomp_syscall *syscalls;
	size_t n_syscalls;
	char *canonical; /* the object as compact JSON with sorted keys: the filter cache key */
};

struct cell_personality {
	bool set;
	unsigned long domain; /* PER_LINUX or PER_LINUX32 */
	char **flags;
};

struct cell_time_offset {
	bool set;
	int64_t secs;
	uint32_t nanosecs;
};

struct cell_linux {
	struct cell_namespace ns[CELL_NS_COUNT];
	struct cell_idmap *uid_mappings;
	size_t n_uid_mappings;
	struct cell_idmap *gid_mappings;
	size_t n_gid_mappings;
	struct cell_time_offset time_monotonic, time_boottime;
	struct cell_device *devices;
	size_t n_devices;
	char *cgroups_path;
	bool resources_set;
	struct cell_resources resources;
	struct cell_kv *sysctl;
	size_t n_sysctl;
	struct cell_seccomp seccomp;
	char *rootfs_propagation; /* "shared", "slave", "private", "unbindable", r-variants */
	char **masked_paths;
	char **readonly_paths;
	char *mount_label;
	struct cell_personality personality;
};

/* ---- hooks ---- */

struct cell_hook {
	char *path;
	char **args;
	char **env;
	bool timeout_set;
	int timeout; /* seconds, > 0 */
};

enum cell_hook_kind {
	CELL_HOOK_PRESTART,
	CELL_HOOK_CREATE_RUNTIME,
	CELL_HOOK_CREATE_CONTAINER,
	CELL_HOOK_START_CONTAINER,
	CELL_HOOK_POSTSTART,
	CELL_HOOK_POSTSTOP,
	CELL_HOOK_KIND_COUNT
};

struct cell_hook_list {
	struct cell_hook *hooks;
	size_t n;
};

/* ---- the whole config ---- */

struct cell_spec {
	char *oci_version;
	struct {
		char *path; /* as written (relative to the bundle or absolute) */
		bool readonly;
	} root;
	bool process_set;
	struct cell_process process;
	char *hostname;
	char *domainname;
	struct cell_mount *mounts;
	size_t n_mounts;
	struct cell_hook_list hooks[CELL_HOOK_KIND_COUNT];
	struct cell_kv *annotations;
	size_t n_annotations;
	struct cell_linux linux;
};

/*
 * Parse and validate config.json text.  On a JSON syntax error the message
 * names line and column; on a semantic error it names the field's path
 * (e.g. "process.rlimits[2].type: unknown rlimit \"RLIMIT_FOO\"").
 * Returns 0 or -errno; *out is set only on success.
 */
int cell_spec_parse(const char *json, size_t len, struct cell_spec **out, struct cell_error *err);
int cell_spec_load(const char *path, struct cell_spec **out, struct cell_error *err);
/* Parse a process object alone (the `exec -p process.json` file). */
int cell_process_parse(const char *json, size_t len, struct cell_process **out,
		       struct cell_error *err);
void cell_process_free(struct cell_process *p);
void cell_spec_free(struct cell_spec *s);
DEFINE_FREEP(struct cell_process *, cell_process_free)
DEFINE_FREEP(struct cell_spec *, cell_spec_free)

/* Names of namespaces as in the spec ("pid", "network", ...). */
const char *cell_ns_type_name(enum cell_ns_type t);
int cell_ns_type_from_name(const char *name); /* -1 if unknown */
/* CLONE_NEW* flag of a namespace type. */
int cell_ns_clone_flag(enum cell_ns_type t);
const char *cell_hook_kind_name(enum cell_hook_kind k);
/* The namespace that keeps a linux.sysctl key, or -1 for a host-wide one. */
int cell_sysctl_namespace(const char *key);

/* Capability names "CAP_SYS_ADMIN" <-> numbers; -1 when unknown. */
int cell_cap_from_name(const char *name);
const char *cell_cap_name(int cap);
int cell_cap_last(void); /* highest capability number this build knows */

/* The config.json that `cellrun spec` writes (runc-compatible defaults); cgroupns adds
 * the cgroup namespace (runc: on a unified cgroup v2 host only). */
char *cell_spec_default_json(bool rootless, bool cgroupns);
/* The newest runtime-spec version implemented (features' ociVersionMax, the
 * "spec:" line of --version). */
#define CELL_OCI_VERSION_MAX "1.3.0"
/* The ociVersion of what cell writes: `cellrun spec`'s config.json, state.json
 * and `cellrun state`, the seccomp agent's container process state (and the
 * config `cellrun update` wraps its resources in); runc writes 1.2.x too. */
#define CELL_OCI_VERSION "1.2.0"
/* The features document (runtime-spec features.md) as JSON text. */
char *cell_features_json(void);
/* "PROG version X.Y.Z\ncommit: ...\nspec: ...\nlibseccomp: ...\n", as runc prints it. */
char *cell_version_text(const char *prog);
