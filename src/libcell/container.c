/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * create / start / run: the lifecycle steps that make a container.  The
 * state directory <root>/<id> is created first (mkdir is the duplicate-id
 * check) and locked; a failure at any later step undoes everything made so
 * far (process, cgroup, state directory), so a failed create leaves nothing.
 */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/util.h"
#include "cgroup/cgroup.h"
#include "container-internal.h"
#include "linux/identity.h"
#include "linux/seccomp.h"
#include "linux/userns.h"
#include "process/hooks.h"
#include "process/mount-sources.h"
#include "process/spawn.h"
#include "process/sync.h"
#include "process/terminal.h"
#include "sys/privilege.h"
#include "sys/syscalls.h"

/* ---- create ---- */

struct create_ctx {
	const struct cell_runtime *rt;
	const struct cell_create_opts *o;
	struct cell_spec *spec;
	char *config_text;
	char *bundle, *rootfs;
	int dirfd;
	struct cell_cgroup *cg;
	struct cell_cgroup_mount *cg_mounts;
	size_t n_cg_mounts;
	struct cell_spawn sp;
	pid_t pid;
	int sync[2];
	int console_pair[2]; /* foreground terminal without --console-socket */
	bool foreground;
	bool run;      /* `run`: started over the sync socket under the create's lock */
	bool starting; /* failed while starting (the error says "start") */
	int master;  /* foreground terminal */
	unsigned long long start_time; /* of the init, read before it may exit */
	char *created;                 /* RFC 3339, when the state was first recorded */
};

static void ctx_close_child_fds(struct create_ctx *c)
{
	int *fds[] = { &c->sync[1], &c->sp.exec_listen_fd, &c->sp.console_fd, &c->sp.listener_fd,
		       &c->console_pair[1], &c->sp.rootfs_ctx.tree_fd };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			(void)close(TAKE_FD(*fds[i]));
	for (int t = 0; t < CELL_NS_COUNT; t++)
		if (c->sp.ns_fds[t] >= 0)
			(void)close(TAKE_FD(c->sp.ns_fds[t]));
}

static void ctx_free(struct create_ctx *c)
{
	ctx_close_child_fds(c);
	if (c->sync[0] >= 0)
		(void)close(c->sync[0]);
	if (c->console_pair[0] >= 0)
		(void)close(c->console_pair[0]);
	if (c->dirfd >= 0)
		(void)close(c->dirfd);
	cell_plan_free(&c->sp.plan);
	cell_cgroup_mounts_free(c->cg_mounts, c->n_cg_mounts);
	cell_cgroup_free(c->cg);
	cell_seccomp_free(c->sp.seccomp);
	cell_spec_free(c->spec);
	free(c->config_text);
	free(c->created);
	free(c->bundle);
	free(c->rootfs);
}

static int load_bundle(struct create_ctx *c, struct cell_error *err)
{
	const char *b = c->o->bundle ? c->o->bundle : ".";
	_cleanup_free_ char *cfg = NULL, *root = NULL;
	size_t len;
	int r;

	c->bundle = realpath(b, NULL);
	if (!c->bundle)
		return cell_err(err, errno, "bundle %s", b);
	cfg = xasprintf("%s/config.json", c->bundle);
	if ((r = cell_read_file(cfg, &c->config_text, &len)) < 0)
		return cell_err(err, r, "read %s", cfg);
	if (cell_spec_parse(c->config_text, len, &c->spec, err) < 0)
		return cell_err_prefix(err, "%s", cfg);
	if (!c->spec->process_set)
		return cell_err(err, EINVAL, "%s: process: required to create a container", cfg);
	if (!c->spec->root.path)
		return cell_err(err, EINVAL, "%s: root.path: required", cfg);
	root = c->spec->root.path[0] == '/' ? xstrdup(c->spec->root.path)
					    : xasprintf("%s/%s", c->bundle, c->spec->root.path);
	c->rootfs = realpath(root, NULL);
	if (!c->rootfs)
		return cell_err(err, errno, "rootfs %s", root);
	return 0;
}

/* A sysctl in a namespace joined by path must not land in the runtime's own
 * namespace (runc: "not allowed in host network namespace"); "host" is the
 * runtime's, as /proc/self/ns shows it. */
