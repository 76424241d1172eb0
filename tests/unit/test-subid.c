/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Root's subordinate ids: parsing subuid(5) text, adding root's entry, first fit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/manager/idmap-internal.h"

static void test_parse_root_entries(void **state)
{
	struct cell_subid s;
	struct cell_error err = { 0 };

	(void)state;
	assert_int_equal(cell_subid_parse("alice:100000:65536\nroot:1000000:1000000000\n\n"
					  "# a comment\n0:2000000000:65536",
					  "subuid", &s, &err),
			 0);
	assert_int_equal(s.n_root, 2);
	assert_int_equal(s.root[0].start, 1000000);
	assert_int_equal(s.root[0].count, 1000000000);
	assert_int_equal(s.root[1].start, 2000000000);
	assert_int_equal(s.max_end, 2000000000ULL + 65536);
	cell_subid_free(&s);
}

static void test_parse_refuses_bad_lines(void **state)
{
	static const char *const bad[] = { "root:1000000\n", "root:x:65536\n", ":1:2\n",
					   "root:1:2:3\n", "root:4294967295:1\n", "root:-1:5\n" };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cell_subid s = { 0 };
		struct cell_error err = { 0 };
		_cleanup_free_ char *text = xasprintf("alice:1:2\n%s", bad[i]);
		assert_int_equal(cell_subid_parse(text, "/etc/subuid", &s, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "/etc/subuid line 2"));
		assert_int_equal(s.n_root, 0);
	}
}

static struct cell_subid one(uint64_t start, uint64_t count)
{
	struct cell_subid s = { .n_root = 1, .max_end = start + count, .path = "/etc/subuid" };
	s.root = xcalloc(1, sizeof(*s.root));
	s.root[0] = (struct cell_id_range){ start, count };
	return s;
}

static void test_first_fit(void **state)
{
	struct cell_subid u = one(1000000, 10 * 65536), g = one(1000000, 10 * 65536);
	struct cell_error err = { 0 };
	uint64_t s = 0;

	(void)state;
	assert_int_equal(cell_idmap_first_fit(&u, &g, NULL, 0, &s, &err), 0);
	assert_int_equal(s, 1000000);
	/* a used range off the grid pushes to the next slice after its end */
	const struct cell_id_range used[] = { { 1000000, 65536 }, { 1065536 + 5, 10 } };
	assert_int_equal(cell_idmap_first_fit(&u, &g, used, 2, &s, &err), 0);
	assert_int_equal(s, 1000000 + 2 * 65536);
	/* only where root's gids cover the slice too */
	cell_subid_free(&g);
	g = one(1000000 + 4 * 65536, 65536);
	assert_int_equal(cell_idmap_first_fit(&u, &g, used, 2, &s, &err), 0);
	assert_int_equal(s, 1000000 + 4 * 65536);
	const struct cell_id_range all[] = { { 1000000 + 4 * 65536, 65536 } };
	assert_int_equal(cell_idmap_first_fit(&u, &g, all, 1, &s, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "no free range"));
	cell_subid_free(&u);
	cell_subid_free(&g);
}

static char dir[] = "/tmp/celltest-subid-XXXXXX";

static void test_root_entry_added(void **state)
{
	_cleanup_free_ char *uf = xasprintf("%s/subuid", dir), *gf = xasprintf("%s/subgid", dir);
	_cleanup_free_ char *text = NULL, *notice = NULL;
	struct cell_subid u, g;
	struct cell_error err = { 0 };

	(void)state;
	assert_int_equal(cell_write_file_atomic(uf, "alice:1000000:65536", 19, 0644), 0);
	(void)unlink(gf);
	assert_int_equal(cell_subid_load_root(uf, gf, &u, &g, &notice, &err), 0);
	assert_non_null(notice);
	assert_non_null(strstr(notice, "added root:1065536:1000000000 to"));
	assert_int_equal(u.n_root, 1);
	assert_int_equal(u.root[0].start, 1065536);
	assert_int_equal(g.root[0].start, 1065536);
	assert_int_equal(cell_read_file(uf, &text, NULL), 0);
	assert_string_equal(text, "alice:1000000:65536\nroot:1065536:1000000000\n");
	cell_subid_free(&u);
	cell_subid_free(&g);
	free(TAKE_PTR(notice));
	/* present now: nothing added, nothing said */
	assert_int_equal(cell_subid_load_root(uf, gf, &u, &g, &notice, &err), 0);
	assert_null(notice);
	cell_subid_free(&u);
	cell_subid_free(&g);
	(void)unlink(uf);
	(void)unlink(gf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_root_entries),
		cmocka_unit_test(test_parse_refuses_bad_lines),
		cmocka_unit_test(test_first_fit),
		cmocka_unit_test(test_root_entry_added),
	};
	if (!mkdtemp(dir))
		return 1;
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	(void)rmdir(dir);
	return r;
}
