/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every lifecycle verb needs about one container, below all of them
 * (container.c's create/start/run, container-ops.c's state/kill/delete/...,
 * container-exec.c): its id, its locked state directory, its cgroup, its
 * config, the compiled seccomp filter, the fds the caller passes on, and the
 * wait for its process that forwards our signals to it.
 */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/util.h"
#include "linux/seccomp.h"
#include "sys/privilege.h"

bool cell_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 1024 || streq(id, ".") || streq(id, ".."))
		return false;
	for (const char *p = id; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && !strchr("_+.-", *p))
			return false;
	return true;
}

int cell_state_dir_open(const struct cell_runtime *rt, const char *id, bool create, int *dirfd,
			struct cell_error *err)
{
	_cleanup_free_ char *path = NULL;
	struct stat st;
	int r;

	if (!cell_id_valid(id))
		return cell_err(err, EINVAL,
				"invalid container id \"%s\": use 1-1024 of [A-Za-z0-9_+.-]", id);
	path = xasprintf("%s/%s", rt->root, id);
	if (create) {
		if ((r = cell_mkdir_p(rt->root, 0711)) < 0)
			return cell_err(err, r, "create state root %s", rt->root);
		if (mkdir(path, 0711) < 0)
			return errno == EEXIST ? cell_errx(err, EEXIST, "container \"%s\" already exists", id)
					       : cell_err(err, errno, "create %s", path);
	}
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return cell_err(err, errno, "open %s", path);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0)
		return cell_err(err, errno, "lock %s", path);
	/* missing, or deleted while we waited for the lock: -ENOENT, said without strerror */
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_nlink == 0) {
		(void)cell_errx(err, ENOENT, "container \"%s\" does not exist", id);
		return -ENOENT;
	}
	*dirfd = TAKE_FD(fd);
	return 0;
}

int cell_cgroup_of(const struct cell_runtime *rt, const char *id, bool systemd,
		   const char *path, bool create, struct cell_cgroup **out,
		   struct cell_error *err)
{
	struct cell_cgroup_opts o = { CELL_CGROUP_OPTS(rt, id, systemd) };

	return create ? cell_cgroup_create(&o, path, out, err) : cell_cgroup_open(&o, path, out, err);
}

int cell_preserved_fds_check(int n, struct cell_error *err)
{
	for (int fd = 3; fd < 3 + n; fd++) {
		int fl = fcntl(fd, F_GETFD);
		/* ours are all close-on-exec: a missing caller fd would hand one on */
		if (fl < 0 || (fl & FD_CLOEXEC))
			return cell_err(err, EBADF,
					"--preserve-fds %d: fd %d was not passed by the caller", n, fd);
	}
	return 0;
}

int cell_write_file_at_new(int dirfd, const char *name, const char *text)
{
	_cleanup_close_ int fd =
		openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	return cell_write_all(fd, text, strlen(text));
}

/* Compiled filters are cached for root (one per distinct profile): the key is the
 * profile's canonical JSON, so any change to it is a different entry. */
int cell_seccomp_for(const struct cell_spec *spec, struct cell_seccomp_filter **out,
		     struct cell_error *err)
{
	int r = cell_seccomp_prepare_cached(&spec->linux.seccomp, spec->linux.seccomp.canonical,
					cell_really_root() ? CELL_RUN_CACHE : NULL, out, err);
	if (r < 0)
		return cell_err_prefix(err, "linux.seccomp");
	if ((r = cell_seccomp_check_exec(&spec->linux.seccomp, *out, err)) < 0) {
		cell_seccomp_free(*out);
		*out = NULL;
	}
	return r;
}

int cell_container_config(const struct cell_runtime *rt, const char *id, struct cell_spec **out,
			  struct cell_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s/config.json", rt->root, id);
	return cell_spec_load(path, out, err);
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

int cell_forward_until_exit(pid_t pid, int *status)
{
	sigset_t all;
	siginfo_t si;
	int ws;

	sigfillset(&all);
	for (;;) {
		pid_t w = waitpid(pid, &ws, WNOHANG | __WALL);
		if (w == pid) {
			*status = exit_code(ws);
			return 0;
		}
		if (w < 0 && errno != EINTR)
			return -errno;
		if (sigwaitinfo(&all, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD && si.si_signo != SIGWINCH)
			(void)kill(pid, si.si_signo);
	}
}
