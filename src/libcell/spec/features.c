/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The features document (runtime-spec features.md, features-linux.md).
 * Lists come from the parser's own name tables, so what we advertise is
 * exactly what config.json may say.
 */
#include "parse-internal.h"

#include <ctype.h>
#include <seccomp.h>
#include <string.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "libcell/spec/commit.h"
#include "libcell/spec/version.h"

/* Mount options the mount code understands (besides filesystem data). */
static const char *const mount_options[] = {
	"async", "atime", "bind", "dev", "diratime", "dirsync", "exec", "idmap", "mand", "noatime",
	"nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime", "nosuid",
	"nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime", "remount",
	"rexec", "ridmap", "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime", "rnosuid",
	"rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave",
	"rstrictatime", "rsuid", "runbindable", "rw", "shared", "slave", "strictatime", "suid",
	"sync", "tmpcopyup", "unbindable", NULL,
};

/* Minimum seccomp_api_get() level for each flag (libseccomp probes the
 * kernel): 2 TSYNC, 3 LOG, 4 SPEC_ALLOW (SSB), 7 WAIT_KILLABLE_RECV. */
static const struct {
	const char *flag;
	unsigned api;
} flag_api[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", 2 },
	{ "SECCOMP_FILTER_FLAG_LOG", 3 },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4 },
	{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 7 },
};

static json_t *names_json(const struct cell_name_value *t)
{
	json_t *a = json_array();

	for (; t->name; t++)
		json_array_append_new(a, json_string(t->name));
	return a;
}

static json_t *hooks_json(void)
{
	json_t *a = json_array();

	for (int k = 0; k < CELL_HOOK_KIND_COUNT; k++)
		json_array_append_new(a, json_string(cell_hook_kind_name((enum cell_hook_kind)k)));
	return a;
}

static json_t *caps_json(void)
{
	json_t *a = json_array();

	for (int cap = 0; cap <= cell_cap_last(); cap++)
		json_array_append_new(a, json_string(cell_cap_name(cap)));
	return a;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
static bool libseccomp_knows_arch(const char *name)
{
	const char *suffix = name + strlen("SCMP_ARCH_");
	char lower[32];
	size_t i;

	if (strlen(suffix) >= sizeof(lower))
		return false;
	for (i = 0; suffix[i]; i++)
		lower[i] = (char)tolower((unsigned char)suffix[i]);
	lower[i] = '\0';
	return seccomp_arch_resolve_name(lower) != 0;
}

static json_t *seccomp_json(void)
{
	json_t *archs = json_array(), *supported = json_array();
	unsigned api = seccomp_api_get();

	for (const struct cell_name_value *a = spec_seccomp_arch_names; a->name; a++)
		if (libseccomp_knows_arch(a->name))
			json_array_append_new(archs, json_string(a->name));
	for (size_t i = 0; i < ARRAY_SIZE(flag_api); i++)
		if (api >= flag_api[i].api)
			json_array_append_new(supported, json_string(flag_api[i].flag));
	return json_pack("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", 1, "actions",
			 names_json(spec_seccomp_action_names), "operators",
			 names_json(spec_seccomp_op_names), "archs", archs, "knownFlags",
			 names_json(spec_seccomp_flag_names), "supportedFlags", supported);
}

/* Whether the LSM is active on this host (comma-separated in securityfs).
 * features.md would rather have build-time support here; we report the
 * host because a profile for an inactive LSM cannot be applied. */
static int lsm_active(const char *name)
{
	_cleanup_free_ char *list = NULL;
	size_t len = strlen(name);

	if (cell_read_file("/sys/kernel/security/lsm", &list, NULL) < 0)
		return 0;
	for (const char *p = list; *p; p += strcspn(p, ",\n")) {
		p += strspn(p, ",\n");
		if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\n' || !p[len]))
			return 1;
	}
	return 0;
}

static json_t *linux_json(void)
{
	return json_pack("{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b}, s:o, s:{s:b}, s:{s:b},"
			 " s:{s:b}, s:{s:{s:b}}}",
			 "namespaces", names_json(spec_ns_names), "capabilities", caps_json(),
			 "cgroup", "v1", 1, "v2", 1, "systemd", 1, "systemdUser", 1, "rdma", 0,
			 "seccomp", seccomp_json(), "apparmor", "enabled", lsm_active("apparmor"),
			 "selinux", "enabled", lsm_active("selinux"), "intelRdt", "enabled", 0,
			 "mountExtensions", "idmap", "enabled", 1);
}

char *cell_features_json(void)
{
	const struct scmp_version *v = seccomp_version();
	_cleanup_free_ char *libseccomp =
		xasprintf("%u.%u.%u", v->major, v->minor, v->micro);

	return spec_json_dump(json_pack(
		"{s:s, s:s, s:o, s:o, s:o, s:{s:s, s:s}}", "ociVersionMin", "1.0.0",
		"ociVersionMax", CELL_OCI_VERSION_MAX, "hooks", hooks_json(), "mountOptions",
		spec_json_strv(mount_options), "linux", linux_json(), "annotations",
		"io.github.cell.version", CELL_VERSION, "io.github.seccomp.libseccomp.version",
		libseccomp));
}

/* runc's --version shape (clients read the first line and "spec: "). */
char *cell_version_text(const char *prog)
{
	const struct scmp_version *v = seccomp_version();

	return xasprintf("%s version %s\ncommit: %s\nspec: %s\nlibseccomp: %u.%u.%u\n", prog,
			 CELL_VERSION, CELL_COMMIT, CELL_OCI_VERSION_MAX, v->major, v->minor,
			 v->micro);
}
