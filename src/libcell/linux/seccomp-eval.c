/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A classic-BPF interpreter for seccomp programs, to learn before loading a
 * filter what it answers for a syscall: after the load the runtime has only
 * execve left, and a filter that refuses it leaves a process that can neither
 * report the failure nor exit (exit_group is refused too; glibc's _exit then
 * faults).  The instruction set is the one seccomp accepts (kernel
 * seccomp_check_filter(): loads from seccomp_data, ALU, jumps, RET, scratch
 * memory); anything else is -EINVAL.
 */
#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>

#include "../base/cleanup.h"
#include "../base/util.h"

static int load_word(const struct seccomp_data *d, uint32_t k, uint32_t *out)
{
	if (k % 4 != 0 || k + 4 > sizeof(*d))
		return -EINVAL;
	memcpy(out, (const char *)d + k, 4);
	return 0;
}

static int alu(uint16_t op, uint32_t *a, uint32_t v)
{
	switch (op) {
	case BPF_ADD: *a += v; return 0;
	case BPF_SUB: *a -= v; return 0;
	case BPF_MUL: *a *= v; return 0;
	case BPF_DIV: if (!v) return -EINVAL; *a /= v; return 0;
	case BPF_MOD: if (!v) return -EINVAL; *a %= v; return 0;
	case BPF_AND: *a &= v; return 0;
	case BPF_OR: *a |= v; return 0;
	case BPF_XOR: *a ^= v; return 0;
	case BPF_LSH: *a = v < 32 ? *a << v : 0; return 0;
	case BPF_RSH: *a = v < 32 ? *a >> v : 0; return 0;
	case BPF_NEG: *a = -*a; return 0;
	default: return -EINVAL;
	}
}

static int jump_taken(uint16_t op, uint32_t a, uint32_t v, bool *taken)
{
	switch (op) {
	case BPF_JEQ: *taken = a == v; return 0;
	case BPF_JGT: *taken = a > v; return 0;
	case BPF_JGE: *taken = a >= v; return 0;
	case BPF_JSET: *taken = (a & v) != 0; return 0;
	default: return -EINVAL;
	}
}

struct vm {
	uint32_t a, x, mem[BPF_MEMWORDS];
};

static int load(struct vm *m, const struct sock_filter *f, const struct seccomp_data *d)
{
	uint32_t *dst = BPF_CLASS(f->code) == BPF_LD ? &m->a : &m->x;

	switch (BPF_MODE(f->code)) {
	case BPF_ABS: return BPF_CLASS(f->code) == BPF_LD ? load_word(d, f->k, dst) : -EINVAL;
	case BPF_LEN: *dst = sizeof(*d); return 0;
	case BPF_IMM: *dst = f->k; return 0;
	case BPF_MEM:
		if (f->k >= BPF_MEMWORDS)
			return -EINVAL;
		*dst = m->mem[f->k];
		return 0;
	default: return -EINVAL;
	}
}

/* One instruction that is not RET: *pc is advanced (jumps included). */
static int step(struct vm *m, const struct sock_filter *f, const struct seccomp_data *d,
		size_t *pc)
{
	uint32_t v = BPF_SRC(f->code) == BPF_X ? m->x : f->k;
	bool taken;
	int r;

	*pc += 1;
	switch (BPF_CLASS(f->code)) {
	case BPF_LD: case BPF_LDX: return load(m, f, d);
	case BPF_ST: case BPF_STX:
		if (f->k >= BPF_MEMWORDS)
			return -EINVAL;
		m->mem[f->k] = BPF_CLASS(f->code) == BPF_ST ? m->a : m->x;
		return 0;
	case BPF_ALU: return alu(BPF_OP(f->code), &m->a, v);
	case BPF_MISC:
		if (BPF_MISCOP(f->code) == BPF_TAX)
			m->x = m->a;
		else
			m->a = m->x;
		return 0;
	case BPF_JMP:
		if (BPF_OP(f->code) == BPF_JA) {
			*pc += f->k;
			return 0;
		}
		if ((r = jump_taken(BPF_OP(f->code), m->a, v, &taken)) < 0)
			return r;
		*pc += taken ? f->jt : f->jf;
		return 0;
	default: return -EINVAL;
	}
}

int cell_seccomp_bpf_run(const struct sock_filter *prog, size_t n, const struct seccomp_data *d,
			 uint32_t *ret)
{
	struct vm m = { 0 };
	size_t pc = 0;
	int r;

	/* jumps only go forward (the kernel checks it too), so this ends */
	while (pc < n) {
		const struct sock_filter *f = &prog[pc];
		if (BPF_CLASS(f->code) == BPF_RET) {
			*ret = BPF_RVAL(f->code) == BPF_A ? m.a : f->k;
			return 0;
		}
		if ((r = step(&m, f, d, &pc)) < 0)
			return r;
	}
	return -EINVAL; /* fell off the end */
}
