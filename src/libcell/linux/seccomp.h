/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * seccomp via libseccomp.  The filter is compiled in the parent (so that an
 * unknown syscall/arch fails `create` before anything is made), inherited by
 * the child through fork, and loaded as the last step before exec.
 */
#include <stddef.h>
#include <stdint.h>

#include "../base/error.h"
#include "../spec/spec.h"

struct cell_seccomp_filter;

int cell_seccomp_prepare(const struct cell_seccomp *sc, struct cell_seccomp_filter **out,
			 struct cell_error *err);
/* The same, through a cache of compiled programs in cache_dir keyed by the
 * profile's canonical text `key` (plain filters only; others as above). */
int cell_seccomp_prepare_cached(const struct cell_seccomp *sc, const char *key,
				const char *cache_dir, struct cell_seccomp_filter **out,
				struct cell_error *err);
/* Load it; *notify_fd gets the listener fd when an action is SCMP_ACT_NOTIFY, else -1. */
int cell_seccomp_load(struct cell_seccomp_filter *f, int *notify_fd, struct cell_error *err);
/* Connect to listenerPath, from the runtime's mount namespace (the path is the
 * runtime's, not the container's); the message is runc's. */
int cell_seccomp_listener_connect(const char *path, struct cell_error *err);
/* The same over an already connected socket, with listenerMetadata. */
int cell_seccomp_send_listener_fd(int sock, int notify_fd, const char *state_json,
				  const char *metadata, struct cell_error *err);
void cell_seccomp_free(struct cell_seccomp_filter *f);
DEFINE_FREEP(struct cell_seccomp_filter *, cell_seccomp_free)
/* Send the notify fd and state (spec: containerProcessState JSON) to listenerPath. */
int cell_seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
			       struct cell_error *err);

/* seccomp-eval.c: run a seccomp program on d; *ret is its SECCOMP_RET_* answer.
 * -EINVAL for an instruction seccomp would not accept or a program without RET. */
struct sock_filter;
struct seccomp_data;
int cell_seccomp_bpf_run(const struct sock_filter *prog, size_t n, const struct seccomp_data *d,
			 uint32_t *ret);
/* What f answers for syscall nr of the native arch (arguments 0). */
int cell_seccomp_verdict(struct cell_seccomp_filter *f, int nr, uint32_t *ret,
			 struct cell_error *err);
/* Refuse a filter that refuses execve: the runtime's last step after loading it, so the
 * process could neither start nor report why.  The error names the rule (or the default
 * action) and carries the filter's errno. */
int cell_seccomp_check_exec(const struct cell_seccomp *sc, struct cell_seccomp_filter *f,
			    struct cell_error *err);

/* seccomp-enosys.c: the -ENOSYS stub (runc's): per arch in the filter, a syscall
 * numbered above the highest one the profile names gets ENOSYS, not the default. */
#define CELL_SECCOMP_ENOSYS_ARCHES_MAX 16
/* Instructions a stub for CELL_SECCOMP_ENOSYS_ARCHES_MAX arches may take. */
#define CELL_SECCOMP_ENOSYS_STUB_MAX (1 + 7 * CELL_SECCOMP_ENOSYS_ARCHES_MAX)
struct cell_seccomp_enosys_arch {
	uint32_t audit;   /* AUDIT_ARCH_* as in seccomp_data.arch */
	uint32_t max;     /* highest number named in the arch's own ABI; 0: none */
	uint32_t max_x32; /* AUDIT_ARCH_X86_64: the highest x32 one (bit 30 set); 0: none */
};
/* The stub for arches[0..n) into out (CELL_SECCOMP_ENOSYS_STUB_MAX room); its
 * length, 0 when no arch names a syscall.  It falls through into the program
 * that follows it. */
size_t cell_seccomp_enosys_stub(const struct cell_seccomp_enosys_arch *arches, size_t n,
				struct sock_filter *out);
/* The maxima of sc's rules for the libseccomp arch tokens[0..n_tokens) (x32 is
 * folded into x86_64's entry) into out (CELL_SECCOMP_ENOSYS_ARCHES_MAX room). */
size_t cell_seccomp_enosys_maxima(const struct cell_seccomp *sc, const uint32_t *tokens,
				  size_t n_tokens, struct cell_seccomp_enosys_arch *out);
