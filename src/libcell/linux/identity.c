/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * User identity and capabilities of the container process, applied in the
 * child just before exec (runtime-spec config.md "process.user",
 * "process.capabilities").  The order matters:
 *   1. drop from the bounding set while we still hold CAP_SETPCAP;
 *   2. PR_SET_KEEPCAPS so that the uid change keeps the permitted set;
 *   3. setgroups, setresgid, setresuid (groups first: needs CAP_SETGID);
 *   4. capset the requested effective/permitted/inheritable sets;
 *   5. ambient last: a cap can be raised only when permitted and inheritable.
 */
#include "identity.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

struct cap_name {
	char s[40];
};

DEFINE_FREEP(cap_t, cap_free)
#define _cleanup_cap_ _cleanup_(cap_freep)

/* "CAP_SYS_ADMIN" for messages (libcap answers in lower case). */
static struct cap_name cap_name(int cap)
{
	struct cap_name n = {""};
	char *s = cap_to_name((cap_value_t)cap);
	size_t i;

	for (i = 0; s && s[i] && i + 1 < sizeof(n.s); i++)
		n.s[i] = (char)toupper((unsigned char)s[i]);
	n.s[i] = '\0';
	if (s)
		(void)cap_free(s);
	return n;
}

/* The kernel's highest capability; 63 when /proc is unreadable (callers
 * then tolerate EINVAL for the numbers the kernel does not know). */
static int kernel_cap_last(void)
{
	_cleanup_free_ char *s = NULL;
	long long v;

	if (cell_read_file("/proc/sys/kernel/cap_last_cap", &s, NULL) < 0)
		return 63;
	s[strcspn(s, "\n")] = '\0';
	if (cell_parse_long(s, &v) < 0 || v < 0 || v > 63)
		return 63;
	return (int)v;
}

static uint64_t caps_all(int last)
{
	return last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
}

static bool has_cap(uint64_t mask, int cap)
{
	return (mask >> cap) & 1;
}

static int bounding_drop(uint64_t keep, int last, struct cell_error *err)
{
	for (int cap = 0; cap <= last; cap++) {
		if (has_cap(keep, cap))
			continue;
		int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (in < 0 && errno == EINVAL)
			return 0; /* above the kernel's last capability */
		if (in == 0)
			continue; /* already gone: dropping would need CAP_SETPCAP */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return cell_err(err, errno, "drop %s from the bounding set",
					cap_name(cap).s);
	}
	return 0;
}

static int keepcaps_set(int on, struct cell_error *err)
{
	if (prctl(PR_SET_KEEPCAPS, on, 0, 0, 0) < 0)
		return cell_err(err, errno, "prctl PR_SET_KEEPCAPS %d", on);
	return 0;
}

/* A joined user namespace's setgroups may say "deny" (one mapped by its
 * unprivileged owner: a rootless --net pasta's), which the plan cannot see. */
static bool setgroups_denied_here(void)
{
	char text[8] = "";
	int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);

	if (fd >= 0)
		(void)close(fd);
	return n >= 4 && strncmp(text, "deny", 4) == 0;
}

static int groups_apply(const struct cell_user *u, struct cell_error *err)
{
	char list[128] = "";
	size_t off = 0;

	if (setgroups(u->n_additional_gids, (const gid_t *)u->additional_gids) == 0)
		return 0;
	/* no groups asked and none can be set: as with a user namespace of our own
	 * with one id (plan/idmap.c: setgroups_allowed false) */
	if (errno == EPERM && u->n_additional_gids == 0 && setgroups_denied_here())
		return 0;
	for (size_t i = 0; i < u->n_additional_gids && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u", i ? "," : "",
					u->additional_gids[i]);
	return cell_err(err, errno, "setgroups [%s]", list);
}

