/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cellrun.h"
#include "libcell/base/signame.h"
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
	if (cell_parse_long(s, &n) == 0 && n == 0) {
		*sig = 0;
		return 0;
	}
	return cell_signal_parse(s, sig);
}

int cli_parse_size(const char *s, long long *out)
{
	return cell_parse_size(s, out);
}
