/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Process attributes: the pure parsers directly; everything that changes
 * process state only in forked children that exit (the host is never
 * touched: sysctls are written only inside a new network namespace).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/linux/identity.h"

#define SKIPPED 77

/* A failed check in a child names its line and ends the child. */
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__, __LINE__,     \
				#c);                                                               \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

#define CHECK_MSG(e, want) CHECK(msg_is(e, want))

static bool msg_is(const struct cell_error *e, const char *want)
{
	char buf[CELL_ERROR_MSG + 64];

	cell_err_text(e, buf, sizeof(buf));
	if (streq(buf, want))
		return true;
	fprintf(stderr, "got  \"%s\"\nwant \"%s\"\n", buf, want);
	return false;
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

static void expect_child_ok(int (*fn)(void *), void *arg)
{
	int r = run_child(fn, arg);

	if (r == SKIPPED)
		skip();
	assert_int_equal(r, 0);
}

/* A hex field of /proc/self/status ("CapEff"); UINT64_MAX when missing. */
static uint64_t status_hex(const char *field)
{
	_cleanup_free_ char *s = NULL;
	char key[32];
	const char *p;

	if (cell_read_file("/proc/self/status", &s, NULL) < 0)
		return UINT64_MAX;
	snprintf(key, sizeof(key), "\n%s:", field);
	p = strstr(s, key);
	return p ? strtoull(p + strlen(key), NULL, 16) : UINT64_MAX;
}

#define BIT(c) (UINT64_C(1) << (c))

/* ---- cpu lists ---- */

static void test_cpulist_valid(void **state)
{
	cpu_set_t set;

	assert_int_equal(cell_cpulist_parse("0-3,7", &set), 0);
	assert_int_equal(CPU_COUNT(&set), 5);
	for (int c = 0; c < 4; c++)
		assert_true(CPU_ISSET(c, &set));
	assert_true(CPU_ISSET(7, &set));
	assert_int_equal(cell_cpulist_parse("5", &set), 0);
	assert_int_equal(CPU_COUNT(&set), 1);
	assert_true(CPU_ISSET(5, &set));
	assert_int_equal(cell_cpulist_parse("2-2,2,1023", &set), 0);
	assert_int_equal(CPU_COUNT(&set), 2);
	assert_true(CPU_ISSET(1023, &set));
}

static void test_cpulist_invalid(void **state)
{
	static const char *const bad[] = {
	    "",	  ",",	"1,", ",1",  "1,,2", "3-1",   "1-",    "-1",  "a",
	    "1 ", " 1", "+1", "1:2", "1--2", "0-3:2", "1-2-3", "0x1", "1\n",
	};
	static const char *const too_big[] = {"1024", "0-1024", "99999999999999999999999"};
	cpu_set_t set, untouched;

	CPU_ZERO(&set);
	CPU_SET(9, &set);
	untouched = set;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (cell_cpulist_parse(bad[i], &set) != -EINVAL)
			fail_msg("\"%s\" was not refused with EINVAL", bad[i]);
		assert_true(CPU_EQUAL(&set, &untouched));
	}
	for (size_t i = 0; i < ARRAY_SIZE(too_big); i++)
		assert_int_equal(cell_cpulist_parse(too_big[i], &set), -ERANGE);
	assert_int_equal(cell_cpulist_parse(NULL, &set), -EINVAL);
}

/* ---- sysctl ---- */

static void test_sysctl_path(void **state)
{
	static const char *const map[][2] = {
	    {"net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward"},
	    {"kernel.shmmax", "/proc/sys/kernel/shmmax"},
	    {"fs.mqueue.queues_max", "/proc/sys/fs/mqueue/queues_max"},
	    {"net/ipv4/conf/eth0.100/forwarding", "/proc/sys/net/ipv4/conf/eth0.100/forwarding"},
	    {"kernel/msgmax", "/proc/sys/kernel/msgmax"},
	};
	char buf[256];

	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		assert_int_equal(cell_sysctl_path(map[i][0], buf, sizeof(buf)), 0);
		assert_string_equal(buf, map[i][1]);
	}
	assert_int_equal(cell_sysctl_path("net.ipv4.ip_forward", buf, 20), -ENAMETOOLONG);
}

