/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Storage backends for real, as root (skipped otherwise; the parser tests run
 * for anyone).  The whole test first unshares its mount namespace and makes
 * "/" rslave: every mount it makes lives under its /tmp/celltest-storage-*
 * directory, never reaches the host, and dies with the process.  Loop
 * devices are global, so the only ones used are attached here with
 * autoclear (they go when their mount goes) and every scenario ends by
 * checking that no loop device is backed by a file under the temp directory
 * and that no mount is left under it.  A per-test teardown unmounts and
 * removes whatever a failed test left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/storage/storage.h"
#include "libcell/storage/storage-internal.h"

static char tmpdir[] = "/tmp/celltest-storage-XXXXXX";
static bool have_tmpdir;

static bool is_root(void)
{
	return geteuid() == 0;
}

static char *tpath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *tpath(const char *fmt, ...)
{
	_cleanup_free_ char *rel = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		abort();
	va_end(ap);
	return xasprintf("%s/%s", tmpdir, rel);
}

static void ok(int r, const struct cell_error *err)
{
	char text[1024];

	if (r < 0)
		fail_msg("%s", cell_err_text(err, text, sizeof(text)));
}

static double now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- files ---- */

static void put(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(cell_write_all(fd, text, strlen(text)), 0);
}

static void putf(const char *root, const char *rel, const char *text)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);

	put(p, text);
}

static void mk(const char *root, const char *rel, mode_t mode)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);

	assert_int_equal(mkdir(p, mode), 0);
	assert_int_equal(chmod(p, mode), 0); /* past the umask */
}

static bool has_file(const char *root, const char *rel, const char *text)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
	_cleanup_free_ char *got = NULL;

	if (cell_read_file(p, &got, NULL) < 0)
		return false;
	return streq(got, text);
}

static bool exists(const char *root, const char *rel)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
	struct stat s;

	return lstat(p, &s) == 0;
}

static int count_entries(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));)
		n += !streq(de->d_name, ".") && !streq(de->d_name, "..");
	return n;
}

/* ---- leaks ---- */

/* Mount points at or below prefix in this namespace. */
static int mounts_under(const char *prefix)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mp[4096];
	size_t n = strlen(prefix);
	int found = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 &&
		    strncmp(mp, prefix, n) == 0 && (mp[n] == '/' || mp[n] == '\0'))
			found++;
	return found;
}

/* Loop devices whose backing file is below prefix. */
static int loops_under(const char *prefix)
{
	int found = 0;

	for (int i = 0; i < 1024; i++) {
		_cleanup_free_ char *p = xasprintf("/sys/block/loop%d/loop/backing_file", i);
		_cleanup_free_ char *file = NULL;
		if (cell_read_file(p, &file, NULL) == 0 && cell_startswith(file, prefix))
			found++;
	}
	return found;
}

/* The kernel detaches an autoclear device when the last opener is gone; give
 * a racing opener (udev's probe) a moment. */
static void assert_no_leaks(const char *prefix)
{
	for (int i = 0; i < 40 && loops_under(prefix); i++)
		(void)usleep(50 * 1000);
	assert_int_equal(mounts_under(prefix), 0);
	assert_int_equal(loops_under(prefix), 0);
}

/* Unmount whatever is left below tmpdir (deepest first): failed tests. */
static void scrub_mounts(void)
{
	for (int round = 0; round < 64 && mounts_under(tmpdir); round++) {
		_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
		char line[4096], mp[4096], deepest[4096] = "";
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 &&
			    cell_startswith(mp, tmpdir) && strlen(mp) >= strlen(deepest))
				(void)snprintf(deepest, sizeof(deepest), "%s", mp);
		if (deepest[0])
			(void)umount2(deepest, MNT_DETACH);
	}
}

static int teardown_test(void **state)
{
	struct cell_error err;
	_cleanup_free_ char *work = tpath("t");

	if (!have_tmpdir)
		return 0;
	scrub_mounts();
	(void)storage_remove(work, &err);
	return 0;
}

/* ---- the template ---- */

#define OLD_TIME 1000000000

