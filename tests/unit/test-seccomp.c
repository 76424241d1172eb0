/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seccomp: profiles are compiled in the test process (pure libseccomp);
 * filters are loaded only in forked children that exit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/linux/seccomp.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__, __LINE__,     \
				#c);                                                               \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

#define NAMES(...) ((char *[]){__VA_ARGS__, NULL})
#define ARGS(...) ((struct cell_seccomp_arg[]){__VA_ARGS__})
#define N_ARGS(...) ARRAY_SIZE(ARGS(__VA_ARGS__))

static void seccomp_filter_freep(struct cell_seccomp_filter **f)
{
	cell_seccomp_free(*f);
}
#define _cleanup_filter_ _cleanup_(seccomp_filter_freep)

/* A profile shaped like the usual container defaults: every action, every
 * operator, arch-specific names unknown on x86_64, repeated arg indexes. */
static struct cell_seccomp_syscall full_rules[] = {
    {.names = NAMES("accept", "read", "write", "socketcall", "arm_fadvise64_64", "breakpoint",
		    "cacheflush", "set_tls", "s390_pci_mmio_read", "sys_debug_setcontext", "clone3",
		    "arch_prctl", "ipc"),
     .action = CELL_SCMP_ALLOW},
    {.names = NAMES("personality"),
     .action = CELL_SCMP_ALLOW,
     .args = ARGS({0, 0x0, 0, CELL_SCMP_CMP_EQ}, {0, 0x8, 0, CELL_SCMP_CMP_EQ},
		  {0, 0x20000, 0, CELL_SCMP_CMP_EQ}, {0, 0xffffffff, 0, CELL_SCMP_CMP_EQ}),
     .n_args = 4},
    {.names = NAMES("clone"),
     .action = CELL_SCMP_ALLOW,
     .args = ARGS({0, 2114060288, 0, CELL_SCMP_CMP_MASKED_EQ}),
     .n_args = 1},
    {.names = NAMES("socket"),
     .action = CELL_SCMP_ALLOW,
     .args = ARGS({0, 40, 0, CELL_SCMP_CMP_NE}, {1, 3, 0, CELL_SCMP_CMP_LT},
		  {2, 100, 0, CELL_SCMP_CMP_LE}),
     .n_args = 3},
    {.names = NAMES("mmap"),
     .action = CELL_SCMP_ALLOW,
     .args = ARGS({2, 4, 0, CELL_SCMP_CMP_GE}, {3, 1, 0, CELL_SCMP_CMP_GT}),
     .n_args = 2},
    {.names = NAMES("bpf"), .action = CELL_SCMP_ERRNO, .errno_ret_set = true, .errno_ret = 38},
    {.names = NAMES("kexec_load"), .action = CELL_SCMP_ERRNO}, /* same as the default */
    {.names = NAMES("reboot"), .action = CELL_SCMP_KILL_PROCESS},
    {.names = NAMES("swapon"), .action = CELL_SCMP_KILL_THREAD},
    {.names = NAMES("swapoff"), .action = CELL_SCMP_KILL},
    {.names = NAMES("acct"), .action = CELL_SCMP_TRAP},
    {.names = NAMES("ptrace"), .action = CELL_SCMP_TRACE, .errno_ret_set = true, .errno_ret = 1},
    {.names = NAMES("chroot"), .action = CELL_SCMP_LOG},
    {.names = NAMES("mount"), .action = CELL_SCMP_NOTIFY},
};

static char *full_archs[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL};
static char *full_flags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
			     "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL};

