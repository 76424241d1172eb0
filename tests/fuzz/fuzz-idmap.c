/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: id-map text ("inside outside count" lines, the format
 * of /proc/<pid>/uid_map and of newuidmap's arguments) -> cell_idmap_parse().
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/linux/userns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the parser promises: no empty range, no range past 2^32 - 1. */
static void assert_valid(const struct cell_idmap *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert(m[i].size > 0);
		assert((uint64_t)m[i].container_id + m[i].size - 1 <= UINT32_MAX);
		assert((uint64_t)m[i].host_id + m[i].size - 1 <= UINT32_MAX);
	}
}

/* The text cell_idmap_format() writes reads back as the same maps. */
static void assert_round_trip(const struct cell_idmap *m, size_t n)
{
	_cleanup_free_ char *text = cell_idmap_format(m, n);
	_cleanup_free_ struct cell_idmap *again = NULL;
	struct cell_error err = { 0 };
	size_t n_again = 0;

	assert(cell_idmap_parse(text, &again, &n_again, &err) == 0);
	assert(n_again == n);
	assert(n == 0 || memcmp(again, m, n * sizeof(*m)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the parser takes a C string: what follows a NUL is not seen */
	_cleanup_free_ char *text = xstrndup((const char *)data, size);
	struct cell_idmap *m = (struct cell_idmap *)&m; /* must stay untouched on error */
	struct cell_error err = { 0 };
	size_t n = SIZE_MAX;

	if (cell_idmap_parse(text, &m, &n, &err) < 0) {
		assert(err.msg[0] != '\0' && err.code != 0);
		assert(m == (struct cell_idmap *)&m && n == SIZE_MAX);
		return 0;
	}
	assert_valid(m, n);
	assert_round_trip(m, n);
	free(m);
	return 0;
}
