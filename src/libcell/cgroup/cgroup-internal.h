/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Internals shared by the cgroup backends (and exposed to tests/unit/test-cgroup*.c).
 *
 * A cgroup is a list of hierarchies, each with the container's directory in it:
 * v1 has one per controller mount ("memory", "cpu,cpuacct", "systemd"), v2 has one
 * (name ""), hybrid has the v1 ones plus "unified".  Creating, entering, destroying
 * and listing mounts are the same loop over that list; what varies by version
 * (limits, freezing, killing) goes through struct cgroup_ops.
 *
 * Three tiers (docs/dev/architecture.md, scripts/layers): the helpers (cgroup-hier.c,
 * cgroup-fs.c, cgroup-unified.c, device-rules.c, devices-bpf.c, cgroup-convert.c,
 * sdbus.c), the backends that use only them (cgroup-v1.c, cgroup-v2.c, systemd.c;
 * a hybrid host is the v1 backend plus cgroup-unified.c), and the front that holds
 * the ops tables (cgroup.c, cgroup-join.c, cgroup-stats.c).
 */
#include <stdint.h>
#include <linux/bpf.h>

#include "cgroup.h"

struct cgroup_hier {
	char *name;	    /* dir under fs_root; "" for the v2 root */
	char **controllers; /* v1: {"cpu","cpuacct"} or {"name=systemd"}; v2: NULL */
	char **aliases;	    /* symlinks under fs_root that point here */
	char *root;	    /* <fs_root>/<name> */
	char *path;	    /* the cgroup inside the hierarchy: "/a/b" */
	char *dir;	    /* root + path */
	bool v2;
	bool fake;     /* not a cgroupfs (unit tests): writes create files, rm -rf on destroy */
	bool rootless; /* EACCES/EPERM/EROFS are warnings */
	bool skipped;  /* not delegated (rootless) or absent from the saved path */
};

struct cgroup_ops;
struct cgroup_systemd; /* systemd.c */

/* The parent of a relative default cgroup ("cellrun/<id>", runc's is "runc"): made
 * on demand, removed again by the delete that leaves it empty. */
#define CG_DEFAULT_PARENT "cellrun"

struct cell_cgroup {
	enum cell_cgroup_mode mode;
	const struct cgroup_ops *ops;
	bool rootless;
	struct cgroup_hier *h;
	size_t n_h;
	char *saved; /* cell_cgroup_path() */
	struct cgroup_systemd *sd; /* --systemd-cgroup: the unit; else NULL */
};

struct cgroup_ops {
	/* A directory this runtime just made (v1 cpuset needs cpus/mems); may be NULL. */
	int (*init_dir)(const struct cgroup_hier *h, const char *dir, struct cell_error *err);
	int (*apply)(struct cell_cgroup *cg, const struct cell_resources *r,
		     struct cell_error *err);
	int (*freeze)(struct cell_cgroup *cg, bool frozen, struct cell_error *err);
	int (*is_frozen)(struct cell_cgroup *cg, bool *frozen, struct cell_error *err);
	int (*kill)(struct cell_cgroup *cg, int sig, struct cell_error *err);
	const char *memory_usage_file; /* in the hierarchy with "memory" */
};

extern const struct cgroup_ops cgroup_v1_ops; /* v1 and hybrid */
extern const struct cgroup_ops cgroup_v2_ops;

/* Clear the set flag of every field runc treats 0 as unset for (and "" cpus/mems);
 * a shallow copy is enough, nothing is freed (cgroup.c). */
void cgroup_resources_drop_zeros(struct cell_resources *r);

/* ---- lookups (cgroup-hier.c) ---- */

/* The hierarchy holding controller `c`: the v1 mount that has it, or the v2 one on a
 * pure v2 host.  NULL when absent or skipped. */
struct cgroup_hier *cgroup_hier_for(struct cell_cgroup *cg, const char *c);
/* The cgroup2 hierarchy (v2 root or hybrid "unified"); NULL if none or skipped. */
struct cgroup_hier *cgroup_unified(struct cell_cgroup *cg);
/* Where to list processes: pids, freezer, memory, ... or the unified one. */
struct cgroup_hier *cgroup_procs_hier(struct cell_cgroup *cg);

/* ---- path rules (cgroup.c) ---- */

/* "/a//b/" -> "/a/b"; refuses "..".  `in` may be relative; the result is absolute. */
int cgroup_path_normalize(const char *in, char **out, struct cell_error *err);
/* "a-b.slice:prefix:name" -> "/a.slice/a-b.slice/prefix-name.scope". */
int cgroup_systemd_path(const char *spec, char **out, struct cell_error *err);
/* The runtime's own cgroup for h in a /proc/self/cgroup text; "/" when not listed. */
char *cgroup_self_base(const char *self_text, const struct cgroup_hier *h);

