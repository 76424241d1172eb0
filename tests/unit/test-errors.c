/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error codes that mean something (issue 10, item 4): the record (base/error.c)
 * keeps the errno that is true and says whether strerror belongs after the
 * message, and the conditions callers branch on come back as ENOENT (no such
 * container), EEXIST (exists), EBUSY (running), EINVAL (malformed), each the
 * same wherever it is found. */
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
#include "libcell/base/error.h"
#include "libcell/base/util.h"
#include "libcell/container-internal.h"
#include "libcell/manager/manager.h"
#include "libcell/spec/state.h"

static char tmp[] = "/tmp/cell-test-errors.XXXXXX";
static struct cell_store st;

static const char *text_of(const struct cell_error *e)
{
	static char buf[CELL_ERROR_MSG + 128];

	return cell_err_text(e, buf, sizeof(buf));
}

/* ---- the record ---- */

static void test_err_appends_strerror(void **state)
{
	struct cell_error e = { 0 };

	(void)state;
	assert_int_equal(cell_err(&e, ENOENT, "open %s", "/x"), -ENOENT);
	assert_int_equal(e.code, ENOENT);
	assert_false(e.plain);
	assert_string_equal(text_of(&e), "open /x: No such file or directory");
	/* a -errno return value passed on */
	assert_int_equal(cell_err(&e, -EACCES, "open %s", "/y"), -EACCES);
	assert_int_equal(e.code, EACCES);
	assert_string_equal(text_of(&e), "open /y: Permission denied");
}

static void test_errx_says_it_all(void **state)
{
	struct cell_error e = { 0 };

	(void)state;
	assert_int_equal(cell_errx(&e, EEXIST, "container \"%s\" already exists", "a"), -EEXIST);
	assert_int_equal(e.code, EEXIST);
	assert_true(e.plain);
	assert_string_equal(text_of(&e), "container \"a\" already exists");
	assert_int_equal(cell_errx(&e, -EBUSY, "a is running"), -EBUSY);
	assert_int_equal(e.code, EBUSY);
	assert_int_equal(cell_errx(NULL, ENOENT, "nowhere to record it"), -ENOENT);
}

/* scripts/lint refuses a literal 0; one computed at run time still means "invalid"
 * and still prints no "Success" */
static void test_code_zero_is_einval_without_text(void **state)
{
	struct cell_error e = { 0 };
	int zero = 0;

	(void)state;
	assert_int_equal(cell_err(&e, zero, "bad"), -EINVAL);
	assert_int_equal(e.code, EINVAL);
	assert_true(e.plain);
	assert_string_equal(text_of(&e), "bad");
	assert_int_equal(cell_errx(&e, zero, "worse"), -EINVAL);
	assert_string_equal(text_of(&e), "worse");
}

static void test_prefix_keeps_code_and_plainness(void **state)
{
	struct cell_error e = { 0 };

	(void)state;
	(void)cell_errx(&e, ENOENT, "no such thing");
	assert_int_equal(cell_err_prefix(&e, "start %s", "web"), -ENOENT);
	assert_string_equal(text_of(&e), "start web: no such thing");
	(void)cell_err(&e, EPERM, "mount proc");
	assert_int_equal(cell_err_prefix(&e, "create %s", "web"), -EPERM);
	assert_string_equal(text_of(&e), "create web: mount proc: Operation not permitted");
	/* a clear record reads as no error, and clear resets plainness */
	cell_err_clear(&e);
	assert_int_equal(e.code, 0);
	assert_false(e.plain);
	assert_string_equal(text_of(&e), "");
}

/* ---- the runtime's containers (cellrun's and cell's) ---- */

static void test_state_dir_missing_exists_invalid(void **state)
{
	_cleanup_free_ char *root = xasprintf("%s/state", tmp);
	struct cell_runtime rt = { .root = root };
	struct cell_error e = { 0 };
	int fd = -1;

	(void)state;
	assert_int_equal(cell_state_dir_open(&rt, "nosuch", false, &fd, &e), -ENOENT);
	assert_int_equal(e.code, ENOENT);
	assert_string_equal(text_of(&e), "container \"nosuch\" does not exist"); /* runc's words */
	assert_int_equal(fd, -1);

	assert_int_equal(cell_state_dir_open(&rt, "twice", true, &fd, &e), 0);
	(void)close(fd);
	fd = -1;
	assert_int_equal(cell_state_dir_open(&rt, "twice", true, &fd, &e), -EEXIST);
	assert_int_equal(e.code, EEXIST);
	assert_string_equal(text_of(&e), "container \"twice\" already exists");

	assert_int_equal(cell_state_dir_open(&rt, "a/b", false, &fd, &e), -EINVAL);
	assert_int_equal(e.code, EINVAL);
	assert_int_equal(fd, -1);
}

