/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host-wide id registry (manager/idmap-registry.c) in a directory of its own:
 * first fit, sharing, replacing, reclaiming, release, and a damaged registry. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
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
#include "libcell/manager/idmap-internal.h"

#define BASE 1000000u

static char tmp[] = "/tmp/cell-test-idmap.XXXXXX";
static char *registry, *subuid, *subgid;

static void make_container(const struct cell_store *st, const char *name)
{
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	assert_int_equal(cell_mkdir_p(dir, 0700), 0);
}

static void open_store(struct cell_store *st, const char *sub)
{
	_cleanup_free_ char *root = xasprintf("%s/%s/root", tmp, sub);
	_cleanup_free_ char *run = xasprintf("%s/%s/run", tmp, sub);
	struct cell_error err = { 0 };

	const struct cell_store_paths paths = { .root = root, .run = run, .subuid = subuid,
						.subgid = subgid, .idmap_registry = registry };

	assert_int_equal(cell_store_open(st, &paths, &err), 0);
}

static uint32_t allocate(const struct cell_store *st, const char *name, const char *share)
{
	struct cell_error err = { 0 };
	char *notice = NULL;
	uint32_t start = 0;

	assert_int_equal(cell_idmap_allocate(st, name, share, &start, &notice, &err), 0);
	assert_null(notice); /* root has its entries: nothing added */
	return start;
}

/* the registry's entries as "name@start" lines, in file order */
static char *entries(void)
{
	json_error_t je;
	json_t *o = json_load_file(registry, 0, &je), *e;
	char *out = xstrdup("");
	size_t i;

	assert_non_null(o);
	json_array_foreach(json_object_get(o, "ranges"), i, e) {
		assert_int_equal(json_integer_value(json_object_get(e, "size")), CELL_IDMAP_SIZE);
		char *n = xasprintf("%s%s@%lld ", out,
				    json_string_value(json_object_get(e, "name")),
				    (long long)json_integer_value(json_object_get(e, "start")));
		free(out);
		out = n;
	}
	json_decref(o);
	return out;
}

static void reset(void)
{
	(void)unlink(registry);
}

static void test_first_fit_and_replace(void **state)
{
	struct cell_store st;

	(void)state;
	reset();
	open_store(&st, "fit");
	make_container(&st, "a");
	make_container(&st, "b");
	assert_int_equal(allocate(&st, "a", NULL), BASE);
	assert_int_equal(allocate(&st, "b", NULL), BASE + CELL_IDMAP_SIZE);
	/* a again: its old entry is replaced, and the lowest free slice is its own */
	assert_int_equal(allocate(&st, "a", NULL), BASE);
	_cleanup_free_ char *e = entries();
	_cleanup_free_ char *want = xasprintf("b@%u a@%u ", BASE + CELL_IDMAP_SIZE, BASE);
	assert_string_equal(e, want);
	/* the entry names the store by its real path */
	json_error_t je;
	json_t *o = json_load_file(registry, 0, &je);
	char real[PATH_MAX];
	assert_non_null(realpath(st.root, real));
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(o, "ranges"), 0), "store")),
			    real);
	json_decref(o);
	cell_store_close(&st);
}

static void test_share(void **state)
{
	struct cell_store st;
	struct cell_error err = { 0 };
	char *notice = NULL;
	uint32_t start = 7;

	(void)state;
	reset();
	open_store(&st, "share");
	make_container(&st, "a");
	make_container(&st, "b");
	assert_int_equal(allocate(&st, "a", NULL), BASE);
	assert_int_equal(allocate(&st, "b", "a"), BASE);
	assert_int_equal(cell_idmap_allocate(&st, "c", "ghost", &start, &notice, &err), -ENOENT);
	_cleanup_free_ char *msg = xasprintf(
		"allocate host ids for c: --idmap-share ghost: no unprivileged container of that "
		"name in %s",
		st.root);
	assert_string_equal(err.msg, msg);
	assert_int_equal(start, 7); /* untouched */
	assert_null(notice);
	cell_store_close(&st);
}

static void test_stores_do_not_share(void **state)
{
	struct cell_store one, two;

	(void)state;
	reset();
	open_store(&one, "one");
	open_store(&two, "two");
	make_container(&one, "web");
	make_container(&two, "web");
	assert_int_equal(allocate(&one, "web", NULL), BASE);
	/* the same name in another store is another container */
	assert_int_equal(allocate(&two, "web", NULL), BASE + CELL_IDMAP_SIZE);
	cell_store_close(&one);
	cell_store_close(&two);
}

