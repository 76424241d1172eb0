/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a container leaves when its supervisor is gone (kill -9 of cell-monitor, of
 * `cell start`, a crash): a running init with nobody to reap it, a cgroup, a storage
 * mount, <run>/<name> and <run>/state/<name>.  The cgroup is the ground truth: it is
 * found from the config.json the runtime was given, not from state.json (which a kill
 * at the wrong moment leaves missing or half written), and every process in it is
 * killed (v1: freeze + SIGKILL, v2: cgroup.kill) before its directories are removed
 * in every hierarchy; then the storage is unmounted, its loop device is gone (it
 * autoclears, asynchronously: waited for), the runtime directories go, and the
 * network's host side (net/net.h) follows.
 */
#include "manager.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../cgroup/cgroup.h"
#include "../spec/spec.h"
#include "../storage/storage.h"
#include "supervisor-internal.h"

static void storage_releasep(struct cell_storage *s)
{
	cell_storage_release(s);
}

/* linux.cgroupsPath of the runtime's copy of config.json, else of the bundle's. */
static char *cgroups_path_of(const struct cell_store *st, const char *name)
{
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	char *paths[] = { xasprintf("%s/%s/config.json", st->rt.root, name),
			  xasprintf("%s/config.json", dir) };
	char *found = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		_cleanup_(cell_spec_freep) struct cell_spec *spec = NULL;
		struct cell_error ignored = { 0 };
		if (!found && access(paths[i], F_OK) == 0 &&
		    cell_spec_load(paths[i], &spec, &ignored) == 0 && spec->linux.cgroups_path)
			found = xstrdup(spec->linux.cgroups_path);
		free(paths[i]);
	}
	return found;
}

/* The container's cgroup (it may not exist); -ENOENT when no config names one. */
static int container_cgroup(const struct cell_store *st, const char *name,
			    struct cell_cgroup **out, struct cell_error *err)
{
	_cleanup_free_ char *path = cgroups_path_of(st, name);
	struct cell_cgroup_opts o = {
		.fs_root = "/sys/fs/cgroup",
		.self_cgroup_file = "/proc/self/cgroup",
		.rootless = st->rt.rootless,
		.id = name,
	};

	if (!path)
		return -ENOENT;
	return cell_cgroup_open(&o, path, out, err);
}

size_t cell_manager_cgroup_procs(const struct cell_store *st, const char *name)
{
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	struct cell_error ignored = { 0 };
	size_t n = 0;

	if (container_cgroup(st, name, &cg, &ignored) < 0 ||
	    cell_cgroup_pids(cg, &pids, &n, &ignored) < 0)
		return 0;
	return n;
}

/* Kill everything in the cgroup, then remove it in every hierarchy. */
static int kill_cgroup(struct cell_cgroup *cg, struct cell_error *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	struct cell_error ignored = { 0 };
	size_t n = 0;

	if (cell_cgroup_pids(cg, &pids, &n, &ignored) < 0)
		return 0; /* no such cgroup (any more) */
	if (n > 0 && cell_cgroup_kill(cg, SIGKILL, err) < 0)
		return cell_err_prefix(err, "kill the processes of cgroup %s", cell_cgroup_path(cg));
	return cell_cgroup_destroy(cg, err);
}

/* The backend a store directory was made with, from what it holds (cell.json is
 * gone or unreadable: a create or destroy killed half way). */
static const char *storage_guess(const char *dir)
{
	_cleanup_free_ char *img = xasprintf("%s/storage/disk.img", dir);
	_cleanup_free_ char *upper = xasprintf("%s/storage/upper", dir);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
	struct statfs sf;

	if (access(img, F_OK) == 0)
		return "image:16M"; /* the size only matters to create */
	if (access(upper, F_OK) == 0)
		return "overlay";
	if (statfs(rootfs, &sf) == 0 && sf.f_type == BTRFS_SUPER_MAGIC)
		return "btrfs";
	return CELL_STORAGE_DEFAULT;
}

char *cell_manager_storage_kind(const struct cell_store *st, const char *name)
{
	_cleanup_(cell_settings_freep) struct cell_settings *s = NULL;
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	struct cell_error ignored = { 0 };

	if (cell_settings_load(st, name, &s, &ignored) == 0)
		return xstrdup(cell_settings_storage(s));
	return xstrdup(storage_guess(dir));
}

