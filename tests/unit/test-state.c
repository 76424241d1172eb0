/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcell/base/util.h"
#include "libcell/state.h"

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
	assert_non_null(json_object_get(o, "annotations"));
	json_decref(o);
	free(text);
	/* stopped containers report no live pid */
	text = cell_state_oci_json(&st, CELL_STOPPED, false);
	o = json_loads(text, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), 0);
	json_decref(o);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(save_load_round_trip),
		cmocka_unit_test(oci_json_has_the_spec_keys),
		cmocka_unit_test(corrupt_state_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
