/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/pasta.c: pasta's command line, and the start, record and stop around
 * it with a stand-in for pasta (a shell script that daemonizes a sleep the
 * way pasta does: pid file written, first process exits), so no namespace or
 * tun device is touched.  The real pasta is driven by
 * tests/cell/test_rootless_net.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/net/pasta.h"

static char *joined(char **v)
{
	char *s = xstrdup("");

	for (size_t i = 0; v[i]; i++) {
		char *n = xasprintf("%s%s%s", s, i ? " " : "", v[i]);
		free(s);
		s = n;
	}
	return s;
}

static void test_argv_ports(void **state)
{
	(void)state;
	struct cell_port ports[3] = {
	    {.proto = IPPROTO_TCP,
	     .host_family = AF_INET,
	     .host_ip = {127, 0, 0, 1},
	     .host_port = 18080,
	     .ctr_port = 80},
	    {.proto = IPPROTO_TCP, .host_port = 2222, .ctr_port = 22},
	    {.proto = IPPROTO_UDP, .host_port = 5353, .ctr_port = 53},
	};
	struct cell_pasta p = {
	    .pasta = "/usr/bin/pasta", .dir = "/run/c/x", .init = 42, .ports = ports, .n_ports = 3};
	_cleanup_strv_free_ char **v = cell_pasta_argv(&p);
	_cleanup_free_ char *s = joined(v);

	assert_string_equal(s, "/usr/bin/pasta --config-net --quiet --ns-ifname eth0 "
			       "--dns-forward " CELL_PASTA_DNS " -T none -U none "
			       "-t 127.0.0.1/18080:80 -t 2222:22 -u 5353:53 "
			       "--pid /run/c/x/pasta.pid 42");
}

static void test_argv_no_ports(void **state)
{
	(void)state;
	struct cell_pasta p = {.dir = "/d", .init = 7};
	_cleanup_strv_free_ char **v = cell_pasta_argv(&p);
	_cleanup_free_ char *s = joined(v);

	/* nothing published: not pasta's "auto" (every port bound inside) */
	assert_non_null(strstr(s, "-t none -u none --pid /d/pasta.pid 7"));
	assert_string_equal(v[0], "pasta");
}

struct fixture {
	char dir[64];
	char *script;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/test-pasta.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->script = xasprintf("%s/fake-pasta", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct cell_error ignored = {0};

	(void)cell_pasta_stop(f->dir, &ignored); /* whatever the test left running */
	(void)cell_rm_rf(f->dir);
	free(f->script);
	free(f);
	return 0;
}

static void write_script(struct fixture *f, const char *body)
{
	_cleanup_free_ char *text = xasprintf("#!/bin/sh\n%s\n", body);

	assert_int_equal(cell_write_file_atomic(f->script, text, strlen(text), 0755), 0);
}

/* Like pasta: the pid file is the argument after --pid; the first process
 * exits once the daemon runs.  The daemon notes whether fd 77 reached it. */
#define DAEMONIZE                                                                                  \
	"while [ \"$1\" != --pid ]; do shift; done; pf=$2\n"                                       \
	"sh -c 'if [ -e /proc/self/fd/77 ]; then echo leaked; else echo clean; fi "                \
	"> \"$0\".fds; exec sleep 60' \"$pf\" </dev/null >/dev/null 2>&1 &\n"                      \
	"echo $! > \"$pf\"\n"

static void test_start_record_stop(void **state)
{
	struct fixture *f = *state;
	struct cell_error err = {0};
	struct cell_pasta p = {.pasta = f->script, .dir = f->dir, .init = 1};
	_cleanup_free_ char *fds = xasprintf("%s/pasta.pid.fds", f->dir), *text = NULL;
	int leak = open("/dev/null", O_RDONLY); /* without O_CLOEXEC, on purpose */

	assert_true(leak >= 0);
	assert_int_equal(dup2(leak, 77), 77);
	write_script(f, DAEMONIZE);
	assert_int_equal(cell_pasta_start(&p, &err), 0);
	(void)close(77);
	(void)close(leak);
	pid_t pid = cell_pasta_pid(f->dir);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, 0), 0);
	for (int i = 0; i < 200 && cell_read_file(fds, &text, NULL) < 0; i++)
		(void)usleep(10000);
	assert_non_null(text);
	assert_string_equal(text, "clean\n");
	assert_int_equal(cell_pasta_stop(f->dir, &err), 0);
	assert_int_equal(cell_pasta_pid(f->dir), 0);
	assert_int_equal(cell_pasta_stop(f->dir, &err), 0); /* none: no error */
}

static void test_start_failure_says_why(void **state)
{
	struct fixture *f = *state;
	struct cell_error err = {0};
	struct cell_pasta p = {.pasta = f->script, .dir = f->dir, .init = 1};

	write_script(f, "echo 'Failed to send 7 bytes to syslog' >&2\n"
			"echo 'External interface not usable' >&2\n"
			"echo 'Failed to send 9 bytes to syslog' >&2\nexit 1");
	assert_int_equal(cell_pasta_start(&p, &err), -EIO);
	assert_string_equal(err.msg, "pasta exited with 1: External interface not usable");
}

static void test_stale_record_is_not_trusted(void **state)
{
	struct fixture *f = *state;
	struct cell_error err = {0};
	_cleanup_free_ char *rec = xasprintf("%s/pasta.cell", f->dir);
	_cleanup_free_ char *text = xasprintf("%d 1\n", (int)getpid()); /* our pid, not our start */

	assert_int_equal(cell_write_file_atomic(rec, text, strlen(text), 0644), 0);
	assert_int_equal(cell_pasta_pid(f->dir), 0);
	assert_int_equal(cell_pasta_stop(f->dir, &err), 0); /* and we are still here */
	assert_int_equal(access(rec, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_argv_ports),
	    cmocka_unit_test(test_argv_no_ports),
	    cmocka_unit_test_setup_teardown(test_start_record_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_failure_says_why, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_record_is_not_trusted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