static void test_sysctl_path_refused(void **state)
{
	static const char *const bad[] = {
	    "",		 ".",		"..",	     "net..ipv4",
	    ".net",	 "net.",	"../etc/x",  "net/../kernel/x",
	    "/net/ipv4", "net/./ipv4",	"net/ipv4/", "net//ipv4",
	    "kernel/..", "a/../../etc",
	};
	char buf[256] = "untouched";

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (cell_sysctl_path(bad[i], buf, sizeof(buf)) != -EINVAL)
			fail_msg("sysctl key \"%s\" was not refused", bad[i]);
}

static bool file_is(const char *path, const char *want)
{
	_cleanup_free_ char *s = NULL;

	return cell_read_file(path, &s, NULL) == 0 && streq(s, want);
}

/* Only after unshare(CLONE_NEWNET): /proc/sys/net then shows the new namespace. */
static int child_sysctl(void *arg)
{
	struct cell_kv ok[] = {{"net.ipv4.ip_forward", "1"}, {"net/ipv4/conf/lo/forwarding", "1"}};
	struct cell_kv missing = {"net.ipv4.celltest_nope", "1"};
	struct cell_kv dotdot = {"net/../kernel/hostname", "x"};
	struct cell_error e = {0};

	if (unshare(CLONE_NEWNET) < 0)
		return SKIPPED;
	CHECK(cell_sysctl_apply(ok, ARRAY_SIZE(ok), &e) == 0);
	CHECK(file_is("/proc/sys/net/ipv4/ip_forward", "1\n"));
	CHECK(file_is("/proc/sys/net/ipv4/conf/lo/forwarding", "1\n"));
	CHECK(cell_sysctl_apply(&missing, 1, &e) == -ENOENT);
	CHECK_MSG(&e, "linux.sysctl \"net.ipv4.celltest_nope\": open "
		      "/proc/sys/net/ipv4/celltest_nope: No such file or directory");
	CHECK(cell_sysctl_apply(&dotdot, 1, &e) == -EINVAL);
	CHECK_MSG(&e, "linux.sysctl \"net/../kernel/hostname\": invalid key");
	return 0;
}

static void test_sysctl_apply_in_netns(void **state)
{
	_cleanup_free_ char *before = NULL, *after = NULL;

	assert_int_equal(cell_read_file("/proc/sys/net/ipv4/ip_forward", &before, NULL), 0);
	expect_child_ok(child_sysctl, NULL);
	assert_int_equal(cell_read_file("/proc/sys/net/ipv4/ip_forward", &after, NULL), 0);
	assert_string_equal(before, after); /* the host's value did not move */
}

/* ---- process attributes ---- */

static int child_rlimit_error(void *arg)
{
	struct cell_rlimit l = {RLIMIT_NOFILE, "RLIMIT_NOFILE", 4096, 1};
	struct cell_process p = {.rlimits = &l, .n_rlimits = 1};
	struct cell_error e = {0};

	CHECK(cell_process_attrs_apply(&p, &e) == -EINVAL);
	CHECK_MSG(&e, "setrlimit RLIMIT_NOFILE 4096:1: Invalid argument");
	l = (struct cell_rlimit){RLIMIT_CORE, "RLIMIT_CORE", RLIM_INFINITY, 0};
	CHECK(cell_process_attrs_apply(&p, &e) < 0);
	CHECK_MSG(&e, "setrlimit RLIMIT_CORE unlimited:0: Invalid argument");
	return 0;
}

static void test_rlimit_error(void **state)
{
	expect_child_ok(child_rlimit_error, NULL);
}

