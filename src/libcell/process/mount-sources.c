/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bind sources opened with the runtime's privileges.  In a user namespace
 * the container's root may not search a host directory that only host root
 * may (0700 root): a bind source below one is out of its reach.  As runc
 * does, the runtime opens those sources (O_PATH) itself, from inside the
 * container's mount namespace before any mount is made there, and passes the
 * fds over the sync socket; the child clones the mounts from them
 * (open_tree on the fd: no path walk), still in its own namespace, so the
 * flags and submounts it inherited stay locked (mount_namespaces(7)).
 *
 *  parent                              helper (forked)          child
 *  GO ---------------------------------------------------------> GO
 *  fork helper ----------------------> setns(init's mount ns)
 *                                      per bind mount i:
 *                                      MOUNT_SOURCE(i, fd) ---> stored
 *                                      MOUNT_SOURCE(-1) ------> done
 *  reap helper
 *
 * A source the helper cannot open (missing yet, inside the rootfs where an
 * earlier mount may cover it) goes without an fd: the child resolves its
 * path as before.
 */
#include "mount-sources.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../plan/plan.h"
#include "../sys/syscalls.h"
#include "sync.h"

bool cell_mount_sources_wanted(const struct cell_plan *p, bool in_userns, bool rootless)
{
	if (!in_userns || rootless || p->no_mount_ns)
		return false;
	for (size_t i = 0; i < p->n_mounts; i++)
		if (p->mounts[i].source_fd)
			return true;
	return false;
}

/* The host path of op's source as the plan resolved it, or NULL for one the child
 * resolves itself. */
static char *source_path(const struct cell_mount_op *op, const char *rootfs)
{
	if (!op->source_fd)
		return NULL;
	_cleanup_free_ char *root = cell_path_clean(rootfs);
	char *path = cell_path_clean(op->source);
	size_t n = strlen(root);
	if (strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0')) {
		free(path);
		return NULL; /* an earlier mount may cover it: the child's view decides */
	}
	return path;
}

static void __attribute__((noreturn)) helper_main(const struct cell_plan *p, pid_t init, int sync)
{
	int pidfd = cell_sys_pidfd_open(init, 0);
	bool in_ns = pidfd >= 0 && setns(pidfd, CLONE_NEWNS) == 0;

	if (!in_ns)
		cell_debug("mount sources: join the mount namespace of %d: %s", (int)init,
			   strerror(errno));
	for (size_t i = 0; in_ns && i < p->n_mounts; i++) {
		const struct cell_mount_op *op = &p->mounts[i];
		_cleanup_free_ char *path = source_path(op, p->rootfs);
		if (!path)
			continue;
		_cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
		if (fd < 0)
			cell_debug("mount source %s: %s (the container resolves it)", path,
				   strerror(errno));
		if (cell_sync_send(sync, CELL_SYNC_MOUNT_SOURCE, (int)op->index, &fd, fd >= 0) < 0)
			_exit(1);
	}
	_exit(cell_sync_send(sync, CELL_SYNC_MOUNT_SOURCE, -1, NULL, 0) < 0);
}

int cell_mount_sources_send(const struct cell_plan *p, pid_t init, int sync, struct cell_error *err)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return cell_err(err, errno, "fork to open the mount sources");
	if (pid == 0)
		helper_main(p, init, sync);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return cell_err(err, errno, "wait for the mount source helper");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return cell_err(err, EPIPE, "send the mount sources to the container (status %#x)",
				status);
	return 0;
}

int cell_mount_sources_recv(int sync, size_t n_mounts, int **out, struct cell_error *err)
{
	int *fds = xcalloc(n_mounts ? n_mounts : 1, sizeof(*fds));
	struct cell_sync_msg m;
	int r;

	for (size_t i = 0; i < n_mounts; i++)
		fds[i] = -1;
	for (;;) {
		int fd = -1;
		if ((r = cell_sync_expect(sync, CELL_SYNC_MOUNT_SOURCE, &m, &fd, 1, err)) < 0) {
			cell_mount_sources_close(fds, n_mounts);
			return r;
		}
		if (m.value < 0)
			break;
		if ((size_t)m.value >= n_mounts || fds[m.value] >= 0) {
			if (fd >= 0)
				(void)close(fd);
			cell_mount_sources_close(fds, n_mounts);
			return cell_err(err, EPROTO, "mount source for mounts[%d]: unexpected",
					m.value);
		}
		fds[m.value] = fd;
	}
	*out = fds;
	return 0;
}

void cell_mount_sources_close(int *fds, size_t n)
{
	for (size_t i = 0; fds && i < n; i++)
		if (fds[i] >= 0)
			(void)close(fds[i]);
	free(fds);
}
