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

/* Every component between `sep` is non-empty and neither "." nor "..". */
static bool key_components_valid(const char *key, char sep)
{
	const char seps[] = {sep, '\0'};
	const char *c = key;

	for (;;) {
		size_t n = strcspn(c, seps);
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (c[n] == '\0')
			return true;
		c += n + 1;
	}
}

int cell_sysctl_path(const char *key, char *buf, size_t len)
{
	/* sysctl(8): with a '/' the key is a path and dots are literal
	 * ("net/ipv4/conf/eth0.100/forwarding"); otherwise dots separate. */
	char sep = strchr(key, '/') ? '/' : '.';
	size_t prefix = strlen("/proc/sys/");
	int n;

	if (!key_components_valid(key, sep))
		return -EINVAL;
	n = snprintf(buf, len, "/proc/sys/%s", key);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	for (char *c = buf + prefix; *c; c++)
		if (*c == sep)
			*c = '/';
	return 0;
}

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

static int sysctl_write(const struct cell_kv *kv, struct cell_error *err)
{
	char path[512];
	_cleanup_close_ int fd = -1;
	int r;

	if (cell_sysctl_path(kv->key, path, sizeof(path)) < 0)
		return cell_errx(err, EINVAL, "invalid key");
	fd = sysctl_open(path, err);
	if (fd < 0)
		return fd;
	r = cell_write_all(fd, kv->value, strlen(kv->value));
	if (r < 0)
		return cell_err(err, r, "write \"%s\" to %s", kv->value, path);
	return 0;
}

int cell_sysctl_apply(const struct cell_kv *kv, size_t n, struct cell_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (sysctl_write(&kv[i], err) < 0)
			return cell_err_prefix(err, "linux.sysctl \"%s\"", kv[i].key);
	return 0;
}
