/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One spec mount into the rootfs (runtime-spec config.md#mounts): made
 * detached, shaped (flags, recursive attributes, idmap), moved onto the
 * destination opened inside the rootfs, then given its propagation.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "rootfs-internal.h"

struct job {
	const struct cell_rootfs_ctx *c;
	int rootfd;
	const struct cell_mount *m;
	const struct cell_mount_plan *p;
	const char *dest; /* cleaned destination */
	size_t i;         /* index in spec->mounts */
};

static bool wants_idmap(const struct job *j)
{
	return j->p->idmap || j->m->n_uid_mappings || j->m->n_gid_mappings;
}

static int apply_idmap(const struct job *j, int mnt, struct cell_error *err)
{
	unsigned int flags = AT_EMPTY_PATH | (j->p->ridmap ? AT_RECURSIVE : 0);
	_cleanup_close_ int ns = -1;

	if (!wants_idmap(j))
		return 0;
	ns = cell_idmap_userns_fd(j->c->spec, j->m, err);
	if (ns < 0)
		return ns;
	struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns};
	if (mount_setattr(mnt, "", flags, &a, sizeof(a)) < 0)
		return cell_err(err, errno, "idmap the mount");
	return 0;
}

/* procfs and sysfs, and whatever is mounted at /proc or /sys, land exactly where named:
 * through a symlink they would sit elsewhere in the root, and /proc and /sys would be
 * what the link says later -- the masks and read-only paths for the kernel's files
 * following it (runc refuses the same). */
static bool kernel_dest(const struct job *j)
{
	return j->p->kind == CELL_MOUNT_PROC || j->p->kind == CELL_MOUNT_SYSFS ||
	       streq(j->dest, "/proc") || streq(j->dest, "/sys");
}

/* Recursive attributes and idmap on the detached tree, then into place, then propagation
 * (which concerns the mount's place among its peers, so after attaching). */
static int finish(const struct job *j, int mnt, bool file, uint64_t rec_set, uint64_t rec_clr,
		  struct cell_error *err)
{
	unsigned long prop = j->p->propagation;
	int r = cell_mnt_setattr(mnt, true, rec_set, rec_clr, 0);

	if (r < 0)
		return cell_err(err, r, "set recursive mount attributes");
	if ((r = apply_idmap(j, mnt, err)) < 0)
		return r;
	if ((r = cell_mnt_place(mnt, j->rootfd, j->dest, file, err)) < 0)
		return r;
	if (kernel_dest(j) && (r = cell_mnt_check_plain(mnt, j->rootfd, j->dest, err)) < 0)
		return r;
	r = cell_mnt_setattr(mnt, prop & MS_REC, 0, 0, prop & ~MS_REC);
	return r < 0 ? cell_err(err, r, "set propagation") : 0;
}

/* tmpcopyup: what the rootfs has at the destination goes into the new tmpfs first. */
static int copy_up(const struct job *j, int mnt, struct cell_error *err)
{
	_cleanup_close_ int target = cell_rootfs_mkpath(j->rootfd, j->dest, false, err);
	_cleanup_close_ int src = -1, dst = -1;

	if (target < 0)
		return target;
	src = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dst = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src < 0 || dst < 0)
		return cell_err(err, errno, "tmpcopyup: open %s", j->dest);
	if (cell_copy_tree(src, dst, err) < 0)
		return cell_err_prefix(err, "tmpcopyup");
	return 0;
}

static int mount_fresh(const struct job *j, struct cell_error *err)
{
	const char *type = j->m->type;
	const char *source = j->m->source && *j->m->source ? j->m->source : type;
	_cleanup_close_ int mnt = cell_mnt_fresh(type, source, j->p, j->dest, err);
	int r;

	if (mnt < 0)
		return mnt;
	if (j->p->tmpcopyup && j->p->kind == CELL_MOUNT_TMPFS && (r = copy_up(j, mnt, err)) < 0)
		return r;
	return finish(j, mnt, false, j->p->rec_set, j->p->rec_clr, err);
}

/* A bind of src: the plan's flags on the top mount, its recursive attributes on all.  In a
 * user namespace the source's locked flags stay as they are (mount_namespaces(7)). */
static int bind_from(const struct job *j, int srcfd, const char *src, bool recursive,
		     struct cell_error *err)
{
	unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
	/* an fd the runtime opened: cloned from, with no walk down the path */
	_cleanup_close_ int mnt = srcfd >= 0 ? open_tree(srcfd, "", flags | AT_EMPTY_PATH)
					     : open_tree(AT_FDCWD, src, flags);
	uint64_t set, clr, rset = j->p->rec_set, rclr = j->p->rec_clr;
	struct statvfs sv;
	struct stat st;
	int r;

