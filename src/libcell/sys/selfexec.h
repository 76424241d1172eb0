/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Sealed self: the runtime runs from a file no container process can write, so
 * that one reaching /proc/<runtime>/exe (directly, or through an O_PATH fd kept
 * until the runtime exits) can neither write nor truncate the binary on the
 * host (CVE-2019-5736).  As root: the binary seen through a detached read-only
 * overlayfs without an upper layer; otherwise (or if that fails) a sealed memfd
 * copy of it.
 */
#include <fcntl.h>
#include <stdbool.h>

#include "../base/error.h"

/* The seals cell puts on its copy: no write, no resize, no seal change. */
#define CELL_SELFEXEC_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* True when fd is a memfd that carries at least CELL_SELFEXEC_SEALS. */
bool cell_selfexec_fd_sealed(int fd);

/* *out: a new close-on-exec memfd holding a copy of the file open at src,
 * sealed with CELL_SELFEXEC_SEALS. */
int cell_selfexec_sealed_copy(int src, int *out, struct cell_error *err);

/* True when fd is on a read-only overlayfs mount (what cell_selfexec_overlay makes). */
bool cell_selfexec_fd_readonly_overlay(int fd);

/* *out: a close-on-exec fd of the file at the absolute path, opened through a new
 * detached overlayfs (read-only, no upper layer) of its directory; -errno. */
int cell_selfexec_overlay(const char *path, int *out);

/*
 * Unless /proc/self/exe already is a sealed memfd or on a read-only overlay,
 * fexecve() the binary through cell_selfexec_overlay() (root) or else a sealed
 * copy, with argv (argv[argc] == NULL) and the current environment.
 * Returns 0 when already sealed; on success of the re-exec it does not return.
 */
int cell_selfexec_sealed(int argc, char **argv, struct cell_error *err);