static void test_prepare_full_profile(void **state)
{
	struct cell_seccomp sc = {
	    .set = true,
	    .default_action = CELL_SCMP_ERRNO,
	    .architectures = full_archs,
	    .flags = full_flags,
	    .syscalls = full_rules,
	    .n_syscalls = ARRAY_SIZE(full_rules),
	};
	_cleanup_filter_ struct cell_seccomp_filter *f = NULL;
	struct cell_error e = {0};

	assert_int_equal(cell_seccomp_prepare(&sc, &f, &e), 0);
	assert_non_null(f);
	cell_seccomp_free(TAKE_PTR(f));
	sc.architectures = NAMES("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_PPC64LE",
				 "SCMP_ARCH_RISCV64", "SCMP_ARCH_MIPSEL64N32");
	assert_int_equal(cell_seccomp_prepare(&sc, &f, &e), 0);
	cell_seccomp_free(TAKE_PTR(f));
	/* big-endian: the native arch always stays, and libseccomp cannot mix them */
	sc.architectures = NAMES("SCMP_ARCH_S390X", "SCMP_ARCH_S390", "SCMP_ARCH_PPC64");
	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		assert_true(cell_seccomp_prepare(&sc, &f, &e) < 0);
		assert_null(f);
		assert_string_equal(e.msg, "linux.seccomp.architectures[0]: \"SCMP_ARCH_S390X\" "
					   "differs in endianness from the native architecture");
	}
}

static void expect_prepare_error(const struct cell_seccomp *sc, const char *want)
{
	struct cell_seccomp_filter *f = NULL;
	struct cell_error e = {0};

	assert_true(cell_seccomp_prepare(sc, &f, &e) < 0);
	assert_null(f);
	assert_string_equal(e.msg, want);
}

static void test_unknown_syscall(void **state)
{
	struct cell_seccomp_syscall rules[] = {
	    {.names = NAMES("read"), .action = CELL_SCMP_ALLOW},
	    /* the name is checked even when the rule equals the default */
	    {.names = NAMES("celltest_nosuchcall", "celltest_other"), .action = CELL_SCMP_ERRNO},
	};
	struct cell_seccomp sc = {
	    .set = true, .default_action = CELL_SCMP_ERRNO, .syscalls = rules, .n_syscalls = 2};
	struct cell_seccomp_filter *f = NULL;
	struct cell_error e = {0};

	expect_prepare_error(&sc, "linux.seccomp.syscalls[1].names[0]: unknown syscall "
				  "\"celltest_nosuchcall\"");
	/* names newer than libseccomp beside known ones are skipped (podman's profile) */
	rules[1].names[0] = "write";
	assert_int_equal(cell_seccomp_prepare(&sc, &f, &e), 0);
	cell_seccomp_free(f);
}

static void test_unknown_arch(void **state)
{
	struct cell_seccomp sc = {.set = true, .default_action = CELL_SCMP_ALLOW};

	sc.architectures = NAMES("SCMP_ARCH_X86_64", "SCMP_ARCH_FOO");
	expect_prepare_error(&sc, "linux.seccomp.architectures[1]: unknown architecture "
				  "\"SCMP_ARCH_FOO\"");
	sc.architectures = NAMES("x86_64");
	expect_prepare_error(&sc, "linux.seccomp.architectures[0]: unknown architecture "
				  "\"x86_64\"");
	sc.architectures = NAMES("SCMP_ARCH_X86_64", "SCMP_ARCH_S390X");
	expect_prepare_error(&sc, "linux.seccomp.architectures[1]: \"SCMP_ARCH_S390X\" differs in "
				  "endianness from the native architecture");
}

