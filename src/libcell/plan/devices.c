/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What goes into a /dev the container mounts itself. */
#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../base/cleanup.h"
#include "../base/util.h"

/* runtime-spec config-linux.md#default-devices */
const struct cell_dev_node cell_default_devices[] = {
    {"null", S_IFCHR | 0666, 1, 3},    {"zero", S_IFCHR | 0666, 1, 5},
    {"full", S_IFCHR | 0666, 1, 7},    {"random", S_IFCHR | 0666, 1, 8},
    {"urandom", S_IFCHR | 0666, 1, 9}, {"tty", S_IFCHR | 0666, 5, 0},
};
const size_t cell_n_default_devices = ARRAY_SIZE(cell_default_devices);

/* runtime-spec runtime-linux.md#dev-symbolic-links */
const struct cell_dev_link cell_default_dev_links[] = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
};
const size_t cell_n_default_dev_links = ARRAY_SIZE(cell_default_dev_links);

const struct cell_dev_link cell_dev_ptmx_link = {"ptmx", "pts/ptmx"};

int cell_device_mode(const struct cell_device *d, mode_t *mode)
{
	mode_t type;

	switch (d->type) {
	case 'c':
	case 'u':
		type = S_IFCHR;
		break;
	case 'b':
		type = S_IFBLK;
		break;
	case 'p':
		type = S_IFIFO;
		break;
	default:
		return -EINVAL;
	}
	*mode = type | (d->file_mode_set ? (mode_t)(d->file_mode & 07777) : 0666);
	return 0;
}

/* The spec mount whose cleaned destination is dest (the last one wins, as it is on top). */
static const struct cell_mount *find_mount(const struct cell_spec *s, const char *dest)
{
	const struct cell_mount *found = NULL;

	for (size_t i = 0; i < s->n_mounts; i++) {
		_cleanup_free_ char *d = cell_path_clean(s->mounts[i].destination);
		if (streq(d, dest))
			found = &s->mounts[i];
	}
	return found;
}

static enum cell_mount_kind kind_at(const struct cell_spec *s, const char *dest, bool *found)
{
	const struct cell_mount *m = find_mount(s, dest);
	struct cell_mount_plan p;

	*found = m != NULL;
	if (!m)
		return CELL_MOUNT_OTHER;
	cell_mount_plan_build(m, &p);
	cell_mount_plan_free(&p);
	return p.kind;
}

enum cell_dev_setup cell_spec_dev_setup(const struct cell_spec *s)
{
	bool found;
	enum cell_mount_kind k = kind_at(s, "/dev", &found);

	if (!found)
		return CELL_DEV_ROOTFS;
	return k == CELL_MOUNT_BIND ? CELL_DEV_HOST : CELL_DEV_FILL;
}

bool cell_spec_has_devpts(const struct cell_spec *s)
{
	bool found;

	return kind_at(s, "/dev/pts", &found) == CELL_MOUNT_DEVPTS && found;
}
