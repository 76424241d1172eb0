/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The only place raw syscalls without a glibc wrapper are defined.
 * glibc 2.36 (Debian 12) wraps pidfd_open, pidfd_send_signal, the new mount
 * API (fsopen, fsmount, move_mount, open_tree, mount_setattr) and
 * pidfd_getfd, but not clone3, pivot_root, openat2, ioprio_set,
 * sched_setattr or kcmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* clone3, or clone where clone3 is refused (ENOSYS under valgrind and some
 * seccomp profiles): every use here is fork-like (no stack, no cgroup fd). */
static inline pid_t cell_sys_clone3(struct clone_args *args)
{
	pid_t pid = (pid_t)syscall(SYS_clone3, args, sizeof(*args));

	if (pid < 0 && errno == ENOSYS && !args->cgroup && !args->stack && !args->set_tid)
		pid = (pid_t)syscall(SYS_clone, (unsigned long)(args->flags | args->exit_signal), 0,
				     NULL, NULL, 0);
	return pid;
}

static inline int cell_sys_pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}

static inline int cell_sys_openat2(int dirfd, const char *path, struct open_how *how)
{
	return (int)syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

static inline int cell_sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static inline int cell_sys_pidfd_send_signal(int pidfd, int sig, siginfo_t *info,
					     unsigned int flags)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

static inline int cell_sys_ioprio_set(int which, int who, int ioprio)
{
	return (int)syscall(SYS_ioprio_set, which, who, ioprio);
}

struct cell_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

static inline int cell_sys_sched_setattr(pid_t pid, struct cell_sched_attr *attr,
					 unsigned int flags)
{
	return (int)syscall(SYS_sched_setattr, pid, attr, flags);
}

/*
 * Open `path` inside the tree rooted at `rootfd`, never leaving it:
 * RESOLVE_IN_ROOT treats ".." and absolute symlinks as relative to rootfd;
 * RESOLVE_NO_MAGICLINKS refuses /proc/self/fd style jumps.
 */
static inline int cell_open_in_root(int rootfd, const char *path, uint64_t flags, uint64_t mode)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.mode = mode,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	do
		fd = cell_sys_openat2(rootfd, path, &how);
	while (fd < 0 && errno == EAGAIN);
	return fd;
}