static void set_mtime(const char *root, const char *rel)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
	const struct timespec ts[2] = {{OLD_TIME, 0}, {OLD_TIME, 0}};

	assert_int_equal(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void make_nodes(const char *root)
{
	_cleanup_free_ char *null = xasprintf("%s/dev/null", root);
	_cleanup_free_ char *fifo = xasprintf("%s/dev/fifo", root);
	_cleanup_free_ char *sock = xasprintf("%s/dev/sock", root);

	mk(root, "dev", 0755);
	assert_int_equal(mknod(null, S_IFCHR | 0666, makedev(1, 3)), 0);
	assert_int_equal(mknod(fifo, S_IFIFO | 0600, 0), 0);
	assert_int_equal(mknod(sock, S_IFSOCK | 0600, 0), 0);
}

static void make_links(const char *root)
{
	_cleanup_free_ char *bb = xasprintf("%s/bin/busybox", root);
	_cleanup_free_ char *ls = xasprintf("%s/bin/ls", root);
	_cleanup_free_ char *abs = xasprintf("%s/etc/shadow-link", root);
	_cleanup_free_ char *up = xasprintf("%s/escape", root);
	_cleanup_free_ char *rel = xasprintf("%s/lib", root);

	putf(root, "bin/busybox", "#!busybox\n");
	assert_int_equal(link(bb, ls), 0);
	assert_int_equal(symlink("/etc/shadow", abs), 0); /* out of the tree: not followed */
	assert_int_equal(symlink("../../../../..", up), 0);
	assert_int_equal(symlink("usr/lib", rel), 0);
}

static void make_special_files(const char *root)
{
	_cleanup_free_ char *su = xasprintf("%s/bin/su", root);
	_cleanup_free_ char *home = xasprintf("%s/home/user", root);
	_cleanup_free_ char *prof = xasprintf("%s/home/user/.profile", root);
	_cleanup_free_ char *host = xasprintf("%s/etc/hostname", root);
	_cleanup_free_ char *sparse = xasprintf("%s/var/sparse", root);

	put(su, "#!su\n");
	assert_int_equal(chmod(su, 04755), 0);
	assert_int_equal(setxattr(su, "trusted.celltest", "secret", 6, 0), 0);
	assert_int_equal(setxattr(host, "user.celltest", "hello", 5, 0), 0);
	put(prof, "PS1=x\n");
	assert_int_equal(chown(prof, 1000, 1000), 0);
	assert_int_equal(chown(home, 1000, 1000), 0);
	_cleanup_close_ int fd = open(sparse, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "data", 4, 4 << 20), 4);
	assert_int_equal(ftruncate(fd, 8 << 20), 0);
}

/* A small root filesystem with one of everything a copy must keep, plus
 * `nfiles` plain files under many/. */
static void make_template(const char *root, int nfiles)
{
	static const struct {
		const char *rel;
		mode_t mode;
	} dirs[] = {{"bin", 0755},	 {"etc", 0755},	 {"home", 0755},
		    {"home/user", 0700}, {"tmp", 01777}, {"usr", 0755},
		    {"usr/lib", 0755},	 {"var", 0755},	 {"many", 0755}};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		mk(root, dirs[i].rel, dirs[i].mode);
	putf(root, "etc/hostname", "template\n");
	make_nodes(root);
	make_links(root);
	make_special_files(root);
	for (int i = 0; i < nfiles; i++) {
		_cleanup_free_ char *rel = xasprintf("many/f%d", i);
		putf(root, rel, "x\n");
	}
	set_mtime(root, "etc/hostname");
	set_mtime(root, "etc");
}

static void assert_mode(const char *root, const char *rel, mode_t mode, uid_t uid)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
	struct stat s;

	assert_int_equal(lstat(p, &s), 0);
	if (s.st_mode != mode || s.st_uid != uid)
		fail_msg("%s: mode %o uid %u, want %o uid %u", p, s.st_mode, s.st_uid, mode, uid);
}

static void assert_symlink(const char *root, const char *rel, const char *target)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
	char buf[256];
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);

	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, target);
}

static void assert_xattr(const char *root, const char *rel, const char *key, const char *value)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
	char buf[64];
	ssize_t n = lgetxattr(p, key, buf, sizeof(buf) - 1);

	if (n < 0) {
		fail_msg("%s: xattr %s: %s", p, key, strerror(errno));
		return;
	}
	buf[n] = '\0';
	assert_string_equal(buf, value);
}

static void assert_nodes(const char *root)
{
	_cleanup_free_ char *null = xasprintf("%s/dev/null", root);
	struct stat s;

	assert_int_equal(lstat(null, &s), 0);
	assert_true(S_ISCHR(s.st_mode));
	assert_int_equal(s.st_rdev, makedev(1, 3));
	assert_mode(root, "dev/fifo", S_IFIFO | 0600, 0);
	assert_mode(root, "dev/sock", S_IFSOCK | 0600, 0);
}

