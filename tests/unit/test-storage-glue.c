/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manager's storage glue (manager/storage-glue.c), its pure parts: the
 * template cache key and an OCI template's config applied to the settings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/image/image.h"
#include "libcell/manager/supervisor-internal.h"

static void key_is(const char *t, char **packages, const char *want)
{
	_cleanup_free_ char *k = cell_manager_template_key(t, packages);
	assert_string_equal(k, want);
}

static void test_template_key(void **state)
{
	char *pk[] = { "curl", "vim", NULL }, *kp[] = { "vim", "curl", NULL };

	(void)state;
	/* the keys name directories of existing stores: they never change */
	key_is("busybox", NULL, "busybox-2");
	key_is("busybox", pk, "busybox-2"); /* packages are for debian */
	key_is("debian", NULL, "debian-bookworm-a6dc7f0ba2d10db6");
	key_is("debian:bookworm", NULL, "debian-bookworm-3853ccf7b5aab08e");
	key_is("debian:trixie", pk, "debian-trixie-493d343c78bf0d9f");
	key_is("debian:trixie", kp, "debian-trixie-a0aada24f6062e8f"); /* order counts */
	key_is("oci:/srv/img", NULL, "oci-739b5460adf5d454");
	char *none[] = { NULL };
	key_is("debian", none, "debian-bookworm-a6dc7f0ba2d10db6"); /* no packages, same key */
}

static struct cell_image_config image(void)
{
	struct cell_image_config c = { 0 };

	cell_strv_push(&c.entrypoint, xstrdup("/docker-entrypoint.sh"));
	cell_strv_push(&c.cmd, xstrdup("nginx"));
	cell_strv_push(&c.env, xstrdup("PATH=/usr/sbin:/usr/bin"));
	cell_strv_push(&c.env, xstrdup("NGINX_VERSION=1.25"));
	c.working_dir = xstrdup("/srv");
	c.uid = 101;
	c.gid = 102;
	c.stop_signal = xstrdup("SIGQUIT");
	return c;
}

static void test_image_config_fills_what_is_unset(void **state)
{
	struct cell_settings *s = xzalloc(sizeof(*s));
	struct cell_image_config c = image();

	(void)state;
	s->name = xstrdup("web");
	cell_strv_push(&s->env, xstrdup("MINE=1"));
	cell_manager_apply_image_config(s, &c);
	assert_int_equal(cell_strv_len(s->command), 2); /* Entrypoint, then Cmd */
	assert_string_equal(s->command[0], "/docker-entrypoint.sh");
	assert_string_equal(s->command[1], "nginx");
	assert_int_equal(cell_strv_len(s->env), 3); /* the image's env after the user's */
	assert_string_equal(s->env[0], "MINE=1");
	assert_string_equal(s->env[2], "NGINX_VERSION=1.25");
	assert_string_equal(s->cwd, "/srv");
	assert_string_equal(s->user, "101:102");
	assert_string_equal(s->stop_signal, "SIGQUIT");
	cell_settings_free(s);
	cell_image_config_free(&c);
}

static void test_the_users_settings_win(void **state)
{
	struct cell_settings *s = xzalloc(sizeof(*s));
	struct cell_image_config c = image();
	struct cell_error err = { 0 };

	(void)state;
	s->name = xstrdup("web");
	assert_int_equal(cell_settings_set(s, "command", "/bin/sh", &err), 0);
	assert_int_equal(cell_settings_set(s, "cwd", "/", &err), 0);
	assert_int_equal(cell_settings_set(s, "user", "0:0", &err), 0);
	assert_int_equal(cell_settings_set(s, "stop_signal", "SIGINT", &err), 0);
	cell_manager_apply_image_config(s, &c);
	assert_int_equal(cell_strv_len(s->command), 1);
	assert_string_equal(s->command[0], "/bin/sh");
	assert_string_equal(s->cwd, "/");
	assert_string_equal(s->user, "0:0");
	assert_string_equal(s->stop_signal, "SIGINT");
	cell_settings_free(s);
	cell_image_config_free(&c);
}

static void test_an_empty_image_config_changes_nothing(void **state)
{
	struct cell_settings *s = xzalloc(sizeof(*s));
	struct cell_image_config c = { 0 };

	(void)state;
	s->name = xstrdup("web");
	cell_manager_apply_image_config(s, &c);
	assert_null(s->command);
	assert_int_equal(cell_strv_len(s->env), 0);
	assert_null(s->cwd);
	assert_null(s->user); /* root (0:0) is the default, not written */
	assert_null(s->stop_signal);
	cell_settings_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_key),
		cmocka_unit_test(test_image_config_fills_what_is_unset),
		cmocka_unit_test(test_the_users_settings_win),
		cmocka_unit_test(test_an_empty_image_config_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
