/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The user namespace an idmapped mount takes its mapping from
 * (mount_setattr(2) MOUNT_ATTR_IDMAP): a short-lived child unshares one, we
 * write its maps and keep /proc/<pid>/ns/user open; the namespace outlives
 * the child as long as the fd does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "../sys/syscalls.h"
#include "rootfs-internal.h"
#include "userns.h"

/* In the child: report our pid as the mounted /proc numbers it (we may be in a pid
 * namespace that /proc is not of), then wait until the parent closes its end of `go`. */
static void __attribute__((noreturn)) hold_userns(int report, int go, int go_parent_end)
{
	char self[32];
	ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);
	char c;

	(void)close(go_parent_end); /* or the read below never sees EOF */
	if (n <= 0 || write(report, self, (size_t)n) != n)
		_exit(1);
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* The mount's mappings, or the container's when the mount has none (runtime-spec
 * config.md#mounts, "idmap"). */
static int pick_maps(const struct cell_spec *s, const struct cell_mount *m, struct cell_linux *l,
		     struct cell_error *err)
{
	*l = (struct cell_linux){0};
	if (m->n_uid_mappings || m->n_gid_mappings) {
		l->uid_mappings = m->uid_mappings;
		l->n_uid_mappings = m->n_uid_mappings;
		l->gid_mappings = m->gid_mappings;
		l->n_gid_mappings = m->n_gid_mappings;
	} else {
		l->uid_mappings = s->linux.uid_mappings;
		l->n_uid_mappings = s->linux.n_uid_mappings;
		l->gid_mappings = s->linux.gid_mappings;
		l->n_gid_mappings = s->linux.n_gid_mappings;
	}
	if (!l->n_uid_mappings || !l->n_gid_mappings)
		return cell_errx(err, EINVAL,
				 "idmap needs uidMappings and gidMappings, on the mount or "
				 "for the container's user namespace");
	return 0;
}

static int open_userns(pid_t child, int report, const struct cell_linux *l, struct cell_error *err)
{
	char buf[32], path[64];
	ssize_t n = read(report, buf, sizeof(buf) - 1);
	long long proc_pid;

	if (n <= 0)
		return cell_err(err, n < 0 ? errno : EPIPE, "idmap helper %d did not start",
				(int)child);
	buf[n] = '\0';
	if (cell_parse_long(buf, &proc_pid) < 0)
		return cell_err(err, EPROTO, "idmap helper sent \"%s\"", buf);
	/* setgroups is of no concern to a mount's mapping: not asked */
	const struct cell_id_facts self = {.euid = geteuid(), .egid = getegid()};
	struct cell_idmap_plan maps;
	cell_idmap_plan_build(l, &self, true, &maps);
	int r = cell_userns_write_maps((pid_t)proc_pid, &maps, err);
	cell_idmap_plan_free(&maps);
	if (r < 0)
		return cell_err_prefix(err, "idmap");
	(void)snprintf(path, sizeof(path), "/proc/%lld/ns/user", proc_pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? cell_err(err, errno, "open %s", path) : fd;
}

static int pipe_pair(int *rd, int *wr)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	*rd = p[0];
	*wr = p[1];
	return 0;
}

int cell_idmap_userns_fd(const struct cell_spec *s, const struct cell_mount *m,
			 struct cell_error *err)
{
	struct clone_args args = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
	_cleanup_close_ int report_r = -1, report_w = -1, go_r = -1, go_w = -1;
	struct cell_linux l;
	int fd, status;

	if ((fd = pick_maps(s, m, &l, err)) < 0)
		return fd;
	if ((fd = pipe_pair(&report_r, &report_w)) < 0 || (fd = pipe_pair(&go_r, &go_w)) < 0)
		return cell_err(err, fd, "pipe");
	pid_t child = cell_sys_clone3(&args);
	if (child == 0)
		hold_userns(report_w, go_r, go_w);
	if (child < 0)
		return cell_err(err, errno, "clone a user namespace for idmap");
	(void)close(TAKE_FD(report_w));
	fd = open_userns(child, report_r, &l, err);
	(void)close(TAKE_FD(go_w)); /* lets the child exit */
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	return fd;
}
