/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * image/: OCI layout and docker-archive import (whiteouts, opaque dirs,
 * links, owners, xattrs, config), containment against malicious layers,
 * corrupt input, the destination contract, the busybox template (its tree,
 * and a boot + power off of busybox init in throw-away namespaces when
 * root) and, with CELL_TEST_DEBOOTSTRAP=1, the debian template (network,
 * minutes; cache in /var/cache/cell-test).
 *
 * Fixtures come from image-fixtures.py, run into a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/image/image-internal.h"
#include "libcell/image/image.h"

#define MTIME 1000000000
#define DEBIAN_CACHE "/var/cache/cell-test"

static struct {
	char tmp[64];
	char out[PATH_MAX];
	char outside[PATH_MAX];
	int n;
} fx;

static void pathf(char *buf, const char *dir, const char *rel)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, rel);
	if (n < 0 || n >= PATH_MAX)
		fail_msg("path too long: %s/%s", dir, rel);
}

/* A fresh destination path under the temporary directory. */
static void new_dest(char buf[PATH_MAX])
{
	(void)snprintf(buf, PATH_MAX, "%s/dest-%d", fx.tmp, fx.n++);
}

static void image(char buf[PATH_MAX], const char *name)
{
	pathf(buf, fx.out, name);
}

static void assert_content(const char *dir, const char *rel, const char *want)
{
	char p[PATH_MAX];
	char *text = NULL;

	pathf(p, dir, rel);
	if (cell_read_file(p, &text, NULL) < 0)
		fail_msg("%s: %s", p, strerror(errno));
	assert_string_equal(text, want);
	free(text);
}

static void assert_absent(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	pathf(p, dir, rel);
	if (lstat(p, &st) == 0)
		fail_msg("%s exists", p);
}

static struct stat lst(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	pathf(p, dir, rel);
	if (lstat(p, &st) < 0)
		fail_msg("%s: %s", p, strerror(errno));
	return st;
}

static void assert_link(const char *dir, const char *rel, const char *target)
{
	char p[PATH_MAX], buf[PATH_MAX];
	ssize_t n;

	pathf(p, dir, rel);
	n = readlink(p, buf, sizeof(buf) - 1);
	if (n < 0) {
		fail_msg("%s: not a symlink: %s", p, strerror(errno));
		return;
	}
	buf[n] = '\0';
	assert_string_equal(buf, target);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void write_text(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	pathf(p, dir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(cell_write_all(fd, text, strlen(text)), 0);
	close(fd);
}

static int setup_all(void **state)
{
	const char *src = getenv("CELL_TEST_SRCDIR");
	char cmd[3 * PATH_MAX];

	(void)snprintf(fx.tmp, sizeof(fx.tmp), "/tmp/cell-test-image.XXXXXX");
	if (!mkdtemp(fx.tmp))
		return -1;
	pathf(fx.out, fx.tmp, "fixtures");
	pathf(fx.outside, fx.tmp, "outside");
	if (mkdir(fx.out, 0755) < 0 || mkdir(fx.outside, 0755) < 0) {
		(void)cell_rm_rf(fx.tmp);
		return -1;
	}
	write_text(fx.outside, "target", "host target", 0644);
	write_text(fx.outside, "victim", "host victim", 0644);
	(void)snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/unit/image-fixtures.py %s %s",
		       src ? src : ".", fx.out, fx.outside);
	if (system(cmd) == 0)
		return 0;
	(void)cell_rm_rf(fx.tmp);
	return -1;
}

static int teardown_all(void **state)
{
	return cell_rm_rf(fx.tmp) < 0 ? -1 : 0;
}

/* ---- the good images: one tree, three sources ---- */

static void check_whiteouts(const char *d)
{
	assert_absent(d, "del/file");
	assert_content(d, "del/other", "stays");
	assert_absent(d, "del/.wh.file");
	assert_absent(d, "deldir");
	assert_absent(d, ".wh.deldir");
	/* opaque marker first in its layer: lower entries gone, the layer's own stay */
	assert_absent(d, "opq/lower1");
	assert_absent(d, "opq/subdir");
	assert_absent(d, "opq/keepdir/lowerfile");
	assert_absent(d, "opq/.wh..wh..opq");
	assert_content(d, "opq/new", "new");
	assert_content(d, "opq/keepdir/upper", "upper");
	/* opaque marker after the layer's entries */
	assert_absent(d, "opq2/old");
	assert_content(d, "opq2/fresh", "fresh");
}

static void check_links(const char *d)
{
	struct stat a = lst(d, "a/keep-lower"), b = lst(d, "a/hl");

	assert_int_equal(a.st_ino, b.st_ino); /* hardlink to a lower layer's file */
	a = lst(d, "h/orig");
	b = lst(d, "h/link");
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_nlink, 2);
	assert_link(d, "s/abs", "/etc/passwd");
	assert_link(d, "s/rel", "../a/keep-lower");
	assert_true(S_ISREG(lst(d, "replace-me").st_mode)); /* a file over a symlink */
	assert_content(d, "replace-me", "replaced");
	assert_true(S_ISREG(lst(d, "a/sub").st_mode)); /* a file over a directory */
	assert_content(d, "a/sub", "now a file");
	assert_link(d, "bin2", "usr/bin");
	assert_content(d, "usr/bin/tool", "via usrmerge symlink"); /* parent through a symlink */
}

