/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Templates and storage for the manager: a template is built once into
 * <root>/templates/<key>/rootfs (read-only by convention, the lower layer of
 * overlay containers, the snapshot source of btrfs ones); each container's
 * rootfs is then made from it by its storage backend.
 */
#include "manager.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../image/image.h"
#include "../linux/rootfs.h"
#include "../storage/storage.h"
#include "../sys/rootfile.h"
#include "../sys/syscalls.h"
#include "idmap-internal.h"
#include "supervisor-internal.h"

static void storage_releasep(struct cell_storage *s)
{
	cell_storage_release(s);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

char *cell_manager_template_key(const char *t, char **packages)
{
	/* "-2": a tree of an older cell, whose rcS mounted a new procfs over the
	 * runtime's masked one, is not reused */
	if (streq(t, "busybox"))
		return xstrdup("busybox-2");
	_cleanup_free_ char *pk = xstrdup("");
	for (size_t i = 0; packages && packages[i]; i++) {
		char *n = xasprintf("%s,%s", pk, packages[i]);
		free(pk);
		pk = n;
	}
	_cleanup_free_ char *full = xasprintf("%s|%s", t, pk);
	const char *suite = cell_startswith(t, "debian:") ? t + 7 : "bookworm";
	if (streq(t, "debian") || cell_startswith(t, "debian:"))
		return xasprintf("debian-%s-%016llx", suite, (unsigned long long)fnv1a(full));
	return xasprintf("oci-%016llx", (unsigned long long)fnv1a(full));
}

static int build_template(const char *t, struct cell_create_req *req, const char *tree,
			  const char *cache, struct cell_image_config *cfg, struct cell_error *err)
{
	if (streq(t, "busybox"))
		return cell_template_busybox(tree, err);
	if (streq(t, "debian") || cell_startswith(t, "debian:"))
		return cell_template_debian(cell_startswith(t, "debian:") ? t + 7 : "bookworm",
					    req->packages, tree, cache, req->progress,
					    req->progress_arg, err);
	if (cell_startswith(t, "oci:"))
		return cell_image_import(t + 4, tree, cfg, err);
	return cell_err(err, EINVAL,
			"unknown template \"%s\": want busybox, debian[:SUITE], oci:PATH or dir:PATH",
			t);
}

/* An OCI image's config becomes an app container's process. */
void cell_manager_apply_image_config(struct cell_settings *s,
				     const struct cell_image_config *cfg)
{
	if (!s->command)
		s->command = cell_image_config_args(cfg);
	for (size_t i = 0; cfg->env && cfg->env[i]; i++)
		cell_strv_push(&s->env, xstrdup(cfg->env[i]));
	if (!s->cwd && cfg->working_dir)
		s->cwd = xstrdup(cfg->working_dir);
	if (!s->user && (cfg->uid || cfg->gid))
		s->user = xasprintf("%u:%u", (unsigned)cfg->uid, (unsigned)cfg->gid);
	if (!s->stop_signal && cfg->stop_signal)
		s->stop_signal = xstrdup(cfg->stop_signal);
}

/* <root>/templates/<key>/rootfs, built under a lock the first time. */
static int template_tree(const struct cell_store *st, struct cell_create_req *req, char **out,
			 struct cell_error *err)
{
	const char *t = req->s->template_name;
	_cleanup_free_ char *key = cell_manager_template_key(t, req->packages);
	_cleanup_free_ char *dir = xasprintf("%s/templates/%s", st->root, key);
	_cleanup_free_ char *tree = xasprintf("%s/rootfs", dir);
	_cleanup_free_ char *lock = xasprintf("%s/templates/%s.lock", st->root, key);
	const char *cache = st->cache; /* may be shared by stores (paths.cache) */
	_cleanup_free_ char *ready = xasprintf("%s/ready", dir);
	struct cell_image_config cfg = { 0 };
	int r;

	if (cell_startswith(t, "dir:")) {
		struct stat sb;
		if (stat(t + 4, &sb) < 0 || !S_ISDIR(sb.st_mode))
			return cell_err(err, errno ? errno : ENOTDIR, "template %s", t);
		*out = xstrdup(t + 4);
		return 0;
	}
	if ((r = cell_mkdir_p(dir, 0700)) < 0)
		return cell_err(err, r, "create %s", dir);
	_cleanup_close_ int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX) < 0)
		return cell_err(err, errno, "lock %s", lock);
	/* an OCI image's config is needed every time: import it again (cheap) */
	if (access(ready, F_OK) != 0 || cell_startswith(t, "oci:")) {
		(void)cell_rm_rf(tree);
		if (cell_storage_template_mkdir(tree, err) < 0 ||
		    build_template(t, req, tree, cache, &cfg, err) < 0) {
			(void)cell_rm_rf(tree);
			cell_image_config_free(&cfg);
			return cell_err_prefix(err, "template %s", t);
		}
		(void)cell_write_file_atomic(ready, "", 0, 0644);
	}
	if (cell_startswith(t, "oci:")) {
		cell_manager_apply_image_config(req->s, &cfg);
		cell_image_config_free(&cfg);
	}
	*out = TAKE_PTR(tree);
	return 0;
}

