/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "libcell/sys/privilege.h"

/* What the initial user namespace's /proc/self/uid_map reads. */
static void initial_map(void **state)
{
	(void)state;
	assert_true(cell_uid_map_is_initial("         0          0 4294967295\n"));
	assert_true(cell_uid_map_is_initial("0 0 4294967295"));
}

/* rootless podman, unshare -r, a partial or split identity map */
static void namespaced_maps(void **state)
{
	(void)state;
	assert_false(cell_uid_map_is_initial("         0       1000          1\n"));
	assert_false(cell_uid_map_is_initial("0 1000 1\n1 100000 65536\n"));
	assert_false(cell_uid_map_is_initial("0 0 4294967294\n"));
	assert_false(cell_uid_map_is_initial("0 0 65536\n65536 65536 4294901759\n"));
	assert_false(cell_uid_map_is_initial("0 0 4294967295\n1 1 1\n"));
	assert_false(cell_uid_map_is_initial(""));
	assert_false(cell_uid_map_is_initial("0 0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(initial_map),
		cmocka_unit_test(namespaced_maps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
