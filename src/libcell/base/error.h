/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The error record.  Fixed size and heap free so that the container child
 * can ship it to the parent over the sync socket in one write.  The first
 * function that knows *what* it was doing fills it; callers prefix context
 * on the way up; the CLI prints it once, appending strerror(code).
 *
 * The code is what callers and tests branch on, so it is the errno that is
 * true: ENOENT (no such container, file, image, user, key), EEXIST (exists
 * already), EBUSY (running, locked), ESRCH (not running), EINVAL (malformed
 * input), ENOTSUP (not supported here), EPERM/EACCES (not allowed).
 * Two ways to say it:
 *   cell_err()   an operation failed with errno code: the message says what
 *                was done ("open %s"), strerror(code) says why;
 *   cell_errx()  a condition was found: the message says it all ("container
 *                \"x\" does not exist"), code classifies it and no strerror
 *                is appended (as err(3) and errx(3)).
 * Code 0 is a mistake (scripts/lint refuses it); it is recorded as EINVAL.
 */
#include <stdbool.h>
#include <stddef.h>

#define CELL_ERROR_MSG 512

struct cell_error {
	int code;                  /* positive errno; 0 only in a cleared record */
	bool plain;                /* msg says it all: no ": strerror(code)" (cell_errx) */
	char msg[CELL_ERROR_MSG];
};

/* Record an error; returns -code for `return cell_err(...)`.  code may be
 * negative (a -errno return value passed on). */
int cell_err(struct cell_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for a condition the message names in full: printed without strerror. */
int cell_errx(struct cell_error *e, int code, const char *fmt, ...)
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
#define cell_errx(...) CELL_ANALYZER_NEGATIVE((cell_errx)(__VA_ARGS__))
#endif
/* Prefix context: "ctx: old message". Returns -e->code (or -EINVAL). */
int cell_err_prefix(struct cell_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Full text: message plus ": strerror(code)", unless plain (or code 0). */
const char *cell_err_text(const struct cell_error *e, char *buf, size_t len);
void cell_err_clear(struct cell_error *e);
