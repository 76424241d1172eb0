/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Parent/child synchronisation over a SOCK_SEQPACKET socketpair.  Each
 * message is one fixed-size record (so an error record crosses in one
 * write) plus up to two fds (SCM_RIGHTS).  The numbered steps of the
 * container child are in spawn.c.
 */
#include <sys/types.h>
#include "../base/error.h"

enum cell_sync_type {
	CELL_SYNC_GO = 1,      /* parent → child: ids mapped, cgroup joined; carries host pid */
	CELL_SYNC_CHILD_PID,   /* intermediate → parent: pid of the container init */
	CELL_SYNC_PREPARED,    /* child → parent: mounts done, run createRuntime hooks now */
	CELL_SYNC_HOOKS_DONE,  /* parent → child: go on to pivot_root */
	CELL_SYNC_CREATED,     /* child → parent: waiting for start */
	CELL_SYNC_ERROR,       /* either way: carries the error record */
	CELL_SYNC_EXEC_OK,     /* exec: helper → parent, process about to exec */
	CELL_SYNC_RECORDED,    /* parent → child: state.json written, listen for `start` */
};

struct cell_sync_msg {
	int type;
	int value; /* a pid, where the type says so */
	struct cell_error err;
};

int cell_sync_send(int sock, int type, int value, const int *fds, int nfds);
/* Receives one message; *fds (up to 2, else -1) receive passed fds. */
int cell_sync_recv(int sock, struct cell_sync_msg *msg, int *fds, int maxfds);
/* Receive and require `type`; a CELL_SYNC_ERROR is copied to err. EOF → EPIPE. */
int cell_sync_expect(int sock, int type, struct cell_sync_msg *msg, int *fds, int maxfds,
		     struct cell_error *err);
/* Send an error record (child side, best effort). */
void cell_sync_send_error(int sock, const struct cell_error *err);