static void test_unknown_flag(void **state)
{
	struct cell_seccomp sc = {.set = true, .default_action = CELL_SCMP_ALLOW};

	sc.flags = NAMES("SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_FOO");
	expect_prepare_error(&sc, "linux.seccomp.flags[1]: unknown flag "
				  "\"SECCOMP_FILTER_FLAG_FOO\"");
#if SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR < 6
	sc.flags = NAMES("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
	expect_prepare_error(&sc, "linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV "
				  "is not supported by libseccomp 2.5");
#endif
}

static void test_bad_rules(void **state)
{
	struct cell_seccomp_syscall rule = {.names = NAMES("read"),
					    .action = CELL_SCMP_ERRNO,
					    .args = ARGS({6, 1, 0, CELL_SCMP_CMP_EQ}),
					    .n_args = 1};
	struct cell_seccomp sc = {
	    .set = true, .default_action = CELL_SCMP_ALLOW, .syscalls = &rule, .n_syscalls = 1};

	expect_prepare_error(&sc, "linux.seccomp.syscalls[0].args[0]: invalid index 6 or operator");
	sc = (struct cell_seccomp){.set = true, .default_action = CELL_SCMP_NOTIFY};
	expect_prepare_error(&sc, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
				  "default action");
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

/* -errno of a raw getcwd(buf, size): glibc wrappers may pick other syscalls */
static long raw_getcwd(size_t size)
{
	static char buf[0x2000];

	return syscall(SYS_getcwd, buf, size) < 0 ? -errno : 0;
}

static int child_load_errno(void *arg)
{
	struct cell_seccomp_filter *f = arg;
	struct cell_error e = {0};
	int nfd = 7;

	CHECK(cell_seccomp_load(f, &nfd, &e) == 0);
	CHECK(nfd == -1);
	CHECK(raw_getcwd(4242) == -42);
	CHECK(raw_getcwd(0x1100) == -43); /* 0x1100 & 0xff00 == 0x1100 */
	CHECK(raw_getcwd(100) == -44 && raw_getcwd(200) == -44);
	CHECK(raw_getcwd(4096) == 0);
	CHECK(syscall(SYS_mkdir, "/celltest-nonexistent/x", 0700) < 0 && errno == EPERM);
	CHECK(getpid() > 0);
	return 0;
}

static void test_load_errno_rules(void **state)
{
	struct cell_seccomp_syscall rules[] = {
	    {.names = NAMES("getcwd"),
	     .action = CELL_SCMP_ERRNO,
	     .errno_ret_set = true,
	     .errno_ret = 42,
	     .args = ARGS({1, 4242, 0, CELL_SCMP_CMP_EQ}),
	     .n_args = 1},
	    {.names = NAMES("getcwd"),
	     .action = CELL_SCMP_ERRNO,
	     .errno_ret_set = true,
	     .errno_ret = 43,
	     .args = ARGS({1, 0xff00, 0x1100, CELL_SCMP_CMP_MASKED_EQ}),
	     .n_args = 1},
	    {.names = NAMES("getcwd"),
	     .action = CELL_SCMP_ERRNO,
	     .errno_ret_set = true,
	     .errno_ret = 44,
	     .args = ARGS({1, 100, 0, CELL_SCMP_CMP_EQ}, {1, 200, 0, CELL_SCMP_CMP_EQ}),
	     .n_args = 2},
	    {.names = NAMES("mkdir"), .action = CELL_SCMP_ERRNO},
	};
	struct cell_seccomp sc = {.set = true,
				  .default_action = CELL_SCMP_ALLOW,
				  .architectures = NAMES("SCMP_ARCH_X86_64", "SCMP_ARCH_X86"),
				  .syscalls = rules,
				  .n_syscalls = ARRAY_SIZE(rules)};
	_cleanup_filter_ struct cell_seccomp_filter *f = NULL;
	struct cell_error e = {0};

	assert_int_equal(cell_seccomp_prepare(&sc, &f, &e), 0);
	assert_int_equal(run_child(child_load_errno, f), 0);
}

static int child_foreign_arch_only(void *arg)
{
	struct cell_seccomp_filter *f = arg;
	struct cell_error e = {0};
	int nfd;

	CHECK(cell_seccomp_load(f, &nfd, &e) == 0);
	CHECK(getppid() > 0); /* a native syscall: allowed, not the bad-arch action */
	return 0;
}

/* Listing architectures without the native one keeps it in the filter (runc). */
static void test_native_arch_kept(void **state)
{
	struct cell_seccomp sc = {.set = true,
				  .default_action = CELL_SCMP_ALLOW,
				  .architectures = NAMES("SCMP_ARCH_X86")};
	_cleanup_filter_ struct cell_seccomp_filter *f = NULL;
	struct cell_error e = {0};

	if (seccomp_arch_native() != SCMP_ARCH_X86_64)
		skip();
	assert_int_equal(cell_seccomp_prepare(&sc, &f, &e), 0);
	assert_int_equal(run_child(child_foreign_arch_only, f), 0);
}

/* ---- NOTIFY: the listener gets the fd and state; it answers one mkdir ---- */

struct notify_ctx {
	struct cell_seccomp_filter *f;
	const char *path;
};

static const char state_json[] = "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],"
				 "\"pid\":1,\"metadata\":\"celltest\"}";

static int child_notify(void *arg)
{
	struct notify_ctx *c = arg;
	struct cell_error e = {0};
	int nfd = -1;

	CHECK(cell_seccomp_load(c->f, &nfd, &e) == 0);
	CHECK(nfd >= 0 && (fcntl(nfd, F_GETFD) & FD_CLOEXEC));
	CHECK(cell_seccomp_send_listener(c->path, nfd, state_json, &e) == 0);
	(void)close(nfd);
	/* the listener answers -43 */
	CHECK(syscall(SYS_mkdir, "/celltest-nonexistent/x", 0700) < 0 && errno == 43);
	return 0;
}

static int listener_open(char *dir, char *path, size_t len)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int s;

	assert_non_null(mkdtemp(dir));
	snprintf(path, len, "%s/listener.sock", dir);
	assert_true(strlen(path) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(s, 1), 0);
	return s;
}

static bool wait_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 10000) == 1;
}

