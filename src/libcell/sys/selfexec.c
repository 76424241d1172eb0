/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sealed self (see selfexec.h).  Whether we already run from the copy is read
 * from the kernel, not from the environment: an fd of /proc/self/exe is the
 * executing file, and F_GET_SEALS answers only for a memfd (EINVAL otherwise).
 * Seals cannot be removed, so a sealed memfd stays sealed for its lifetime.
 *
 * Only the part of the binary that execve(2) and ld.so read is copied: the
 * ELF and program headers and every segment's file bytes.  Section headers
 * and debug sections past them stay behind (three quarters of a -g
 * build); gdb and symbolizers take them from the file on disk.
 *
 * Cheaper where we may mount (root): no copy at all, but the same file seen
 * through a detached overlayfs whose layers are the binary's directory and an
 * empty one.  With no upper layer an overlay cannot be written, also not after
 * a remount; it is attached to no mount namespace and goes away with the last
 * process executing from it.  A copy of a static cellrun is 1.3 MB per start
 * (about 0.7 ms here); the overlay about 0.1 ms.
 */
#include "selfexec.h"
#include "privilege.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

/* valgrind cannot execve a memfd (ENOENT): under it the runtime stays as it is */
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#else
#define UNDER_VALGRIND() 0
#endif

/* Linux 6.3: an executable memfd must say so when vm.memfd_noexec is 1 */
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* <link.h> gives the native width in bits, e_ident the class number */
#define ELFCLASS_NATIVE (__ELF_NATIVE_CLASS == 64 ? ELFCLASS64 : ELFCLASS32)

extern char **environ;

bool cell_selfexec_fd_sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	return seals >= 0 && (seals & CELL_SELFEXEC_SEALS) == CELL_SELFEXEC_SEALS;
}

/* Kernels before 6.3 refuse the unknown MFD_EXEC flag with EINVAL. */
static int memfd_exec(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd;
}

/* End of the last byte any program header covers; size when fd is not a
 * native ELF file we can read, so that such a file is copied whole. */
static off_t elf_exec_extent(int fd, off_t size)
{
	ElfW(Ehdr) eh;
	ElfW(Phdr) ph[128];
	size_t len;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS_NATIVE ||
	    eh.e_phentsize != sizeof(ph[0]) || eh.e_phnum == 0 || eh.e_phnum > ARRAY_SIZE(ph))
		return size;
	len = eh.e_phnum * sizeof(ph[0]);
	if (pread(fd, ph, len, (off_t)eh.e_phoff) != (ssize_t)len)
		return size;
	uint64_t end = eh.e_phoff + len;
	for (size_t i = 0; i < eh.e_phnum; i++) {
		uint64_t last = ph[i].p_offset + ph[i].p_filesz;
		if (last < ph[i].p_offset)
			return size; /* nonsense: copy it all */
		if (last > end)
			end = last;
	}
	return end <= (uint64_t)size ? (off_t)end : size;
}

/* sendfile(2) from offset 0 to EOF: a regular file into a shmem one. */
static int copy_all(int src, int dst, off_t size)
{
	off_t off = 0;

	while (off < size) {
		ssize_t n = sendfile(dst, src, &off, (size_t)(size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file shrank under us */
	}
	return 0;
}

int cell_selfexec_sealed_copy(int src, int *out, struct cell_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (fstat(src, &st) < 0)
		return cell_err(err, errno, "stat the runtime binary");
	if (!S_ISREG(st.st_mode))
		return cell_err(err, EINVAL, "the runtime binary is not a regular file");
	fd = memfd_exec("cellrun-sealed");
	if (fd < 0)
		return cell_err(err, errno, "memfd for a sealed copy of the runtime");
	if ((r = copy_all(src, fd, elf_exec_extent(src, st.st_size))) < 0)
		return cell_err(err, -r, "copy the runtime binary into a memfd");
	if (fcntl(fd, F_ADD_SEALS, CELL_SELFEXEC_SEALS) < 0)
		return cell_err(err, errno, "seal the runtime's memfd copy");
	*out = TAKE_FD(fd);
	return 0;
}

bool cell_selfexec_fd_readonly_overlay(int fd)
{
	struct statfs fs;
	struct statvfs vfs;

	return fstatfs(fd, &fs) == 0 && (unsigned long)fs.f_type == OVERLAYFS_SUPER_MAGIC &&
	       fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

/* The lower layer under the binary's directory: empty, root's, on tmpfs. */
#define EMPTY_LAYER CELL_RUN_CACHE "/empty"

int cell_selfexec_overlay(const char *path, int *out)
{
	const char *slash = strrchr(path, '/');
	_cleanup_close_ int fs = -1, mnt = -1;
	char lower[PATH_MAX + sizeof(EMPTY_LAYER) + 2];

	/* ':' ',' '\\' would need escaping in the layer list: the copy will do */
	if (path[0] != '/' || !slash || slash[1] == '\0' || strpbrk(path, ":,\\"))
		return -EINVAL;
	if (snprintf(lower, sizeof(lower), "%.*s:%s", slash == path ? 1 : (int)(slash - path), path,
		     EMPTY_LAYER) >= (int)sizeof(lower))
		return -ENAMETOOLONG;
	fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	/* the empty layer is made once, the first time it is missing */
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 &&
	    (errno != ENOENT || (mkdir(CELL_RUN_CACHE, 0700) < 0 && errno != EEXIST) ||
	     (mkdir(EMPTY_LAYER, 0555) < 0 && errno != EEXIST) ||
	     syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0))
		return -errno;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
	if (mnt < 0)
		return -errno;
	int fd = openat(mnt, slash + 1, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	*out = fd;
	return 0;
}

int cell_selfexec_sealed(int argc, char **argv, struct cell_error *err)
{
	_cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int copy = -1;
	char path[PATH_MAX];
	int r;

	if (self < 0)
		return cell_err(err, errno, "open /proc/self/exe to seal the runtime");
	if (cell_selfexec_fd_sealed(self) || cell_selfexec_fd_readonly_overlay(self))
		return 0;
	if (UNDER_VALGRIND()) {
		cell_debug("under valgrind: not re-executing from a sealed copy");
		return 0;
	}
	if (argc < 1 || argv[argc] != NULL)
		return cell_err(err, EINVAL, "re-exec the sealed runtime: bad argv");
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n > 0 && cell_really_root()) {
		path[n] = '\0';
		if ((r = cell_selfexec_overlay(path, &copy)) == 0) {
			cell_debug("re-executing through a read-only overlay of %s", path);
			(void)fexecve(copy, argv, environ);
			cell_debug("exec through the overlay: %s", strerror(errno));
			(void)close(TAKE_FD(copy));
		} else {
			cell_debug("read-only overlay of %s: %s; copying it", path, strerror(-r));
		}
	}
	if ((r = cell_selfexec_sealed_copy(self, &copy, err)) < 0)
		return r;
	cell_debug("re-executing from a sealed memfd copy of the runtime binary");
	/* the copy is close-on-exec: it is gone once the new image runs */
	(void)fexecve(copy, argv, environ);
	return cell_err(err, errno, "re-exec the runtime from its sealed copy");
}
