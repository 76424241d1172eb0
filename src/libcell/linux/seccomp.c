/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * linux.seccomp (runtime-spec config-linux.md "Seccomp") compiled with
 * libseccomp.  The filter is built in the parent, so that a bad profile
 * fails before anything is created, and loaded by the child as its last
 * step before exec.
 */
#include "seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <seccomp.h> /* NOLINT(readability-duplicate-include): libseccomp's, not ours */
#include <sys/syscall.h>
#include <sys/mman.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

#define LIBSECCOMP_HAS_WAITKILL (SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6))

/* The program is loaded with seccomp(2) by us, not seccomp_load(): it carries
 * the -ENOSYS stub, so the flags libseccomp would pass are ours to pass. */
struct cell_seccomp_filter {
	scmp_filter_ctx ctx;     /* while it is built; NULL once exported */
	bool notify;             /* a rule returns SCMP_ACT_NOTIFY: load yields a listener fd */
	unsigned int load_flags; /* SECCOMP_FILTER_FLAG_* from linux.seccomp.flags */
	void *bpf;               /* the program (struct sock_filter[]), stub included */
	size_t bpf_len;
};

static const struct {
	uint32_t act;
	bool with_errno; /* errnoRet goes in the low 16 bits (EPERM when unset) */
} actions[] = {
    [CELL_SCMP_KILL] = {SCMP_ACT_KILL_THREAD, false},
    [CELL_SCMP_KILL_PROCESS] = {SCMP_ACT_KILL_PROCESS, false},
    [CELL_SCMP_KILL_THREAD] = {SCMP_ACT_KILL_THREAD, false},
    [CELL_SCMP_TRAP] = {SCMP_ACT_TRAP, false},
    [CELL_SCMP_ERRNO] = {SCMP_ACT_ERRNO(0), true},
    [CELL_SCMP_TRACE] = {SCMP_ACT_TRACE(0), true},
    [CELL_SCMP_ALLOW] = {SCMP_ACT_ALLOW, false},
    [CELL_SCMP_LOG] = {SCMP_ACT_LOG, false},
    [CELL_SCMP_NOTIFY] = {SCMP_ACT_NOTIFY, false},
};

static const enum scmp_compare ops[] = {
    [CELL_SCMP_CMP_NE] = SCMP_CMP_NE,
    [CELL_SCMP_CMP_LT] = SCMP_CMP_LT,
    [CELL_SCMP_CMP_LE] = SCMP_CMP_LE,
    [CELL_SCMP_CMP_EQ] = SCMP_CMP_EQ,
    [CELL_SCMP_CMP_GE] = SCMP_CMP_GE,
    [CELL_SCMP_CMP_GT] = SCMP_CMP_GT,
    [CELL_SCMP_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

static const struct {
	const char *name;
	enum scmp_filter_attr attr;
	unsigned int kernel; /* what seccomp(2) gets */
} filter_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC, SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG, SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB, SECCOMP_FILTER_FLAG_SPEC_ALLOW},
#if LIBSECCOMP_HAS_WAITKILL
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCMP_FLTATR_CTL_WAITKILL,
     SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
#endif
};

