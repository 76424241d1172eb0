/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run a helper program (debootstrap, busybox --list-full) with its stdout
 * and stderr merged into one pipe and handed on line by line.  debootstrap
 * mounts /proc and /sys inside its target; with new_mount_ns those mounts
 * live in a private mount namespace that dies with the program, so a
 * failure never leaves a mount behind under the rootfs we then remove.
 */
#include "image-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"
#include "../sys/run.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *const fixed_env[] = {
    "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    "LC_ALL=C",
    "DEBIAN_FRONTEND=noninteractive",
};

/* The caller's environment with ours in place of the same names. */
static char **child_env(void)
{
	char **env = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(fixed_env); i++)
		cell_strv_push(&env, xstrdup(fixed_env[i]));
	for (char **e = environ; e && *e; e++) {
		bool ours = false;
		for (size_t i = 0; i < ARRAY_SIZE(fixed_env); i++) {
			size_t n = strcspn(fixed_env[i], "=") + 1;
			ours = ours || strncmp(*e, fixed_env[i], n) == 0;
		}
		if (!ours)
			cell_strv_push(&env, xstrdup(*e));
	}
	return env;
}

static void emit(struct image_run *r, char *line)
{
	if (!*line)
		return;
	size_t n = strnlen(line, sizeof(r->last) - 1);
	memcpy(r->last, line, n);
	r->last[n] = '\0';
	if (r->line)
		r->line(line, r->arg);
}

/* Split what the pipe gives into lines ("\n" or "\r"); overlong ones are cut. */
static void read_lines(struct image_run *r, int fd)
{
	char buf[4096];
	size_t n = 0;
	ssize_t got;

	while ((got = read(fd, buf + n, sizeof(buf) - 1 - n)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		n += (size_t)got;
		size_t start = 0;
		for (size_t i = 0; i < n; i++) {
			if (buf[i] != '\n' && buf[i] != '\r')
				continue;
			buf[i] = '\0';
			emit(r, buf + start);
			start = i + 1;
		}
		memmove(buf, buf + start, n - start);
		n -= start;
		if (n == sizeof(buf) - 1) {
			buf[n] = '\0';
			emit(r, buf);
			n = 0;
		}
	}
	buf[n] = '\0';
	emit(r, buf);
}

static int wait_exit(struct image_run *r, pid_t pid, struct cell_error *err)
{
	int status, e;

	if ((e = cell_run_wait(pid, &status)) < 0)
		return cell_err(err, -e, "wait for %s", r->argv[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return cell_errx(err, EIO, "%s killed by signal %d%s%s", r->argv[0],
				 WTERMSIG(status), *r->last ? ": " : "", r->last);
	return cell_errx(err, EIO, "%s exited with status %d%s%s", r->argv[0], WEXITSTATUS(status),
			 *r->last ? ": " : "", r->last);
}

/* What the child used to print before exit 127 ("cell: exec X: ..."), the same
 * words now that the start reports it. */
static int start_failed(const struct image_run *r, const char *step, int e,
			struct cell_error *err)
{
	if (streq(step, "fork"))
		return cell_err(err, e, "fork for %s", r->argv[0]);
	if (streq(step, "exec"))
		return cell_errx(err, EIO, "%s exited with status 127: cell: exec %s: %s", r->argv[0],
				 r->argv[0], strerror(e));
	return cell_errx(err, EIO, "%s exited with status 127: cell: %s: %s", r->argv[0], step,
			 strerror(e));
}

int image_run(struct image_run *r, struct cell_error *err)
{
	_cleanup_strv_free_ char **env = child_env();
	const char *step = NULL;
	int p[2];
	pid_t pid;

	r->last[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return cell_err(err, errno, "pipe");
	const struct cell_run run = { .argv = r->argv, .env = env, .new_mount_ns = r->new_mount_ns,
				      .fd = { CELL_RUN_NULL, p[1], p[1] } };
	pid = cell_run_start(&run, &step);
	(void)close(p[1]);
	if (pid < 0) {
		(void)close(p[0]);
		return start_failed(r, step, (int)-pid, err);
	}
	read_lines(r, p[0]);
	(void)close(p[0]);
	return wait_exit(r, pid, err);
}