static void assert_links(const char *root)
{
	_cleanup_free_ char *bb = xasprintf("%s/bin/busybox", root);
	_cleanup_free_ char *ls = xasprintf("%s/bin/ls", root);
	struct stat a, b;

	assert_int_equal(lstat(bb, &a), 0);
	assert_int_equal(lstat(ls, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_nlink, 2);
	assert_symlink(root, "etc/shadow-link", "/etc/shadow");
	assert_symlink(root, "escape", "../../../../..");
	assert_symlink(root, "lib", "usr/lib");
}

static void assert_sparse(const char *root)
{
	_cleanup_free_ char *p = xasprintf("%s/var/sparse", root);
	struct stat s;

	assert_int_equal(lstat(p, &s), 0);
	assert_int_equal(s.st_size, 8 << 20);
	if (s.st_blocks * 512 > (1 << 20))
		fail_msg("%s: %lld bytes allocated, the copy is not sparse", p,
			 (long long)s.st_blocks * 512);
}

/* The template as made above; hostname is what etc/hostname must hold now. */
static void assert_template(const char *root, const char *hostname, int nfiles)
{
	assert_true(has_file(root, "etc/hostname", hostname));
	assert_mode(root, ".", S_IFDIR | 0755, 0);
	assert_mode(root, "tmp", S_IFDIR | 01777, 0);
	assert_mode(root, "home/user", S_IFDIR | 0700, 1000);
	assert_mode(root, "home/user/.profile", S_IFREG | 0644, 1000);
	assert_mode(root, "bin/su", S_IFREG | 04755, 0);
	assert_xattr(root, "bin/su", "trusted.celltest", "secret");
	assert_xattr(root, "etc/hostname", "user.celltest", "hello");
	assert_nodes(root);
	assert_links(root);
	assert_sparse(root);
	_cleanup_free_ char *many = xasprintf("%s/many", root);
	assert_int_equal(count_entries(many), nfiles);
}

static void assert_old_times(const char *root)
{
	_cleanup_free_ char *etc = xasprintf("%s/etc", root);
	_cleanup_free_ char *host = xasprintf("%s/etc/hostname", root);
	struct stat s;

	assert_int_equal(lstat(etc, &s), 0);
	assert_int_equal(s.st_mtime, OLD_TIME);
	assert_int_equal(lstat(host, &s), 0);
	assert_int_equal(s.st_mtime, OLD_TIME);
}

/* ---- parsing (no root needed) ---- */

static void parse_ok(const char *text, enum cell_storage_kind kind, uint64_t size)
{
	struct cell_storage st = {0};
	struct cell_error err = {0};

	ok(cell_storage_parse(text, &st, &err), &err);
	assert_int_equal(st.kind, kind);
	assert_int_equal(st.image_size, size);
}

static void parse_bad(const char *text, const char *needle)
{
	struct cell_storage st = {0};
	struct cell_error err = {0};

	assert_int_equal(cell_storage_parse(text, &st, &err), -EINVAL);
	if (!strstr(err.msg, needle))
		fail_msg("\"%s\": error \"%s\" does not name \"%s\"", text, err.msg, needle);
}

static void test_parse(void **state)
{
	parse_ok("dir", CELL_STORAGE_DIR, 0);
	parse_ok("overlay", CELL_STORAGE_OVERLAY, 0);
	parse_ok("btrfs", CELL_STORAGE_BTRFS, 0);
	parse_ok("image:512M", CELL_STORAGE_IMAGE, 512ULL << 20);
	parse_ok("image:2G", CELL_STORAGE_IMAGE, 2ULL << 30);
	parse_ok("image:2g", CELL_STORAGE_IMAGE, 2ULL << 30);
	parse_ok("image:1T", CELL_STORAGE_IMAGE, 1ULL << 40);
	parse_ok("image:16384K", CELL_STORAGE_IMAGE, 16ULL << 20);
	parse_ok("image:1073741824", CELL_STORAGE_IMAGE, 1ULL << 30);
	parse_bad("image", "image:SIZE");
	parse_bad("image:", "\"\"");
	parse_bad("image:abc", "\"abc\"");
	parse_bad("image:2X", "\"2X\"");
	parse_bad("image:-1G", "\"-1G\"");
	parse_bad("image:1M", "minimum");
	parse_bad("image:99999999999999999999", "99999999999999999999");
	parse_bad("image:17179869184G", "17179869184G");
	parse_bad("zfs", "\"zfs\"");
	parse_bad("", "\"\"");
	parse_bad(NULL, "no storage");
}

static void format_is(const char *text, const char *want)
{
	struct cell_storage st = {0};
	struct cell_error err = {0};

	ok(cell_storage_parse(text, &st, &err), &err);
	_cleanup_free_ char *got = cell_storage_format(&st);
	assert_string_equal(got, want);
}

static void test_format(void **state)
{
	format_is("dir", "dir");
	format_is("overlay", "overlay");
	format_is("btrfs", "btrfs");
	format_is("image:512M", "image:512M");
	format_is("image:2048M", "image:2G");
	format_is("image:16777217", "image:16777217");
	format_is("image:17408K", "image:17M");
}

static void test_snapshot_names(void **state)
{
	assert_true(cell_storage_snapshot_name_valid("s1"));
	assert_true(cell_storage_snapshot_name_valid("before-upgrade_2.0"));
	assert_false(cell_storage_snapshot_name_valid(""));
	assert_false(cell_storage_snapshot_name_valid(NULL));
	assert_false(cell_storage_snapshot_name_valid(".tmp-x"));
	assert_false(cell_storage_snapshot_name_valid("-x"));
	assert_false(cell_storage_snapshot_name_valid("a/b"));
	assert_false(cell_storage_snapshot_name_valid(".."));
	char long_name[70];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	assert_false(cell_storage_snapshot_name_valid(long_name));
}

static void test_init_needs_absolute_dir(void **state)
{
	struct cell_storage st = {0};
	struct cell_error err = {0};

	assert_int_equal(cell_storage_init(&st, "dir", "relative/c1", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "relative/c1"));
	assert_null(st.dir);
}

/* ---- the lifecycle on one backend ---- */

struct scenario {
	const char *kind;  /* "dir", "overlay", "btrfs", "image:64M" */
	const char *store; /* holds c1 and c2 */
	const char *tmpl;  /* made with make_template(tmpl, NFILES) */
};

#define NFILES 20

static void init_at(struct cell_storage *st, const char *kind, const char *store, const char *name)
{
	struct cell_error err = {0};
	_cleanup_free_ char *dir = xasprintf("%s/%s", store, name);

	ok(cell_storage_init(st, kind, dir, &err), &err);
}

static void do_mount(const struct cell_storage *st)
{
	struct cell_error err = {0};

	ok(cell_storage_mount(st, &err), &err);
}

static void do_unmount(const struct cell_storage *st)
{
	struct cell_error err = {0};

	ok(cell_storage_unmount(st, &err), &err);
	assert_false(cell_storage_is_mounted(st));
}

static bool mounts(const struct cell_storage *st)
{
	return st->kind == CELL_STORAGE_OVERLAY || st->kind == CELL_STORAGE_IMAGE;
}

/* create, mount, write, unmount, mount again: the write is still there. */
static void step_create(const struct cell_storage *st, const char *tmpl, const char *rootfs)
{
	struct cell_error err = {0};

	ok(cell_storage_create(st, tmpl, &err), &err);
	assert_false(cell_storage_is_mounted(st));
	do_mount(st);
	assert_true(cell_storage_is_mounted(st) == mounts(st));
	assert_template(rootfs, "template\n", NFILES);
	assert_old_times(rootfs);
	putf(rootfs, "new.txt", "one\n");
	putf(rootfs, "etc/hostname", "changed\n");
	_cleanup_free_ char *f0 = xasprintf("%s/many/f0", rootfs);
	assert_int_equal(unlink(f0), 0); /* overlay: a whiteout that copies must keep */
	do_unmount(st);
	do_mount(st);
	assert_true(has_file(rootfs, "new.txt", "one\n"));
	assert_true(has_file(rootfs, "etc/hostname", "changed\n"));
	/* what a running container's storage refuses */
	if (mounts(st)) {
		assert_int_equal(cell_storage_mount(st, &err), -EBUSY);
		assert_int_equal(cell_storage_snapshot(st, "live", NULL, &err), -EBUSY);
		assert_non_null(strstr(err.msg, "mounted"));
	}
	do_unmount(st);
	assert_int_equal(cell_storage_create(st, tmpl, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "already exists"));
}

static void step_snapshots(const struct cell_storage *st, const char *rootfs)
{
	struct cell_error err = {0};
	struct cell_storage_snapshot *list = NULL;
	_cleanup_free_ char *auto_name = NULL;
	size_t n = 0;

	ok(cell_storage_snapshot(st, "s1", NULL, &err), &err);
	ok(cell_storage_snapshot(st, NULL, &auto_name, &err), &err);
	assert_string_equal(auto_name, "snap0");
	assert_int_equal(cell_storage_snapshot(st, "s1", NULL, &err), -EEXIST);
	assert_int_equal(cell_storage_snapshot(st, "../x", NULL, &err), -EINVAL);
	ok(cell_storage_snapshots(st, &list, &n, &err), &err);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "s1");
	assert_string_equal(list[1].name, "snap0");
	cell_storage_snapshots_free(list, n);
	/* change things after the snapshot */
	do_mount(st);
	_cleanup_free_ char *gone = xasprintf("%s/new.txt", rootfs);
	assert_int_equal(unlink(gone), 0);
	putf(rootfs, "after.txt", "later\n");
	do_unmount(st);
}