static int unmount_storage(const struct cell_store *st, const char *name, struct cell_error *err)
{
	_cleanup_(storage_releasep) struct cell_storage sto = { 0 };
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	_cleanup_free_ char *kind = cell_manager_storage_kind(st, name);
	struct stat sb;
	int r;

	if (stat(dir, &sb) < 0)
		return 0;
	if ((r = cell_storage_init(&sto, kind, dir, err)) < 0)
		return r;
	return cell_storage_is_mounted(&sto) ? cell_storage_unmount(&sto, err) : 0;
}

/* Loop devices whose backing file lies under dir: their count; with clear, each is
 * asked to detach (LOOP_CLR_FD: at once when unused, else at its last close). */
static size_t loops_under(const char *dir, bool clear)
{
	_cleanup_closedir_ DIR *d = opendir("/sys/block");
	_cleanup_free_ char *prefix = xasprintf("%s/", dir);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d))) {
		_cleanup_free_ char *bf = xasprintf("/sys/block/%s/loop/backing_file", de->d_name);
		_cleanup_free_ char *dev = xasprintf("/dev/%s", de->d_name);
		_cleanup_free_ char *text = NULL;
		if (!cell_startswith(de->d_name, "loop") || cell_read_file(bf, &text, NULL) < 0 ||
		    !cell_startswith(text, prefix))
			continue;
		n++;
		_cleanup_close_ int fd = clear ? open(dev, O_RDONLY | O_CLOEXEC) : -1;
		if (fd >= 0)
			(void)ioctl(fd, LOOP_CLR_FD, 0);
	}
	return n;
}

/* The kernel detaches an autoclear loop device in a work item after its last close
 * (umount, or the death of a create that had attached it): wait for that.  A mount
 * namespace made elsewhere while the container ran (unshare -m, a service's private
 * mounts) holds a copy of the image's mount, which only its owner can let go: said,
 * and the device detaches when it does. */
static void detach_loops(const struct cell_store *st, const char *name)
{
	_cleanup_free_ char *dir = cell_store_dir(st, name);

	for (int i = 0; i < 60 && loops_under(dir, i % 20 == 0) > 0; i++)
		(void)usleep(50 * 1000);
	if (loops_under(dir, false) > 0)
		cell_warn("%s: a loop device on %s/storage/disk.img is still held (by a copy "
			  "of its mount in another mount namespace?); it detaches when that goes",
			  name, dir);
}

int cell_manager_cleanup(const struct cell_store *st, const char *name, struct cell_error *err)
{
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	_cleanup_free_ char *rundir = cell_store_rundir(st, name);
	_cleanup_free_ char *statedir = xasprintf("%s/%s", st->rt.root, name);
	struct cell_error ignored = { 0 };
	int r = container_cgroup(st, name, &cg, err);

	if (r < 0 && r != -ENOENT)
		return cell_err_prefix(err, "clean up %s", name);
	/* the init by pidfd and start time, the cgroup state.json names, its state dir */
	(void)cell_container_delete(&st->rt, name, true, &ignored);
	if (cg && kill_cgroup(cg, err) < 0)
		return cell_err_prefix(err, "clean up %s", name);
	if ((r = cell_rm_rf(statedir)) < 0)
		return cell_err(err, r, "clean up %s: remove %s", name, statedir);
	/* --net pasta's daemon, recorded in rundir: before rundir goes */
	if (cell_manager_pasta_stop(st, name, err) < 0)
		return cell_err_prefix(err, "clean up %s", name);
	if (unmount_storage(st, name, err) < 0)
		return cell_err_prefix(err, "clean up %s", name);
	detach_loops(st, name);
	if ((r = cell_rm_rf(rundir)) < 0)
		return cell_err(err, r, "clean up %s: remove %s", name, rundir);
	/* its veth, and a bridge, dnsmasq or table no other container needs */
	if (cell_manager_net_down(st, name, err) < 0)
		return cell_err_prefix(err, "clean up %s", name);
	return 0;
}
