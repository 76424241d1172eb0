/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcell/process/confine.h"

/* Run fn in a child (it closes fds, changes root and cwd); its exit status. */
static int in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int fd_state(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	return fl < 0 ? -1 : (fl & FD_CLOEXEC) ? 1 : 0;
}

/* fd 3 preserved (inheritable), 40 kept (close-on-exec), 41, 42 and 90 closed */
static int confine_child(void *arg)
{
	struct cell_error err = { 0 };
	int first = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int dev = fcntl(first, F_DUPFD_CLOEXEC, 100);
	int nums[] = { 3, 40, 41, 42, 90 };

	if (first < 0 || dev < 0 || close(first) < 0)
		return 9;

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (dup3(dev, nums[i], nums[i] == 3 ? 0 : O_CLOEXEC) < 0)
			return 10;
	(void)fcntl(40, F_SETFD, 0);
	int keep[] = { 40, -1, 40 };
	if (cell_fds_confine(1, keep, 3, &err) < 0)
		return 11;
	if (fd_state(3) != 0 || fd_state(40) != 1)
		return 12;
	if (fd_state(41) != -1 || fd_state(42) != -1 || fd_state(90) != -1 || fd_state(dev) != -1)
		return 13;
	return 0;
}

static void confine_closes_all_but_preserved_and_kept(void **state)
{
	assert_int_equal(in_child(confine_child, NULL), 0);
}

static int session_child(void *arg)
{
	struct cell_error err = { 0 };

	if (cell_session_new(&err) < 0 || getsid(0) != getpid())
		return 1;
	/* again: already the leader, a no-op */
	return cell_session_new(&err) < 0 ? 2 : 0;
}

static void a_new_session_each_time(void **state)
{
	assert_int_equal(in_child(session_child, NULL), 0);
}

static void cwd_through_an_fd_is_refused(void **state)
{
	struct cell_error err = { 0 };
	char path[64];
	int fd = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	assert_int_equal(cell_cwd_enter(path, &err), -ELOOP);
	assert_non_null(strstr(err.msg, path));
	close(fd);
}

static void cwd_inside_is_entered(void **state)
{
	struct cell_error err = { 0 };
	struct stat a, b;

	assert_int_equal(cell_cwd_enter("/tmp/../tmp", &err), 0);
	assert_int_equal(stat(".", &a), 0);
	assert_int_equal(stat("/tmp", &b), 0);
	assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	assert_int_equal(chdir("/"), 0);
}

/* A private mount namespace (of our own user namespace unless root) with
 * D/root as the root: fd to D (outside), to D/root/in (inside) and to
 * D/alias, a bind mount of D/root (the same inode, by another mount). */
struct roots {
	char dir[64];
	int outside, inside, alias;
};

static int enter_roots(struct roots *r)
{
	char p[128];

	if (geteuid() != 0 && unshare(CLONE_NEWUSER) < 0)
		return -1;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	(void)snprintf(p, sizeof(p), "%s/root/in", r->dir);
	if (mkdir(p, 0755) < 0 || (r->inside = open(p, O_PATH | O_DIRECTORY)) < 0)
		return -1;
	(void)snprintf(p, sizeof(p), "%s/alias", r->dir);
	if (mkdir(p, 0755) < 0)
		return -1;
	char root[128];
	(void)snprintf(root, sizeof(root), "%s/root", r->dir);
	if (mount(root, p, NULL, MS_BIND, NULL) < 0 || (r->alias = open(p, O_PATH | O_DIRECTORY)) < 0)
		return -1;
	if ((r->outside = open(r->dir, O_PATH | O_DIRECTORY)) < 0)
		return -1;
	return chroot(root) < 0 || chdir("/") < 0 ? -1 : 0;
}

static int check_child(void *arg)
{
	struct roots *r = arg;
	struct cell_error err = { 0 };

	if (enter_roots(r) < 0)
		return 77;
	if (cell_cwd_check_in_root("/", &err) < 0)
		return 1;
	if (fchdir(r->inside) < 0 || cell_cwd_check_in_root("/in", &err) < 0)
		return 2;
	if (fchdir(r->outside) < 0 || cell_cwd_check_in_root("outside", &err) != -EXDEV)
		return 3;
	/* the root's own inode, through another mount: still outside */
	if (fchdir(r->alias) < 0 || cell_cwd_check_in_root("alias", &err) != -EXDEV)
		return 4;
	return strstr(err.msg, "alias") && strstr(err.msg, "outside") ? 0 : 5;
}

static void cwd_outside_the_root_is_found(void **state)
{
	struct roots r = { .outside = -1, .inside = -1, .alias = -1 };
	char p[128];

	(void)snprintf(r.dir, sizeof(r.dir), "/tmp/cell-test-confine.XXXXXX");
	assert_non_null(mkdtemp(r.dir));
	(void)snprintf(p, sizeof(p), "%s/root", r.dir);
	assert_int_equal(mkdir(p, 0755), 0);
	int rc = in_child(check_child, &r);
	(void)snprintf(p, sizeof(p), "%s/root/in", r.dir);
	(void)rmdir(p);
	(void)snprintf(p, sizeof(p), "%s/root", r.dir);
	(void)rmdir(p);
	(void)snprintf(p, sizeof(p), "%s/alias", r.dir);
	(void)rmdir(p);
	(void)rmdir(r.dir);
	if (rc == 77)
		skip();
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(confine_closes_all_but_preserved_and_kept),
		cmocka_unit_test(a_new_session_each_time),
		cmocka_unit_test(cwd_through_an_fd_is_refused),
		cmocka_unit_test(cwd_inside_is_entered),
		cmocka_unit_test(cwd_outside_the_root_is_found),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