	if (mnt < 0)
		return cell_err(err, errno, "open source %s", src);
	if (fstat(mnt, &st) < 0 || fstatvfs(mnt, &sv) < 0)
		return cell_err(err, errno, "stat source %s", src);
	cell_mount_plan_attr(j->p, &set, &clr);
	if (j->c->in_userns) {
		cell_mount_attr_keep_locked(sv.f_flag, &set, &clr);
		cell_mount_attr_keep_locked(sv.f_flag, &rset, &rclr);
	}
	if ((r = cell_mnt_setattr(mnt, false, set, clr, 0)) < 0)
		return cell_err(err, r, "set mount flags of %s", src);
	return finish(j, mnt, !S_ISDIR(st.st_mode), rset, rclr, err);
}

static int mount_bind(const struct job *j, struct cell_error *err)
{
	const char *src = j->m->source;
	_cleanup_free_ char *path = NULL;

	if (!src || !*src)
		return cell_errx(err, EINVAL, "a bind mount needs a source");
	/* relative sources are relative to the bundle (runtime-spec config.md#mounts) */
	path = src[0] == '/' ? xstrdup(src) : xasprintf("%s/%s", j->c->bundle, src);
	int fd = j->c->source_fds ? j->c->source_fds[j->i] : -1;
	return bind_from(j, fd, path, j->p->flags & MS_REC, err);
}

/* sysfs belongs to the network namespace's owner: in a user namespace without a network
 * namespace of its own, the host's /sys is bound instead (as runc does). */
static int mount_sysfs(const struct job *j, struct cell_error *err)
{
	const struct cell_namespace *net = &j->c->spec->linux.ns[CELL_NS_NET];

	if (j->c->in_userns && (!net->enabled || net->path))
		return bind_from(j, -1, "/sys", true, err);
	return mount_fresh(j, err);
}

static int mount_cgroup(const struct job *j, struct cell_error *err)
{
	if (j->c->n_cgroup_mounts == 0)
		return mount_fresh(j, err); /* nothing known of the host: the kernel decides */
	return cell_rootfs_mount_cgroup(j->c, j->rootfd, j->m, j->p, err);
}

static int mount_other(const struct job *j, struct cell_error *err)
{
	if (!j->m->type || !*j->m->type)
		return cell_errx(err, EINVAL, "no type, and no bind or rbind option");
	return mount_fresh(j, err);
}

typedef int (*mount_fn)(const struct job *j, struct cell_error *err);

static const mount_fn mounters[] = {
    [CELL_MOUNT_BIND] = mount_bind,	[CELL_MOUNT_TMPFS] = mount_fresh,
    [CELL_MOUNT_PROC] = mount_fresh,	[CELL_MOUNT_SYSFS] = mount_sysfs,
    [CELL_MOUNT_DEVPTS] = mount_fresh,	[CELL_MOUNT_MQUEUE] = mount_fresh,
    [CELL_MOUNT_CGROUP] = mount_cgroup, [CELL_MOUNT_OTHER] = mount_other,
};

bool cell_mount_ro_delayed(const struct cell_mount_plan *p, const char *dest)
{
	return (p->flags & MS_RDONLY) && (p->kind == CELL_MOUNT_TMPFS || streq(dest, "/dev"));
}

int cell_rootfs_mount_entry(const struct cell_rootfs_ctx *c, int rootfd, size_t i,
			    struct cell_error *err)
{
	const struct cell_mount *m = &c->spec->mounts[i];
	_cleanup_(cell_mount_plan_free) struct cell_mount_plan p = {0};
	_cleanup_free_ char *dest = NULL;
	int r = 0;

	if (cell_path_escapes_root(m->destination))
		return cell_errx(err, EINVAL, "mounts[%zu].destination \"%s\": escapes the rootfs", i,
				m->destination);
	dest = cell_path_clean(m->destination);
	if (streq(dest, "/"))
		return cell_errx(err, EINVAL, "mounts[%zu].destination \"%s\": cannot cover the rootfs",
				i, m->destination);
	cell_mount_plan_build(m, &p);
	if (cell_mount_ro_delayed(&p, dest))
		p.flags &= ~MS_RDONLY; /* until cell_rootfs_finalize */
	struct job j = {c, rootfd, m, &p, dest, i};
	if (kernel_dest(&j))
		r = cell_rootfs_check_plain(rootfd, dest, err);
	if (r >= 0)
		r = mounters[p.kind](&j, err);
	if (r < 0)
		cell_err_prefix(err, "mounts[%zu] (%s)", i, m->destination);
	return r;
}
