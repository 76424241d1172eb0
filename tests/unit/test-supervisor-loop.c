/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The supervisor's loop (manager/supervisor-loop.c), which `cell run` and
 * cell-monitor share, and the named options `cell start` hands cell-monitor. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "libcell/manager/supervisor-loop.h"

static char dir[] = "/tmp/cell-test-supervisor-loop.XXXXXX";

static const struct cell_sup_handover example = {
	.cell = "/usr/bin/cell", .name = "web", .log_path = "/var/lib/cell/web/console.log",
	.init = 4242, .stop_signal = 37 /* SIGRTMIN+3 */, .master = 2, .listen_fd = -1, .log_fd = 1,
	.foreground = true,
};

static int parse(char **argv, struct cell_sup_handover *h, const char **bad)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return cell_sup_handover_parse(argc, argv, h, bad);
}

static void test_handover_round_trip(void **state)
{
	char *argv[CELL_SUP_HANDOVER_ARGS], buf[1024];
	struct cell_sup_handover h;
	const char *bad = NULL;

	(void)state;
	assert_int_equal(cell_sup_handover_argv(&example, argv, buf, sizeof(buf)), 0);
	assert_string_equal(argv[0], "cell-monitor");
	assert_string_equal(argv[1], "--cell=/usr/bin/cell");
	assert_string_equal(argv[4], "--stop-signal=37");
	assert_null(argv[CELL_SUP_HANDOVER_ARGS - 1]);
	assert_int_equal(parse(argv, &h, &bad), 0);
	assert_string_equal(h.cell, example.cell);
	assert_string_equal(h.name, example.name);
	assert_string_equal(h.log_path, example.log_path);
	assert_int_equal(h.init, 4242);
	assert_int_equal(h.stop_signal, 37);
	assert_int_equal(h.master, 2);
	assert_int_equal(h.listen_fd, -1);
	assert_int_equal(h.log_fd, 1);
	assert_true(h.foreground);
}

static void test_handover_needs_room(void **state)
{
	char *argv[CELL_SUP_HANDOVER_ARGS], buf[64];

	(void)state;
	assert_int_equal(cell_sup_handover_argv(&example, argv, buf, sizeof(buf)), -ENAMETOOLONG);
}

/* One option of the example replaced by arg (NULL: left out), parsed. */
static int parse_with(const char *name, const char *arg, const char **bad)
{
	char *argv[CELL_SUP_HANDOVER_ARGS + 1], buf[1024];
	struct cell_sup_handover h;
	size_t len = strlen(name);
	int j = 1;

	assert_int_equal(cell_sup_handover_argv(&example, argv, buf, sizeof(buf)), 0);
	for (int i = 1; argv[i]; i++) {
		if (strncmp(argv[i] + 2, name, len) != 0 || argv[i][2 + len] != '=')
			argv[j++] = argv[i];
		else if (arg)
			argv[j++] = (char *)arg;
	}
	argv[j] = NULL;
	return parse(argv, &h, bad);
}

