/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rootfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "syscalls.h"

int cell_root_open(const char *rootfs)
{
	int fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* fd's file is regular: else -EINVAL */
static int need_regular(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	return S_ISREG(st.st_mode) ? 0 : -EINVAL;
}

int cell_root_read_file(int rootfd, const char *path, char **text, size_t *len)
{
	/* O_NONBLOCK: a fifo the container put there cannot stall the open */
	_cleanup_close_ int fd =
	    cell_open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	int r;

	if (fd < 0)
		return -errno;
	if ((r = need_regular(fd)) < 0)
		return r;
	return cell_read_fd(fd, text, len);
}

int cell_root_rewrite_file(int rootfd, const char *path, const char *text)
{
	_cleanup_close_ int fd =
	    cell_open_in_root(rootfd, path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0);
	int r;

	if (fd < 0)
		return -errno;
	if ((r = need_regular(fd)) < 0)
		return r;
	if (ftruncate(fd, 0) < 0)
		return -errno;
	return cell_write_all(fd, text, strlen(text));
}

int cell_root_write_file(int rootfd, const char *path, mode_t mode, const char *text)
{
	_cleanup_close_ int fd = cell_open_in_root(
	    rootfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, mode);
	int r;

	if (fd < 0)
		return -errno;
	if ((r = need_regular(fd)) < 0)
		return r;
	if ((r = cell_write_all(fd, text, strlen(text))) < 0)
		return r;
	return fchmod(fd, mode) < 0 ? -errno : 0;
}
