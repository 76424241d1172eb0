/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "privilege.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The first len-1 bytes of a small /proc file; false when it cannot be read. */
static bool read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	(void)close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

bool cell_uid_map_is_initial(const char *uid_map)
{
	unsigned long inside, outside, count;
	int used = 0;

	if (sscanf(uid_map, " %lu %lu %lu %n", &inside, &outside, &count, &used) != 3 || used == 0)
		return false;
	return inside == 0 && outside == 0 && count == UINT32_MAX && uid_map[used] == '\0';
}

bool cell_running_in_userns(void)
{
	char text[256];

	/* no uid_map: a kernel without user namespaces has only the initial one */
	if (!read_small("/proc/self/uid_map", text, sizeof(text)))
		return false;
	return !cell_uid_map_is_initial(text);
}

bool cell_really_root(void)
{
	return geteuid() == 0 && !cell_running_in_userns();
}

bool cell_setgroups_denied(void)
{
	char text[16];

	return read_small("/proc/self/setgroups", text, sizeof(text)) &&
	       strncmp(text, "deny", 4) == 0;
}
