/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Signals by name or number, one table for every front-end and every stored
 * value (cellrun kill, cell kill, an image's StopSignal, cell's stop_signal):
 * what runc, docker and podman accept together.
 */

/* "SIGTERM", "TERM", "term", "15", the aliases "IOT", "CLD" and "POLL",
 * "RTMIN", "RTMIN+N", "RTMAX" and "RTMAX-N" (any case, "SIG" optional).
 * *sig is 1..SIGRTMAX; -EINVAL for anything else (also "0": kill(2)'s probe
 * is no signal, a caller that allows it says so itself). */
int cell_signal_parse(const char *s, int *sig);
