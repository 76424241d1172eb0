/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * linux.resources (runtime-spec config-linux.md "Control groups").  Values
 * that end up in cgroup file *names* (hugepage sizes, unified keys) are
 * checked here so that no later layer can be walked out of the cgroup
 * directory.
 */
#include "parse-internal.h"

#include <ctype.h>
#include <string.h>

#include "../base/util.h"

#define R struct cell_resources

/* ---- devices (the cgroup allow list) ---- */

/* A non-empty combination of r, w and m, each at most once. */
static bool valid_access(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 3 || strspn(s, "rwm") != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr(s + i + 1, s[i]))
			return false;
	return true;
}

static int parse_access(struct pctx *c, const struct jp *at, json_t *v, void *member)
{
	char *access = member; /* char[4] */
	const char *s = jstring(c, v);

	if (!s)
		return jp_fail(c, at, "expected a string");
	if (!valid_access(s))
		return jp_fail(c, at, "must be a combination of r, w and m");
	memcpy(access, s, strlen(s) + 1);
	return 0;
}

/* Unset type/major/minor/access mean "all" (config-linux.md). */
static int rule_post(struct pctx *c, const struct jp *at, json_t *obj, void *base)
{
	struct cell_device_rule *rule = base;

	if (!rule->type)
		rule->type = 'a';
	if (!jfield(obj, "major"))
		rule->major = -1;
	if (!jfield(obj, "minor"))
		rule->minor = -1;
	if (!rule->access[0])
		memcpy(rule->access, "rwm", 4);
	return 0;
}

#define DR struct cell_device_rule
static const struct spec_field rule_fields[] = {
	{ "allow", F_BOOL, M(DR, allow), .required = true },
	{ "type", F_ENUM, M(DR, type), .names = spec_rule_type_names, .what = "device type" },
	{ "major", F_SINT, M(DR, major), RANGE(-1, INT64_MAX) },
	{ "minor", F_SINT, M(DR, minor), RANGE(-1, INT64_MAX) },
	{ "access", F_FN, M(DR, access), .fn = parse_access },
	FIELD_END,
};
static const struct spec_obj rule_obj = { rule_fields, sizeof(DR), rule_post };

/* ---- memory, cpu, pids ---- */

static const struct spec_field memory_fields[] = {
	{ "limit", F_SINT, OPT(R, memory.limit) },
	{ "reservation", F_SINT, OPT(R, memory.reservation) },
	{ "swap", F_SINT, OPT(R, memory.swap) },
	{ "kernel", F_SINT, OPT(R, memory.kernel) },
	{ "kernelTCP", F_SINT, OPT(R, memory.kernel_tcp) },
	{ "swappiness", F_UINT, OPT(R, memory.swappiness) },
	{ "disableOOMKiller", F_BOOL, M(R, memory.disable_oom_killer),
	  SET(R, memory.disable_oom_killer_set) },
	{ "useHierarchy", F_BOOL, M(R, memory.use_hierarchy), SET(R, memory.use_hierarchy_set) },
	{ "checkBeforeUpdate", F_BOOL, M(R, memory.check_before_update) },
	FIELD_END,
};
static const struct spec_obj memory_obj = { memory_fields, 0, NULL };

/* "burst ... MUST be no larger than any positive quota" */
static int cpu_post(struct pctx *c, const struct jp *at, json_t *obj, void *base)
{
	const struct cell_resources *r = base;

	if (r->cpu.burst.set && r->cpu.quota.set && r->cpu.quota.v > 0 &&
	    r->cpu.burst.v > (uint64_t)r->cpu.quota.v)
		return jp_fail(c, JP_KEY(at, "burst"), "must not exceed quota (%lld)",
			       (long long)r->cpu.quota.v);
	return 0;
}

static const struct spec_field cpu_fields[] = {
	{ "shares", F_UINT, OPT(R, cpu.shares) },
	{ "quota", F_SINT, OPT(R, cpu.quota) },
	{ "burst", F_UINT, OPT(R, cpu.burst) },
	{ "period", F_UINT, OPT(R, cpu.period) },
	{ "realtimeRuntime", F_SINT, OPT(R, cpu.realtime_runtime) },
	{ "realtimePeriod", F_UINT, OPT(R, cpu.realtime_period) },
	{ "cpus", F_STR, M(R, cpu.cpus), .check = spec_check_cpulist },
	{ "mems", F_STR, M(R, cpu.mems), .check = spec_check_cpulist },
	{ "idle", F_SINT, OPT(R, cpu.idle) },
	FIELD_END,
};
static const struct spec_obj cpu_obj = { cpu_fields, 0, cpu_post };

static const struct spec_field pids_fields[] = {
	{ "limit", F_SINT, OPT(R, pids.limit) },
	FIELD_END,
};
static const struct spec_obj pids_obj = { pids_fields, 0, NULL };

/* ---- block I/O ---- */

/* "You MUST specify at least one of weight or leafWeight" */
static int weight_device_post(struct pctx *c, const struct jp *at, json_t *obj, void *base)
{
	const struct cell_weight_device *w = base;

	if (!w->weight_set && !w->leaf_weight_set)
		return jp_fail(c, at, "needs weight or leafWeight");
	return 0;
}

