/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "libcell/linux/userns.h"

static void format_two_ranges(void **state)
{
	struct cell_idmap m[] = { { 0, 100000, 65536 }, { 65536, 1000, 1 } };
	char *s = cell_idmap_format(m, 2);
	assert_string_equal(s, "0 100000 65536\n65536 1000 1\n");
	free(s);
}

static void parse_round_trip(void **state)
{
	struct cell_idmap *m = NULL;
	struct cell_error err = { 0 };
	size_t n = 0;

	assert_int_equal(cell_idmap_parse("0 100000 65536\n  1 2 3\n", &m, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(m[0].host_id, 100000);
	assert_int_equal(m[1].size, 3);
	free(m);
}

static void parse_rejects(void **state)
{
	static const char *bad[] = { "0 1", "0 1 0\n", "a b c", "0 1 2 junk",
				     "4294967295 0 2", "0 4294967295 2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cell_idmap *m = NULL;
		struct cell_error err = { 0 };
		size_t n = 0;
		assert_true(cell_idmap_parse(bad[i], &m, &n, &err) < 0);
		assert_non_null(strstr(err.msg, "id map line 1"));
		assert_null(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_two_ranges),
		cmocka_unit_test(parse_round_trip),
		cmocka_unit_test(parse_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