static void step_rollback(const struct cell_storage *st, const char *rootfs)
{
	struct cell_error err = {0};

	assert_int_equal(cell_storage_rollback(st, "nope", &err), -ENOENT);
	assert_non_null(strstr(err.msg, "nope"));
	ok(cell_storage_rollback(st, "s1", &err), &err);
	do_mount(st);
	assert_true(has_file(rootfs, "new.txt", "one\n"));
	assert_false(exists(rootfs, "after.txt"));
	assert_template(rootfs, "changed\n", NFILES - 1);
	assert_false(exists(rootfs, "many/f0"));
	do_unmount(st);
	_cleanup_free_ char *leftover = storage_path(st, "storage/rollback");
	struct stat s;
	assert_int_equal(lstat(leftover, &s), -1);
}

static void step_clone(const struct cell_storage *st, const struct cell_storage *st2,
		       const char *rootfs)
{
	struct cell_error err = {0};
	_cleanup_free_ char *rootfs2 = cell_storage_rootfs(st2);

	ok(cell_storage_clone(st, st2, &err), &err);
	assert_int_equal(cell_storage_clone(st, st2, &err), -EEXIST);
	do_mount(st2);
	assert_true(has_file(rootfs2, "new.txt", "one\n"));
	assert_template(rootfs2, "changed\n", NFILES - 1);
	assert_false(exists(rootfs2, "many/f0"));
	putf(rootfs2, "clone-only.txt", "2\n");
	do_unmount(st2);
	do_mount(st);
	assert_false(exists(rootfs, "clone-only.txt"));
	do_unmount(st);
}

