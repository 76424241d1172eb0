/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mounting storage: overlayfs, and a filesystem image through a loop device.
 * Mounts are made with the new mount API (fsopen/fsconfig/fsmount, then
 * move_mount onto an O_PATH fd of the target), so a failure can quote the
 * kernel's own message from the filesystem context.
 *
 * Loop devices are configured with LO_FLAGS_AUTOCLEAR: the kernel detaches
 * the device when its last opener goes away, i.e. when the mount is
 * unmounted, or as soon as our fd is closed if the mount never happened.  No
 * code path has to remember to detach, and a crash leaks nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "storage-internal.h"
#include "../base/cleanup.h"
#include "../sys/fsctx.h"
#include "../base/util.h"

/* Attempts when another process takes the free loop device first. */
#define LOOP_TRIES 64

static int fs_configure(int fs, const char *const opts[])
{
	for (size_t i = 0; opts[i]; i += 2)
		if (fsconfig(fs, FSCONFIG_SET_STRING, opts[i], opts[i + 1], 0) < 0)
			return -errno;
	return fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ? -errno : 0;
}

/* A fresh `type` filesystem with string options opts (key, value, ..., NULL) on target. */
static int mount_fs(const char *type, const char *const opts[], const char *target,
		    struct cell_error *err)
{
	_cleanup_close_ int fs = fsopen(type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return cell_err(err, errno, "mount %s on %s: fsopen", type, target);
	int r = fs_configure(fs, opts);
	if (r < 0)
		return cell_fs_fail(fs, r, type, target, err);
	_cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0)
		return cell_fs_fail(fs, errno, type, target, err);
	_cleanup_close_ int tfd = open(target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0)
		return cell_err(err, errno, "mount %s on %s: open the mount point", type, target);
	if (move_mount(mnt, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return cell_err(err, errno, "mount %s on %s", type, target);
	return 0;
}

int storage_overlay_path_ok(const char *path, struct cell_error *err)
{
	if (path[0] != '/')
		return cell_err(err, EINVAL, "overlay: %s is not an absolute path", path);
	if (strpbrk(path, ",:\\\n"))
		return cell_err(err, EINVAL,
				"overlay: %s has ',' ':' '\\' or a newline, which overlayfs "
				"options cannot carry",
				path);
	return 0;
}

/* "lowerdir+" (Linux 6.8) takes one layer with no escaping; older kernels
 * only know "lowerdir", which the paths checked above also fit. */
int storage_mount_overlay(const char *lower, const char *upper, const char *work,
			  const char *target, struct cell_error *err)
{
	/* key, value, ..., NULL */
	const char *opts[] = {
	    "source", "cell", "lowerdir+", lower, "upperdir", upper, "workdir", work, NULL,
	};
	const char *paths[] = {lower, upper, work};

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		int r = storage_overlay_path_ok(paths[i], err);
		if (r < 0)
			return r;
	}
	int r = mount_fs("overlay", opts, target, err);
	if (r != -EINVAL)
		return r;
	opts[2] = "lowerdir";
	return mount_fs("overlay", opts, target, err);
}

/* ---- loop devices ---- */

static int loop_configure(int lfd, int backing, const char *image)
{
	struct loop_config cfg = {.fd = (unsigned int)backing};

	cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
	(void)snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", image);
	return ioctl(lfd, LOOP_CONFIGURE, &cfg) < 0 ? -errno : 0;
}

/* A free loop device bound to backing; its fd, its path in dev. */
static int loop_attach(int backing, const char *image, char *dev, size_t len,
		       struct cell_error *err)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return cell_err(err, errno, "attach %s to a loop device: open /dev/loop-control",
				image);
	for (int i = 0; i < LOOP_TRIES; i++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return cell_err(err, errno, "attach %s to a loop device: get a free one",
					image);
		(void)snprintf(dev, len, "/dev/loop%d", n);
		_cleanup_close_ int lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0)
			return cell_err(err, errno, "attach %s to a loop device: open %s", image,
					dev);
		int r = loop_configure(lfd, backing, image);
		if (r == 0)
			return TAKE_FD(lfd);
		if (r != -EBUSY) /* EBUSY: someone else took it meanwhile */
			return cell_err(err, r, "attach %s to %s", image, dev);
	}
	return cell_err(err, EBUSY, "attach %s to a loop device: none stayed free", image);
}

int storage_loop_mount(const char *image, const char *fstype, const char *target,
		       struct cell_error *err)
{
	char dev[64];
	_cleanup_close_ int backing = open(image, O_RDWR | O_NOFOLLOW | O_CLOEXEC);

	if (backing < 0)
		return cell_err(err, errno, "open %s", image);
	/* closing lfd on return detaches the device unless the mount holds it */
	_cleanup_close_ int lfd = loop_attach(backing, image, dev, sizeof(dev), err);
	if (lfd < 0)
		return lfd;
	const char *opts[] = {"source", dev, NULL};
	int r = mount_fs(fstype, opts, target, err);
	return r < 0 ? cell_err_prefix(err, "%s on %s", image, dev) : 0;
}

int storage_umount(const char *target, struct cell_error *err)
{
	/* stacked mounts come off one at a time; a bound keeps a bug from looping */
	for (int i = 0; i < 16 && storage_is_mount_point_at(AT_FDCWD, target); i++)
		if (umount2(target, UMOUNT_NOFOLLOW) < 0)
			return cell_err(err, errno, "unmount %s", target);
	return 0;
}
