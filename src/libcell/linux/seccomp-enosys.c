/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The -ENOSYS stub put in front of a compiled seccomp program, as runc does:
 * a syscall numbered above every syscall the profile names (for that
 * architecture) is newer than the profile, so it gets ENOSYS instead of the
 * default action.  A program built against a newer libc tries the new call
 * (clone3, faccessat2, openat2) and falls back only on ENOSYS; EPERM from a
 * profile written before the call existed would make it fail.
 *
 * Stub layout (A = accumulator):
 *     ld [arch]
 *     per architecture:  jeq AUDIT_ARCH, 0, <skip section>
 *                        ld [nr]; checks...; ja <filter>; ret ERRNO|ENOSYS
 *     <filter>: the original program (it loads what it needs itself)
 * A section is only entered for its arch and always ends in a jump or a
 * return, so a mismatch falls to the next arch test with A untouched.
 */
#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h> /* NOLINT(readability-duplicate-include): libseccomp's, not ours */
#include <stddef.h>

#define X32_SYSCALL_BIT 0x40000000U

/* A jump target inside a section: an index among its checks, or one of these. */
enum { TO_FILTER = -1, TO_ENOSYS = -2 };

struct section {
	struct sock_filter checks[3];
	int to[3][2]; /* the targets of each check (true, false) */
	size_t n;
};

/* Append a conditional jump; its offsets are set by section_close. */
static void cond(struct section *s, uint16_t op, uint32_t k, int jt, int jf)
{
	s->checks[s->n] = (struct sock_filter){.code = (uint16_t)(BPF_JMP | op | BPF_K), .k = k};
	s->to[s->n][0] = jt;
	s->to[s->n][1] = jf;
	s->n++;
}

/* A target as an offset from check `at`: the checks are followed by
 * "ja filter" and "ret ENOSYS". */
static uint8_t offset(const struct section *s, size_t at, int target)
{
	size_t to = target == TO_FILTER ? s->n : target == TO_ENOSYS ? s->n + 1 : (size_t)target;
	return (uint8_t)(to - at - 1);
}

static void section_close(struct section *s)
{
	for (size_t i = 0; i < s->n; i++) {
		s->checks[i].jt = offset(s, i, s->to[i][0]);
		s->checks[i].jf = offset(s, i, s->to[i][1]);
	}
}

/* The checks for one architecture.  On x86_64 bit 30 of the number marks an
 * x32 call: each ABI is compared with its own maximum, and an ABI that names
 * nothing (or is not in the filter) is left to the filter, which applies its
 * bad-arch action or its rules. */
static void section_build(const struct cell_seccomp_enosys_arch *a, struct section *s)
{
	s->n = 0;
	if (a->audit == AUDIT_ARCH_X86_64) {
		int x32_at = a->max_x32 ? (a->max ? 2 : 1) : TO_FILTER;
		cond(s, BPF_JSET, X32_SYSCALL_BIT, x32_at, a->max ? 1 : TO_FILTER);
		if (a->max)
			cond(s, BPF_JGT, a->max, TO_ENOSYS, TO_FILTER);
		if (a->max_x32)
			cond(s, BPF_JGT, a->max_x32, TO_ENOSYS, TO_FILTER);
	} else {
		/* s390: a number the kernel does not know reaches the filter as 0
		 * (setup(2), the multiplexer; unused otherwise) */
		if (a->audit == AUDIT_ARCH_S390 || a->audit == AUDIT_ARCH_S390X)
			cond(s, BPF_JEQ, 0, TO_ENOSYS, 1);
		cond(s, BPF_JGT, a->max, TO_ENOSYS, TO_FILTER);
	}
	section_close(s);
}

static size_t emit(struct sock_filter *out, size_t at, uint16_t code, uint32_t k)
{
	out[at] = (struct sock_filter){.code = code, .k = k};
	return at + 1;
}

size_t cell_seccomp_enosys_stub(const struct cell_seccomp_enosys_arch *arches, size_t n,
				struct sock_filter *out)
{
	size_t at = 0, ja[CELL_SECCOMP_ENOSYS_ARCHES_MAX], n_ja = 0;

	if (n > CELL_SECCOMP_ENOSYS_ARCHES_MAX)
		n = CELL_SECCOMP_ENOSYS_ARCHES_MAX;
	at = emit(out, at, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	for (size_t i = 0; i < n; i++) {
		struct section s;
		if (!arches[i].max && !arches[i].max_x32)
			continue; /* names nothing on this arch: nothing is "newer" */
		section_build(&arches[i], &s);
		out[at] = (struct sock_filter){.code = BPF_JMP | BPF_JEQ | BPF_K,
					       .jf = (uint8_t)(s.n + 3),
					       .k = arches[i].audit};
		at = emit(out, at + 1, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
		for (size_t c = 0; c < s.n; c++)
			out[at++] = s.checks[c];
		ja[n_ja++] = at;
		at = emit(out, at, BPF_JMP | BPF_JA, 0);
		at = emit(out, at, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
	}
	if (n_ja == 0)
		return 0;
	for (size_t i = 0; i < n_ja; i++)
		out[ja[i]].k = (uint32_t)(at - ja[i] - 1);
	return at;
}

/* The highest number any rule names on arch token `arch` (with the x32 bit
 * on x32); 0 when it names none there.  Negative numbers are libseccomp's
 * pseudo-syscalls (a name the arch lacks). */
static uint32_t max_named(const struct cell_seccomp *sc, uint32_t arch)
{
	uint32_t max = 0;

	for (size_t i = 0; i < sc->n_syscalls; i++)
		for (char *const *nm = sc->syscalls[i].names; nm && *nm; nm++) {
			int nr = seccomp_syscall_resolve_name_arch(arch, *nm);
			if (nr >= 0 && (uint32_t)nr > max)
				max = (uint32_t)nr;
		}
	return max;
}

size_t cell_seccomp_enosys_maxima(const struct cell_seccomp *sc, const uint32_t *tokens,
				  size_t n_tokens, struct cell_seccomp_enosys_arch *out)
{
	size_t n = 0;

	for (size_t i = 0; i < n_tokens; i++) {
		bool x32 = tokens[i] == SCMP_ARCH_X32;
		uint32_t audit = x32 ? AUDIT_ARCH_X86_64 : tokens[i];
		size_t k = 0;
		while (k < n && out[k].audit != audit)
			k++;
		if (k == n) {
			if (n == CELL_SECCOMP_ENOSYS_ARCHES_MAX)
				continue;
			out[n++] = (struct cell_seccomp_enosys_arch){.audit = audit};
		}
		if (x32)
			out[k].max_x32 = max_named(sc, tokens[i]);
		else
			out[k].max = max_named(sc, tokens[i]);
	}
	return n;
}
