/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* Bind sources opened by the runtime for a child in a user namespace (see mount-sources.c). */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "../base/error.h"
#include "../plan/plan.h"

/* A user namespace (made or joined) by a privileged runtime, a mount namespace,
 * and at least one bind mount whose source the runtime may open (source_fd). */
bool cell_mount_sources_wanted(const struct cell_plan *p, bool in_userns, bool rootless);
/* Parent, after GO: a helper opens the planned source of each such mount in the mount
 * namespace of `init` and sends MOUNT_SOURCE(index, fd) on sync, then MOUNT_SOURCE(-1). */
int cell_mount_sources_send(const struct cell_plan *p, pid_t init, int sync, struct cell_error *err);
/* Child, after GO: *out gets one fd (or -1) per spec mount. */
int cell_mount_sources_recv(int sync, size_t n_mounts, int **out, struct cell_error *err);
void cell_mount_sources_close(int *fds, size_t n);