/* ---- files (cgroup-fs.c) ---- */

/* EACCES, EPERM, EROFS: what a hierarchy not delegated to a rootless runtime answers. */
bool cg_delegation_errno(int e);
/* Write `val` to dir/file in one write; the error names the file and value.  In a rootless
 * hierarchy EACCES/EPERM/EROFS are warnings and return 0. */
int cg_write_at(const struct cgroup_hier *h, const char *dir, const char *file, const char *val,
		struct cell_error *err);
int cg_write(const struct cgroup_hier *h, const char *file, const char *val,
	     struct cell_error *err);
int cg_writef(const struct cgroup_hier *h, const char *file, struct cell_error *err,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Read dir/file with trailing whitespace stripped; -errno, err untouched. */
int cg_read_at(const char *dir, const char *file, char **out);
int cg_read(const struct cgroup_hier *h, const char *file, char **out);
int cg_read_u64(const struct cgroup_hier *h, const char *file, uint64_t *v);
/* The words of dir/file ("cpu memory"; a '+' in front is dropped); NULL and *ret < 0
 * when unreadable, NULL and *ret 0 when empty. */
char **cg_read_list(const char *dir, const char *file, int *ret);
bool cg_has(const struct cgroup_hier *h, const char *file);
/* Error (or rootless warning) for a hierarchy or file the host lacks. */
int cg_unsupported(bool rootless, struct cell_error *err, const char *what);
/* mkdir the chain root..dir; ops->init_dir on each directory made here. */
int cg_make(const struct cgroup_ops *ops, struct cgroup_hier *h, struct cell_error *err);
/* Refuse when the cgroup h->dir (or, if it does not exist yet, its deepest existing
 * ancestor) is frozen or freezing: a process joining it would stop at once. */
int cg_check_not_frozen(const struct cgroup_hier *h, struct cell_error *err);
/* rmdir dir and any child cgroups, leaf first, retrying EBUSY briefly. */
int cg_remove(const struct cgroup_hier *h, struct cell_error *err);
/* Pids in dir/cgroup.procs and every child cgroup. */
int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, struct cell_error *err);
/* Send sig to every pid in h (recursively); ESRCH is fine. */
int cg_signal_all(const struct cgroup_hier *h, int sig, struct cell_error *err);
/* Split s at sep, keeping empty fields; sep '\0' gives {s}.  Never NULL. */
char **cg_split(const char *s, char sep);
/* Sleep ms milliseconds. */
void cg_sleep_ms(unsigned ms);

/* Simple "one field, one file" settings, shared by the backends' tables. */
enum cg_kind {
	CG_U64,	    /* struct cell_u64 as decimal */
	CG_I64,	    /* struct cell_i64 as decimal */
	CG_I64_MAX, /* struct cell_i64; negative -> "max" */
	CG_PIDS,    /* struct cell_i64; <= 0 -> "max" */
	CG_STR,	    /* char *; NULL is unset */
};
struct cg_field {
	const char *controller;
	const char *file;
	size_t offset; /* into struct cell_resources */
	enum cg_kind kind;
};
/* Format field f of r into buf; false when the field is unset. */
bool cg_field_format(const struct cg_field *f, const struct cell_resources *r, char *buf,
		     size_t len);
/* The four throttle lists of block_io: v1 file and v2 io.max key per list. */
struct cg_throttle {
	const char *v1_file;
	const char *v2_key;
	size_t list, count; /* offsets into struct cell_resources */
};
extern const struct cg_throttle cg_throttles[4];
const struct cell_throttle_device *cg_throttle_list(const struct cell_resources *r,
						    const struct cg_throttle *t, size_t *n);
/* memory.checkBeforeUpdate: refuse a limit below the usage in usage_file. */
int cg_check_memory_usage(const struct cgroup_hier *h, const struct cell_resources *r,
			  const char *usage_file, struct cell_error *err);
/* hugepageLimits into hugetlb.<size>.<limit> and, where the kernel has it,
 * hugetlb.<size>.rsvd.<limit> ("max" on v2, "limit_in_bytes" on v1). */
int cg_write_hugetlb(const struct cgroup_hier *h, const struct cell_resources *r,
		     const char *limit, struct cell_error *err);
int cg_apply_fields(struct cell_cgroup *cg, const struct cg_field *t, size_t n,
		    const struct cell_resources *r, struct cell_error *err);

/* ---- the systemd driver (systemd.c) ---- */

/* --systemd-cgroup at create: refused unless systemd runs (runc's check and words); the
 * unit is the path's last component, its slice the one before.  Rootless: the user's
 * manager, and *path is moved below its cgroup (user@UID.service). */
