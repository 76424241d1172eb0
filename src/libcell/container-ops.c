/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state / kill / delete / list / ps / pause / update on existing containers. */
#include "container-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/util.h"
#include "linux/seccomp.h"
#include "process/hooks.h"
#include "process/terminal.h"
#include "sys/privilege.h"
#include "sys/syscalls.h"

static int open_cg(const struct cell_runtime *rt, const struct cell_state *st,
		   struct cell_cgroup **cg, struct cell_error *err)
{
	if (!st->cgroup_path)
		return cell_err(err, ENOENT, "no cgroup recorded");
	return cell_cgroup_of(rt, st->id, st->systemd_cgroup, st->cgroup_path, false, cg, err);
}

static enum cell_status live_status(const struct cell_runtime *rt, const struct cell_state *st)
{
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	struct cell_error ignored = { 0 };
	bool frozen = false;

	if (!cell_state_pid_alive(st))
		return CELL_STOPPED;
	if (st->status == CELL_CREATED)
		return CELL_CREATED;
	if (open_cg(rt, st, &cg, &ignored) >= 0 &&
	    cell_cgroup_is_frozen(cg, &frozen, &ignored) >= 0 && frozen)
		return CELL_PAUSED;
	return CELL_RUNNING;
}

static int load_locked(const struct cell_runtime *rt, const char *id, int *dirfd,
		       struct cell_state **st, enum cell_status *status, struct cell_error *err)
{
	int r = cell_state_dir_open(rt, id, false, dirfd, err);
	if (r < 0)
		return r;
	r = cell_state_load(*dirfd, st, err);
	if (r < 0) {
		(void)close(TAKE_FD(*dirfd));
		(void)cell_err_prefix(err, "damaged or incomplete state (delete --force "
					   "removes the container)");
		return r;
	}
	*status = live_status(rt, *st);
	return 0;
}

int cell_container_state(const struct cell_runtime *rt, const char *id, struct cell_state **out,
			 enum cell_status *status, struct cell_error *err)
{
	_cleanup_close_ int dirfd = -1;
	int r = load_locked(rt, id, &dirfd, out, status, err);
	return r < 0 ? cell_err_prefix(err, "state %s", id) : 0;
}

/* Signal the init through a pidfd, checked against the recorded start time
 * after opening it, so a recycled pid is never signalled. */
static int signal_init(const struct cell_state *st, int sig, struct cell_error *err)
{
	_cleanup_close_ int pfd = cell_sys_pidfd_open(st->pid, 0);

	if (pfd < 0 || !cell_state_pid_alive(st))
		return cell_err(err, ESRCH, "container not running");
	if (cell_sys_pidfd_send_signal(pfd, sig, NULL, 0) < 0)
		return cell_err(err, errno, "send signal %d to %d", sig, (int)st->pid);
	return 0;
}

static int kill_all(const struct cell_runtime *rt, const struct cell_state *st, int sig,
		    struct cell_error *err)
{
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	int r = open_cg(rt, st, &cg, err);
	if (r < 0)
		return r;
	return cell_cgroup_kill(cg, sig, err);
}

int cell_container_kill(const struct cell_runtime *rt, const char *id, int sig, bool all,
			struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *st = NULL;
	_cleanup_close_ int dirfd = -1;
	enum cell_status s;
	int r = load_locked(rt, id, &dirfd, &st, &s, err);

	/* --all signals what is left in the cgroup, also after the init is gone (runc:
	 * nothing to do once the cgroup is gone); the init alone needs it alive */
	if (r < 0)
		return cell_err_prefix(err, "kill %s", id);
	if (s == CELL_STOPPED && !all)
		r = cell_err(err, ESRCH, "container not running");
	else
		r = all ? kill_all(rt, st, sig, err) : signal_init(st, sig, err);
	if (r == -ENOENT && s == CELL_STOPPED)
		return 0;
	return r < 0 ? cell_err_prefix(err, "kill %s", id) : 0;
}

