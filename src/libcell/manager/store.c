/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The store: where containers live, the lock that serialises commands, and who
 * may enter a container's directory. */
#include "manager.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "../spec/spec.h"
#include "../sys/privilege.h"

bool cell_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-' || name[0] == '_')
		return false;
	for (const char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && !strchr("_.-", *p))
			return false;
	return true;
}

static char *path_or(const char *path, const char *fallback)
{
	return xstrdup(path ? path : fallback);
}

/* The capabilities this process can hand on (a sandbox may lack some). */
static uint64_t cap_bounding_set(void)
{
	uint64_t set = 0;

	for (int c = 0; c <= cell_cap_last() && c < 64; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			set |= UINT64_C(1) << c;
	return set;
}

/* A lease's container exists while its store directory does (net/registry.h). */
static bool container_alive(const char *store, const char *name, void *arg)
{
	_cleanup_free_ char *dir = xasprintf("%s/containers/%s", store, name);

	(void)arg;
	return access(dir, F_OK) == 0 || errno != ENOENT;
}

int cell_store_open(struct cell_store *st, const struct cell_store_paths *p,
		    struct cell_error *err)
{
	int r;

	memset(st, 0, sizeof(*st));
	st->root = path_or(p->root, "/var/lib/cell");
	st->run = path_or(p->run, "/run/cell");
	st->cache = p->cache ? xstrdup(p->cache) : xasprintf("%s/cache", st->root);
	st->cgroup_parent = path_or(p->cgroup_parent, "cell");
	st->binary = p->binary ? xstrdup(p->binary) : NULL;
	st->subuid = path_or(p->subuid, "/etc/subuid");
	st->subgid = path_or(p->subgid, "/etc/subgid");
	st->idmap_registry = path_or(p->idmap_registry, "/var/lib/cell-idmap/ranges.json");
	st->host = (struct cell_compile_host){ .cgroup_parent = st->cgroup_parent,
					       .cap_bounding = cap_bounding_set() };
	_cleanup_free_ char *containers = xasprintf("%s/containers", st->root);
	_cleanup_free_ char *state = xasprintf("%s/state", st->run);
	if ((r = cell_mkdir_p(containers, 0711)) < 0)
		return cell_err(err, r, "create the store %s", containers);
	if ((r = cell_mkdir_p(state, 0711)) < 0)
		return cell_err(err, r, "create %s", state);
	st->rt.root = TAKE_PTR(state);
	st->rt.rootless = !cell_really_root();
	st->host.rootless_map = st->rt.rootless && geteuid() != 0;
	st->root_real = realpath(st->root, NULL);
	if (!st->root_real)
		return cell_err(err, errno, "resolve the store's path %s", st->root);
	st->net_state = path_or(p->net_state, "/var/lib/cell-net");
	st->net_run = path_or(p->net_run, "/run/cell-net");
	st->net = (struct cell_net_paths){ .state_dir = st->net_state, .run_dir = st->net_run,
					   .alive = container_alive };
	return 0;
}

void cell_store_close(struct cell_store *st)
{
	char *strs[] = { st->root,   st->run,	 st->cache,	     st->cgroup_parent,
			 st->binary, st->subuid, st->subgid, st->idmap_registry,
			 st->root_real, st->net_state, st->net_run };

	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		free(strs[i]);
	free((char *)st->rt.root);
	memset(st, 0, sizeof(*st));
}

char *cell_store_dir(const struct cell_store *st, const char *name)
{
	return xasprintf("%s/containers/%s", st->root, name);
}

char *cell_store_rundir(const struct cell_store *st, const char *name)
{
	return xasprintf("%s/%s", st->run, name);
}

char *cell_store_lockpath(const struct cell_store *st, const char *name)
{
	return xasprintf("%s/containers/%s.lock", st->root, name);
}

int cell_store_exists(const struct cell_store *st, const char *name, struct cell_error *err)
{
	_cleanup_free_ char *dir = cell_store_dir(st, name);

	if (access(dir, F_OK) < 0)
		return cell_errx(err, ENOENT, "no container named \"%s\" (see cell ls)", name);
	return 0;
}

int cell_store_lock(const struct cell_store *st, const char *name, struct cell_error *err)
{
	int r;

	if (cell_name_valid(name) && (r = cell_store_exists(st, name, err)) < 0)
		return r;
	return cell_store_lock_new(st, name, err);
}

int cell_store_lock_new(const struct cell_store *st, const char *name, struct cell_error *err)
{
	_cleanup_free_ char *path = cell_store_lockpath(st, name);
	_cleanup_close_ int fd = -1;

	if (!cell_name_valid(name))
		return cell_err(err, EINVAL,
				"invalid name \"%s\": 1-64 of [A-Za-z0-9_.-], starting with a letter or digit",
				name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return cell_err(err, errno, "open lock %s", path);
	if (flock(fd, LOCK_EX) < 0)
		return cell_err(err, errno, "lock %s", path);
	return TAKE_FD(fd);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cell_store_list(const struct cell_store *st, char ***names, struct cell_error *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/containers", st->root);
	_cleanup_closedir_ DIR *d = opendir(dir);
	char **v = xcalloc(1, sizeof(char *));
	struct dirent *de;

	*names = v;
	if (!d)
		return errno == ENOENT ? 0 : cell_err(err, errno, "open %s", dir);
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !cell_name_valid(de->d_name))
			continue;
		_cleanup_free_ char *meta = xasprintf("%s/%s/cell.json", dir, de->d_name);
		if (access(meta, F_OK) == 0)
			cell_strv_push(names, xstrdup(de->d_name));
	}
	qsort(*names, cell_strv_len(*names), sizeof(char *), cmp_str);
	return 0;
}

/*
 * Host users must not reach a container's files: through the idmapped mount
 * what container root creates is host root's on disk, so a set-uid file in
 * the root would be a way up for anyone who can walk there (in a privileged
 * container too).  The directory is closed to others, as LXD does: host
 * root's for a privileged container, the container root's host id for an
 * unprivileged one (its init resolves the rootfs path as that id).
 */
int cell_manager_protect_dir(const char *dir, const struct cell_settings *s,
			     struct cell_error *err)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	uid_t owner = s->unprivileged ? s->idmap_host : 0;

	if (fd < 0)
		return cell_err(err, errno, "open %s", dir);
	if (geteuid() == 0 && fchown(fd, owner, owner) < 0)
		return cell_err(err, errno, "give %s to host uid %u", dir, (unsigned)owner);
	if (fchmod(fd, 0700) < 0)
		return cell_err(err, errno, "chmod 0700 %s", dir);
	return 0;
}
