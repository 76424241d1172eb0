/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The config.json `cellrun spec` writes.  Same shape as `runc spec`, but
 * with the default capability set of Docker and containerd rather than
 * runc's three, so that a shell in the bundle behaves as people expect,
 * and with the default seccomp profile (default-seccomp.c) for that set.
 */
#include "parse-internal.h"
#include "default-seccomp.h"

#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"

static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"TERM=xterm",
	NULL,
};

static const char *const default_caps[] = {
	"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID",
	"CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT", NULL,
};

struct default_mount {
	const char *destination, *type, *source;
	const char *options[7];
};

static const struct default_mount default_mounts[] = {
	{ "/proc", "proc", "proc", { NULL } },
	{ "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k" } },
	{ "/dev/pts",
	  "devpts",
	  "devpts",
	  { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" } },
	{ "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" } },
	{ "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev" } },
	{ "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro" } },
	{ "/sys/fs/cgroup", "cgroup", "cgroup", { "nosuid", "noexec", "nodev", "relatime", "ro" } },
};

/* Without its own network namespace an unprivileged user may not mount
 * sysfs, so a rootless container gets the host's, read-only. */
static const struct default_mount rootless_sys = {
	"/sys", "none", "/sys", { "rbind", "nosuid", "noexec", "nodev", "ro" }
};

static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
	"/sys/devices/virtual/powercap", NULL,
};

static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

/* "cgroup" only when asked: runc's example spec has it on a unified host alone,
 * and a v1 or hybrid host's tests add it themselves. */
static const char *const default_namespaces[] = {
	"pid", "network", "ipc", "uts", "mount", "cgroup",
};

json_t *spec_json_strv(const char *const *v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *process_json(void)
{
	json_t *caps = spec_json_strv(default_caps);

	return json_pack("{s:b, s:{s:i, s:i}, s:[s], s:o, s:s, s:{s:O, s:O, s:o},"
			 " s:[{s:s, s:i, s:i}], s:b}",
			 "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
			 spec_json_strv(default_env), "cwd", "/", "capabilities", "bounding", caps,
			 "effective", caps, "permitted", caps, "rlimits", "type", "RLIMIT_NOFILE",
			 "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
}

/* runc's rootless conversion drops uid=/gid= options: ids 5 and friends are
 * not mapped in a single-id user namespace. */
static json_t *mount_json(const struct default_mount *m, bool rootless)
{
	json_t *opts = json_array();
	json_t *o = json_pack("{s:s, s:s, s:s}", "destination", m->destination, "type", m->type,
			      "source", m->source);

	for (size_t i = 0; i < ARRAY_SIZE(m->options) && m->options[i]; i++)
		if (!rootless || (!cell_startswith(m->options[i], "gid=") &&
				  !cell_startswith(m->options[i], "uid=")))
			json_array_append_new(opts, json_string(m->options[i]));
	if (json_array_size(opts) > 0)
		json_object_set_new(o, "options", opts);
	else
		json_decref(opts);
	return o;
}

static json_t *mounts_json(bool rootless)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ARRAY_SIZE(default_mounts); i++) {
		const struct default_mount *m = &default_mounts[i];
		/* a rootless runtime cannot create or delegate cgroups */
		if (rootless && streq(m->destination, "/sys/fs/cgroup"))
			continue;
		if (rootless && streq(m->destination, "/sys"))
			m = &rootless_sys;
		json_array_append_new(a, mount_json(m, rootless));
	}
	return a;
}

static json_t *id_mapping_json(unsigned long host_id)
{
	return json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)host_id,
			 "size", 1);
}

static uint64_t caps_mask(const char *const *names)
{
	uint64_t m = 0;

	for (; *names; names++) {
		int cap = cell_cap_from_name(*names);
		if (cap >= 0)
			m |= UINT64_C(1) << cap;
	}
	return m;
}

static json_t *linux_json(bool rootless, bool cgroupns)
{
	json_t *l = json_object(), *ns = json_array();

	for (size_t i = 0; i < ARRAY_SIZE(default_namespaces); i++) {
		const char *type = default_namespaces[i];
		if (rootless && streq(type, "network"))
			continue;
		if (cgroupns || !streq(type, "cgroup"))
			json_array_append_new(ns, json_pack("{s:s}", "type", type));
	}
	if (rootless) {
		json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
		json_object_set_new(l, "uidMappings", id_mapping_json(getuid()));
		json_object_set_new(l, "gidMappings", id_mapping_json(getgid()));
	} else {
		json_object_set_new(l, "resources", json_pack("{s:[{s:b, s:s}]}", "devices",
							      "allow", 0, "access", "rwm"));
	}
	json_object_set_new(l, "namespaces", ns);
	json_object_set_new(l, "seccomp", cell_default_seccomp_json(caps_mask(default_caps)));
	json_object_set_new(l, "maskedPaths", spec_json_strv(masked_paths));
	json_object_set_new(l, "readonlyPaths", spec_json_strv(readonly_paths));
	return l;
}

char *cell_spec_default_json(bool rootless, bool cgroupns)
{
	return spec_json_dump(json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion",
					CELL_OCI_VERSION, "process", process_json(), "root", "path",
					"rootfs", "readonly", 1, "hostname", "cellrun", "mounts",
					mounts_json(rootless), "linux", linux_json(rootless, cgroupns)));
}

char *spec_json_dump(json_t *root)
{
	static const char oom[] = "cell: out of memory\n";
	char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	char *out;

	json_decref(root);
	if (!text) {
		/* jansson fails only on allocation: same policy as xmalloc() */
		(void)!write(STDERR_FILENO, oom, sizeof(oom) - 1);
		abort();
	}
	out = xasprintf("%s\n", text);
	free(text);
	return out;
}
