/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cgroup manager on the real kernel (v1, v2 or hybrid, whatever the host has).
 * Runs only as root, otherwise every test is skipped.  It works only below
 * "/celltest-<pid>" in each hierarchy, which it creates and always removes (teardown
 * runs on failure too), and signals only the children it forked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/cgroup/cgroup-internal.h"
#include "libcell/sys/syscalls.h"

#define MIB (1024LL * 1024LL)

struct host {
	char parent[64]; /* "/celltest-<pid>" */
	char path[80];	 /* "/celltest-<pid>/c1" */
	struct cell_cgroup_opts o;
	struct cell_cgroup *cg;
	pid_t child;
	int go[2];   /* parent -> child: "you are in the cgroup now" */
	char **dirs; /* host dirs of the container's cgroup, for the final check */
};

static int host_setup(void **state)
{
	struct host *h = xzalloc(sizeof(*h));
	enum cell_cgroup_mode mode;
	struct cell_error err = {0};

	h->child = -1;
	h->go[0] = h->go[1] = -1;
	*state = h;
	if (geteuid() != 0 || cell_cgroup_detect("/sys/fs/cgroup", &mode, &err) < 0)
		return 0; /* each test skips */
	(void)snprintf(h->parent, sizeof(h->parent), "/celltest-%d", (int)getpid());
	(void)snprintf(h->path, sizeof(h->path), "%s/c1", h->parent);
	h->o = (struct cell_cgroup_opts){
	    .fs_root = "/sys/fs/cgroup", .self_cgroup_file = "/proc/self/cgroup", .id = "celltest"};
	return pipe2(h->go, O_CLOEXEC);
}

static void remove_parent(struct host *h)
{
	struct cell_cgroup *p = NULL;
	struct cell_error err = {0};

	if (cell_cgroup_open(&h->o, h->parent, &p, &err) == 0)
		(void)cell_cgroup_destroy(p, &err);
	cell_cgroup_free(p);
}

static int host_teardown(void **state)
{
	struct host *h = *state;
	struct cell_error err = {0};

	if (h->child > 0) {
		(void)kill(h->child, SIGKILL);
		if (h->cg)
			(void)cell_cgroup_freeze(h->cg, false, &err);
		(void)waitpid(h->child, NULL, 0);
	}
	if (h->cg)
		(void)cell_cgroup_destroy(h->cg, &err);
	cell_cgroup_free(h->cg);
	if (h->parent[0])
		remove_parent(h);
	if (h->go[0] >= 0)
		(void)close(h->go[0]);
	if (h->go[1] >= 0)
		(void)close(h->go[1]);
	cell_strv_free(h->dirs);
	free(h);
	return 0;
}

static void skip_unless_root(struct host *h)
{
	if (!h->parent[0])
		skip();
}

