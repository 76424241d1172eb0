/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mount options (runtime-spec config.md#mounts, mount(8) names) sorted into
 * MS_* flags, propagation, mount_setattr(2) recursive attributes and the
 * filesystem data string.
 */
#include "plan.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "../base/cleanup.h"
#include "../base/util.h"

struct ms_opt {
	const char *name;
	bool clear;
	unsigned long flag;
};

static const struct ms_opt ms_opts[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"iversion", false, MS_I_VERSION},
    {"noiversion", true, MS_I_VERSION},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
};

/* The atime modes exclude each other: setting one drops the others. */
#define MS_ATIME_MODES (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

static const struct {
	const char *name;
	unsigned long flags;
} propagations[] = {
    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* Recursive attributes.  An atime entry sets the mode (all of MOUNT_ATTR__ATIME is cleared,
 * as mount_setattr(2) demands); its clear form resets to the kernel default, relatime. */
struct rec_opt {
	const char *name;
	uint64_t attr;
	bool clear;
	bool atime;
};

static const struct rec_opt rec_opts[] = {
    {"rro", MOUNT_ATTR_RDONLY, false, false},
    {"rrw", MOUNT_ATTR_RDONLY, true, false},
    {"rnosuid", MOUNT_ATTR_NOSUID, false, false},
    {"rsuid", MOUNT_ATTR_NOSUID, true, false},
    {"rnodev", MOUNT_ATTR_NODEV, false, false},
    {"rdev", MOUNT_ATTR_NODEV, true, false},
    {"rnoexec", MOUNT_ATTR_NOEXEC, false, false},
    {"rexec", MOUNT_ATTR_NOEXEC, true, false},
    {"rnodiratime", MOUNT_ATTR_NODIRATIME, false, false},
    {"rdiratime", MOUNT_ATTR_NODIRATIME, true, false},
    {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, false, false},
    {"rsymfollow", MOUNT_ATTR_NOSYMFOLLOW, true, false},
    {"rnoatime", MOUNT_ATTR_NOATIME, false, true},
    {"ratime", MOUNT_ATTR_NOATIME, true, true},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME, false, true},
    {"rnostrictatime", MOUNT_ATTR_STRICTATIME, true, true},
    {"rrelatime", MOUNT_ATTR_RELATIME, false, true},
    {"rnorelatime", MOUNT_ATTR_RELATIME, true, true},
};

static bool parse_ms(const char *o, struct cell_mount_plan *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(ms_opts); i++) {
		const struct ms_opt *e = &ms_opts[i];
		if (!streq(o, e->name))
			continue;
		if (e->clear) {
			p->flags &= ~e->flag;
			p->clear |= e->flag;
			return true;
		}
		if (e->flag & MS_ATIME_MODES)
			p->flags &= ~MS_ATIME_MODES;
		p->flags |= e->flag;
		p->clear &= ~e->flag;
		return true;
	}
	return false;
}

static bool parse_propagation(const char *o, struct cell_mount_plan *p)
{
	unsigned long f = cell_propagation_from_name(o);

	if (f)
		p->propagation = f;
	return f != 0;
}

static bool parse_rec(const char *o, struct cell_mount_plan *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(rec_opts); i++) {
		const struct rec_opt *e = &rec_opts[i];
		if (!streq(o, e->name))
			continue;
		if (e->atime) {
			p->rec_clr |= MOUNT_ATTR__ATIME;
			p->rec_set &= ~(uint64_t)MOUNT_ATTR__ATIME;
			p->rec_set |= e->clear ? MOUNT_ATTR_RELATIME : e->attr;
		} else if (e->clear) {
			p->rec_set &= ~e->attr;
			p->rec_clr |= e->attr;
		} else {
			p->rec_set |= e->attr;
			p->rec_clr &= ~e->attr;
		}
		return true;
	}
	return false;
}

static bool parse_special(const char *o, struct cell_mount_plan *p)
{
	if (streq(o, "tmpcopyup") || streq(o, "notmpcopyup"))
		p->tmpcopyup = streq(o, "tmpcopyup");
	else if (streq(o, "idmap"))
		p->idmap = true;
	else if (streq(o, "ridmap"))
		p->idmap = p->ridmap = true;
	else
		return false;
	return true;
}

static void data_append(char **data, const char *o)
{
	char *next = *data ? xasprintf("%s,%s", *data, o) : xstrdup(o);

	free(*data);
	*data = next;
}

void cell_mount_opts_parse(char *const *options, struct cell_mount_plan *p)
{
	for (size_t i = 0; options && options[i]; i++) {
		const char *o = options[i];
		if (!*o || parse_ms(o, p) || parse_propagation(o, p) || parse_rec(o, p) ||
		    parse_special(o, p))
			continue;
		data_append(&p->data, o);
	}
}

static bool data_has_key(const char *data, const char *key)
{
	size_t n = strlen(key);

	for (const char *s = data; s; s = strchr(s, ',')) {
		if (*s == ',')
			s++;
		if (strncmp(s, key, n) == 0 && (s[n] == '\0' || s[n] == ',' || s[n] == '='))
			return true;
	}
	return false;
}

