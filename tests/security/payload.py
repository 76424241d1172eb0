# SPDX-License-Identifier: LGPL-2.1-or-later
"""Attack tools compiled at test time and put into a container's rootfs.

    path = compile_into(rootfs, "fdlist", C_SOURCE)     # -> "/usr/local/bin/fdlist"

compiles C_SOURCE with `gcc -static` (Debian's libc6-dev ships static
glibc) and installs the binary at <rootfs>/usr/local/bin/<name>; the return
value is the path inside the container.  Builds are cached per source text
for the whole run, and installed by rename, so that a container running an
older build of the same name keeps its file.  PRELUDE holds helpers most
attack programs want (the usual headers, report(), outcome()); USERNS adds
userns_root().  flags go to gcc (e.g. -nostdlib for a program without libc).

Every attack program reports on stdout, one "key value" pair per line, so
that tests parse results with parse_report() instead of exit codes alone.
"""
import atexit
import hashlib
import os
import shutil
import subprocess
import tempfile

import pytest

CC = os.environ.get("CELLTEST_CC", "gcc")
BIN_DIR = "/usr/local/bin"
COMPILE_TIMEOUT = 60

PRELUDE = r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* "key value\n" on stdout, flushed at once: the container may be killed. */
static void report(const char *key, const char *fmt, ...)
{
	va_list ap;
	printf("%s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* "key ok" when rc >= 0, else "key E<NAME>" from the saved errno. */
static int outcome(const char *key, long rc)
{
	int e = errno;
	if (rc >= 0)
		report(key, "ok");
	else
		report(key, "%s", strerrorname_np(e) ? strerrorname_np(e) : "E?");
	errno = e;
	return rc < 0 ? -e : 0;
}
"""

# unshare(CLONE_NEWUSER | flags) and map the caller to root in it: the usual
# first step of an attack that wants "all capabilities" back.  Returns 0 or
# -errno (after reporting "<key> <result>").
USERNS = r"""
static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	int r = write(fd, text, strlen(text)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int userns_root(const char *key, int flags)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	int r;

	if (outcome(key, unshare(CLONE_NEWUSER | flags)) < 0)
		return -errno;
	(void)write_text("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if ((r = write_text("/proc/self/uid_map", map)) < 0)
		return errno = -r, outcome("uid_map", -1);
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	if ((r = write_text("/proc/self/gid_map", map)) < 0)
		return errno = -r, outcome("gid_map", -1);
	return 0;
}
"""

_cache_dir = None


def _cache():
    global _cache_dir
    if _cache_dir is None:
        _cache_dir = tempfile.mkdtemp(prefix="celltest-payload-")
        atexit.register(shutil.rmtree, _cache_dir, True)
    return _cache_dir


def _build(c_source, flags):
    """Compile once per (source, flags); returns the cached binary's host path."""
    text = PRELUDE + c_source
    key = hashlib.sha256((" ".join(flags) + "\0" + text).encode()).hexdigest()[:24]
    out = os.path.join(_cache(), key)
    if os.path.exists(out):
        return out
    if shutil.which(CC) is None:
        pytest.skip(f"{CC} not installed (apt-get install gcc libc6-dev)")
    src = out + ".c"
    with open(src, "w") as f:
        f.write(text)
    r = subprocess.run([CC, "-O1", "-w", *flags, "-o", out + ".tmp", src],
                       capture_output=True, text=True, timeout=COMPILE_TIMEOUT)
    if r.returncode != 0:
        if "cannot find -lc" in r.stderr:
            pytest.skip("static glibc missing (apt-get install libc6-dev)")
        raise AssertionError(f"payload does not compile:\n{r.stderr}")
    os.rename(out + ".tmp", out)
    return out


def _install(built, rootfs, inner_path, mode):
    """Copy next to the destination, then rename over it."""
    dest = os.path.join(rootfs, inner_path.lstrip("/"))
    os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
    tmp = dest + ".celltest-new"
    shutil.copyfile(built, tmp)
    os.chmod(tmp, mode)
    os.rename(tmp, dest)
    return inner_path


def compile_into(rootfs, name, c_source, flags=()):
    """gcc -static c_source (after PRELUDE) into <rootfs>/usr/local/bin/<name>.
    Returns the program's path inside the container."""
    built = _build(c_source, ["-static", *flags])
    return _install(built, rootfs, os.path.join(BIN_DIR, name), 0o755)


def parse_report(text):
    """{key: value} from the "key value" lines an attack program printed
    (other lines are ignored; a repeated key keeps its last value)."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition(" ")
        if sep and key and not key.startswith("#"):
            found[key] = value.strip()
    return found
