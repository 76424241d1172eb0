/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Sealed self: the runtime runs from a sealed memfd copy of its binary, so
 * that a container process reaching /proc/<runtime>/exe (directly, or through
 * an O_PATH fd kept until the runtime exits) can neither write nor truncate
 * the binary on the host (CVE-2019-5736).
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

/*
 * Unless /proc/self/exe already is a sealed memfd, copy it into one and
 * fexecve() it with argv (argv[argc] == NULL) and the current environment.
 * Returns 0 when already sealed; on success of the re-exec it does not return.
 */
int cell_selfexec_sealed(int argc, char **argv, struct cell_error *err);