static int child_attrs(void *arg)
{
	struct cell_rlimit l = {RLIMIT_NOFILE, "RLIMIT_NOFILE", 512, 1024};
	struct cell_process p = {
	    .user = {.umask_set = true, .umask = 027},
	    .rlimits = &l,
	    .n_rlimits = 1,
	    .scheduler = {.set = true, .policy = SCHED_BATCH, .nice = 3},
	    .io_priority = {.set = true, .klass = IOPRIO_CLASS_BE, .priority = 5},
	    .exec_cpu_affinity_initial = "0",
	};
	struct cell_error e = {0};
	struct rlimit rl;
	cpu_set_t set;

	CHECK(cell_process_attrs_apply(&p, &e) == 0);
	CHECK(umask(0) == 027);
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == 512 && rl.rlim_max == 1024);
	CHECK(sched_getscheduler(0) == SCHED_BATCH);
	CHECK(getpriority(PRIO_PROCESS, 0) == 3);
	CHECK(syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0) ==
	      IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 5));
	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
	CHECK(CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set));
	return 0;
}

static void test_attrs_apply(void **state)
{
	expect_child_ok(child_attrs, NULL);
}

static int child_umask_default(void *arg)
{
	struct cell_process p = {0};
	struct cell_error e = {0};

	(void)umask(0777);
	CHECK(cell_process_attrs_apply(&p, &e) == 0);
	CHECK(umask(0) == 0022);
	p.exec_cpu_affinity_initial = "0-";
	CHECK(cell_process_attrs_apply(&p, &e) == -EINVAL);
	CHECK_MSG(&e, "execCPUAffinity.initial \"0-\": invalid cpu list");
	return 0;
}

static void test_umask_default_and_bad_affinity(void **state)
{
	expect_child_ok(child_umask_default, NULL);
}

static int child_no_new_privs(void *arg)
{
	struct cell_process p = {0};
	struct cell_error e = {0};

	CHECK(cell_no_new_privs_apply(&p, &e) == 0);
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0);
	p.no_new_privileges = true;
	CHECK(cell_no_new_privs_apply(&p, &e) == 0);
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	return 0;
}

static void test_no_new_privs(void **state)
{
	expect_child_ok(child_no_new_privs, NULL);
}

static int child_personality(void *arg)
{
	char *flags[] = {"ADDR_NO_RANDOMIZE", NULL};
	struct cell_personality p = {.set = true, .domain = PER_LINUX32};
	struct cell_error e = {0};

	CHECK(cell_personality_apply(&p, &e) == 0);
	CHECK((personality(0xffffffff) & PER_MASK) == PER_LINUX32);
	p.flags = flags;
	CHECK(cell_personality_apply(&p, &e) == -EINVAL);
	CHECK_MSG(&e, "linux.personality.flags[0]: unknown flag \"ADDR_NO_RANDOMIZE\"");
	p = (struct cell_personality){.set = true, .domain = PER_BSD};
	CHECK(cell_personality_apply(&p, &e) == -ENOTSUP);
	CHECK_MSG(&e, "linux.personality.domain 0x6: unsupported");
	return 0;
}

static void test_personality(void **state)
{
	expect_child_ok(child_personality, NULL);
}

