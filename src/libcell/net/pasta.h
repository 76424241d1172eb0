/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * `--net pasta`: a user-mode network for a container (Debian's passt package),
 * what a rootless cell can have without a bridge.  pasta is started after the
 * runtime's create, while the init waits: given the init's pid it joins the
 * init's user namespace (the caller owns it, so no privilege is needed) and
 * network namespace, makes a tap interface there with the host's address and
 * default route (--config-net), answers DNS on CELL_PASTA_DNS (forwarded to
 * the host's resolver) and listens on the host's side for the published ports.
 * It daemonizes once that is done (and outlives the namespace's last process:
 * it holds the namespace).  Its pid and start time are recorded in the
 * container's runtime directory, so that a later stop (also after a kill -9
 * of the supervisor) kills that process and no other that got its pid.
 */
#include <stddef.h>
#include <sys/types.h>

#include "../base/error.h"
#include "nft.h"

/* Where DNS queries are forwarded from (a link-local address routed to the
 * tap like any other; no address of the host's could collide with it). */
#define CELL_PASTA_DNS "169.254.1.1"

struct cell_pasta {
	const char *pasta; /* NULL: pasta on PATH (or /usr/bin, /bin) */
	const char *dir;   /* its files: pasta.pid (its own), pasta.cell, pasta.err */
	int init;	   /* whose namespaces: the container's init (waiting before its
			    * exec), or a holder's (cell_pasta_holder) */
	const struct cell_port *ports;
	size_t n_ports;
};

/* pasta's command line (NULL-terminated, caller frees with cell_strv_free). */
char **cell_pasta_argv(const struct cell_pasta *p);
/* Start pasta and wait until it has configured the namespace. */
int cell_pasta_start(const struct cell_pasta *p, struct cell_error *err);
/* The recorded pasta of dir when it still runs (pid and start time match), else 0. */
pid_t cell_pasta_pid(const char *dir);
/* SIGTERM then SIGKILL to the recorded pasta and holder; none (any more): 0. */
int cell_pasta_stop(const char *dir, struct cell_error *err);

/* Rootless: the init's namespaces cannot be opened by its owner before its
 * exec (the runtime makes it non-dumpable, CVE-2016-9962), so the namespaces
 * are made first, kept by a holder process (a user namespace whose root is
 * the caller's id, a network namespace in it) that pasta is attached to and
 * the container joins through /proc/PID/ns/{user,net}.  Recorded in dir;
 * cell_pasta_stop ends it too. */
int cell_pasta_holder(const char *dir, pid_t *out, struct cell_error *err);
pid_t cell_pasta_holder_pid(const char *dir);
