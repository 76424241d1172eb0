/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cgroup manager: detect the host's layout, resolve the container's path in each
 * hierarchy, and run the common loops (create, enter, destroy, mounts); limits, freezing
 * and killing go to the v1 or v2 backend through struct cgroup_ops.
 *
 * Fake trees (unit tests) are plain directories: a marker file decides the layout where
 * the real kernel would be recognised by statfs magic.
 */
#include "cgroup-internal.h"

#include <errno.h>
#include <linux/magic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

#define DEFAULT_FS_ROOT "/sys/fs/cgroup"
#define DEFAULT_SELF_CGROUP "/proc/self/cgroup"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- detection ---- */

static bool has_file(const char *dir, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);

	return access(p, F_OK) == 0;
}

/* What a directory is, by one statfs; a plain directory (a fake tree in unit tests) by
 * its marker files. */
enum root_kind { ROOT_NONE, ROOT_V1, ROOT_V2 };
static enum root_kind root_kind(const char *dir, bool *fake)
{
	struct statfs s;

	*fake = false;
	if (statfs(dir, &s) == 0) {
		if ((unsigned long)s.f_type == CGROUP2_SUPER_MAGIC)
			return ROOT_V2;
		if ((unsigned long)s.f_type == CGROUP_SUPER_MAGIC)
			return ROOT_V1;
	}
	*fake = true;
	if (has_file(dir, "cgroup.controllers"))
		return ROOT_V2;
	return has_file(dir, "cgroup.procs") ? ROOT_V1 : ROOT_NONE;
}

/* One pass over fs_root: the v1 hierarchies (sorted), the hybrid "unified" one, and the
 * symlinks next to them ("cpu" -> "cpu,cpuacct"). */
struct layout {
	enum cell_cgroup_mode mode;
	char **v1;	 /* names */
	bool *v1_fake;	 /* parallel to v1 */
	bool unified_fake;
	char **links;	 /* name, target basename, name, target basename, ... */
};

static void layout_free(struct layout *l)
{
	cell_strv_free(l->v1);
	free(l->v1_fake);
	cell_strv_free(l->links);
}

static int scan_layout(const char *fs_root, struct layout *l, struct cell_error *err)
{
	bool fake, unified = false;
	_cleanup_strv_free_ char **fakes = NULL; /* names of fake v1 dirs */

	memset(l, 0, sizeof(*l));
	if (root_kind(fs_root, &fake) == ROOT_V2) {
		l->mode = CELL_CGROUP_V2;
		l->unified_fake = fake;
		return 0;
	}
	_cleanup_closedir_ DIR *d = opendir(fs_root);
	struct dirent *de;
	if (!d)
		return cell_err(err, errno, "open %s", fs_root);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", fs_root, de->d_name);
		unsigned char type = de->d_type;
		struct stat st;
		if (type == DT_UNKNOWN && lstat(p, &st) == 0)
			type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
		if (type == DT_LNK) {
			char target[256];
			ssize_t n = readlink(p, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			const char *base = strrchr(target, '/');
			cell_strv_push(&l->links, xstrdup(de->d_name));
			cell_strv_push(&l->links, xstrdup(base ? base + 1 : target));
			continue;
		}
		if (type != DT_DIR)
			continue;
		enum root_kind k = root_kind(p, &fake);
		if (streq(de->d_name, "unified")) {
			if (k == ROOT_V2) {
				unified = true;
				l->unified_fake = fake;
			}
			continue;
		}
		if (k != ROOT_V1)
			continue;
		cell_strv_push(&l->v1, xstrdup(de->d_name));
		if (fake)
			cell_strv_push(&fakes, xstrdup(de->d_name));
	}
	if (!l->v1) {
		layout_free(l);
		return cell_err(err, ENOENT, "no cgroup hierarchy found under %s", fs_root);
	}
	size_t n = cell_strv_len(l->v1);
	qsort(l->v1, n, sizeof(char *), cmp_str);
	l->v1_fake = xcalloc(n, sizeof(bool));
	for (size_t i = 0; i < n; i++)
		l->v1_fake[i] = cell_strv_contains(fakes, l->v1[i]);
	l->mode = unified ? CELL_CGROUP_HYBRID : CELL_CGROUP_V1;
	return 0;
}

