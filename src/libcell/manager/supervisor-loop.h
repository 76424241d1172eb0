/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The supervisor's loop, the one place that does its pty/log/client work.  Two
 * processes run it: supervisor.c inside `cell` (`cell run`, or no cell-monitor
 * installed) and cell-monitor (src/cell/monitor.c), the small static program
 * that `cell start` execs once the container runs.  Only libc, no other part
 * of libcell: cell-monitor is built from this file and its own.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CELL_SUP_LOG_CAP (1 << 20) /* console.log rotates to console.log.1 past 1 MiB */
#define CELL_SUP_MAX_CLIENTS 8     /* attached `cell console`s; one more is refused */

struct cell_sup_loop {
	int master;    /* the console pty, or -1 (the container shares our stdio) */
	int listen_fd; /* console.sock, for `cell console` */
	int log_fd;    /* console.log, O_APPEND */
	int sfd;       /* signalfd of cell_sup_loop_signals() */
	int clients[CELL_SUP_MAX_CLIENTS];
	size_t log_size;
	const char *log_path; /* where log_fd is, for the rotation */
	pid_t init;           /* our child */
	bool foreground;      /* stdin and stdout are the user's terminal */
	/* SIGTERM or SIGINT (systemd's or `cell stop`'s): the init's power-off;
	 * returns the signal it sent (0: none) */
	int (*stop)(void *data);
	void *data;
	/* the power-off signal was sent before the init caught it (a namespace's
	 * init drops a signal it has no handler for): sent again once it does */
	int stop_retry;
};

/* Every fd -1. */
void cell_sup_loop_init(struct cell_sup_loop *l);
/* Block the signals the loop reads and open l->sfd; -errno. */
int cell_sup_loop_signals(struct cell_sup_loop *l);
/* Unblock them again (before an exec). */
void cell_sup_loop_unblock(void);
/* Until the init exits: its wait status (255 << 8 when poll fails).  The user's
 * terminal is raw meanwhile when the container has a console in the foreground. */
int cell_sup_loop_run(struct cell_sup_loop *l);

/*
 * What `cell start` hands to cell-monitor: named options, each checked
 * (`--name=VALUE`, one table of them in supervisor-loop.c), so that neither
 * side depends on an order and a mismatch is refused rather than misread.
 */
struct cell_sup_handover {
	const char *cell; /* the cell binary, for `cell __finish` */
	const char *name;
	const char *log_path;
	int init, stop_signal;
	int master, listen_fd, log_fd; /* -1 when absent */
	bool foreground;
};
#define CELL_SUP_HANDOVER_ARGS 11 /* argv[0], the 9 options, NULL */
/* argv for cell-monitor in argv/buf; -ENAMETOOLONG when buf is too small. */
int cell_sup_handover_argv(const struct cell_sup_handover *h, char *argv[CELL_SUP_HANDOVER_ARGS],
			   char *buf, size_t size);
/* argv (argv[0] skipped) into h, which points into argv.  Every option once:
 * -EINVAL with *bad the argument that is unknown, repeated or out of range, or
 * -ENOENT with *bad the name of the option missing. */
int cell_sup_handover_parse(int argc, char **argv, struct cell_sup_handover *h,
			    const char **bad);
