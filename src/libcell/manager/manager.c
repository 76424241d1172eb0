/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create / start / stop / kill / destroy / info for `cell`. */
#include "manager.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../cgroup/cgroup.h"
#include "../sys/syscalls.h"
#include "idmap-internal.h"
#include "supervisor-internal.h"

static int write_bundle(const struct cell_store *st, const struct cell_settings *s,
			const char *netns_path, const char *userns_path, struct cell_error *err)
{
	_cleanup_free_ char *dir = cell_store_dir(st, s->name);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
	_cleanup_free_ char *path = xasprintf("%s/config.json", dir);
	struct cell_compile_host host = st->host;
	int r;

	host.netns_path = netns_path;
	host.userns_path = userns_path;
	_cleanup_free_ char *text = cell_settings_compile(s, &host, rootfs, err);
	if (!text)
		return -EINVAL;
	r = cell_write_file_atomic(path, text, strlen(text), 0644);
	return r < 0 ? cell_err(err, r, "write %s", path) : 0;
}

/* --net container=OTHER joins OTHER's namespace as it is now; a rootless
 * --net pasta joins the one made for it. */
static int bundle_for_start(const struct cell_store *st, const struct cell_settings *s,
			    struct cell_error *err)
{
	_cleanup_free_ char *netns = NULL, *userns = NULL;
	enum cell_net_kind kind = CELL_NET_NONE;
	const char *arg = NULL;
	int r;

	if (s->net && (r = cell_net_mode_parse(s->net, &kind, &arg, err)) < 0)
		return r;
	if (kind == CELL_NET_CONTAINER &&
	    (r = cell_manager_netns_of(st, s, arg, &netns, &userns, err)) < 0)
		return r;
	if (kind == CELL_NET_PASTA && st->host.rootless_map &&
	    (r = cell_manager_pasta_first(st, s, &netns, &userns, err)) < 0)
		return r;
	return write_bundle(st, s, netns, userns, err);
}

/* --net container=OTHER: OTHER's network namespace belongs to OTHER's user
 * namespace, which an unprivileged container joins with it: it shares
 * OTHER's ids unless told otherwise (NULL: no such peer, or none made yet). */
static const char *net_peer(const struct cell_settings *s)
{
	enum cell_net_kind kind;
	const char *arg = NULL;
	struct cell_error ignored = { 0 };

	if (!s->net || cell_net_mode_parse(s->net, &kind, &arg, &ignored) < 0 ||
	    kind != CELL_NET_CONTAINER)
		return NULL;
	return arg;
}

/* An unprivileged container's host ids (a shared range when asked). */
static int give_ids(const struct cell_store *st, struct cell_create_req *req,
		    struct cell_error *err)
{
	struct cell_settings *s = req->s;
	int r;

	if (!s->unprivileged) {
		if (req->idmap_share)
			return cell_err(err, EINVAL, "--idmap-share needs an unprivileged container");
		return 0;
	}
	if (s->idmap_size)
		return 0;
	r = cell_idmap_allocate(st, s->name, req->idmap_share ? req->idmap_share : net_peer(s),
				&s->idmap_host, &req->notice, err);
	if (r >= 0)
		s->idmap_size = CELL_IDMAP_SIZE;
	return r;
}

/* A create that failed leaves nothing: rootfs, directory, lock, host ids. */
static void undo_create(const struct cell_store *st, const struct cell_settings *s,
			const char *dir)
{
	struct cell_error ignored = { 0 };
	_cleanup_free_ char *lockpath = cell_store_lockpath(st, s->name);

	(void)cell_manager_remove_rootfs(st, s, dir, &ignored);
	(void)cell_rm_rf(dir);
	(void)cell_idmap_release(st, s->name, &ignored);
	(void)cell_manager_net_release(st, s->name, &ignored);
	(void)unlink(lockpath);
}

int cell_manager_create(const struct cell_store *st, struct cell_create_req *req,
			struct cell_error *err)
{
	struct cell_settings *s = req->s;
	_cleanup_free_ char *dir = cell_store_dir(st, s->name);
	_cleanup_close_ int lock = cell_store_lock_new(st, s->name, err);
	int r;