int cgroup_systemd_plan(struct cell_cgroup *cg, const struct cell_cgroup_opts *o, char **path,
			struct cell_error *err);
/* The same for a cgroup reopened from its saved path: the unit exists. */
int cgroup_systemd_open(struct cell_cgroup *cg, const struct cell_cgroup_opts *o,
			struct cell_error *err);
/* Remember r for the unit's start; once it runs, SetUnitProperties(runtime). */
int cgroup_systemd_apply(struct cell_cgroup *cg, const struct cell_resources *r,
			 struct cell_error *err);
/* StartTransientUnit with PIDs=[pid] (a no-op once started), then the cgroupfs limits again. */
int cgroup_systemd_start(struct cell_cgroup *cg, pid_t pid, struct cell_error *err);
/* StopUnit and ResetFailedUnit; a unit already gone is fine. */
int cgroup_systemd_stop(struct cell_cgroup *cg, struct cell_error *err);
void cgroup_systemd_free(struct cgroup_systemd *sd);
/* pure */
int cgroup_systemd_unit_of(const char *path, char **unit, char **slice, struct cell_error *err);
/* CPUQuotaPerSecUSec for cpu.max "quota period": infinity for quota <= 0, else rounded up
 * to systemd's 10 ms steps (cgroupfs gets the exact value afterwards). */
uint64_t cgroup_systemd_quota_per_sec(int64_t quota, uint64_t period);
/* A cpuset list ("0-2,7") as systemd's CPUSet bytes: bit n%8 of byte n/8 is cpu n. */
int cgroup_systemd_cpuset_mask(const char *list, uint8_t **out, size_t *n,
			       struct cell_error *err);

/* ---- devices (device-rules.c, devices-bpf.c) ---- */

/* The spec's rules followed by the defaults; caller frees. */
struct cell_device_rule *cgroup_device_rules(const struct cell_resources *r, size_t *n);
/* The v1 devices.allow/deny line of a rule: "c 1:3 rwm", "a". */
void cgroup_device_line(const struct cell_device_rule *d, char *buf, size_t len);
/* Access string -> BPF_DEVCG_ACC_* mask ("" means rwm). */
unsigned cgroup_device_access(const char *access);

/* The BPF_PROG_TYPE_CGROUP_DEVICE program for the rules (last match wins, default deny). */
int cgroup_bpf_program(const struct cell_device_rule *rules, size_t n, struct bpf_insn **out,
		       size_t *len, struct cell_error *err);
/* Load a program; returns its fd. */
int cgroup_bpf_load(const struct bpf_insn *insns, size_t len, struct cell_error *err);
/* Attach to the cgroup dir fd with BPF_F_ALLOW_MULTI, then detach what was there. */
int cgroup_bpf_replace(int cgroup_fd, int prog_fd, struct cell_error *err);
/* How many device programs are attached to the cgroup fd. */
int cgroup_bpf_count(int cgroup_fd, uint32_t *count, struct cell_error *err);

/* ---- conversions (cgroup-convert.c, and v1's in cgroup-v1.c; pure) ---- */

/* cpu.shares (2..262144) -> cpu.weight (1..10000). */
uint64_t cgroup_v2_cpu_weight(uint64_t shares);
/* blkio.weight (10..1000) -> io.weight (1..10000). */
uint64_t cgroup_v2_io_weight(uint64_t weight);
/* memory.swap.max from the spec's memory+swap: *set false when nothing to write, *max
 * true for "max". */
int cgroup_v2_swap_max(const struct cell_resources *r, bool *set, bool *max, int64_t *val,
		       struct cell_error *err);
/* v1: write memory.memsw.limit_in_bytes before memory.limit_in_bytes? */
bool cgroup_v1_swap_first(int64_t new_swap, uint64_t cur_memsw);

/* ---- the cgroup2 hierarchy (cgroup-unified.c), v2's and hybrid's "unified" ---- */

/* Enable controllers in cgroup.subtree_control of every ancestor of h->dir (only adding). */
int cgroup_unified_enable(struct cgroup_hier *h, char *const *controllers,
			  struct cell_error *err);
/* hugetlb.<size>.max (and .rsvd.max where the kernel has it) of each limit. */
int cgroup_unified_set_hugetlb(struct cgroup_hier *h, const struct cell_resources *r,
			       struct cell_error *err);
/* Check an unified key: no "/" and not "." or "..". */
int cgroup_unified_key_check(const char *key, struct cell_error *err);
/* The v2 controller an unified key belongs to ("memory.high" -> "memory"), or NULL. */
char *cgroup_unified_controller(const char *key);