/* ---- a new root's first setup ---- */

/* The signal each init understands as "power off", from what /sbin/init is. */
static const char *stop_signal_of_init(int rootfd)
{
	_cleanup_close_ int sbin = cell_open_in_root(rootfd, "sbin", O_PATH | O_DIRECTORY, 0);
	char target[256];
	ssize_t n = sbin < 0 ? -1 : readlinkat(sbin, "init", target, sizeof(target) - 1);

	if (n > 0) {
		target[n] = '\0';
		/* systemd: SIGRTMIN+3 is halt, which in a pid namespace ends the
		 * container (reboot(2) kills its init with SIGINT); nspawn uses it too */
		if (strstr(target, "systemd"))
			return "SIGRTMIN+3";
		if (strstr(target, "busybox"))
			return "SIGUSR2"; /* busybox init: USR1 halt, USR2 poweroff, TERM reboot */
	}
	return "SIGTERM";
}

/* Rewrite a regular file the tree has (never a link, never outside the root); false
 * when it is not there or not a regular file. */
static bool rewrite_in_root(int rootfd, const char *path, const char *text)
{
	int r = cell_root_rewrite_file(rootfd, path, text);

	if (r < 0)
		cell_debug("%s not rewritten: %s", path, strerror(-r));
	return r == 0;
}

/*
 * A system container's identity, set when it is made (as LXC does on create
 * and copy): its hostname in /etc/hostname, which a systemd init applies
 * over the runtime's, and an empty /etc/machine-id, which systemd fills at
 * first boot, so a clone does not keep its source's.
 */
static void set_identity(int rootfd, const struct cell_settings *s)
{
	_cleanup_free_ char *line = xasprintf("%s\n", s->hostname ? s->hostname : s->name);

	(void)rewrite_in_root(rootfd, "etc/hostname", line);
	(void)rewrite_in_root(rootfd, "etc/machine-id", "");
}

int cell_manager_write_hostname(const struct cell_store *st, const struct cell_settings *s,
				struct cell_error *err)
{
	_cleanup_(storage_releasep) struct cell_storage sto = { 0 };
	_cleanup_free_ char *dir = cell_store_dir(st, s->name);
	_cleanup_free_ char *line = xasprintf("%s\n", s->hostname ? s->hostname : s->name);
	struct cell_error ignored = { 0 };
	int r;

	if (!s->system)
		return 0;
	if ((r = cell_storage_init(&sto, cell_settings_storage(s), dir, err)) < 0)
		return r;
	_cleanup_free_ char *rootfs = cell_storage_rootfs(&sto);
	bool mount_it = cell_supervisor_pid(st, s->name) <= 0 && !cell_storage_is_mounted(&sto);
	if (mount_it && (r = cell_storage_mount(&sto, err)) < 0)
		return r;
	int rootfd = cell_root_open(rootfs);
	if (rootfd < 0) {
		r = cell_err(err, rootfd, "open %s", rootfs);
	} else {
		if (!rewrite_in_root(rootfd, "etc/hostname", line))
			cell_warn("%s: /etc/hostname is not a regular file in its root: the new name "
				  "applies to the container's hostname only", s->name);
		(void)close(rootfd);
	}
	if (mount_it && cell_storage_unmount(&sto, r < 0 ? &ignored : err) < 0 && r >= 0)
		r = -EIO;
	return r;
}

/* On a new (created or cloned) root, mounted for the while (overlay, image). */
static int first_setup(const struct cell_storage *sto, struct cell_settings *s,
		       struct cell_error *err)
{
	_cleanup_free_ char *rootfs = cell_storage_rootfs(sto);
	struct cell_error ignored = { 0 };
	int r = cell_storage_mount(sto, err), rootfd;

