/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* Allocation wrappers (abort on OOM), string vectors, small file helpers. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
void *xcalloc(size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A string grown by printf-style appends (s NULL until the first; caller frees s). */
struct cell_buf {
	char *s;
	size_t len;
};
void cell_buf_add(struct cell_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* NULL-terminated string vectors. */
size_t cell_strv_len(char *const *v);
char **cell_strv_copy(char *const *v);
void cell_strv_push(char ***v, char *s); /* takes ownership of s */
bool cell_strv_contains(char *const *v, const char *s);
void cell_strv_free(char **v);

/* nonnull: the analyzer then reports a NULL argument at the caller, not in here */
static inline __attribute__((nonnull)) bool streq(const char *a, const char *b)
{
	extern int strcmp(const char *, const char *);
	return strcmp(a, b) == 0;
}
bool cell_startswith(const char *s, const char *prefix);

/* Read a whole file (NUL terminated). Returns 0 or -errno. */
int cell_read_file(const char *path, char **out, size_t *len);
int cell_read_fd(int fd, char **out, size_t *len);
/* Write a whole buffer to fd, retrying short writes. */
int cell_write_all(int fd, const void *buf, size_t len);
/* Write (truncate) a file. Returns 0 or -errno. */
int cell_write_file(const char *path, const char *data, size_t len);
int cell_write_file_at(int dirfd, const char *path, const char *data);
/* Write path via tmp+fsync+rename in the same directory. */
int cell_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode);
/* The same; durable=false skips the fsync: for runtime state under /run,
 * which a reboot clears anyway (readers still never see a partial file). */
int cell_write_file_replace(const char *path, const char *data, size_t len, mode_t mode,
			    bool durable);
/* mkdir -p, mode for created components. */
int cell_mkdir_p(const char *path, mode_t mode);
/* rm -rf on a directory in one filesystem (does not cross mounts). */
int cell_rm_rf(const char *path);
/* "512M", "2g", "1.5GiB", "4096" (bytes; "-1" stays -1). */
int cell_parse_size(const char *s, long long *out);
/* Parse decimal integer strictly. */
int cell_parse_long(const char *s, long long *out);

/* Root's cache on tmpfs, shared by cellrun and cell: the self-exec's empty
 * overlay layer (sys/selfexec.c), compiled seccomp filters (container-ops.c). */
#define CELL_RUN_CACHE "/run/cellrun-cache"
