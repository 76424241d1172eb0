/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rootfs executor for real, as root.  Every scenario runs in a forked
 * child that first unshares its mount namespace and makes "/" rslave, so no
 * mount reaches the host; the namespace dies with the child.  The child
 * reports the first failed check through a pipe.  The parent owns the temp
 * directory and removes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/linux/rootfs.h"

static char tmpdir[] = "/tmp/celltest-rootfs-XXXXXX";
static char bundle[256], rootfs[256];

/* ---- the child's checks ---- */

static char failure[512];

static bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (!ok && !failure[0]) {
		va_start(ap, fmt);
		(void)vsnprintf(failure, sizeof(failure), fmt, ap);
		va_end(ap);
	}
	return ok;
}

/* The mountinfo line whose mount point is `point` (the last, i.e. the top one); how many. */
static int mountinfo(const char *point, char *line, size_t len)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char buf[4096], mp[4096];
	int found = 0;

	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "%*s %*s %*s %*s %4095s", mp) == 1 && streq(mp, point)) {
			(void)snprintf(line, len, "%s", buf);
			found++;
		}
	return found;
}

static void check_mount(const char *point, const char *fstype, const char *needle)
{
	char line[4096], want[64];

	if (!check(mountinfo(point, line, sizeof(line)), "%s is not a mount point", point))
		return;
	(void)snprintf(want, sizeof(want), " - %s ", fstype);
	check(strstr(line, want) != NULL, "%s: not %s: %s", point, fstype, line);
	if (needle)
		check(strstr(line, needle) != NULL, "%s: no \"%s\" in %s", point, needle, line);
}

static void check_fs(const char *path, long magic)
{
	struct statfs sf;

	if (check(statfs(path, &sf) == 0, "statfs %s: %m", path))
		check(sf.f_type == magic, "%s: fs type %#lx, want %#lx", path, (long)sf.f_type,
		      magic);
}

static bool is_ro(const char *path)
{
	struct statvfs sv;

	return statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

static void check_node(const char *path, mode_t mode, unsigned int major, unsigned int minor)
{
	struct stat st;

	mode_t mask = mode & 07777 ? S_IFMT | 07777 : S_IFMT; /* no permission bits: type only */

	if (!check(lstat(path, &st) == 0, "stat %s: %m", path))
		return;
	check((st.st_mode & mask) == mode, "%s: mode %o, want %o", path, st.st_mode, mode);
	check(st.st_rdev == makedev(major, minor), "%s: device %u:%u", path, major(st.st_rdev),
	      minor(st.st_rdev));
}

static void check_link(const char *path, const char *target)
{
	char buf[256];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (!check(n > 0, "readlink %s: %m", path))
		return;
	buf[n] = '\0';
	check(streq(buf, target), "%s -> %s, want %s", path, buf, target);
}

static void check_file(const char *path, const char *content)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (check(cell_read_file(path, &text, &len) == 0, "read %s: %m", path))
		check(streq(text, content), "%s holds \"%s\"", path, text);
}

static int run_busybox(const char *script)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/busybox", "busybox", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The plan for s on the host f, then prepare (and with `all` pivot, finalize); < 0 with
 * the error in err when one fails. */
static int run_plan(const struct cell_spec *s, const struct cell_host_facts *f, bool all,
		    struct cell_error *err)
{
	_cleanup_(cell_plan_free) struct cell_plan plan = {0};
	struct cell_rootfs_ctx c = {.plan = &plan, .tree_fd = -1};
	int r = cell_plan_build(s, f, &plan, err);

	if (r < 0 || (r = cell_rootfs_prepare(&c, err)) < 0 || !all)
		return r;
	if ((r = cell_rootfs_pivot(&c, err)) < 0)
		return r;
	return cell_rootfs_finalize(&c, err);
}

