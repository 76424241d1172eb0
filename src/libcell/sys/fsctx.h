/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* Errors of the new mount API (fsopen/fsconfig/fsmount). */
#include "../base/error.h"

/* Record "mount TYPE on TARGET (<the kernel's own message>)": fsconfig()
 * failures leave their reason in the fs context's log (fsopen(2)). */
int cell_fs_fail(int fs, int code, const char *type, const char *target, struct cell_error *err);
