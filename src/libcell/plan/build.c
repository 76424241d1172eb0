/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spec + host facts -> struct cell_plan: every mount with its flags resolved
 * and its destination checked, the /dev nodes and links, the masked and
 * read-only paths, the root's propagation and the id maps.  Built by the
 * parent before the child is cloned; the child (linux/rootfs.c) and the
 * parent's map writer (linux/userns.c) only execute it.
 */
#include "plan.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "../base/cleanup.h"
#include "../base/util.h"

bool cell_mount_ro_delayed(const struct cell_mount_plan *p, const char *dest)
{
	return (p->flags & MS_RDONLY) && (p->kind == CELL_MOUNT_TMPFS || streq(dest, "/dev"));
}

/* procfs and sysfs, and whatever is mounted at /proc or /sys, land exactly where named:
 * through a symlink they would sit elsewhere in the root, and /proc and /sys would be
 * what the link says later -- the masks and read-only paths for the kernel's files
 * following it (runc refuses the same). */
static bool kernel_dest(enum cell_mount_kind kind, const char *dest)
{
	return kind == CELL_MOUNT_PROC || kind == CELL_MOUNT_SYSFS || streq(dest, "/proc") ||
	       streq(dest, "/sys");
}

static void op_fresh(struct cell_mount_op *op)
{
	const char *src = op->m->source;

	op->how = CELL_MOP_FRESH;
	op->type = op->m->type;
	op->source = xstrdup(src && *src ? src : op->type);
}

static void op_bind(struct cell_mount_op *op, char *source, bool recursive, bool source_fd)
{
	op->how = CELL_MOP_BIND;
	op->source = source;
	op->recursive = recursive;
	op->source_fd = source_fd;
}

/* A "cgroup" mount: the container's cgroup in each host hierarchy, a v2 host's one on the
 * destination, v1 (and hybrid) ones below it; with no facts a fresh mount of the type
 * (the kernel decides). */
static void op_cgroups(struct cell_mount_op *op, const struct cell_host_facts *f)
{
	const struct cell_cgroup_mount *h = f->cgroup_mounts;
	size_t n = f->n_cgroup_mounts;

	if (n == 0)
		return;
	op->cgroups = xcalloc(n, sizeof(*op->cgroups));
	if (n == 1 && streq(h[0].fstype, "cgroup2")) {
		op->how = CELL_MOP_CGROUP_V2;
		op->cgroups[op->n_cgroups++] = (struct cell_cgroup_op){&h[0], xstrdup(op->dest)};
		return;
	}
	op->how = CELL_MOP_CGROUP_V1;
	for (size_t i = 0; i < n; i++)
		op->cgroups[op->n_cgroups++] =
		    (struct cell_cgroup_op){&h[i], xasprintf("%s/%s", op->dest, h[i].name)};
}

/* How a spec mount is made; -EINVAL (message without the mounts[i] prefix) if it cannot. */
static int op_how(struct cell_mount_op *op, const struct cell_spec *s,
		  const struct cell_host_facts *f, struct cell_error *err)
{
	const struct cell_namespace *net = &s->linux.ns[CELL_NS_NET];
	const char *src = op->m->source;

	switch (op->p.kind) {
	case CELL_MOUNT_BIND:
		if (!src || !*src)
			return cell_errx(err, EINVAL, "a bind mount needs a source");
		/* relative sources are relative to the bundle (runtime-spec config.md#mounts) */
		op_bind(op, src[0] == '/' ? xstrdup(src) : xasprintf("%s/%s", f->bundle, src),
			op->p.flags & MS_REC, true);
		return 0;
	case CELL_MOUNT_SYSFS:
		/* sysfs belongs to the network namespace's owner: in a user namespace without
		 * a network namespace of its own, the host's /sys is bound (as runc does) */
		if (f->in_userns && (!net->enabled || net->path))
			op_bind(op, xstrdup("/sys"), true, false);
		else
			op_fresh(op);
		return 0;
	case CELL_MOUNT_CGROUP:
		op_fresh(op);
		op_cgroups(op, f);
		return 0;
	case CELL_MOUNT_OTHER:
		if (!op->m->type || !*op->m->type)
			return cell_errx(err, EINVAL, "no type, and no bind or rbind option");
		break;
	default:
		break;
	}
	op_fresh(op);
	return 0;
}

static void mount_op_free(struct cell_mount_op *op)
{
	for (size_t i = 0; i < op->n_cgroups; i++)
		free(op->cgroups[i].path);
	free(op->cgroups);
	cell_mount_plan_free(&op->p);
	free(op->dest);
	free(op->source);
}