/* plan, prepare, pivot, finalize; false (with the error as the failure) when one fails. */
static bool setup_root(const struct cell_spec *s, const struct cell_host_facts *f)
{
	struct cell_error err = {0};
	char text[600];

	if (run_plan(s, f, true, &err) < 0)
		return check(false, "%s", cell_err_text(&err, text, sizeof(text)));
	return true;
}

/* ---- the harness ---- */

enum ns_mode { PLAIN, WITH_CGROUPNS, WITH_USERNS };

static void child_enter(enum ns_mode mode, int ready, int go, int go_parent_end)
{
	char c = 0;

	(void)close(go_parent_end);
	if (mode == WITH_USERNS) {
		/* the parent writes our maps before we go on */
		if (unshare(CLONE_NEWUSER) < 0 || write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
			_exit(3);
	}
	if (mode == WITH_CGROUPNS && unshare(CLONE_NEWCGROUP) < 0)
		_exit(3);
	/* SAFETY: own mount namespace, and nothing propagates back, before anything else */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		_exit(3);
}

static void write_maps(pid_t pid)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	assert_int_equal(cell_write_file(path, "0 0 65536\n", 10), 0);
	(void)snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	assert_int_equal(cell_write_file(path, "0 0 65536\n", 10), 0);
}

/* Run scenario(arg) in a child; fail the test with the child's first failed check. */
static void in_child(void (*scenario)(void *), void *arg, enum ns_mode mode)
{
	int report[2], ready[2], go[2], status;
	char msg[600] = "";

	assert_int_equal(pipe2(report, O_CLOEXEC), 0);
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_enter(mode, ready[1], go[0], go[1]);
		scenario(arg);
		size_t n = strlen(failure);
		_exit(n && write(report[1], failure, n) > 0 ? 1 : n ? 2 : 0);
	}
	(void)close(report[1]);
	(void)close(ready[1]);
	(void)close(go[0]);
	char c;
	if (mode == WITH_USERNS && read(ready[0], &c, 1) == 1) {
		write_maps(pid);
		assert_int_equal(write(go[1], &c, 1), 1);
	}
	(void)close(go[1]);
	struct pollfd pfd = {.fd = report[0], .events = POLLIN};
	if (poll(&pfd, 1, 60000) == 0) {
		(void)kill(pid, SIGKILL); /* a hang is a failure, not a stuck test run */
		(void)snprintf(msg, sizeof(msg), "timed out");
	} else {
		ssize_t n = read(report[0], msg, sizeof(msg) - 1);
		msg[n > 0 ? n : 0] = '\0';
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	(void)close(report[0]);
	(void)close(ready[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child (status %#x): %s", status, msg);
}

/* ---- the tree ---- */

static void put(const char *rel, const char *content)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", tmpdir, rel);
	_cleanup_free_ char *dir = xstrdup(path);

	*strrchr(dir, '/') = '\0';
	assert_int_equal(cell_mkdir_p(dir, 0755), 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(cell_write_all(fd, content, strlen(content)), 0);
	(void)close(fd);
}

static void copy_busybox(void)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_free_ char *dst = xasprintf("%s/bin/busybox", rootfs);
	size_t len;

	assert_int_equal(cell_read_file("/bin/busybox", &data, &len), 0);
	assert_int_equal(cell_mkdir_p(rootfs, 0755), 0);
	put("rootfs/bin/busybox", "");
	assert_int_equal(cell_write_file(dst, data, len), 0);
	assert_int_equal(chmod(dst, 0755), 0);
}

static int group_setup(void **state)
{
	if (geteuid() != 0 || access("/bin/busybox", X_OK) != 0)
		return 0;
	if (!mkdtemp(tmpdir))
		return -1;
	(void)snprintf(bundle, sizeof(bundle), "%s", tmpdir);
	(void)snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpdir);
	copy_busybox();
	put("rootfs/marker", "rootfs\n");
	put("rootfs/etc/secret", "secret\n");
	put("rootfs/opt/data/a.txt", "a\n");
	put("rootfs/opt/data/sub/b.txt", "b\n");
	put("src-dir/hello", "hello\n");
	put("src-file", "file\n");
	put("idsrc/owned-by-0", "");
	put("cg/memory/marker", "");
	put("cg/cpu,cpuacct/marker", "");
	put("cg/unified/marker", "");
	_cleanup_free_ char *link = xasprintf("%s/opt/data/link", rootfs);
	_cleanup_free_ char *esc = xasprintf("%s/mnt/link", rootfs);
	assert_int_equal(symlink("a.txt", link), 0);
	assert_int_equal(cell_mkdir_p(esc, 0755), 0);
	assert_int_equal(rmdir(esc), 0);
	assert_int_equal(symlink("/../../../tmp/escape-celltest", esc), 0);
	return 0;
}

static int group_teardown(void **state)
{
	if (tmpdir[strlen(tmpdir) - 1] != 'X')
		return cell_rm_rf(tmpdir) < 0 ? -1 : 0;
	return 0;
}

static void skip_unless_ready(void)
{
	if (geteuid() != 0)
		skip(); /* needs root for mount namespaces */
	if (tmpdir[strlen(tmpdir) - 1] == 'X')
		skip(); /* no /bin/busybox: apt-get install busybox-static */
}

#define OPTS(...) ((char *[]){__VA_ARGS__, NULL})

/* The host facts of the scenarios; s gets a mount namespace (the harness made one). */
static struct cell_host_facts facts_for(struct cell_spec *s)
{
	s->linux.ns[CELL_NS_MNT].enabled = true;
	return (struct cell_host_facts){.rootfs = rootfs, .bundle = bundle};
}

/* ---- scenarios ---- */

static void full_scenario(void *arg)
{
	struct cell_mount mounts[] = {
	    {.destination = "/proc", .type = "proc", .source = "proc"},
	    {.destination = "/sys",
	     .type = "sysfs",
	     .source = "sysfs",
	     .options = OPTS("nosuid", "noexec", "nodev", "ro")},
	    {.destination = "/dev",
	     .type = "tmpfs",
	     .source = "tmpfs",
	     .options = OPTS("nosuid", "strictatime", "mode=755", "size=65536k")},
	    {.destination = "/dev/pts",
	     .type = "devpts",
	     .source = "devpts",
	     .options = OPTS("nosuid", "noexec", "gid=5", "mode=620")},
	    {.destination = "/tmp", .type = "tmpfs", .options = OPTS("nodev", "size=1m")},
	    {.destination = "/data",
	     .type = "none",
	     .source = "src-dir",
	     .options = OPTS("rbind", "ro", "nosuid", "shared")},
	    {.destination = "/etc/bound-file", .type = "bind", .source = "src-file"},
	    {.destination = "/opt/data", .type = "tmpfs", .options = OPTS("tmpcopyup")},
	    {.destination = "/mnt/link", .type = "tmpfs", .options = OPTS("size=1m")},
	};
	struct cell_device devices[] = {
	    {.path = "/dev/mydev",
	     .type = 'c',
	     .major = 1,
	     .minor = 5,
	     .file_mode_set = true,
	     .file_mode = 0600,
	     .uid_set = true,
	     .uid = 1,
	     .gid_set = true,
	     .gid = 2},
	    {.path = "/dev/sub/fifo", .type = 'p'},
	};
	struct cell_spec s = {.mounts = mounts, .n_mounts = ARRAY_SIZE(mounts)};
	struct cell_host_facts f = facts_for(&s);
	struct stat st;

	s.root.readonly = true;
	s.linux.devices = devices;
	s.linux.n_devices = ARRAY_SIZE(devices);
	s.linux.masked_paths =
	    OPTS("/proc/kcore", "/proc/keys", "/sys/firmware", "/proc/no-such", "/etc/secret");
	s.linux.readonly_paths = OPTS("/proc/sys", "/proc/sysrq-trigger", "/proc/uptime");
	s.linux.rootfs_propagation = "private"; /* not recursive: /data stays shared */
	if (!setup_root(&s, &f))
		return;
	check_file("/marker", "rootfs\n");
	check_mount("/", "ext4", " ro");
	check(is_ro("/") && mkdir("/x", 0755) < 0 && errno == EROFS, "/ is writable");
	check_mount("/proc", "proc", NULL);
	check_mount("/sys", "sysfs", " ro,nosuid,nodev,noexec");
	check_mount("/dev", "tmpfs", "size=65536k");
	check_mount("/dev", "tmpfs", " rw,nosuid ");
	check_mount("/dev/pts", "devpts", "ptmxmode=666");
	check_mount("/tmp", "tmpfs", "size=1024k");
	check_mount("/data", "ext4", " ro,nosuid");
	check_mount("/data", "ext4", " shared:");
	check_file("/data/hello", "hello\n");
	check_file("/etc/bound-file", "file\n");
	/* tmpcopyup */
	check_mount("/opt/data", "tmpfs", NULL);
	check_file("/opt/data/a.txt", "a\n");
	check_file("/opt/data/sub/b.txt", "b\n");
	check_link("/opt/data/link", "a.txt");
	/* the symlinked destination stayed inside */
	check_link("/mnt/link", "/../../../tmp/escape-celltest");
	check_mount("/tmp/escape-celltest", "tmpfs", NULL);
	check_fs("/mnt/link", TMPFS_MAGIC);
	/* /dev */
	check_node("/dev/null", S_IFCHR | 0666, 1, 3);
	check_node("/dev/tty", S_IFCHR | 0666, 5, 0);
	check_node("/dev/urandom", S_IFCHR | 0666, 1, 9);
	check_node("/dev/mydev", S_IFCHR | 0600, 1, 5);
	check(lstat("/dev/mydev", &st) == 0 && st.st_uid == 1 && st.st_gid == 2,
	      "/dev/mydev owner");
	check(lstat("/dev/sub/fifo", &st) == 0 && S_ISFIFO(st.st_mode), "/dev/sub/fifo");
	check_link("/dev/fd", "/proc/self/fd");
	check_link("/dev/stderr", "/proc/self/fd/2");
	check_link("/dev/ptmx", "pts/ptmx");
	/* finalize */
	check_node("/proc/keys", S_IFCHR | 0666, 1, 3);
	check_node("/etc/secret", S_IFCHR | 0666, 1, 3);
	check_mount("/sys/firmware", "tmpfs", " ro");
	check(is_ro("/proc/sys"), "/proc/sys is writable");
	check(is_ro("/proc/uptime"), "/proc/uptime is writable");
	char line[4096];
	check(mountinfo("/", line, sizeof(line)) == 1, "the old root is still mounted");
	if (mountinfo("/", line, sizeof(line)))
		check(!strstr(line, "shared:") && !strstr(line, "master:"), "/ not private: %s",
		      line);
	check(run_busybox("test -c /dev/null && test -L /dev/fd && test \"$(cat /data/hello)\" = "
			  "hello && ! touch /new 2>/dev/null") == 0,
	      "busybox checks inside failed");
}

static void test_full(void **state)
{
	_cleanup_free_ char *inside = xasprintf("%s/tmp/escape-celltest", rootfs);
	struct stat st;

	skip_unless_ready();
	bool host_had = access("/tmp/escape-celltest", F_OK) == 0;
	in_child(full_scenario, NULL, PLAIN);
	/* created inside the rootfs (under its /tmp, on the tmpfs that is gone now) or nowhere */
	assert_true(host_had || access("/tmp/escape-celltest", F_OK) != 0);
	assert_true(lstat(inside, &st) != 0 || S_ISDIR(st.st_mode));
}

/* The destination's parent dirs are made on disk in the rootfs: the escape lands there. */
static void escape_scenario(void *arg)
{
	struct cell_mount mounts[] = {
	    {.destination = "/proc", .type = "proc"},
	    {.destination = "/mnt/link/deeper", .type = "tmpfs"},
	};
	struct cell_spec s = {.mounts = mounts, .n_mounts = ARRAY_SIZE(mounts)};
	struct cell_host_facts f = facts_for(&s);

	if (setup_root(&s, &f))
		check_mount("/tmp/escape-celltest/deeper", "tmpfs", NULL);
}

static void test_symlink_escape(void **state)
{
	_cleanup_free_ char *inside = xasprintf("%s/tmp/escape-celltest/deeper", rootfs);
	_cleanup_free_ char *top = xasprintf("%s/tmp/escape-celltest", rootfs);
	struct stat st;

	skip_unless_ready();
	bool host_had = access("/tmp/escape-celltest", F_OK) == 0;
	in_child(escape_scenario, NULL, PLAIN);
	assert_int_equal(lstat(inside, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_true(host_had || access("/tmp/escape-celltest", F_OK) != 0);
	assert_int_equal(cell_rm_rf(top), 0);
}

struct error_case {
	struct cell_mount mount;
	const char *want; /* message prefix */
	int code;
};

static void error_scenario(void *arg)
{
	struct error_case *e = arg;
	struct cell_spec s = {.mounts = &e->mount, .n_mounts = 1};
	struct cell_host_facts f = facts_for(&s);
	struct cell_error err = {0};

	int r = run_plan(&s, &f, false, &err);
	check(r < 0, "plan and prepare succeeded");
	check(strncmp(err.msg, e->want, strlen(e->want)) == 0, "message \"%s\", want \"%s\"",
	      err.msg, e->want);
	check(err.code == e->code, "code %d, want %d", err.code, e->code);
}

static void test_errors(void **state)
{
	_cleanup_free_ char *missing =
	    xasprintf("mounts[0] (/data): open source %s/missing", bundle);
	struct error_case cases[] = {
	    {{.destination = "/../../etc", .type = "tmpfs"},
	     "mounts[0].destination \"/../../etc\": escapes the rootfs",
	     EINVAL},
	    {{.destination = "/data", .source = "missing", .options = OPTS("rbind")},
	     missing,
	     ENOENT},
	    {{.destination = "/x", .type = "tmpfs", .options = OPTS("size=bogus")},
	     "mounts[0] (/x): mount tmpfs on /x",
	     EINVAL},
	    {{.destination = "/x", .source = "x"},
	     "mounts[0] (/x): no type, and no bind or rbind option",
	     EINVAL},
	    {{.destination = "/", .type = "tmpfs"},
	     "mounts[0].destination \"/\": cannot cover the rootfs",
	     EINVAL},
	    /* procfs and sysfs never through a symlink, not even one inside the root */
	    {{.destination = "/mnt/link", .type = "proc"},
	     "mounts[0] (/mnt/link): /mnt/link in the rootfs is a symlink (to "
	     "/../../../tmp/escape-celltest): proc and sysfs must be mounted on ordinary directory",
	     ELOOP},
	    {{.destination = "/mnt/link/sys", .type = "sysfs"},
	     "mounts[0] (/mnt/link/sys): /mnt/link in the rootfs is a symlink",
	     ELOOP},
	    {{.destination = "/marker/proc", .type = "proc"},
	     "mounts[0] (/marker/proc): /marker in the rootfs",
	     ENOTDIR},
	};

	skip_unless_ready();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		in_child(error_scenario, &cases[i], PLAIN);
}

static void no_pivot_scenario(void *arg)
{
	struct cell_mount mounts[] = {{.destination = "/proc", .type = "proc"}};
	struct cell_spec s = {.mounts = mounts, .n_mounts = 1};
	struct cell_host_facts f = facts_for(&s);

	f.no_pivot = true;
	if (!setup_root(&s, &f))
		return;
	check_file("/marker", "rootfs\n");
	check_mount("/proc", "proc", NULL);
	check(run_busybox("test -f /marker") == 0, "busybox in the chroot");
}

static void test_no_pivot(void **state)
{
	skip_unless_ready();
	in_child(no_pivot_scenario, NULL, PLAIN);
}

static void idmap_scenario(void *arg)
{
	struct cell_idmap map = {.container_id = 0, .host_id = 1000, .size = 1};
	struct cell_mount mounts[] = {
	    {.destination = "/proc", .type = "proc"},
	    {.destination = "/idm",
	     .source = "idsrc",
	     .options = OPTS("bind", "idmap"),
	     .uid_mappings = &map,
	     .n_uid_mappings = 1,
	     .gid_mappings = &map,
	     .n_gid_mappings = 1},
	};
	struct cell_spec s = {.mounts = mounts, .n_mounts = ARRAY_SIZE(mounts)};
	struct cell_host_facts f = facts_for(&s);
	struct stat st;

	if (!setup_root(&s, &f))
		return;
	check(stat("/idm/owned-by-0", &st) == 0, "stat /idm/owned-by-0: %m");
	check(st.st_uid == 1000 && st.st_gid == 1000, "idmapped owner %u:%u", st.st_uid, st.st_gid);
	check_mount("/idm", "ext4", NULL);
}

static void test_idmap(void **state)
{
	skip_unless_ready();
	in_child(idmap_scenario, NULL, PLAIN);
}

static struct cell_cgroup_mount *fake_hierarchies(size_t *n)
{
	static struct cell_cgroup_mount h[3];
	static char paths[3][300];
	static char *aliases[] = {"cpu", "cpuacct", NULL};
	const char *names[] = {"memory", "cpu,cpuacct", "unified"};

	for (size_t i = 0; i < 3; i++) {
		(void)snprintf(paths[i], sizeof(paths[i]), "%s/cg/%s", tmpdir, names[i]);
		h[i] = (struct cell_cgroup_mount){.name = (char *)names[i],
						  .fstype = i == 2 ? "cgroup2" : "cgroup",
						  .options = "",
						  .host_path = paths[i]};
	}
	h[1].aliases = aliases;
	*n = 3;
	return h;
}

static void cgroup_bind_scenario(void *arg)
{
	struct cell_mount mounts[] = {
	    {.destination = "/proc", .type = "proc"},
	    {.destination = "/sys/fs/cgroup",
	     .type = "cgroup",
	     .source = "cgroup",
	     .options = OPTS("nosuid", "noexec", "nodev", "relatime", "ro")},
	};
	struct cell_spec s = {.mounts = mounts, .n_mounts = ARRAY_SIZE(mounts)};
	struct cell_host_facts f = facts_for(&s);

	f.cgroup_mounts = fake_hierarchies(&f.n_cgroup_mounts);
	if (!setup_root(&s, &f))
		return;
	check_mount("/sys/fs/cgroup", "tmpfs", " ro,nosuid,nodev,noexec");
	check_mount("/sys/fs/cgroup/memory", "ext4", " ro,nosuid,nodev,noexec");
	check(access("/sys/fs/cgroup/cpu,cpuacct/marker", F_OK) == 0, "cpu,cpuacct not bound");
	check_link("/sys/fs/cgroup/cpu", "cpu,cpuacct");
	check_link("/sys/fs/cgroup/cpuacct", "cpu,cpuacct");
	check(access("/sys/fs/cgroup/unified/marker", F_OK) == 0, "unified not bound");
}

static void test_cgroup_bind(void **state)
{
	skip_unless_ready();
	in_child(cgroup_bind_scenario, NULL, PLAIN);
}

/* A cgroup namespace: fresh mounts; the host's own hierarchies, read-only, in our namespace. */
static void cgroupns_scenario(void *arg)
{
	bool v2 = *(bool *)arg;
	struct cell_mount mounts[] = {
	    {.destination = "/proc", .type = "proc"},
	    {.destination = "/cg",
	     .type = v2 ? "cgroup2" : "cgroup",
	     .options = OPTS("nosuid", "noexec", "nodev", "ro")},
	};
	struct cell_cgroup_mount v1h[] = {
	    {.name = "memory", .fstype = "cgroup", .options = "memory", .host_path = "-"},
	    {.name = "systemd",
	     .fstype = "cgroup",
	     .options = "none,name=systemd",
	     .host_path = "-"},
	};
	struct cell_cgroup_mount v2h = {
	    .name = "", .fstype = "cgroup2", .options = "", .host_path = "-"};
	struct cell_spec s = {.mounts = mounts, .n_mounts = ARRAY_SIZE(mounts)};
	struct cell_host_facts f = facts_for(&s);

	s.linux.ns[CELL_NS_CGROUP].enabled = true;
	f.cgroup_mounts = v2 ? &v2h : v1h;
	f.n_cgroup_mounts = v2 ? 1 : 2;
	if (!setup_root(&s, &f))
		return;
	if (v2) {
		check_mount("/cg", "cgroup2", " ro,");
		return;
	}
	check_mount("/cg", "tmpfs", " ro,");
	check_mount("/cg/memory", "cgroup", "memory");
	check_mount("/cg/systemd", "cgroup", "name=systemd");
	check(is_ro("/cg/memory"), "/cg/memory writable");
}

static void test_cgroupns(void **state)
{
	bool v2 = false;

	skip_unless_ready();
	if (access("/sys/fs/cgroup/memory", F_OK) == 0 &&
	    access("/sys/fs/cgroup/systemd", F_OK) == 0)
		in_child(cgroupns_scenario, &v2, WITH_CGROUPNS);
	v2 = true;
	in_child(cgroupns_scenario, &v2, WITH_CGROUPNS);
}

/* A user namespace: device nodes are bound from the host, sysfs is the host's /sys, locked
 * flags of the sources are kept. */
static void userns_scenario(void *arg)
{
	struct cell_mount mounts[] = {
	    /* proc belongs to the pid namespace's owner: the host's, bound */
	    {.destination = "/proc", .source = "/proc", .options = OPTS("rbind")},
	    {.destination = "/dev", .type = "tmpfs", .options = OPTS("nosuid", "mode=755")},
	    {.destination = "/sys", .type = "sysfs", .options = OPTS("nosuid", "ro")},
	    {.destination = "/data",
	     .source = "src-dir",
	     .options = OPTS("rbind", "ro", "noatime", "dev")},
	};
	struct cell_device devices[] = {
	    {.path = "/dev/kmsg", .type = 'c', .major = 1, .minor = 11}};
	struct cell_spec s = {.mounts = mounts, .n_mounts = ARRAY_SIZE(mounts)};
	struct cell_host_facts f = facts_for(&s);

	f.in_userns = true;
	s.root.readonly = true;
	s.linux.devices = devices;
	s.linux.n_devices = 1;
	s.linux.masked_paths = OPTS("/etc/secret", "/sys/firmware");
	if (!setup_root(&s, &f))
		return;
	check_node("/dev/null", S_IFCHR | 0666, 1, 3);
	check_mount("/dev/null", "devtmpfs", NULL);
	check_node("/dev/kmsg", S_IFCHR, 1, 11); /* the host's node, with the host's mode */
	check_mount("/sys", "sysfs", " ro,nosuid");
	check_mount("/data", "ext4", " ro");
	check_file("/data/hello", "hello\n");
	check_node("/etc/secret", S_IFCHR | 0666, 1, 3);
	check_mount("/sys/firmware", "tmpfs", " ro");
	check(is_ro("/"), "/ writable");
}

static void test_userns(void **state)
{
	skip_unless_ready();
	in_child(userns_scenario, NULL, WITH_USERNS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),     cmocka_unit_test(test_symlink_escape),
	    cmocka_unit_test(test_errors),   cmocka_unit_test(test_no_pivot),
	    cmocka_unit_test(test_idmap),    cmocka_unit_test(test_cgroup_bind),
	    cmocka_unit_test(test_cgroupns), cmocka_unit_test(test_userns),
	};
	if (getenv("CELL_TEST_FILTER"))
		cmocka_set_test_filter(getenv("CELL_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
