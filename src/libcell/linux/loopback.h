/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include "../base/error.h"

/* Bring up lo in the current network namespace. */
int cell_loopback_up(struct cell_error *err);