int cell_cgroup_detect(const char *fs_root, enum cell_cgroup_mode *mode, struct cell_error *err)
{
	struct layout l;
	int r = scan_layout(fs_root ? fs_root : DEFAULT_FS_ROOT, &l, err);

	if (r < 0)
		return r;
	*mode = l.mode;
	layout_free(&l);
	return 0;
}

/* ---- hierarchies ---- */

static char **controllers_of(const char *name)
{
	/* systemd's named hierarchy is mounted as "systemd" with -o none,name=systemd. */
	if (streq(name, "systemd"))
		return cg_split("name=systemd", '\0');
	return cg_split(name, ',');
}

static void add_hier(struct cell_cgroup *cg, const char *fs_root, const char *name, bool v2,
		     bool fake)
{
	struct cgroup_hier *h;

	cg->h = xrealloc(cg->h, (cg->n_h + 1) * sizeof(*cg->h));
	h = &cg->h[cg->n_h++];
	*h = (struct cgroup_hier){.v2 = v2, .rootless = cg->rootless, .fake = fake};
	h->name = xstrdup(name);
	h->root = *name ? xasprintf("%s/%s", fs_root, name) : xstrdup(fs_root);
	if (!v2)
		h->controllers = controllers_of(name);
}

static struct cgroup_hier *hier_by_name(struct cell_cgroup *cg, const char *name)
{
	for (size_t i = 0; i < cg->n_h; i++)
		if (streq(cg->h[i].name, name))
			return &cg->h[i];
	return NULL;
}

static int cgroup_new(const struct cell_cgroup_opts *o, struct cell_cgroup **out,
		      struct cell_error *err)
{
	_cleanup_free_ char *fs_root = xstrdup(o->fs_root ? o->fs_root : DEFAULT_FS_ROOT);
	struct cell_cgroup *cg;
	struct layout l;
	size_t len = strlen(fs_root);
	int r;

	while (len > 1 && fs_root[len - 1] == '/')
		fs_root[--len] = '\0';
	cg = xzalloc(sizeof(*cg));
	cg->rootless = o->rootless;
	*out = cg;
	if ((r = scan_layout(fs_root, &l, err)) < 0)
		return r;
	cg->mode = l.mode;
	cg->ops = cg->mode == CELL_CGROUP_V2 ? &cgroup_v2_ops : &cgroup_v1_ops;
	if (cg->mode == CELL_CGROUP_V2) {
		add_hier(cg, fs_root, "", true, l.unified_fake);
		layout_free(&l);
		return 0;
	}
	for (size_t i = 0; l.v1[i]; i++)
		add_hier(cg, fs_root, l.v1[i], false, l.v1_fake[i]);
	/* "cpu" -> "cpu,cpuacct" style symlinks, recreated inside containers */
	for (size_t i = 0; l.links && l.links[i] && l.links[i + 1]; i += 2) {
		struct cgroup_hier *h = hier_by_name(cg, l.links[i + 1]);
		if (h)
			cell_strv_push(&h->aliases, xstrdup(l.links[i]));
	}
	if (cg->mode == CELL_CGROUP_HYBRID)
		add_hier(cg, fs_root, "unified", true, l.unified_fake);
	layout_free(&l);
	return 0;
}

/* ---- path rules ---- */

int cgroup_path_normalize(const char *in, char **out, struct cell_error *err)
{
	_cleanup_strv_free_ char **parts = cg_split(in, '/');
	_cleanup_free_ char *res = xzalloc(strlen(in) + 2);
	size_t len = 0;

	for (size_t i = 0; parts[i]; i++) {
		if (!*parts[i] || streq(parts[i], "."))
			continue;
		if (streq(parts[i], ".."))
			return cell_err(err, EINVAL, "cgroup path \"%s\": \"..\" is not allowed",
					in);
		len += (size_t)snprintf(res + len, strlen(in) + 2 - len, "/%s", parts[i]);
	}
	if (!len)
		res[0] = '/';
	*out = TAKE_PTR(res);
	return 0;
}