static const struct {
	const char *type;
	enum cell_mount_kind kind;
} kinds[] = {
    {"bind", CELL_MOUNT_BIND},	   {"rbind", CELL_MOUNT_BIND},	  {"tmpfs", CELL_MOUNT_TMPFS},
    {"proc", CELL_MOUNT_PROC},	   {"sysfs", CELL_MOUNT_SYSFS},	  {"devpts", CELL_MOUNT_DEVPTS},
    {"mqueue", CELL_MOUNT_MQUEUE}, {"cgroup", CELL_MOUNT_CGROUP}, {"cgroup2", CELL_MOUNT_CGROUP},
};

static enum cell_mount_kind kind_of(const char *type)
{
	for (size_t i = 0; type && i < ARRAY_SIZE(kinds); i++)
		if (streq(type, kinds[i].type))
			return kinds[i].kind;
	return CELL_MOUNT_OTHER;
}

void cell_mount_plan_build(const struct cell_mount *m, struct cell_mount_plan *p)
{
	*p = (struct cell_mount_plan){0};
	cell_mount_opts_parse(m->options, p);
	p->kind = kind_of(m->type);
	/* "type": "bind" without a bind option still means a bind (runc compatible) */
	if (p->kind == CELL_MOUNT_BIND)
		p->flags |= MS_BIND | (streq(m->type, "rbind") ? MS_REC : 0);
	if (p->flags & MS_BIND)
		p->kind = CELL_MOUNT_BIND;
	if (p->kind != CELL_MOUNT_DEVPTS)
		return;
	/* a private devpts instance, and a /dev/ptmx everyone may open */
	if (!data_has_key(p->data, "newinstance"))
		data_append(&p->data, "newinstance");
	if (!data_has_key(p->data, "ptmxmode"))
		data_append(&p->data, "ptmxmode=0666");
}

void cell_mount_plan_free(struct cell_mount_plan *p)
{
	free(p->data);
	p->data = NULL;
}

static const struct {
	unsigned long ms;
	uint64_t attr;
} ms_attrs[] = {
    {MS_RDONLY, MOUNT_ATTR_RDONLY},	    {MS_NOSUID, MOUNT_ATTR_NOSUID},
    {MS_NODEV, MOUNT_ATTR_NODEV},	    {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
    {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME}, {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW},
    {MS_NOATIME, MOUNT_ATTR_NOATIME},	    {MS_STRICTATIME, MOUNT_ATTR_STRICTATIME},
};

void cell_mount_plan_attr(const struct cell_mount_plan *p, uint64_t *set, uint64_t *clr)
{
	uint64_t s = 0, c = 0;

	for (size_t i = 0; i < ARRAY_SIZE(ms_attrs); i++) {
		if (p->flags & ms_attrs[i].ms)
			s |= ms_attrs[i].attr;
		else if ((p->clear & ms_attrs[i].ms) && !(ms_attrs[i].ms & MS_ATIME_MODES))
			c |= ms_attrs[i].attr;
	}
	if (p->flags & MS_ATIME_MODES)
		c |= MOUNT_ATTR__ATIME; /* relatime is the mode 0 */
	*set = s;
	*clr = c;
}

void cell_mount_attr_keep_locked(unsigned long st_flags, uint64_t *set, uint64_t *clr)
{
	static const struct {
		unsigned long st;
		uint64_t attr;
	} locked[] = {
	    {ST_RDONLY, MOUNT_ATTR_RDONLY},
	    {ST_NOSUID, MOUNT_ATTR_NOSUID},
	    {ST_NODEV, MOUNT_ATTR_NODEV},
	    {ST_NOEXEC, MOUNT_ATTR_NOEXEC},
	};
	const uint64_t atime = MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME;

	for (size_t i = 0; i < ARRAY_SIZE(locked); i++)
		if (st_flags & locked[i].st)
			*clr &= ~locked[i].attr;
	*set &= ~atime;
	*clr &= ~atime;
}

size_t cell_mount_sb_flag_names(unsigned long ms_flags, const char **out, size_t max)
{
	static const struct {
		unsigned long ms;
		const char *name;
	} sb[] = {
	    {MS_RDONLY, "ro"},	       {MS_SYNCHRONOUS, "sync"}, {MS_DIRSYNC, "dirsync"},
	    {MS_LAZYTIME, "lazytime"}, {MS_MANDLOCK, "mand"},
	};
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(sb) && n < max; i++)
		if (ms_flags & sb[i].ms)
			out[n++] = sb[i].name;
	return n;
}

unsigned long cell_propagation_from_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(propagations); i++)
		if (streq(name, propagations[i].name))
			return propagations[i].flags;
	return 0;
}

const char *cell_propagation_name(unsigned long flags)
{
	for (size_t i = 0; i < ARRAY_SIZE(propagations); i++)
		if (flags == propagations[i].flags)
			return propagations[i].name;
	return NULL;
}

const char *cell_ms_flag_name(unsigned long flag)
{
	for (size_t i = 0; i < ARRAY_SIZE(ms_opts); i++)
		if (!ms_opts[i].clear && ms_opts[i].flag == flag)
			return ms_opts[i].name;
	return NULL;
}
