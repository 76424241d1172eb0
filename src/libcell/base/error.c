/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int __attribute__((format(printf, 4, 0)))
record(struct cell_error *e, int code, bool plain, const char *fmt, va_list ap)
{
	if (code < 0)
		code = -code;
	if (code == 0) { /* no errno said: invalid, and no "Success" appended */
		code = EINVAL;
		plain = true;
	}
	if (e) {
		e->code = code;
		e->plain = plain;
		(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	}
	return -code;
}

int(cell_err)(struct cell_error *e, int code, const char *fmt, ...) /* (): not the macro */
{
	va_list ap;

	va_start(ap, fmt);
	int r = record(e, code, false, fmt, ap);
	va_end(ap);
	return r;
}

int(cell_errx)(struct cell_error *e, int code, const char *fmt, ...) /* (): not the macro */
{
	va_list ap;

	va_start(ap, fmt);
	int r = record(e, code, true, fmt, ap);
	va_end(ap);
	return r;
}

int cell_err_prefix(struct cell_error *e, const char *fmt, ...)
{
	char old[CELL_ERROR_MSG];
	size_t n;
	va_list ap;
	int w;

	if (!e)
		return -EINVAL;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	w = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = w < 0 ? 0 : (size_t)w;
	/* append ": old" to what fits; a long chain is cut, never overflowed */
	if (old[0] && n + 2 < sizeof(e->msg)) {
		memcpy(e->msg + n, ": ", 2);
		n += 2;
		size_t room = sizeof(e->msg) - n - 1;
		size_t len = strnlen(old, room);
		memcpy(e->msg + n, old, len);
		e->msg[n + len] = '\0';
	}
	return e->code ? -e->code : -EINVAL;
}

const char *cell_err_text(const struct cell_error *e, char *buf, size_t len)
{
	if (e->code && !e->plain)
		(void)snprintf(buf, len, "%s: %s", e->msg, strerror(e->code));
	else
		(void)snprintf(buf, len, "%s", e->msg);
	return buf;
}

void cell_err_clear(struct cell_error *e)
{
	e->code = 0;
	e->plain = false;
	e->msg[0] = '\0';
}