/* Wait up to ms for the init to exit (pidfd becomes readable). */
static void wait_exit(const struct cell_state *st, int ms)
{
	_cleanup_close_ int pfd = cell_sys_pidfd_open(st->pid, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	if (pfd >= 0 && cell_state_pid_alive(st))
		(void)poll(&p, 1, ms);
}

/* After SIGKILL: until no process is left in the cgroup (10 s), killing again now and
 * then (a fork may have been in flight); a zombie leaves it once its parent reaps it. */
static int wait_cgroup_empty(struct cell_cgroup *cg, struct cell_error *err)
{
	const struct timespec tick = { .tv_nsec = 10000000L }; /* 10 ms */
	struct cell_error ignored = { 0 };

	for (int i = 0; i < 1000; i++) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;
		if (cell_cgroup_pids(cg, &pids, &n, &ignored) < 0 || n == 0)
			return 0;
		if (i % 50 == 49)
			(void)cell_cgroup_kill(cg, SIGKILL, &ignored);
		(void)nanosleep(&tick, NULL);
	}
	return cell_err(err, EBUSY, "cgroup %s: processes left after SIGKILL",
			cell_cgroup_path(cg));
}

static int stop_everything(const struct cell_runtime *rt, const struct cell_state *st,
			   struct cell_cgroup *cg, struct cell_error *err)
{
	struct cell_error ignored = { 0 };
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 1;

	/* the usual case after `run`: nothing left, no freezer round trip */
	if (cg && (cell_cgroup_pids(cg, &pids, &n, &ignored) < 0 || n > 0)) {
		(void)cell_cgroup_freeze(cg, false, &ignored);
		(void)cell_cgroup_kill(cg, SIGKILL, &ignored);
	}
	if (cell_state_pid_alive(st))
		(void)signal_init(st, SIGKILL, &ignored);
	wait_exit(st, 10000);
	if (cell_state_pid_alive(st))
		return cell_err(err, EBUSY, "container process %d did not die", (int)st->pid);
	return cg && n > 0 ? wait_cgroup_empty(cg, err) : 0;
}

/* delete --force without a readable state.json: the record written before the cgroup
 * was made names it (no record: create died before it made one), whatever the state
 * file says or lacks.  The cgroup is the ground truth of what the id owns. */
static int delete_damaged(const struct cell_runtime *rt, int dirfd, const char *dir,
			  struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *rec = NULL;
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	struct cell_error ignored = { 0 };
	int r;

	if (cell_state_load_from(dirfd, CELL_RECORD_FILE, &rec, &ignored) >= 0 &&
	    rec->cgroup_path) {
		rec->pid = 0; /* never recorded there */
		if ((r = open_cg(rt, rec, &cg, err)) < 0 || (r = stop_everything(rt, rec, cg, err)) < 0 ||
		    (r = cell_cgroup_destroy(cg, err)) < 0)
			return r;
	}
	return (r = cell_rm_rf(dir)) < 0 ? cell_err(err, r, "remove %s", dir) : 0;
}

static void poststop(const struct cell_runtime *rt, const struct cell_state *st,
		     const struct cell_spec *known)
{
	_cleanup_(cell_spec_freep) struct cell_spec *loaded = NULL;
	struct cell_error err = { 0 };
	const struct cell_spec *spec = known;

	if (!spec && cell_container_config(rt, st->id, &loaded, &err) >= 0)
		spec = loaded;
	if (!spec || !spec->hooks[CELL_HOOK_POSTSTOP].n)
		return;
	_cleanup_free_ char *json = cell_state_oci_json(st, CELL_STOPPED, false);
	(void)cell_hooks_run_all(&spec->hooks[CELL_HOOK_POSTSTOP], CELL_HOOK_POSTSTOP, json);
}