static int check_joined_sysctl_ns(const struct cell_linux *l, enum cell_ns_type t, int fd,
				  struct cell_error *err)
{
	/* sysctls live in net, ipc and uts: only "network" differs in /proc */
	_cleanup_free_ char *own =
		xasprintf("/proc/self/ns/%s", t == CELL_NS_NET ? "net" : cell_ns_type_name(t));
	struct stat a, b;

	for (size_t i = 0; i < l->n_sysctl; i++) {
		if (cell_sysctl_namespace(l->sysctl[i].key) != (int)t)
			continue;
		if (fstat(fd, &a) < 0 || stat(own, &b) < 0)
			return cell_err(err, errno, "linux.namespaces: stat %s namespace %s",
					cell_ns_type_name(t), l->ns[t].path);
		if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return cell_err(err, EINVAL,
					"linux.sysctl.\"%s\": requires a new %s namespace (%s is the "
					"runtime's own)",
					l->sysctl[i].key, cell_ns_type_name(t), l->ns[t].path);
		return 0;
	}
	return 0;
}

static int open_namespaces(struct create_ctx *c, struct cell_error *err)
{
	const struct cell_linux *l = &c->spec->linux;

	for (int t = 0; t < CELL_NS_COUNT; t++) {
		if (!l->ns[t].enabled)
			continue;
		if (!l->ns[t].path) {
			c->sp.clone_flags |= cell_ns_clone_flag((enum cell_ns_type)t);
			continue;
		}
		c->sp.ns_fds[t] = open(l->ns[t].path, O_RDONLY | O_CLOEXEC);
		if (c->sp.ns_fds[t] < 0)
			return cell_err(err, errno, "linux.namespaces: open %s namespace %s",
					cell_ns_type_name((enum cell_ns_type)t), l->ns[t].path);
		if (check_joined_sysctl_ns(l, (enum cell_ns_type)t, c->sp.ns_fds[t], err) < 0)
			return -EINVAL;
		c->sp.intermediate = true;
	}
	if (c->sp.clone_flags & CLONE_NEWTIME)
		c->sp.intermediate = true;
	return 0;
}

static int listen_exec_socket(struct create_ctx *c, struct cell_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return cell_err(err, errno, "exec socket");
	c->sp.exec_listen_fd = fd;
	/* through the dir fd: short whatever --root is */
	(void)snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/exec.sock", c->dirfd);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
		return cell_err(err, errno, "bind exec socket in %s/%s", c->rt->root, c->o->id);
	return 0;
}

static int setup_terminal(struct create_ctx *c, struct cell_error *err)
{
	if (!c->spec->process.terminal) {
		if (c->o->console_socket)
			return cell_err(err, EINVAL,
					"--console-socket given but process.terminal is false");
		return 0;
	}
	if (c->o->console_socket) {
		c->sp.console_fd = cell_console_socket_connect(c->o->console_socket, err);
		return c->sp.console_fd < 0 ? c->sp.console_fd : 0;
	}
	if (!c->foreground)
		return cell_err(err, EINVAL,
				"process.terminal is true: --console-socket is required (or run it in the foreground)");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->console_pair) < 0)
		return cell_err(err, errno, "terminal socketpair");
	c->sp.console_fd = c->console_pair[1];
	c->console_pair[1] = -1;
	return 0;
}

static int setup_listener(struct create_ctx *c, struct cell_error *err)
{
	const char *path = c->spec->linux.seccomp.listener_path;

	if (!c->spec->linux.seccomp.set || !path)
		return 0;
	c->sp.listener_fd = cell_seccomp_listener_connect(path, err);
	return c->sp.listener_fd < 0 ? c->sp.listener_fd : 0;
}

/* The minimal record, before the cgroup exists: whatever happens to this process or to
 * state.json from here on, `delete --force` finds the cgroup (container-ops.c). */
static int record_cgroup(struct create_ctx *c, const struct cell_cgroup *cg,
			 struct cell_error *err)
{
	struct cell_state st = {
		.id = (char *)c->o->id,
		.bundle = c->bundle,
		.rootfs = c->rootfs,
		.status = CELL_CREATING,
		.created = (char *)"",
		.cgroup_path = (char *)cell_cgroup_path(cg),
		.systemd_cgroup = c->rt->systemd_cgroup,
		.rootless = c->rt->rootless,
		.owner = geteuid(),
	};
	return cell_state_save_as(c->dirfd, CELL_RECORD_FILE, &st, err);
}