static void step_usage(const struct cell_storage *st)
{
	struct cell_error err = {0};
	struct cell_storage_usage u = {0};

	ok(cell_storage_usage(st, &u, &err), &err);
	assert_true(u.data > 0);
	assert_true(u.snapshots > 0);
	assert_int_equal(u.limit, st->kind == CELL_STORAGE_IMAGE ? st->image_size : 0);
	print_message("    %s usage: data %llu KiB, snapshots %llu KiB\n",
		      cell_storage_kind_name(st->kind), (unsigned long long)u.data >> 10,
		      (unsigned long long)u.snapshots >> 10);
}

/* An immutable file inside the container must not stop destroy. */
static void make_immutable(const struct cell_storage *st, const char *rootfs)
{
	_cleanup_free_ char *p = xasprintf("%s/immutable", rootfs);
	int flags = FS_IMMUTABLE_FL;

	do_mount(st);
	put(p, "x");
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	int r = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	(void)close(fd);
	assert_int_equal(r, 0);
	do_unmount(st);
}

static void step_destroy(const struct cell_storage *st, const struct cell_storage *st2)
{
	struct cell_error err = {0};
	struct cell_storage_snapshot *list = NULL;
	size_t n = 0;
	struct stat s;

	ok(cell_storage_snapshot_delete(st, "snap0", &err), &err);
	assert_int_equal(cell_storage_snapshot_delete(st, "snap0", &err), -ENOENT);
	ok(cell_storage_snapshots(st, &list, &n, &err), &err);
	assert_int_equal(n, 1);
	cell_storage_snapshots_free(list, n);
	do_mount(st); /* destroy unmounts first */
	ok(cell_storage_destroy(st, &err), &err);
	ok(cell_storage_destroy(st2, &err), &err);
	assert_int_equal(lstat(st->dir, &s), -1);
	assert_int_equal(lstat(st2->dir, &s), -1);
	ok(cell_storage_destroy(st, &err), &err); /* nothing there: fine */
}

static void run_scenario(const struct scenario *sc)
{
	struct cell_storage st = {0}, st2 = {0};
	double t0 = now_ms();

	init_at(&st, sc->kind, sc->store, "c1");
	init_at(&st2, sc->kind, sc->store, "c2");
	_cleanup_free_ char *rootfs = cell_storage_rootfs(&st);
	step_create(&st, sc->tmpl, rootfs);
	step_snapshots(&st, rootfs);
	step_rollback(&st, rootfs);
	step_clone(&st, &st2, rootfs);
	step_usage(&st);
	make_immutable(&st, rootfs);
	step_destroy(&st, &st2);
	assert_no_leaks(sc->store);
	print_message("    %s lifecycle: %.1f ms\n", sc->kind, now_ms() - t0);
	cell_storage_release(&st);
	cell_storage_release(&st2);
}

/* tmpdir/t/{store,tmpl}: a fresh work area per test */
static void work_area(char **store, char **tmpl, int nfiles)
{
	_cleanup_free_ char *t = tpath("t");

	assert_int_equal(mkdir(t, 0700), 0);
	*store = tpath("t/store");
	*tmpl = tpath("t/tmpl");
	assert_int_equal(mkdir(*store, 0700), 0);
	assert_int_equal(mkdir(*tmpl, 0755), 0);
	make_template(*tmpl, nfiles);
}

static void test_backend(const char *kind)
{
	_cleanup_free_ char *store = NULL, *tmpl = NULL;

	if (!is_root())
		skip();
	work_area(&store, &tmpl, NFILES);
	const struct scenario sc = {kind, store, tmpl};
	run_scenario(&sc);
}

static void test_dir(void **state)
{
	test_backend("dir");
}

static void test_overlay(void **state)
{
	test_backend("overlay");
}

static void test_image(void **state)
{
	test_backend("image:64M");
}

/* ---- btrfs on a loop device of its own ---- */

static void make_btrfs(const char *img, const char *mnt)
{
	struct cell_error err = {0};
	const char *argv[] = {"mkfs.btrfs", "-q", "-f", img, NULL};
	_cleanup_close_ int fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 256 << 20), 0);
	ok(storage_run(argv, &err), &err);
	assert_int_equal(mkdir(mnt, 0700), 0);
	ok(storage_loop_mount(img, "btrfs", mnt, &err), &err);
}

static bool is_subvolume(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd >= 0 && storage_btrfs_is_subvolume(fd);
}

static int subvolume_count(const char *mnt)
{
	_cleanup_free_ char *cmd = xasprintf("btrfs subvolume list %s", mnt);
	FILE *p = popen(cmd, "r");
	char line[512];
	int n = 0;

	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		n++;
	assert_int_equal(pclose(p), 0);
	return n;
}