static int action_value(enum cell_seccomp_action a, bool errno_set, uint32_t errno_ret,
			uint32_t *out)
{
	if ((size_t)a >= ARRAY_SIZE(actions))
		return -EINVAL;
	*out = actions[a].act;
	if (actions[a].with_errno)
		*out |= (errno_set ? errno_ret : EPERM) & 0xffffU;
	return 0;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64" -> its token; 0 if unknown. */
static uint32_t arch_token(const char *name)
{
	const char *suffix = name + strlen("SCMP_ARCH_");
	char lower[32];
	size_t i;

	if (!cell_startswith(name, "SCMP_ARCH_") || strlen(suffix) >= sizeof(lower))
		return 0;
	for (i = 0; suffix[i]; i++)
		lower[i] = (char)tolower((unsigned char)suffix[i]);
	lower[i] = '\0';
	return seccomp_arch_resolve_name(lower);
}

/* The native arch always stays in the filter, listed or not, as with runc
 * (libseccomp's filter starts with it and runc only adds): a profile listing
 * only SCMP_ARCH_X86 must not kill every native syscall with the bad-arch
 * action.  So an architecture of the other endianness cannot be added (EDOM). */
static int archs_apply(scmp_filter_ctx ctx, char *const *archs, struct cell_error *err)
{
	int r;

	if (!archs || !archs[0])
		return 0;
	for (size_t i = 0; archs[i]; i++) {
		uint32_t a = arch_token(archs[i]);
		if (a == 0)
			return cell_errx(err, EINVAL,
					 "linux.seccomp.architectures[%zu]: unknown "
					 "architecture \"%s\"",
					 i, archs[i]);
		r = seccomp_arch_add(ctx, a);
		if (r == -EDOM)
			return cell_errx(err, EINVAL,
					 "linux.seccomp.architectures[%zu]: \"%s\" differs "
					 "in endianness from the native architecture",
					 i, archs[i]);
		if (r < 0 && r != -EEXIST)
			return cell_err(err, -r, "linux.seccomp.architectures[%zu]: add \"%s\"", i,
					archs[i]);
	}
	return 0;
}

static int flag_apply(struct cell_seccomp_filter *f, size_t i, const char *flag,
		      struct cell_error *err)
{
	int r;

	for (size_t k = 0; k < ARRAY_SIZE(filter_flags); k++) {
		if (!streq(flag, filter_flags[k].name))
			continue;
		/* the attribute too: libseccomp refuses a flag it cannot use */
		r = seccomp_attr_set(f->ctx, filter_flags[k].attr, 1);
		if (r < 0)
			return cell_err(err, -r, "linux.seccomp.flags[%zu]: set %s", i, flag);
		f->load_flags |= filter_flags[k].kernel;
		return 0;
	}
	if (streq(flag, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"))
		return cell_errx(err, ENOTSUP,
				 "linux.seccomp.flags[%zu]: %s is not supported by "
				 "libseccomp %d.%d",
				 i, flag, SCMP_VER_MAJOR, SCMP_VER_MINOR);
	return cell_errx(err, EINVAL, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i, flag);
}

static int attrs_apply(const struct cell_seccomp *sc, struct cell_seccomp_filter *f,
		       struct cell_error *err)
{
	scmp_filter_ctx ctx = f->ctx;
	int r;

	/* no_new_privs is ours to set (process.noNewPrivileges); a privileged
	 * container may load the filter without it.  SYSRAWRC: real errnos. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0)
		return cell_err(err, -r, "linux.seccomp: set filter attributes");
	for (size_t i = 0; sc->flags && sc->flags[i]; i++)
		if ((r = flag_apply(f, i, sc->flags[i], err)) < 0)
			return r;
	return archs_apply(ctx, sc->architectures, err);
}

static bool args_share_index(const struct cell_seccomp_syscall *s)
{
	for (size_t i = 0; i < s->n_args; i++)
		for (size_t j = i + 1; j < s->n_args; j++)
			if (s->args[i].index == s->args[j].index)
				return true;
	return false;
}

static int args_convert(const struct cell_seccomp_syscall *s, size_t n, struct scmp_arg_cmp *cmp,
			struct cell_error *err)
{
	for (size_t k = 0; k < s->n_args; k++) {
		const struct cell_seccomp_arg *a = &s->args[k];
		if (a->index > 5 || (size_t)a->op >= ARRAY_SIZE(ops))
			return cell_errx(err, EINVAL,
					 "linux.seccomp.syscalls[%zu].args[%zu]: invalid "
					 "index %u or operator",
					 n, k, a->index);
		/* for MASKED_EQ datum_a is the mask and datum_b the value, as in the spec */
		cmp[k] = (struct scmp_arg_cmp){.arg = a->index,
					       .op = ops[a->op],
					       .datum_a = a->value,
					       .datum_b = a->value_two};
	}
	return 0;
}

/* Conditions on distinct arguments are ANDed in one rule; libseccomp
 * refuses two conditions on one argument, so those become one rule each
 * (ORed, as runc does). */
static int rule_add(scmp_filter_ctx ctx, uint32_t act, int nr, const struct cell_seccomp_syscall *s,
		    const struct scmp_arg_cmp *cmp)
{
	if (!args_share_index(s))
		return seccomp_rule_add_array(ctx, act, nr, (unsigned int)s->n_args, cmp);
	for (size_t k = 0; k < s->n_args; k++) {
		int r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[k]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int syscall_apply(struct cell_seccomp_filter *f, uint32_t def, size_t n,
			 const struct cell_seccomp_syscall *s, struct cell_error *err)
{
	_cleanup_free_ struct scmp_arg_cmp *cmp = xcalloc(s->n_args, sizeof(*cmp));
	uint32_t act;
	int r;

	if (action_value(s->action, s->errno_ret_set, s->errno_ret, &act) < 0)
		return cell_errx(err, EINVAL, "linux.seccomp.syscalls[%zu]: unknown action", n);
	if ((r = args_convert(s, n, cmp, err)) < 0)
		return r;
	size_t known = 0, first_unknown = SIZE_MAX;
	for (size_t j = 0; s->names && s->names[j]; j++) {
		int nr = seccomp_syscall_resolve_name(s->names[j]);
		/* Profiles (podman's, Docker's) list syscalls newer than this
		 * libseccomp: skip those, as runc and crun do; a rule that names
		 * nothing known is a mistake and is refused. */
		if (nr == __NR_SCMP_ERROR) {
			cell_debug("seccomp: skipping syscall unknown to libseccomp: %s", s->names[j]);
			if (first_unknown == SIZE_MAX)
				first_unknown = j;
			continue;
		}
		known++;
		if (act == def) /* libseccomp refuses rules equal to the default */
			continue;
		if ((r = rule_add(f->ctx, act, nr, s, cmp)) < 0)
			return cell_err(err, -r, "linux.seccomp.syscalls[%zu]: add rule for \"%s\"",
					n, s->names[j]);
	}
	if (known == 0 && first_unknown != SIZE_MAX)
		return cell_errx(err, EINVAL,
				 "linux.seccomp.syscalls[%zu].names[%zu]: unknown syscall \"%s\"",
				 n, first_unknown, s->names[first_unknown]);
	f->notify |= act != def && s->action == CELL_SCMP_NOTIFY;
	return 0;
}

static int export_program(scmp_filter_ctx ctx, char **data, size_t *len, struct cell_error *err)
{
	_cleanup_close_ int fd = memfd_create("cell-seccomp", MFD_CLOEXEC);
	int r;

	if (fd < 0)
		return cell_err(err, errno, "memfd for the seccomp program");
	if ((r = seccomp_export_bpf(ctx, fd)) < 0)
		return cell_err(err, -r, "seccomp_export_bpf");
	if (lseek(fd, 0, SEEK_SET) < 0 || (r = cell_read_fd(fd, data, len)) < 0)
		return cell_err(err, r < 0 ? -r : errno, "read the seccomp program");
	return 0;
}

static int export_bpf(struct cell_seccomp_filter *f, struct cell_error *err)
{
	char *data = NULL;
	size_t len = 0;
	int r = export_program(f->ctx, &data, &len, err);

	if (r < 0)
		return r;
	f->bpf = data;
	f->bpf_len = len;
	return 0;
}

/* runc's rule: not for a default that lets the call through anyway (ALLOW,
 * LOG; TRACE: a tracer should handle new syscalls itself), nor when the
 * default already is ENOSYS.  (NOTIFY cannot be the default.) */
static bool enosys_wanted(const struct cell_seccomp *sc)
{
	switch (sc->default_action) {
	case CELL_SCMP_ALLOW:
	case CELL_SCMP_LOG:
	case CELL_SCMP_TRACE: return false;
	case CELL_SCMP_ERRNO: return !sc->default_errno_ret_set || sc->default_errno_ret != ENOSYS;
	default: return true;
	}
}

/* The arches in the filter: the native one (always, see archs_apply) and
 * the listed ones (archs_apply has checked them). */
static size_t filter_arches(const struct cell_seccomp *sc, uint32_t *tokens, size_t room)
{
	size_t n = 0;

	tokens[n++] = seccomp_arch_native();
	for (size_t i = 0; sc->architectures && sc->architectures[i] && n < room; i++)
		tokens[n++] = arch_token(sc->architectures[i]);
	return n;
}

/* Put the -ENOSYS stub in front of f->bpf. */
static int enosys_patch(const struct cell_seccomp *sc, struct cell_seccomp_filter *f,
			struct cell_error *err)
{
	struct cell_seccomp_enosys_arch arches[CELL_SECCOMP_ENOSYS_ARCHES_MAX];
	struct sock_filter stub[CELL_SECCOMP_ENOSYS_STUB_MAX];
	uint32_t tokens[CELL_SECCOMP_ENOSYS_ARCHES_MAX];
	size_t n, len;

	if (!enosys_wanted(sc))
		return 0;
	n = filter_arches(sc, tokens, ARRAY_SIZE(tokens));
	n = cell_seccomp_enosys_maxima(sc, tokens, n, arches);
	len = cell_seccomp_enosys_stub(arches, n, stub) * sizeof(struct sock_filter);
	if (len == 0)
		return 0;
	if ((len + f->bpf_len) / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return cell_err(err, E2BIG,
				"linux.seccomp: the program with its -ENOSYS stub has more than "
				"%d instructions", BPF_MAXINSNS);
	char *patched = xmalloc(len + f->bpf_len);
	memcpy(patched, stub, len);
	memcpy(patched + len, f->bpf, f->bpf_len);
	free(f->bpf);
	f->bpf = patched;
	f->bpf_len += len;
	return 0;
}

int cell_seccomp_prepare(const struct cell_seccomp *sc, struct cell_seccomp_filter **out,
			 struct cell_error *err)
{
	_cleanup_(cell_seccomp_freep) struct cell_seccomp_filter *f = NULL;
	uint32_t def;
	int r;

	if (action_value(sc->default_action, sc->default_errno_ret_set, sc->default_errno_ret,
			 &def) < 0)
		return cell_errx(err, EINVAL, "linux.seccomp.defaultAction: unknown action");
	/* the process would block on its own notification before it could
	 * hand the listener over */
	if (sc->default_action == CELL_SCMP_NOTIFY)
		return cell_errx(err, EINVAL,
				 "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be "
				 "the default action");
	f = xzalloc(sizeof(*f));
	f->ctx = seccomp_init(def);
	if (!f->ctx)
		return cell_err(err, EINVAL, "seccomp_init (default action %#x)", def);
	if ((r = attrs_apply(sc, f, err)) < 0)
		return r;
	for (size_t i = 0; i < sc->n_syscalls; i++)
		if ((r = syscall_apply(f, def, i, &sc->syscalls[i], err)) < 0)
			return r;
	if ((r = export_bpf(f, err)) < 0 || (r = enosys_patch(sc, f, err)) < 0)
		return r;
	seccomp_release(TAKE_PTR(f->ctx));
	*out = TAKE_PTR(f);
	return 0;
}

/* seccomp(2) as seccomp_load() would call it (no_new_privs stays the
 * caller's: SCMP_FLTATR_CTL_NNP is off).  TSYNC with a listener needs
 * TSYNC_ESRCH, else a positive return would be ambiguous (fd or thread). */
int cell_seccomp_load(struct cell_seccomp_filter *f, int *notify_fd, struct cell_error *err)
{
	struct sock_fprog prog = {.len = (unsigned short)(f->bpf_len / sizeof(struct sock_filter)),
				  .filter = f->bpf};
	unsigned int flags = f->load_flags;
	long r;

	if (f->notify)
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
	if (f->notify && (flags & SECCOMP_FILTER_FLAG_TSYNC))
		flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0)
		return cell_err(err, errno, "load the seccomp filter (flags %#x)", flags);
	if (r > 0 && !f->notify) /* TSYNC: the thread that could not be synchronized */
		return cell_err(err, ESRCH, "load the seccomp filter: thread %ld cannot take it", r);
	*notify_fd = f->notify ? (int)r : -1;
	return 0;
}

void cell_seccomp_free(struct cell_seccomp_filter *f)
{
	if (!f)
		return;
	if (f->ctx)
		seccomp_release(f->ctx);
	free(f->bpf);
	free(f);
}

int cell_seccomp_listener_connect(const char *path, struct cell_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	_cleanup_close_ int sock = -1;

	if (strlen(path) >= sizeof(addr.sun_path))
		return cell_err(err, ENAMETOOLONG, "linux.seccomp.listenerPath %s", path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return cell_err(err, errno, "seccomp listener %s: socket", path);
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return cell_err(err, errno,
				"failed to connect with seccomp agent specified in the seccomp "
				"profile: connect to %s",
				path);
	return TAKE_FD(sock);
}

static int send_all(int sock, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(sock, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* containerProcessState (runtime-spec config-linux.md#the-container-process-state):
 * the fd names, the container pid, the metadata and the state. */
static char *process_state_json(const char *state_json, const char *metadata)
{
	json_t *st = json_loads(state_json, 0, NULL);
	json_t *o = json_pack("{s:s, s:[s], s:O, s:s, s:o}", "ociVersion", CELL_OCI_VERSION, "fds",
			      "seccompFd", "pid", st ? json_object_get(st, "pid") : json_integer(0),
			      "metadata", metadata ? metadata : "", "state",
			      st ? st : json_object());
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text ? text : xstrdup(state_json);
}

/* The JSON and the fd travel in one sendmsg (the fd rides on the first
 * byte); a short send of a large state is completed afterwards. */
int cell_seccomp_send_listener_fd(int sock, int notify_fd, const char *state_json,
				  const char *metadata, struct cell_error *err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl = {0};
	_cleanup_free_ char *text = process_state_json(state_json, metadata);
	size_t len = strlen(text);
	struct iovec iov = {.iov_base = text, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &notify_fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return cell_err(err, errno, "seccomp listener: sendmsg");
	n = send_all(sock, text + n, len - (size_t)n);
	if (n < 0)
		return cell_err(err, (int)-n, "seccomp listener: send");
	return 0;
}

int cell_seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
			       struct cell_error *err)
{
	_cleanup_close_ int sock = -1;

	if (!state_json || !*state_json)
		return cell_errx(err, EINVAL, "seccomp listener %s: empty state", listener_path);
	if ((sock = cell_seccomp_listener_connect(listener_path, err)) < 0)
		return sock;
	int r = cell_seccomp_send_listener_fd(sock, notify_fd, state_json, NULL, err);
	return r < 0 ? cell_err_prefix(err, "%s", listener_path) : 0;
}

/* ---- compiled-filter cache ----
 * Generating BPF for a few hundred rules costs milliseconds on every
 * create; the result only depends on the profile, libseccomp and the
 * architecture.  The cache file holds the exact profile text it was made
 * from (compared in full, so a hash collision cannot load a wrong filter)
 * and the program.  Filters with flags or NOTIFY are not cached. */

/* 2: the native arch is always in the filter; a cellbpf1 program may lack it.
 * 3: the program carries the -ENOSYS stub. */
#define CACHE_MAGIC "cellbpf3"

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static char *cache_path(const char *dir, const char *key)
{
	return xasprintf("%s/seccomp-%016llx-%u.bpf", dir, (unsigned long long)fnv1a(key),
			 (unsigned)seccomp_version()->minor);
}

static int cache_read(const char *path, const char *key, struct cell_seccomp_filter *f)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0, klen = strlen(key), head = sizeof(CACHE_MAGIC) - 1;

	if (cell_read_file(path, &data, &len) < 0 || len < head + klen + 1 ||
	    memcmp(data, CACHE_MAGIC, head) != 0 || memcmp(data + head, key, klen) != 0 ||
	    data[head + klen] != '\0')
		return -ENOENT;
	size_t off = head + klen + 1, n = len - off;
	if (n == 0 || n % sizeof(struct sock_filter) != 0 || n / sizeof(struct sock_filter) > 65535)
		return -EINVAL;
	f->bpf = xmalloc(n);
	memcpy(f->bpf, data + off, n);
	f->bpf_len = n;
	return 0;
}

int cell_seccomp_verdict(struct cell_seccomp_filter *f, int nr, uint32_t *ret,
			 struct cell_error *err)
{
	struct seccomp_data d = { .nr = nr, .arch = seccomp_arch_native() };
	/* the program that will be loaded, stub included */
	int r = cell_seccomp_bpf_run(f->bpf, f->bpf_len / sizeof(struct sock_filter), &d, ret);
	return r < 0 ? cell_err(err, -r, "evaluate the seccomp program for syscall %d", nr) : 0;
}

/* The field that decides execve: the first rule naming it, else the default. */
static char *exec_rule_path(const struct cell_seccomp *sc)
{
	for (size_t i = 0; i < sc->n_syscalls; i++)
		if (cell_strv_contains(sc->syscalls[i].names, "execve"))
			return xasprintf("linux.seccomp.syscalls[%zu]", i);
	return xstrdup("linux.seccomp.defaultAction");
}

int cell_seccomp_check_exec(const struct cell_seccomp *sc, struct cell_seccomp_filter *f,
			    struct cell_error *err)
{
	uint32_t ret, action;
	int r = cell_seccomp_verdict(f, SYS_execve, &ret, err);

	if (r < 0)
		return r;
	action = ret & SECCOMP_RET_ACTION_FULL;
	if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG ||
	    action == SECCOMP_RET_USER_NOTIF || action == SECCOMP_RET_TRACE)
		return 0;
	_cleanup_free_ char *path = exec_rule_path(sc);
	if (action == SECCOMP_RET_ERRNO)
		return cell_err(err, (int)(ret & SECCOMP_RET_DATA) ?: EPERM,
				"%s: the filter refuses execve, so no process could start "
				"(errno %u)", path, ret & SECCOMP_RET_DATA);
	return cell_err(err, EINVAL,
			"%s: the filter %s execve, so no process could start", path,
			action == SECCOMP_RET_TRAP ? "traps" : "kills the process at");
}

static void cache_write(const char *dir, const char *path, const char *key,
			const struct cell_seccomp_filter *f)
{
	size_t klen = strlen(key), head = sizeof(CACHE_MAGIC) - 1;
	_cleanup_free_ char *buf = xmalloc(head + klen + 1 + f->bpf_len);

	memcpy(buf, CACHE_MAGIC, head);
	memcpy(buf + head, key, klen + 1);
	memcpy(buf + head + klen + 1, f->bpf, f->bpf_len);
	if (cell_mkdir_p(dir, 0700) == 0)
		(void)cell_write_file_atomic(path, buf, head + klen + 1 + f->bpf_len, 0600);
}

int cell_seccomp_prepare_cached(const struct cell_seccomp *sc, const char *key,
				const char *cache_dir, struct cell_seccomp_filter **out,
				struct cell_error *err)
{
	_cleanup_(cell_seccomp_freep) struct cell_seccomp_filter *f = NULL;
	bool plain = cell_strv_len(sc->flags) == 0 && !sc->listener_path;
	_cleanup_free_ char *path = NULL;
	int r;

	for (size_t i = 0; plain && i < sc->n_syscalls; i++)
		plain = sc->syscalls[i].action != CELL_SCMP_NOTIFY;
	if (!plain || !key || !cache_dir)
		return cell_seccomp_prepare(sc, out, err);
	path = cache_path(cache_dir, key);
	f = xzalloc(sizeof(*f));
	if (cache_read(path, key, f) == 0) {
		*out = TAKE_PTR(f);
		return 0;
	}
	cell_seccomp_free(TAKE_PTR(f));
	if ((r = cell_seccomp_prepare(sc, &f, err)) < 0)
		return r;
	cache_write(cache_dir, path, key, f);
	*out = TAKE_PTR(f);
	return 0;
}
