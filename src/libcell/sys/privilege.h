/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* "Am I really root?": euid 0 in the initial user namespace, or root of a
 * user namespace (rootless podman, unshare -r), which cannot create device
 * nodes, cgroups nobody delegated to it, or write root-only caches. */
#include <stdbool.h>

/* Whether uid_map text is the initial namespace's identity map "0 0 4294967295"
 * (user_namespaces(7): what the initial user namespace shows).  Pure. */
bool cell_uid_map_is_initial(const char *uid_map);
/* Whether this process runs in a user namespace other than the initial one:
 * /proc/self/uid_map is not the identity map (false where the kernel has no
 * user namespaces, as it then has only the initial one). */
bool cell_running_in_userns(void);
/* euid 0 in the initial user namespace. */
bool cell_really_root(void);
/* Whether /proc/self/setgroups says "deny" (user_namespaces(7)); false when
 * the file is absent (initial namespace, or a kernel without it). */
bool cell_setgroups_denied(void);
