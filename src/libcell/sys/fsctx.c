/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fsctx.h"

#include <string.h>
#include <unistd.h>

/* The log line is "e <message>" (or w/i); "" when there is none. */
static void fs_log(int fs, char *buf, size_t len)
{
	ssize_t n = read(fs, buf, len - 1);

	buf[n > 2 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (n > 2 && buf[1] == ' ')
		memmove(buf, buf + 2, strlen(buf + 2) + 1);
}

int cell_fs_fail(int fs, int code, const char *type, const char *target, struct cell_error *err)
{
	char why[200];

	fs_log(fs, why, sizeof(why));
	if (why[0])
		return cell_err(err, code, "mount %s on %s (%s)", type, target, why);
	return cell_err(err, code, "mount %s on %s", type, target);
}
