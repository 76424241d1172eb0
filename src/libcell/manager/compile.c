/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Settings → config.json.  The starting point is cellrun's own default
 * spec (the hardened defaults: reduced capabilities, masked paths, device
 * allow-list); a system container then gets what an init needs (LXC's
 * choices): a fuller capability set, a writable cgroup tree in its own
 * cgroup namespace, tmpfs on /run and /tmp, container=cell in the env.
 */
#include "manager.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "../net/net.h"
#include "../spec/spec.h"

/* What a system container may not have (LXC's privileged default drops these). */
static const char *const system_cap_drop[] = { "CAP_SYS_MODULE", "CAP_SYS_TIME", "CAP_MAC_ADMIN",
					       "CAP_MAC_OVERRIDE", "CAP_SYS_RAWIO", NULL };

/* Syscalls a system container never needs (LXC's default deny list). */
static const char *const system_deny[] = { "kexec_load", "kexec_file_load", "open_by_handle_at",
					   "init_module", "finit_module", "delete_module",
					   "swapon", "swapoff", "acct", NULL };

static json_t *caps_all_but(const char *const *drop, uint64_t bounding)
{
	json_t *a = json_array();
	for (int c = 0; c <= cell_cap_last(); c++) {
		const char *n = cell_cap_name(c);
		/* nothing the runtime itself cannot hand on (a sandbox may lack some) */
		bool dropped = c >= 64 || !(bounding & (UINT64_C(1) << c));
		for (size_t i = 0; n && drop[i]; i++)
			dropped |= streq(drop[i], n);
		if (n && !dropped)
			json_array_append_new(a, json_string(n));
	}
	return a;
}

static void system_process(json_t *proc, uint64_t bounding)
{
	json_t *caps = json_object();
	const char *sets[] = { "bounding", "effective", "permitted" };

	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		json_object_set_new(caps, sets[i], caps_all_but(system_cap_drop, bounding));
	json_object_set_new(proc, "capabilities", caps);
	/* su/sudo inside a system container need set-id programs to work */
	json_object_set_new(proc, "noNewPrivileges", json_false());
}

static json_t *system_seccomp(void)
{
	json_t *names = json_array();
	for (size_t i = 0; system_deny[i]; i++)
		json_array_append_new(names, json_string(system_deny[i]));
	return json_pack("{s:s, s:[{s:o, s:s, s:i}]}", "defaultAction", "SCMP_ACT_ALLOW", "syscalls",
			 "names", names, "action", "SCMP_ACT_ERRNO", "errnoRet", 1);
}

static json_t *mount_entry(const char *dst, const char *type, const char *src, const char *opts)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type, "source", src);
	json_t *a = json_array();
	_cleanup_free_ char *copy = xstrdup(opts);
	for (char *p = copy, *c; p; p = c) {
		c = strchr(p, ',');
		if (c)
			*c++ = '\0';
		json_array_append_new(a, json_string(p));
	}
	json_object_set_new(o, "options", a);
	return o;
}

static void system_mounts(json_t *mounts)
{
	size_t i;
	json_t *m;

	json_array_foreach(mounts, i, m)
	{
		const char *type = json_string_value(json_object_get(m, "type"));
		/* the init manages its own cgroup subtree (in its cgroup namespace) */
		if (type && streq(type, "cgroup"))
			json_object_set_new(m, "options",
					    json_pack("[s,s,s,s]", "nosuid", "noexec", "nodev", "rw"));
	}
	json_array_append_new(mounts, mount_entry("/run", "tmpfs", "tmpfs",
						  "nosuid,nodev,mode=755,size=64m"));
	json_array_append_new(mounts, mount_entry("/run/lock", "tmpfs", "tmpfs",
						  "nosuid,nodev,noexec,size=5m"));
	json_array_append_new(mounts, mount_entry("/tmp", "tmpfs", "tmpfs",
						  "nosuid,nodev,mode=1777,size=256m"));
}

static void add_binds(json_t *mounts, const struct cell_settings *s)
{
	for (size_t i = 0; i < s->n_binds; i++)
		json_array_append_new(mounts, mount_entry(s->binds[i].destination, "bind",
							  s->binds[i].source,
							  s->binds[i].readonly ? "rbind,ro" : "rbind,rw"));
}

static json_t *process_args(const struct cell_settings *s)
{
	if (s->command && s->command[0]) {
		json_t *a = json_array();
		for (size_t i = 0; s->command[i]; i++)
			json_array_append_new(a, json_string(s->command[i]));
		return a;
	}
	return json_pack("[s]", s->init ? s->init : "/sbin/init");
}

static void set_env(json_t *proc, const struct cell_settings *s)
{
	json_t *env = json_object_get(proc, "env");
	if (s->system)
		json_array_append_new(env, json_string("container=cell"));
	for (size_t i = 0; s->env && s->env[i]; i++)
		json_array_append_new(env, json_string(s->env[i]));
}

static int set_user(json_t *proc, const char *user, struct cell_error *err)
{
	long long uid, gid = 0;
	_cleanup_free_ char *copy = xstrdup(user);
	char *colon = strchr(copy, ':');

	if (colon)
		*colon++ = '\0';
	if (cell_parse_long(copy, &uid) < 0 || uid < 0 ||
	    (colon && (cell_parse_long(colon, &gid) < 0 || gid < 0)))
		return cell_err(err, EINVAL, "user \"%s\": want numeric UID[:GID]", user);
	json_object_set_new(proc, "user", json_pack("{s:I, s:I}", "uid", (json_int_t)uid, "gid",
						    (json_int_t)gid));
	return 0;
}

