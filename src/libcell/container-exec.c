/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exec: a new process inside a running container.
 *
 *  parent (cellrun exec)            helper                 process
 *  clone helper ------------------> wait GO
 *  put helper in the cgroup, GO --> setns(pidfd, all of the
 *                                   container's namespaces)
 *                                   clone3(CLONE_PARENT) -> (in the pid ns)
 *  learn pid <--------------------- CHILD_PID, exit         terminal, cwd, LSM,
 *                                                           limits, user+caps,
 *  EOF on sync = exec'd <---------------------------------- seccomp, exec
 */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/util.h"
#include "linux/identity.h"
#include "linux/seccomp.h"
#include "linux/userns.h"
#include "process/confine.h"
#include "process/spawn.h"
#include "process/sync.h"
#include "process/terminal.h"
#include "sys/syscalls.h"

struct exec_ctx {
	const struct cell_process *p;
	struct cell_process own; /* *p with the capabilities it can have */
	struct cell_spec *spec;
	struct cell_state *st;
	struct cell_seccomp_filter *sc;
	int listener_fd; /* seccomp agent, connected from here (its path is the runtime's) */
	int pidfd;
	int ns_flags;
	int root_fd; /* no mount namespace: the init's root, to chroot into */
	int sync[2];
	int console_fd;
	int console_pair[2];
	int preserve_fds;
	struct cell_cgroup_join join;
};

static void __attribute__((noreturn)) exec_process(struct exec_ctx *x)
{
	struct cell_error err = { 0 };
	sigset_t none;
	int r = 0;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* see spawn.c child_main */
	/* --debug: runc's step names, as spawn.c child_main */
	cell_debug("nsexec container setup: pid %d joined the container's namespaces",
		   (int)getpid());
	cell_debug("child process in init(): setns mode");
	/* as the init: only preserved fds of the caller's, a session of its own */
	int keep[] = { x->sync[1], x->console_fd, x->listener_fd, cell_log_fd() };
	r = cell_fds_confine(x->preserve_fds, keep, ARRAY_SIZE(keep), &err);
	if (r >= 0)
		r = cell_session_new(&err);
	if (r >= 0 && x->p->terminal && x->console_fd >= 0)
		r = cell_terminal_setup(x->console_fd, x->p, false, &err);
	if (x->console_fd >= 0)
		(void)close(x->console_fd);
	_cleanup_free_ char *state = cell_state_oci_json(x->st, CELL_RUNNING, false);
	cell_debug("setns_init: about to exec %s", x->p->args && x->p->args[0] ? x->p->args[0] : "");
	if (r >= 0)
		(void)cell_process_finish(x->p, &x->spec->linux, x->sc, TAKE_FD(x->listener_fd), state,
					  cell_userns_setgroups_allowed(&x->spec->linux), NULL, &err);
	cell_sync_send_error(x->sync[1], &err);
	_exit(127);
}

static void __attribute__((noreturn)) exec_helper(struct exec_ctx *x)
{
	struct cell_error err = { 0 };
	struct cell_sync_msg m;

	/* first, while single-threaded: the process forked below inherits the cgroups */
	if (cell_cgroup_join_self(&x->join, &err) < 0) {
		cell_sync_send_error(x->sync[1], &err);
		_exit(1);
	}
	if (cell_sync_expect(x->sync[1], CELL_SYNC_GO, &m, NULL, 0, &err) < 0)
		_exit(1);
	/* still in the host's /proc: the process inherits it */
	if (cell_process_oom_score_apply(getpid(), x->p, &err) < 0) {
		cell_sync_send_error(x->sync[1], &err);
		_exit(1);
	}
	if (setns(x->pidfd, x->ns_flags) < 0) {
		cell_err(&err, errno, "join the namespaces of container process %d", (int)x->st->pid);
		cell_sync_send_error(x->sync[1], &err);
		_exit(1);
	}
	/* setns(CLONE_NEWNS) set our root to the container's; without one, the runtime's
	 * root is still ours: take the init's (chroot'ed) root, or the process would run
	 * in the host's filesystem */
	if (x->root_fd >= 0 && (fchdir(x->root_fd) < 0 || chroot(".") < 0)) {
		cell_err(&err, errno, "chroot into the root of container process %d",
			 (int)x->st->pid);
		cell_sync_send_error(x->sync[1], &err);
		_exit(1);
	}
	struct clone_args ca = { .flags = CLONE_PARENT, .exit_signal = 0 };
	pid_t pid = cell_sys_clone3(&ca);
	if (pid == 0)
		exec_process(x);
	if (pid < 0) {
		cell_err(&err, errno, "clone the exec process");
		cell_sync_send_error(x->sync[1], &err);
		_exit(1);
	}
	(void)cell_sync_send(x->sync[1], CELL_SYNC_CHILD_PID, pid, NULL, 0);
	_exit(0);
}

static int ns_flags_of(const struct cell_spec *spec)
{
	int flags = 0;
	for (int t = 0; t < CELL_NS_COUNT; t++)
		if (spec->linux.ns[t].enabled)
			flags |= cell_ns_clone_flag((enum cell_ns_type)t);
	return flags;
}

static int exec_terminal(struct exec_ctx *x, const struct cell_exec_opts *o, struct cell_error *err)
{
	if (!x->p->terminal)
		return 0;
	if (o->console_socket) {
		x->console_fd = cell_console_socket_connect(o->console_socket, err);
		return x->console_fd < 0 ? x->console_fd : 0;
	}
	if (o->detach)
		return cell_err(err, EINVAL, "a terminal in detached mode needs --console-socket");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, x->console_pair) < 0)
		return cell_err(err, errno, "terminal socketpair");
	x->console_fd = TAKE_FD(x->console_pair[1]);
	return 0;
}