#define check(call)                                                                                \
	do {                                                                                       \
		struct cell_error e_ = {0};                                                        \
		if ((call(&e_)) < 0)                                                               \
			fail_msg("%s: %s (%s)", #call, e_.msg, strerror(e_.code));                 \
	} while (0)

/* The child waits for the go byte, then runs fn and exits with its result. */
static void fork_child(struct host *h, int (*fn)(void))
{
	char c;

	h->child = fork();
	assert_true(h->child >= 0);
	if (h->child > 0)
		return;
	_exit(read(h->go[0], &c, 1) == 1 && fn ? fn() : 0);
}

static int child_wait(void)
{
	pause();
	return 0;
}

static void release_child(struct host *h)
{
	assert_int_equal(write(h->go[1], "g", 1), 1);
}

/* ---- checks on the kernel's view ---- */

static char *mount_dir(struct host *h, const char *controller, bool *v2)
{
	struct cgroup_hier *hi = cgroup_hier_for(h->cg, controller);

	assert_non_null(hi);
	*v2 = hi->v2;
	return hi->dir;
}

static void assert_cg_file(struct host *h, const char *controller, const char *v1_file,
			   const char *v2_file, const char *v1_want, const char *v2_want)
{
	bool v2 = false;
	const char *dir = mount_dir(h, controller, &v2);
	_cleanup_free_ char *got = NULL;

	assert_int_equal(cg_read_at(dir, v2 ? v2_file : v1_file, &got), 0);
	assert_string_equal(got, v2 ? v2_want : v1_want);
}

/* How many lines of /proc/<child>/cgroup name our path. */
static size_t child_placed(struct host *h)
{
	_cleanup_free_ char *p = xasprintf("/proc/%d/cgroup", (int)h->child), *text = NULL;
	_cleanup_strv_free_ char **lines = NULL;
	size_t ours = 0;

	assert_int_equal(cell_read_file(p, &text, NULL), 0);
	lines = cg_split(text, '\n');
	for (size_t i = 0; lines[i]; i++) {
		const char *c = strrchr(lines[i], ':');
		ours += c && streq(c + 1, h->path);
	}
	return ours;
}

/* /proc/<pid>/cgroup names our path in every hierarchy the pid was moved into. */
static void assert_child_placed(struct host *h)
{
	assert_int_equal(child_placed(h), h->cg->n_h);
}

static void remember_dirs(struct host *h)
{
	for (size_t i = 0; i < h->cg->n_h; i++)
		cell_strv_push(&h->dirs, xstrdup(h->cg->h[i].dir));
}

static void assert_nothing_left(struct host *h)
{
	for (size_t i = 0; h->dirs && h->dirs[i]; i++) {
		char *slash = strrchr(h->dirs[i], '/');
		assert_int_equal(access(h->dirs[i], F_OK), -1);
		*slash = '\0'; /* the celltest-<pid> parent */
		assert_int_equal(access(h->dirs[i], F_OK), -1);
	}
}

static void create(struct host *h)
{
	struct cell_error err = {0};

	if (cell_cgroup_create(&h->o, h->path, &h->cg, &err) < 0)
		fail_msg("create %s: %s (%s)", h->path, err.msg, strerror(err.code));
	assert_string_equal(cell_cgroup_path(h->cg), h->path);
	remember_dirs(h);
}

static void apply_limits(struct host *h)
{
	struct cell_resources r = {0};
	struct cell_error err = {0};

	r.memory.limit = (struct cell_i64){true, 64 * MIB};
	r.pids.limit = (struct cell_i64){true, 32};
	r.cpu.quota = (struct cell_i64){true, 50000};
	r.cpu.period = (struct cell_u64){true, 100000};
	if (cell_cgroup_apply(h->cg, &r, &err) < 0)
		fail_msg("apply: %s (%s)", err.msg, strerror(err.code));
	assert_cg_file(h, "memory", "memory.limit_in_bytes", "memory.max", "67108864", "67108864");
	assert_cg_file(h, "pids", "pids.max", "pids.max", "32", "32");
	assert_cg_file(h, "cpu", "cpu.cfs_quota_us", "cpu.max", "50000", "50000 100000");
}

static void assert_pids_listed(struct host *h)
{
	_cleanup_free_ pid_t *pids = NULL;
	struct cell_error err = {0};
	size_t n = 0;

	assert_int_equal(cell_cgroup_pids(h->cg, &pids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], h->child);
}

static void freeze_thaw(struct host *h)
{
	struct cell_error err = {0};
	bool frozen = false;

	if (cell_cgroup_freeze(h->cg, true, &err) < 0)
		fail_msg("freeze: %s (%s)", err.msg, strerror(err.code));
	assert_int_equal(cell_cgroup_is_frozen(h->cg, &frozen, &err), 0);
	assert_true(frozen);
	assert_int_equal(cell_cgroup_freeze(h->cg, false, &err), 0);
	assert_int_equal(cell_cgroup_is_frozen(h->cg, &frozen, &err), 0);
	assert_false(frozen);
}

static void kill_and_reap(struct host *h)
{
	struct cell_error err = {0};
	int status = 0;

	assert_int_equal(cell_cgroup_kill(h->cg, SIGKILL, &err), 0);
	assert_int_equal(waitpid(h->child, &status, 0), h->child);
	h->child = -1;
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void destroy_all(struct host *h)
{
	struct cell_error err = {0};

	if (cell_cgroup_destroy(h->cg, &err) < 0)
		fail_msg("destroy: %s (%s)", err.msg, strerror(err.code));
	cell_cgroup_free(TAKE_PTR(h->cg));
	remove_parent(h);
	assert_nothing_left(h);
}

static void test_lifecycle(void **state)
{
	struct host *h = *state;
	struct cell_error err = {0};

	skip_unless_root(h);
	create(h);
	apply_limits(h);
	fork_child(h, child_wait);
	if (cell_cgroup_enter(h->cg, h->child, &err) < 0)
		fail_msg("enter: %s (%s)", err.msg, strerror(err.code));
	release_child(h);
	assert_child_placed(h);
	assert_pids_listed(h);
	freeze_thaw(h);
	kill_and_reap(h);
	destroy_all(h);
}

/* ---- the v2 device program, on whichever cgroup2 hierarchy the host has ---- */

static int child_probe_devices(void)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int full = open("/dev/full", O_RDONLY | O_CLOEXEC);

	/* 1:3 is denied, 1:7 allowed */
	return (null < 0 && errno == EPERM) && full >= 0 ? 0 : 1;
}

static void attach_program(int fd, const struct cell_device_rule *rules, size_t n)
{
	_cleanup_free_ struct bpf_insn *p = NULL;
	_cleanup_close_ int prog = -1;
	struct cell_error err = {0};
	size_t len = 0;

	assert_int_equal(cgroup_bpf_program(rules, n, &p, &len, &err), 0);
	prog = cgroup_bpf_load(p, len, &err);
	if (prog < 0)
		fail_msg("load: %s (%s)", err.msg, strerror(err.code));
	if (cgroup_bpf_replace(fd, prog, &err) < 0)
		fail_msg("attach: %s (%s)", err.msg, strerror(err.code));
}

static void test_device_program(void **state)
{
	struct cell_device_rule rules[] = {
	    {.allow = true, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
	    {.allow = false, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},
	};
	struct host *h = *state;
	struct cell_error err = {0};
	_cleanup_close_ int fd = -1;
	struct cgroup_hier *u;
	uint32_t count = 0;
	int status = 0;

	skip_unless_root(h);
	create(h);
	u = cgroup_unified(h->cg);
	if (!u)
		skip();
	fd = open(u->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	attach_program(fd, rules, 1);
	attach_program(fd, rules, ARRAY_SIZE(rules)); /* replaces, does not stack */
	assert_int_equal(cgroup_bpf_count(fd, &count, &err), 0);
	assert_int_equal(count, 1);

	fork_child(h, child_probe_devices);
	assert_int_equal(cell_cgroup_enter(h->cg, h->child, &err), 0);
	release_child(h);
	assert_int_equal(waitpid(h->child, &status, 0), h->child);
	h->child = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	destroy_all(h);
}

/* ---- joining without the global attach lock (cgroup-join.c) ---- */

static void test_join_by_clone_and_self(void **state)
{
	struct host *h = *state;
	struct cell_cgroup_join j;
	struct clone_args ca = { .exit_signal = SIGCHLD };
	struct cell_error err = {0};
	int status = 0;

	skip_unless_root(h);
	create(h);
	assert_int_equal(cell_cgroup_join_open(h->cg, &j, &err), 0);
	/* a real kernel: v1 hierarchies by the child's own "tasks" write, cgroup2 by the clone */
	for (size_t i = 0; i < j.n; i++)
		assert_true(j.how[i] == (h->cg->h[i].v2 ? CELL_JOIN_CLONE : CELL_JOIN_SELF));
	h->child = cell_cgroup_join_clone(&j, &ca);
	assert_true(h->child >= 0);
	if (h->child == 0) {
		struct cell_error e = {0};
		char c;
		int joined = cell_cgroup_join_self(&j, &e);
		_exit(read(h->go[0], &c, 1) == 1 && joined == 0 ? 0 : 3);
	}
	/* nothing is left for the parent: no cgroup.procs write */
	assert_int_equal(cell_cgroup_join_rest(h->cg, &j, h->child, &err), 0);
	cell_cgroup_join_close(&j);
	assert_int_equal(j.clone_fd, -1);
	for (int i = 0; i < 200 && child_placed(h) < h->cg->n_h; i++)
		usleep(10000);
	assert_child_placed(h);
	release_child(h);
	assert_int_equal(waitpid(h->child, &status, 0), h->child);
	h->child = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	destroy_all(h);
}

/* ---- signalling through the cgroup2 backend (v2 host, or hybrid's "unified") ---- */

static int child_wait_usr1(void)
{
	sigset_t s;

	int sig;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	/* freezing and thawing us interrupts the wait (EINTR), as it would any */
	do
		sig = sigwaitinfo(&s, NULL);
	while (sig < 0 && errno == EINTR);
	return sig == SIGUSR1 ? 7 : 1;
}

static void test_v2_signal_freezes_first(void **state)
{
	struct host *h = *state;
	struct cell_error err = {0};
	_cleanup_free_ char *freeze = NULL;
	bool frozen = true;
	int status = 0;
	sigset_t usr1, old;

	skip_unless_root(h);
	/* the backend alone: its own root, in v2 mode on any host with a cgroup2 mount */
	if (access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0)
		h->o.fs_root = "/sys/fs/cgroup/unified";
	else if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) < 0)
		skip();
	if (cell_cgroup_create(&h->o, h->path, &h->cg, &err) < 0)
		fail_msg("create: %s (%s)", err.msg, strerror(err.code));
	assert_int_equal(cell_cgroup_get_mode(h->cg), CELL_CGROUP_V2);
	remember_dirs(h);
	struct cgroup_hier *u = cgroup_unified(h->cg);
	if (!u || !cg_has(u, "cgroup.freeze"))
		skip();

	/* blocked before the fork, so that it waits in sigwaitinfo */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	assert_int_equal(sigprocmask(SIG_BLOCK, &usr1, &old), 0);
	fork_child(h, child_wait_usr1);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	assert_int_equal(cell_cgroup_enter(h->cg, h->child, &err), 0);
	release_child(h);

	assert_int_equal(cell_cgroup_kill(h->cg, SIGUSR1, &err), 0);
	assert_int_equal(waitpid(h->child, &status, 0), h->child);
	h->child = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	/* thawed again: the freeze was only for the signal */
	assert_int_equal(cg_read(u, "cgroup.freeze", &freeze), 0);
	assert_string_equal(freeze, "0");
	assert_int_equal(cell_cgroup_is_frozen(h->cg, &frozen, &err), 0);
	assert_false(frozen);
	destroy_all(h);
}

#define HOST(t) cmocka_unit_test_setup_teardown(t, host_setup, host_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    HOST(test_lifecycle),
	    HOST(test_device_program),
	    HOST(test_v2_signal_freezes_first),
	    HOST(test_join_by_clone_and_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