static void test_stale_entries_are_reclaimed(void **state)
{
	struct cell_store st;

	(void)state;
	reset();
	open_store(&st, "stale");
	/* x's directory never existed (a crash between allocate and mkdir) */
	assert_int_equal(allocate(&st, "x", NULL), BASE);
	make_container(&st, "y");
	assert_int_equal(allocate(&st, "y", NULL), BASE);
	_cleanup_free_ char *e = entries();
	_cleanup_free_ char *want = xasprintf("y@%u ", BASE);
	assert_string_equal(e, want);
	cell_store_close(&st);
}

static void test_ranges_from_before_the_registry(void **state)
{
	struct cell_store st;
	struct cell_error err = { 0 };
	struct cell_settings old = { .name = "old", .unprivileged = true, .idmap_host = BASE,
				     .idmap_size = CELL_IDMAP_SIZE };

	(void)state;
	reset();
	open_store(&st, "legacy");
	make_container(&st, "old");
	make_container(&st, "new");
	assert_int_equal(cell_settings_save(&st, &old, &err), 0);
	/* old's cell.json holds its range: new goes after it, and can share it */
	assert_int_equal(allocate(&st, "new", NULL), BASE + CELL_IDMAP_SIZE);
	assert_int_equal(allocate(&st, "new", "old"), BASE);
	cell_store_close(&st);
}

static void test_release(void **state)
{
	struct cell_store st;
	struct cell_error err = { 0 };

	(void)state;
	reset();
	open_store(&st, "release");
	assert_int_equal(cell_idmap_release(&st, "a", &err), 0); /* no registry yet */
	assert_int_equal(access(registry, F_OK), -1);
	make_container(&st, "a");
	make_container(&st, "b");
	assert_int_equal(allocate(&st, "a", NULL), BASE);
	assert_int_equal(allocate(&st, "b", NULL), BASE + CELL_IDMAP_SIZE);
	assert_int_equal(cell_idmap_release(&st, "a", &err), 0);
	assert_int_equal(cell_idmap_release(&st, "a", &err), 0); /* idempotent */
	_cleanup_free_ char *e = entries();
	_cleanup_free_ char *want = xasprintf("b@%u ", BASE + CELL_IDMAP_SIZE);
	assert_string_equal(e, want);
	assert_int_equal(allocate(&st, "c", NULL), BASE); /* a's slice is free again */
	cell_store_close(&st);
}

static void test_damaged_registry(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "{\"ranges\": [", "line 1:" },
		{ "{\"other\": []}", "no \"ranges\" array (repair it)" },
		{ "{\"ranges\": [{\"store\": \"/s\", \"name\": \"a\", \"start\": 1}]}",
		  "ranges[0]: want store, name, start, size" },
		{ "{\"ranges\": [{\"store\": \"/s\", \"name\": \"a\", \"start\": 4294967295, "
		  "\"size\": 65536}]}",
		  "ranges[0]: want store, name, start, size" },
	};
	struct cell_store st;

	(void)state;
	open_store(&st, "damaged");
	make_container(&st, "a");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct cell_error err = { 0 };
		char *notice = NULL;
		uint32_t start = 7;
		assert_int_equal(cell_write_file_atomic(registry, bad[i].text, strlen(bad[i].text),
							0644),
				 0);
		assert_int_equal(cell_idmap_allocate(&st, "a", NULL, &start, &notice, &err), -EINVAL);
		_cleanup_free_ char *prefix =
			xasprintf("allocate host ids for a: idmap registry %s: ", registry);
		assert_true(cell_startswith(err.msg, prefix));
		assert_non_null(strstr(err.msg, bad[i].want));
		assert_int_equal(start, 7);
		/* a damaged registry is left as it was, for a person to repair */
		_cleanup_free_ char *text = NULL;
		assert_int_equal(cell_read_file(registry, &text, NULL), 0);
		assert_string_equal(text, bad[i].text);
	}
	reset();
	cell_store_close(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_fit_and_replace),
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_stores_do_not_share),
		cmocka_unit_test(test_stale_entries_are_reclaimed),
		cmocka_unit_test(test_ranges_from_before_the_registry),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_damaged_registry),
	};
	if (!mkdtemp(tmp))
		return 1;
	subuid = xasprintf("%s/subuid", tmp);
	subgid = xasprintf("%s/subgid", tmp);
	const char *ids = "alice:100000:65536\nroot:1000000:655360\n";
	if (cell_write_file_atomic(subuid, ids, strlen(ids), 0644) < 0 ||
	    cell_write_file_atomic(subgid, ids, strlen(ids), 0644) < 0)
		return 1;
	registry = xasprintf("%s/registry/ranges.json", tmp);
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	(void)cell_rm_rf(tmp);
	free(registry);
	free(subuid);
	free(subgid);
	return r;
}
