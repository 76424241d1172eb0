/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cellrun.h"
#include "libcell/base/util.h"

int cli_one_id(struct cli *c, int first, const char **id, struct cell_error *err)
{
	if (first >= c->argc)
		return cell_err(err, EINVAL, "%s: missing container id", c->argv[0]);
	if (first + 1 != c->argc)
		return cell_err(err, EINVAL, "%s: unexpected argument \"%s\"", c->argv[0],
				c->argv[first + 1]);
	*id = c->argv[first];
	return 0;
}

int cli_parse_signal(const char *s, int *sig)
{
	long long n;

	/* 0 is kill(2)'s probe: is the process there? (runc accepts it) */
	if (cell_parse_long(s, &n) == 0) {
		if (n < 0 || n > SIGRTMAX)
			return -EINVAL;
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
		bool max = strncasecmp(s, "RTMAX", 5) == 0;
		long long off = 0;
		if (s[5] && cell_parse_long(s + 5, &off) < 0)
			return -EINVAL;
		n = max ? SIGRTMAX + off : SIGRTMIN + off;
		if (n < SIGRTMIN || n > SIGRTMAX)
			return -EINVAL;
		*sig = (int)n;
		return 0;
	}
	for (int i = 1; i < SIGRTMIN; i++) {
		const char *abbrev = sigabbrev_np(i);
		if (abbrev && strcasecmp(abbrev, s) == 0) {
			*sig = i;
			return 0;
		}
	}
	return -EINVAL;
}

int cli_parse_size(const char *s, long long *out)
{
	return cell_parse_size(s, out);
}