static int make_cgroup(struct create_ctx *c, struct cell_error *err)
{
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	int r = cell_cgroup_plan(&(struct cell_cgroup_opts){ CELL_CGROUP_OPTS(c->rt, c->o->id,
							     c->rt->systemd_cgroup) },
				 c->spec->linux.cgroups_path, &cg, err);

	if (r < 0 || (r = record_cgroup(c, cg, err)) < 0)
		return r;
	/* not c->cg before it is made: a rollback must not kill or remove a cgroup that
	 * was there (and busy) before us */
	if ((r = cell_cgroup_make(cg, err)) < 0)
		return r;
	c->cg = TAKE_PTR(cg);
	return 0;
}

static int prepare_cgroup(struct create_ctx *c, struct cell_error *err)
{
	static const struct cell_resources none;
	const struct cell_linux *l = &c->spec->linux;
	int r;

	if ((r = make_cgroup(c, err)) < 0)
		return r;
	if (c->rt->rootless && l->resources_set)
		cell_warn("rootless: resource limits apply only in cgroup hierarchies delegated to "
			  "uid %u%s (others are skipped; --debug lists them)", (unsigned)geteuid(),
			  cell_running_in_userns() ? " of this user namespace" : "");
	r = cell_cgroup_apply(c->cg, l->resources_set ? &l->resources : &none, err);
	if (r < 0)
		return cell_err_prefix(err, "linux.resources");
	/* a new user namespace with its own cgroup namespace: its root may manage the
	 * groups below the container's (systemd must, to boot), as LXC and crun allow */
	uint32_t uid, gid;
	if (!c->rt->rootless && l->ns[CELL_NS_USER].enabled && !l->ns[CELL_NS_USER].path &&
	    l->ns[CELL_NS_CGROUP].enabled &&
	    cell_idmap_to_host(l->uid_mappings, l->n_uid_mappings, 0, &uid) &&
	    cell_idmap_to_host(l->gid_mappings, l->n_gid_mappings, 0, &gid) &&
	    (r = cell_cgroup_chown(c->cg, (uid_t)uid, (gid_t)gid, err)) < 0)
		return r;
	return cell_cgroup_mounts(c->cg, &c->cg_mounts, &c->n_cg_mounts, err);
}

/* The plan the child runs, from the spec and what is known of the host by now. */
static int build_plan(struct create_ctx *c, struct cell_error *err)
{
	struct cell_host_facts facts = {
		.rootfs = c->rootfs,
		.bundle = c->bundle,
		/* root in a user namespace (rootless podman) cannot mknod either */
		.in_userns = (c->sp.clone_flags & CLONE_NEWUSER) || c->sp.ns_fds[CELL_NS_USER] >= 0 ||
			     cell_running_in_userns(),
		.no_pivot = c->o->no_pivot,
		.cgroup_mounts = c->cg_mounts,
		.n_cgroup_mounts = c->n_cg_mounts,
	};

	cell_userns_facts(&facts.ids);
	c->sp.rootfs_ctx.plan = &c->sp.plan;
	return cell_plan_build(c->spec, &facts, &c->sp.plan, err);
}

static int prepare(struct create_ctx *c, struct cell_error *err)
{
	int r;

	if ((r = open_namespaces(c, err)) < 0 || (r = setup_terminal(c, err)) < 0 ||
	    (r = setup_listener(c, err)) < 0)
		return r;
	if (c->spec->linux.seccomp.set &&
	    (r = cell_seccomp_for(c->spec, &c->sp.seccomp, err)) < 0)
		return r;
	if (c->spec->linux.mount_label && (r = cell_lsm_mount_label_check(c->spec->linux.mount_label, err)) < 0)
		return r;
	cell_caps_drop_unavailable(&c->spec->process.caps, c->spec->linux.ns[CELL_NS_USER].enabled);
	if ((r = cell_write_file_at_new(c->dirfd, "config.json", c->config_text)) < 0)
		return cell_err(err, r, "save config.json in the state directory");
	if ((r = prepare_cgroup(c, err)) < 0 || (!c->run && (r = listen_exec_socket(c, err)) < 0))
		return r;
	/* without a mount namespace the rootfs is used as it is (no mount to shift it) */
	if ((c->sp.clone_flags & CLONE_NEWUSER) && c->spec->linux.ns[CELL_NS_MNT].enabled &&
	    (r = cell_rootfs_shift_prepare(c->spec, c->rootfs, &c->sp.rootfs_ctx.tree_fd, err)) < 0)
		return r;
	c->sp.id = c->o->id;
	c->sp.preserve_fds = c->o->listen_fds + c->o->preserve_fds;
	if (c->o->listen_fds > 0) {
		cell_strv_push(&c->spec->process.env,
			       xasprintf("LISTEN_FDS=%d", c->o->listen_fds));
		cell_strv_push(&c->spec->process.env, xstrdup("LISTEN_PID=1"));
	}
	c->sp.no_new_keyring = c->o->no_new_keyring;
	if ((r = build_plan(c, err)) < 0)
		return r;
	c->sp.send_mount_sources = cell_mount_sources_wanted(
		&c->sp.plan, (c->sp.clone_flags & CLONE_NEWUSER) || c->sp.ns_fds[CELL_NS_USER] >= 0,
		c->rt->rootless);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sync) < 0)
		return cell_err(err, errno, "sync socketpair");
	c->sp.sync_fd = c->sync[1];
	c->sp.state_dirfd = c->dirfd;
	return 0;
}

