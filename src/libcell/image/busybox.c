/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The busybox template: Debian's busybox-static, one symlink per applet as
 * `busybox --list-full` names them, and the few files busybox init needs to
 * boot a system container (see image.h for the signals it understands).
 */
#include "image-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSYBOX "/bin/busybox"

static const struct {
	const char *path;
	mode_t mode;
} dirs[] = {
    {"bin", 0755}, {"sbin", 0755},	 {"usr", 0755},	     {"usr/bin", 0755}, {"usr/sbin", 0755},
    {"etc", 0755}, {"etc/init.d", 0755}, {"dev", 0755},	     {"proc", 0555},	{"sys", 0555},
    {"run", 0755}, {"tmp", 01777},	 {"root", 0700},     {"home", 0755},	{"mnt", 0755},
    {"var", 0755}, {"var/log", 0755},	 {"var/tmp", 01777},
};

/*
 * inittab: busybox ignores the runlevel field; an empty tty field means the
 * init's own stdio, the container console.  askfirst waits for Enter
 * before starting the shell, so an unwatched console stays quiet.
 */
static const char inittab[] =
    "# cell: busybox init of a system container (src/libcell/image/image.h)\n"
    "::sysinit:/etc/init.d/rcS\n"
    "::askfirst:-/bin/sh\n"
    "# SIGINT (ctrl-alt-del) powers off, as SIGUSR2 does\n"
    "::ctrlaltdel:/sbin/poweroff\n"
    "::shutdown:/etc/init.d/rcK\n";

/*
 * The runtime already mounted /proc (with its masked files and read-only
 * /proc/sys), /sys and /dev, and set the hostname: a new procfs over them
 * would unmask what the runtime hid (/proc/keys, /proc/timer_list, a
 * writable /proc/sys).  /proc is mounted only when it is absent, as under a
 * runtime that gives none; the test needs no `mountpoint` (Debian's
 * busybox-static has no such applet, and "missing" then read as "absent").
 */
static const char rcs[] = "#!/bin/sh\n"
			  "# cell: boot of a busybox system container\n"
			  "# never over the runtime's /proc: it would unmask what the runtime hid\n"
			  "[ -e /proc/self/stat ] || mount -t proc proc /proc\n"
			  "ip link set lo up 2>/dev/null\n"
			  "for s in /etc/init.d/S??*; do [ -x \"$s\" ] && \"$s\" start; done\n"
			  "exit 0\n";

static const char rck[] =
    "#!/bin/sh\n"
    "# cell: shutdown of a busybox system container\n"
    "for s in $(ls -r /etc/init.d/K??* 2>/dev/null); do [ -x \"$s\" ] && \"$s\" stop; done\n"
    "exit 0\n";

static const struct {
	const char *path;
	mode_t mode;
	const char *text;
} files[] = {
    {"etc/passwd", 0644,
     "root:x:0:0:root:/root:/bin/sh\n"
     "daemon:x:1:1:daemon:/usr/sbin:/sbin/nologin\n"
     "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"},
    {"etc/group", 0644, "root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n"},
    /* no password: login on a getty is refused; the console shell needs none */
    {"etc/shadow", 0600, "root:*:19000:0:99999:7:::\ndaemon:*:19000::::::\nnobody:*:19000::::::\n"},
    {"etc/hostname", 0644, "busybox\n"},
    {"etc/hosts", 0644, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n"},
    {"etc/profile", 0644, "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1='\\h:\\w\\$ '\n"},
    {"etc/os-release", 0644, "NAME=BusyBox\nID=busybox\nPRETTY_NAME=\"BusyBox (cell template)\"\n"},
    {"etc/inittab", 0644, inittab},
    {"etc/init.d/rcS", 0755, rcs},
    {"etc/init.d/rcK", 0755, rck},
};

int image_elf_is_static(int fd, bool *is_static)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
		return -ENOEXEC;
	*is_static = true;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		off_t off = (off_t)(eh.e_phoff + (Elf64_Off)i * eh.e_phentsize);
		if (pread(fd, &ph, sizeof(ph), off) != (ssize_t)sizeof(ph))
			return -ENOEXEC;
		if (ph.p_type == PT_INTERP)
			*is_static = false;
	}
	return 0;
}

