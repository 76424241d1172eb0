/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The linux object (runtime-spec config-linux.md) but for resources and
 * seccomp, which have files of their own.
 */
#include "parse-internal.h"

#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/util.h"

#define L struct cell_linux

/* ---- namespaces ---- */

struct ns_entry {
	int type;
	char *path;
};

#define NS struct ns_entry
static const struct spec_field ns_fields[] = {
	{ "type", F_ENUM, M(NS, type), .required = true, .names = spec_ns_names,
	  .what = "namespace" },
	{ "path", F_STR, M(NS, path), .check = spec_check_abs_path },
	FIELD_END,
};
static const struct spec_obj ns_obj = { ns_fields, sizeof(NS), NULL };

/* "If a namespaces field contains duplicated namespaces with same type, the
 * runtime MUST generate an error." */
static int ns_add(struct pctx *c, const struct jp *at, struct cell_linux *l, struct ns_entry *e)
{
	if (l->ns[e->type].enabled) {
		free(e->path);
		return jp_fail(c, JP_KEY(at, "type"), "duplicate namespace \"%s\"",
			       cell_ns_type_name((enum cell_ns_type)e->type));
	}
	l->ns[e->type] = (struct cell_namespace){ true, e->path };
	return 0;
}

static int parse_namespaces(struct pctx *c, const struct jp *at, json_t *v, void *member)
{
	size_t i;
	json_t *x;
	int r;

	if (!json_is_array(v))
		return jp_fail(c, at, "expected an array");
	json_array_foreach(v, i, x) {
		struct ns_entry e = { -1, NULL };
		r = spec_parse_object(c, JP_IDX(at, i), x, &ns_obj, &e);
		if (r == 0)
			r = ns_add(c, JP_IDX(at, i), member, &e);
		else
			spec_release(&ns_obj, &e);
		if (r < 0)
			return r;
	}
	return 0;
}

static void release_namespaces(void *member)
{
	struct cell_linux *l = member;

	for (size_t t = 0; t < CELL_NS_COUNT; t++)
		free(l->ns[t].path);
}

/* ---- id mappings (also used by mounts) ---- */

#define IDM struct cell_idmap
static const struct spec_field idmap_fields[] = {
	{ "containerID", F_UINT, M(IDM, container_id), .required = true },
	{ "hostID", F_UINT, M(IDM, host_id), .required = true },
	{ "size", F_UINT, M(IDM, size), .required = true, RANGE(1, UINT32_MAX) },
	FIELD_END,
};
const struct spec_obj spec_idmap_obj = { idmap_fields, sizeof(IDM), NULL };

/* ---- time offsets ---- */

#define TO struct cell_time_offset
static const struct spec_field time_offset_fields[] = {
	{ "secs", F_SINT, M(TO, secs) },
	{ "nanosecs", F_UINT, M(TO, nanosecs), RANGE(0, 999999999) },
	FIELD_END,
};
static const struct spec_obj time_offset_obj = { time_offset_fields, 0, NULL };

/* time_namespaces(7): only these two clocks have offsets. */
static int time_offsets_post(struct pctx *c, const struct jp *at, json_t *obj, void *base)
{
	const char *key;
	json_t *x;

	json_object_foreach(obj, key, x)
		if (!streq(key, "monotonic") && !streq(key, "boottime"))
			return jp_fail(c, JP_KEY(at, key),
				       "unknown clock (expected monotonic or boottime)");
	return 0;
}

static const struct spec_field time_offsets_fields[] = {
	{ "monotonic", F_OBJ, M(L, time_monotonic), SET(L, time_monotonic.set),
	  .sub = &time_offset_obj },
	{ "boottime", F_OBJ, M(L, time_boottime), SET(L, time_boottime.set),
	  .sub = &time_offset_obj },
	FIELD_END,
};
static const struct spec_obj time_offsets_obj = { time_offsets_fields, 0, time_offsets_post };

/* ---- devices ---- */

/* "major, minor (int64, REQUIRED unless type is p)" */
static int device_post(struct pctx *c, const struct jp *at, json_t *obj, void *base)
{
	const struct cell_device *d = base;
	static const char *const numbers[] = { "major", "minor" };

	for (size_t i = 0; d->type != 'p' && i < 2; i++)
		if (!jfield(obj, numbers[i]))
			return jp_fail(c, JP_KEY(at, numbers[i]), "is required for type \"%c\"",
				       d->type);
	return 0;
}