static void exec_ctx_free(struct exec_ctx *x)
{
	int fds[] = { x->pidfd,		  x->sync[0], x->sync[1], x->console_fd, x->console_pair[0],
		      x->console_pair[1], x->root_fd, x->listener_fd };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			(void)close(fds[i]);
	cell_seccomp_free(x->sc);
	cell_spec_free(x->spec);
	cell_state_free(x->st);
}

static int reap_helper(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Parent side: cgroup, GO, the process pid, then EOF (exec'd) or an error. */
static int exec_launch(struct exec_ctx *x, struct cell_cgroup *cg, pid_t *out,
		       struct cell_error *err)
{
	struct clone_args ca = { .exit_signal = SIGCHLD };
	struct cell_sync_msg m;
	int r;

	if ((r = cell_cgroup_join_open(cg, &x->join, err)) < 0)
		return r;
	pid_t helper = cell_cgroup_join_clone(&x->join, &ca);
	if (helper < 0) {
		r = cell_err(err, errno, "clone exec helper");
		cell_cgroup_join_close(&x->join);
		return r;
	}
	if (helper == 0)
		exec_helper(x);
	(void)close(TAKE_FD(x->sync[1]));
	if (x->console_fd >= 0)
		(void)close(TAKE_FD(x->console_fd));
	r = cell_cgroup_join_rest(cg, &x->join, helper, err);
	cell_cgroup_join_close(&x->join);
	if (r >= 0 && (r = cell_sync_send(x->sync[0], CELL_SYNC_GO, 0, NULL, 0)) < 0)
		cell_err(err, r, "sync with exec helper");
	if (r >= 0)
		r = cell_sync_expect(x->sync[0], CELL_SYNC_CHILD_PID, &m, NULL, 0, err);
	if (r < 0)
		(void)kill(helper, SIGKILL);
	(void)reap_helper(helper);
	if (r < 0)
		return r;
	*out = (pid_t)m.value;
	r = cell_sync_recv(x->sync[0], &m, NULL, 0);
	if (r == 0 && m.type == CELL_SYNC_ERROR) {
		*err = m.err;
		(void)waitpid(*out, NULL, __WALL);
		return err->code ? -err->code : -EINVAL;
	}
	return 0;
}

/* The init's root, opened while its pidfd shows it alive (so not a reused pid's). */
static int open_init_root(struct exec_ctx *x, struct cell_error *err)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/root", (int)x->st->pid);

	x->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (x->root_fd < 0)
		return cell_err(err, errno, "open %s", path);
	if (cell_sys_pidfd_send_signal(x->pidfd, 0, NULL, 0) < 0)
		return cell_err(err, ESRCH, "container is not running");
	return 0;
}

static int exec_prepare(const struct cell_runtime *rt, const char *id, struct exec_ctx *x,
			const struct cell_exec_opts *o, struct cell_cgroup **cg,
			struct cell_error *err)
{
	_cleanup_close_ int dirfd = -1;
	int r = cell_state_dir_open(rt, id, false, &dirfd, err);

	if (r < 0 || (r = cell_state_load(dirfd, &x->st, err)) < 0)
		return r;
	/* a created container takes exec too: runc refuses only stopped (and
	 * paused, below) ones; the init waiting for `start` is alive */
	bool live = x->st->status == CELL_RUNNING || x->st->status == CELL_CREATED;
	if (!live || !cell_state_pid_alive(x->st))
		return cell_errx(err, ESRCH, "container is not running");
	if ((r = cell_container_config(rt, id, &x->spec, err)) < 0)
		return r;
	x->pidfd = cell_sys_pidfd_open(x->st->pid, 0);
	if (x->pidfd < 0 || !cell_state_pid_alive(x->st))
		return cell_err(err, ESRCH, "container is not running");
	x->ns_flags = ns_flags_of(x->spec);
	x->own = *x->p; /* a shallow copy: only its capabilities change */
	cell_caps_drop_unavailable(&x->own.caps, x->ns_flags & CLONE_NEWUSER);
	x->p = &x->own;
	if (!x->spec->linux.ns[CELL_NS_MNT].enabled && (r = open_init_root(x, err)) < 0)
		return r;
	if (x->spec->linux.seccomp.set && (r = cell_seccomp_for(x->spec, &x->sc, err)) < 0)
		return r;
	const char *listener = x->spec->linux.seccomp.set ? x->spec->linux.seccomp.listener_path : NULL;
	if (listener && (x->listener_fd = cell_seccomp_listener_connect(listener, err)) < 0)
		return x->listener_fd;
	if ((r = exec_terminal(x, o, err)) < 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, x->sync) < 0)
		return cell_err(err, errno, "sync socketpair");
	if ((r = cell_cgroup_of(rt, id, x->st->systemd_cgroup, x->st->cgroup_path, false, cg,
				err)) < 0)
		return r;
	for (size_t i = 0; o->cgroups && o->cgroups[i]; i++)
		if ((r = cell_cgroup_descend(*cg, o->cgroups[i], err)) < 0)
			return r;
	/* the new process would join a frozen cgroup and stop before it could report;
	 * with --ignore-paused the caller waits for a resume (runc's words and choice) */
	bool frozen = false;
	struct cell_error ignored = { 0 };
	if (!o->ignore_paused && cell_cgroup_is_frozen(*cg, &frozen, &ignored) >= 0 && frozen)
		return cell_err(err, EBUSY,
				"cannot exec in a paused container (use --ignore-paused to override)");
	return 0;
}

