/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The container init, step by step.
 *
 * Parent (cellrun create)                 Child (container init)
 *  1. clone3 with CLONE_NEW*, into the .. → joins its v1 cgroups itself (or:
 *     cgroup2 cgroup                        intermediate does, joins namespaces
 *                                           by path, unshares, writes time
 *                                           offsets, clones init with
 *                                           CLONE_PARENT, reports its pid)
 *  2. write uid/gid maps, cgroups not
 *     joined yet (cgroup-join.c)
 *     send GO(host pid) ................ → 3. wait for GO; become root of the
 *                                           userns; session keyring; hostname
 *                                        4. rootfs prepare (mounts, /dev)
 *  5. run prestart + createRuntime   ← ... PREPARED (only when such hooks exist)
 *     hooks, send HOOKS_DONE ......... →
 *                                        6. createContainer hooks, pivot_root,
 *                                           sysctl, terminal, masked/readonly
 *                                           paths
 *  8. record state "created",         ← CREATED
 *     send RECORDED .................. → wait for RECORDED (EOF: the runtime
 *                                           died before recording us: exit)
 *                                        9. accept() on exec.sock: `start`
 *                                       10. cwd, LSM, rlimits..., user+caps,
 *                                           no_new_privs, seccomp, startContainer
 *                                           hooks, exec
 * Any failure in the child is sent as an ERROR record and the child exits.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../linux/identity.h"
#include "../linux/loopback.h"
#include "../linux/userns.h"
#include "../spec/state.h"
#include "../sys/syscalls.h"
#include "confine.h"
#include "hooks.h"
#include "lookup.h"
#include "mount-sources.h"
#include "sync.h"
#include "terminal.h"

static void __attribute__((noreturn)) child_fail(int sync_fd, struct cell_error *err)
{
	cell_sync_send_error(sync_fd, err);
	_exit(1);
}

char *cell_spawn_state_json(const struct cell_spawn *s, pid_t pid, enum cell_status status)
{
	struct cell_state st = {
		.id = (char *)s->id,
		.pid = pid,
		.bundle = (char *)s->plan.bundle,
		.rootfs = (char *)s->plan.rootfs,
		.annotations = s->plan.spec->annotations,
		.n_annotations = s->plan.spec->n_annotations,
	};
	/* "creating" has a pid too once the process exists (runtime.md#state) */
	return cell_state_oci_json_pid(&st, status, pid, false);
}

int cell_exec_process(const struct cell_process *p, const struct cell_exec_target *t,
		      struct cell_error *err)
{
	execve(t->file, p->args, t->env);
	return cell_err(err, errno, "exec %s", t->file);
}

static int load_seccomp(struct cell_seccomp_filter *sc, const struct cell_linux *l, int listener_fd,
			const char *state_json, struct cell_error *err)
{
	int r, notify_fd = -1;

	if (!sc)
		return 0;
	if ((r = cell_seccomp_load(sc, &notify_fd, err)) < 0)
		return r;
	if (notify_fd < 0)
		return 0;
	r = listener_fd >= 0 ? cell_seccomp_send_listener_fd(listener_fd, notify_fd, state_json,
							       l->seccomp.listener_metadata, err)
			     : cell_seccomp_send_listener(l->seccomp.listener_path, notify_fd,
							  state_json, err);
	(void)close(notify_fd);
	return r;
}

/* process.cwd before the capabilities go (runc's finalizeNamespace): a cwd
 * only root may enter (CAP_DAC_OVERRIDE) works for a non-root user; one only
 * the user may enter (a volume chowned to it, root squashed) is entered after
 * the switch.  *later tells which. */
static int cwd_enter_early(const struct cell_process *p, bool *later, struct cell_error *err)
{
	struct cell_error first = { 0 };
	int r;

	*later = false;
	if (!p->cwd)
		return 0;
	r = cell_cwd_enter(p->cwd, &first);
	if (r == -EACCES || r == -EPERM) {
		*later = true;
		return 0;
	}
	if (r < 0)
		*err = first;
	return r;
}

