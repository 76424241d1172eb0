/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Logging.  The library logs nothing above debug; front-ends print errors.
 * The level and destination are the only global mutable state.
 */
#include <stdbool.h>

enum cell_log_level { CELL_LOG_ERROR = 0, CELL_LOG_WARN, CELL_LOG_INFO, CELL_LOG_DEBUG };
/* TEXT: "prog[pid]: level: msg" (cell); LOGFMT and JSON: logrus's, as runc
 * writes them (cellrun's --log-format text and json). */
enum cell_log_format { CELL_LOG_TEXT = 0, CELL_LOG_JSON, CELL_LOG_LOGFMT };

int cell_log_open(const char *path, enum cell_log_format fmt);
void cell_log_set_level(enum cell_log_level lvl);
/* The name in text log lines ("cellrun" unless set). */
void cell_log_set_program(const char *name);
enum cell_log_level cell_log_get_level(void);
/* true when --log named a file (errors go there too) */
bool cell_log_to_file(void);
/* The fd log lines go to (2, or the --log file): a child that closes what it
 * inherited keeps this one. */
int cell_log_fd(void);
void cell_log(enum cell_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cell_debug(...) cell_log(CELL_LOG_DEBUG, __VA_ARGS__)
#define cell_warn(...) cell_log(CELL_LOG_WARN, __VA_ARGS__)
