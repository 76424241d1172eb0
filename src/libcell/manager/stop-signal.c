/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The signal a container's init takes as "power off": its stop_signal setting
 * (an image's StopSignal for apps), SIGTERM for what it cannot use.  Below the
 * supervisor, which delivers it, and manager.c, which sends it when no
 * supervisor lives. */
#include <signal.h>
#include <string.h>

#include "../base/util.h"
#include "supervisor-internal.h"

static int parse_signal(const char *s)
{
	long long n;

	if (!s)
		return SIGTERM;
	/* an image's StopSignal may be a number, and create keeps it as written */
	if (cell_parse_long(s, &n) == 0)
		return n >= 1 && n <= SIGRTMAX ? (int)n : SIGTERM;
	if (cell_startswith(s, "SIG"))
		s += 3;
	if (cell_startswith(s, "RTMIN")) {
		long long off = 0;
		/* "RTMIN" or "RTMIN+N" up to SIGRTMAX: kill(2) refuses a higher number,
		 * and a negative N would name another signal */
		if (s[5] && (s[5] != '+' || cell_parse_long(s + 6, &off) < 0 || off < 0 ||
			     off > SIGRTMAX - SIGRTMIN))
			return SIGTERM;
		return SIGRTMIN + (int)off;
	}
	for (int i = 1; i < SIGRTMIN; i++)
		if (sigabbrev_np(i) && streq(sigabbrev_np(i), s))
			return i;
	return SIGTERM;
}

int cell_stop_signal_of(const struct cell_store *st, const char *name)
{
	struct cell_settings *s = NULL;
	struct cell_error ignored = { 0 };
	int sig;

	if (cell_settings_load(st, name, &s, &ignored) < 0)
		return SIGTERM;
	sig = parse_signal(s->stop_signal); /* an image's StopSignal for apps, else TERM */
	cell_settings_free(s);
	return sig;
}