static bool endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && streq(s + a - b, suffix);
}

static bool valid_slice(const char *slice)
{
	size_t len = strlen(slice);

	if (streq(slice, "-.slice"))
		return true;
	if (len <= 6 || !endswith(slice, ".slice") || strchr(slice, '/'))
		return false;
	return slice[0] != '-' && slice[len - 7] != '-' && !strstr(slice, "--");
}

/* "a-b.slice" -> "/a.slice/a-b.slice" (systemd.slice(5)); "-.slice" is the root. */
static int expand_slice(const char *slice, char **out, struct cell_error *err)
{
	_cleanup_free_ char *res = xstrdup("");

	if (!valid_slice(slice))
		return cell_err(err, EINVAL, "cgroup: invalid systemd slice \"%s\"", slice);
	if (streq(slice, "-.slice")) {
		*out = TAKE_PTR(res);
		return 0;
	}
	for (const char *dash = strchr(slice, '-'); dash; dash = strchr(dash + 1, '-')) {
		char *next = xasprintf("%s/%.*s.slice", res, (int)(dash - slice), slice);
		free(res);
		res = next;
	}
	*out = xasprintf("%s/%s", res, slice);
	return 0;
}

int cgroup_systemd_path(const char *spec, char **out, struct cell_error *err)
{
	_cleanup_strv_free_ char **p = cg_split(spec, ':');
	_cleanup_free_ char *dir = NULL;
	int r;

	if (cell_strv_len(p) != 3 || !*p[2] || strchr(p[1], '/') || strchr(p[2], '/'))
		return cell_err(err, EINVAL, "cgroup path \"%s\": expected \"slice:prefix:name\"",
				spec);
	r = expand_slice(*p[0] ? p[0] : "system.slice", &dir, err);
	if (r < 0)
		return r;
	if (endswith(p[2], ".slice"))
		*out = xasprintf("%s/%s", dir, p[2]);
	else if (*p[1])
		*out = xasprintf("%s/%s-%s.scope", dir, p[1], p[2]);
	else
		*out = xasprintf("%s/%s.scope", dir, p[2]);
	return 0;
}

static bool looks_systemd(const char *path)
{
	_cleanup_strv_free_ char **p = cg_split(path, ':');

	return path[0] != '/' && cell_strv_len(p) == 3;
}

static int default_path(const struct cell_cgroup_opts *o, char **out, bool *relative,
			struct cell_error *err)
{
	if (!o->id || !*o->id || strchr(o->id, '/'))
		return cell_err(err, EINVAL, "cgroup: no cgroupsPath and no usable container id");
	if (o->systemd) { /* runc's default slices: the user's manager has its own */
		_cleanup_free_ char *spec =
		    xasprintf("%s.slice:cellrun:%s", o->rootless ? "user" : "system", o->id);
		*relative = false;
		return cgroup_systemd_path(spec, out, err);
	}
	*relative = true;
	*out = xasprintf(CG_DEFAULT_PARENT "/%s", o->id);
	return 0;
}

int cell_cgroup_resolve_path(const struct cell_cgroup_opts *o, const char *cgroups_path, char **out,
			     bool *relative, struct cell_error *err)
{
	_cleanup_free_ char *norm = NULL;
	bool rel = cgroups_path && cgroups_path[0] != '/';
	int r;

	if (!cgroups_path || !*cgroups_path)
		return default_path(o, out, relative, err);
	if (o->systemd || looks_systemd(cgroups_path)) {
		*relative = false;
		return cgroup_systemd_path(cgroups_path, out, err);
	}
	r = cgroup_path_normalize(cgroups_path, &norm, err);
	if (r < 0)
		return r;
	if (streq(norm, "/"))
		return cell_err(err, EINVAL, "cgroup path \"%s\" is the hierarchy root",
				cgroups_path);
	if (rel && strchr(norm, ';'))
		return cell_err(err, EINVAL, "cgroup path \"%s\": ';' is not allowed",
				cgroups_path);
	*out = rel ? xstrdup(norm + 1) : TAKE_PTR(norm);
	*relative = rel;
	return 0;
}