/* ---- the manager's containers ---- */

static void save(const char *name)
{
	struct cell_settings s = { .name = (char *)name };
	struct cell_error e = { 0 };
	_cleanup_free_ char *dir = cell_store_dir(&st, name);

	assert_int_equal(cell_mkdir_p(dir, 0700), 0);
	assert_int_equal(cell_settings_save(&st, &s, &e), 0);
}

/* Make `name` look running: a supervisor.pid naming this very process. */
static void fake_supervisor(const char *name)
{
	_cleanup_free_ char *rundir = cell_store_rundir(&st, name);
	_cleanup_free_ char *path = xasprintf("%s/supervisor.pid", rundir);
	unsigned long long start = 0;

	assert_int_equal(cell_mkdir_p(rundir, 0700), 0);
	assert_int_equal(cell_pid_start_time(getpid(), &start), 0);
	_cleanup_free_ char *text = xasprintf("%d %llu\n", (int)getpid(), start);
	assert_int_equal(cell_write_file_atomic(path, text, strlen(text), 0600), 0);
}

static void test_no_such_cell_is_enoent(void **state)
{
	struct cell_settings *s = NULL;
	struct cell_error e = { 0 };

	(void)state;
	assert_int_equal(cell_settings_load(&st, "ghost", &s, &e), -ENOENT);
	assert_null(s);
	assert_int_equal(e.code, ENOENT);
	assert_string_equal(text_of(&e), "no container named \"ghost\" (see cell ls)");
	assert_int_equal(cell_manager_start(&st, "ghost", CELL_START_DETACHED, &e), -ENOENT);
	assert_int_equal(e.code, ENOENT);
}

static void test_existing_cell_is_eexist(void **state)
{
	struct cell_settings *s = xzalloc(sizeof(*s));
	struct cell_create_req req = { .s = s };
	struct cell_error e = { 0 };

	(void)state;
	save("dup");
	s->name = xstrdup("dup");
	assert_int_equal(cell_manager_create(&st, &req, &e), -EEXIST);
	assert_int_equal(e.code, EEXIST);
	assert_string_equal(text_of(&e), "a container named \"dup\" exists already");
	cell_settings_free(s);
}

static void test_running_cell_is_ebusy(void **state)
{
	struct cell_error e = { 0 };

	(void)state;
	save("busy");
	fake_supervisor("busy");
	assert_int_equal(cell_manager_start(&st, "busy", CELL_START_DETACHED, &e), -EBUSY);
	assert_int_equal(e.code, EBUSY);
	assert_string_equal(text_of(&e), "busy is running already");
	assert_int_equal(cell_manager_destroy(&st, "busy", false, &e), -EBUSY);
	assert_int_equal(e.code, EBUSY);
	assert_string_equal(text_of(&e), "busy is running: stop it first or use --force");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_appends_strerror),
		cmocka_unit_test(test_errx_says_it_all),
		cmocka_unit_test(test_code_zero_is_einval_without_text),
		cmocka_unit_test(test_prefix_keeps_code_and_plainness),
		cmocka_unit_test(test_state_dir_missing_exists_invalid),
		cmocka_unit_test(test_no_such_cell_is_enoent),
		cmocka_unit_test(test_existing_cell_is_eexist),
		cmocka_unit_test(test_running_cell_is_ebusy),
	};
	struct cell_error err = { 0 };

	if (!mkdtemp(tmp))
		return 1;
	_cleanup_free_ char *root = xasprintf("%s/root", tmp);
	_cleanup_free_ char *run = xasprintf("%s/run", tmp);
	struct cell_store_paths paths = { .root = root, .run = run };
	if (cell_store_open(&st, &paths, &err) < 0)
		return 1;
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	cell_store_close(&st);
	(void)cell_rm_rf(tmp);
	return r;
}