	if (lock < 0)
		return lock;
	if (mkdir(dir, 0711) < 0)
		return errno == EEXIST ? cell_errx(err, EEXIST, "a container named \"%s\" exists already", s->name)
				       : cell_err(err, errno, "create %s", dir);
	free(s->created);
	s->created = cell_now_rfc3339();
	r = give_ids(st, req, err);
	if (r >= 0)
		r = cell_manager_protect_dir(dir, s, err);
	if (r >= 0)
		r = cell_manager_make_rootfs(st, req, dir, err);
	if (r >= 0)
		r = cell_manager_net_lease(st, s, err);
	if (r >= 0)
		r = write_bundle(st, s, NULL, NULL, err);
	if (r >= 0)
		r = cell_settings_save(st, s, err);
	if (r < 0) {
		undo_create(st, s, dir);
		return cell_err_prefix(err, "create %s", s->name);
	}
	return 0;
}

int cell_manager_start(const struct cell_store *st, const char *name, enum cell_start_mode mode,
		       struct cell_error *err)
{
	_cleanup_(cell_settings_freep) struct cell_settings *s = NULL;
	_cleanup_close_ int lock = cell_store_lock(st, name, err);
	int r;

	if (lock < 0)
		return lock;
	if ((r = cell_settings_load(st, name, &s, err)) < 0)
		return r;
	if (cell_supervisor_pid(st, name) > 0)
		return cell_errx(err, EBUSY, "%s is running already", name);
	if (cell_manager_cgroup_procs(st, name) > 0)
		return cell_err(err, EBUSY,
				"%s is running without its supervisor (it was killed): `cell stop %s` "
				"ends it",
				name, name);
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	/* also for containers made before their directory was closed */
	if (cell_manager_protect_dir(dir, s, err) < 0)
		return cell_err_prefix(err, "start %s", name);
	/* a stopped container may have left state behind (host reboot, kill -9) */
	struct cell_error ignored = { 0 };
	if (cell_manager_cleanup(st, name, err) < 0 || cell_manager_mount(st, s, err) < 0 ||
	    bundle_for_start(st, s, err) < 0)
		return cell_err_prefix(err, "start %s", name);
	r = cell_supervise(st, name, mode, s->system || s->terminal, lock, err);
	/* NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): the cleanup reads it */
	lock = -1; /* handed to the supervisor */
	if (r < 0) /* the supervisor is gone: no empty runtime dir, cgroup or mount stays */
		(void)cell_manager_cleanup(st, name, &ignored);
	return r;
}

