/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fake cgroupfs trees for the cgroup unit tests (test-cgroup.c, test-cgroup-res.c): plain
 * directories and files in a temp dir, laid out like /sys/fs/cgroup on v2 and v1 hosts.
 * Include after cmocka.h and libcell/cgroup/cgroup-internal.h.
 */
#ifndef CELL_TEST_FAKE_CGROUPFS_H
#define CELL_TEST_FAKE_CGROUPFS_H

struct fx {
	char root[64];	/* the fake fs_root */
	char self[128]; /* fake /proc/self/cgroup */
	struct cell_cgroup_opts o;
	struct cell_cgroup *cg;
	struct cell_error err;
};

static inline void put(const struct fx *f, const char *rel, const char *content)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", f->root, rel);
	char *slash = strrchr(p, '/');

	*slash = '\0';
	assert_int_equal(cell_mkdir_p(p, 0755), 0);
	*slash = '/';
	assert_int_equal(cell_write_file_atomic(p, content, strlen(content), 0644), 0);
}

/* Content of a file below the root, whitespace-trimmed; "<missing>" when absent. */
static inline char *get(const struct fx *f, const char *rel)
{
	char *s = NULL;

	if (cg_read_at(f->root, rel, &s) < 0)
		return xstrdup("<missing>");
	return s;
}

#define assert_file(f, rel, want)                                                                  \
	do {                                                                                       \
		_cleanup_free_ char *got_ = get(f, rel);                                           \
		assert_string_equal(got_, want);                                                   \
	} while (0)

static inline bool exists(const struct fx *f, const char *rel)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", f->root, rel);

	return access(p, F_OK) == 0;
}

static inline int fx_setup(void **state)
{
	struct fx *f = xzalloc(sizeof(*f));

	(void)snprintf(f->root, sizeof(f->root), "/tmp/celltest-cg-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	(void)snprintf(f->self, sizeof(f->self), "%s.self", f->root);
	f->o =
	    (struct cell_cgroup_opts){.fs_root = f->root, .self_cgroup_file = f->self, .id = "c1"};
	*state = f;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;

	cell_cgroup_free(f->cg);
	(void)cell_rm_rf(f->root);
	(void)unlink(f->self);
	free(f);
	return 0;
}

static inline void make_v2(const struct fx *f)
{
	put(f, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc");
	put(f, "cgroup.subtree_control", "");
	put(f, "cgroup.procs", "");
}

static const char *const v1_dirs[] = {"cpu,cpuacct", "memory",	"cpuset", "pids",
				      "freezer",     "devices", "blkio",  "systemd"};

static inline void make_v1(const struct fx *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(v1_dirs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/cgroup.procs", v1_dirs[i]);
		put(f, p, "");
	}
	put(f, "cpuset/cpuset.cpus", "0-3");
	put(f, "cpuset/cpuset.mems", "0");
	put(f, "memory/memory.memsw.limit_in_bytes", "9223372036854771712");
	_cleanup_free_ char *cpu = xasprintf("%s/cpu", f->root);
	_cleanup_free_ char *cpuacct = xasprintf("%s/cpuacct", f->root);
	assert_int_equal(symlink("cpu,cpuacct", cpu), 0);
	assert_int_equal(symlink("cpu,cpuacct", cpuacct), 0);
}

static inline void create(struct fx *f, const char *path)
{
	int r = cell_cgroup_create(&f->o, path, &f->cg, &f->err);

	if (r < 0)
		fail_msg("create %s: %s", path ? path : "(null)", f->err.msg);
}

static inline void apply_ok(struct fx *f, const struct cell_resources *r)
{
	if (cell_cgroup_apply(f->cg, r, &f->err) < 0)
		fail_msg("apply: %s (%s)", f->err.msg, strerror(f->err.code));
}

#endif
