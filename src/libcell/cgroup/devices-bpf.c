/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cgroup v2 device controller: a BPF_PROG_TYPE_CGROUP_DEVICE program built from the
 * rule list, loaded and attached with raw bpf(2) (no libbpf).
 *
 * The program sees struct bpf_cgroup_dev_ctx { access_type = access << 16 | type,
 * major, minor } and returns 1 to allow.  Rules are tested last to first, so the first
 * match is the last matching rule of the list, which is the v1 semantics the OCI spec
 * describes; nothing matching means deny.  An allow rule matches when the requested
 * access is a subset of its own, a deny rule when they share any bit.
 */
#include "cgroup-internal.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

#define ACC_ALL (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)
#define MAX_ATTACHED 64
#define VERIFIER_LOG 4096

/* bpf(2) has no glibc wrapper. */
static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* ---- program ---- */

struct prog {
	struct bpf_insn *v;
	size_t n;
	size_t *jumps; /* "no match" jumps of the current rule, patched at its end */
	size_t n_jumps;
};

static size_t emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n] =
	    (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
	return p->n++;
}

static void emit_skip_unless(struct prog *p, uint8_t op, uint8_t reg, int32_t imm)
{
	size_t at = emit(p, BPF_JMP | op | BPF_K, reg, 0, 0, imm);

	p->jumps = xrealloc(p->jumps, (p->n_jumps + 1) * sizeof(size_t));
	p->jumps[p->n_jumps++] = at;
}

/* r2 = access_type, r3 = device type, r4 = access, r5 = major, r6 = minor */
static void emit_prologue(struct prog *p)
{
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
	emit(p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0);
	emit(p, BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_4, 0, 0, 16);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 4, 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_6, BPF_REG_1, 8, 0);
}

static void emit_access_check(struct prog *p, const struct cell_device_rule *d, unsigned mask)
{
	if (mask == ACC_ALL)
		return;
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7, BPF_REG_4, 0, 0);
	if (d->allow) { /* request & ~mask must be empty */
		emit(p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_7, 0, 0, (int32_t)(ACC_ALL & ~mask));
		emit_skip_unless(p, BPF_JNE, BPF_REG_7, 0);
	} else { /* request & mask must not be empty */
		emit(p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_7, 0, 0, (int32_t)mask);
		emit_skip_unless(p, BPF_JEQ, BPF_REG_7, 0);
	}
}

static int rule_check(const struct cell_device_rule *d, struct cell_error *err)
{
	if (d->type != 'a' && d->type != 'b' && d->type != 'c')
		return cell_err(err, EINVAL, "device rule: unknown type '%c'", d->type);
	if (d->major > INT32_MAX || d->minor > INT32_MAX)
		return cell_err(err, EINVAL, "device rule: number %lld:%lld out of range",
				(long long)d->major, (long long)d->minor);
	return 0;
}

/* Emit one rule; returns true when it matches everything (nothing after it can run). */
static bool emit_rule(struct prog *p, const struct cell_device_rule *d)
{
	unsigned mask = cgroup_device_access(d->access);
	bool any = d->type == 'a';

	p->n_jumps = 0;
	if (!any)
		emit_skip_unless(p, BPF_JNE, BPF_REG_3,
				 d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
	emit_access_check(p, d, mask);
	if (!any && d->major >= 0)
		emit_skip_unless(p, BPF_JNE, BPF_REG_5, (int32_t)d->major);
	if (!any && d->minor >= 0)
		emit_skip_unless(p, BPF_JNE, BPF_REG_6, (int32_t)d->minor);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, d->allow ? 1 : 0);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	for (size_t i = 0; i < p->n_jumps; i++)
		p->v[p->jumps[i]].off = (int16_t)(p->n - p->jumps[i] - 1);
	return p->n_jumps == 0;
}

