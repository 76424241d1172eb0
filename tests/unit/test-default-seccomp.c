/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The default seccomp profile: it goes through the same parser and compiler
 * as any config.json (for every capability that gates a group), its key
 * rules say what the profile promises, and, loaded in a forked child, it
 * refuses the attacks it is there for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/linux/seccomp.h"
#include "libcell/spec/default-seccomp.h"
#include "libcell/spec/spec.h"

#define CAP(c) (UINT64_C(1) << (CAP_##c))
#define NS_FLAGS 0x7e020000ULL /* CLONE_NEW{NS,UTS,IPC,USER,PID,NET,CGROUP} */

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__, __LINE__,     \
				#c);                                                               \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

static void spec_freep(struct cell_spec **s)
{
	cell_spec_free(*s);
}
#define _cleanup_spec_ _cleanup_(spec_freep)

static void filter_freep(struct cell_seccomp_filter **f)
{
	cell_seccomp_free(*f);
}
#define _cleanup_filter_ _cleanup_(filter_freep)

/* The profile for `caps`, through cell_spec_parse() inside a minimal config. */
static struct cell_spec *parse_profile(uint64_t caps)
{
	json_t *doc = json_pack("{s:s, s:{s:s}, s:{s:o}}", "ociVersion", "1.2.0", "root", "path",
				"rootfs", "linux", "seccomp", cell_default_seccomp_json(caps));
	_cleanup_free_ char *text = json_dumps(doc, 0);
	struct cell_spec *spec = NULL;
	struct cell_error e = {0};

	json_decref(doc);
	assert_non_null(text);
	if (cell_spec_parse(text, strlen(text), &spec, &e) < 0)
		fail_msg("caps %#llx: %s", (unsigned long long)caps, e.msg);
	assert_true(spec->linux.seccomp.set);
	return spec;
}

static void assert_compiles(uint64_t caps)
{
	_cleanup_spec_ struct cell_spec *spec = parse_profile(caps);
	_cleanup_filter_ struct cell_seccomp_filter *f = NULL;
	struct cell_error e = {0};

	if (cell_seccomp_prepare(&spec->linux.seccomp, &f, &e) < 0)
		fail_msg("caps %#llx: %s", (unsigned long long)caps, e.msg);
}

/* Every capability alone (each gates its group), none, and all. */
static void test_compiles_for_every_gate(void **state)
{
	assert_compiles(0);
	for (int c = 0; c <= cell_cap_last(); c++)
		assert_compiles(UINT64_C(1) << c);
	assert_compiles(~UINT64_C(0));
}

/* What `cellrun spec` writes parses and compiles as it is. */
static void test_cellrun_spec_output(void **state)
{
	_cleanup_free_ char *json = cell_spec_default_json(false, true);
	_cleanup_spec_ struct cell_spec *spec = NULL;
	_cleanup_filter_ struct cell_seccomp_filter *f = NULL;
	struct cell_error e = {0};

	assert_int_equal(cell_spec_parse(json, strlen(json), &spec, &e), 0);
	assert_true(spec->linux.seccomp.set);
	assert_int_equal(cell_seccomp_prepare(&spec->linux.seccomp, &f, &e), 0);
}

/* The index-th rule naming `name` (any action), or NULL. */
static const struct cell_seccomp_syscall *rule_for(const struct cell_seccomp *sc, const char *name,
						   size_t index)
{
	for (size_t i = 0; i < sc->n_syscalls; i++)
		if (cell_strv_contains(sc->syscalls[i].names, name) && index-- == 0)
			return &sc->syscalls[i];
	return NULL;
}

static size_t rules_for(const struct cell_seccomp *sc, const char *name)
{
	size_t n = 0;

	while (rule_for(sc, name, n))
		n++;
	return n;
}

/* name has exactly one rule, without arguments: action and errno. */
static void assert_plain_rule(const struct cell_seccomp *sc, const char *name,
			      enum cell_seccomp_action action, uint32_t errno_ret)
{
	const struct cell_seccomp_syscall *r = rule_for(sc, name, 0);

	if (!r || rules_for(sc, name) != 1 || r->n_args != 0)
		fail_msg("%s: want one rule without arguments", name);
	assert_int_equal(r->action, action);
	if (action == CELL_SCMP_ERRNO)
		assert_true(r->errno_ret_set && r->errno_ret == errno_ret);
}

