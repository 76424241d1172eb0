/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * What the container's process holds of its caller: no fd but stdio, the
 * --preserve-fds ones and the runtime's own; a session of its own; a cwd
 * inside its root.  Run in the container child (init or exec'd process).
 */
#include <stddef.h>
#include "../base/error.h"

/* Close every fd >= 3 + preserve_fds that is not in keep (entries < 0 are
 * skipped): an inherited directory fd is a way out of the root as soon as a
 * path resolves through /proc/self/fd (CVE-2024-21626), so close-on-exec is
 * not enough before the cwd is entered.  The kept ones are marked
 * close-on-exec, fds 3 .. 3 + preserve_fds - 1 are made inheritable. */
int cell_fds_confine(int preserve_fds, const int *keep, size_t n_keep, struct cell_error *err);

/* A session of our own (no controlling terminal): a process in its caller's
 * session can push input into the caller's terminal with TIOCSTI.  A no-op
 * for a session leader. */
int cell_session_new(struct cell_error *err);

/* Create a missing process.cwd inside the root (after pivot_root), never
 * through a symlink or magic link that leads out of it. */
int cell_cwd_make(const char *cwd, struct cell_error *err);

/* chdir to cwd resolved inside the root (RESOLVE_IN_ROOT, no magic links),
 * then cell_cwd_check_in_root. */
int cell_cwd_enter(const char *cwd, struct cell_error *err);
/* The current directory lies under the process's root: walked up by "..", it
 * reaches the root's mount, device and inode (a string compare of paths, or
 * the inode alone, would take the host's view of the rootfs for the root).
 * -EXDEV when it does not; cwd names it in the message. */
int cell_cwd_check_in_root(const char *cwd, struct cell_error *err);