/* Accept the child, take its fd and state from one recvmsg. */
static int listener_receive(int lsock, char *buf, size_t len)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = len - 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b)};
	_cleanup_close_ int conn = -1;
	struct cmsghdr *c;
	ssize_t n;
	int fd;

	if (!wait_readable(lsock) || (conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return -1;
	n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	c = CMSG_FIRSTHDR(&msg);
	if (n <= 0 || !c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	buf[n] = '\0';
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static void notify_answer(int nfd, int error)
{
	struct seccomp_notif req = {0};
	struct seccomp_notif_resp resp = {0};

	assert_true(wait_readable(nfd));
	assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
	assert_int_equal(req.data.nr, SYS_mkdir);
	resp.id = req.id;
	resp.error = -error;
	assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
}

static void test_notify_listener(void **state)
{
	struct cell_seccomp_syscall rule = {.names = NAMES("mkdir"), .action = CELL_SCMP_NOTIFY};
	struct cell_seccomp sc = {
	    .set = true, .default_action = CELL_SCMP_ALLOW, .syscalls = &rule, .n_syscalls = 1};
	_cleanup_filter_ struct cell_seccomp_filter *f = NULL;
	char dir[] = "/tmp/celltest-seccomp-XXXXXX", path[128], buf[512];
	struct notify_ctx ctx = {.path = path};
	_cleanup_close_ int lsock = -1, nfd = -1;
	struct cell_error e = {0};
	uint64_t bogus_id = 0;
	int status;
	pid_t pid;

	assert_int_equal(cell_seccomp_prepare(&sc, &f, &e), 0);
	ctx.f = f;
	lsock = listener_open(dir, path, sizeof(path));
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(child_notify(&ctx));
	nfd = listener_receive(lsock, buf, sizeof(buf));
	(void)unlink(path);
	(void)rmdir(dir);
	if (nfd < 0)
		(void)kill(pid, SIGKILL);
	assert_true(nfd >= 0);
	/* containerProcessState: the fd names, the pid and the state itself */
	assert_non_null(strstr(buf, "\"fds\":[\"seccompFd\"]"));
	assert_non_null(strstr(buf, "\"state\":"));
	/* a seccomp listener knows SECCOMP_IOCTL_NOTIF_ID_VALID (ENOENT for an unknown id) */
	assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &bogus_id), -1);
	assert_int_equal(errno, ENOENT);
	notify_answer(nfd, 43);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_send_listener_errors(void **state)
{
	struct cell_error e = {0};

	assert_int_equal(
	    cell_seccomp_send_listener("/tmp/celltest-no-such-dir/l.sock", 0, "{}", &e), -ENOENT);
	assert_string_equal(e.msg, "failed to connect with seccomp agent specified in the seccomp "
				   "profile: connect to /tmp/celltest-no-such-dir/l.sock");
}

/* A filter that refuses execve is refused before anything loads it, naming the field;
 * one that allows it passes.  Both through libseccomp's ctx and a cached program. */
static void expect_exec_check(struct cell_seccomp *sc, int want, const char *field)
{
	char dir[] = "/tmp/cell-seccomp-eval-XXXXXX";
	struct cell_error e = {0};

	assert_non_null(mkdtemp(dir));
	for (int cached = 0; cached < 2; cached++) {
		_cleanup_filter_ struct cell_seccomp_filter *f = NULL;
		assert_int_equal(cell_seccomp_prepare_cached(sc, "eval-test", cached ? dir : NULL,
							     &f, &e), 0);
		memset(&e, 0, sizeof(e));
		assert_int_equal(cell_seccomp_check_exec(sc, f, &e), want);
		if (field)
			assert_non_null(strstr(e.msg, field));
	}
	_cleanup_free_ char *rm = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
}

static void test_check_exec(void **state)
{
	struct cell_seccomp_syscall allow_exec[] = {
	    {.names = NAMES("mkdir"), .action = CELL_SCMP_ALLOW},
	    {.names = NAMES("execve", "exit_group"), .action = CELL_SCMP_ALLOW},
	};
	struct cell_seccomp_syscall deny_exec[] = {
	    {.names = NAMES("mkdir"), .action = CELL_SCMP_ERRNO},
	    {.names = NAMES("execve"), .action = CELL_SCMP_ERRNO, .errno_ret_set = true,
	     .errno_ret = EACCES},
	};
	struct cell_seccomp sc = {.set = true, .default_action = CELL_SCMP_ERRNO};

	expect_exec_check(&sc, -EPERM, "linux.seccomp.defaultAction: the filter refuses execve");
	sc.syscalls = allow_exec;
	sc.n_syscalls = ARRAY_SIZE(allow_exec);
	expect_exec_check(&sc, 0, NULL);
	sc.default_action = CELL_SCMP_KILL_PROCESS;
	expect_exec_check(&sc, 0, NULL);
	sc.n_syscalls = 1;
	expect_exec_check(&sc, -EINVAL, "linux.seccomp.defaultAction: the filter kills");
	sc.default_action = CELL_SCMP_ALLOW;
	sc.syscalls = deny_exec;
	sc.n_syscalls = ARRAY_SIZE(deny_exec);
	expect_exec_check(&sc, -EACCES, "linux.seccomp.syscalls[1]: the filter refuses execve");
	sc.n_syscalls = 1;
	expect_exec_check(&sc, 0, NULL);
}

/* The interpreter takes only what seccomp would load. */
static void test_bpf_run_malformed(void **state)
{
	struct seccomp_data d = {.nr = 1};
	struct sock_filter no_ret[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0)};
	struct sock_filter odd_load[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2),
					 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	struct sock_filter past_end[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64),
					 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	struct sock_filter ok[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
				   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
				   BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 5),
				   BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	uint32_t ret = 0;

	assert_int_equal(cell_seccomp_bpf_run(no_ret, 1, &d, &ret), -EINVAL);
	assert_int_equal(cell_seccomp_bpf_run(odd_load, 2, &d, &ret), -EINVAL);
	assert_int_equal(cell_seccomp_bpf_run(past_end, 2, &d, &ret), -EINVAL);
	assert_int_equal(cell_seccomp_bpf_run(ok, 4, &d, &ret), 0);
	assert_int_equal(ret, SECCOMP_RET_ERRNO | 5);
	d.nr = 2;
	assert_int_equal(cell_seccomp_bpf_run(ok, 4, &d, &ret), 0);
	assert_int_equal(ret, SECCOMP_RET_ALLOW);
}

/* ---- the -ENOSYS stub, run through the interpreter in front of a filter
 * that answers EPERM for everything ---- */

#define RET_EPERM (SECCOMP_RET_ERRNO | EPERM)
#define RET_ENOSYS (SECCOMP_RET_ERRNO | ENOSYS)
#define X32_BIT 0x40000000U

static uint32_t stub_verdict(const struct cell_seccomp_enosys_arch *arches, size_t n,
			     uint32_t arch, uint32_t nr)
{
	struct sock_filter prog[CELL_SECCOMP_ENOSYS_STUB_MAX + 1];
	struct seccomp_data d = {.nr = (int)nr, .arch = arch};
	size_t len = cell_seccomp_enosys_stub(arches, n, prog);
	uint32_t ret = 0;

	assert_true(len <= CELL_SECCOMP_ENOSYS_STUB_MAX);
	prog[len] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, RET_EPERM);
	assert_int_equal(cell_seccomp_bpf_run(prog, len + 1, &d, &ret), 0);
	return ret;
}