static int finish_steps(const struct cell_process *p, const struct cell_linux *l,
			struct cell_seccomp_filter *sc, int listener_fd, const char *state_json,
			bool setgroups_allowed, struct cell_error *err)
{
	bool cwd_later;
	int r;

	if ((r = cwd_enter_early(p, &cwd_later, err)) < 0)
		return r;
	if ((r = cell_lsm_apply(p, err)) < 0 || (r = cell_process_attrs_apply(p, err)) < 0)
		return r;
	/* Without no_new_privs only a privileged process may load a filter: load it
	 * while we still hold CAP_SYS_ADMIN (the profile must allow what follows). */
	if (!p->no_new_privileges && (r = load_seccomp(sc, l, listener_fd, state_json, err)) < 0)
		return r;
	if ((r = cell_identity_apply(p, setgroups_allowed, err)) < 0)
		return r;
	if (cwd_later && (r = cell_cwd_enter(p->cwd, err)) < 0)
		return r;
	if ((r = cell_personality_apply(&l->personality, err)) < 0)
		return r;
	/* the cgroup is joined: the final affinity holds from exec on (config.md) */
	if ((r = cell_process_final_affinity_apply(0, p, err)) < 0)
		return r;
	if (p->no_new_privileges) {
		if ((r = cell_no_new_privs_apply(p, err)) < 0 ||
		    (r = load_seccomp(sc, l, listener_fd, state_json, err)) < 0)
			return r;
	}
	return 0;
}

int cell_process_finish(const struct cell_process *p, const struct cell_linux *l,
			struct cell_seccomp_filter *sc, int listener_fd, const char *state_json,
			bool setgroups_allowed, const struct cell_hook_list *start_hooks,
			struct cell_error *err)
{
	struct cell_exec_target t = { 0 };
	int r;

	/* first: a seccomp profile need not allow the look-up's syscalls */
	if ((r = cell_exec_target_prepare(p, &t, err)) < 0)
		return r;
	r = finish_steps(p, l, sc, listener_fd, state_json, setgroups_allowed, err);
	if (listener_fd >= 0)
		(void)close(listener_fd);
	/* startContainer: as the process, right before its exec -- its user, its
	 * capabilities, its seccomp filter, its environment with HOME (runc's
	 * standard_init order) */
	if (r >= 0 && start_hooks && start_hooks->n)
		r = cell_hooks_run(start_hooks, CELL_HOOK_START_CONTAINER, NULL, t.env, state_json,
				   err);
	if (r >= 0)
		r = cell_exec_process(p, &t, err);
	cell_exec_target_release(&t);
	return r;
}

/* keyrings(7) permission bits (keyutils.h names them; linux/keyctl.h does not):
 * all six for possessors, view for the owner uid */
#define KEY_POS_ALL 0x3f000000
#define KEY_USR_VIEW 0x00010000

/* A session keyring of the container's own.  The kernel's default
 * permissions let every process of the same uid view and link it, so
 * another root container could read its keys: only possessors (the
 * container's processes) get more than view. */
static void session_keyring(const char *id)
{
	long key = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, id);

	if (key < 0) {
		cell_debug("new session keyring: %s", strerror(errno));
		return;
	}
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, key, KEY_POS_ALL | KEY_USR_VIEW) < 0)
		cell_debug("restrict the session keyring: %s", strerror(errno));
}

