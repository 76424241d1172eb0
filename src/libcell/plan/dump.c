/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* struct cell_plan as text: what the golden files of tests/unit/plan-golden/ hold. */
#include "plan.h"

#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "../base/cleanup.h"
#include "../base/util.h"


/* " key=a,b" for the MS_* bits of flags; nothing when none. */
static void add_ms(struct cell_buf *b, const char *key, unsigned long flags)
{
	const char *sep = "=";

	if (!flags)
		return;
	cell_buf_add(b, " %s", key);
	for (unsigned long bit = 1; bit; bit <<= 1) {
		const char *name = bit == MS_REC ? "rec" : cell_ms_flag_name(bit);
		if (!(flags & bit))
			continue;
		if (name)
			cell_buf_add(b, "%s%s", sep, name);
		else
			cell_buf_add(b, "%s%#lx", sep, bit);
		sep = ",";
	}
}

static void add_attr(struct cell_buf *b, const char *key, uint64_t attr)
{
	static const struct {
		uint64_t attr;
		const char *name;
	} names[] = {
	    {MOUNT_ATTR_RDONLY, "ro"},
	    {MOUNT_ATTR_NOSUID, "nosuid"},
	    {MOUNT_ATTR_NODEV, "nodev"},
	    {MOUNT_ATTR_NOEXEC, "noexec"},
	    {MOUNT_ATTR_NOATIME, "noatime"},
	    {MOUNT_ATTR_STRICTATIME, "strictatime"},
	    {MOUNT_ATTR_NODIRATIME, "nodiratime"},
	    {MOUNT_ATTR_NOSYMFOLLOW, "nosymfollow"},
	};
	const char *sep = "=";

	if (!attr)
		return;
	cell_buf_add(b, " %s", key);
	/* MOUNT_ATTR__ATIME covers noatime and strictatime; relatime is 0 */
	if ((attr & MOUNT_ATTR__ATIME) == MOUNT_ATTR__ATIME) {
		cell_buf_add(b, "%satime", sep);
		attr &= ~(uint64_t)MOUNT_ATTR__ATIME;
		sep = ",";
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (attr & names[i].attr) {
			cell_buf_add(b, "%s%s", sep, names[i].name);
			sep = ",";
		}
}

static void add_flag(struct cell_buf *b, bool on, const char *name)
{
	if (on)
		cell_buf_add(b, " %s", name);
}

static const char *how_name(enum cell_mount_how how)
{
	static const char *const names[] = {
	    [CELL_MOP_FRESH] = "fresh",
	    [CELL_MOP_BIND] = "bind",
	    [CELL_MOP_CGROUP_V2] = "cgroup-v2",
	    [CELL_MOP_CGROUP_V1] = "cgroup-v1",
	};
	return names[how];
}

static void dump_cgroup(struct cell_buf *b, const struct cell_cgroup_op *g)
{
	cell_buf_add(b, "  cgroup %s %s host=%s", g->path, g->h->fstype, g->h->host_path);
	if (g->h->options && *g->h->options)
		cell_buf_add(b, " options=%s", g->h->options);
	for (size_t i = 0; g->h->aliases && g->h->aliases[i]; i++)
		cell_buf_add(b, "%s%s", i ? "," : " links=", g->h->aliases[i]);
	cell_buf_add(b, "\n");
}

static void dump_mount(struct cell_buf *b, const struct cell_mount_op *op)
{
	const char *prop = cell_propagation_name(op->p.propagation);

	cell_buf_add(b, "mount %zu %s %s", op->index, op->dest, how_name(op->how));
	if (op->type)
		cell_buf_add(b, " type=%s", op->type);
	cell_buf_add(b, " source=%s", op->source ? op->source : "-");
	add_ms(b, "set", op->p.flags);
	add_ms(b, "clear", op->p.clear);
	if (prop)
		cell_buf_add(b, " propagation=%s", prop);
	add_attr(b, "rec-set", op->p.rec_set);
	add_attr(b, "rec-clear", op->p.rec_clr);
	if (op->p.data)
		cell_buf_add(b, " data=%s", op->p.data);
	add_flag(b, op->recursive, "recursive");
	add_flag(b, op->source_fd, "source-fd");
	add_flag(b, op->keep_locked, "keep-locked");
	add_flag(b, op->kernel_dest, "kernel-dest");
	add_flag(b, op->ro_later, "ro-later");
	add_flag(b, op->idmap, op->p.ridmap ? "ridmap" : "idmap");
	add_flag(b, op->copy_up, "copy-up");
	cell_buf_add(b, "\n");
	for (size_t i = 0; i < op->n_cgroups; i++)
		dump_cgroup(b, &op->cgroups[i]);
}

static char type_char(mode_t mode)
{
	return S_ISBLK(mode) ? 'b' : S_ISFIFO(mode) ? 'p' : 'c';
}

static void dump_device(struct cell_buf *b, const struct cell_dev_op *d)
{
	cell_buf_add(b, "device %s %c %u:%u %04o", d->path, type_char(d->mode), d->major, d->minor,
	    (unsigned int)(d->mode & 07777));
	if (d->uid_set)
		cell_buf_add(b, " uid=%u", (unsigned int)d->uid);
	if (d->gid_set)
		cell_buf_add(b, " gid=%u", (unsigned int)d->gid);
	cell_buf_add(b, " %s", d->bind_host ? "bind-host" : "mknod");
	if (d->from_spec)
		cell_buf_add(b, " linux.devices[%zu]", d->index);
	cell_buf_add(b, "\n");
}

static void dump_root(struct cell_buf *b, const struct cell_plan *p)
{
	static const char *const switches[] = {
	    [CELL_ROOT_PIVOT] = "pivot",
	    [CELL_ROOT_MOVE] = "move",
	    [CELL_ROOT_CHROOT] = "chroot",
	};
	static const char *const dev[] = {
	    [CELL_DEV_ROOTFS] = "rootfs",
	    [CELL_DEV_FILL] = "fill",
	    [CELL_DEV_HOST] = "host",
	};
	const char *during = cell_propagation_name(p->setup_propagation);

	cell_buf_add(b, "rootfs %s bundle %s\n", p->rootfs, p->bundle);
	cell_buf_add(b, "root %s%s%s mounting=%s", switches[p->root_switch],
	    p->no_mount_ns ? " no-mount-ns" : "", p->in_userns ? " userns" : "",
	    during ? during : "-");
	cell_buf_add(b, " dev=%s", dev[p->dev_setup]);
	if (p->cgroupns)
		cell_buf_add(b, " cgroupns");
	cell_buf_add(b, "\n");
}

/* Written by the parent before the child goes on: "uid_map write 0 1000 1", one line per
 * range, "setgroups deny" before an unprivileged gid_map. */
static void dump_idmap(struct cell_buf *b, const struct cell_idmap_op *op)
{
	if (op->how == CELL_IDMAP_NONE)
		return;
	if (op->deny_setgroups)
		cell_buf_add(b, "setgroups deny\n");
	for (size_t i = 0; i < op->n; i++)
		cell_buf_add(b, "%s %s %u %u %u\n", op->file,
		    op->how == CELL_IDMAP_HELPER ? op->helper : "write", op->map[i].container_id,
		    op->map[i].host_id, op->map[i].size);
}

/* After the pivot, in this order (rootfs.c's finalize). */
static void dump_finalize(struct cell_buf *b, const struct cell_plan *p)
{
	const char *prop = cell_propagation_name(p->propagation);

	for (size_t i = 0; i < p->n_mounts; i++)
		if (p->mounts[i].ro_later)
			cell_buf_add(b, "readonly-mount %zu %s\n", p->mounts[i].index, p->mounts[i].dest);
	for (size_t i = 0; p->readonly_paths && p->readonly_paths[i]; i++)
		cell_buf_add(b, "readonly %s\n", p->readonly_paths[i]);
	for (size_t i = 0; p->masked_paths && p->masked_paths[i]; i++)
		cell_buf_add(b, "masked %s\n", p->masked_paths[i]);
	if (p->root_readonly)
		cell_buf_add(b, "readonly-root\n");
	if (prop)
		cell_buf_add(b, "propagation %s\n", prop);
}

char *cell_plan_dump(const struct cell_plan *p)
{
	struct cell_buf b = {xstrdup(""), 0};

	dump_root(&b, p);
	dump_idmap(&b, &p->userns.uid);
	dump_idmap(&b, &p->userns.gid);
	if (p->hostname)
		cell_buf_add(&b, "hostname %s\n", p->hostname);
	if (p->domainname)
		cell_buf_add(&b, "domainname %s\n", p->domainname);
	for (size_t i = 0; i < p->n_mounts; i++)
		dump_mount(&b, &p->mounts[i]);
	for (size_t i = 0; i < p->n_devices; i++)
		dump_device(&b, &p->devices[i]);
	for (size_t i = 0; i < p->n_links; i++)
		cell_buf_add(&b, "link /dev/%s -> %s%s\n", p->links[i].link.name, p->links[i].link.target,
		    p->links[i].replace ? " replace" : "");
	for (size_t i = 0; i < p->n_sysctls; i++)
		cell_buf_add(&b, "sysctl %s = %s\n", p->sysctls[i].path, p->sysctls[i].value);
	dump_finalize(&b, p);
	/* the process's identity, at exec */
	if (!p->userns.setgroups_allowed)
		cell_buf_add(&b, "setgroups-syscall denied\n");
	return b.s;
}