static int mount_op(const struct cell_spec *s, const struct cell_host_facts *f, size_t i,
		    struct cell_mount_op *op, struct cell_error *err)
{
	const struct cell_mount *m = &s->mounts[i];

	if (cell_path_escapes_root(m->destination))
		return cell_errx(err, EINVAL, "mounts[%zu].destination \"%s\": escapes the rootfs",
				 i, m->destination);
	*op = (struct cell_mount_op){.index = i, .m = m, .dest = cell_path_clean(m->destination)};
	if (streq(op->dest, "/")) {
		mount_op_free(op);
		return cell_errx(err, EINVAL,
				 "mounts[%zu].destination \"%s\": cannot cover the rootfs", i,
				 m->destination);
	}
	cell_mount_plan_build(m, &op->p);
	op->ro_later = cell_mount_ro_delayed(&op->p, op->dest);
	if (op->ro_later)
		op->p.flags &= ~MS_RDONLY; /* until finalize */
	op->kernel_dest = kernel_dest(op->p.kind, op->dest);
	op->keep_locked = f->in_userns;
	op->idmap = op->p.idmap || m->n_uid_mappings || m->n_gid_mappings;
	op->copy_up = op->p.tmpcopyup && op->p.kind == CELL_MOUNT_TMPFS;
	if (op_how(op, s, f, err) < 0) {
		mount_op_free(op);
		return cell_err_prefix(err, "mounts[%zu] (%s)", i, m->destination);
	}
	return 0;
}

static int plan_mounts(struct cell_plan *p, const struct cell_host_facts *f, struct cell_error *err)
{
	const struct cell_spec *s = p->spec;

	p->mounts = xcalloc(s->n_mounts ? s->n_mounts : 1, sizeof(*p->mounts));
	for (size_t i = 0; i < s->n_mounts; i++) {
		int r = mount_op(s, f, i, &p->mounts[i], err);
		if (r < 0)
			return r;
		p->n_mounts++;
	}
	return 0;
}

static bool in_spec_devices(const struct cell_spec *s, const char *path)
{
	for (size_t i = 0; i < s->linux.n_devices; i++) {
		_cleanup_free_ char *p = cell_path_clean(s->linux.devices[i].path);
		if (streq(p, path))
			return true;
	}
	return false;
}

static struct cell_dev_op *dev_push(struct cell_plan *p)
{
	p->devices = xrealloc(p->devices, (p->n_devices + 1) * sizeof(*p->devices));
	return memset(&p->devices[p->n_devices++], 0, sizeof(*p->devices));
}

/* The defaults, but for those linux.devices redefines. */
static void plan_default_devices(struct cell_plan *p)
{
	for (size_t i = 0; i < cell_n_default_devices; i++) {
		const struct cell_dev_node *d = &cell_default_devices[i];
		char *path = xasprintf("/dev/%s", d->name);
		if (in_spec_devices(p->spec, path)) {
			free(path);
			continue;
		}
		struct cell_dev_op *n = dev_push(p);
		n->path = path;
		n->mode = d->mode;
		n->major = d->major;
		n->minor = d->minor;
		n->bind_host = p->in_userns;
	}
}

static int plan_spec_device(struct cell_plan *p, size_t i, struct cell_error *err)
{
	const struct cell_device *d = &p->spec->linux.devices[i];
	_cleanup_free_ char *path = cell_path_clean(d->path);
	struct cell_dev_op *n;
	mode_t mode;

	if (cell_path_escapes_root(d->path) || streq(path, "/"))
		return cell_errx(err, EINVAL,
				 "linux.devices[%zu].path \"%s\": not a path in the rootfs", i,
				 d->path);
	if (cell_device_mode(d, &mode) < 0)
		return cell_errx(err, EINVAL, "linux.devices[%zu].type '%c': unknown", i, d->type);
	n = dev_push(p);
	*n = (struct cell_dev_op){
	    .path = TAKE_PTR(path),
	    .mode = mode,
	    .major = (unsigned int)d->major,
	    .minor = (unsigned int)d->minor,
	    .uid_set = d->uid_set,
	    .gid_set = d->gid_set,
	    .uid = d->uid,
	    .gid = d->gid,
	    .bind_host = p->in_userns && !S_ISFIFO(mode),
	    .from_spec = true,
	    .index = i,
	};
	return 0;
}

static void link_push(struct cell_plan *p, const struct cell_dev_link *l, bool replace)
{
	p->links = xrealloc(p->links, (p->n_links + 1) * sizeof(*p->links));
	p->links[p->n_links++] = (struct cell_dev_link_op){*l, replace};
}

