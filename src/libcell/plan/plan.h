/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * plan/: pure translation of the validated spec, and of the facts about the
 * host the caller gathered (host.h), into struct cell_plan: the ordered
 * operations the container child executes (linux/rootfs.c, mounts.c,
 * devices.c, cgroup-mounts.c, sysctl.c) without deriving or checking
 * anything again.  No syscalls here, so all of it is unit-tested (golden
 * files, tests/unit/plan-golden/) and fuzzed (tests/fuzz/fuzz-plan.c)
 * without privileges.  Built first, executed second, as bubblewrap's setup
 * operations are.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../spec/spec.h"
#include "host.h"

/* ---- mounts ---- */

enum cell_mount_kind {
	CELL_MOUNT_BIND,
	CELL_MOUNT_TMPFS,
	CELL_MOUNT_PROC,
	CELL_MOUNT_SYSFS,
	CELL_MOUNT_DEVPTS,
	CELL_MOUNT_MQUEUE,
	CELL_MOUNT_CGROUP, /* "cgroup" or "cgroup2": one mount per host hierarchy */
	CELL_MOUNT_OTHER,  /* any other type, handed to the kernel with its data */
};

/* One spec mount, its "options" sorted by who consumes them. */
struct cell_mount_plan {
	enum cell_mount_kind kind;
	unsigned long flags; /* MS_* to set; MS_BIND (|MS_REC for rbind) marks a bind */
	unsigned long clear; /* MS_* explicitly cleared: "rw", "suid", "dev", "exec", ... */
	unsigned long
	    propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE, |MS_REC for r-forms; 0: none */
	uint64_t rec_set,
	    rec_clr;	    /* MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE): "rro", "rnoexec"... */
	bool tmpcopyup;	    /* tmpfs: copy what was at the destination in */
	bool idmap, ridmap; /* idmapped mount (ridmap: the whole tree) */
	char *data;	    /* the other options joined with ",", NULL when none */
};

/* Sort options into p (kind untouched).  Unknown names go to p->data; a later option wins
 * over an earlier contrary one ("ro,rw" is rw). */
void cell_mount_opts_parse(char *const *options, struct cell_mount_plan *p);
/* Options plus type: the kind (a "bind"/"rbind" type or option makes a bind), and the
 * devpts defaults "newinstance" and "ptmxmode=0666" when not given. */
void cell_mount_plan_build(const struct cell_mount *m, struct cell_mount_plan *p);
void cell_mount_plan_free(struct cell_mount_plan *p);

/* MOUNT_ATTR_* equivalents of p->flags/p->clear for fsmount()/mount_setattr() on the top mount.
 * The "clear" forms of atime options are no-ops: leaving atime alone keeps what is there. */
void cell_mount_plan_attr(const struct cell_mount_plan *p, uint64_t *set, uint64_t *clr);
/* In a user namespace the kernel locks a source's ro/nosuid/nodev/noexec and atime flags
 * (mount_namespaces(7)): drop clears of what statvfs's ST_* flags show, and atime changes. */
void cell_mount_attr_keep_locked(unsigned long st_flags, uint64_t *set, uint64_t *clr);
/* fsconfig(FSCONFIG_SET_FLAG) names of the superblock flags in ms_flags ("ro", "sync", ...);
 * returns how many were stored in out (at most max). */
size_t cell_mount_sb_flag_names(unsigned long ms_flags, const char **out, size_t max);
/* "shared", "rslave", ... -> MS_* (|MS_REC); 0 when unknown. */
unsigned long cell_propagation_from_name(const char *name);
/* The name of MS_* propagation flags (|MS_REC), NULL when none matches. */
const char *cell_propagation_name(unsigned long flags);
/* The option name that sets the one MS_* flag ("ro" for MS_RDONLY), NULL when none. */
const char *cell_ms_flag_name(unsigned long flag);

/* ---- paths ---- */

/* Whether ".." components climb above "/" ("/../etc", "a/../../b"); the rest is never resolved. */
bool cell_path_escapes_root(const char *path);
/* Lexically clean: "//a/./b/" -> "/a/b", ".." folded ("/a/../b" -> "/b", above "/" stays "/").
 * Always absolute. */
char *cell_path_clean(const char *path);
/* Whether clean path p is dir or below it ("/proc/kcore" under "/proc"). */
bool cell_path_under(const char *p, const char *dir);

/* ---- /dev ---- */