static void test_enosys_stub(void **state)
{
	const struct cell_seccomp_enosys_arch arches[] = {
	    {.audit = AUDIT_ARCH_X86_64, .max = 300, .max_x32 = X32_BIT | 400},
	    {.audit = AUDIT_ARCH_I386, .max = 200},
	    {.audit = AUDIT_ARCH_AARCH64}, /* names nothing there: no section */
	    {.audit = AUDIT_ARCH_S390X, .max = 100},
	};
	size_t n = ARRAY_SIZE(arches);

	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_X86_64, 0), RET_EPERM);
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_X86_64, 300), RET_EPERM);
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_X86_64, 301), RET_ENOSYS);
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_X86_64, 1000), RET_ENOSYS);
	/* x32 against its own maximum (a number above 300 but below 400 stays) */
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_X86_64, X32_BIT | 350), RET_EPERM);
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_X86_64, X32_BIT | 400), RET_EPERM);
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_X86_64, X32_BIT | 401), RET_ENOSYS);
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_I386, 200), RET_EPERM);
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_I386, 201), RET_ENOSYS);
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_AARCH64, 5000), RET_EPERM);
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_ARM, 5000), RET_EPERM);
	/* s390x: 0 is what an unknown number becomes */
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_S390X, 0), RET_ENOSYS);
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_S390X, 100), RET_EPERM);
	assert_int_equal(stub_verdict(arches, n, AUDIT_ARCH_S390X, 101), RET_ENOSYS);
}

