/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cell-monitor: what stays resident while a container runs.
 *
 * `cell start` creates and starts the container, then execs this small
 * static program in the same process, so the container's init stays its
 * child and its pid stays the supervisor's.  It runs the supervisor's loop
 * (libcell/manager/supervisor-loop.c, the same one `cell run` runs): the
 * console pty to the size-capped console.log and to `cell console` clients,
 * their input back, SIGTERM to the init's power-off signal, reaping.  When
 * the init exits it execs `cell __finish`, which records the status, deletes
 * the container and tells systemd.  Only libc: its whole job is to be small
 * (see `cell info`: supervisor.rss_kb).
 *
 * argv: named options, each once (cell_sup_handover_parse):
 *   cell-monitor --cell=PATH --name=NAME --init=PID --stop-signal=N
 *     --master-fd=FD --listen-fd=FD --log-fd=FD --foreground=0|1 --log=PATH
 * (an fd may be -1: none)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../libcell/manager/supervisor-loop.h"

static int stop_init(void *data)
{
	const struct cell_sup_handover *h = data;

	/* our child: the pid cannot be reused */
	return kill(h->init, h->stop_signal) == 0 ? h->stop_signal : 0;
}

int main(int argc, char **argv)
{
	struct cell_sup_handover h;
	struct cell_sup_loop l;
	const char *bad = NULL;
	struct stat st;
	char status[16];
	int r = cell_sup_handover_parse(argc, argv, &h, &bad);

	if (r < 0) {
		if (r == -ENOENT)
			fprintf(stderr, "cell-monitor: missing --%s (started by cell, not by hand)\n",
				bad);
		else
			fprintf(stderr, "cell-monitor: bad option %s (started by cell, not by hand)\n",
				bad);
		return 2;
	}
	cell_sup_loop_init(&l);
	l.master = h.master;
	l.listen_fd = h.listen_fd;
	l.log_fd = h.log_fd;
	l.log_path = h.log_path;
	l.log_size = h.log_fd >= 0 && fstat(h.log_fd, &st) == 0 ? (size_t)st.st_size : 0;
	l.init = h.init;
	l.foreground = h.foreground;
	l.stop = stop_init;
	l.data = &h;
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (cell_sup_loop_signals(&l) < 0)
		return 1;
	(void)snprintf(status, sizeof(status), "%d", cell_sup_loop_run(&l));
	cell_sup_loop_unblock();
	execl(h.cell, h.cell, "__finish", h.name, status, (char *)NULL);
	fprintf(stderr, "cell-monitor: exec %s __finish: %s\n", h.cell, strerror(errno));
	return 1;
}