struct cell_dev_node {
	const char *name; /* below /dev */
	mode_t mode;	  /* type and permission bits */
	unsigned int major, minor;
};
struct cell_dev_link {
	const char *name; /* below /dev */
	const char *target;
};
/* null, zero, full, random, urandom, tty: char devices, 0666 (runtime-spec
 * config-linux.md#default-devices). */
extern const struct cell_dev_node cell_default_devices[];
extern const size_t cell_n_default_devices;
/* fd, stdin, stdout, stderr -> /proc/self/fd... */
extern const struct cell_dev_link cell_default_dev_links[];
extern const size_t cell_n_default_dev_links;
/* ptmx -> pts/ptmx, when a devpts is mounted on /dev/pts. */
extern const struct cell_dev_link cell_dev_ptmx_link;

/* mknod mode of a linux.devices entry: type bits from d->type, permissions from
 * fileMode (0666 when absent).  -EINVAL for an unknown type. */
int cell_device_mode(const struct cell_device *d, mode_t *mode);
enum cell_dev_setup {
	CELL_DEV_ROOTFS, /* no /dev mount: the rootfs's own /dev gets linux.devices only */
	CELL_DEV_FILL,	 /* a fresh /dev (tmpfs...): default nodes, linux.devices, links */
	CELL_DEV_HOST,	 /* /dev is a bind mount (of the host's): never written to */
};
enum cell_dev_setup cell_spec_dev_setup(const struct cell_spec *s);
/* The spec mounts a devpts on /dev/pts: /dev/ptmx becomes a link to it. */
bool cell_spec_has_devpts(const struct cell_spec *s);

/* ---- the id maps of the container's user namespace (idmap.c) ---- */

enum cell_idmap_how {
	CELL_IDMAP_NONE,   /* no new user namespace, or no mapping given: left alone */
	CELL_IDMAP_WRITE,  /* text written to /proc/<pid>/uid_map (gid_map) */
	CELL_IDMAP_HELPER, /* newuidmap (newgidmap) <pid> and the triples: it checks /etc/subuid */
};

struct cell_idmap_op {
	enum cell_idmap_how how;
	const char *file;	      /* "uid_map", "gid_map" */
	const char *helper;	      /* "newuidmap", "newgidmap" */
	const struct cell_idmap *map; /* the spec's */
	size_t n;
	char *text;	     /* the kernel's "inside outside count" lines, NULL when none */
	bool deny_setgroups; /* "deny" written to setgroups first (an unprivileged gid_map) */
};

struct cell_idmap_plan {
	struct cell_idmap_op uid, gid;
	/* setgroups(2) works in the container's user namespace once mapped */
	bool setgroups_allowed;
};

/* Render maps as the kernel's "inside outside count\n" lines. */
char *cell_idmap_format(const struct cell_idmap *m, size_t n);
/* How l's uid and gid maps are written by a runtime as f describes it: as root directly;
 * unprivileged, a single mapping of its own id directly (setgroups "deny" first for the
 * gid map, user_namespaces(7)), anything else through newuidmap/newgidmap.  write false:
 * both left alone (a user namespace that is joined), setgroups_allowed still told. */
void cell_idmap_plan_build(const struct cell_linux *l, const struct cell_id_facts *f, bool write,
			   struct cell_idmap_plan *out);
void cell_idmap_plan_free(struct cell_idmap_plan *p);

/* ---- the rootfs plan: built by the parent, executed by the child (linux/rootfs.h) ---- */

enum cell_mount_how {
	CELL_MOP_FRESH,	    /* a new filesystem: fsopen(type), "source" */
	CELL_MOP_BIND,	    /* open_tree of source (or of the fd the runtime opened) */
	CELL_MOP_CGROUP_V2, /* the container's one cgroup2 hierarchy */
	CELL_MOP_CGROUP_V1, /* a tmpfs with the container's v1 (and unified) hierarchies */
};

/* One host hierarchy of a "cgroup" mount (CELL_MOP_CGROUP_V1/V2): a fresh mount of it
 * with a cgroup namespace (cell_plan.cgroupns), else a bind of the container's cgroup. */
struct cell_cgroup_op {
	const struct cell_cgroup_mount *h; /* the facts' */
	char *path; /* in the rootfs: the destination (v2) or below it (v1) */
};

