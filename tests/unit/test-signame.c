/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* base/signame.c: the one signal parser of cellrun kill, cell kill, an image's
 * StopSignal and cell's stop_signal. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/signame.h"
#include "libcell/base/util.h"

static int parsed(const char *s)
{
	int sig = -1;

	if (cell_signal_parse(s, &sig) < 0)
		return -1;
	return sig;
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(parsed("SIGTERM"), SIGTERM);
	assert_int_equal(parsed("TERM"), SIGTERM);
	assert_int_equal(parsed("sigterm"), SIGTERM); /* docker and runc: any case */
	assert_int_equal(parsed("quit"), SIGQUIT);
	assert_int_equal(parsed("SigKill"), SIGKILL);
	assert_int_equal(parsed("USR1"), SIGUSR1);
	assert_int_equal(parsed("SIGUSR2"), SIGUSR2);
	assert_int_equal(parsed("SIGPWR"), SIGPWR);
	assert_int_equal(parsed("WINCH"), SIGWINCH);
	assert_int_equal(parsed("STKFLT"), SIGSTKFLT);
	/* docker's and podman's aliases */
	assert_int_equal(parsed("SIGIOT"), SIGABRT);
	assert_int_equal(parsed("CLD"), SIGCHLD);
	assert_int_equal(parsed("POLL"), SIGIO);
}

static void test_numbers(void **state)
{
	(void)state;
	assert_int_equal(parsed("9"), SIGKILL);
	assert_int_equal(parsed("15"), SIGTERM);
	assert_int_equal(parsed("1"), SIGHUP);
	_cleanup_free_ char *rtmax = xasprintf("%d", SIGRTMAX);
	_cleanup_free_ char *past = xasprintf("%d", SIGRTMAX + 1);
	assert_int_equal(parsed(rtmax), SIGRTMAX);
	assert_int_equal(parsed(past), -1);
	static const char *const bad[] = {"0", "-9", "3x", "1.5", "99999999999999999999"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(parsed(bad[i]), -1);
}

static void test_realtime(void **state)
{
	(void)state;
	assert_int_equal(SIGRTMIN + 30, SIGRTMAX); /* what the cases assume */
	assert_int_equal(parsed("SIGRTMIN"), SIGRTMIN);
	assert_int_equal(parsed("RTMIN+3"), SIGRTMIN + 3); /* systemd: halt */
	assert_int_equal(parsed("sigrtmin+3"), SIGRTMIN + 3);
	assert_int_equal(parsed("SIGRTMIN+0"), SIGRTMIN);
	assert_int_equal(parsed("SIGRTMIN+30"), SIGRTMAX);
	assert_int_equal(parsed("RTMAX"), SIGRTMAX);
	assert_int_equal(parsed("SIGRTMAX-1"), SIGRTMAX - 1);
	assert_int_equal(parsed("RTMAX-30"), SIGRTMIN);
}

/* past SIGRTMAX kill(2) refuses; below SIGRTMIN are glibc's own and the standard
 * signals (SIGRTMIN+-5 would be SIGIO) */
static void test_refused(void **state)
{
	static const char *const bad[] = {
	    "",		  "SIG",	 "bogus",
	    "SIGNONE",	  "SIGSIGTERM",	 "TERM ",
	    "SIGRTMIN+",  "SIGRTMIN+x",	 "SIGRTMIN+31",
	    "RTMIN+99",	  "SIGRTMIN+-1", "SIGRTMIN+-5",
	    "SIGRTMIN-1", "SIGRTMINX",	 "RTMIN3",
	    "RTMAX+1",	  "RTMAX-31",	 "RTMAX+0",
	    "RTMIN+ 3",	  "RTMIN++3",	 "RTMIN+99999999999999999999",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (parsed(bad[i]) != -1)
			fail_msg("\"%s\" parsed as %d", bad[i], parsed(bad[i]));
}

static void test_untouched_on_error(void **state)
{
	int sig = 77;

	(void)state;
	assert_int_equal(cell_signal_parse("bogus", &sig), -EINVAL);
	assert_int_equal(sig, 77);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_realtime),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_untouched_on_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