static int plan_dev(struct cell_plan *p, struct cell_error *err)
{
	int r;

	p->dev_setup = cell_spec_dev_setup(p->spec);
	if (p->dev_setup == CELL_DEV_HOST)
		return 0; /* a bind of the host's /dev is never written to */
	if (p->dev_setup == CELL_DEV_FILL)
		plan_default_devices(p);
	for (size_t i = 0; i < p->spec->linux.n_devices; i++)
		if ((r = plan_spec_device(p, i, err)) < 0)
			return r;
	if (p->dev_setup != CELL_DEV_FILL)
		return 0;
	for (size_t i = 0; i < cell_n_default_dev_links; i++)
		link_push(p, &cell_default_dev_links[i], false);
	if (cell_spec_has_devpts(p->spec))
		link_push(p, &cell_dev_ptmx_link, true);
	return 0;
}

static char **clean_paths(char *const *v)
{
	char **out = NULL;

	for (size_t i = 0; v && v[i]; i++)
		cell_strv_push(&out, cell_path_clean(v[i]));
	return out;
}

/* The propagation of "/" while the container's mounts are made, before any of them.
 * Only a recursive request counts this early: "rshared" keeps the binds of shared host
 * mounts peers of theirs (bidirectional volumes, as runc gives and Kubernetes asks for
 * that way), "rprivate" cuts everything off.  Any other mode starts from rslave: a
 * non-recursive one would leave the mounts below "/" peers of the caller's, and what
 * the container mounts on a volume from them would reach the host; an unbindable "/"
 * could not be bound below.  The requested mode is applied to the new root at the end
 * (finalize). */
static unsigned long setup_propagation(unsigned long requested)
{
	if (requested == (MS_SHARED | MS_REC) || requested == (MS_PRIVATE | MS_REC))
		return requested;
	return MS_SLAVE | MS_REC;
}

static int plan_root(struct cell_plan *p, const struct cell_host_facts *f, struct cell_error *err)
{
	const char *name = p->spec->linux.rootfs_propagation;

	p->root_switch = p->no_mount_ns ? CELL_ROOT_CHROOT
			 : f->no_pivot	? CELL_ROOT_MOVE
					: CELL_ROOT_PIVOT;
	p->propagation = name ? cell_propagation_from_name(name) : 0;
	if (name && !p->propagation)
		return cell_errx(err, EINVAL, "linux.rootfsPropagation \"%s\": unknown", name);
	p->setup_propagation = setup_propagation(p->propagation);
	p->root_readonly = p->spec->root.readonly;
	return 0;
}

static int plan_all(struct cell_plan *p, const struct cell_host_facts *f, struct cell_error *err)
{
	int r;

	if ((r = plan_root(p, f, err)) < 0 || (r = cell_plan_sysctls(p, err)) < 0)
		return r;
	/* without a mount namespace nothing is mounted (rootfs.h): no operation */
	if (p->no_mount_ns)
		return 0;
	if ((r = plan_mounts(p, f, err)) < 0 || (r = plan_dev(p, err)) < 0)
		return r;
	p->readonly_paths = clean_paths(p->spec->linux.readonly_paths);
	p->masked_paths = clean_paths(p->spec->linux.masked_paths);
	return 0;
}

int cell_plan_build(const struct cell_spec *s, const struct cell_host_facts *f,
		    struct cell_plan *out, struct cell_error *err)
{
	struct cell_plan p = {
	    .spec = s,
	    .rootfs = f->rootfs,
	    .bundle = f->bundle,
	    .no_mount_ns = !s->linux.ns[CELL_NS_MNT].enabled,
	    .in_userns = f->in_userns,
	    .cgroupns = s->linux.ns[CELL_NS_CGROUP].enabled,
	    .hostname = s->hostname,
	    .domainname = s->domainname,
	};
	const struct cell_namespace *user = &s->linux.ns[CELL_NS_USER];
	int r;

	/* the maps are the parent's to write only in a user namespace of the container's own */
	cell_idmap_plan_build(&s->linux, &f->ids, user->enabled && !user->path, &p.userns);
	r = plan_all(&p, f, err);
	if (r < 0) {
		cell_plan_free(&p);
		return r;
	}
	*out = p;
	return 0;
}

void cell_plan_free(struct cell_plan *p)
{
	for (size_t i = 0; i < p->n_mounts; i++)
		mount_op_free(&p->mounts[i]);
	free(p->mounts);
	for (size_t i = 0; i < p->n_devices; i++)
		free(p->devices[i].path);
	free(p->devices);
	free(p->links);
	cell_strv_free(p->readonly_paths);
	cell_strv_free(p->masked_paths);
	for (size_t i = 0; i < p->n_sysctls; i++)
		free(p->sysctls[i].path);
	free(p->sysctls);
	cell_idmap_plan_free(&p->userns);
	*p = (struct cell_plan){0};
}