static int cgroupns(const struct cell_spawn *s, struct cell_error *err)
{
	if ((s->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return cell_err(err, errno, "unshare cgroup namespace");
	return 0;
}

/* Steps 3-7: everything up to "created". */
static int child_setup(struct cell_spawn *s, pid_t host_pid, struct cell_error *err)
{
	const struct cell_spec *sp = s->plan.spec;
	bool new_userns = s->clone_flags & CLONE_NEWUSER;
	struct cell_sync_msg m;
	int r;

	if (new_userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return cell_err(err, errno, "become root in the user namespace (is uid/gid 0 mapped?)");
	/* Only inside the container's cgroup, so that it is the namespace root. */
	if ((r = cgroupns(s, err)) < 0)
		return r;
	if ((s->clone_flags & CLONE_NEWNET) && (r = cell_loopback_up(err)) < 0)
		return r;
	if (!s->no_new_keyring)
		session_keyring(s->id);
	if (s->plan.hostname && sethostname(s->plan.hostname, strlen(s->plan.hostname)) < 0)
		return cell_err(err, errno, "sethostname %s", s->plan.hostname);
	if (s->plan.domainname &&
	    setdomainname(s->plan.domainname, strlen(s->plan.domainname)) < 0)
		return cell_err(err, errno, "setdomainname %s", s->plan.domainname);
	r = cell_rootfs_prepare(&s->rootfs_ctx, err);
	cell_mount_sources_close(s->rootfs_ctx.source_fds, sp->n_mounts);
	s->rootfs_ctx.source_fds = NULL;
	if (r < 0)
		return r;
	if (sp->hooks[CELL_HOOK_PRESTART].n || sp->hooks[CELL_HOOK_CREATE_RUNTIME].n) {
		if ((r = cell_sync_send(s->sync_fd, CELL_SYNC_PREPARED, 0, NULL, 0)) < 0)
			return cell_err(err, r, "sync with runtime");
		if ((r = cell_sync_expect(s->sync_fd, CELL_SYNC_HOOKS_DONE, &m, NULL, 0, err)) < 0)
			return r;
	}
	/* createContainer: in the container's namespaces, but before pivot_root
	 * so that the path (and a dynamic binary's loader) resolve in the
	 * runtime's filesystem view, as runc does. */
	if (sp->hooks[CELL_HOOK_CREATE_CONTAINER].n) {
		/* hooks in the container namespace see the pid as the container does */
		_cleanup_free_ char *st = cell_spawn_state_json(s, getpid(), CELL_CREATING);
		/* their cwd is the rootfs, as runc's (prepareRootfs chdirs there first) */
		if (chdir(s->plan.rootfs) < 0)
			return cell_err(err, errno, "chdir %s for the createContainer hooks",
					s->plan.rootfs);
		/* runc's container-side hooks inherit its init's environment,
		 * which is process.env by then; the runtime's own stays out */
		r = cell_hooks_run(&sp->hooks[CELL_HOOK_CREATE_CONTAINER],
				   CELL_HOOK_CREATE_CONTAINER, NULL, sp->process.env, st, err);
		if (r < 0)
			return r;
	}
	if ((r = cell_rootfs_pivot(&s->rootfs_ctx, err)) < 0)
		return r;
	if ((r = cell_sysctl_run(&s->plan, err)) < 0)
		return r;
	/* a missing cwd is created, as runc does, before the root may turn read-only */
	if (sp->process.cwd && (r = cell_cwd_make(sp->process.cwd, err)) < 0)
		return r;
	if (sp->process.terminal && s->console_fd >= 0) {
		/* /dev/console is a bind: not in the runtime's mount namespace */
		r = cell_terminal_setup(s->console_fd, &sp->process, !s->plan.no_mount_ns,
					err);
		(void)close(s->console_fd);
		s->console_fd = -1;
		if (r < 0)
			return r;
	}
	if ((r = cell_rootfs_finalize(&s->rootfs_ctx, err)) < 0)
		return r;
	/* a missing command fails `create`, as with runc (checked again at start) */
	struct cell_exec_target t = { 0 };
	if ((r = cell_exec_target_prepare(&sp->process, &t, err)) < 0)
		return r;
	cell_exec_target_release(&t);
	return 0;
}

/* Steps 9-10: wait for `start`, then become the container process. */
static void __attribute__((noreturn)) child_wait_start(struct cell_spawn *s, pid_t host_pid)
{
	const struct cell_spec *sp = s->plan.spec;
	struct cell_error err = { 0 };
	char go;
	int conn;

	/* `run` starts us over the sync socket; `start` connects to exec.sock */
	if (s->exec_listen_fd < 0) {
		conn = s->sync_fd;
	} else {
		do
			conn = accept4(s->exec_listen_fd, NULL, NULL, SOCK_CLOEXEC);
		while (conn < 0 && errno == EINTR);
		if (conn < 0)
			_exit(1);
		(void)close(s->exec_listen_fd);
	}
	if (read(conn, &go, 1) != 1)
		_exit(1); /* `start` went away: it reports the failure itself */
	_cleanup_free_ char *state = cell_spawn_state_json(s, getpid(), CELL_CREATED);
	/* nothing of the runtime's reaches the hooks (their binaries are the image's) */
	int keep[] = { conn, s->listener_fd, cell_log_fd() };
	int r = cell_fds_confine(s->preserve_fds, keep, ARRAY_SIZE(keep), &err);
	/* execCPUAffinity is for exec'd processes, not init (config.md) */
	struct cell_process init = sp->process;
	init.exec_cpu_affinity_initial = init.exec_cpu_affinity_final = NULL;
	if (r >= 0)
		(void)cell_process_finish(&init, &sp->linux, s->seccomp, s->listener_fd, state,
					  s->plan.userns.setgroups_allowed, &sp->hooks[CELL_HOOK_START_CONTAINER],
					  &err);
	cell_sync_send_error(conn, &err);
	_exit(127);
}

/* Before anything resolves a path: of the caller's fds only the preserved
 * ones stay (see confine.h), and a session of our own, terminal or not. */
static int child_confine(const struct cell_spawn *s, struct cell_error *err)
{
	int keep[] = { s->sync_fd,     s->exec_listen_fd,	s->console_fd,
		       s->listener_fd, s->rootfs_ctx.tree_fd, cell_log_fd() };
	int r = cell_fds_confine(s->preserve_fds, keep, ARRAY_SIZE(keep), err);

	return r < 0 ? r : cell_session_new(err);
}

static void __attribute__((noreturn)) child_main(struct cell_spawn *s)
{
	struct cell_error err = { 0 };
	struct cell_sync_msg m;
	sigset_t none;

	/* `run` blocks every signal to forward them; the container starts clean */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	/* no-op in an init the intermediate forked: it inherited the cgroups */
	if (cell_cgroup_join_self(&s->join, &err) < 0)
		child_fail(s->sync_fd, &err);
	if (child_confine(s, &err) < 0)
		child_fail(s->sync_fd, &err);
	if (cell_sync_expect(s->sync_fd, CELL_SYNC_GO, &m, NULL, 0, &err) < 0)
		_exit(1);
	/* --debug names the steps as runc's do (nsexec, init), which tools and runc's
	 * debug.bats read */
	cell_debug("nsexec container setup: pid %d in the container's namespaces", (int)getpid());
	if (s->send_mount_sources && cell_mount_sources_recv(s->sync_fd, s->plan.spec->n_mounts,
							     &s->rootfs_ctx.source_fds, &err) < 0)
		_exit(1);
	/* Until exec, no process in the container may open our /proc files (fds,
	 * exe, mem); the kernel resets this at execve (CVE-2016-9962).  Only after
	 * GO: a non-dumpable process's /proc files belong to root, and an
	 * unprivileged parent must write our uid_map/gid_map first. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	cell_debug("child process in init(): rootfs, devices and hooks");
	if (child_setup(s, (pid_t)m.value, &err) < 0)
		child_fail(s->sync_fd, &err);
	cell_debug("init: closing the pipe to signal completion (created)");
	if (cell_sync_send(s->sync_fd, CELL_SYNC_CREATED, 0, NULL, 0) < 0)
		_exit(1);
	/* `create`: until our state is recorded, the runtime's end of the sync socket is
	 * the only way to notice its death (EOF) */
	if (s->exec_listen_fd >= 0) {
		struct cell_sync_msg rec;
		if (cell_sync_expect(s->sync_fd, CELL_SYNC_RECORDED, &rec, NULL, 0, &err) < 0)
			_exit(1);
		(void)close(s->sync_fd);
	}
	child_wait_start(s, (pid_t)m.value);
}

static int write_time_offsets(const struct cell_linux *l, struct cell_error *err)
{
	_cleanup_free_ char *text = xasprintf("monotonic %lld %u\nboottime %lld %u\n",
					      (long long)l->time_monotonic.secs,
					      l->time_monotonic.nanosecs,
					      (long long)l->time_boottime.secs,
					      l->time_boottime.nanosecs);
	int r = cell_write_file("/proc/self/timens_offsets", text, strlen(text));
	return r < 0 ? cell_err(err, r, "write /proc/self/timens_offsets") : 0;
}

static int join_ns(struct cell_spawn *s, enum cell_ns_type t, struct cell_error *err)
{
	if (s->ns_fds[t] < 0)
		return 0;
	if (setns(s->ns_fds[t], cell_ns_clone_flag(t)) < 0)
		return cell_err(err, errno, "join %s namespace %s", cell_ns_type_name(t),
				s->plan.spec->linux.ns[t].path);
	(void)close(s->ns_fds[t]);
	s->ns_fds[t] = -1;
	return 0;
}

/* The intermediate: namespaces by path, a user namespace of our own that the
 * parent maps, then the rest; the init is forked as the parent's child. */
static void __attribute__((noreturn)) intermediate_main(struct cell_spawn *s)
{
	struct cell_error err = { 0 };
	struct cell_sync_msg m;
	int rest = s->clone_flags & ~(CLONE_NEWUSER | CLONE_NEWCGROUP);

	/* first, while single-threaded: the init forked below inherits the cgroups */
	if (cell_cgroup_join_self(&s->join, &err) < 0)
		child_fail(s->sync_fd, &err);
	bool joined_user = s->ns_fds[CELL_NS_USER] >= 0;
	if (join_ns(s, CELL_NS_USER, &err) < 0)
		child_fail(s->sync_fd, &err);
	/* a joined user namespace's root, so that the setup's files are owned by
	 * an id it maps (our host ids are not: EOVERFLOW) */
	if (joined_user && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		cell_err(&err, errno, "become root of the joined user namespace %s (does it map 0?)",
			 s->plan.spec->linux.ns[CELL_NS_USER].path);
		child_fail(s->sync_fd, &err);
	}
	if (s->clone_flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0) {
			cell_err(&err, errno, "unshare user namespace");
			child_fail(s->sync_fd, &err);
		}
		if (cell_sync_send(s->sync_fd, CELL_SYNC_CHILD_PID, 0, NULL, 0) < 0 ||
		    cell_sync_expect(s->sync_fd, CELL_SYNC_GO, &m, NULL, 0, &err) < 0)
			_exit(1);
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
			cell_err(&err, errno, "become root in the user namespace");
			child_fail(s->sync_fd, &err);
		}
	}
	for (int t = 0; t < CELL_NS_COUNT; t++)
		if (t != CELL_NS_MNT && join_ns(s, (enum cell_ns_type)t, &err) < 0)
			child_fail(s->sync_fd, &err);
	if (join_ns(s, CELL_NS_MNT, &err) < 0)
		child_fail(s->sync_fd, &err);
	if (rest && unshare(rest) < 0) {
		cell_err(&err, errno, "unshare namespaces 0x%x", rest);
		child_fail(s->sync_fd, &err);
	}
	if ((rest & CLONE_NEWTIME) && write_time_offsets(&s->plan.spec->linux, &err) < 0)
		child_fail(s->sync_fd, &err);
	struct clone_args ca = { .flags = CLONE_PARENT, .exit_signal = 0 };
	pid_t pid = cell_sys_clone3(&ca);
	if (pid < 0) {
		cell_err(&err, errno, "clone container init");
		child_fail(s->sync_fd, &err);
	}
	if (pid == 0)
		child_main(s);
	(void)cell_sync_send(s->sync_fd, CELL_SYNC_CHILD_PID, pid, NULL, 0);
	_exit(0);
}

static int reap(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, __WALL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Parent side of the intermediate: map its userns, learn the init's pid. */
static int parent_intermediate(struct cell_spawn *s, pid_t mid, int sync, pid_t *init,
			       struct cell_error *err)
{
	struct cell_sync_msg m;
	int r;

	if (s->clone_flags & CLONE_NEWUSER) {
		if ((r = cell_sync_expect(sync, CELL_SYNC_CHILD_PID, &m, NULL, 0, err)) < 0)
			return r;
		if ((r = cell_userns_write_maps(mid, &s->plan.userns, err)) < 0)
			return r;
		if ((r = cell_sync_send(sync, CELL_SYNC_GO, mid, NULL, 0)) < 0)
			return cell_err(err, r, "sync with container process");
	}
	if ((r = cell_sync_expect(sync, CELL_SYNC_CHILD_PID, &m, NULL, 0, err)) < 0)
		return r;
	*init = (pid_t)m.value;
	return reap(mid);
}

int cell_spawn_init(struct cell_spawn *s, struct cell_cgroup *cg, int parent_sync,
		    pid_t *out_pid, struct cell_error *err)
{
	struct clone_args ca = { .exit_signal = SIGCHLD };
	pid_t pid, init = -1;
	int r;

	cell_cgroup_join_init(&s->join);
	if (cg && (r = cell_cgroup_join_open(cg, &s->join, err)) < 0)
		return r;
	if (!s->intermediate)
		ca.flags = (uint64_t)(s->clone_flags & ~CLONE_NEWCGROUP);
	pid = cell_cgroup_join_clone(&s->join, &ca);
	if (pid < 0) {
		r = cell_err(err, errno, "clone container process (namespaces 0x%x)",
			     s->clone_flags);
		cell_cgroup_join_close(&s->join);
		return r;
	}
	if (pid == 0) {
		(void)close(parent_sync);
		/* the flock lives in the open file description: a copy here would
		 * hold the container's lock until exec */
		if (s->state_dirfd >= 0)
			(void)close(s->state_dirfd);
		if (s->intermediate)
			intermediate_main(s);
		child_main(s);
	}
	if (s->intermediate) {
		r = parent_intermediate(s, pid, parent_sync, &init, err);
	} else {
		init = pid;
		r = (s->clone_flags & CLONE_NEWUSER)
			    ? cell_userns_write_maps(pid, &s->plan.userns, err)
			    : 0;
	}
	if (r >= 0 && cg)
		r = cell_cgroup_join_rest(cg, &s->join, init, err);
	cell_cgroup_join_close(&s->join);
	if (r >= 0 && (r = cell_sync_send(parent_sync, CELL_SYNC_GO, init, NULL, 0)) < 0)
		cell_err(err, r, "start container process");
	if (r >= 0 && s->send_mount_sources)
		r = cell_mount_sources_send(&s->plan, init, parent_sync, err);
	if (r < 0) {
		pid_t victim = init > 0 ? init : pid;
		(void)kill(victim, SIGKILL);
		if (victim != pid)
			(void)kill(pid, SIGKILL), (void)reap(pid);
		(void)reap(victim);
		return r;
	}
	*out_pid = init;
	return 0;
}