	if (r < 0)
		return r;
	rootfd = cell_root_open(rootfs);
	if (rootfd < 0)
		r = cell_err(err, rootfd, "open %s", rootfs);
	if (rootfd >= 0 && s->system)
		set_identity(rootfd, s);
	if (rootfd >= 0 && !s->stop_signal)
		s->stop_signal = xstrdup(stop_signal_of_init(rootfd));
	if (rootfd >= 0)
		(void)close(rootfd);
	int u = cell_storage_unmount(sto, r < 0 ? &ignored : err);
	return r < 0 ? r : u;
}

int cell_manager_make_rootfs(const struct cell_store *st, struct cell_create_req *req,
			     const char *dir, struct cell_error *err)
{
	_cleanup_(storage_releasep) struct cell_storage sto = { 0 };
	_cleanup_free_ char *tree = NULL;
	int r;

	if ((r = cell_storage_init(&sto, req->s->storage, dir, err)) < 0)
		return r;
	if (req->progress)
		req->progress("cell: preparing the template", req->progress_arg);
	if ((r = template_tree(st, req, &tree, err)) < 0)
		return r;
	if (req->progress)
		req->progress("cell: making the root filesystem", req->progress_arg);
	if ((r = cell_storage_create(&sto, tree, err)) < 0)
		return r;
	return first_setup(&sto, req->s, err);
}

int cell_manager_remove_rootfs(const struct cell_store *st, const struct cell_settings *s,
			       const char *dir, struct cell_error *err)
{
	_cleanup_(storage_releasep) struct cell_storage sto = { 0 };
	int r = cell_storage_init(&sto, cell_settings_storage(s), dir, err);

	(void)st;
	return r < 0 ? r : cell_storage_destroy(&sto, err);
}

int cell_manager_mount(const struct cell_store *st, const struct cell_settings *s,
		       struct cell_error *err)
{
	_cleanup_free_ char *dir = cell_store_dir(st, s->name);
	_cleanup_(storage_releasep) struct cell_storage sto = { 0 };
	int r = cell_storage_init(&sto, cell_settings_storage(s), dir, err);

	if (r < 0 || cell_storage_is_mounted(&sto))
		return r;
	return cell_storage_mount(&sto, err);
}

unsigned long long cell_manager_memory(const struct cell_runtime *rt, const struct cell_state *state)
{
	struct cell_error ignored = { 0 };
	unsigned long long b = 0;

	return cell_container_memory(rt, state, &b, &ignored) < 0 ? 0 : b;
}

/* ---- clone, snapshots ---- */

static int open_stopped(const struct cell_store *st, const char *name, struct cell_settings **s,
			struct cell_storage *sto, struct cell_error *err)
{
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	int r;

	if ((r = cell_settings_load(st, name, s, err)) < 0)
		return r;
	if (cell_supervisor_pid(st, name) > 0)
		return cell_err(err, EBUSY, "%s is running: stop it first", name);
	return cell_storage_init(sto, cell_settings_storage(*s), dir, err);
}

/* An unprivileged clone's own ids.  Where the source's root was shifted on disk (a
 * filesystem without idmapped mounts: cellrun chowned it into the source's range),
 * the copy is shifted into the clone's; an unshifted root (0-based ids, seen
 * through an idmapped mount) needs nothing. */
static int clone_ids(const struct cell_store *st, const struct cell_storage *to,
		     struct cell_settings *s, char **notice, struct cell_error *err)
{
	uint32_t from = s->idmap_host;
	struct stat sb;
	int r;

	if (!s->unprivileged)
		return 0;
	if ((r = cell_idmap_allocate(st, s->name, NULL, &s->idmap_host, notice, err)) < 0)
		return r;
	s->idmap_size = CELL_IDMAP_SIZE;
	_cleanup_free_ char *rootfs = cell_storage_rootfs(to);
	if ((r = cell_storage_mount(to, err)) < 0)
		return r;
	if (stat(rootfs, &sb) < 0)
		r = cell_err(err, errno, "stat %s", rootfs);
	else if (sb.st_uid >= from && sb.st_uid - from < CELL_IDMAP_SIZE)
		r = cell_rootfs_shift_range(rootfs, from, s->idmap_host, CELL_IDMAP_SIZE, err);
	struct cell_error ignored = { 0 };
	int u = cell_storage_unmount(to, r < 0 ? &ignored : err);
	return r < 0 ? r : u;
}