/* --net: no namespace of its own (host), one to join (netns=, container=: the
 * manager found the path), else a new one */
static void set_netns(json_t *keep, json_t *n, const struct cell_settings *s,
		      const struct cell_compile_host *host)
{
	enum cell_net_kind kind = CELL_NET_NONE;
	const char *arg = NULL;
	struct cell_error ignored = { 0 };

	if (s->net)
		(void)cell_net_mode_parse(s->net, &kind, &arg, &ignored);
	if (kind == CELL_NET_HOST)
		return;
	/* container=, and a rootless pasta's namespace made first (net/pasta.h) */
	if (kind == CELL_NET_NETNS || host->netns_path) {
		json_array_append_new(keep, json_pack("{s:s, s:s}", "type", "network", "path",
						      kind == CELL_NET_NETNS ? arg : host->netns_path));
		return;
	}
	json_array_append(keep, n);
}

static void set_namespaces(json_t *linux_, const struct cell_settings *s,
			   const struct cell_compile_host *host)
{
	json_t *ns = json_object_get(linux_, "namespaces"), *keep = json_array();
	size_t i;
	json_t *n;

	/* the rootless default (runc's) keeps the host's network: cell's has one */
	if (host->rootless_map) {
		json_t *net = json_pack("{s:s}", "type", "network");
		set_netns(keep, net, s, host);
		json_decref(net);
	}
	json_array_foreach(ns, i, n)
	{
		const char *t = json_string_value(json_object_get(n, "type"));
		if (t && streq(t, "network"))
			set_netns(keep, n, s, host);
		else if (!t || !streq(t, "user") || !host->userns_path)
			json_array_append(keep, n);
	}
	if (host->rootless_map && host->userns_path) {
		/* the one-id user namespace that owns the joined network namespace */
		json_array_append_new(keep, json_pack("{s:s, s:s}", "type", "user", "path",
						      host->userns_path));
		json_object_del(linux_, "uidMappings");
		json_object_del(linux_, "gidMappings");
	} else if (s->unprivileged && host->userns_path) {
		/* joined with the network namespace it owns: its maps are its own */
		json_array_append_new(keep, json_pack("{s:s, s:s}", "type", "user", "path",
						      host->userns_path));
	} else if (s->unprivileged) {
		json_array_append_new(keep, json_pack("{s:s}", "type", "user"));
		json_t *map = json_pack("[{s:i, s:I, s:I}]", "containerID", 0, "hostID",
					(json_int_t)s->idmap_host, "size", (json_int_t)s->idmap_size);
		json_object_set(linux_, "uidMappings", map);
		json_object_set_new(linux_, "gidMappings", map);
	}
	json_object_set_new(linux_, "namespaces", keep);
}

static void set_resources(json_t *linux_, const struct cell_settings *s)
{
	json_t *res = json_object_get(linux_, "resources");

	if (!res) {
		res = json_object();
		json_object_set_new(linux_, "resources", res);
	}
	if (s->memory > 0)
		json_object_set_new(res, "memory", json_pack("{s:I}", "limit", (json_int_t)s->memory));
	if (s->cpus > 0)
		json_object_set_new(res, "cpu", json_pack("{s:I, s:I}", "quota",
							  (json_int_t)(s->cpus * 100000), "period",
							  (json_int_t)100000));
	if (s->pids > 0)
		json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t)s->pids));
}

static int compile_into(json_t *c, const struct cell_settings *s,
			const struct cell_compile_host *host, const char *rootfs,
			struct cell_error *err)
{
	json_t *proc = json_object_get(c, "process"), *linux_ = json_object_get(c, "linux");
	json_t *mounts = json_object_get(c, "mounts");
	int r;

	json_object_set_new(c, "root", json_pack("{s:s, s:b}", "path", rootfs, "readonly", 0));
	json_object_set_new(c, "hostname", json_string(s->hostname ? s->hostname : s->name));
	json_object_set_new(proc, "args", process_args(s));
	json_object_set_new(proc, "terminal", json_boolean(s->system || s->terminal));
	json_object_set_new(proc, "cwd", json_string(s->cwd ? s->cwd : "/"));
	set_env(proc, s);
	if (s->user && (r = set_user(proc, s->user, err)) < 0)
		return r;
	if (s->system) {
		system_process(proc, host->cap_bounding);
		system_mounts(mounts);
		json_object_set_new(linux_, "seccomp", system_seccomp());
	}
	add_binds(mounts, s);
	set_namespaces(linux_, s, host);
	set_resources(linux_, s);
	/* one parent for all of cell's cgroups; tests give their own */
	const char *parent = host->cgroup_parent;
	_cleanup_free_ char *cg = xasprintf("/%s/%s", parent && *parent ? parent : "cell", s->name);
	json_object_set_new(linux_, "cgroupsPath", json_string(cg));
	json_object_set_new(c, "annotations", json_pack("{s:s}", "org.cell.name", s->name));
	return 0;
}

char *cell_settings_compile(const struct cell_settings *s, const struct cell_compile_host *host,
			    const char *rootfs, struct cell_error *err)
{
	_cleanup_free_ char *base = cell_spec_default_json(host->rootless_map, true);
	json_t *c = json_loads(base, 0, NULL);
	char *text = NULL;

	if (!c) {
		cell_err(err, EINVAL, "the default spec does not parse");
		return NULL;
	}
	if (compile_into(c, s, host, rootfs, err) == 0)
		text = json_dumps(c, JSON_INDENT(2));
	json_decref(c);
	return text;
}