#define DEV struct cell_device
static const struct spec_field device_fields[] = {
	{ "type", F_ENUM, M(DEV, type), .required = true, .names = spec_device_type_names,
	  .what = "device type" },
	{ "path", F_STR, M(DEV, path), .required = true, .check = spec_check_abs_path },
	{ "major", F_SINT, M(DEV, major) },
	{ "minor", F_SINT, M(DEV, minor) },
	{ "fileMode", F_UINT, M(DEV, file_mode), SET(DEV, file_mode_set) },
	{ "uid", F_UINT, M(DEV, uid), SET(DEV, uid_set) },
	{ "gid", F_UINT, M(DEV, gid), SET(DEV, gid_set) },
	FIELD_END,
};
static const struct spec_obj device_obj = { device_fields, sizeof(DEV), device_post };

/* ---- the rest ---- */

/* Intel RDT needs resctrl support we do not have; an empty object asks
 * for nothing and passes. */
static int reject_intel_rdt(struct pctx *c, const struct jp *at, json_t *v, void *member)
{
	if (!json_is_object(v) || json_object_size(v) > 0)
		return jp_fail(c, at, "Intel RDT is not supported");
	cell_debug("config: linux.intelRdt is empty, ignored");
	return 0;
}

/* A sysctl name must stay under /proc/sys: with a '/' it is a path (dots are
 * literal, sysctl(8)), else dots separate; no empty, "." or ".." part. */
static const char *check_sysctl_key(const char *key)
{
	const char seps[] = { strchr(key, '/') ? '/' : '.', '\0' };

	for (const char *p = key;; p += strcspn(p, seps) + 1) {
		size_t n = strcspn(p, seps);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return "invalid sysctl name";
		if (p[n] == '\0')
			return NULL;
	}
}

#define PER struct cell_personality
static const struct spec_field personality_fields[] = {
	{ "domain", F_ENUM, M(PER, domain), .required = true, .names = spec_personality_names,
	  .what = "personality domain" },
	{ "flags", F_STRV, M(PER, flags) },
	FIELD_END,
};
static const struct spec_obj personality_obj = { personality_fields, 0, NULL };

static const struct spec_field linux_fields[] = {
	{ "namespaces", F_FN, .fn = parse_namespaces, .release = release_namespaces },
	{ "uidMappings", F_ARRAY, ARR(L, uid_mappings, n_uid_mappings), .sub = &spec_idmap_obj },
	{ "gidMappings", F_ARRAY, ARR(L, gid_mappings, n_gid_mappings), .sub = &spec_idmap_obj },
	{ "timeOffsets", F_OBJ, .sub = &time_offsets_obj },
	{ "devices", F_ARRAY, ARR(L, devices, n_devices), .sub = &device_obj },
	{ "netDevices", F_IGNORE, .off = 0 },
	{ "cgroupsPath", F_STR, M(L, cgroups_path) },
	{ "resources", F_OBJ, M(L, resources), SET(L, resources_set), .sub = &spec_resources_obj },
	{ "intelRdt", F_FN, .fn = reject_intel_rdt },
	{ "sysctl", F_MAP, ARR(L, sysctl, n_sysctl), .check = check_sysctl_key },
	{ "seccomp", F_OBJ, M(L, seccomp), SET(L, seccomp.set), .sub = &spec_seccomp_obj },
	{ "rootfsPropagation", F_STR, M(L, rootfs_propagation), .names = spec_propagation_names,
	  .what = "rootfs propagation" },
	{ "maskedPaths", F_STRV, M(L, masked_paths), .check = spec_check_abs_path },
	{ "readonlyPaths", F_STRV, M(L, readonly_paths), .check = spec_check_abs_path },
	{ "mountLabel", F_STR, M(L, mount_label) },
	{ "personality", F_OBJ, M(L, personality), SET(L, personality.set),
	  .sub = &personality_obj },
	{ "memoryPolicy", F_IGNORE, .off = 0 },
	FIELD_END,
};
const struct spec_obj spec_linux_obj = { linux_fields, sizeof(L), NULL };