/* The snapshots are read-only subvolumes; rootfs and clones writable ones. */
static void btrfs_shapes(const char *store, const char *tmpl)
{
	struct cell_storage st = {0};
	struct cell_error err = {0};

	init_at(&st, "btrfs", store, "shape");
	ok(cell_storage_create(&st, tmpl, &err), &err);
	ok(cell_storage_snapshot(&st, "ro", NULL, &err), &err);
	_cleanup_free_ char *rootfs = cell_storage_rootfs(&st);
	_cleanup_free_ char *snap = storage_path(&st, "snapshots/ro/rootfs");
	_cleanup_free_ char *inside = xasprintf("%s/x", snap);
	assert_true(is_subvolume(rootfs));
	assert_true(is_subvolume(snap));
	assert_int_equal(open(inside, O_WRONLY | O_CREAT | O_CLOEXEC, 0600), -1);
	assert_int_equal(errno, EROFS);
	ok(cell_storage_destroy(&st, &err), &err);
	cell_storage_release(&st);
}

/* A template that is a plain directory: a new subvolume filled by copying. */
static void btrfs_plain_template(const char *store, const char *mnt)
{
	struct cell_storage st = {0};
	struct cell_error err = {0};
	_cleanup_free_ char *plain = xasprintf("%s/plain", mnt);

	assert_int_equal(mkdir(plain, 0755), 0);
	make_template(plain, 3);
	init_at(&st, "btrfs", store, "fromplain");
	ok(cell_storage_create(&st, plain, &err), &err);
	_cleanup_free_ char *rootfs = cell_storage_rootfs(&st);
	assert_true(is_subvolume(rootfs));
	assert_template(rootfs, "template\n", 3);
	ok(cell_storage_destroy(&st, &err), &err);
	cell_storage_release(&st);
}

static void test_btrfs(void **state)
{
	struct cell_error err = {0};
	_cleanup_free_ char *t = tpath("t"), *img = tpath("t/btrfs.img");
	_cleanup_free_ char *mnt = tpath("t/btrfs"), *store = tpath("t/btrfs/containers");
	_cleanup_free_ char *tmpl = tpath("t/btrfs/tmpl");

	if (!is_root())
		skip();
	assert_int_equal(mkdir(t, 0700), 0);
	make_btrfs(img, mnt);
	ok(cell_storage_template_mkdir(tmpl, &err), &err);
	assert_true(is_subvolume(tmpl));
	make_template(tmpl, NFILES);
	assert_int_equal(mkdir(store, 0700), 0);
	const struct scenario sc = {"btrfs", store, tmpl};
	run_scenario(&sc);
	btrfs_shapes(store, tmpl);
	btrfs_plain_template(store, mnt);
	assert_int_equal(subvolume_count(mnt), 1); /* the template's only */
	ok(storage_umount(mnt, &err), &err);
	assert_no_leaks(tmpdir);
}

static void test_btrfs_needs_btrfs(void **state)
{
	struct cell_storage st = {0};
	struct cell_error err = {0};
	_cleanup_free_ char *store = NULL, *tmpl = NULL;
	struct stat s;

	if (!is_root())
		skip();
	work_area(&store, &tmpl, 1);
	init_at(&st, "btrfs", store, "c1");
	assert_int_equal(cell_storage_create(&st, tmpl, &err), -ENOTSUP);
	if (!strstr(err.msg, "btrfs storage needs the store on btrfs (it is ext4)") &&
	    !strstr(err.msg, "btrfs storage needs the store on btrfs (it is tmpfs)"))
		fail_msg("unexpected: %s", err.msg);
	print_message("    %s\n", err.msg);
	assert_int_equal(lstat(st.dir, &s), -1); /* made by create, removed by it */
	cell_storage_release(&st);
}

/* ---- overlay: O(1) in the template's size ---- */

struct timing {
	double create, clone;
	uint64_t bytes;
};

static void overlay_cost(const char *store, const char *tmpl, const char *kind, struct timing *t)
{
	struct cell_storage a = {0}, b = {0};
	struct cell_error err = {0};
	struct cell_storage_usage ua, ub;

	init_at(&a, kind, store, "a");
	init_at(&b, kind, store, "b");
	double t0 = now_ms();
	ok(cell_storage_create(&a, tmpl, &err), &err);
	double t1 = now_ms();
	ok(cell_storage_clone(&a, &b, &err), &err);
	double t2 = now_ms();
	ok(cell_storage_usage(&a, &ua, &err), &err);
	ok(cell_storage_usage(&b, &ub, &err), &err);
	*t = (struct timing){t1 - t0, t2 - t1, ua.data + ub.data};
	if (a.kind == CELL_STORAGE_OVERLAY) {
		_cleanup_free_ char *ua_dir = storage_path(&a, "storage/upper");
		_cleanup_free_ char *ub_dir = storage_path(&b, "storage/upper");
		assert_int_equal(count_entries(ua_dir), 0); /* nothing of the template copied */
		assert_int_equal(count_entries(ub_dir), 0);
	}
	ok(cell_storage_destroy(&a, &err), &err);
	ok(cell_storage_destroy(&b, &err), &err);
	cell_storage_release(&a);
	cell_storage_release(&b);
}

