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

static void json_escape(char *out, size_t len, const char *in)
{
	size_t o = 0;

	for (; *in && o + 7 < len; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, len - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

void cell_log(enum cell_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char msg[1024], esc[2048], line[2300], ts[40];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (lvl > cell_log_state.level)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cell_log_state.format == CELL_LOG_JSON) {
		(void)clock_gettime(CLOCK_REALTIME, &now);
		(void)gmtime_r(&now.tv_sec, &tm);
		(void)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line), "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
			     names[lvl], esc, ts);
	} else {
		n = snprintf(line, sizeof(line), "%s[%d]: %s: %s\n", cell_log_state.program,
			     (int)getpid(), names[lvl], msg);
	}
	if (n > 0 && write(cell_log_state.fd, line, strnlen(line, sizeof(line))) < 0)
		return; /* nowhere left to report a failed log write */
}
