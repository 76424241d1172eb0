/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The signal `cell stop` sends the init (stop-signal.c's cell_stop_signal_of): the
 * stop_signal setting by name, SIGTERM for what it cannot use. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/manager/supervisor-internal.h"

static char tmp[] = "/tmp/cell-test-stop-signal.XXXXXX";
static struct cell_store st;

static int signal_of(const char *value)
{
	struct cell_settings s = { .name = "web", .stop_signal = (char *)value };
	struct cell_error err = { 0 };

	assert_int_equal(cell_settings_save(&st, &s, &err), 0);
	return cell_stop_signal_of(&st, "web");
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(signal_of(NULL), SIGTERM); /* unset */
	assert_int_equal(signal_of("SIGTERM"), SIGTERM);
	assert_int_equal(signal_of("SIGUSR2"), SIGUSR2); /* busybox init: power off */
	assert_int_equal(signal_of("USR1"), SIGUSR1);
	assert_int_equal(signal_of("SIGINT"), SIGINT);
	assert_int_equal(signal_of("SIGPWR"), SIGPWR);
	assert_int_equal(signal_of("SIGRTMIN+3"), SIGRTMIN + 3); /* systemd: halt */
	assert_int_equal(signal_of("RTMIN+3"), SIGRTMIN + 3);
	assert_int_equal(signal_of("SIGRTMIN"), SIGRTMIN);
	assert_int_equal(signal_of("SIGRTMIN+0"), SIGRTMIN);
	assert_int_equal(signal_of("SIGRTMIN+30"), SIGRTMAX);
}

static void test_unusable_values_send_sigterm(void **state)
{
	static const char *const bad[] = { "", "bogus", "SIG", "sigterm", "SIGRTMIN+x",
					   "SIGRTMIN+", "SIGNONE" };
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(signal_of(bad[i]), SIGTERM);
}

/* a real-time signal past SIGRTMAX (kill(2) refuses it, so stop waited out its
 * timeout), a negative offset (SIGRTMIN-1 is glibc's own, and SIGRTMIN+-5 is SIGIO)
 * or anything else after RTMIN is no signal to send */
static void test_rtmin_out_of_range_sends_sigterm(void **state)
{
	static const char *const bad[] = { "SIGRTMIN+31", "SIGRTMIN+100", "SIGRTMIN+-1",
					   "SIGRTMIN+-5", "SIGRTMIN-1", "SIGRTMINX",
					   "RTMIN+99999999999999999999" };
	(void)state;
	assert_int_equal(SIGRTMIN + 30, SIGRTMAX); /* what the cases assume */
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(signal_of(bad[i]), SIGTERM);
}

/* an image's StopSignal may be a number ("3"), and create copies it as written */
static void test_numbers(void **state)
{
	(void)state;
	assert_int_equal(signal_of("3"), SIGQUIT);
	assert_int_equal(signal_of("9"), SIGKILL);
	assert_int_equal(signal_of("15"), SIGTERM);
	_cleanup_free_ char *rtmax = xasprintf("%d", SIGRTMAX);
	assert_int_equal(signal_of(rtmax), SIGRTMAX);
	_cleanup_free_ char *past = xasprintf("%d", SIGRTMAX + 1);
	static const char *const bad[] = { "0", "-9", "3x", "1.5", "99999999999999999999" };
	assert_int_equal(signal_of(past), SIGTERM);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(signal_of(bad[i]), SIGTERM);
}

static void test_no_container_sends_sigterm(void **state)
{
	(void)state;
	assert_int_equal(cell_stop_signal_of(&st, "ghost"), SIGTERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_unusable_values_send_sigterm),
		cmocka_unit_test(test_rtmin_out_of_range_sends_sigterm),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_no_container_sends_sigterm),
	};
	struct cell_error err = { 0 };

	if (!mkdtemp(tmp))
		return 1;
	_cleanup_free_ char *root = xasprintf("%s/root", tmp);
	_cleanup_free_ char *run = xasprintf("%s/run", tmp);
	const struct cell_store_paths paths = { .root = root, .run = run };
	if (cell_store_open(&st, &paths, &err) < 0)
		return 1;
	_cleanup_free_ char *dir = cell_store_dir(&st, "web");
	if (cell_mkdir_p(dir, 0700) < 0)
		return 1;
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	cell_store_close(&st);
	(void)cell_rm_rf(tmp);
	return r;
}