static void test_handover_refuses(void **state)
{
	static const char *const bad_args[][2] = {
		{ "init", "--init=0" },		  { "init", "--init=12x" },
		{ "init", "--init=" },		  { "init", "--pid=12" },
		{ "init", "4242" },		  { "stop-signal", "--stop-signal=0" },
		{ "stop-signal", "--stop-signal=65" }, { "master-fd", "--master-fd=-2" },
		{ "master-fd", "--master-fd=999" }, { "foreground", "--foreground=2" },
		{ "name", "--name=" },		  { "log", "--log" },
	};
	const char *bad = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_args) / sizeof(bad_args[0]); i++) {
		bad = NULL;
		assert_int_equal(parse_with(bad_args[i][0], bad_args[i][1], &bad), -EINVAL);
		assert_string_equal(bad, bad_args[i][1]);
	}
	assert_int_equal(parse_with("log-fd", NULL, &bad), -ENOENT);
	assert_string_equal(bad, "log-fd");
	/* each once */
	assert_int_equal(parse_with("cell", "--name=web", &bad), -EINVAL);
	assert_string_equal(bad, "--name=web");
	/* the positional argv of old */
	char *old[] = { "cell-monitor", "/usr/bin/cell", "web", "4242", "15", "-1", "-1", "1",
			"0", "/tmp/log", NULL };
	assert_int_equal(parse(old, &(struct cell_sup_handover){ 0 }, &bad), -EINVAL);
	assert_string_equal(bad, "/usr/bin/cell");
}

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0 && strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static char *slurp(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		(void)close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* The init: waits for a line on the pty, answers, exits 7. */
static pid_t fake_init(int pty)
{
	pid_t pid = fork();
	char b[16];

	assert_true(pid >= 0);
	if (pid == 0) {
		ssize_t n = read(pty, b, sizeof(b));
		if (n == 4 && memcmp(b, "bye\n", 4) == 0 && write(pty, "hello", 5) == 5)
			_exit(7);
		_exit(1);
	}
	return pid;
}

/* A client's input reaches the init, the init's output the log (rotated past the
 * cap) and the client; the loop returns the init's status. */
static void test_loop_pumps_rotates_and_reaps(void **state)
{
	char sock[256], log[256], old[256], got[16] = { 0 };
	int pair[2];
	struct cell_sup_loop l;

	(void)state;
	(void)snprintf(sock, sizeof(sock), "%s/console.sock", dir);
	(void)snprintf(log, sizeof(log), "%s/console.log", dir);
	(void)snprintf(old, sizeof(old), "%s/console.log.1", dir);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
	cell_sup_loop_init(&l);
	assert_int_equal(cell_sup_loop_signals(&l), 0);
	l.master = pair[0];
	l.listen_fd = listen_at(sock);
	l.log_path = log;
	l.log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	assert_int_equal(write(l.log_fd, "before", 6), 6);
	l.log_size = CELL_SUP_LOG_CAP - 2; /* the next output rotates */
	int client = connect_to(sock);
	assert_int_equal(write(client, "bye\n", 4), 4);
	l.init = fake_init(pair[1]);
	(void)close(pair[1]);

	int status = cell_sup_loop_run(&l);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	assert_string_equal(slurp(log), "hello");
	assert_string_equal(slurp(old), "before");
	assert_int_equal(read(client, got, sizeof(got) - 1), 5);
	assert_string_equal(got, "hello");
	assert_int_equal(l.log_size, 5);

	cell_sup_loop_unblock();
	int fds[] = { client, l.master, l.listen_fd, l.log_fd, l.sfd, l.clients[0] };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		(void)close(fds[i]);
	(void)unlink(sock);
	(void)unlink(log);
	(void)unlink(old);
}

static int stop_with_kill(void *data)
{
	(void)kill(*(pid_t *)data, SIGKILL);
	return SIGKILL;
}

static int stop_with_usr1(void *data)
{
	(void)kill(*(pid_t *)data, SIGUSR1);
	return SIGUSR1;
}

static void exit_5(int sig)
{
	(void)sig;
	_exit(5);
}

/* The power-off signal reaches an init that has no handler for it yet (as a
 * namespace's init drops it, this one ignores it); once it has one, the loop
 * sends it again instead of waiting for ever. */
static void test_loop_repeats_a_stop_the_init_could_not_take(void **state)
{
	struct cell_sup_loop l;
	int ready[2];
	char c;

	(void)state;
	cell_sup_loop_init(&l);
	assert_int_equal(cell_sup_loop_signals(&l), 0);
	assert_int_equal(pipe(ready), 0);
	l.init = fork();
	assert_true(l.init >= 0);
	if (l.init == 0) {
		(void)signal(SIGUSR1, SIG_IGN);
		cell_sup_loop_unblock();
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		(void)usleep(300 * 1000);
		(void)signal(SIGUSR1, exit_5);
		for (;;)
			(void)pause();
	}
	assert_int_equal(read(ready[0], &c, 1), 1); /* it ignores SIGUSR1 now */
	(void)close(ready[0]);
	(void)close(ready[1]);
	l.stop = stop_with_usr1;
	l.data = &l.init;
	(void)alarm(20); /* a loop that never asks again fails the test, not hangs it */
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	int status = cell_sup_loop_run(&l);
	(void)alarm(0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 5);
	assert_int_equal(l.stop_retry, 0);
	cell_sup_loop_unblock();
	(void)close(l.sfd);
}

/* SIGTERM to the supervisor is the stop callback's, which here kills the init. */
static void test_loop_stops_on_sigterm(void **state)
{
	struct cell_sup_loop l;

	(void)state;
	cell_sup_loop_init(&l);
	assert_int_equal(cell_sup_loop_signals(&l), 0);
	l.init = fork();
	assert_true(l.init >= 0);
	if (l.init == 0) {
		for (;;)
			(void)pause();
	}
	l.stop = stop_with_kill;
	l.data = &l.init;
	assert_int_equal(kill(getpid(), SIGTERM), 0); /* blocked: waits in the signalfd */
	int status = cell_sup_loop_run(&l);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	cell_sup_loop_unblock();
	(void)close(l.sfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handover_round_trip),
		cmocka_unit_test(test_handover_needs_room),
		cmocka_unit_test(test_handover_refuses),
		cmocka_unit_test(test_loop_pumps_rotates_and_reaps),
		cmocka_unit_test(test_loop_stops_on_sigterm),
		cmocka_unit_test(test_loop_repeats_a_stop_the_init_could_not_take),
	};
	if (!mkdtemp(dir))
		return 1;
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	(void)rmdir(dir);
	return r;
}