static int run_parent_hooks(struct create_ctx *c, struct cell_error *err)
{
	_cleanup_free_ char *st = cell_spawn_state_json(&c->sp, c->pid, CELL_CREATING);
	int r = cell_hooks_run(&c->spec->hooks[CELL_HOOK_PRESTART], CELL_HOOK_PRESTART, NULL,
			       environ, st, err);
	if (r < 0)
		return r;
	return cell_hooks_run(&c->spec->hooks[CELL_HOOK_CREATE_RUNTIME], CELL_HOOK_CREATE_RUNTIME,
			      NULL, environ, st, err);
}

/* Steps 5 and 8 of spawn.c, parent side. */
static int follow_child(struct create_ctx *c, struct cell_error *err)
{
	struct cell_sync_msg m;
	int r;

	for (;;) {
		r = cell_sync_recv(c->sync[0], &m, NULL, 0);
		if (r == -EPIPE)
			return cell_errx(err, EPIPE, "container process exited during setup");
		if (r < 0)
			return cell_err(err, r, "read from container process");
		if (m.type == CELL_SYNC_ERROR) {
			*err = m.err;
			return err->code ? -err->code : -EINVAL;
		}
		if (m.type == CELL_SYNC_CREATED)
			return 0;
		if (m.type != CELL_SYNC_PREPARED)
			return cell_err(err, EPROTO, "unexpected message %d from container", m.type);
		if ((r = run_parent_hooks(c, err)) < 0)
			return r;
		if ((r = cell_sync_send(c->sync[0], CELL_SYNC_HOOKS_DONE, 0, NULL, 0)) < 0)
			return cell_err(err, r, "sync with container process");
	}
}

static int write_pid_file(const char *path, pid_t pid, struct cell_error *err)
{
	_cleanup_free_ char *text = xasprintf("%d", (int)pid);
	_cleanup_free_ char *abs = path[0] == '/' ? xstrdup(path) : realpath(".", NULL);
	if (!abs)
		return cell_err(err, errno, "pid file %s", path);
	if (path[0] != '/') {
		char *full = xasprintf("%s/%s", abs, path);
		free(abs);
		abs = full;
	}
	int r = cell_write_file_replace(abs, text, strlen(text), 0644, false);
	return r < 0 ? cell_err(err, r, "write pid file %s", abs) : 0;
}

static void poststart(const struct cell_spec *spec, const struct cell_state *st)
{
	if (!spec->hooks[CELL_HOOK_POSTSTART].n)
		return;
	_cleanup_free_ char *json = cell_state_oci_json(st, CELL_RUNNING, false);
	(void)cell_hooks_run_all(&spec->hooks[CELL_HOOK_POSTSTART], CELL_HOOK_POSTSTART, json);
}

/* state.json: "created", or for `run` "running", written before the process may exec. */
static int record_state(struct create_ctx *c, enum cell_status status, struct cell_error *err)
{
	struct cell_state st = {
		.id = (char *)c->o->id,
		.pid = c->pid,
		.bundle = c->bundle,
		.rootfs = c->rootfs,
		.status = status,
		.created = c->created,
		.cgroup_path = (char *)cell_cgroup_path(c->cg),
		.systemd_cgroup = c->rt->systemd_cgroup,
		.rootless = c->rt->rootless,
		.owner = geteuid(),
		.annotations = c->spec->annotations,
		.n_annotations = c->spec->n_annotations,
	};

	st.start_time = c->start_time;
	return cell_state_save(c->dirfd, &st, err);
}

