/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The container's root, in three phases (see rootfs.h):
 *
 * prepare   1. "/" rslave (rshared or rprivate when linux.rootfsPropagation
 *              asks so), so that nothing we mount travels back to the host;
 *           2. the rootfs's parent mount private when it is shared (a bind
 *              below it would propagate, and pivot_root(2) refuses it);
 *           3. the rootfs bound on itself (pivot_root needs a mount point);
 *           4. every spec mount, in order; then /dev.
 * pivot     pivot_root(".", ".") and detach the old root (or MS_MOVE + chroot).
 * finalize  the read-only /dev and tmpfs mounts (made read-write so far),
 *           readonlyPaths, maskedPaths, root.readonly, rootfsPropagation.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "../sys/syscalls.h"
#include "rootfs-internal.h"

/* Undo mountinfo's octal escapes ("\040" for a space) in place. */
static void unescape_octal(char *s)
{
	char *o = s;

	for (; *s; s++) {
		unsigned int c;
		if (s[0] == '\\' && sscanf(s + 1, "%3o", &c) == 1 && c < 256) {
			*o++ = (char)c;
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Mount point of mount `id` and whether it is shared (proc_pid_mountinfo(5)). */
static int find_mount(uint64_t id, char point[static 4096], bool *shared)
{
	_cleanup_free_ char *text = NULL;
	size_t size;
	int r = cell_read_file("/proc/self/mountinfo", &text, &size);

	for (char *line = r < 0 ? NULL : text, *next; line && *line; line = next) {
		unsigned long long mid;
		int off = 0;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, "%llu %*u %*s %*s %4095s%n", &mid, point, &off) != 2 || mid != id)
			continue;
		char *fields_end = strstr(line + off, " - ");
		if (fields_end)
			*fields_end = '\0';
		*shared = strstr(line + off, " shared:") != NULL;
		unescape_octal(point);
		return 0;
	}
	return r < 0 ? r : -ENOENT;
}

static int parent_private(const char *rootfs, struct cell_error *err)
{
	char point[4096];
	struct statx st;
	bool shared;
	int r;

	if (statx(AT_FDCWD, rootfs, 0, STATX_MNT_ID, &st) < 0)
		return cell_err(err, errno, "stat %s", rootfs);
	if ((r = find_mount(st.stx_mnt_id, point, &shared)) < 0)
		return cell_err(err, r, "find the mount holding %s", rootfs);
	if (shared && mount(NULL, point, NULL, MS_PRIVATE, NULL) < 0)
		return cell_err(err, errno, "make %s private", point);
	return 0;
}

/* Steps 1-3. */
static int root_mount_point(const struct cell_rootfs_ctx *c, struct cell_error *err)
{
	const char *rootfs = c->plan->rootfs;
	int r;

	if (mount(NULL, "/", NULL, c->plan->setup_propagation, NULL) < 0)
		return cell_err(err, errno, "set the propagation of /");
	if ((r = parent_private(rootfs, err)) < 0)
		return r;
	if (c->tree_fd >= 0) {
		if (move_mount(c->tree_fd, "", AT_FDCWD, rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return cell_err(err, errno, "attach the idmapped rootfs on %s", rootfs);
		return 0;
	}
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return cell_err(err, errno, "bind %s on itself", rootfs);
	return 0;
}

static int mount_all(const struct cell_rootfs_ctx *c, struct cell_error *err)
{
	const struct cell_plan *p = c->plan;
	_cleanup_close_ int rootfd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (rootfd < 0)
		return cell_err(err, errno, "open %s", p->rootfs);
	for (size_t i = 0; i < p->n_mounts; i++)
		if ((r = cell_rootfs_mount_entry(c, rootfd, &p->mounts[i], err)) < 0)
			return r;
	return cell_rootfs_make_dev(p, rootfd, err);
}

int cell_rootfs_prepare(const struct cell_rootfs_ctx *c, struct cell_error *err)
{
	int r;

	if (c->plan->no_mount_ns)
		return 0; /* never a mount in the runtime's (the host's) namespace */
	if ((r = root_mount_point(c, err)) < 0)
		return r;
	return mount_all(c, err);
}

static int move_root(const char *rootfs, struct cell_error *err)
{
	if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
		return cell_err(err, errno, "move %s to /", rootfs);
	if (chroot(".") < 0)
		return cell_err(err, errno, "chroot %s", rootfs);
	return 0;
}

/* pivot_root(".", ".") stacks the old root on the new one; detaching it leaves the new.
 * The old root is reached by an fd from before: "." would name the new root for mount(2). */
static int pivot(const char *rootfs, struct cell_error *err)
{
	_cleanup_close_ int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (oldroot < 0)
		return cell_err(err, errno, "open the old root");
	/* pivot_root(2) refuses a shared current root; it is detached right after anyway */
	if (mount(NULL, "/", NULL, MS_PRIVATE, NULL) < 0)
		return cell_err(err, errno, "make the old root private");
	if (cell_sys_pivot_root(".", ".") < 0)
		return cell_err(err, errno, "pivot_root into %s", rootfs);
	/* slave first, so that detaching the old root unmounts nothing elsewhere */
	if ((r = cell_mnt_setattr(oldroot, true, 0, 0, MS_SLAVE)) < 0)
		return cell_err(err, r, "make the old root a slave");
	if (fchdir(oldroot) < 0 || umount2(".", MNT_DETACH) < 0)
		return cell_err(err, errno, "detach the old root");
	return 0;
}

int cell_rootfs_pivot(const struct cell_rootfs_ctx *c, struct cell_error *err)
{
	const char *rootfs = c->plan->rootfs;
	_cleanup_close_ int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	int r;

	if (newroot < 0)
		return cell_err(err, errno, "open %s", rootfs);
	if (fchdir(newroot) < 0)
		return cell_err(err, errno, "chdir %s", rootfs);
	switch (c->plan->root_switch) {
	case CELL_ROOT_CHROOT:
		r = chroot(".") < 0 ? cell_err(err, errno, "chroot %s", rootfs) : 0;
		break;
	case CELL_ROOT_MOVE:
		r = move_root(rootfs, err);
		break;
	default:
		r = pivot(rootfs, err);
	}
	if (r == 0 && chdir("/") < 0)
		r = cell_err(err, errno, "chdir / in the new root");
	return r;
}

/* ---- finalize: paths that must not be what they seem stay out of reach ---- */

static const struct {
	const char *dir;
	unsigned long magic;
} kernel_fs[] = {
    {"/proc", PROC_SUPER_MAGIC},  {"/proc", BINFMTFS_MAGIC},	 {"/sys", SYSFS_MAGIC},
    {"/sys", CGROUP_SUPER_MAGIC}, {"/sys", CGROUP2_SUPER_MAGIC}, {"/sys", SECURITYFS_MAGIC},
    {"/sys", DEBUGFS_MAGIC},	  {"/sys", TRACEFS_MAGIC},	 {"/sys", BPF_FS_MAGIC},
    {"/sys", PSTOREFS_MAGIC},	  {"/sys", EFIVARFS_MAGIC},
};

/* Under /proc and /sys the path must be on the kernel's own filesystems: a tmpfs or the
 * rootfs's files there would mean the mask covers something else than intended. */
static int check_kernel_fs(int fd, const char *path, const char *what, struct cell_error *err)
{
	const char *dir = cell_path_under(path, "/proc")  ? "/proc"
			  : cell_path_under(path, "/sys") ? "/sys"
							  : NULL;
	struct statfs sf;

	if (!dir)
		return 0;
	if (fstatfs(fd, &sf) < 0)
		return cell_err(err, errno, "%s %s: statfs", what, path);
	for (size_t i = 0; i < ARRAY_SIZE(kernel_fs); i++)
		if (streq(kernel_fs[i].dir, dir) && (unsigned long)sf.f_type == kernel_fs[i].magic)
			return 0;
	return cell_errx(err, EPERM, "%s %s: not on the kernel's %s (filesystem type %#lx)", what,
			 path, dir, (unsigned long)sf.f_type);
}

/* *fd of path inside rootfd for readonlyPaths/maskedPaths; -1 when it does not exist. */
static int open_listed(int rootfd, const char *path, const char *what, int *fd,
		       struct cell_error *err)
{
	_cleanup_close_ int f = cell_open_in_root(rootfd, path, O_PATH, 0);
	int r;

	*fd = -1;
	if (f < 0)
		return errno == ENOENT ? 0 : cell_err(err, errno, "%s %s", what, path);
	if ((r = check_kernel_fs(f, path, what, err)) < 0)
		return r;
	*fd = TAKE_FD(f);
	return 0;
}

static int readonly_path(int rootfd, const char *path, struct cell_error *err)
{
	_cleanup_close_ int fd = -1, mnt = -1;
	int r = open_listed(rootfd, path, "readonly path", &fd, err);

	if (r < 0 || fd < 0)
		return r;
	mnt = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (mnt < 0)
		return cell_err(err, errno, "readonly path %s: bind", path);
	if ((r = cell_mnt_setattr(mnt, true, MOUNT_ATTR_RDONLY, 0, 0)) < 0)
		return cell_err(err, r, "readonly path %s: make read-only", path);
	return cell_mnt_attach(mnt, rootfd, fd, path, err);
}

/* /dev/null to bind over masked files, checked to be the real one (char 1:3) so that a
 * link planted there cannot turn the mask into a bind of something else. */
static int open_dev_null(int rootfd, struct cell_error *err)
{
	_cleanup_close_ int fd = cell_open_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW, 0);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return cell_err(err, errno, "open /dev/null to mask files");
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		return cell_errx(err, EPERM, "/dev/null is not the null device: cannot mask files");
	return TAKE_FD(fd);
}

/* Directories get an empty read-only tmpfs, files /dev/null (runtime-spec
 * config-linux.md#masked-paths). */
static int mask_path(int rootfd, int *devnull, const char *path, struct cell_error *err)
{
	_cleanup_close_ int fd = -1, mnt = -1;
	struct cell_mount_plan ro = {.flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC};
	struct stat st;
	int r = open_listed(rootfd, path, "masked path", &fd, err);

	if (r < 0 || fd < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return cell_err(err, errno, "masked path %s: stat", path);
	if (S_ISDIR(st.st_mode)) {
		mnt = cell_mnt_fresh("tmpfs", "tmpfs", &ro, path, err);
	} else {
		if (*devnull < 0 && (*devnull = open_dev_null(rootfd, err)) < 0)
			return *devnull;
		mnt = open_tree(*devnull, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (mnt < 0)
			return cell_err(err, errno, "masked path %s: bind /dev/null", path);
	}
	return mnt < 0 ? mnt : cell_mnt_attach(mnt, rootfd, fd, path, err);
}

static int listed_paths(int rootfd, const struct cell_plan *p, struct cell_error *err)
{
	_cleanup_close_ int devnull = -1;
	int r;

	for (size_t i = 0; p->readonly_paths && p->readonly_paths[i]; i++)
		if ((r = readonly_path(rootfd, p->readonly_paths[i], err)) < 0)
			return r;
	for (size_t i = 0; p->masked_paths && p->masked_paths[i]; i++)
		if ((r = mask_path(rootfd, &devnull, p->masked_paths[i], err)) < 0)
			return r;
	return 0;
}

/* The topmost mount at each delayed destination (ro_later) turns read-only. */
static int delayed_readonly(int rootfd, const struct cell_plan *p, struct cell_error *err)
{
	for (size_t i = 0; i < p->n_mounts; i++) {
		const struct cell_mount_op *op = &p->mounts[i];
		_cleanup_close_ int fd = -1;
		int r;

		if (!op->ro_later)
			continue;
		fd = cell_open_in_root(rootfd, op->dest, O_PATH | O_NOFOLLOW | O_DIRECTORY, 0);
		if (fd < 0)
			return cell_err(err, errno, "mounts[%zu] (%s): open to make it read-only",
					op->index, op->dest);
		if ((r = cell_mnt_setattr(fd, false, MOUNT_ATTR_RDONLY, 0, 0)) < 0)
			return cell_err(err, r, "mounts[%zu] (%s): make it read-only", op->index,
					op->dest);
	}
	return 0;
}

int cell_rootfs_finalize(const struct cell_rootfs_ctx *c, struct cell_error *err)
{
	const struct cell_plan *p = c->plan;
	_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (rootfd < 0)
		return cell_err(err, errno, "open /");
	if (p->no_mount_ns)
		return 0; /* what finalize does needs a mount: refused by the validator */
	if ((r = delayed_readonly(rootfd, p, err)) < 0)
		return r;
	if ((r = listed_paths(rootfd, p, err)) < 0)
		return r;
	/* only the root mount: mounts below keep their own flags (runc does the same) */
	if (p->root_readonly && (r = cell_mnt_setattr(rootfd, false, MOUNT_ATTR_RDONLY, 0, 0)) < 0)
		return cell_err(err, r, "make / read-only");
	if (p->propagation && mount(NULL, "/", NULL, p->propagation, NULL) < 0)
		return cell_err(err, errno, "set the propagation of / to %s",
				p->spec->linux.rootfs_propagation);
	return 0;
}