static void check_metadata(const char *d)
{
	struct stat st = lst(d, "bin/suid");
	char p[PATH_MAX], val[16] = {0};

	assert_int_equal(st.st_mode & 07777, 04755);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1000);
	assert_int_equal(lst(d, "a/keep-lower").st_mtime, MTIME);
	assert_int_equal(lst(d, "h").st_mtime, MTIME); /* directory times set after its children */
	st = lst(d, "srv");
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_uid, 1000);
	assert_true(S_ISFIFO(lst(d, "dev/fifo").st_mode));
	if (getuid() == 0) {
		st = lst(d, "dev/null-dev");
		assert_true(S_ISCHR(st.st_mode));
		assert_int_equal(major(st.st_rdev), 1);
		assert_int_equal(minor(st.st_rdev), 3);
	}
	pathf(p, d, "a/xattr-file");
	if (getxattr(p, "user.cell", val, sizeof(val) - 1) >= 0)
		assert_string_equal(val, "yes");
	else
		assert_int_equal(errno, ENOTSUP);
}

static void check_config(const struct cell_image_config *c)
{
	char **args = cell_image_config_args(c);

	assert_string_equal(c->entrypoint[0], "/bin/app");
	assert_null(c->entrypoint[1]);
	assert_string_equal(c->cmd[1], "x");
	assert_string_equal(args[0], "/bin/app");
	assert_string_equal(args[2], "x");
	assert_null(args[3]);
	cell_strv_free(args);
	assert_string_equal(c->env[1], "FOO=bar");
	assert_string_equal(c->working_dir, "/srv");
	assert_string_equal(c->user, "app");
	assert_int_equal(c->uid, 1000);
	assert_int_equal(c->gid, 1000);
	assert_int_equal(c->n_additional_gids, 2);
	assert_int_equal(c->additional_gids[0], 2000);
	assert_int_equal(c->additional_gids[1], 3000);
	assert_string_equal(c->stop_signal, "SIGQUIT");
	assert_int_equal(c->stop_signo, SIGQUIT);
	assert_int_equal(c->n_labels, 2);
	for (size_t i = 0; i < c->n_labels; i++)
		assert_string_equal(c->labels[i].value, streq(c->labels[i].key, "b") ? "two" : "1");
	assert_string_equal(c->os, "linux");
	assert_string_equal(c->architecture, "amd64");
}