int cgroup_bpf_program(const struct cell_device_rule *rules, size_t n, struct bpf_insn **out,
		       size_t *len, struct cell_error *err)
{
	struct prog p = {0};
	bool total = false;

	for (size_t i = 0; i < n; i++) {
		int r = rule_check(&rules[i], err);
		if (r < 0)
			return r;
	}
	emit_prologue(&p);
	/* the verifier refuses unreachable instructions: stop after a catch-all */
	for (size_t i = n; i-- > 0 && !total;)
		total = emit_rule(&p, &rules[i]);
	if (!total) {
		emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
		emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	free(p.jumps);
	*out = p.v;
	*len = p.n;
	return 0;
}

/* ---- kernel ---- */

int cgroup_bpf_load(const struct bpf_insn *insns, size_t len, struct cell_error *err)
{
	static const char license[] = "LGPL-2.1-or-later"; /* the program calls no helper */
	_cleanup_free_ char *log = NULL;
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)len;
	a.license = (uint64_t)(uintptr_t)license;
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0 || errno != EINVAL)
		return fd >= 0 ? fd : cell_err(err, errno, "bpf(BPF_PROG_LOAD) device program");
	/* load again with the verifier's log for the debug output */
	log = xzalloc(VERIFIER_LOG);
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = VERIFIER_LOG;
	a.log_level = 1;
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	cell_debug("cgroup: BPF verifier: %s", log);
	return cell_err(err, errno, "bpf(BPF_PROG_LOAD) device program");
}

static int query(int cgroup_fd, uint32_t *ids, uint32_t *count, uint32_t *flags,
		 struct cell_error *err)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cgroup_fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = *count;
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return cell_err(err, errno, "bpf(BPF_PROG_QUERY)");
	*count = a.query.prog_cnt;
	*flags = a.query.attach_flags;
	return 0;
}

int cgroup_bpf_count(int cgroup_fd, uint32_t *count, struct cell_error *err)
{
	uint32_t ids[MAX_ATTACHED], flags = 0;

	*count = MAX_ATTACHED;
	return query(cgroup_fd, ids, count, &flags, err);
}

static int attach(int cgroup_fd, int prog_fd, uint32_t flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgroup_fd;
	a.attach_bpf_fd = (uint32_t)prog_fd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = flags;
	return sys_bpf(BPF_PROG_ATTACH, &a);
}

static int detach_id(int cgroup_fd, uint32_t id, struct cell_error *err)
{
	_cleanup_close_ int fd = -1;
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (fd < 0) /* gone meanwhile */
		return errno == ENOENT ? 0
				       : cell_err(err, errno, "bpf(BPF_PROG_GET_FD_BY_ID) %u", id);
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgroup_fd;
	a.attach_bpf_fd = (uint32_t)fd;
	a.attach_type = BPF_CGROUP_DEVICE;
	if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
		return cell_err(err, errno, "bpf(BPF_PROG_DETACH) program %u", id);
	return 0;
}

/* Attach first, detach the old ones after: the cgroup is never without a filter (with
 * several attached, a device must pass all of them). */
int cgroup_bpf_replace(int cgroup_fd, int prog_fd, struct cell_error *err)
{
	uint32_t ids[MAX_ATTACHED], count = MAX_ATTACHED, flags = 0;
	int r = query(cgroup_fd, ids, &count, &flags, err);

	if (r < 0)
		return r;
	/* someone attached in exclusive mode: replacing it in that mode is atomic */
	if (count && !(flags & BPF_F_ALLOW_MULTI)) {
		if (attach(cgroup_fd, prog_fd, flags) < 0)
			return cell_err(err, errno, "bpf(BPF_PROG_ATTACH)");
		return 0;
	}
	if (attach(cgroup_fd, prog_fd, BPF_F_ALLOW_MULTI) < 0)
		return cell_err(err, errno, "bpf(BPF_PROG_ATTACH, BPF_F_ALLOW_MULTI)");
	for (uint32_t i = 0; i < count; i++)
		if ((r = detach_id(cgroup_fd, ids[i], err)) < 0)
			return r;
	return 0;
}
