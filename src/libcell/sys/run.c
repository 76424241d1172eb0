/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "syscalls.h"

extern char **environ;

enum run_step { STEP_FORK, STEP_MOUNT_NS, STEP_USER_NET_NS, STEP_EXEC };

static const char *const step_names[] = { "fork", "private mount namespace",
					   "user and network namespace", "exec" };

/* What the child tells the parent before it gives up. */
struct run_failure {
	int step, error;
};

/* Between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn)) child_fail(int report, enum run_step step)
{
	struct run_failure f = { step, errno };

	(void)!write(report, &f, sizeof(f));
	_exit(127);
}

static void reset_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL); /* KILL, STOP and glibc's own refuse: no matter */
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* fd over target; an fd already in place loses its close-on-exec flag. */
static int place_fd(int fd, int target, int null)
{
	if (fd == CELL_RUN_INHERIT)
		return 0;
	if (fd == CELL_RUN_NULL)
		fd = null;
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

/* A whole small file written with one write (no allocation after fork). */
static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	if (fd >= 0)
		(void)close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A user namespace whose root is our one id (a process may map its own id
 * without a helper once setgroups is denied), and a network namespace in it. */
static int user_net_ns(uid_t uid, gid_t gid)
{
	char map[64];

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0 ||
	    write_proc("/proc/self/setgroups", "deny") < 0)
		return -1;
	(void)snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_proc("/proc/self/uid_map", map) < 0)
		return -1;
	(void)snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	return write_proc("/proc/self/gid_map", map);
}

static void __attribute__((noreturn)) child(const struct cell_run *r, char *const *env,
					    char *const *alt, int null, int report)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();

	reset_signals();
	if (r->new_mount_ns &&
	    (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
		child_fail(report, STEP_MOUNT_NS);
	if (r->new_user_net_ns && user_net_ns(uid, gid) < 0)
		child_fail(report, STEP_USER_NET_NS);
	if (r->new_session)
		(void)setsid(); /* fails only for a group leader, which a fork is not */
	for (int i = 0; i < 3; i++)
		if (place_fd(r->fd[i], i, null) < 0)
			child_fail(report, STEP_EXEC);
	if (r->only_std_fds && syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		child_fail(report, STEP_EXEC);
	if (r->search && !strchr(r->argv[0], '/'))
		(void)execvpe(r->argv[0], r->argv, env);
	else
		(void)execve(r->argv[0], r->argv, env);
	for (size_t i = 0; errno == ENOENT && alt && alt[i]; i++)
		(void)execve(alt[i], r->argv, env);
	child_fail(report, STEP_EXEC);
}

/* The other places to look for a name (built before fork: the child allocates nothing). */
static char **alternatives(const struct cell_run *r)
{
	char **alt = NULL;

	if (!r->search || !r->dirs || strchr(r->argv[0], '/'))
		return NULL;
	alt = xcalloc(1, sizeof(char *));
	for (size_t i = 0; r->dirs[i]; i++)
		cell_strv_push(&alt, xasprintf("%s/%s", r->dirs[i], r->argv[0]));
	return alt;
}

/* After fork: nothing on the pipe is an exec that worked. */
static pid_t started(pid_t pid, int report, const char **step)
{
	struct run_failure f;
	ssize_t n;
	int status;

	while ((n = read(report, &f, sizeof(f))) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(f))
		return pid;
	(void)cell_run_wait(pid, &status);
	if (step)
		*step = step_names[f.step == STEP_MOUNT_NS || f.step == STEP_USER_NET_NS ? f.step
										       : STEP_EXEC];
	return f.error > 0 ? -f.error : -EIO;
}

pid_t cell_run_start(const struct cell_run *r, const char **step)
{
	_cleanup_strv_free_ char **alt = alternatives(r);
	_cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int report[2];
	pid_t pid;

	if (step)
		*step = step_names[STEP_FORK];
	if (null < 0)
		return -errno;
	if (pipe2(report, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0)
		child(r, r->env ? r->env : environ, alt, null, report[1]);
	int e = errno;
	(void)close(report[1]);
	if (pid < 0) {
		(void)close(report[0]);
		return -e;
	}
	pid = started(pid, report[0], step);
	(void)close(report[0]);
	return pid;
}

int cell_run_wait(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* true when the process behind pidfd has exited within ms */
static bool exited_within(int pidfd, int ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int r;

	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return r > 0;
}

int cell_run_terminate(pid_t pid, bool (*ours)(pid_t pid, void *arg), void *arg, int grace_ms)
{
	_cleanup_close_ int pidfd = cell_sys_pidfd_open(pid, 0);

	if (pidfd < 0)
		return errno == ESRCH ? 0 : -errno;
	if (!ours(pid, arg))
		return 0;
	if (cell_sys_pidfd_send_signal(pidfd, SIGTERM, NULL, 0) < 0)
		return errno == ESRCH ? 0 : -errno;
	if (exited_within(pidfd, grace_ms))
		return 0;
	if (cell_sys_pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0)
		return errno == ESRCH ? 0 : -errno;
	return exited_within(pidfd, grace_ms) ? 0 : -ETIMEDOUT;
}
