/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * A JSON file changed only under flock(2) on "<path>.lock" and replaced by
 * rename, so that readers see the old or the new file, never half of one:
 * the shape of the host-wide registries (manager/idmap-registry.c,
 * net/registry.c).  what names the file in messages ("idmap registry").
 */
#include <jansson.h>

#include "error.h"

/* Make path's directory (0755) when missing, lock path.lock (waits), and
 * load path: *root is NULL when there is no such file.  On success *lock_fd
 * holds the lock until it is closed.  Malformed JSON is -EINVAL, said with
 * path, line and column. */
int cell_locked_json_load(const char *what, const char *path, int *lock_fd, json_t **root,
			  struct cell_error *err);
/* Write root to path (mode 0644) by a temporary file and rename. */
int cell_json_save_atomic(const char *what, const char *path, json_t *root, struct cell_error *err);
