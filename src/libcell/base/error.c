/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cell_err(struct cell_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (code < 0)
		code = -code;
	if (e) {
		e->code = code;
		va_start(ap, fmt);
		(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code ? -code : -EINVAL;
}

int cell_err_prefix(struct cell_error *e, const char *fmt, ...)
{
	char pfx[CELL_ERROR_MSG], old[CELL_ERROR_MSG];
	va_list ap;

	if (!e)
		return -EINVAL;
	va_start(ap, fmt);
	(void)vsnprintf(pfx, sizeof(pfx), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	if (old[0])
		(void)snprintf(e->msg, sizeof(e->msg), "%s: %s", pfx, old);
	else
		(void)snprintf(e->msg, sizeof(e->msg), "%s", pfx);
	return e->code ? -e->code : -EINVAL;
}

const char *cell_err_text(const struct cell_error *e, char *buf, size_t len)
{
	if (e->code)
		(void)snprintf(buf, len, "%s: %s", e->msg, strerror(e->code));
	else
		(void)snprintf(buf, len, "%s", e->msg);
	return buf;
}

void cell_err_clear(struct cell_error *e)
{
	e->code = 0;
	e->msg[0] = '\0';
}
