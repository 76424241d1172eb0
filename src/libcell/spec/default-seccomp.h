/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The default seccomp profile: the linux.seccomp object that `cellrun spec`
 * writes and that cell gives its containers.  An allow-list: what is not
 * named fails with ENOSYS (so that programs fall back as on an older
 * kernel), what is known to be dangerous fails with EPERM.
 */
#include <jansson.h>
#include <stdint.h>

/* A new linux.seccomp object (runtime-spec config-linux.md "Seccomp") for a
 * container whose bounding set is bounding_caps (bit n: capability n).
 * Syscall groups that a capability makes safe (mount with CAP_SYS_ADMIN,
 * ptrace with CAP_SYS_PTRACE, ...) are allowed when it is in the set and
 * refused with EPERM when it is not. */
json_t *cell_default_seccomp_json(uint64_t bounding_caps);
