/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The destination contract of image.h: dest_rootfs is new or an empty
 * directory, and a failure leaves nothing in it.  "lost+found" at the top
 * counts as empty and is kept, so a freshly made ext4 volume (image:SIZE
 * storage) mounted there qualifies.
 */
#include "image-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"
#include "../sys/rootfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEEP "lost+found"

/* Names at the top of the tree, lost+found aside unless `all`. */
static int top_names(int fd, bool all, char ***names)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		int r = -errno;
		if (dfd >= 0)
			(void)close(dfd);
		return r;
	}
	_cleanup_closedir_ DIR *dir = d;
	while ((de = readdir(dir))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (!all && streq(de->d_name, KEEP))
			continue;
		cell_strv_push(names, xstrdup(de->d_name));
	}
	return 0;
}

int image_dest_open(const char *path, struct image_dest *d, struct cell_error *err)
{
	_cleanup_strv_free_ char **names = NULL;
	bool created = mkdir(path, 0755) == 0;
	int fd, r;

	if (!created && errno != EEXIST)
		return cell_err(err, errno, "mkdir %s", path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = cell_err(err, errno, "open %s", path);
		if (created)
			(void)rmdir(path);
		return r;
	}
	r = created ? fchmod(fd, 0755) : top_names(fd, false, &names);
	if (r == 0 && names)
		r = cell_err(err, EEXIST, "%s: exists and is not empty", path);
	else if (r < 0)
		r = cell_err(err, errno, "%s", path);
	if (r < 0) {
		(void)close(fd);
		if (created)
			(void)rmdir(path);
		return r;
	}
	*d = (struct image_dest){.path = xstrdup(path), .fd = fd, .created = created};
	return 0;
}

int image_dest_empty(struct image_dest *d)
{
	_cleanup_strv_free_ char **names = NULL;
	int r = top_names(d->fd, d->created, &names);

	for (size_t i = 0; r == 0 && names && names[i]; i++)
		r = image_rm_rf_at(d->fd, names[i]);
	return r;
}

void image_dest_close(struct image_dest *d, bool ok)
{
	if (!ok)
		(void)image_dest_empty(d);
	if (d->fd >= 0)
		(void)close(d->fd);
	if (!ok && d->created)
		(void)rmdir(d->path);
	free(d->path);
	*d = (struct image_dest){.fd = -1};
}

int image_write_at(int dirfd, const char *path, mode_t mode, const char *text,
		   struct cell_error *err)
{
	int r = cell_root_write_file(dirfd, path, mode, text);

	return r < 0 ? cell_err(err, r, "write %s", path) : 0;
}
