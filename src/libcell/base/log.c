/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>

static struct {
	enum cell_log_level level;
	enum cell_log_format format;
	int fd;
	const char *program;
} cell_log_state = { CELL_LOG_WARN, CELL_LOG_TEXT, 2, "cellrun" };

void cell_log_set_program(const char *name)
{
	cell_log_state.program = name;
}

int cell_log_open(const char *path, enum cell_log_format fmt)
{
	cell_log_state.format = fmt;
	if (!path)
		return 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	cell_log_state.fd = fd;
	return 0;
}

bool cell_log_to_file(void)
{
	return cell_log_state.fd != 2;
}

int cell_log_fd(void)
{
	return cell_log_state.fd;
}

void cell_log_set_level(enum cell_log_level lvl)
{
	cell_log_state.level = lvl;
}

enum cell_log_level cell_log_get_level(void)
{
	return cell_log_state.level;
}

/* JSON string escapes, or Go's %q ones (logfmt, as logrus writes them). */
static void escape(char *out, size_t len, const char *in, bool json)
{
	size_t o = 0;

	for (; *in && o + 7 < len; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n' || c == '\t') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, len - o, json ? "\\u%04x" : "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

static void timestamp(char *ts, size_t len)
{
	struct timespec now;
	struct tm tm;

	(void)clock_gettime(CLOCK_REALTIME, &now);
	(void)gmtime_r(&now.tv_sec, &tm);
	(void)strftime(ts, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* runc's lines (logrus): JSON with sorted keys, or time="…" level=… msg="…". */
static int format_line(char *line, size_t len, enum cell_log_level lvl, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char esc[2048], ts[40];

	if (cell_log_state.format == CELL_LOG_TEXT)
		return snprintf(line, len, "%s[%d]: %s: %s\n", cell_log_state.program,
				(int)getpid(), names[lvl], msg);
	timestamp(ts, sizeof(ts));
	escape(esc, sizeof(esc), msg, cell_log_state.format == CELL_LOG_JSON);
	if (cell_log_state.format == CELL_LOG_JSON)
		return snprintf(line, len, "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
				names[lvl], esc, ts);
	return snprintf(line, len, "time=\"%s\" level=%s msg=\"%s\"\n", ts, names[lvl], esc);
}

void cell_log(enum cell_log_level lvl, const char *fmt, ...)
{
	char msg[1024], line[2300];
	va_list ap;
	int n;

	if (lvl > cell_log_state.level)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = format_line(line, sizeof(line), lvl, msg);
	if (n > 0 && write(cell_log_state.fd, line, strnlen(line, sizeof(line))) < 0)
		return; /* nowhere left to report a failed log write */
}
