/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "hooks.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../sys/syscalls.h"

static void __attribute__((noreturn)) hook_child(const struct cell_hook *h, int exec_fd, int in,
						  char *const *inherit_env)
{
	char *argv0[] = { h->path, NULL };
	char *env0[] = { NULL };
	char **argv = h->args && h->args[0] ? h->args : argv0;
	/* no "env" (absent or null) inherits; "env": [] is an empty environment (runc) */
	char *const *envp = h->env ? h->env : inherit_env ? inherit_env : env0;
	sigset_t none;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	if (dup2(in, STDIN_FILENO) < 0)
		_exit(126);
	if (exec_fd >= 0)
		(void)syscall(SYS_execveat, exec_fd, "", argv, envp, AT_EMPTY_PATH);
	else
		(void)execve(h->path, argv, envp);
	_exit(127);
}

/* Wait for pid up to timeout seconds (0: forever); kills it on timeout. */
static int wait_hook(pid_t pid, int timeout, int *status)
{
	_cleanup_close_ int pfd = cell_sys_pidfd_open(pid, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	if (pfd >= 0 && timeout > 0) {
		int r;
		do
			r = poll(&p, 1, timeout * 1000);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, status, 0);
			return -ETIME;
		}
	}
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* The state to a hook's stdin.  A hook that does not read it may be gone already:
 * the EPIPE is no error, and its SIGPIPE must not kill us.  Ignoring the signal
 * is not enough when the caller blocks it (`run` does, for its signalfd): the
 * kernel keeps a blocked signal pending even when ignored, and it would strike
 * once unblocked.  So it is blocked here and, if raised, taken back. */
static void write_state(int fd, const char *state_json)
{
	sigset_t pipe_set, old;
	const struct timespec now = { 0 };

	(void)sigemptyset(&pipe_set);
	(void)sigaddset(&pipe_set, SIGPIPE);
	(void)sigprocmask(SIG_BLOCK, &pipe_set, &old);
	bool was_pending = false;
	sigset_t pending;
	if (sigpending(&pending) == 0)
		was_pending = sigismember(&pending, SIGPIPE) == 1;
	if (cell_write_all(fd, state_json, strlen(state_json)) == -EPIPE && !was_pending)
		(void)sigtimedwait(&pipe_set, NULL, &now);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
}

int cell_hook_run(const struct cell_hook *h, int exec_fd, char *const *inherit_env,
		  const char *state_json, struct cell_error *err)
{
	int pipefd[2], status = 0, r;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return cell_err(err, errno, "hook %s: pipe", h->path);
	pid_t pid = fork();
	if (pid < 0) {
		r = errno;
		(void)close(pipefd[0]);
		(void)close(pipefd[1]);
		return cell_err(err, r, "hook %s: fork", h->path);
	}
	if (pid == 0)
		hook_child(h, exec_fd, pipefd[0], inherit_env);
	(void)close(pipefd[0]);
	write_state(pipefd[1], state_json);
	(void)close(pipefd[1]);
	r = wait_hook(pid, h->timeout_set ? h->timeout : 0, &status);
	if (r == -ETIME)
		return cell_errx(err, ETIMEDOUT, "hook %s timed out after %d s", h->path,
				 h->timeout);
	if (r < 0)
		return cell_err(err, r, "hook %s: wait", h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return cell_errx(err, ENOEXEC,
				 "hook %s: could not execute it (missing or not executable?)",
				 h->path);
	/* runc's words around a hook's status: "error running hook: signal: bad system
	 * call" (1.1; Go's os/exec) inside "error running KIND hook #N" (1.2 on) */
	if (WIFEXITED(status))
		return cell_errx(err, EIO, "error running hook: %s exited with status %d", h->path,
				 WEXITSTATUS(status));
	char sig[64];
	const char *name = strsignal(WTERMSIG(status));
	(void)snprintf(sig, sizeof(sig), "%s", name ? name : "unknown signal");
	sig[0] = (char)tolower((unsigned char)sig[0]);
	return cell_errx(err, EIO, "error running hook: %s: signal: %s (killed by signal %d)",
			 h->path, sig, WTERMSIG(status));
}

int cell_hooks_run(const struct cell_hook_list *l, enum cell_hook_kind kind, const int *exec_fds,
		   char *const *inherit_env, const char *state_json, struct cell_error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		int r = cell_hook_run(&l->hooks[i], exec_fds ? exec_fds[i] : -1, inherit_env,
				      state_json, err);
		if (r < 0)
			return cell_err_prefix(err, "error running %s hook #%zu",
					       cell_hook_kind_name(kind), i);
	}
	return 0;
}

int cell_hooks_run_all(const struct cell_hook_list *l, enum cell_hook_kind kind,
		       const char *state_json)
{
	char buf[CELL_ERROR_MSG + 64];
	int failed = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct cell_error e = { 0 };
		if (cell_hook_run(&l->hooks[i], -1, environ, state_json, &e) < 0) {
			(void)cell_err_prefix(&e, "error running %s hook #%zu",
					      cell_hook_kind_name(kind), i);
			cell_log(CELL_LOG_WARN, "%s", cell_err_text(&e, buf, sizeof(buf)));
			failed++;
		}
	}
	return failed;
}