/* After the state is recorded (and `run` started the process): --pid-file, then for
 * `run` the poststart hooks; `create` tells the child, which waits for this before it
 * listens for `start` -- killed before it, we leave no process waiting for ever (the
 * child exits at EOF). */
static int recorded(struct create_ctx *c, struct cell_error *err)
{
	struct cell_state st = {
		.id = (char *)c->o->id,
		.pid = c->pid,
		.bundle = c->bundle,
		.rootfs = c->rootfs,
		.created = c->created,
		.annotations = c->spec->annotations,
		.n_annotations = c->spec->n_annotations,
	};
	int r;

	if (c->o->pid_file && (r = write_pid_file(c->o->pid_file, c->pid, err)) < 0)
		return r;
	if (c->run) {
		poststart(c->spec, &st);
		return 0;
	}
	if ((r = cell_sync_send(c->sync[0], CELL_SYNC_RECORDED, 0, NULL, 0)) < 0)
		return cell_err(err, r, "sync with container process");
	return 0;
}

/* The start byte, then EOF (the process exec'd: its end is close-on-exec) or an error
 * record from the container process. */
static int start_process(int fd, struct cell_error *err)
{
	struct cell_sync_msg m;
	int r;

	if (write(fd, "1", 1) != 1)
		return cell_err(err, errno, "signal the container to start");
	r = cell_sync_recv(fd, &m, NULL, 0);
	if (r == 0 && m.type == CELL_SYNC_ERROR) {
		*err = m.err;
		return err->code ? -err->code : -EINVAL;
	}
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		return cell_err(err, r, "wait for the container process to exec");
	return 0;
}

/* Undo a failed create: the process, the cgroup, the state dir. */
static void create_rollback(struct create_ctx *c, bool hooks_may_have_run)
{
	struct cell_error ignored = { 0 };

	if (c->pid > 0) {
		(void)kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, __WALL) < 0 && errno == EINTR)
			;
	}
	if (c->cg) {
		(void)cell_cgroup_kill(c->cg, SIGKILL, &ignored);
		(void)cell_cgroup_destroy(c->cg, &ignored);
	}
	if (hooks_may_have_run && c->spec) {
		_cleanup_free_ char *st = cell_spawn_state_json(&c->sp, 0, CELL_STOPPED);
		(void)cell_hooks_run_all(&c->spec->hooks[CELL_HOOK_POSTSTOP], CELL_HOOK_POSTSTOP, st);
	}
	if (c->dirfd >= 0) {
		_cleanup_free_ char *dir = xasprintf("%s/%s", c->rt->root, c->o->id);
		(void)cell_rm_rf(dir);
	}
}

static int create_in(struct create_ctx *c, struct cell_error *err)
{
	int r;

	if ((r = cell_preserved_fds_check(c->o->listen_fds + c->o->preserve_fds, err)) < 0 ||
	    (r = load_bundle(c, err)) < 0)
		return r;
	if ((r = cell_state_dir_open(c->rt, c->o->id, true, &c->dirfd, err)) < 0) {
		c->dirfd = -1; /* not ours to remove */
		return r;
	}
	if ((r = prepare(c, err)) < 0)
		goto fail;
	r = cell_spawn_init(&c->sp, c->cg, c->sync[0], &c->pid, err);
	ctx_close_child_fds(c);
	if (r < 0)
		goto fail;
	if ((r = follow_child(c, err)) < 0 ||
	    (r = cell_process_oom_score_apply(c->pid, &c->spec->process, err)) < 0)
		goto fail;
	/* before `run` starts it: /bin/true may be gone by the time the state is written */
	if ((r = cell_pid_start_time(c->pid, &c->start_time)) < 0) {
		cell_err(err, r, "container process %d vanished", (int)c->pid);
		goto fail;
	}
	/* recorded before it can run; `run` then starts it, still holding the lock: one
	 * state write, no exec.sock */
	c->created = cell_now_rfc3339();
	if ((r = record_state(c, c->run ? CELL_RUNNING : CELL_CREATED, err)) < 0)
		goto fail;
	/* the child sent its terminal before it reported created: taken (and set up as
	 * runc's tty.go does) before the process may write to it */
	if (c->console_pair[0] >= 0 &&
	    ((r = cell_console_recv_master(c->console_pair[0], &c->master, err)) < 0 ||
	     (r = cell_terminal_clear_onlcr(c->master, err)) < 0))
		goto fail;
	c->starting = c->run;
	if (c->run && (r = start_process(c->sync[0], err)) < 0)
		goto fail;
	c->starting = false;
	if ((r = recorded(c, err)) < 0)
		goto fail;
	return 0;
fail:
	create_rollback(c, c->pid > 0);
	return r;
}