/* An x86_64 without x32 in the filter leaves x32 numbers to the filter, and
 * the other way round; a stub naming nothing is empty. */
static void test_enosys_stub_x32_modes(void **state)
{
	const struct cell_seccomp_enosys_arch native[] = {{.audit = AUDIT_ARCH_X86_64, .max = 300}};
	const struct cell_seccomp_enosys_arch x32[] = {
	    {.audit = AUDIT_ARCH_X86_64, .max_x32 = X32_BIT | 400}};
	const struct cell_seccomp_enosys_arch none[] = {{.audit = AUDIT_ARCH_X86_64}};
	struct sock_filter prog[CELL_SECCOMP_ENOSYS_STUB_MAX];

	assert_int_equal(stub_verdict(native, 1, AUDIT_ARCH_X86_64, 301), RET_ENOSYS);
	assert_int_equal(stub_verdict(native, 1, AUDIT_ARCH_X86_64, X32_BIT | 5000), RET_EPERM);
	assert_int_equal(stub_verdict(x32, 1, AUDIT_ARCH_X86_64, 5000), RET_EPERM);
	assert_int_equal(stub_verdict(x32, 1, AUDIT_ARCH_X86_64, X32_BIT | 400), RET_EPERM);
	assert_int_equal(stub_verdict(x32, 1, AUDIT_ARCH_X86_64, X32_BIT | 401), RET_ENOSYS);
	assert_int_equal(cell_seccomp_enosys_stub(none, 1, prog), 0);
	assert_int_equal(cell_seccomp_enosys_stub(NULL, 0, prog), 0);
}

static uint32_t profile_verdict(const struct cell_seccomp *sc, int nr)
{
	_cleanup_filter_ struct cell_seccomp_filter *f = NULL;
	struct cell_error e = {0};
	uint32_t ret = 0;

	assert_int_equal(cell_seccomp_prepare(sc, &f, &e), 0);
	assert_int_equal(cell_seccomp_verdict(f, nr, &ret, &e), 0);
	return ret;
}