static int ids_apply(const struct cell_user *u, bool setgroups_allowed, struct cell_error *err)
{
	if (setgroups_allowed) {
		int r = groups_apply(u, err);
		if (r < 0)
			return r;
	}
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return cell_err(err, errno, "setresgid %u", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return cell_err(err, errno, "setresuid %u", u->uid);
	return 0;
}

static int cap_sets_fill(cap_t c, const struct cell_caps *want, int last)
{
	static const cap_flag_t flags[] = {CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE};
	const uint64_t masks[] = {want->effective, want->permitted, want->inheritable};

	for (size_t f = 0; f < ARRAY_SIZE(flags); f++)
		for (cap_value_t cap = 0; cap <= last; cap++)
			if (has_cap(masks[f], cap) &&
			    cap_set_flag(c, flags[f], 1, &cap, CAP_SET) < 0)
				return -errno;
	return 0;
}

/* After a failed capset, name the first capability the kernel must have refused. */
static int capset_explain(const struct cell_caps *want, int last, int code, struct cell_error *err)
{
	_cleanup_cap_ cap_t cur = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	for (cap_value_t cap = 0; cur && cap <= last; cap++) {
		if (has_cap(want->effective, cap) && !has_cap(want->permitted, cap))
			return cell_err(err, code, "capset: %s is effective but not permitted",
					cap_name(cap).s);
		if (!has_cap(want->permitted | want->inheritable, cap))
			continue;
		if (cap_get_flag(cur, cap, CAP_PERMITTED, &v) == 0 && v == CAP_CLEAR)
			return cell_err(err, code,
					"capset: %s is not in the runtime's permitted set",
					cap_name(cap).s);
	}
	return cell_err(err, code, "capset effective=%#llx permitted=%#llx inheritable=%#llx",
			(unsigned long long)want->effective, (unsigned long long)want->permitted,
			(unsigned long long)want->inheritable);
}

static int capset_apply(const struct cell_caps *want, int last, struct cell_error *err)
{
	_cleanup_cap_ cap_t c = cap_init();

	if (!c)
		return cell_err(err, errno, "cap_init");
	if (cap_sets_fill(c, want, last) < 0)
		return cell_err(err, errno, "cap_set_flag");
	if (cap_set_proc(c) < 0)
		return capset_explain(want, last, errno, err);
	return 0;
}

static int ambient_apply(const struct cell_caps *want, int last, struct cell_error *err)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return cell_err(err, errno, "clear the ambient capabilities");
	for (int cap = 0; cap <= last; cap++) {
		if (!has_cap(want->ambient, cap))
			continue;
		/* `runc spec` lists ambient caps without inheritable ones; the
		 * kernel cannot raise those, and runc and crun skip them quietly */
		if (!has_cap(want->permitted & want->inheritable, cap)) {
			cell_debug("ambient capability %s skipped: not in both the permitted and "
				   "the inheritable sets", cap_name(cap).s);
			continue;
		}
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return cell_err(err, errno, "raise ambient capability %s", cap_name(cap).s);
	}
	return 0;
}

/* What the runtime itself may hand on: its permitted set within its bounding set. */
static uint64_t runtime_caps(int last)
{
	_cleanup_cap_ cap_t cur = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;
	uint64_t have = 0;

	for (cap_value_t cap = 0; cur && cap <= last; cap++)
		if (cap_get_flag(cur, cap, CAP_PERMITTED, &v) == 0 && v == CAP_SET &&
		    prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			have |= UINT64_C(1) << cap;
	return have;
}

void cell_caps_drop_unavailable(struct cell_caps *c, bool in_userns)
{
	int last = kernel_cap_last();
	uint64_t avail = in_userns ? caps_all(last) : runtime_caps(last);
	uint64_t asked = c->effective | c->permitted | c->inheritable | c->ambient;
	uint64_t gone = asked & ~avail;
	char names[512];
	size_t off = 0;

	if (!gone && !c->unknown[0])
		return;
	names[0] = '\0';
	for (int cap = 0; cap < 64 && off < sizeof(names); cap++) {
		if (!has_cap(gone, cap))
			continue;
		const char *n = cell_cap_name(cap);
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", off ? " " : "",
					n ? n : "?");
	}
	c->effective &= avail;
	c->permitted &= avail;
	c->inheritable &= avail;
	c->ambient &= avail;
	cell_warn("ignoring unknown or unavailable capabilities: %s%s%s", c->unknown,
		  c->unknown[0] && names[0] ? " " : "", names);
	c->unknown[0] = '\0';
}

/* The capabilities to apply; without process.capabilities (runc): nothing
 * for a non-root user, the bounding set untouched. */
static struct cell_caps caps_wanted(const struct cell_process *p, int last)
{
	struct cell_caps c = {.set = true, .bounding = caps_all(last)};
	uint64_t unknown;

	if (!p->caps.set)
		return c;
	c = p->caps;
	unknown =
	    (c.bounding | c.effective | c.permitted | c.inheritable | c.ambient) & ~caps_all(last);
	if (unknown)
		cell_debug("capabilities %#llx unknown to this kernel: ignored",
			   (unsigned long long)unknown);
	return c;
}

int cell_identity_apply(const struct cell_process *p, bool setgroups_allowed,
			struct cell_error *err)
{
	int last = kernel_cap_last();
	struct cell_caps want = caps_wanted(p, last);
	/* root without process.capabilities keeps whatever the runtime holds */
	bool manage = p->caps.set || p->user.uid != 0;
	int r;

	if (manage && (r = bounding_drop(want.bounding, last, err)) < 0)
		return r;
	if ((r = keepcaps_set(1, err)) < 0 ||
	    (r = ids_apply(&p->user, setgroups_allowed, err)) < 0 || (r = keepcaps_set(0, err)) < 0)
		return r;
	if (!manage)
		return 0;
	if ((r = capset_apply(&want, last, err)) < 0)
		return r;
	return ambient_apply(&want, last, err);
}
