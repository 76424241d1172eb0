/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The error record.  Fixed size and heap free so that the container child
 * can ship it to the parent over the sync socket in one write.  The first
 * function that knows *what* it was doing fills it; callers prefix context
 * on the way up; the CLI prints it once, appending strerror(code).
 */
#include <stddef.h>

#define CELL_ERROR_MSG 512

struct cell_error {
	int code;                  /* positive errno, 0 when no errno text applies */
	char msg[CELL_ERROR_MSG];
};

/* Record an error; returns -code (or -EINVAL when code is 0) for `return cell_err(...)`. */
int cell_err(struct cell_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#ifdef __clang_analyzer__
/* For clang-tidy only.  It analyses one file at a time and never inlines a
 * variadic function, so it cannot see that cell_err() (or a wrapper such as
 * jp_fail()) is always < 0 and takes failure paths for successes. */
#define CELL_ANALYZER_NEGATIVE(call)                                                               \
	__extension__({                                                                            \
		int cell_negative_r_ = (call);                                                     \
		if (cell_negative_r_ >= 0)                                                         \
			__builtin_unreachable();                                                   \
		cell_negative_r_;                                                                  \
	})
#define cell_err(...) CELL_ANALYZER_NEGATIVE((cell_err)(__VA_ARGS__))
#endif
/* Prefix context: "ctx: old message". Returns -e->code (or -EINVAL). */
int cell_err_prefix(struct cell_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Full text: message plus ": strerror(code)" when code != 0. */
const char *cell_err_text(const struct cell_error *e, char *buf, size_t len);
void cell_err_clear(struct cell_error *e);
