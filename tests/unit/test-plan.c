/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/plan/plan.h"

struct opt_case {
	const char *name;
	unsigned long flags, clear, propagation;
	uint64_t rec_set, rec_clr;
};

#define ATIME MOUNT_ATTR__ATIME

/* Every option name cell knows, alone. */
static const struct opt_case opt_cases[] = {
    {"defaults", 0, 0, 0, 0, 0},
    {"ro", MS_RDONLY, 0, 0, 0, 0},
    {"rw", 0, MS_RDONLY, 0, 0, 0},
    {"nosuid", MS_NOSUID, 0, 0, 0, 0},
    {"suid", 0, MS_NOSUID, 0, 0, 0},
    {"nodev", MS_NODEV, 0, 0, 0, 0},
    {"dev", 0, MS_NODEV, 0, 0, 0},
    {"noexec", MS_NOEXEC, 0, 0, 0, 0},
    {"exec", 0, MS_NOEXEC, 0, 0, 0},
    {"sync", MS_SYNCHRONOUS, 0, 0, 0, 0},
    {"async", 0, MS_SYNCHRONOUS, 0, 0, 0},
    {"dirsync", MS_DIRSYNC, 0, 0, 0, 0},
    {"remount", MS_REMOUNT, 0, 0, 0, 0},
    {"mand", MS_MANDLOCK, 0, 0, 0, 0},
    {"nomand", 0, MS_MANDLOCK, 0, 0, 0},
    {"noatime", MS_NOATIME, 0, 0, 0, 0},
    {"atime", 0, MS_NOATIME, 0, 0, 0},
    {"nodiratime", MS_NODIRATIME, 0, 0, 0, 0},
    {"diratime", 0, MS_NODIRATIME, 0, 0, 0},
    {"relatime", MS_RELATIME, 0, 0, 0, 0},
    {"norelatime", 0, MS_RELATIME, 0, 0, 0},
    {"strictatime", MS_STRICTATIME, 0, 0, 0, 0},
    {"nostrictatime", 0, MS_STRICTATIME, 0, 0, 0},
    {"lazytime", MS_LAZYTIME, 0, 0, 0, 0},
    {"nolazytime", 0, MS_LAZYTIME, 0, 0, 0},
    {"silent", MS_SILENT, 0, 0, 0, 0},
    {"loud", 0, MS_SILENT, 0, 0, 0},
    {"iversion", MS_I_VERSION, 0, 0, 0, 0},
    {"noiversion", 0, MS_I_VERSION, 0, 0, 0},
    {"nosymfollow", MS_NOSYMFOLLOW, 0, 0, 0, 0},
    {"symfollow", 0, MS_NOSYMFOLLOW, 0, 0, 0},
    {"bind", MS_BIND, 0, 0, 0, 0},
    {"rbind", MS_BIND | MS_REC, 0, 0, 0, 0},
    {"shared", 0, 0, MS_SHARED, 0, 0},
    {"rshared", 0, 0, MS_SHARED | MS_REC, 0, 0},
    {"slave", 0, 0, MS_SLAVE, 0, 0},
    {"rslave", 0, 0, MS_SLAVE | MS_REC, 0, 0},
    {"private", 0, 0, MS_PRIVATE, 0, 0},
    {"rprivate", 0, 0, MS_PRIVATE | MS_REC, 0, 0},
    {"unbindable", 0, 0, MS_UNBINDABLE, 0, 0},
    {"runbindable", 0, 0, MS_UNBINDABLE | MS_REC, 0, 0},
    {"rro", 0, 0, 0, MOUNT_ATTR_RDONLY, 0},
    {"rrw", 0, 0, 0, 0, MOUNT_ATTR_RDONLY},
    {"rnosuid", 0, 0, 0, MOUNT_ATTR_NOSUID, 0},
    {"rsuid", 0, 0, 0, 0, MOUNT_ATTR_NOSUID},
    {"rnodev", 0, 0, 0, MOUNT_ATTR_NODEV, 0},
    {"rdev", 0, 0, 0, 0, MOUNT_ATTR_NODEV},
    {"rnoexec", 0, 0, 0, MOUNT_ATTR_NOEXEC, 0},
    {"rexec", 0, 0, 0, 0, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", 0, 0, 0, MOUNT_ATTR_NODIRATIME, 0},
    {"rdiratime", 0, 0, 0, 0, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", 0, 0, 0, MOUNT_ATTR_NOSYMFOLLOW, 0},
    {"rsymfollow", 0, 0, 0, 0, MOUNT_ATTR_NOSYMFOLLOW},
    {"rnoatime", 0, 0, 0, MOUNT_ATTR_NOATIME, ATIME},
    {"ratime", 0, 0, 0, MOUNT_ATTR_RELATIME, ATIME},
    {"rstrictatime", 0, 0, 0, MOUNT_ATTR_STRICTATIME, ATIME},
    {"rnostrictatime", 0, 0, 0, MOUNT_ATTR_RELATIME, ATIME},
    {"rrelatime", 0, 0, 0, MOUNT_ATTR_RELATIME, ATIME},
    {"rnorelatime", 0, 0, 0, MOUNT_ATTR_RELATIME, ATIME},
};

static void parse_one(const char *opt, struct cell_mount_plan *p)
{
	char *v[] = {(char *)opt, NULL};

	*p = (struct cell_mount_plan){0};
	cell_mount_opts_parse(v, p);
}

static void test_every_option(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(opt_cases); i++) {
		const struct opt_case *c = &opt_cases[i];
		struct cell_mount_plan p;
		parse_one(c->name, &p);
		if (p.flags != c->flags || p.clear != c->clear || p.propagation != c->propagation ||
		    p.rec_set != c->rec_set || p.rec_clr != c->rec_clr || p.data || p.tmpcopyup ||
		    p.idmap || p.ridmap)
			fail_msg(
			    "option \"%s\": flags %#lx clear %#lx propagation %#lx rec %#llx/%#llx",
			    c->name, p.flags, p.clear, p.propagation, (unsigned long long)p.rec_set,
			    (unsigned long long)p.rec_clr);
	}
}

static void test_special_options(void **state)
{
	struct cell_mount_plan p;
	char *v[] = {"tmpcopyup", "idmap", NULL};

	p = (struct cell_mount_plan){0};
	cell_mount_opts_parse(v, &p);
	assert_true(p.tmpcopyup && p.idmap && !p.ridmap);
	parse_one("ridmap", &p);
	assert_true(p.idmap && p.ridmap);
	parse_one("notmpcopyup", &p);
	assert_false(p.tmpcopyup);
}

static void test_data_and_order(void **state)
{
	char *v[] = {"nosuid",	"mode=755", "",	      "ro",  "size=65536k", "rw", "strictatime",
		     "noatime", "rprivate", "shared", "rro", "rrw",	    NULL};
	struct cell_mount_plan p = {0};

	cell_mount_opts_parse(v, &p);
	assert_string_equal(p.data, "mode=755,size=65536k");
	assert_int_equal(p.flags, MS_NOSUID | MS_NOATIME); /* later atime mode wins, rw wins */
	assert_int_equal(p.clear, MS_RDONLY);
	assert_int_equal(p.propagation, MS_SHARED);
	assert_int_equal(p.rec_set, 0);
	assert_int_equal(p.rec_clr, MOUNT_ATTR_RDONLY);
	cell_mount_plan_free(&p);
	assert_null(p.data);
}

static void build(const char *type, char **opts, struct cell_mount_plan *p)
{
	struct cell_mount m = {.destination = "/x", .type = (char *)type, .options = opts};

	cell_mount_plan_build(&m, p);
}

static void test_kinds(void **state)
{
	static const struct {
		const char *type;
		const char *opt;
		enum cell_mount_kind kind;
	} cases[] = {
	    {"bind", NULL, CELL_MOUNT_BIND},	  {"rbind", NULL, CELL_MOUNT_BIND},
	    {"none", "rbind", CELL_MOUNT_BIND},	  {NULL, "bind", CELL_MOUNT_BIND},
	    {"tmpfs", NULL, CELL_MOUNT_TMPFS},	  {"proc", NULL, CELL_MOUNT_PROC},
	    {"sysfs", NULL, CELL_MOUNT_SYSFS},	  {"devpts", NULL, CELL_MOUNT_DEVPTS},
	    {"mqueue", NULL, CELL_MOUNT_MQUEUE},  {"cgroup", NULL, CELL_MOUNT_CGROUP},
	    {"cgroup2", NULL, CELL_MOUNT_CGROUP}, {"ext4", NULL, CELL_MOUNT_OTHER},
	    {NULL, NULL, CELL_MOUNT_OTHER},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *v[] = {(char *)cases[i].opt, NULL};
		struct cell_mount_plan p;
		build(cases[i].type, v, &p);
		assert_int_equal(p.kind, cases[i].kind);
		cell_mount_plan_free(&p);
	}
}

static void test_bind_type_flags(void **state)
{
	struct cell_mount_plan p;
	char *none[] = {NULL};

	build("rbind", none, &p);
	assert_int_equal(p.flags, MS_BIND | MS_REC);
	build("bind", none, &p);
	assert_int_equal(p.flags, MS_BIND);
}

static void test_devpts_defaults(void **state)
{
	struct cell_mount_plan p;
	char *plain[] = {"nosuid", "gid=5", NULL};
	char *given[] = {"ptmxmode=0600", "newinstance", NULL};

	build("devpts", plain, &p);
	assert_string_equal(p.data, "gid=5,newinstance,ptmxmode=0666");
	cell_mount_plan_free(&p);
	build("devpts", given, &p);
	assert_string_equal(p.data, "ptmxmode=0600,newinstance");
	cell_mount_plan_free(&p);
}

static void test_attr(void **state)
{
	char *v[] = {"ro", "nosuid", "dev", "exec", "noatime", "nodiratime", "nosymfollow", NULL};
	struct cell_mount_plan p = {0};
	uint64_t set, clr;

	cell_mount_opts_parse(v, &p);
	cell_mount_plan_attr(&p, &set, &clr);
	assert_int_equal(set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME |
				  MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW);
	assert_int_equal(clr, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | ATIME);

	parse_one("relatime", &p);
	cell_mount_plan_attr(&p, &set, &clr);
	assert_int_equal(set, 0);
	assert_int_equal(clr, ATIME);
	parse_one("atime", &p); /* a clear form of atime leaves atime alone */
	cell_mount_plan_attr(&p, &set, &clr);
	assert_int_equal(set | clr, 0);
}

static void test_keep_locked(void **state)
{
	uint64_t set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME;
	uint64_t clr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | ATIME;

	cell_mount_attr_keep_locked(ST_NOSUID | ST_NOEXEC, &set, &clr);
	assert_int_equal(set, MOUNT_ATTR_RDONLY);
	assert_int_equal(clr, MOUNT_ATTR_NODEV);
}

static void test_sb_flags(void **state)
{
	const char *names[8];
	size_t n = cell_mount_sb_flag_names(MS_RDONLY | MS_NOSUID | MS_DIRSYNC | MS_SYNCHRONOUS |
						MS_LAZYTIME | MS_MANDLOCK,
					    names, ARRAY_SIZE(names));

	assert_int_equal(n, 5);
	assert_string_equal(names[0], "ro");
	assert_string_equal(names[1], "sync");
	assert_string_equal(names[2], "dirsync");
	assert_string_equal(names[3], "lazytime");
	assert_string_equal(names[4], "mand");
	assert_int_equal(cell_mount_sb_flag_names(MS_RDONLY | MS_DIRSYNC, names, 1), 1);
}

static void test_propagation_names(void **state)
{
	assert_int_equal(cell_propagation_from_name("rslave"), MS_SLAVE | MS_REC);
	assert_int_equal(cell_propagation_from_name("unbindable"), MS_UNBINDABLE);
	assert_int_equal(cell_propagation_from_name("bogus"), 0);
	assert_int_equal(cell_propagation_from_name(NULL), 0);
}

static void test_paths(void **state)
{
	static const struct {
		const char *in, *clean;
		bool escapes;
	} cases[] = {
	    {"/", "/", false},
	    {"//a/./b/", "/a/b", false},
	    {"/a/../b", "/b", false},
	    {"/a/b/../../c/..", "/", false},
	    {"/../../etc", "/etc", true},
	    {"/a/../../etc", "/etc", true},
	    {"a/b", "/a/b", false},
	    {"/a/..b/...", "/a/..b/...", false},
	    {"", "/", false},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *c = cell_path_clean(cases[i].in);
		assert_string_equal(c, cases[i].clean);
		assert_int_equal(cell_path_escapes_root(cases[i].in), cases[i].escapes);
	}
	assert_true(cell_path_under("/proc/kcore", "/proc"));
	assert_true(cell_path_under("/proc", "/proc"));
	assert_false(cell_path_under("/procfoo", "/proc"));
	assert_true(cell_path_under("/x", "/"));
}

static void test_default_devices(void **state)
{
	static const struct {
		const char *name;
		unsigned int major, minor;
	} want[] = {{"null", 1, 3},   {"zero", 1, 5},	 {"full", 1, 7},
		    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

	assert_int_equal(cell_n_default_devices, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_string_equal(cell_default_devices[i].name, want[i].name);
		assert_int_equal(cell_default_devices[i].major, want[i].major);
		assert_int_equal(cell_default_devices[i].minor, want[i].minor);
		assert_int_equal(cell_default_devices[i].mode, S_IFCHR | 0666);
	}
	assert_int_equal(cell_n_default_dev_links, 4);
	assert_string_equal(cell_default_dev_links[0].name, "fd");
	assert_string_equal(cell_default_dev_links[0].target, "/proc/self/fd");
	assert_string_equal(cell_default_dev_links[3].target, "/proc/self/fd/2");
	assert_string_equal(cell_dev_ptmx_link.target, "pts/ptmx");
}

static void test_device_mode(void **state)
{
	struct cell_device d = {.path = "/dev/x", .type = 'c'};
	mode_t m;

	assert_int_equal(cell_device_mode(&d, &m), 0);
	assert_int_equal(m, S_IFCHR | 0666);
	d.type = 'u';
	d.file_mode_set = true;
	d.file_mode = 0100640; /* type bits in fileMode are ignored */
	assert_int_equal(cell_device_mode(&d, &m), 0);
	assert_int_equal(m, S_IFCHR | 0640);
	d.type = 'b';
	assert_int_equal(cell_device_mode(&d, &m), 0);
	assert_int_equal(m, S_IFBLK | 0640);
	d.type = 'p';
	assert_int_equal(cell_device_mode(&d, &m), 0);
	assert_int_equal(m, S_IFIFO | 0640);
	d.type = 'x';
	assert_int_equal(cell_device_mode(&d, &m), -EINVAL);
}

static void test_spec_dev(void **state)
{
	char *bind[] = {"rbind", NULL};
	struct cell_mount mounts[] = {
	    {.destination = "/dev", .type = "tmpfs"},
	    {.destination = "/dev//pts/", .type = "devpts"},
	};
	struct cell_spec s = {.mounts = mounts, .n_mounts = 2};

	assert_int_equal(cell_spec_dev_setup(&s), CELL_DEV_FILL);
	assert_true(cell_spec_has_devpts(&s));
	mounts[0].type = "bind";
	mounts[0].options = bind;
	mounts[1].type = "tmpfs";
	assert_int_equal(cell_spec_dev_setup(&s), CELL_DEV_HOST);
	assert_false(cell_spec_has_devpts(&s));
	s.n_mounts = 0;
	assert_int_equal(cell_spec_dev_setup(&s), CELL_DEV_ROOTFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_option),
	    cmocka_unit_test(test_special_options),
	    cmocka_unit_test(test_data_and_order),
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_bind_type_flags),
	    cmocka_unit_test(test_devpts_defaults),
	    cmocka_unit_test(test_attr),
	    cmocka_unit_test(test_keep_locked),
	    cmocka_unit_test(test_sb_flags),
	    cmocka_unit_test(test_propagation_names),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_default_devices),
	    cmocka_unit_test(test_device_mode),
	    cmocka_unit_test(test_spec_dev),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