static int delete_locked(const struct cell_runtime *rt, const char *id, int dirfd, bool force,
			 const struct cell_known *known, struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *st = NULL;
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *opened = NULL;
	struct cell_cgroup *cg = NULL;
	_cleanup_free_ char *dir = xasprintf("%s/%s", rt->root, id);
	struct cell_error ignored = { 0 };
	int r = cell_state_load(dirfd, &st, err);

	if (r < 0) {
		/* a state dir without state: only --force clears it */
		if (!force)
			return cell_err_prefix(err, "state is unreadable (use --force to remove it)");
		return delete_damaged(rt, dirfd, dir, err);
	}
	if (known && known->pid != st->pid)
		known = NULL; /* deleted and made anew meanwhile */
	if (known && known->cg)
		cg = known->cg;
	enum cell_status s = live_status(rt, st);
	if ((s == CELL_RUNNING || s == CELL_PAUSED) && !force)
		return cell_errx(err, EBUSY, "container is %s: stop it first or use delete --force",
				cell_status_name(s));
	if (!cg && open_cg(rt, st, &opened, &ignored) >= 0)
		cg = opened;
	if ((r = stop_everything(rt, st, cg, err)) < 0)
		return r;
	/* kept on failure, so that a second delete finds the cgroup again */
	if (cg && (r = cell_cgroup_destroy(cg, err)) < 0)
		return r;
	poststop(rt, st, known ? known->spec : NULL);
	if ((r = cell_rm_rf(dir)) < 0)
		return cell_err(err, r, "remove %s", dir);
	return 0;
}

static int delete_known(const struct cell_runtime *rt, const char *id, bool force,
			const struct cell_known *known, struct cell_error *err)
{
	_cleanup_close_ int dirfd = -1;
	int r = cell_state_dir_open(rt, id, false, &dirfd, err);

	/* nothing to remove is no failure for --force, as in runc and crun */
	if (r == -ENOENT && force)
		return 0;
	if (r >= 0)
		r = delete_locked(rt, id, dirfd, force, known, err);
	return r < 0 ? cell_err_prefix(err, "delete %s", id) : 0;
}

int cell_container_delete(const struct cell_runtime *rt, const char *id, bool force,
			  struct cell_error *err)
{
	return delete_known(rt, id, force, NULL, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cell_container_list(const struct cell_runtime *rt, char ***ids, struct cell_error *err)
{
	_cleanup_closedir_ DIR *d = opendir(rt->root);
	char **v = xcalloc(1, sizeof(char *));
	struct dirent *de;

	if (!d) {
		*ids = v;
		return errno == ENOENT ? 0 : cell_err(err, errno, "open %s", rt->root);
	}
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && cell_id_valid(de->d_name))
			cell_strv_push(&v, xstrdup(de->d_name));
	qsort(v, cell_strv_len(v), sizeof(char *), cmp_str);
	*ids = v;
	return 0;
}

int cell_container_pids(const struct cell_runtime *rt, const char *id, pid_t **pids, size_t *n,
			struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *st = NULL;
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	_cleanup_close_ int dirfd = -1;
	enum cell_status s;
	int r = load_locked(rt, id, &dirfd, &st, &s, err);

	if (r >= 0 && s == CELL_STOPPED) {
		*pids = NULL;
		*n = 0;
		return 0;
	}
	if (r >= 0 && (r = open_cg(rt, st, &cg, err)) >= 0)
		r = cell_cgroup_pids(cg, pids, n, err);
	return r < 0 ? cell_err_prefix(err, "ps %s", id) : 0;
}

int cell_container_pause(const struct cell_runtime *rt, const char *id, bool pause,
			 struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *st = NULL;
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	_cleanup_close_ int dirfd = -1;
	enum cell_status s;
	const char *verb = pause ? "pause" : "resume";
	int r = load_locked(rt, id, &dirfd, &st, &s, err);

	if (r >= 0 && s != (pause ? CELL_RUNNING : CELL_PAUSED))
		r = cell_errx(err, s == CELL_STOPPED ? ESRCH : EBUSY, "container is %s, not %s", cell_status_name(s),
			     pause ? "running" : "paused");
	if (r >= 0 && (r = open_cg(rt, st, &cg, err)) >= 0)
		r = cell_cgroup_freeze(cg, pause, err);
	return r < 0 ? cell_err_prefix(err, "%s %s", verb, id) : 0;
}

/* apply() writes only the values that are set, but always rewrites the
 * device rules: an update that names no devices keeps the container's own. */
static int update_apply(const struct cell_runtime *rt, const char *id, struct cell_cgroup *cg,
			const struct cell_resources *res, struct cell_error *err)
{
	_cleanup_(cell_spec_freep) struct cell_spec *spec = NULL;
	struct cell_resources merged = *res;
	int r;

	if (res->n_devices == 0) {
		if ((r = cell_container_config(rt, id, &spec, err)) < 0)
			return r;
		merged.devices = spec->linux.resources.devices;
		merged.n_devices = spec->linux.resources.n_devices;
	}
	return cell_cgroup_apply(cg, &merged, err);
}

int cell_container_update(const struct cell_runtime *rt, const char *id,
			  const struct cell_resources *res, struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *st = NULL;
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	_cleanup_close_ int dirfd = -1;
	enum cell_status s;
	int r = load_locked(rt, id, &dirfd, &st, &s, err);

	if (r >= 0 && s == CELL_STOPPED)
		r = cell_errx(err, ESRCH, "container is stopped");
	if (r >= 0 && (r = open_cg(rt, st, &cg, err)) >= 0)
		r = update_apply(rt, id, cg, res, err);
	return r < 0 ? cell_err_prefix(err, "update %s", id) : 0;
}

int cell_container_memory(const struct cell_runtime *rt, const struct cell_state *st,
			  unsigned long long *bytes, struct cell_error *err)
{
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	int r = open_cg(rt, st, &cg, err);

	return r < 0 ? r : cell_cgroup_memory_current(cg, bytes, err);
}

/* ---- foreground run ---- */

int cell_wait_foreground(const struct cell_runtime *rt, const char *id, pid_t pid, int master,
			 const struct cell_known *known, bool keep, int *status,
			 struct cell_error *err)
{
	struct cell_error ignored = { 0 };
	int r;