/* The compiled profile carries the stub for a refusing default only (runc). */
static void test_enosys_default_actions(void **state)
{
	struct cell_seccomp_syscall rules[] = {
	    {.names = NAMES("read", "getcpu"), .action = CELL_SCMP_ALLOW},
	    {.names = NAMES("write"), .action = CELL_SCMP_ERRNO, .errno_ret_set = true,
	     .errno_ret = 13},
	};
	struct cell_seccomp sc = {.set = true,
				  .default_action = CELL_SCMP_ERRNO,
				  .architectures = NAMES("SCMP_ARCH_X86_64", "SCMP_ARCH_X32"),
				  .syscalls = rules,
				  .n_syscalls = ARRAY_SIZE(rules)};
	int getcpu = seccomp_syscall_resolve_name("getcpu");

	assert_int_equal(profile_verdict(&sc, getcpu), SECCOMP_RET_ALLOW);
	assert_int_equal(profile_verdict(&sc, getcpu + 1), RET_ENOSYS);
	assert_int_equal(profile_verdict(&sc, 1000), RET_ENOSYS);
	assert_int_equal(profile_verdict(&sc, SYS_write), SECCOMP_RET_ERRNO | 13);
	assert_int_equal(profile_verdict(&sc, SYS_mkdir), RET_EPERM);
	sc.default_action = CELL_SCMP_KILL_PROCESS;
	assert_int_equal(profile_verdict(&sc, 1000), RET_ENOSYS);
	assert_int_equal(profile_verdict(&sc, SYS_mkdir), SECCOMP_RET_KILL_PROCESS);
	sc.default_action = CELL_SCMP_TRAP;
	assert_int_equal(profile_verdict(&sc, 1000), RET_ENOSYS);
	sc.default_action = CELL_SCMP_ALLOW;
	assert_int_equal(profile_verdict(&sc, 1000), SECCOMP_RET_ALLOW);
	sc.default_action = CELL_SCMP_LOG;
	assert_int_equal(profile_verdict(&sc, 1000), SECCOMP_RET_LOG);
	sc.default_action = CELL_SCMP_TRACE;
	assert_int_equal(profile_verdict(&sc, 1000), SECCOMP_RET_TRACE | EPERM);
}

static int child_load_enosys(void *arg)
{
	struct cell_seccomp_filter *f = arg;
	struct cell_error e = {0};
	int nfd = 7;

	CHECK(cell_seccomp_load(f, &nfd, &e) == 0);
	CHECK(nfd == -1);
	CHECK(syscall(1000) < 0 && errno == ENOSYS);
	CHECK(syscall(SYS_mkdir, "/celltest-nonexistent/x", 0700) < 0 && errno == EACCES);
	CHECK(getpid() > 0);
	return 0;
}

/* Every native syscall libseccomp knows, mkdir excepted (names[] of 600). */
static void all_but_mkdir(char **names, size_t room)
{
	size_t n = 0;

	for (int nr = 0; nr < 600 && n + 1 < room; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (name && nr != SYS_mkdir)
			names[n++] = name;
		else
			free(name);
	}
	names[n] = NULL;
}

/* Loaded through seccomp(2) with a filter flag, the stub is in the kernel too. */
static void test_enosys_loaded(void **state)
{
	static char *names[600];
	struct cell_seccomp_syscall rules[] = {{.names = names, .action = CELL_SCMP_ALLOW}};
	struct cell_seccomp sc = {.set = true,
				  .default_action = CELL_SCMP_ERRNO,
				  .default_errno_ret_set = true,
				  .default_errno_ret = EACCES,
				  .flags = NAMES("SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
				  .syscalls = rules,
				  .n_syscalls = ARRAY_SIZE(rules)};
	struct cell_seccomp_filter *f = NULL;
	struct cell_error e = {0};
	int r;

	all_but_mkdir(names, ARRAY_SIZE(names));
	r = cell_seccomp_prepare(&sc, &f, &e);
	if (r == 0)
		r = run_child(child_load_enosys, f);
	cell_seccomp_free(f);
	for (size_t i = 0; names[i]; i++)
		free(names[i]);
	assert_int_equal(r, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prepare_full_profile),
	    cmocka_unit_test(test_unknown_syscall),
	    cmocka_unit_test(test_unknown_arch),
	    cmocka_unit_test(test_unknown_flag),
	    cmocka_unit_test(test_bad_rules),
	    cmocka_unit_test(test_load_errno_rules),
	    cmocka_unit_test(test_native_arch_kept),
	    cmocka_unit_test(test_notify_listener),
	    cmocka_unit_test(test_send_listener_errors),
	    cmocka_unit_test(test_check_exec),
	    cmocka_unit_test(test_bpf_run_malformed),
	    cmocka_unit_test(test_enosys_stub),
	    cmocka_unit_test(test_enosys_stub_x32_modes),
	    cmocka_unit_test(test_enosys_default_actions),
	    cmocka_unit_test(test_enosys_loaded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
