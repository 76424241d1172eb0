/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Files of a container's tree read and written from the host.  The tree is
 * the container's to shape: any component may be a symlink it planted
 * ("/etc/passwd -> /root/.ssh/id_rsa", "etc -> /etc").  Every path here is
 * resolved by cell_open_in_root (openat2 RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) from a descriptor of the tree's root, so a symlink
 * is followed as the container would see it and never out of the tree.
 */
#include <stddef.h>
#include <sys/types.h>

/* The directory `rootfs` (a host path the caller trusts, such as the
 * store's <dir>/rootfs) opened for the calls below: an fd, or -errno. */
int cell_root_open(const char *rootfs);

/* The regular file `path` of the tree into *text (NUL-terminated, *len
 * bytes when len is not NULL).  A symlink is followed inside the tree only;
 * anything but a regular file (a fifo, a device) is -EINVAL, never opened
 * for reading past O_NONBLOCK. */
int cell_root_read_file(int rootfd, const char *path, char **text, size_t *len);

/* Replace the content of the regular file `path` of the tree with `text`.
 * Its last component is never followed (a symlink: -ELOOP) and it is never
 * created: -ENOENT when missing, -EINVAL when not a regular file. */
int cell_root_rewrite_file(int rootfd, const char *path, const char *text);

/* Create or truncate `path` (its last component not followed) with `text`
 * and chmod it to `mode`: how a template writes its own files. */
int cell_root_write_file(int rootfd, const char *path, mode_t mode, const char *text);
