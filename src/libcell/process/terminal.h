/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Container terminals.  The child opens the container's own /dev/ptmx
 * (after pivot_root, so the pty belongs to the container's devpts), sends
 * the master over the console socket (SCM_RIGHTS, the pty name as data, as
 * runc does) and makes the slave its controlling terminal and stdio.
 */
#include <stdbool.h>
#include "../base/error.h"
#include "../spec/spec.h"

int cell_terminal_setup(int console_sock, const struct cell_process *p, bool bind_console,
			struct cell_error *err);
/* Connect to a console socket path (runtime namespace, before clone). */
int cell_console_socket_connect(const char *path, struct cell_error *err);
/* Receive the master from our own socketpair end. */
int cell_console_recv_master(int sock, int *master, struct cell_error *err);
/* The terminal cellrun itself proxies (run and exec in the foreground): "\n" reaches
 * the caller as "\n", not "\r\n" -- runc clears ONLCR on it (tty.go); a console
 * socket's receiver decides for itself (runc's recvtty does the same). */
int cell_terminal_clear_onlcr(int master, struct cell_error *err);
/* Foreground proxy: copy stdin→master and master→stdout until the container
 * exits (pidfd readable) and the master reaches EOF.  Puts a stdin tty in raw
 * mode for the duration and passes window size changes on. */
int cell_terminal_proxy(int master, int pidfd, struct cell_error *err);