/* A line of /proc/self/cgroup is "hierarchy-id:controller-list:path"; v2 is "0::path". */
static bool self_line_matches(const char *ctrls, size_t len, const struct cgroup_hier *h)
{
	_cleanup_free_ char *list = xstrndup(ctrls, len);
	_cleanup_strv_free_ char **v = cg_split(list, ',');

	if (h->v2)
		return len == 0;
	return len > 0 && cell_strv_contains(v, h->controllers[0]);
}

char *cgroup_self_base(const char *self_text, const struct cgroup_hier *h)
{
	for (const char *line = self_text; line && *line;) {
		const char *nl = strchrnul(line, '\n');
		const char *c1 = memchr(line, ':', (size_t)(nl - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1)) : NULL;
		if (c2 && self_line_matches(c1 + 1, (size_t)(c2 - c1 - 1), h))
			return xstrndup(c2 + 1, (size_t)(nl - c2 - 1));
		line = *nl ? nl + 1 : nl;
	}
	return xstrdup("/");
}

static int set_hier_path(struct cgroup_hier *h, const char *path, struct cell_error *err)
{
	_cleanup_free_ char *norm = NULL;
	int r = cgroup_path_normalize(path, &norm, err);

	if (r < 0)
		return r;
	if (streq(norm, "/"))
		return cell_err(err, EINVAL, "cgroup path %s is the root of %s", path, h->root);
	free(h->path);
	free(h->dir);
	h->dir = xasprintf("%s%s", h->root, norm);
	h->path = TAKE_PTR(norm);
	return 0;
}