/* One spec mount, everything decided: the child only makes it. */
struct cell_mount_op {
	size_t index;		    /* in spec->mounts: messages, the runtime-opened source fd */
	const struct cell_mount *m; /* the spec mount (its id mappings, its destination as given) */
	struct cell_mount_plan p;   /* options sorted; MS_RDONLY dropped when ro_later */
	enum cell_mount_how how;
	char *dest;	  /* cleaned, never "/" */
	const char *type; /* fresh: the fsopen() type */
	char *source;	  /* fresh: "source" (the type when none); bind: the host path */
	bool recursive;	  /* bind: the whole tree */
	bool source_fd;	  /* bind: the runtime may have opened the source (source_fds) */
	bool keep_locked; /* in a user namespace: the source's locked flags stay */
	bool kernel_dest; /* procfs, sysfs, or on /proc or /sys: no symlink on the way */
	bool ro_later;	  /* read-only only in finalize (cell_mount_ro_delayed) */
	bool idmap;	  /* idmapped (p.ridmap: the whole tree) */
	bool copy_up;	  /* tmpfs: tmpcopyup */
	struct cell_cgroup_op *cgroups; /* CELL_MOP_CGROUP_V1/V2 */
	size_t n_cgroups;
};

/* A node under /dev: made with mknod, or in a user namespace (where mknod of devices is
 * refused) the host's node at the same path bound onto an empty file. */
struct cell_dev_op {
	char *path; /* clean, absolute */
	mode_t mode;
	unsigned int major, minor;
	bool uid_set, gid_set;
	uid_t uid;
	gid_t gid;
	bool bind_host;
	bool from_spec; /* linux.devices[index]; else a default device */
	size_t index;
};

struct cell_dev_link_op {
	struct cell_dev_link link;
	bool replace; /* an existing entry is removed first */
};

/* One linux.sysctl entry: value written to path (under /proc/sys of the container). */
struct cell_sysctl_op {
	const char *key, *value; /* the spec's */
	char *path;
};
#define CELL_SYSCTL_PATH_MAX 512

enum cell_root_switch {
	CELL_ROOT_PIVOT,  /* pivot_root(".", ".") and detach the old root */
	CELL_ROOT_MOVE,	  /* --no-pivot: MS_MOVE onto "/" and chroot */
	CELL_ROOT_CHROOT, /* no mount namespace: chroot only */
};

struct cell_plan {
	const struct cell_spec *spec; /* the validated spec it was built from */
	const char *rootfs, *bundle;  /* the facts' (not owned) */
	bool no_mount_ns;	      /* nothing is mounted (rootfs.h) */
	bool in_userns;
	struct cell_idmap_plan userns; /* written by the parent when the spec asks a new one */
	enum cell_root_switch root_switch;
	unsigned long setup_propagation; /* of "/" while the mounts are made */
	unsigned long propagation;	 /* linux.rootfsPropagation at the end, 0: none */
	bool root_readonly;
	struct cell_mount_op *mounts; /* in spec order */
	size_t n_mounts;
	enum cell_dev_setup dev_setup;
	struct cell_dev_op *devices; /* defaults (those linux.devices redefines left out) first */
	size_t n_devices;
	struct cell_dev_link_op *links;
	size_t n_links;
	char **readonly_paths, **masked_paths; /* cleaned, NULL-terminated */
	bool cgroupns; /* a new cgroup namespace: hierarchies are fresh mounts */
	const char *hostname, *domainname; /* the spec's, NULL: left alone */
	struct cell_sysctl_op *sysctls;	   /* after the pivot, in spec order */
	size_t n_sysctls;
};

/* The plan for spec s on a host as facts describes it.  Refuses what cannot be done with
 * the spec path of the field (a destination that escapes the rootfs, a bind without a
 * source...).  *out is written only on success; free it with cell_plan_free. */
int cell_plan_build(const struct cell_spec *s, const struct cell_host_facts *facts,
		    struct cell_plan *out, struct cell_error *err);
void cell_plan_free(struct cell_plan *p);
/* "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward"; a key containing
 * '/' is taken as is (sysctl(8) style, so "net/ipv4/conf/eth0.100/forwarding"
 * keeps its dot).  Refuses empty, ".", ".." components.  0 or -errno. */
int cell_sysctl_path(const char *key, char *buf, size_t len);
/* p->sysctls from p->spec (plan building; sysctl.c). */
int cell_plan_sysctls(struct cell_plan *p, struct cell_error *err);
/* A read-only /dev or tmpfs is mounted read-write and made read-only in finalize, as
 * runc does: the nodes, links and mount points below it are made in between. */
bool cell_mount_ro_delayed(const struct cell_mount_plan *p, const char *dest);
/* The plan as text, one operation a line, in the order the child runs them (the
 * golden files of tests/unit/plan-golden/). */
char *cell_plan_dump(const struct cell_plan *p);