static void test_overlay_is_o1(void **state)
{
	static const int sizes[] = {20, 2000};
	struct timing ov[2], dir[2];

	if (!is_root())
		skip();
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		_cleanup_free_ char *store = NULL, *tmpl = NULL, *t = tpath("t");
		struct cell_error err = {0};
		work_area(&store, &tmpl, sizes[i]);
		overlay_cost(store, tmpl, "overlay", &ov[i]);
		overlay_cost(store, tmpl, "dir", &dir[i]);
		print_message("    %4d files: overlay create %6.2f ms clone %6.2f ms %4llu KiB | "
			      "dir create %7.2f ms clone %7.2f ms %6llu KiB\n",
			      sizes[i], ov[i].create, ov[i].clone,
			      (unsigned long long)ov[i].bytes >> 10, dir[i].create, dir[i].clone,
			      (unsigned long long)dir[i].bytes >> 10);
		ok(storage_remove(t, &err), &err);
	}
	/* space: the same few directory blocks whatever the template holds */
	assert_int_equal(ov[0].bytes, ov[1].bytes);
	assert_true(ov[1].bytes < 64 * 1024);
	assert_true(dir[1].bytes > dir[0].bytes + 1000 * 4096); /* the contrast */
	assert_no_leaks(tmpdir);
}

/* ---- image:SIZE is a hard quota ---- */

