/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The one way libcell runs a host program (mkfs.*, btrfs, debootstrap,
 * newuidmap).  The program starts with no blocked signals and default
 * dispositions, whatever the caller (a supervisor, say) set up for itself, and
 * a child that could not get to the program's first instruction is the start's
 * error, as posix_spawn(3) reports it: the child sends its errno through a
 * close-on-exec pipe.
 */
#include <stdbool.h>
#include <sys/types.h>

#define CELL_RUN_NULL (-1)    /* the fd is /dev/null */
#define CELL_RUN_INHERIT (-2) /* the caller's own */

struct cell_run {
	char *const *argv;	 /* argv[0]: a path, or (search) a name */
	char *const *env;	 /* NULL: the caller's environment */
	bool search;		 /* a name without '/' is looked up in $PATH, then in dirs */
	const char *const *dirs; /* NULL-terminated, or NULL */
	int fd[3];		 /* stdin, stdout, stderr: an fd, CELL_RUN_NULL or CELL_RUN_INHERIT */
	bool new_mount_ns;	 /* unshare(CLONE_NEWNS) and make / private first */
	/* fds above 2 close at exec even without O_CLOEXEC (what our own caller
	 * left open): for a daemon that outlives us */
	bool only_std_fds;
	/* a user namespace of the caller's one id (its root) with a network
	 * namespace of its own: what a rootless caller can make alone */
	bool new_user_net_ns;
	/* setsid(): no signal to our process group or terminal (Ctrl-C) reaches it */
	bool new_session;
};

/* The child's pid, or -errno when it could not be started; *step (when step is
 * not NULL) then says what failed: "fork", "private mount namespace", "user
 * and network namespace" or "exec". */
pid_t cell_run_start(const struct cell_run *r, const char **step);
/* waitpid(2) for pid, again after EINTR: 0 and its status, or -errno. */
int cell_run_wait(pid_t pid, int *status);
/* Stop a program we started that is no child of ours (a daemon): SIGTERM,
 * grace_ms to exit, then SIGKILL and grace_ms again.  The pid is held by a
 * pidfd first, and signalled only if ours(pid, arg) still says it is ours
 * (pid plus start time, a pid file, a command line): a pid reused since can
 * never be hit.  0 when it is gone (or was not ours), -ETIMEDOUT, -errno. */
int cell_run_terminate(pid_t pid, bool (*ours)(pid_t pid, void *arg), void *arg, int grace_ms);
