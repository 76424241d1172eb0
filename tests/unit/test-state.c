/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcell/base/util.h"
#include "libcell/spec/state.h"

static void save_load_round_trip(void **state)
{
	char dir[] = "/tmp/cell-test-state.XXXXXX";
	struct cell_kv ann[] = { { "org.example/key", "value" } };
	struct cell_state st = {
		.id = "web", .pid = getpid(), .bundle = "/b", .rootfs = "/b/rootfs",
		.status = CELL_CREATED, .created = "2026-01-01T00:00:00Z", .cgroup_path = "/x/web",
		.annotations = ann, .n_annotations = 1,
	};
	struct cell_state *back = NULL;
	struct cell_error err = { 0 };

	assert_non_null(mkdtemp(dir));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(cell_pid_start_time(getpid(), &st.start_time), 0);
	assert_int_equal(cell_state_save(fd, &st, &err), 0);
	assert_int_equal(cell_state_load(fd, &back, &err), 0);
	assert_string_equal(back->id, "web");
	assert_int_equal(back->status, CELL_CREATED);
	assert_string_equal(back->cgroup_path, "/x/web");
	assert_int_equal(back->n_annotations, 1);
	assert_string_equal(back->annotations[0].value, "value");
	assert_true(cell_state_pid_alive(back));
	back->start_time++; /* a recycled pid has another start time */
	assert_false(cell_state_pid_alive(back));
	cell_state_free(back);
	close(fd);
	char *cmd = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void oci_json_has_the_spec_keys(void **state)
{
	struct cell_state st = { .id = "a", .pid = 42, .bundle = "/b" };
	char *text = cell_state_oci_json(&st, CELL_RUNNING, false);
	json_t *o = json_loads(text, 0, NULL);

	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "running");
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), 42);
	assert_non_null(json_object_get(o, "ociVersion"));
	/* runc's omitempty: no annotations, no key */
	assert_null(json_object_get(o, "annotations"));
	json_decref(o);
	free(text);
	/* stopped containers report no live pid */
	text = cell_state_oci_json(&st, CELL_STOPPED, false);
	o = json_loads(text, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), 0);
	json_decref(o);
	free(text);
}

/* A hook's view of a process just made: "creating", and its pid (runtime.md#state). */
static void oci_json_creating_with_a_pid(void **state)
{
	struct cell_state st = { .id = "a", .bundle = "/b" };
	char *text = cell_state_oci_json_pid(&st, CELL_CREATING, 42, false);

	assert_string_equal(text, "{\"ociVersion\":\"1.2.0\",\"id\":\"a\",\"pid\":42,"
				  "\"status\":\"creating\",\"bundle\":\"/b\",\"rootfs\":\"\","
				  "\"owner\":\"\"}");
	free(text);
	text = cell_state_oci_json(&st, CELL_CREATING, false);
	assert_non_null(strstr(text, "\"pid\":0,"));
	free(text);
}

static int cell_write_file_at_new_for_test(int dirfd)
{
	int fd = openat(dirfd, "state.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int r = write(fd, "{\"id\": ", 7) == 7 ? 0 : -1;
	close(fd);
	return r;
}

static void corrupt_state_is_an_error(void **state)
{
	char dir[] = "/tmp/cell-test-state.XXXXXX";
	struct cell_state *back = NULL;
	struct cell_error err = { 0 };

	assert_non_null(mkdtemp(dir));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(cell_write_file_at_new_for_test(fd), 0);
	assert_true(cell_state_load(fd, &back, &err) < 0);
	assert_non_null(strstr(err.msg, "line 1"));
	assert_null(back);
	(void)unlinkat(fd, "state.json", 0);
	close(fd);
	(void)rmdir(dir);
}

static void put_state(int dirfd, const char *name, const char *text, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Every kind of damage is an error, never a crash or a half-filled state; the minimal
 * record (another file) still loads. */
static void damaged_state_kinds(void **state)
{
	static const char nul[64];
	static const struct {
		const char *text;
		size_t len;
		const char *want;
	} kinds[] = {
#define T(s) s, sizeof(s) - 1
		{ T(""), "line 1" },
		{ nul, sizeof(nul), "line 1" },
		{ T("{\"id\": \"a\", \"bun"), "line 1" },
		{ T("[1, 2]"), "not a JSON object" },
		{ T("\"text\""), "line 1" },
		{ T("{\"id\": 7, \"pid\": \"x\", \"bundle\": []}"), "missing id or bundle" },
#undef T
	};
	char dir[] = "/tmp/cell-test-state.XXXXXX";
	struct cell_state rec = { .id = "c", .bundle = "/b", .rootfs = "/b/r", .status = CELL_CREATING,
				  .created = "", .cgroup_path = "/x/c" };
	struct cell_state *back = NULL;
	struct cell_error err = { 0 };

	assert_non_null(mkdtemp(dir));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(cell_state_save_as(fd, CELL_RECORD_FILE, &rec, &err), 0);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		put_state(fd, CELL_STATE_FILE, kinds[i].text, kinds[i].len);
		assert_int_equal(cell_state_load(fd, &back, &err), -EINVAL);
		assert_null(back);
		assert_non_null(strstr(err.msg, kinds[i].want));
	}
	assert_int_equal(cell_state_load_from(fd, CELL_RECORD_FILE, &back, &err), 0);
	assert_string_equal(back->cgroup_path, "/x/c");
	assert_int_equal(back->pid, 0);
	cell_state_free(back);
	(void)unlinkat(fd, CELL_STATE_FILE, 0);
	(void)unlinkat(fd, CELL_RECORD_FILE, 0);
	close(fd);
	(void)rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(save_load_round_trip),
		cmocka_unit_test(oci_json_has_the_spec_keys),
		cmocka_unit_test(oci_json_creating_with_a_pid),
		cmocka_unit_test(corrupt_state_is_an_error),
		cmocka_unit_test(damaged_state_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
