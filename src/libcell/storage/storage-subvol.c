/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * btrfs subvolumes by ioctl (linux/btrfs.h): what the btrfs backend, the remover
 * (storage-fs.c) and template directories (storage.c) share.  -errno, no message:
 * the caller knows which path it was.
 */
#include <errno.h>
#include <linux/btrfs.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "storage-internal.h"

bool storage_fd_on_btrfs(int fd)
{
	struct statfs sf;

	return fstatfs(fd, &sf) == 0 && sf.f_type == BTRFS_SUPER_MAGIC;
}

bool storage_btrfs_is_subvolume(int fd)
{
	struct stat s;

	return fstat(fd, &s) == 0 && S_ISDIR(s.st_mode) &&
	       s.st_ino == STORAGE_BTRFS_SUBVOL_ROOT_INO && storage_fd_on_btrfs(fd);
}

static int set_name(char *dst, size_t len, const char *name)
{
	if (strlen(name) >= len || strchr(name, '/'))
		return -EINVAL;
	memcpy(dst, name, strlen(name) + 1);
	return 0;
}

int storage_btrfs_subvolume_create(int parentfd, const char *name)
{
	struct btrfs_ioctl_vol_args a = {0};

	if (set_name(a.name, sizeof(a.name), name) < 0)
		return -EINVAL;
	return ioctl(parentfd, BTRFS_IOC_SUBVOL_CREATE, &a) < 0 ? -errno : 0;
}

int storage_btrfs_snapshot(int srcfd, int parentfd, const char *name, bool readonly)
{
	struct btrfs_ioctl_vol_args_v2 a = {.fd = srcfd};

	if (readonly)
		a.flags = BTRFS_SUBVOL_RDONLY;
	if (set_name(a.name, sizeof(a.name), name) < 0)
		return -EINVAL;
	return ioctl(parentfd, BTRFS_IOC_SNAP_CREATE_V2, &a) < 0 ? -errno : 0;
}

int storage_btrfs_subvolume_destroy(int parentfd, const char *name)
{
	struct btrfs_ioctl_vol_args a = {0};

	if (set_name(a.name, sizeof(a.name), name) < 0)
		return -EINVAL;
	return ioctl(parentfd, BTRFS_IOC_SNAP_DESTROY, &a) < 0 ? -errno : 0;
}