static void test_default_shape(void **state)
{
	_cleanup_spec_ struct cell_spec *spec = parse_profile(0);
	const struct cell_seccomp *sc = &spec->linux.seccomp;

	assert_int_equal(sc->default_action, CELL_SCMP_ERRNO);
	assert_true(sc->default_errno_ret_set && sc->default_errno_ret == ENOSYS);
#if defined(__x86_64__)
	assert_true(cell_strv_contains(sc->architectures, "SCMP_ARCH_X86_64"));
	assert_true(cell_strv_contains(sc->architectures, "SCMP_ARCH_X86"));
	assert_true(cell_strv_contains(sc->architectures, "SCMP_ARCH_X32"));
#endif
	assert_plain_rule(sc, "read", CELL_SCMP_ALLOW, 0);
	assert_plain_rule(sc, "execve", CELL_SCMP_ALLOW, 0);
	assert_plain_rule(sc, "clone3", CELL_SCMP_ERRNO, ENOSYS);
	assert_plain_rule(sc, "io_uring_setup", CELL_SCMP_ERRNO, ENOSYS);
	static const char *const eperm[] = {
	    "mount",	   "umount2",
	    "unshare",	   "setns",
	    "pivot_root",  "keyctl",
	    "add_key",	   "request_key",
	    "bpf",	   "perf_event_open",
	    "ptrace",	   "kexec_load",
	    "init_module", "open_by_handle_at",
	    "fsopen",	   "open_tree",
	    "move_mount",
	};
	for (size_t i = 0; i < ARRAY_SIZE(eperm); i++)
		assert_plain_rule(sc, eperm[i], CELL_SCMP_ERRNO, EPERM);
}