static void clear_pins(struct cell_settings *s)
{
	char **pins[] = { &s->ip, &s->ip6, &s->mac };

	for (size_t i = 0; i < ARRAY_SIZE(pins); i++) {
		free(*pins[i]);
		*pins[i] = NULL;
	}
}

int cell_manager_clone(const struct cell_store *st, const char *src, const char *dst,
		       char **notice, struct cell_error *err)
{
	_cleanup_(cell_settings_freep) struct cell_settings *s = NULL;
	_cleanup_(storage_releasep) struct cell_storage from = { 0 }, to = { 0 };
	_cleanup_free_ char *ddir = cell_store_dir(st, dst);
	_cleanup_close_ int l1 = cell_store_lock(st, src, err);
	_cleanup_close_ int l2 = l1 < 0 ? -1 : cell_store_lock_new(st, dst, err);
	struct cell_error ignored = { 0 };
	int r;

	*notice = NULL;
	if (l1 < 0 || l2 < 0)
		return l1 < 0 ? l1 : l2;
	if ((r = open_stopped(st, src, &s, &from, err)) < 0)
		return r;
	if (mkdir(ddir, 0711) < 0)
		return errno == EEXIST ? cell_errx(err, EEXIST, "a container named \"%s\" exists already", dst)
				       : cell_err(err, errno, "create %s", ddir);
	if (cell_storage_init(&to, cell_settings_storage(s), ddir, err) < 0 ||
	    cell_storage_clone(&from, &to, err) < 0)
		goto fail;
	free(s->name);
	s->name = xstrdup(dst);
	/* a clone never shares host ids with its source */
	if (clone_ids(st, &to, s, notice, err) < 0 || cell_manager_protect_dir(ddir, s, err) < 0)
		goto fail;
	if (s->hostname && streq(s->hostname, src)) {
		free(s->hostname);
		s->hostname = NULL;
	}
	free(s->created);
	s->created = cell_now_rfc3339();
	/* nor an address or a MAC: a pinned one is its source's (LXC's clones get
	 * a new hwaddr too); its own lease now, so that `ls` shows it */
	clear_pins(s);
	if (first_setup(&to, s, err) >= 0 && cell_manager_net_lease(st, s, err) >= 0 &&
	    cell_settings_save(st, s, err) >= 0)
		return 0;
fail:
	(void)cell_rm_rf(ddir);
	(void)cell_idmap_release(st, dst, &ignored);
	(void)cell_manager_net_release(st, dst, &ignored);
	return cell_err_prefix(err, "clone %s to %s", src, dst);
}

int cell_manager_snapshot(const struct cell_store *st, const char *name, const char *snap,
			  char **made, struct cell_error *err)
{
	_cleanup_(cell_settings_freep) struct cell_settings *s = NULL;
	_cleanup_(storage_releasep) struct cell_storage sto = { 0 };
	_cleanup_close_ int lock = cell_store_lock(st, name, err);
	int r;

	if (lock < 0 || (r = open_stopped(st, name, &s, &sto, err)) < 0)
		return lock < 0 ? lock : r;
	return cell_storage_snapshot(&sto, snap, made, err);
}

int cell_manager_snapshots(const struct cell_store *st, const char *name, char ***snaps,
			   struct cell_error *err)
{
	_cleanup_(cell_settings_freep) struct cell_settings *s = NULL;
	_cleanup_(storage_releasep) struct cell_storage sto = { 0 };
	_cleanup_free_ char *dir = cell_store_dir(st, name);
	struct cell_storage_snapshot *v = NULL;
	size_t n = 0;
	int r;

	if ((r = cell_settings_load(st, name, &s, err)) < 0 ||
	    (r = cell_storage_init(&sto, cell_settings_storage(s), dir, err)) < 0 ||
	    (r = cell_storage_snapshots(&sto, &v, &n, err)) < 0)
		return r;
	*snaps = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		(*snaps)[i] = xstrdup(v[i].name);
	cell_storage_snapshots_free(v, n);
	return 0;
}

int cell_manager_rollback(const struct cell_store *st, const char *name, const char *snap,
			  struct cell_error *err)
{
	_cleanup_(cell_settings_freep) struct cell_settings *s = NULL;
	_cleanup_(storage_releasep) struct cell_storage sto = { 0 };
	_cleanup_close_ int lock = cell_store_lock(st, name, err);
	int r;

	if (lock < 0 || (r = open_stopped(st, name, &s, &sto, err)) < 0)
		return lock < 0 ? lock : r;
	return cell_storage_rollback(&sto, snap, err);
}
