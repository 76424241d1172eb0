/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The signal a container's init takes as "power off": its stop_signal setting
 * (an image's StopSignal for apps), SIGTERM for what it cannot use.  Below the
 * supervisor, which delivers it, and manager.c, which sends it when no
 * supervisor lives. */
#include <signal.h>

#include "../base/cleanup.h"
#include "../base/signame.h"
#include "supervisor-internal.h"

int cell_stop_signal_of(const struct cell_store *st, const char *name)
{
	_cleanup_(cell_settings_freep) struct cell_settings *s = NULL;
	struct cell_error ignored = { 0 };
	int sig;

	/* an image's StopSignal for apps, else TERM; TERM too for a value that no
	 * signal is (config checks it, a cell.json written by hand may have any) */
	if (cell_settings_load(st, name, &s, &ignored) < 0 || !s->stop_signal ||
	    cell_signal_parse(s->stop_signal, &sig) < 0)
		return SIGTERM;
	return sig;
}
