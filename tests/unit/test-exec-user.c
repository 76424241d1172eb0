/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `cell exec -u USER` (manager/exec-user.c): numbers as given, names from the
 * container's own /etc/passwd and /etc/group, read inside its root. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/manager/manager.h"

static char tmp[] = "/tmp/cell-test-exec-user.XXXXXX";
static char *rootfs;

static void put(const char *rel, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", rootfs, rel);
	assert_int_equal(cell_write_file_atomic(path, text, strlen(text), 0644), 0);
}

struct want {
	const char *user;
	uint32_t uid, gid;
	size_t n_groups;
	uint32_t groups[2];
};

static void resolves(const struct want *w)
{
	struct cell_user u = { 0 };
	struct cell_error err = { 0 };

	assert_int_equal(cell_manager_exec_user(rootfs, w->user, &u, &err), 0);
	assert_int_equal(u.uid, w->uid);
	assert_int_equal(u.gid, w->gid);
	assert_int_equal(u.n_additional_gids, w->n_groups);
	for (size_t i = 0; i < w->n_groups; i++)
		assert_int_equal(u.additional_gids[i], w->groups[i]);
	free(u.additional_gids);
}

static void refused(const char *user, int code, const char *msg)
{
	struct cell_user u = { .uid = 7, .gid = 7 };
	struct cell_error err = { 0 };

	assert_int_equal(cell_manager_exec_user(rootfs, user, &u, &err), code);
	assert_string_equal(err.msg, msg);
	assert_int_equal(u.uid, 7); /* written only on success */
	assert_int_equal(u.gid, 7);
}

static void test_numeric(void **state)
{
	static const struct want w[] = {
		{ "0", 0, 0, 0, { 0 } },
		{ "1000", 1000, 1000, 0, { 0 } }, /* the gid defaults to the uid */
		{ "1000:5", 1000, 5, 0, { 0 } },
		{ "4294967294", 4294967294u, 4294967294u, 0, { 0 } },
		/* a number is taken as is, even where /etc/passwd names it */
		{ "1001", 1001, 1001, 0, { 0 } },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(w); i++)
		resolves(&w[i]);
}

static void test_names(void **state)
{
	static const struct want w[] = {
		{ "root", 0, 0, 0, { 0 } },
		/* alice's supplementary groups, her primary group left out */
		{ "alice", 1001, 1001, 2, { 50, 60 } },
		{ "alice:staff", 1001, 50, 0, { 0 } },
		{ "alice:7", 1001, 7, 0, { 0 } },
		{ "1001:staff", 1001, 50, 0, { 0 } },
		{ "bob", 1002, 100, 1, { 50 } },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(w); i++)
		resolves(&w[i]);
}

static void test_refused(void **state)
{
	(void)state;
	refused("carol", -ENOENT, "no user carol in /etc/passwd");
	refused("alice:wheel", -ENOENT, "no group wheel in /etc/group");
	refused("1000:", -EINVAL, "user 1000:: empty user or group");
	refused(":50", -EINVAL, "user :50: empty user or group");
	/* not a valid id: looked up as a name */
	refused("4294967295", -ENOENT, "no user 4294967295 in /etc/passwd");
	refused("-1", -ENOENT, "no user -1 in /etc/passwd");
}

static void test_database_is_read_inside_the_root(void **state)
{
	_cleanup_free_ char *passwd = xasprintf("%s/etc/passwd", rootfs);
	_cleanup_free_ char *moved = xasprintf("%s/etc/passwd.real", rootfs);
	_cleanup_free_ char *host = xasprintf("%s/host-passwd", tmp);
	struct cell_error err = { 0 };
	struct cell_user u = { 0 };

	(void)state;
	/* a link to an absolute path resolves inside the container's root: the
	 * host's file of that name (outside the root) is never read */
	const char *line = "mallory:x:0:0::/:/bin/sh\n";
	assert_int_equal(cell_write_file_atomic(host, line, strlen(line), 0644), 0);
	assert_int_equal(rename(passwd, moved), 0);
	assert_int_equal(symlink(host, passwd), 0);
	assert_int_equal(cell_manager_exec_user(rootfs, "mallory", &u, &err), -ENOENT);
	assert_string_equal(err.msg, "user mallory: read /etc/passwd");
	assert_int_equal(unlink(passwd), 0);
	/* a link to a file of the root is followed, inside it */
	put("inner-passwd", line);
	assert_int_equal(symlink("/inner-passwd", passwd), 0);
	assert_int_equal(cell_manager_exec_user(rootfs, "mallory", &u, &err), 0);
	assert_int_equal(u.uid, 0);
	free(u.additional_gids);
	assert_int_equal(unlink(passwd), 0);
	assert_int_equal(rename(moved, passwd), 0);
}

static void test_no_root(void **state)
{
	struct cell_error err = { 0 };
	struct cell_user u = { 0 };
	_cleanup_free_ char *gone = xasprintf("%s/gone", tmp);
	_cleanup_free_ char *msg = xasprintf("open the container's root %s", gone);

	(void)state;
	assert_int_equal(cell_manager_exec_user(gone, "alice", &u, &err), -ENOENT);
	assert_string_equal(err.msg, msg);
	/* a number needs no root at all */
	assert_int_equal(cell_manager_exec_user(gone, "5:6", &u, &err), 0);
	assert_int_equal(u.gid, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numeric),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_database_is_read_inside_the_root),
		cmocka_unit_test(test_no_root),
	};
	if (!mkdtemp(tmp))
		return 1;
	rootfs = xasprintf("%s/rootfs", tmp);
	_cleanup_free_ char *etc = xasprintf("%s/etc", rootfs);
	if (cell_mkdir_p(etc, 0755) < 0)
		return 1;
	put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
			  "# a comment\n"
			  "alice:x:1001:1001::/home/alice:/bin/sh\n"
			  "broken:x:notanumber:1::/:/bin/sh\n"
			  "bob:x:1002:100::/home/bob:/bin/sh\n");
	put("etc/group", "root:x:0:\n"
			 "staff:x:50:alice,bob\n"
			 "audio:x:60:carol,alice\n"
			 "alice:x:1001:alice\n"
			 "users:x:100:\n");
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	(void)cell_rm_rf(tmp);
	free(rootfs);
	return r;
}
