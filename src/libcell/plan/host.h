/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * What the plan is built from besides the spec: facts about the host and the
 * runtime's options, gathered by the caller (container.c) so that building
 * the plan stays free of syscalls.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* For mounting "cgroup" inside the container: one entry per hierarchy (cgroup.c reads
 * them from the host). */
struct cell_cgroup_mount {
	char *name;    /* dir under /sys/fs/cgroup: "memory", "cpu,cpuacct", "systemd", "unified" */
	char *fstype;  /* "cgroup" or "cgroup2" */
	char *options; /* mount data for a fresh mount: "memory", "none,name=systemd", "" */
	char *host_path; /* the container's cgroup dir on the host, for bind mounts */
	/* Added: symlinks the host has next to this hierarchy ("cpu", "cpuacct" for
	 * "cpu,cpuacct"), NULL-terminated, may be NULL.  Name is "" for a pure v2 host. */
	char **aliases;
};

/* Who the runtime is, for writing the id maps of the container's user namespace
 * (plan/idmap.c).  All zero: host root. */
struct cell_id_facts {
	uid_t euid; /* the runtime's effective ids */
	gid_t egid;
	bool setgroups_denied; /* root of a user namespace whose setgroups says "deny" */
};

struct cell_host_facts {
	const char *rootfs; /* absolute host path of root.path, symlinks resolved */
	const char *bundle; /* absolute bundle dir (relative mount sources resolve here) */
	bool in_userns;	    /* the mounts are made in a user namespace (new, joined or ours) */
	bool no_pivot;	    /* --no-pivot: MS_MOVE + chroot instead of pivot_root */
	/* the container's cgroup in each host hierarchy; none: "cgroup" mounts are fresh */
	const struct cell_cgroup_mount *cgroup_mounts;
	size_t n_cgroup_mounts;
	struct cell_id_facts ids;
};