/* Wait for the supervisor to finish (it deletes the container when the init exits). */
static bool wait_supervisor(pid_t sup, int seconds)
{
	_cleanup_close_ int pfd = cell_sys_pidfd_open(sup, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	if (pfd < 0)
		return true;
	return poll(&p, 1, seconds * 1000) > 0;
}

/* The init (from the runtime's state) exits within seconds; false if it did not,
 * or is not known. */
static bool wait_init(const struct cell_store *st, const char *name, int seconds)
{
	_cleanup_(cell_state_freep) struct cell_state *state = NULL;
	struct cell_error ignored = { 0 };
	enum cell_status status;

	if (cell_container_state(&st->rt, name, &state, &status, &ignored) < 0)
		return false;
	_cleanup_close_ int pfd = cell_sys_pidfd_open(state->pid, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	if (pfd < 0 || !cell_state_pid_alive(state))
		return true; /* opened after the check: this is the init, or it is gone */
	return poll(&p, 1, seconds * 1000) > 0;
}

static void record_lost(const struct cell_store *st, const char *name)
{
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	_cleanup_free_ char *path = xasprintf("%s/last-exit", dir);
	const char *text = "stopped after its supervisor was lost\n";

	(void)cell_write_file_atomic(path, text, strlen(text), 0644);
}

/* Stop a container whose supervisor died (kill -9 of cell-monitor): the init gets
 * its power-off signal and timeout seconds, then the cgroup is killed and every
 * leftover removed.  No lock: destroy calls it with the lock held. */
static int stop_lost(const struct cell_store *st, const char *name, int timeout, bool kill_now,
		     struct cell_error *err)
{
	struct cell_error ignored = { 0 };

	if (cell_manager_cgroup_procs(st, name) == 0) {
		(void)cell_manager_cleanup(st, name, &ignored); /* what the crash left */
		return cell_errx(err, ESRCH, "%s is not running", name);
	}
	cell_warn("%s: its supervisor is gone (killed?): stopping the container without it "
		  "and removing what it left",
		  name);
	if (!kill_now &&
	    cell_container_kill(&st->rt, name, cell_stop_signal_of(st, name), false, &ignored) == 0)
		(void)wait_init(st, name, timeout);
	int r = cell_manager_cleanup(st, name, err);
	if (r == 0)
		record_lost(st, name);
	return r;
}

static int stop_supervised(const struct cell_store *st, const char *name, pid_t sup, int timeout,
			   struct cell_error *err)
{
	struct cell_error ignored = { 0 };

	(void)cell_container_kill(&st->rt, name, cell_stop_signal_of(st, name), false, &ignored);
	if (wait_supervisor(sup, timeout))
		return 0;
	cell_warn("%s did not stop within %d s: killing it", name, timeout);
	(void)cell_container_kill(&st->rt, name, SIGKILL, true, &ignored);
	if (!wait_supervisor(sup, 10))
		return cell_err(err, ETIMEDOUT, "%s: the supervisor %d did not finish", name, (int)sup);
	return 0;
}

int cell_manager_stop(const struct cell_store *st, const char *name, int timeout,
		      struct cell_error *err)
{
	if (!cell_name_valid(name))
		return cell_err(err, EINVAL, "invalid name \"%s\"", name);
	pid_t sup = cell_supervisor_pid(st, name);
	if (sup > 0)
		return stop_supervised(st, name, sup, timeout, err);
	_cleanup_close_ int lock = cell_store_lock(st, name, err);
	if (lock < 0)
		return lock;
	/* a start that held the lock may have made a supervisor meanwhile */
	if ((sup = cell_supervisor_pid(st, name)) > 0)
		return stop_supervised(st, name, sup, timeout, err);
	return stop_lost(st, name, timeout, false, err);
}

int cell_manager_kill(const struct cell_store *st, const char *name, int sig,
		      struct cell_error *err)
{
	if (!cell_name_valid(name))
		return cell_err(err, EINVAL, "invalid name \"%s\"", name);
	if (cell_supervisor_pid(st, name) > 0)
		return cell_container_kill(&st->rt, name, sig, false, err);
	int r = cell_store_exists(st, name, err);
	if (r < 0)
		return r;
	if (sig == SIGKILL) {
		_cleanup_close_ int lock = cell_store_lock(st, name, err);
		if (lock < 0)
			return lock;
		return stop_lost(st, name, 0, true, err);
	}
	if (cell_manager_cgroup_procs(st, name) == 0)
		return cell_errx(err, ESRCH, "%s is not running", name);
	cell_warn("%s: its supervisor is gone: nothing records the init's exit; `cell stop %s` "
		  "removes what is left",
		  name, name);
	return cell_container_kill(&st->rt, name, sig, false, err);
}

/* The store directory and what its storage made (the backend from cell.json, else
 * guessed from what the directory holds), then the lock file. */
static int remove_store_dir(const struct cell_store *st, const char *name, struct cell_error *err)
{
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	_cleanup_free_ char *kind = cell_manager_storage_kind(st, name);
	_cleanup_free_ char *lockpath = cell_store_lockpath(st, name);
	struct cell_settings s = { .name = (char *)name, .storage = kind };
	struct stat sb;
	int r;

	if (lstat(dir, &sb) == 0 && cell_manager_remove_rootfs(st, &s, dir, err) < 0)
		return cell_err_prefix(err, "destroy %s", name);
	if ((r = cell_rm_rf(dir)) < 0)
		return cell_err(err, r, "remove %s", dir);
	(void)unlink(lockpath);
	return 0;
}

/* --force: whatever a crash left (no cell.json, a dead supervisor, processes in
 * the cgroup, a mount, runtime dirs) goes, and a name with nothing left is no error,
 * as with `rm -f`. */
int cell_manager_destroy(const struct cell_store *st, const char *name, bool force,
			 struct cell_error *err)
{
	_cleanup_(cell_settings_freep) struct cell_settings *s = NULL;
	/* --force also for what a crash left without a store directory (the lock
	 * file, made again here, goes with the rest) */
	_cleanup_close_ int lock =
		force ? cell_store_lock_new(st, name, err) : cell_store_lock(st, name, err);
	int r;

	if (lock < 0)
		return lock;
	if ((r = cell_settings_load(st, name, &s, err)) < 0 && !force)
		return r;
	pid_t sup = cell_supervisor_pid(st, name);
	bool lost = sup <= 0 && cell_manager_cgroup_procs(st, name) > 0;
	if ((sup > 0 || lost) && !force)
		return cell_errx(err, EBUSY, "%s is running%s: stop it first or use --force", name,
				lost ? " without its supervisor" : "");
	if (sup > 0 && (r = stop_supervised(st, name, sup, 10, err)) < 0)
		return r;
	if (lost)
		cell_warn("%s: its supervisor is gone (killed?): killing the container without it",
			  name);
	if (cell_manager_cleanup(st, name, err) < 0)
		return cell_err_prefix(err, "destroy %s", name);
	if ((r = remove_store_dir(st, name, err)) < 0)
		return r;
	/* the container is gone: a registry that cannot be written now keeps a stale
	 * entry, which the next allocation reclaims (its directory is gone) */
	struct cell_error rel = { 0 };
	if (cell_idmap_release(st, name, &rel) < 0)
		cell_warn("%s", rel.msg);
	cell_err_clear(&rel);
	if (cell_manager_net_release(st, name, &rel) < 0)
		cell_warn("%s", rel.msg);
	return 0;
}

static unsigned long rss_kb(pid_t pid)
{
	char path[64];
	_cleanup_free_ char *text = NULL;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (cell_read_file(path, &text, NULL) < 0)
		return 0;
	char *p = strstr(text, "VmRSS:");
	return p ? strtoul(p + 6, NULL, 10) : 0;
}

static long uptime_of(const char *created)
{
	struct tm tm = { 0 };
	if (!created || !strptime(created, "%Y-%m-%dT%H:%M:%S", &tm))
		return -1;
	return (long)(time(NULL) - timegm(&tm));
}

int cell_manager_info(const struct cell_store *st, const char *name, struct cell_info *out,
		      struct cell_error *err)
{
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	_cleanup_free_ char *exitf = xasprintf("%s/last-exit", dir);
	struct cell_state *state = NULL;
	struct cell_error ignored = { 0 };

	memset(out, 0, sizeof(*out));
	out->status = CELL_STOPPED;
	out->uptime = -1;
	if (cell_read_file(exitf, &out->last_exit, NULL) == 0)
		out->last_exit[strcspn(out->last_exit, "\n")] = '\0';
	out->supervisor = cell_supervisor_pid(st, name);
	if (out->supervisor <= 0) {
		/* the supervisor was killed, the container was not */
		out->supervisor_lost = cell_manager_cgroup_procs(st, name) > 0;
		if (!out->supervisor_lost)
			return 0;
		out->status = CELL_RUNNING;
	}
	if (cell_container_state(&st->rt, name, &state, &out->status, &ignored) < 0)
		return 0;
	if (out->supervisor_lost && out->status == CELL_STOPPED)
		out->status = CELL_RUNNING; /* its init died, other processes did not */
	out->pid = out->status == CELL_STOPPED ? 0 : state->pid;
	out->uptime = uptime_of(state->created);
	out->supervisor_rss_kb = out->supervisor > 0 ? rss_kb(out->supervisor) : 0;
	out->memory = cell_manager_memory(&st->rt, state);
	cell_state_free(state);
	(void)err;
	return 0;
}

void cell_info_free(struct cell_info *i)
{
	free(i->last_exit);
	i->last_exit = NULL;
}