#define WD struct cell_weight_device
static const struct spec_field weight_device_fields[] = {
	{ "major", F_SINT, M(WD, major), .required = true },
	{ "minor", F_SINT, M(WD, minor), .required = true },
	{ "weight", F_UINT, M(WD, weight), SET(WD, weight_set) },
	{ "leafWeight", F_UINT, M(WD, leaf_weight), SET(WD, leaf_weight_set) },
	FIELD_END,
};
static const struct spec_obj weight_device_obj = { weight_device_fields, sizeof(WD),
						   weight_device_post };

#define TD struct cell_throttle_device
static const struct spec_field throttle_fields[] = {
	{ "major", F_SINT, M(TD, major), .required = true },
	{ "minor", F_SINT, M(TD, minor), .required = true },
	{ "rate", F_UINT, M(TD, rate), .required = true },
	FIELD_END,
};
static const struct spec_obj throttle_obj = { throttle_fields, sizeof(TD), NULL };

static const struct spec_field block_io_fields[] = {
	{ "weight", F_UINT, OPT(R, block_io.weight), RANGE(0, UINT16_MAX) },
	{ "leafWeight", F_UINT, OPT(R, block_io.leaf_weight), RANGE(0, UINT16_MAX) },
	{ "weightDevice", F_ARRAY, ARR(R, block_io.weight_devices, block_io.n_weight_devices),
	  .sub = &weight_device_obj },
	{ "throttleReadBpsDevice", F_ARRAY, ARR(R, block_io.read_bps, block_io.n_read_bps),
	  .sub = &throttle_obj },
	{ "throttleWriteBpsDevice", F_ARRAY, ARR(R, block_io.write_bps, block_io.n_write_bps),
	  .sub = &throttle_obj },
	{ "throttleReadIOPSDevice", F_ARRAY, ARR(R, block_io.read_iops, block_io.n_read_iops),
	  .sub = &throttle_obj },
	{ "throttleWriteIOPSDevice", F_ARRAY, ARR(R, block_io.write_iops, block_io.n_write_iops),
	  .sub = &throttle_obj },
	FIELD_END,
};
static const struct spec_obj block_io_obj = { block_io_fields, 0, NULL };

/* ---- hugetlb, network, unified ---- */

/* "<size><unit-prefix>B": it becomes part of hugetlb.<pageSize>.* names. */
static const char *check_page_size(const char *s)
{
	size_t digits = strspn(s, "0123456789");

	if (digits == 0 || s[0] == '0' || !s[digits] || !strchr("KMGTPE", s[digits]) ||
	    !streq(s + digits + 1, "B"))
		return "invalid page size (expected e.g. \"2MB\")";
	return NULL;
}

#define HL struct cell_hugepage_limit
static const struct spec_field hugepage_fields[] = {
	{ "pageSize", F_STR, M(HL, page_size), .required = true, .check = check_page_size },
	{ "limit", F_UINT, M(HL, limit), .required = true },
	FIELD_END,
};
static const struct spec_obj hugepage_obj = { hugepage_fields, sizeof(HL), NULL };

/* An interface name (IFNAMSIZ 16): it is written as "<name> <prio>\n" to
 * net_prio.ifpriomap, so no blanks, newlines or slashes. */
static const char *check_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 16)
		return "invalid interface name";
	for (; *s; s++)
		if (isspace((unsigned char)*s) || *s == '/' || iscntrl((unsigned char)*s))
			return "invalid interface name";
	return NULL;
}

#define NP struct cell_net_priority
static const struct spec_field priority_fields[] = {
	{ "name", F_STR, M(NP, name), .required = true, .check = check_ifname },
	{ "priority", F_UINT, M(NP, priority), .required = true },
	FIELD_END,
};
static const struct spec_obj priority_obj = { priority_fields, sizeof(NP), NULL };

static const struct spec_field network_fields[] = {
	{ "classID", F_UINT, OPT(R, network.class_id), RANGE(0, UINT32_MAX) },
	{ "priorities", F_ARRAY, ARR(R, network.priorities, network.n_priorities),
	  .sub = &priority_obj },
	FIELD_END,
};
static const struct spec_obj network_obj = { network_fields, 0, NULL };

/* A unified key names a file in the container's cgroup directory. */
static const char *check_cgroup_file(const char *s)
{
	if (!*s || strchr(s, '/') || streq(s, ".") || streq(s, ".."))
		return "not a cgroup file name";
	return NULL;
}

static const struct spec_field resources_fields[] = {
	{ "devices", F_ARRAY, ARR(R, devices, n_devices), .sub = &rule_obj },
	{ "memory", F_OBJ, .sub = &memory_obj },
	{ "cpu", F_OBJ, .sub = &cpu_obj },
	{ "pids", F_OBJ, .sub = &pids_obj },
	{ "blockIO", F_OBJ, .sub = &block_io_obj },
	{ "hugepageLimits", F_ARRAY, ARR(R, hugepage_limits, n_hugepage_limits),
	  .sub = &hugepage_obj },
	{ "network", F_OBJ, .sub = &network_obj },
	{ "rdma", F_IGNORE, .off = 0 },
	{ "unified", F_MAP, ARR(R, unified, n_unified), .check = check_cgroup_file },
	FIELD_END,
};
const struct spec_obj spec_resources_obj = { resources_fields, sizeof(R), NULL };
