/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sys/rootfile.c: a tree's files from the host never through the tree's
 * symlinks out of it.  The tree and the "host" files live under one
 * mkdtemp directory: <tmp>/root is the tree, <tmp>/host the files a planted
 * link points at by their absolute host path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libcell/base/util.h"
#include "libcell/sys/rootfile.h"

#define SECRET "host secret\n"

static char tmp[] = "/tmp/cell-test-rootfile.XXXXXX";
static char host[64], root[64];
static int rootfd = -1;

static void put(const char *dir, const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", dir, rel);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	free(p);
}

static void link_in_root(const char *target, const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);

	(void)unlink(p);
	assert_int_equal(symlink(target, p), 0);
	free(p);
}

static void assert_host_unchanged(void)
{
	char *p = xasprintf("%s/secret", host), *text = NULL;

	assert_int_equal(cell_read_file(p, &text, NULL), 0);
	assert_string_equal(text, SECRET);
	free(text);
	free(p);
}

static int setup(void **state)
{
	assert_non_null(mkdtemp(tmp));
	(void)snprintf(host, sizeof(host), "%s/host", tmp);
	(void)snprintf(root, sizeof(root), "%s/root", tmp);
	assert_int_equal(mkdir(host, 0700), 0);
	assert_int_equal(mkdir(root, 0755), 0);
	char *etc = xasprintf("%s/etc", root);
	assert_int_equal(mkdir(etc, 0755), 0);
	free(etc);
	put(host, "secret", SECRET);
	put(root, "etc/real", "inside\n");
	rootfd = cell_root_open(root);
	assert_true(rootfd >= 0);
	return 0;
}

static int teardown(void **state)
{
	(void)close(rootfd);
	return cell_rm_rf(tmp);
}

static void read_follows_links_inside_the_root_only(void **state)
{
	char *abs = xasprintf("%s/secret", host), *text = NULL;

	link_in_root(abs, "etc/passwd"); /* /etc/passwd -> <host>/secret */
	assert_int_equal(cell_root_read_file(rootfd, "etc/passwd", &text, NULL), -ENOENT);
	link_in_root("/etc/../../../etc/real", "etc/passwd"); /* stays inside */
	assert_int_equal(cell_root_read_file(rootfd, "/etc/passwd", &text, NULL), 0);
	assert_string_equal(text, "inside\n");
	free(text);
	free(abs);
}

static void read_refuses_what_is_not_a_file(void **state)
{
	char *fifo = xasprintf("%s/etc/fifo", root);
	char *text = NULL;

	assert_int_equal(mkfifo(fifo, 0644), 0);
	/* no writer: a blocking open would hang here */
	assert_int_equal(cell_root_read_file(rootfd, "etc/fifo", &text, NULL), -EINVAL);
	assert_int_equal(cell_root_read_file(rootfd, "etc", &text, NULL), -EINVAL);
	link_in_root("/proc/self/root/etc/real", "etc/magic");
	assert_true(cell_root_read_file(rootfd, "etc/magic", &text, NULL) < 0);
	assert_null(text);
	free(fifo);
}

static void rewrite_never_follows_the_last_link(void **state)
{
	char *abs = xasprintf("%s/secret", host), *text = NULL;

	link_in_root(abs, "etc/hostname");
	assert_int_equal(cell_root_rewrite_file(rootfd, "etc/hostname", "x\n"), -ELOOP);
	link_in_root("real", "etc/hostname"); /* not even one inside */
	assert_int_equal(cell_root_rewrite_file(rootfd, "etc/hostname", "x\n"), -ELOOP);
	assert_int_equal(cell_root_rewrite_file(rootfd, "etc/missing", "x\n"), -ENOENT);
	assert_int_equal(cell_root_rewrite_file(rootfd, "etc/real", "new\n"), 0);
	assert_int_equal(cell_root_read_file(rootfd, "etc/real", &text, NULL), 0);
	assert_string_equal(text, "new\n");
	assert_host_unchanged();
	free(text);
	free(abs);
}

static void a_planted_directory_link_stays_inside(void **state)
{
	char *etc = xasprintf("%s/etc", root), *old = xasprintf("%s/etc.old", root);
	char *made = xasprintf("%s/hostname", host);

	assert_int_equal(rename(etc, old), 0);
	link_in_root(host, "etc"); /* /etc -> <host> */
	assert_int_equal(cell_root_rewrite_file(rootfd, "etc/secret", "x\n"), -ENOENT);
	assert_int_equal(cell_root_write_file(rootfd, "etc/hostname", 0644, "x\n"), -ENOENT);
	assert_int_equal(access(made, F_OK), -1);
	assert_host_unchanged();
	assert_int_equal(unlink(etc), 0);
	assert_int_equal(rename(old, etc), 0);
	free(made);
	free(old);
	free(etc);
}

static void write_creates_and_replaces_a_file(void **state)
{
	char *abs = xasprintf("%s/secret", host), *text = NULL;
	struct stat st;

	assert_int_equal(cell_root_write_file(rootfd, "etc/new", 0640, "a\n"), 0);
	assert_int_equal(fstatat(rootfd, "etc/new", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(cell_root_read_file(rootfd, "etc/new", &text, NULL), 0);
	assert_string_equal(text, "a\n");
	link_in_root(abs, "etc/new");
	assert_int_equal(cell_root_write_file(rootfd, "etc/new", 0644, "b\n"), -ELOOP);
	assert_host_unchanged();
	free(text);
	free(abs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(read_follows_links_inside_the_root_only),
	    cmocka_unit_test(read_refuses_what_is_not_a_file),
	    cmocka_unit_test(rewrite_never_follows_the_last_link),
	    cmocka_unit_test(a_planted_directory_link_stays_inside),
	    cmocka_unit_test(write_creates_and_replaces_a_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