static void ctx_init(struct create_ctx *c, const struct cell_runtime *rt,
		     const struct cell_create_opts *o, bool foreground)
{
	memset(c, 0, sizeof(*c));
	c->rt = rt;
	c->o = o;
	c->dirfd = -1;
	c->sync[0] = c->sync[1] = -1;
	c->console_pair[0] = c->console_pair[1] = -1;
	c->sp.exec_listen_fd = c->sp.console_fd = c->sp.listener_fd = c->sp.state_dirfd = -1;
	for (int t = 0; t < CELL_NS_COUNT; t++)
		c->sp.ns_fds[t] = -1;
	c->foreground = foreground;
	c->master = -1;
	c->sp.rootfs_ctx.tree_fd = -1;
}

int cell_container_create(const struct cell_runtime *rt, const struct cell_create_opts *o,
			  struct cell_error *err)
{
	struct create_ctx c;
	int r;

	ctx_init(&c, rt, o, false);
	r = create_in(&c, err);
	ctx_free(&c);
	return r < 0 ? cell_err_prefix(err, "create %s", o->id) : 0;
}

/* ---- start ---- */

static int start_locked(const struct cell_runtime *rt, int dirfd, const char *id,
			struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *st = NULL;
	_cleanup_(cell_spec_freep) struct cell_spec *spec = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct cell_error ignored = { 0 };
	int r;

	if ((r = cell_state_load(dirfd, &st, err)) < 0)
		return r;
	if (st->status != CELL_CREATED || !cell_state_pid_alive(st))
		return cell_errx(err, cell_state_pid_alive(st) ? EBUSY : ESRCH, "container is not in the created state (it is %s)",
				cell_state_pid_alive(st) ? cell_status_name(st->status) : "stopped");
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	(void)snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/exec.sock", dirfd);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cell_err(err, errno, "connect to the container's exec socket");
	r = start_process(fd, err);
	(void)unlinkat(dirfd, "exec.sock", 0);
	if (r < 0)
		return r;
	st->status = CELL_RUNNING;
	if ((r = cell_state_save(dirfd, st, err)) < 0)
		return r;
	if (cell_container_config(rt, st->id, &spec, &ignored) >= 0)
		poststart(spec, st);
	return 0;
}

int cell_container_start(const struct cell_runtime *rt, const char *id, struct cell_error *err)
{
	_cleanup_close_ int dirfd = -1;
	int r = cell_state_dir_open(rt, id, false, &dirfd, err);

	if (r >= 0)
		r = start_locked(rt, dirfd, id, err);
	return r < 0 ? cell_err_prefix(err, "start %s", id) : 0;
}

/* ---- run ---- */

int cell_container_run(const struct cell_runtime *rt, const struct cell_create_opts *o,
		       bool detach, int *status, struct cell_error *err)
{
	struct create_ctx c;
	sigset_t all, old;
	int r;

	/* Signals sent to us while the container runs are forwarded to it. */
	sigfillset(&all);
	if (!detach)
		(void)sigprocmask(SIG_BLOCK, &all, &old);
	ctx_init(&c, rt, o, !detach);
	c.run = true;
	r = create_in(&c, err);
	if (r < 0)
		(void)cell_err_prefix(err, "%s %s", c.starting ? "start" : "create", o->id);
	if (c.dirfd >= 0)
		(void)close(TAKE_FD(c.dirfd)); /* the container is running: others may act on it */
	if (r >= 0 && !detach) {
		struct cell_known known = { .pid = c.pid, .cg = c.cg, .spec = c.spec };
		r = cell_wait_foreground(rt, o->id, c.pid, c.master, &known, o->keep, status,
					 err);
	}
	if (!detach)
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (c.master >= 0)
		(void)close(c.master);
	ctx_free(&c);
	return r;
}