/* oom_score_adj and the final affinity are applied by the parent on a pid. */
static void test_oom_score_and_final_affinity(void **state)
{
	struct cell_process p = {
	    .oom_score_adj_set = true, .oom_score_adj = 300, .exec_cpu_affinity_final = "0"};
	struct cell_error e = {0};
	char path[64];
	cpu_set_t set;
	int fds[2], status;
	pid_t pid;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	if (pid == 0) {
		char c;
		(void)close(fds[1]);
		_exit(read(fds[0], &c, 1) == 0 ? 0 : 1); /* wait for the parent's close */
	}
	(void)close(fds[0]);
	assert_int_equal(cell_process_oom_score_apply(pid, &p, &e), 0);
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	assert_true(file_is(path, "300\n"));
	assert_int_equal(cell_process_final_affinity_apply(pid, &p, &e), 0);
	assert_int_equal(sched_getaffinity(pid, sizeof(set), &set), 0);
	assert_true(CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set));
	(void)close(fds[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- identity ---- */

static int child_identity(void *arg)
{
	uint32_t gids[] = {2000, 2001};
	const uint64_t keep = BIT(CAP_CHOWN) | BIT(CAP_NET_BIND_SERVICE);
	struct cell_process p = {
	    .user = {.uid = 1000, .gid = 1000, .additional_gids = gids, .n_additional_gids = 2},
	    .caps = {.set = true,
		     .bounding = keep | BIT(CAP_SETUID),
		     .effective = keep,
		     .permitted = keep,
		     .inheritable = keep,
		     .ambient = BIT(CAP_NET_BIND_SERVICE)},
	};
	struct cell_error e = {0};
	uid_t r, u, s;
	gid_t gr, gu, gs, groups[8];

	CHECK(cell_identity_apply(&p, true, &e) == 0);
	CHECK(getresuid(&r, &u, &s) == 0 && r == 1000 && u == 1000 && s == 1000);
	CHECK(getresgid(&gr, &gu, &gs) == 0 && gr == 1000 && gu == 1000 && gs == 1000);
	CHECK(getgroups(8, groups) == 2 && groups[0] == 2000 && groups[1] == 2001);
	CHECK(status_hex("CapBnd") == (keep | BIT(CAP_SETUID)));
	CHECK(status_hex("CapPrm") == keep);
	CHECK(status_hex("CapEff") == keep);
	CHECK(status_hex("CapInh") == keep);
	CHECK(status_hex("CapAmb") == BIT(CAP_NET_BIND_SERVICE));
	CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0);
	return 0;
}

static void test_identity_apply(void **state)
{
	expect_child_ok(child_identity, NULL);
}

static int child_ambient_error(void *arg)
{
	const uint64_t keep = BIT(CAP_CHOWN) | BIT(CAP_NET_RAW);
	struct cell_process p = {
	    .user = {.uid = 1000, .gid = 1000},
	    .caps = {.set = true,
		     .bounding = keep,
		     .effective = keep,
		     .permitted = keep,
		     .inheritable = BIT(CAP_CHOWN),
		     .ambient = BIT(CAP_NET_RAW)},
	};
	struct cell_error e = {0};

	/* skipped like runc and crun do: the process runs without it */
	CHECK(cell_identity_apply(&p, false, &e) == 0);
	CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0) == 0);
	return 0;
}

static void test_identity_ambient_error(void **state)
{
	expect_child_ok(child_ambient_error, NULL);
}

static int child_setresuid_error(void *arg)
{
	struct cell_process p = {.user = {.uid = 2000, .gid = 1000}};
	struct cell_error e = {0};

	CHECK(setresgid(1000, 1000, 1000) == 0 && setresuid(1000, 1000, 1000) == 0);
	CHECK(cell_identity_apply(&p, false, &e) == -EPERM);
	CHECK_MSG(&e, "setresuid 2000: Operation not permitted");
	return 0;
}

static void test_identity_setresuid_error(void **state)
{
	expect_child_ok(child_setresuid_error, NULL);
}

static int child_capset_error(void *arg)
{
	struct cell_process p = {
	    .user = {.uid = 1000, .gid = 1000},
	    .caps = {.set = true, .bounding = BIT(CAP_CHOWN), .permitted = BIT(CAP_KILL)},
	};
	const cap_value_t kill_cap = CAP_KILL;
	struct cell_error e = {0};
	cap_t c = cap_get_proc();

	/* the runtime itself lacks CAP_KILL: the capset must be refused */
	CHECK(c && cap_set_flag(c, CAP_PERMITTED, 1, &kill_cap, CAP_CLEAR) == 0);
	CHECK(cap_set_flag(c, CAP_EFFECTIVE, 1, &kill_cap, CAP_CLEAR) == 0);
	CHECK(cap_set_proc(c) == 0 && cap_free(c) == 0);
	CHECK(cell_identity_apply(&p, false, &e) == -EPERM);
	CHECK_MSG(&e, "capset: CAP_KILL is not in the runtime's permitted set: "
		      "Operation not permitted");
	return 0;
}