	if (master >= 0) {
		_cleanup_close_ int pfd = cell_sys_pidfd_open(pid, 0);
		(void)cell_terminal_proxy(master, pfd, err);
	}
	r = cell_forward_until_exit(pid, status);
	/* kept: its state names a dead init, so it reads "stopped" until delete */
	if (!keep)
		(void)delete_known(rt, id, true, known, &ignored);
	return r < 0 ? cell_err(err, r, "wait for container %s", id) : 0;
}

/* The cgroup of a container that is not stopped (events). */
static int live_cgroup(const struct cell_runtime *rt, const char *id, struct cell_cgroup **cg,
		       struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *st = NULL;
	_cleanup_close_ int dirfd = -1;
	enum cell_status s;
	int r = load_locked(rt, id, &dirfd, &st, &s, err);

	if (r >= 0 && s == CELL_STOPPED)
		r = cell_err(err, ESRCH, "container with id %s is not running", id);
	return r < 0 ? r : open_cg(rt, st, cg, err);
}

int cell_container_stats(const struct cell_runtime *rt, const char *id, json_t **out,
			 struct cell_error *err)
{
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	int r = live_cgroup(rt, id, &cg, err);

	if (r >= 0)
		r = cell_cgroup_stats(cg, out, err);
	return r < 0 ? cell_err_prefix(err, "events %s", id) : 0;
}

int cell_container_oom_count(const struct cell_runtime *rt, const char *id, uint64_t *count,
			     bool *running, struct cell_error *err)
{
	_cleanup_(cell_state_freep) struct cell_state *st = NULL;
	_cleanup_(cell_cgroup_freep) struct cell_cgroup *cg = NULL;
	_cleanup_close_ int dirfd = -1;
	enum cell_status s;
	int r = load_locked(rt, id, &dirfd, &st, &s, err);

	if (r >= 0 && (r = open_cg(rt, st, &cg, err)) >= 0)
		r = cell_cgroup_oom_count(cg, count, err);
	if (r >= 0)
		*running = s != CELL_STOPPED;
	return r < 0 ? cell_err_prefix(err, "events %s", id) : 0;
}