static void import_good(const char *name)
{
	char src[PATH_MAX], d[PATH_MAX];
	struct cell_image_config cfg = {0};
	struct cell_error err = {0};

	image(src, name);
	new_dest(d);
	if (cell_image_import(src, d, &cfg, &err) < 0)
		fail_msg("import %s: %s", name, err.msg);
	assert_content(d, "etc/passwd",
		       "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
	check_whiteouts(d);
	check_links(d);
	check_metadata(d);
	check_config(&cfg);
	cell_image_config_free(&cfg);
	assert_null(cfg.env);
	assert_int_equal(cell_rm_rf(d), 0);
}

static void oci_layout(void **state)
{
	import_good("good-oci");
}

static void docker_archive(void **state)
{
	import_good("good-docker.tar");
}

static void docker_archive_blobs_gzip(void **state)
{
	import_good("good-docker-new.tar.gz");
}

static void oci_nested_index(void **state)
{
	char src[PATH_MAX], d[PATH_MAX];
	struct cell_error err = {0};

	image(src, "nested-oci");
	new_dest(d);
	if (cell_image_import(src, d, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	assert_content(d, "opq/lower1", "1");
	assert_int_equal(cell_rm_rf(d), 0);
}

/* ---- refused, contained, corrupt ---- */

/* The import fails, says `says`, and leaves no destination. */
static void import_fails(const char *name, const char *says)
{
	char src[PATH_MAX], d[PATH_MAX];
	struct cell_image_config cfg = {0};
	struct cell_error err = {0};

	image(src, name);
	new_dest(d);
	assert_true(cell_image_import(src, d, &cfg, &err) < 0);
	if (getenv("CELL_TEST_VERBOSE"))
		print_message("  %s: %s\n", name, err.msg);
	if (!strstr(err.msg, says))
		fail_msg("%s: \"%s\" does not say \"%s\"", name, err.msg, says);
	assert_false(exists(d));
	assert_null(cfg.user); /* out-parameter untouched */
}

static void outside_untouched(void)
{
	assert_content(fx.outside, "target", "host target");
	assert_content(fx.outside, "victim", "host victim");
	assert_int_equal(lst(fx.outside, "target").st_nlink, 1);
	assert_absent(fx.outside, "pwned");
	assert_absent(fx.outside, "pwned2");
	assert_absent(fx.outside, "abs-escape");
	assert_absent(fx.tmp, "escape");
}

static void malicious_refused(void **state)
{
	import_fails("evil-dotdot", "entry ../escape refused");
	import_fails("evil-abs", "abs-escape refused");
	import_fails("evil-dangling", "evil/pwned: parent directory");
	import_fails("evil-hardlink", "refused (outside the tree)");
	import_fails("evil-hardlink-sym", "hl: hardlink target ev/target");
	outside_untouched();
}

static void malicious_contained(void **state)
{
	char src[PATH_MAX], d[PATH_MAX], inside[PATH_MAX];
	struct cell_error err = {0};

	image(src, "evil-contained");
	new_dest(d);
	if (cell_image_import(src, d, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	outside_untouched();
	/* symlinks resolved as if the tree were "/": the writes landed inside */
	pathf(inside, d, fx.outside);
	assert_content(inside, "pwned", "contained");
	assert_content(inside, "pwned2", "contained");
	assert_true(S_ISREG(lst(d, "x").st_mode)); /* replaced the symlink, not written through */
	assert_content(d, "x", "overwritten");
	assert_int_equal(cell_rm_rf(d), 0);
}

static void corrupt_input(void **state)
{
	char missing[PATH_MAX], d[PATH_MAX];
	struct cell_error err = {0};

	import_fails("corrupt-gzip", "gzip decompression failed");
	import_fails("truncated-gzip", "layer 1 (sha256:");
	import_fails("bad-digest", "digest mismatch");
	import_fails("damaged-tar", "tar: Damaged tar archive");
	import_fails("missing-blob", "blobs/sha256/");
	import_fails("bad-diffid", "diff_id mismatch");
	import_fails("traversal-digest", "malformed digest sha256:../");
	import_fails("truncated-docker.tar", "truncated-docker.tar");
	image(missing, "no-such-image");
	new_dest(d);
	assert_int_equal(cell_image_import(missing, d, NULL, &err), -ENOENT);
	assert_false(exists(d));
}

static void destination_contract(void **state)
{
	char src[PATH_MAX], bad[PATH_MAX], d[PATH_MAX];
	struct cell_error err = {0};

	image(src, "good-oci");
	image(bad, "bad-digest");
	new_dest(d);
	assert_int_equal(mkdir(d, 0755), 0);
	write_text(d, "mine", "keep", 0644);
	assert_int_equal(cell_image_import(src, d, NULL, &err), -EEXIST);
	assert_content(d, "mine", "keep"); /* a non-empty directory is left alone */
	assert_int_equal(cell_rm_rf(d), 0);

	/* an existing empty directory (a mounted volume): emptied on failure, kept */
	assert_int_equal(mkdir(d, 0755), 0);
	pathf(src, d, "lost+found");
	assert_int_equal(mkdir(src, 0700), 0);
	assert_true(cell_image_import(bad, d, NULL, &err) < 0);
	assert_true(exists(d));
	assert_true(exists(src));
	image(src, "good-oci");
	assert_int_equal(cell_image_import(src, d, NULL, &err), 0);
	assert_content(d, "opq/new", "new");
	assert_int_equal(cell_rm_rf(d), 0);
}

/* ---- helpers ---- */

static void user_resolution(void **state)
{
	static const struct {
		const char *user;
		int r;
		uid_t uid;
		gid_t gid;
		size_t n_groups;
	} cases[] = {
	    {"app", 0, 1000, 1000, 2},	       {"app:extra", 0, 1000, 2000, 0},
	    {"1000", 0, 1000, 1000, 2},	       {"4242:4343", 0, 4242, 4343, 0},
	    {"4242", 0, 4242, 0, 0},	       {"0", 0, 0, 0, 0},
	    {"root:app", 0, 0, 1000, 0},       {"nobody-here", -ENOENT, 0, 0, 0},
	    {"app:nogroup", -ENOENT, 0, 0, 0}, {"app:", -EINVAL, 0, 0, 0},
	};
	char src[PATH_MAX], d[PATH_MAX];
	struct cell_error err = {0};

	image(src, "good-oci");
	new_dest(d);
	assert_int_equal(cell_image_import(src, d, NULL, &err), 0);
	int rootfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cell_image_config c = {.user = xstrdup(cases[i].user)};
		int r = cell_image_user_resolve(rootfd, &c, &err);
		if (r != cases[i].r)
			fail_msg("%s: %d (%s)", cases[i].user, r, err.msg);
		if (r == 0) {
			assert_int_equal(c.uid, cases[i].uid);
			assert_int_equal(c.gid, cases[i].gid);
			assert_int_equal(c.n_additional_gids, cases[i].n_groups);
		}
		cell_image_config_free(&c);
	}
	/* the home that exec's HOME comes from (process/lookup.c) */
	char *home = cell_image_user_home(rootfd, 1000);
	assert_string_equal(home, "/home/app");
	free(home);
	home = cell_image_user_home(rootfd, 0);
	assert_string_equal(home, "/root");
	free(home);
	assert_null(cell_image_user_home(rootfd, 4242));
	close(rootfd);
	assert_int_equal(cell_rm_rf(d), 0);
}

static void paths_and_digests(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
	    {"./a//b/", "a/b"}, {".", ""}, {"./", ""}, {"a/./b", "a/b"}, {"..a/b..", "..a/b.."}};
	static const char *const refused[] = {"/etc/passwd", "../x", "a/../../x", "a/..", "//x"};
	char *out = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		assert_int_equal(image_path_clean(ok[i].in, &out), 0);
		assert_string_equal(out, ok[i].out);
		free(out);
	}
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		assert_int_equal(image_path_clean(refused[i], &out), -EINVAL);
	assert_true(image_digest_valid(
	    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	assert_false(image_digest_valid(
	    "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
	assert_false(image_digest_valid("sha256:../../etc/passwd"));
	assert_false(image_digest_valid("md5:d41d8cd98f00b204e9800998ecf8427e"));
	assert_false(image_digest_valid("sha256:e3b0"));
}

/* ---- busybox ---- */

static void busybox_tree(void **state)
{
	char d[PATH_MAX];
	struct cell_error err = {0};
	bool is_static = false;
	int fd;

	new_dest(d);
	if (cell_template_busybox(d, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(S_ISREG(lst(d, "bin/busybox").st_mode));
	assert_int_equal(lst(d, "bin/busybox").st_mode & 07777, 0755);
	assert_link(d, "sbin/init", "/bin/busybox");
	assert_link(d, "bin/sh", "/bin/busybox");
	assert_link(d, "sbin/poweroff", "/bin/busybox");
	assert_link(d, "var/run", "../run");
	assert_int_equal(lst(d, "tmp").st_mode & 07777, 01777);
	assert_int_equal(lst(d, "root").st_mode & 07777, 0700);
	assert_int_equal(lst(d, "etc/init.d/rcS").st_mode & 0111, 0111);
	assert_int_equal(lst(d, "etc/shadow").st_mode & 07777, 0600);
	assert_content(d, "etc/hostname", "busybox\n");
	char p[PATH_MAX];
	pathf(p, d, "bin/busybox");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_int_equal(image_elf_is_static(fd, &is_static), 0);
	assert_true(is_static);
	close(fd);
	if (getuid() == 0) { /* the shell runs and reads the template's passwd */
		char cmd[2 * PATH_MAX];
		(void)snprintf(
		    cmd, sizeof(cmd),
		    "test \"$(chroot %s /bin/sh -c 'id -un; ls /bin | wc -l' | head -1)\" = root",
		    d);
		assert_int_equal(system(cmd), 0);
	}
	/* existing non-empty destination: refused, left alone */
	assert_int_equal(cell_template_busybox(d, &err), -EEXIST);
	assert_true(exists(p));
	assert_int_equal(cell_rm_rf(d), 0);
}

static void busybox_needs_static(void **state)
{
	char d[PATH_MAX];
	struct cell_error err = {0};
	struct image_dest dest;

	new_dest(d);
	assert_int_equal(image_dest_open(d, &dest, &err), 0);
	assert_true(image_busybox_build("/bin/ls", dest.fd, &err) < 0);
	assert_non_null(strstr(err.msg, "not a static binary"));
	image_dest_close(&dest, false);
	assert_false(exists(d));
}

/* pid 1 of new pid/mount/net/uts/ipc namespaces: busybox init in the tree. */
static void __attribute__((noreturn)) run_init(const char *d)
{
	char proc[PATH_MAX];
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	pathf(proc, d, "proc");
	if (null < 0 || mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
	    chroot(d) < 0 || chdir("/") < 0)
		_exit(3);
	(void)dup2(null, 0);
	(void)dup2(null, 1);
	(void)dup2(null, 2);
	execl("/sbin/init", "init", (char *)NULL);
	_exit(4);
}

/* Boots init, waits for rcS, sends sig; exits 100 + the signal that ended init. */
static void __attribute__((noreturn)) boot_and_stop(const char *d, int sig)
{
	char marker[PATH_MAX];
	int status;
	pid_t init;

	if (unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		_exit(2);
	init = fork();
	if (init == 0)
		run_init(d);
	pathf(marker, d, "run/booted");
	for (int i = 0; i < 100 && !exists(marker); i++)
		usleep(100 * 1000);
	if (!exists(marker) || kill(init, sig) < 0)
		_exit(5);
	alarm(30);
	if (waitpid(init, &status, 0) < 0)
		_exit(6);
	_exit(WIFSIGNALED(status) ? 100 + WTERMSIG(status) : 50);
}

static void busybox_boots_and_powers_off(void **state)
{
	char d[PATH_MAX];
	struct cell_error err = {0};
	int status;
	pid_t pid;

	if (getuid() != 0)
		skip();
	new_dest(d);
	assert_int_equal(cell_template_busybox(d, &err), 0);
	write_text(d, "etc/init.d/S01mark", "#!/bin/sh\ntouch /run/booted\n", 0755);
	/* busybox init calls reboot(2); in a pid namespace the kernel then kills
	 * it: SIGINT for power off (SIGUSR2, and SIGINT through the inittab's
	 * ctrlaltdel -> poweroff), SIGHUP for reboot (SIGTERM) */
	static const int stop[][2] = {{SIGUSR2, SIGINT}, {SIGTERM, SIGHUP}, {SIGINT, SIGINT}};
	for (size_t i = 0; i < ARRAY_SIZE(stop); i++) {
		char marker[PATH_MAX];
		pathf(marker, d, "run/booted");
		(void)unlink(marker);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			boot_and_stop(d, stop[i][0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 100 + stop[i][1]);
	}
	assert_int_equal(cell_rm_rf(d), 0);
}

/* ---- debian (opt-in: network and minutes) ---- */

static struct timespec debian_start;

static double since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void print_progress(const char *line, void *arg)
{
	if (cell_startswith(line, "cell:") || getenv("CELL_TEST_VERBOSE"))
		print_message("  %6.1fs | %s\n", since(&debian_start), line);
	(*(int *)arg)++;
}

static double debian_create(const char *d, int *lines)
{
	struct cell_error err = {0};

	clock_gettime(CLOCK_MONOTONIC, &debian_start);
	if (cell_template_debian("bookworm", NULL, d, DEBIAN_CACHE, print_progress, lines, &err) <
	    0)
		fail_msg("%s", err.msg);
	return since(&debian_start);
}

static void check_debian(const char *d)
{
	char p[PATH_MAX], target[PATH_MAX] = {0};

	assert_true(S_ISREG(lst(d, "etc/debian_version").st_mode));
	assert_true(S_ISREG(lst(d, "usr/bin/apt-get").st_mode));
	pathf(p, d, "sbin/init");
	assert_true(readlink(p, target, sizeof(target) - 1) > 0);
	assert_non_null(strstr(target, "systemd"));
	assert_true(S_ISREG(lst(d, "usr/lib/systemd/systemd").st_mode));
	assert_content(d, "etc/hostname", "debian\n");
	assert_int_equal(lst(d, "etc/machine-id").st_size, 0);
	pathf(p, d, "var/cache/apt/archives");
	DIR *dir = opendir(p);
	struct dirent *de;
	assert_non_null(dir);
	while ((de = readdir(dir)))
		assert_null(strstr(de->d_name, ".deb")); /* the packages stay in the cache */
	closedir(dir);
}

static void debian_template(void **state)
{
	char d1[PATH_MAX], d2[PATH_MAX], d3[PATH_MAX], tree[PATH_MAX];
	_cleanup_strv_free_ char **inc = NULL;
	int lines = 0;

	if (!getenv("CELL_TEST_DEBOOTSTRAP"))
		skip();
	new_dest(d1);
	new_dest(d2);
	new_dest(d3);
	double t1 = debian_create(d1, &lines);
	check_debian(d1);
	double t2 = debian_create(d2, &lines);
	check_debian(d2);
	print_message("debian bookworm: first create %.1f s, second (cached) %.1f s\n", t1, t2);
	/* a corrupt tree cache is noticed and rebuilt (from the package cache) */
	cell_strv_push(&inc, xstrdup("systemd-sysv"));
	_cleanup_free_ char *key = image_debian_key("bookworm", inc);
	(void)snprintf(tree, sizeof(tree), DEBIAN_CACHE "/debian-bookworm-%s.rootfs.v2.tar.zst",
		       key);
	assert_int_equal(truncate(tree, lst(DEBIAN_CACHE, strrchr(tree, '/') + 1).st_size / 2), 0);
	double t3 = debian_create(d3, &lines);
	check_debian(d3);
	print_message("debian bookworm: after corrupting the tree cache %.1f s\n", t3);
	assert_true(lst(DEBIAN_CACHE, strrchr(tree, '/') + 1).st_size > 0);
	assert_int_equal(cell_rm_rf(d1), 0);
	assert_int_equal(cell_rm_rf(d2), 0);
	assert_int_equal(cell_rm_rf(d3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(paths_and_digests),
	    cmocka_unit_test(oci_layout),	    cmocka_unit_test(oci_nested_index),
	    cmocka_unit_test(docker_archive),	    cmocka_unit_test(docker_archive_blobs_gzip),
	    cmocka_unit_test(user_resolution),	    cmocka_unit_test(malicious_refused),
	    cmocka_unit_test(malicious_contained),  cmocka_unit_test(corrupt_input),
	    cmocka_unit_test(destination_contract), cmocka_unit_test(busybox_tree),
	    cmocka_unit_test(busybox_needs_static), cmocka_unit_test(busybox_boots_and_powers_off),
	    cmocka_unit_test(debian_template),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
