/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * plan/: pure translation of spec parts into what the executors in linux/
 * do.  No syscalls here, so all of it is unit-tested without privileges.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../spec/spec.h"

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