static uint64_t free_bytes(const char *path)
{
	struct statvfs sv;

	assert_int_equal(statvfs(path, &sv), 0);
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* Write 1 MiB blocks until the filesystem is full; the bytes written. */
static uint64_t fill_until_enospc(const char *path, uint64_t limit)
{
	_cleanup_free_ char *buf = xmalloc(1 << 20);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	uint64_t total = 0;
	ssize_t n = 0;

	assert_true(fd >= 0);
	memset(buf, 0xa5, 1 << 20);
	while (total < limit && (n = write(fd, buf, 1 << 20)) > 0)
		total += (uint64_t)n;
	if (n >= 0)
		n = fsync(fd);
	assert_int_equal(n, -1);
	assert_int_equal(errno, ENOSPC);
	return total;
}

static void test_image_quota(void **state)
{
	struct cell_storage st = {0};
	struct cell_error err = {0};
	_cleanup_free_ char *store = NULL, *tmpl = NULL;
	struct stat s;
	uint64_t used = 0, size = 32ULL << 20;

	if (!is_root())
		skip();
	work_area(&store, &tmpl, 1);
	init_at(&st, "image:32M", store, "q");
	uint64_t before = free_bytes(store);
	ok(cell_storage_create(&st, tmpl, &err), &err);
	do_mount(&st);
	_cleanup_free_ char *rootfs = cell_storage_rootfs(&st);
	_cleanup_free_ char *big = xasprintf("%s/big", rootfs);
	uint64_t written = fill_until_enospc(big, 4 * size);
	do_unmount(&st);
	uint64_t after = free_bytes(store);
	_cleanup_free_ char *img = storage_path(&st, "storage/disk.img");
	assert_int_equal(stat(img, &s), 0);
	ok(storage_du(store, &used, &err), &err);
	print_message("    image:32M: wrote %llu MiB before ENOSPC; store holds %llu KiB "
		      "(disk.img %llu KiB allocated); host free space -%lld KiB\n",
		      (unsigned long long)written >> 20, (unsigned long long)used >> 10,
		      (unsigned long long)s.st_blocks / 2,
		      ((long long)before - (long long)after) / 1024);
	assert_true(written < size);
	assert_int_equal(s.st_size, size);
	/* reserved in full at create (a sparse image lost writes on a full store), plus
	 * the host filesystem's own extent blocks at most */
	assert_true((uint64_t)s.st_blocks * 512 >= size);
	assert_true((uint64_t)s.st_blocks * 512 <= size + (256 << 10));
	assert_true(used <= size + (1 << 20)); /* the image, the template, a few dirs */
	/* other processes write to this disk too: only a coarse bound is fair */
	assert_true((int64_t)(before - after) < (int64_t)(size + (64 << 20)));
	ok(cell_storage_destroy(&st, &err), &err);
	cell_storage_release(&st);
	assert_no_leaks(tmpdir);
}

/* ---- failures leave nothing behind ---- */

static void assert_create_fails_clean(const char *kind, const char *store, const char *tmpl,
				      int want)
{
	struct cell_storage st = {0};
	struct cell_error err = {0};
	struct stat s;

	init_at(&st, kind, store, "broken");
	int r = cell_storage_create(&st, tmpl, &err);
	print_message("    %s: %s\n", kind, err.msg);
	if (want)
		assert_int_equal(r, want);
	else
		assert_true(r < 0);
	assert_int_equal(lstat(st.dir, &s), -1); /* st.dir was made by create, so it went too */
	assert_no_leaks(st.dir);
	cell_storage_release(&st);
}

/* A store too small for the template: ENOSPC half way through a copy. */
static void test_failed_create_cleans_up(void **state)
{
	struct cell_error err = {0};
	_cleanup_free_ char *store = NULL, *tmpl = NULL;
	_cleanup_free_ char *tiny = tpath("t/tiny"), *missing = tpath("t/missing");

	if (!is_root())
		skip();
	work_area(&store, &tmpl, 10);
	_cleanup_free_ char *blob = xasprintf("%s/blob", tmpl);
	_cleanup_close_ int fd = open(blob, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	_cleanup_free_ char *mb = xzalloc(1 << 20);
	for (int i = 0; i < 24; i++) /* 24 MiB of data, more than image:16M holds */
		assert_int_equal(write(fd, mb, 1 << 20), 1 << 20);
	assert_int_equal(mkdir(tiny, 0700), 0);
	assert_int_equal(mount("celltest", tiny, "tmpfs", 0, "size=2m"), 0);
	assert_create_fails_clean("dir", tiny, tmpl, -ENOSPC);
	assert_create_fails_clean("image:16M", store, tmpl, -ENOSPC);
	assert_create_fails_clean("image:16M", tiny, tmpl, 0); /* mkfs or the copy runs out */
	assert_create_fails_clean("overlay", store, missing, -ENOENT);
	assert_create_fails_clean("overlay", store, NULL, -EINVAL);
	ok(storage_umount(tiny, &err), &err);
	assert_no_leaks(tmpdir);
}

/* While something still uses the mounted rootfs (a running container),
 * unmount and destroy fail with EBUSY and leave the storage whole. */
static void busy_storage_survives(const struct cell_storage *st, const char *tmpl)
{
	struct cell_error err = {0};
	_cleanup_free_ char *rootfs = cell_storage_rootfs(st);
	_cleanup_free_ char *busy = xasprintf("%s/etc/hostname", rootfs);

	ok(cell_storage_create(st, tmpl, &err), &err);
	do_mount(st);
	int fd = open(busy, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	int r = cell_storage_destroy(st, &err);
	(void)close(fd);
	assert_int_equal(r, -EBUSY);
	print_message("    %s\n", err.msg);
	assert_true(cell_storage_is_mounted(st));
	assert_true(has_file(rootfs, "etc/hostname", "template\n"));
	ok(cell_storage_destroy(st, &err), &err);
}

/* Storage refuses what would lose data or cross into other mounts. */
static void test_refusals(void **state)
{
	struct cell_storage a = {0}, b = {0};
	struct cell_error err = {0};
	_cleanup_free_ char *store = NULL, *tmpl = NULL;

	if (!is_root())
		skip();
	work_area(&store, &tmpl, 1);
	init_at(&a, "dir", store, "a");
	init_at(&b, "overlay", store, "b");
	assert_int_equal(cell_storage_snapshot(&a, "s", NULL, &err), -ENOENT); /* no storage yet */
	ok(cell_storage_create(&a, tmpl, &err), &err);
	assert_int_equal(cell_storage_clone(&a, &b, &err), -EINVAL); /* kinds differ */
	assert_non_null(strstr(err.msg, "kinds differ"));
	assert_int_equal(cell_storage_clone(&a, &a, &err), -EINVAL);
	/* a mount inside a dir rootfs is someone else's: destroy stops at it */
	_cleanup_free_ char *rootfs = cell_storage_rootfs(&a);
	_cleanup_free_ char *inner = xasprintf("%s/tmp", rootfs);
	assert_int_equal(mount("celltest", inner, "tmpfs", 0, "size=1m"), 0);
	putf(inner, "keep", "me");
	assert_int_equal(cell_storage_destroy(&a, &err), -EBUSY);
	assert_true(has_file(inner, "keep", "me"));
	assert_int_equal(umount2(inner, 0), 0);
	ok(cell_storage_destroy(&a, &err), &err);
	busy_storage_survives(&b, tmpl);
	cell_storage_release(&a);
	cell_storage_release(&b);
}

/* ---- setup ---- */

static int setup(void **state)
{
	if (!is_root())
		return 0;
	/* a private copy of the mount table: nothing mounted here reaches the host */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -1;
	if (!mkdtemp(tmpdir))
		return -1;
	have_tmpdir = true;
	return 0;
}

static int teardown(void **state)
{
	struct cell_error err = {0};

	if (!have_tmpdir)
		return 0;
	scrub_mounts();
	return storage_remove(tmpdir, &err) < 0 ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_snapshot_names),
	    cmocka_unit_test(test_init_needs_absolute_dir),
	    cmocka_unit_test_teardown(test_dir, teardown_test),
	    cmocka_unit_test_teardown(test_overlay, teardown_test),
	    cmocka_unit_test_teardown(test_image, teardown_test),
	    cmocka_unit_test_teardown(test_btrfs, teardown_test),
	    cmocka_unit_test_teardown(test_btrfs_needs_btrfs, teardown_test),
	    cmocka_unit_test_teardown(test_overlay_is_o1, teardown_test),
	    cmocka_unit_test_teardown(test_image_quota, teardown_test),
	    cmocka_unit_test_teardown(test_failed_create_cleans_up, teardown_test),
	    cmocka_unit_test_teardown(test_refusals, teardown_test),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