static void test_personality_values(void **state)
{
	static const uint64_t want[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
	_cleanup_spec_ struct cell_spec *spec = parse_profile(0);
	const struct cell_seccomp *sc = &spec->linux.seccomp;

	assert_int_equal(rules_for(sc, "personality"), ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct cell_seccomp_syscall *r = rule_for(sc, "personality", i);
		assert_int_equal(r->action, CELL_SCMP_ALLOW);
		assert_int_equal(r->n_args, 1);
		assert_int_equal(r->args[0].op, CELL_SCMP_CMP_EQ);
		assert_int_equal(r->args[0].index, 0);
		assert_int_equal(r->args[0].value, want[i]);
	}
}

static void test_clone_and_socket_filters(void **state)
{
	_cleanup_spec_ struct cell_spec *spec = parse_profile(0);
	const struct cell_seccomp *sc = &spec->linux.seccomp;
	const struct cell_seccomp_syscall *r = rule_for(sc, "clone", 0);

	/* allowed without namespace flags, then EPERM for each flag */
	assert_int_equal(r->action, CELL_SCMP_ALLOW);
	assert_int_equal(r->args[0].op, CELL_SCMP_CMP_MASKED_EQ);
	assert_int_equal(r->args[0].value, NS_FLAGS);
	assert_int_equal(r->args[0].value_two, 0);
	assert_int_equal(rules_for(sc, "clone"), 1 + 7);
	for (size_t i = 1; i < 8; i++) {
		r = rule_for(sc, "clone", i);
		assert_true(r->action == CELL_SCMP_ERRNO && r->errno_ret == EPERM);
		assert_true(r->args[0].value & NS_FLAGS);
		assert_int_equal(r->args[0].value, r->args[0].value_two);
	}
	r = rule_for(sc, "socket", 0);
	assert_int_equal(rules_for(sc, "socket"), 1);
	assert_int_equal(r->args[0].op, CELL_SCMP_CMP_LT);
	assert_int_equal(r->args[0].value, 40); /* AF_VSOCK */
}

/* With the capability, its group is allowed and nothing else names it. */
static void test_capability_gates(void **state)
{
	static const struct {
		uint64_t caps;
		const char *name;
	} gates[] = {
	    {CAP(SYS_ADMIN), "mount"},
	    {CAP(SYS_ADMIN), "unshare"},
	    {CAP(SYS_ADMIN), "keyctl"},
	    {CAP(SYS_ADMIN), "clone3"},
	    {CAP(SYS_PTRACE), "ptrace"},
	    {CAP(BPF), "bpf"},
	    {CAP(PERFMON), "perf_event_open"},
	    {CAP(SYS_MODULE), "finit_module"},
	    {CAP(SYS_CHROOT), "chroot"},
	    {CAP(SYSLOG), "syslog"},
	    {CAP(DAC_READ_SEARCH), "open_by_handle_at"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(gates); i++) {
		_cleanup_spec_ struct cell_spec *spec = parse_profile(gates[i].caps);
		assert_plain_rule(&spec->linux.seccomp, gates[i].name, CELL_SCMP_ALLOW, 0);
	}
	_cleanup_spec_ struct cell_spec *admin = parse_profile(CAP(SYS_ADMIN));
	assert_plain_rule(&admin->linux.seccomp, "clone", CELL_SCMP_ALLOW, 0);
	assert_plain_rule(&admin->linux.seccomp, "ptrace", CELL_SCMP_ERRNO, EPERM);
}

/* No name is both allowed unconditionally and refused (a contradiction
 * libseccomp would settle silently, or refuse with EEXIST). */
static void test_no_contradictions(void **state)
{
	uint64_t sets[] = {0, CAP(SYS_ADMIN), CAP(SYS_PTRACE), ~UINT64_C(0)};

	for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
		_cleanup_spec_ struct cell_spec *spec = parse_profile(sets[s]);
		const struct cell_seccomp *sc = &spec->linux.seccomp;
		for (size_t i = 0; i < sc->n_syscalls; i++) {
			if (sc->syscalls[i].n_args != 0)
				continue;
			for (char **n = sc->syscalls[i].names; *n; n++)
				if (rules_for(sc, *n) != 1)
					fail_msg("caps %#llx: \"%s\" in %zu rules",
						 (unsigned long long)sets[s], *n,
						 rules_for(sc, *n));
		}
	}
}

static int run_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(fn(arg));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static long err_of(long r)
{
	return r < 0 ? errno : 0;
}

static long clone_with(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static int child_attacks(void *arg)
{
	struct cell_seccomp_filter *f = arg;
	struct cell_error e = {0};
	unsigned long long clone3_args[8] = {CLONE_NEWUSER, 0, 0, 0, SIGCHLD, 0, 0, 0};
	int nfd;

	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	CHECK(cell_seccomp_load(f, &nfd, &e) == 0);
	CHECK(getpid() > 0);
	CHECK(err_of(syscall(SYS_unshare, CLONE_NEWUSER)) == EPERM);
	CHECK(err_of(clone_with(CLONE_NEWUSER)) == EPERM);
	CHECK(err_of(clone_with(0)) == 0);
	CHECK(err_of(syscall(SYS_clone3, clone3_args, sizeof(clone3_args))) == ENOSYS);
	CHECK(err_of(syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */)) == ENOSYS);
	CHECK(err_of(syscall(SYS_personality, 0xffffffffUL)) == 0);
	CHECK(err_of(syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0)) == ENOSYS);
	CHECK(err_of(syscall(SYS_socket, 0x100000028UL, SOCK_STREAM, 0)) == ENOSYS);
	CHECK(err_of(syscall(SYS_keyctl, 0, -3, 0)) == EPERM);
	CHECK(err_of(syscall(SYS_ptrace, 0 /* TRACEME */, 0, 0, 0)) == EPERM);
	CHECK(err_of(syscall(1023)) == ENOSYS);
	return 0;
}

static void test_attacks_refused_when_loaded(void **state)
{
	_cleanup_spec_ struct cell_spec *spec = parse_profile(0);
	_cleanup_filter_ struct cell_seccomp_filter *f = NULL;
	struct cell_error e = {0};

	assert_int_equal(cell_seccomp_prepare(&spec->linux.seccomp, &f, &e), 0);
	assert_int_equal(run_child(child_attacks, f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compiles_for_every_gate),
	    cmocka_unit_test(test_cellrun_spec_output),
	    cmocka_unit_test(test_default_shape),
	    cmocka_unit_test(test_personality_values),
	    cmocka_unit_test(test_clone_and_socket_filters),
	    cmocka_unit_test(test_capability_gates),
	    cmocka_unit_test(test_no_contradictions),
	    cmocka_unit_test(test_attacks_refused_when_loaded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