static int place(struct cell_cgroup *cg, const struct cell_cgroup_opts *o, const char *path,
		 bool relative, struct cell_error *err)
{
	const char *file = o->self_cgroup_file ? o->self_cgroup_file : DEFAULT_SELF_CGROUP;
	_cleanup_free_ char *self = NULL;
	int r;

	if (relative && (r = cell_read_file(file, &self, NULL)) < 0)
		return cell_err(err, r, "read %s", file);
	for (size_t i = 0; i < cg->n_h; i++) {
		_cleanup_free_ char *base = relative ? cgroup_self_base(self, &cg->h[i]) : NULL;
		_cleanup_free_ char *full = relative ? xasprintf("%s/%s", base, path) : NULL;
		r = set_hier_path(&cg->h[i], relative ? full : path, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the persisted path ---- */

static char *saved_format(const struct cell_cgroup *cg)
{
	_cleanup_free_ char *res = xstrdup("");
	bool same = true;

	for (size_t i = 1; i < cg->n_h; i++)
		same = same && streq(cg->h[i].path, cg->h[0].path);
	if (same)
		return xstrdup(cg->h[0].path);
	for (size_t i = 0; i < cg->n_h; i++) {
		char *next =
		    xasprintf("%s%s%s:%s", res, i ? ";" : "", cg->h[i].name, cg->h[i].path);
		free(res);
		res = next;
	}
	return TAKE_PTR(res);
}

static int saved_entry_apply(struct cell_cgroup *cg, const char *entry, struct cell_error *err)
{
	const char *colon = strchr(entry, ':');
	_cleanup_free_ char *name = colon ? xstrndup(entry, (size_t)(colon - entry)) : NULL;
	struct cgroup_hier *h = name ? hier_by_name(cg, name) : NULL;

	if (!colon)
		return cell_err(err, EINVAL, "cgroup: bad saved path entry \"%s\"", entry);
	if (!h) {
		cell_debug("cgroup: hierarchy %s of the saved path is gone", name);
		return 0;
	}
	h->skipped = false;
	return set_hier_path(h, colon + 1, err);
}

static int saved_parse(struct cell_cgroup *cg, const char *saved, struct cell_error *err)
{
	_cleanup_strv_free_ char **entries = NULL;
	int r;

	if (saved[0] == '/') {
		for (size_t i = 0; i < cg->n_h; i++)
			if ((r = set_hier_path(&cg->h[i], saved, err)) < 0)
				return r;
		return 0;
	}
	for (size_t i = 0; i < cg->n_h; i++)
		cg->h[i].skipped = true;
	entries = cg_split(saved, ';');
	for (size_t i = 0; entries[i]; i++)
		if ((r = saved_entry_apply(cg, entries[i], err)) < 0)
			return r;
	return 0;
}

/* ---- lifecycle ---- */

int cell_cgroup_plan(const struct cell_cgroup_opts *o, const char *cgroups_path,
		     struct cell_cgroup **out, struct cell_error *err)
{
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	_cleanup_free_ char *path = NULL;
	bool relative = false;
	int r = cell_cgroup_resolve_path(o, cgroups_path, &path, &relative, err);

	if (r < 0)
		return r;
	r = cgroup_new(o, &cg, err);
	if (r < 0)
		return r;
	if (o->systemd && (r = cgroup_systemd_plan(cg, o, &path, err)) < 0)
		return r;
	r = place(cg, o, path, relative, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cg->n_h; i++)
		if ((r = cg_check_not_frozen(&cg->h[i], err)) < 0)
			return r;
	cg->saved = saved_format(cg);
	*out = TAKE_PTR(cg);
	return 0;
}

int cell_cgroup_make(struct cell_cgroup *cg, struct cell_error *err)
{
	int r;

	for (size_t i = 0; i < cg->n_h; i++)
		if ((r = cg_make(cg->ops, &cg->h[i], err)) < 0)
			return r;
	return 0;
}

int cell_cgroup_create(const struct cell_cgroup_opts *o, const char *cgroups_path,
		       struct cell_cgroup **out, struct cell_error *err)
{
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	int r = cell_cgroup_plan(o, cgroups_path, &cg, err);

	if (r < 0 || (r = cell_cgroup_make(cg, err)) < 0)
		return r;
	*out = TAKE_PTR(cg);
	return 0;
}

int cell_cgroup_open(const struct cell_cgroup_opts *o, const char *saved_path,
		     struct cell_cgroup **out, struct cell_error *err)
{
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	int r;

	if (!saved_path || !*saved_path)
		return cell_err(err, EINVAL, "cgroup: empty saved path");
	r = cgroup_new(o, &cg, err);
	if (r < 0)
		return r;
	r = saved_parse(cg, saved_path, err);
	if (r < 0)
		return r;
	cg->saved = xstrdup(saved_path);
	if (o->systemd && (r = cgroup_systemd_open(cg, o, err)) < 0)
		return r;
	*out = TAKE_PTR(cg);
	return 0;
}

const char *cell_cgroup_path(const struct cell_cgroup *cg)
{
	return cg->saved;
}

enum cell_cgroup_mode cell_cgroup_get_mode(const struct cell_cgroup *cg)
{
	return cg->mode;
}

int cell_cgroup_enter(struct cell_cgroup *cg, pid_t pid, struct cell_error *err)
{
	int r;

	for (size_t i = 0; i < cg->n_h; i++) {
		if (cg->h[i].skipped)
			continue;
		r = cg_writef(&cg->h[i], "cgroup.procs", err, "%d", (int)pid);
		if (r < 0)
			return r;
	}
	return 0;
}

int cell_cgroup_chown(struct cell_cgroup *cg, uid_t uid, gid_t gid, struct cell_error *err)
{
	/* cgroup-v2.rst "Delegation Containment"; v1 has no rule, these are LXC's */
	static const char *const v2_files[] = { "cgroup.procs", "cgroup.threads",
						"cgroup.subtree_control", NULL };
	static const char *const v1_files[] = { "tasks", "cgroup.procs", "cgroup.clone_children",
						NULL };

	for (size_t i = 0; i < cg->n_h; i++) {
		const struct cgroup_hier *h = &cg->h[i];
		if (h->skipped || h->fake)
			continue;
		if (chown(h->dir, uid, gid) < 0)
			return cell_err(err, errno, "delegate %s to %u:%u", h->dir, (unsigned)uid,
					(unsigned)gid);
		for (const char *const *f = h->v2 ? v2_files : v1_files; *f; f++) {
			_cleanup_free_ char *p = xasprintf("%s/%s", h->dir, *f);
			if (chown(p, uid, gid) < 0 && errno != ENOENT)
				return cell_err(err, errno, "delegate %s to %u:%u", p, (unsigned)uid,
						(unsigned)gid);
		}
	}
	return 0;
}

/* The fields where runc (libcontainer/cgroups/fs, fs2) reads 0 as "not set" and writes
 * nothing: Docker and containerd send 0 for every value the user did not give
 * ("blockIO":{"weight":0}, "cpu":{"quota":0,"period":0}).  Written, those zeros fail
 * (blkio.bfq.weight ERANGE, cpu.cfs_period_us EINVAL) or change something (cpu.shares
 * clamped to 2, pids.max 0).  Hugepage limits, burst, idle and swappiness keep 0. */
#define RES_OFF(f) offsetof(struct cell_resources, f)
static const struct {
	size_t off;
	bool is_signed;
} zero_is_unset[] = {
    {RES_OFF(memory.limit), true},	     {RES_OFF(memory.reservation), true},
    {RES_OFF(memory.swap), true},	     {RES_OFF(memory.kernel), true},
    {RES_OFF(memory.kernel_tcp), true},	     {RES_OFF(cpu.shares), false},
    {RES_OFF(cpu.quota), true},		     {RES_OFF(cpu.period), false},
    {RES_OFF(cpu.realtime_runtime), true},   {RES_OFF(cpu.realtime_period), false},
    {RES_OFF(pids.limit), true},	     {RES_OFF(block_io.weight), false},
    {RES_OFF(block_io.leaf_weight), false},  {RES_OFF(network.class_id), false},
};

void cgroup_resources_drop_zeros(struct cell_resources *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(zero_is_unset); i++) {
		void *p = (char *)r + zero_is_unset[i].off;
		struct cell_i64 *s = p;
		struct cell_u64 *u = p;
		if (zero_is_unset[i].is_signed ? s->v == 0 : u->v == 0)
			s->set = u->set = false;
	}
	if (r->cpu.cpus && !r->cpu.cpus[0])
		r->cpu.cpus = NULL;
	if (r->cpu.mems && !r->cpu.mems[0])
		r->cpu.mems = NULL;
}

int cell_cgroup_apply(struct cell_cgroup *cg, const struct cell_resources *r,
		      struct cell_error *err)
{
	static const struct cell_resources none;
	struct cell_resources set = r ? *r : none; /* shallow: only flags and pointers change */
	int ret;

	cgroup_resources_drop_zeros(&set);
	if (cg->sd && (ret = cgroup_systemd_apply(cg, &set, err)) < 0)
		return ret;
	return cg->ops->apply(cg, &set, err);
}

int cell_cgroup_freeze(struct cell_cgroup *cg, bool frozen, struct cell_error *err)
{
	return cg->ops->freeze(cg, frozen, err);
}

int cell_cgroup_is_frozen(struct cell_cgroup *cg, bool *frozen, struct cell_error *err)
{
	return cg->ops->is_frozen(cg, frozen, err);
}

int cell_cgroup_kill(struct cell_cgroup *cg, int sig, struct cell_error *err)
{
	return cg->ops->kill(cg, sig, err);
}

int cell_cgroup_pids(struct cell_cgroup *cg, pid_t **pids, size_t *n, struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_procs_hier(cg);

	if (!h)
		return cell_err(err, ENOENT, "cgroup %s: no hierarchy to list processes",
				cg->saved);
	return cg_collect_pids(h->dir, pids, n, err);
}

int cell_cgroup_destroy(struct cell_cgroup *cg, struct cell_error *err)
{
	int ret = cg->sd ? cgroup_systemd_stop(cg, err) : 0;

	for (size_t i = 0; i < cg->n_h; i++) {
		struct cell_error e = {0};
		if (cg->h[i].skipped || cg_remove(&cg->h[i], &e) == 0)
			continue;
		if (ret == 0) { /* report the first failure, still try the others */
			*err = e;
			ret = -e.code;
		}
	}
	return ret;
}

static void hier_free(struct cgroup_hier *h)
{
	free(h->name);
	cell_strv_free(h->controllers);
	cell_strv_free(h->aliases);
	free(h->root);
	free(h->path);
	free(h->dir);
}

void cell_cgroup_free(struct cell_cgroup *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->n_h; i++)
		hier_free(&cg->h[i]);
	free(cg->h);
	free(cg->saved);
	cgroup_systemd_free(cg->sd);
	free(cg);
}

/* ---- mounts for the container ---- */

static char *mount_options(const struct cgroup_hier *h)
{
	_cleanup_free_ char *res = xstrdup("");

	if (h->v2)
		return TAKE_PTR(res);
	for (size_t i = 0; h->controllers[i]; i++) {
		const char *c = h->controllers[i];
		/* a named hierarchy has no controller: mount(8) wants "none,name=x" */
		char *next = xasprintf("%s%s%s%s", res, i ? "," : "",
				       cell_startswith(c, "name=") ? "none," : "", c);
		free(res);
		res = next;
	}
	return TAKE_PTR(res);
}

/* Where the container's processes are in h: its own dir, or, for a hierarchy a
 * rootless runtime could not create in, the runtime's own cgroup (which the
 * container inherits, and which runc binds too); NULL to leave h out. */
static char *container_dir(const struct cgroup_hier *h, bool rootless, const char *self)
{
	_cleanup_free_ char *base = NULL;

	if (!h->skipped)
		return xstrdup(h->dir);
	if (!rootless || !self)
		return NULL;
	base = cgroup_self_base(self, h);
	return xasprintf("%s%s", h->root, streq(base, "/") ? "" : base);
}

int cell_cgroup_mounts(struct cell_cgroup *cg, struct cell_cgroup_mount **out, size_t *n,
		       struct cell_error *err)
{
	struct cell_cgroup_mount *m = xcalloc(cg->n_h, sizeof(*m));
	_cleanup_free_ char *self = NULL;
	size_t k = 0;

	int r = cg->rootless ? cell_read_file(DEFAULT_SELF_CGROUP, &self, NULL) : 0;

	if (r < 0) /* then the skipped hierarchies are left out of the mount */
		cell_debug("cgroup: read %s: %s", DEFAULT_SELF_CGROUP, strerror(-r));
	for (size_t i = 0; i < cg->n_h; i++) {
		const struct cgroup_hier *h = &cg->h[i];
		char *dir = container_dir(h, cg->rootless, self);
		if (!dir)
			continue;
		m[k].name = xstrdup(h->name);
		m[k].fstype = xstrdup(h->v2 ? "cgroup2" : "cgroup");
		m[k].options = mount_options(h);
		m[k].host_path = dir;
		m[k].aliases = h->aliases ? cell_strv_copy(h->aliases) : NULL;
		k++;
	}
	*out = m;
	*n = k;
	return 0;
}

void cell_cgroup_mounts_free(struct cell_cgroup_mount *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++) {
		free(m[i].name);
		free(m[i].fstype);
		free(m[i].options);
		free(m[i].host_path);
		cell_strv_free(m[i].aliases);
	}
	free(m);
}

int cell_cgroup_memory_current(struct cell_cgroup *cg, unsigned long long *bytes,
			       struct cell_error *err)
{
	struct cgroup_hier *h = cgroup_hier_for(cg, "memory");
	uint64_t v = 0;
	int r = h ? cg_read_u64(h, cg->ops->memory_usage_file, &v) : -ENODATA;

	if (r == -ENOENT)
		r = -ENODATA;
	if (r < 0)
		return cell_err(err, r, "cgroup %s: memory usage", cg->saved);
	*bytes = v;
	return 0;
}
