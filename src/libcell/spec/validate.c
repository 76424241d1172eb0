/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rules that span sections of config.json.  Pure: they look at the parsed
 * spec only, never at the host.
 */
#include "parse-internal.h"

#include <string.h>

#include "../base/cleanup.h"
#include "../base/util.h"

/* config-linux.md: mappings describe the container's user namespace. */
static int check_user_mappings(struct pctx *c, const struct jp *lx, const struct cell_linux *l)
{
	static const char why[] = "requires a user namespace (no \"user\" in linux.namespaces)";

	if (l->ns[CELL_NS_USER].enabled)
		return 0;
	if (l->n_uid_mappings)
		return jp_fail(c, JP_KEY(lx, "uidMappings"), "%s", why);
	if (l->n_gid_mappings)
		return jp_fail(c, JP_KEY(lx, "gidMappings"), "%s", why);
	return 0;
}

/* config.md hostname/domainname: set in the container's UTS namespace. */
static int check_uts_names(struct pctx *c, const struct cell_spec *s)
{
	static const char why[] = "requires a UTS namespace (no \"uts\" in linux.namespaces)";

	if (s->linux.ns[CELL_NS_UTS].enabled)
		return 0;
	if (s->hostname && *s->hostname)
		return jp_fail(c, JP_KEY(NULL, "hostname"), "%s", why);
	if (s->domainname && *s->domainname)
		return jp_fail(c, JP_KEY(NULL, "domainname"), "%s", why);
	return 0;
}

/* Without a mount namespace the container shares the runtime's: whatever would
 * need a mount there is refused (runc refuses masked and read-only paths, and
 * mounts the rest in the host's namespace). */
static int check_no_mount_ns(struct pctx *c, const struct jp *lx, const struct cell_spec *s)
{
	static const char why[] = "requires a mount namespace (no \"mount\" in linux.namespaces)";
	const struct cell_linux *l = &s->linux;

	if (l->ns[CELL_NS_MNT].enabled)
		return 0;
	if (s->n_mounts)
		return jp_fail(c, JP_KEY(NULL, "mounts"), "%s", why);
	if (l->masked_paths && l->masked_paths[0])
		return jp_fail(c, JP_KEY(lx, "maskedPaths"), "%s", why);
	if (l->readonly_paths && l->readonly_paths[0])
		return jp_fail(c, JP_KEY(lx, "readonlyPaths"), "%s", why);
	if (l->n_devices)
		return jp_fail(c, JP_KEY(lx, "devices"), "%s", why);
	if (l->rootfs_propagation)
		return jp_fail(c, JP_KEY(lx, "rootfsPropagation"), "%s", why);
	if (s->root.readonly)
		return jp_fail(c, JP_KEY(JP_KEY(NULL, "root"), "readonly"), "%s", why);
	return 0;
}

/* time_namespaces(7): offsets can be written only before the first process
 * enters a new time namespace, so never for a joined one. */
static int check_time_offsets(struct pctx *c, const struct jp *lx, const struct cell_linux *l)
{
	const struct jp *at = JP_KEY(lx, "timeOffsets");

	if (!l->time_monotonic.set && !l->time_boottime.set)
		return 0;
	if (!l->ns[CELL_NS_TIME].enabled)
		return jp_fail(c, at,
			       "requires a time namespace (no \"time\" in linux.namespaces)");
	if (l->ns[CELL_NS_TIME].path)
		return jp_fail(c, at, "cannot be set when joining an existing time namespace");
	return 0;
}

/* Sysctls the kernel keeps per namespace; anything else would change the
 * host, whatever the container's namespaces. */
static const struct {
	const char *name;
	bool prefix;
	enum cell_ns_type ns;
} sysctl_namespaces[] = {
	{ "kernel.msg", true, CELL_NS_IPC }, { "kernel.sem", true, CELL_NS_IPC },
	{ "kernel.shm", true, CELL_NS_IPC }, { "fs.mqueue.", true, CELL_NS_IPC },
	{ "net.", true, CELL_NS_NET }, { "kernel.hostname", false, CELL_NS_UTS },
	{ "kernel.domainname", false, CELL_NS_UTS },
};

/* The namespace of a sysctl, or -1.  "a/b/c" is the path form of "a.b.c". */
int cell_sysctl_namespace(const char *key)
{
	_cleanup_free_ char *dotted = xstrdup(key);

	if (strchr(key, '/'))
		for (char *p = dotted; *p; p++)
			if (*p == '/')
				*p = '.';
	for (size_t i = 0; i < ARRAY_SIZE(sysctl_namespaces); i++) {
		const char *name = sysctl_namespaces[i].name;
		bool prefix = sysctl_namespaces[i].prefix;
		if (prefix ? cell_startswith(dotted, name) : streq(dotted, name))
			return (int)sysctl_namespaces[i].ns;
	}
	return -1;
}

/* kernel.hostname always conflicts with the "hostname" field (runc refuses it
 * in a UTS namespace whether or not the field is set); kernel.domainname only
 * with a "domainname" field that is set. */
static const char *sysctl_conflict(const struct cell_spec *s, const char *key)
{
	if (streq(key, "kernel.hostname") || streq(key, "kernel/hostname"))
		return "hostname";
	if ((streq(key, "kernel.domainname") || streq(key, "kernel/domainname")) &&
	    s->domainname && *s->domainname)
		return "domainname";
	return NULL;
}

static int check_sysctl(struct pctx *c, const struct jp *lx, const struct cell_spec *s)
{
	const struct jp *at = JP_KEY(lx, "sysctl");
	const struct cell_linux *l = &s->linux;

	for (size_t i = 0; i < l->n_sysctl; i++) {
		const char *key = l->sysctl[i].key, *field;
		int ns = cell_sysctl_namespace(key);
		if (ns < 0)
			return jp_fail(c, JP_KEY(at, key),
				       "not namespaced, refusing to set a host-wide sysctl");
		if (!l->ns[ns].enabled)
			return jp_fail(c, JP_KEY(at, key),
				       "requires a new %s namespace (no \"%s\" in linux.namespaces)",
				       cell_ns_type_name((enum cell_ns_type)ns),
				       cell_ns_type_name((enum cell_ns_type)ns));
		if ((field = sysctl_conflict(s, key)))
			return jp_fail(c, JP_KEY(at, key),
				       "conflicts with the \"%s\" field; set that instead", field);
	}
	return 0;
}

int spec_validate(struct pctx *c, const struct cell_spec *s)
{
	const struct jp *lx = JP_KEY(NULL, "linux");
	int r;

	if ((r = check_user_mappings(c, lx, &s->linux)) < 0 || (r = check_uts_names(c, s)) < 0 ||
	    (r = check_time_offsets(c, lx, &s->linux)) < 0 || (r = check_no_mount_ns(c, lx, s)) < 0)
		return r;
	return check_sysctl(c, lx, s);
}