static void test_identity_capset_error(void **state)
{
	expect_child_ok(child_capset_error, NULL);
}

/* Without process.capabilities: root keeps its sets, others get none. */
static int child_caps_unset(void *arg)
{
	struct cell_process p = {0};
	struct cell_error e = {0};
	uint64_t eff = status_hex("CapEff"), bnd = status_hex("CapBnd");

	CHECK(cell_identity_apply(&p, true, &e) == 0);
	CHECK(status_hex("CapEff") == eff && status_hex("CapBnd") == bnd);
	CHECK(getgroups(0, NULL) == 0);
	p.user = (struct cell_user){.uid = 1000, .gid = 1000};
	CHECK(cell_identity_apply(&p, true, &e) == 0);
	CHECK(status_hex("CapEff") == 0 && status_hex("CapPrm") == 0);
	CHECK(status_hex("CapInh") == 0 && status_hex("CapAmb") == 0);
	CHECK(status_hex("CapBnd") == bnd);
	return 0;
}

static void test_identity_caps_unset(void **state)
{
	expect_child_ok(child_caps_unset, NULL);
}

/* ---- LSM (only the "not enabled" answers: applying a label needs the LSM) ---- */

static void test_lsm_not_enabled(void **state)
{
	struct cell_process p = {.apparmor_profile = "x"};
	struct cell_error e = {0};

	if (access("/sys/fs/selinux", F_OK) == 0 ||
	    access("/sys/module/apparmor/parameters/enabled", F_OK) == 0 ||
	    access("/sys/kernel/security/lsm", F_OK) == 0)
		skip();
	assert_int_equal(cell_lsm_apply(&p, &e), -ENOTSUP);
	assert_string_equal(e.msg, "apparmorProfile \"x\": AppArmor is not enabled on this host");
	p = (struct cell_process){.selinux_label = "system_u:system_r:container_t:s0"};
	assert_int_equal(cell_lsm_apply(&p, &e), -ENOTSUP);
	assert_string_equal(e.msg, "selinuxLabel \"system_u:system_r:container_t:s0\": SELinux "
				   "is not enabled on this host");
	assert_int_equal(cell_lsm_mount_label_check("system_u:object_r:container_file_t:s0", &e),
			 -ENOTSUP);
	assert_true(cell_startswith(e.msg, "linux.mountLabel \"system_u:"));
	p = (struct cell_process){0};
	assert_int_equal(cell_lsm_apply(&p, &e), 0);
	assert_int_equal(cell_lsm_mount_label_check(NULL, &e), 0);
	assert_int_equal(cell_lsm_mount_label_check("", &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cpulist_valid),
	    cmocka_unit_test(test_cpulist_invalid),
	    cmocka_unit_test(test_sysctl_path),
	    cmocka_unit_test(test_sysctl_path_refused),
	    cmocka_unit_test(test_sysctl_apply_in_netns),
	    cmocka_unit_test(test_rlimit_error),
	    cmocka_unit_test(test_attrs_apply),
	    cmocka_unit_test(test_umask_default_and_bad_affinity),
	    cmocka_unit_test(test_no_new_privs),
	    cmocka_unit_test(test_personality),
	    cmocka_unit_test(test_oom_score_and_final_affinity),
	    cmocka_unit_test(test_identity_apply),
	    cmocka_unit_test(test_identity_ambient_error),
	    cmocka_unit_test(test_identity_setresuid_error),
	    cmocka_unit_test(test_identity_capset_error),
	    cmocka_unit_test(test_identity_caps_unset),
	    cmocka_unit_test(test_lsm_not_enabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
