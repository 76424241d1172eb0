/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * linux.sysctl (runtime-spec config-linux.md "Sysctl"): write each value
 * under /proc/sys of the container.  Runs in the container's mount
 * namespace after its /proc is mounted, so namespaced keys (net.*, kernel.
 * shm*, ...) reach the container's namespaces, never the host's.
 */
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "../sys/syscalls.h"

/* O_NOFOLLOW covers the last component, RESOLVE_NO_SYMLINKS the others;
 * the statfs check refuses a rootfs whose /proc is not procfs. */
static int sysctl_open(const char *path, struct cell_error *err)
{
	struct open_how how = {
	    .flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int fd = cell_sys_openat2(AT_FDCWD, path, &how);
	struct statfs sfs;

	if (fd < 0)
		return cell_err(err, errno, "open %s", path);
	if (fstatfs(fd, &sfs) < 0)
		return cell_err(err, errno, "statfs %s", path);
	if (sfs.f_type != PROC_SUPER_MAGIC)
		return cell_err(err, EXDEV, "%s is not on procfs", path);
	return TAKE_FD(fd);
}

static int sysctl_write_path(const char *path, const char *value, struct cell_error *err)
{
	_cleanup_close_ int fd = sysctl_open(path, err);
	int r;

	if (fd < 0)
		return fd;
	r = cell_write_all(fd, value, strlen(value));
	if (r < 0)
		return cell_err(err, r, "write \"%s\" to %s", value, path);
	return 0;
}

static int sysctl_write(const struct cell_kv *kv, struct cell_error *err)
{
	char path[CELL_SYSCTL_PATH_MAX];

	if (cell_sysctl_path(kv->key, path, sizeof(path)) < 0)
		return cell_errx(err, EINVAL, "invalid key");
	return sysctl_write_path(path, kv->value, err);
}

int cell_sysctl_apply(const struct cell_kv *kv, size_t n, struct cell_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (sysctl_write(&kv[i], err) < 0)
			return cell_err_prefix(err, "linux.sysctl \"%s\"", kv[i].key);
	return 0;
}

int cell_sysctl_run(const struct cell_plan *p, struct cell_error *err)
{
	for (size_t i = 0; i < p->n_sysctls; i++)
		if (sysctl_write_path(p->sysctls[i].path, p->sysctls[i].value, err) < 0)
			return cell_err_prefix(err, "linux.sysctl \"%s\"", p->sysctls[i].key);
	return 0;
}
