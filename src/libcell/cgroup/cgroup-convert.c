/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The unit conversions from the spec's v1-shaped resources to cgroup v2's
 * values, shared by the v2 backend and the systemd driver (which hands the
 * same values to systemd as unit properties).
 */
#include "cgroup-internal.h"

#include <errno.h>

uint64_t cgroup_v2_cpu_weight(uint64_t shares)
{
	/* maps [2, 262144] linearly onto [1, 10000], as runc and crun do */
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cgroup_v2_io_weight(uint64_t weight)
{
	/* blkio [10, 1000] onto io [1, 10000] */
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return 1 + ((weight - 10) * 9999) / 990;
}

int cgroup_v2_swap_max(const struct cell_resources *r, bool *set, bool *max, int64_t *val,
		       struct cell_error *err)
{
	const struct cell_i64 *lim = &r->memory.limit, *swap = &r->memory.swap;

	*set = *max = false;
	*val = 0;
	/* as on v1: lifting the memory limit with no swap given lifts swap too */
	if ((!swap->set || swap->v == 0) && lim->set && lim->v < 0) {
		*set = *max = true;
		return 0;
	}
	if (!swap->set || swap->v == 0) /* 0 is "unset" for runc compatibility */
		return 0;
	*set = true;
	if (swap->v < 0) {
		*max = true;
		return 0;
	}
	/* the spec's swap is memory+swap; v2 limits swap alone */
	if (!lim->set || lim->v < 0)
		return cell_err(err, EINVAL, "memory.swap %lld needs a memory limit on cgroup v2",
				(long long)swap->v);
	if (swap->v < lim->v)
		return cell_err(err, EINVAL, "memory.swap %lld is below memory.limit %lld",
				(long long)swap->v, (long long)lim->v);
	*val = swap->v - lim->v;
	return 0;
}