static int copy_busybox(const char *busybox, int rootfd, struct cell_error *err)
{
	_cleanup_close_ int in = open(busybox, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	bool is_static = false;
	struct stat st;

	if (in < 0)
		return cell_err(err, errno, "%s (install busybox-static)", busybox);
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode))
		return cell_errx(err, EINVAL, "%s: not a file", busybox);
	if (image_elf_is_static(in, &is_static) < 0 || !is_static)
		return cell_errx(err, ENOEXEC, "%s: not a static binary (install busybox-static)",
				 busybox);
	out = openat(rootfd, "bin/busybox", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out < 0)
		return cell_err(err, errno, "create bin/busybox");
	for (off_t off = 0; off < st.st_size;) {
		ssize_t n = sendfile(out, in, &off, (size_t)(st.st_size - off));
		if (n <= 0)
			return cell_err(err, n < 0 ? errno : EIO, "copy %s", busybox);
	}
	return fchmod(out, 0755) < 0 ? cell_err(err, errno, "chmod bin/busybox") : 0;
}

static void collect_line(const char *line, void *arg)
{
	cell_strv_push((char ***)arg, xstrdup(line));
}

static int list_applets(const char *busybox, char ***applets, struct cell_error *err)
{
	char *argv[] = {(char *)busybox, (char *)"--list-full", NULL};
	struct image_run run = {.argv = argv, .line = collect_line, .arg = applets};

	return image_run(&run, err);
}

/* "usr/bin/awk" -> symlink to /bin/busybox; dirs made as needed. */
static int link_applet(int rootfd, const char *applet, struct cell_error *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int dfd = -1;
	const char *slash;

	if (image_path_clean(applet, &path) < 0 || !*path)
		return cell_errx(err, EINVAL, "busybox lists a strange applet path %s", applet);
	if (streq(path, "bin/busybox"))
		return 0;
	slash = strrchr(path, '/');
	_cleanup_free_ char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
	dfd = image_open_dir(rootfd, dir, true);
	if (dfd < 0)
		return cell_err(err, dfd, "mkdir %s", dir);
	if (symlinkat(BUSYBOX, dfd, slash ? slash + 1 : path) < 0 && errno != EEXIST)
		return cell_err(err, errno, "symlink %s", path);
	return 0;
}

static int make_dirs(int rootfd, struct cell_error *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (mkdirat(rootfd, dirs[i].path, dirs[i].mode) < 0 && errno != EEXIST)
			return cell_err(err, errno, "mkdir %s", dirs[i].path);
		if (fchmodat(rootfd, dirs[i].path, dirs[i].mode, 0) < 0)
			return cell_err(err, errno, "chmod %s", dirs[i].path);
	}
	if (symlinkat("../run", rootfd, "var/run") < 0)
		return cell_err(err, errno, "symlink var/run");
	return 0;
}

static int make_files(int rootfd, struct cell_error *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		int r = image_write_at(rootfd, files[i].path, files[i].mode, files[i].text, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int image_busybox_build(const char *busybox, int rootfd, struct cell_error *err)
{
	_cleanup_strv_free_ char **applets = NULL;
	struct stat st;
	int r = make_dirs(rootfd, err);

	if (r == 0)
		r = copy_busybox(busybox, rootfd, err);
	if (r == 0)
		r = list_applets(busybox, &applets, err);
	for (size_t i = 0; r == 0 && applets && applets[i]; i++)
		r = link_applet(rootfd, applets[i], err);
	if (r == 0 && fstatat(rootfd, "sbin/init", &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = cell_errx(err, ENOENT, "%s has no init applet", busybox);
	if (r == 0)
		r = make_files(rootfd, err);
	return r;
}

int cell_template_busybox(const char *dest_rootfs, struct cell_error *err)
{
	struct image_dest d;
	int r = image_dest_open(dest_rootfs, &d, err);

	if (r < 0)
		return r;
	r = image_busybox_build(BUSYBOX, d.fd, err);
	image_dest_close(&d, r == 0);
	return r < 0 ? cell_err_prefix(err, "busybox template") : 0;
}