static int exec_wait(pid_t pid, int master, int *status)
{
	if (master >= 0) {
		struct cell_error ignored = { 0 };
		(void)cell_terminal_proxy(master, -1, &ignored);
	}
	return cell_forward_until_exit(pid, status);
}

int cell_container_exec(const struct cell_runtime *rt, const char *id,
			const struct cell_process *p, const struct cell_exec_opts *o, int *status,
			struct cell_error *err)
{
	struct exec_ctx x = { .p = p, .pidfd = -1, .listener_fd = -1, .root_fd = -1, .sync = { -1, -1 }, .console_fd = -1,
			      .console_pair = { -1, -1 }, .preserve_fds = o->preserve_fds };
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	sigset_t all, old;
	pid_t pid = -1;
	int master = -1, r;

	if (cell_preserved_fds_check(o->preserve_fds, err) < 0)
		return cell_err_prefix(err, "exec in %s", id);
	sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, &old);
	r = exec_prepare(rt, id, &x, o, &cg, err);
	if (r >= 0)
		r = exec_launch(&x, cg, &pid, err);
	if (r >= 0 && x.console_pair[0] >= 0)
		r = cell_console_recv_master(x.console_pair[0], &master, err);
	if (r >= 0 && master >= 0)
		r = cell_terminal_clear_onlcr(master, err);
	if (r >= 0 && o->pid_file) {
		_cleanup_free_ char *text = xasprintf("%d", (int)pid);
		int q = cell_write_file_replace(o->pid_file, text, strlen(text), 0644, false);
		if (q < 0)
			r = cell_err(err, q, "write pid file %s", o->pid_file);
	}
	if (r >= 0 && !o->detach)
		r = exec_wait(pid, master, status);
	if (master >= 0)
		(void)close(master);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	exec_ctx_free(&x);
	return r < 0 ? cell_err_prefix(err, "exec in %s", id) : 0;
}
