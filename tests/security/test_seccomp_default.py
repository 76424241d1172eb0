# SPDX-License-Identifier: LGPL-2.1-or-later
"""The default seccomp profile (linux.seccomp of `cellrun spec`) against
attacks from inside a container.

Every container here runs the unmodified `cellrun spec` configuration:
root in the container, the default capability set (no CAP_SYS_ADMIN, no
CAP_SYS_PTRACE), no_new_privs, and the profile.  A static probe program
makes the raw syscalls an attacker would and reports "name outcome" per
attempt (outcome "ok" or the errno's name), so that each refusal is checked
for the errno the profile promises: EPERM for what is known to be
dangerous, ENOSYS for what the profile does not know (or wants libc to fall
back from).  Attempts are chosen to be harmless if they did succeed: their
targets are the container's own mounts and processes, or their arguments
are invalid.

Some of these the kernel refuses by itself for want of a capability (mount,
setns, swapon...): there the filter is a second wall and the test guards
both.  The ones only the filter stops are those that need no capability
(user namespaces, keyrings, ptrace of one's own child, bpf, perf, vsock,
personality flags, the i386 ABI) and every ENOSYS answer.
"""
import errno

import pytest

import hostwatch
from celltest import parse_status
from payload import parse_report

PROBE = r"""
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#define CLONE_NEWTIME_ 0x80
#define X32_BIT 0x40000000L

/* fork semantics (no CLONE_VM): the child only exits */
static long reap(long pid)
{
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return pid;
}

static long clone_flags(unsigned long flags)
{
	return reap(syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0));
}

static long clone3_flags(unsigned long flags)
{
	unsigned long long args[8] = { flags, 0, 0, 0, SIGCHLD, 0, 0, 0 };
	return reap(syscall(SYS_clone3, args, sizeof(args)));
}

/* A child to aim ptrace-like calls at (ours, so harmless either way). */
static pid_t victim(void)
{
	pid_t p = fork();
	if (p == 0) {
		pause();
		_exit(0);
	}
	return p;
}

static void victim_done(pid_t p)
{
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

static long ptrace_attach(void)
{
	pid_t p = victim();
	long r = ptrace(PTRACE_ATTACH, p, 0, 0);
	int e = errno;
	victim_done(p);
	errno = e;
	return r;
}

static long vm_readv(void)
{
	char buf[8], src[8] = "secret";
	struct iovec l = { buf, sizeof(buf) }, r = { src, sizeof(src) };
	pid_t p = victim();
	long n = process_vm_readv(p, &l, 1, &r, 1, 0);
	int e = errno;
	victim_done(p);
	errno = e;
	return n;
}

static long kcmp_child(void)
{
	pid_t p = victim();
	long r = syscall(SYS_kcmp, getpid(), p, 0 /* KCMP_FILE */, 0, 0);
	int e = errno;
	victim_done(p);
	errno = e;
	return r;
}

/* The i386 ABI from this 64-bit process: int $0x80 takes i386 numbers. */
static long int80(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	r = (int)r;
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static int ia32_available(void)
{
	return int80(20 /* getpid */, 0, 0, 0) == getpid();
}

static int x32_available(void)
{
	return syscall(X32_BIT | SYS_getpid) == getpid();
}

static long ia32_clone_newuser(void)
{
	return reap(int80(120 /* clone */, CLONE_NEWUSER | SIGCHLD, 0, 0));
}

static long personality_set(unsigned long p)
{
	long old = syscall(SYS_personality, p);
	if (old >= 0)
		syscall(SYS_personality, (unsigned long)old);
	return old;
}

static long socket_family(unsigned long family)
{
	long fd = syscall(SYS_socket, family, SOCK_DGRAM, 0);
	if (fd >= 0)
		close((int)fd);
	return fd;
}

static long perf_open(void)
{
	unsigned char attr[128] = { 0 };  /* size 0: EINVAL past the filter */
	return syscall(SYS_perf_event_open, attr, 0, -1, -1, 0);
}

static long attempt(const char *n)
{
	if (!strcmp(n, "unshare_user")) return syscall(SYS_unshare, CLONE_NEWUSER);
	if (!strcmp(n, "unshare_mnt")) return syscall(SYS_unshare, CLONE_NEWNS);
	if (!strcmp(n, "unshare_time")) return syscall(SYS_unshare, CLONE_NEWTIME_);
	if (!strcmp(n, "clone_plain")) return clone_flags(0);
	if (!strcmp(n, "clone_newuser")) return clone_flags(CLONE_NEWUSER);
	if (!strcmp(n, "clone_newns")) return clone_flags(CLONE_NEWNS);
	if (!strcmp(n, "clone_newpid")) return clone_flags(CLONE_NEWPID);
	if (!strcmp(n, "clone_newnet")) return clone_flags(CLONE_NEWNET);
	if (!strcmp(n, "clone_newuts")) return clone_flags(CLONE_NEWUTS);
	if (!strcmp(n, "clone_newipc")) return clone_flags(CLONE_NEWIPC);
	if (!strcmp(n, "clone_newcgroup")) return clone_flags(CLONE_NEWCGROUP);
	if (!strcmp(n, "clone_newuser_newnet")) return clone_flags(CLONE_NEWUSER | CLONE_NEWNET);
	if (!strcmp(n, "clone3_plain")) return clone3_flags(0);
	if (!strcmp(n, "clone3_newuser")) return clone3_flags(CLONE_NEWUSER);
	if (!strcmp(n, "fork")) return reap(fork());
	if (!strcmp(n, "mount_tmpfs")) return mount("none", "/mnt", "tmpfs", 0, NULL);
	if (!strcmp(n, "mount_bind")) return mount("/", "/mnt", NULL, MS_BIND, NULL);
	if (!strcmp(n, "umount_proc")) return umount2("/proc", MNT_DETACH);
	if (!strcmp(n, "fsopen")) return syscall(SYS_fsopen, "tmpfs", 0);
	if (!strcmp(n, "open_tree")) return syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* CLONE */);
	if (!strcmp(n, "pivot_root")) return syscall(SYS_pivot_root, ".", ".");
	if (!strcmp(n, "setns")) {
		int fd = open("/proc/self/ns/mnt", O_RDONLY);
		return syscall(SYS_setns, fd, 0);
	}
	if (!strcmp(n, "keyctl")) return syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 1);
	if (!strcmp(n, "add_key"))
		return syscall(SYS_add_key, "user", "celltest", "x", 1, -2 /* process */);
	if (!strcmp(n, "request_key"))
		return syscall(SYS_request_key, "user", "celltest", NULL, 0);
	if (!strcmp(n, "ptrace_traceme")) return ptrace(PTRACE_TRACEME, 0, 0, 0);
	if (!strcmp(n, "ptrace_attach")) return ptrace_attach();
	if (!strcmp(n, "process_vm_readv")) return vm_readv();
	if (!strcmp(n, "kcmp")) return kcmp_child();
	if (!strcmp(n, "personality_query")) return personality_set(0xffffffff);
	if (!strcmp(n, "personality_linux")) return personality_set(PER_LINUX);
	if (!strcmp(n, "personality_linux32")) return personality_set(PER_LINUX32);
	if (!strcmp(n, "personality_no_randomize")) return personality_set(ADDR_NO_RANDOMIZE);
	if (!strcmp(n, "personality_read_implies_exec"))
		return personality_set(READ_IMPLIES_EXEC);
	if (!strcmp(n, "personality_bsd")) return personality_set(PER_BSD);
	if (!strcmp(n, "socket_unix")) return socket_family(AF_UNIX);
	if (!strcmp(n, "socket_inet")) return socket_family(AF_INET);
	if (!strcmp(n, "socket_vsock")) return socket_family(40);
	if (!strcmp(n, "socket_vsock_high_bits")) return socket_family(0x100000000UL | 40);
	if (!strcmp(n, "socket_kcm")) return socket_family(41);
	if (!strcmp(n, "bpf")) return syscall(SYS_bpf, 0 /* MAP_CREATE */, NULL, 0);
	if (!strcmp(n, "perf_event_open")) return perf_open();
	if (!strcmp(n, "userfaultfd")) return syscall(SYS_userfaultfd, 0);
	if (!strcmp(n, "io_uring_setup")) return syscall(SYS_io_uring_setup, 1, NULL);
	if (!strcmp(n, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL);
	if (!strcmp(n, "init_module")) return syscall(SYS_init_module, NULL, 0, "");
	if (!strcmp(n, "open_by_handle_at")) return syscall(SYS_open_by_handle_at, -1, NULL, 0);
	if (!strcmp(n, "reboot")) return syscall(SYS_reboot, 0, 0, 0, NULL);  /* bad magic */
	if (!strcmp(n, "syslog")) return syscall(SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0);
	if (!strcmp(n, "settimeofday")) return syscall(SYS_settimeofday, NULL, NULL);
	if (!strcmp(n, "swapon")) return syscall(SYS_swapon, "/nonexistent", 0);
	if (!strcmp(n, "sethostname")) return syscall(SYS_sethostname, "x", 1);
	if (!strcmp(n, "chroot")) return chroot("/");
	if (!strcmp(n, "unknown_syscall")) return syscall(1023);
	if (!strcmp(n, "ia32_getpid")) return ia32_available() ? 0 : -1;
	if (!strcmp(n, "ia32_unshare_user")) return int80(310, CLONE_NEWUSER, 0, 0);
	if (!strcmp(n, "ia32_clone_newuser")) return ia32_clone_newuser();
	if (!strcmp(n, "ia32_mount_tmpfs"))
		return int80(21, (long)"none", (long)"/mnt", (long)"tmpfs");
	if (!strcmp(n, "x32_unshare_user"))
		return syscall(X32_BIT | SYS_unshare, CLONE_NEWUSER);
	errno = EINVAL;
	return -1;
}

int main(int argc, char **argv)
{
	report("ia32", "%d", ia32_available());
	report("x32", "%d", x32_available());
	for (int i = 1; i < argc; i++) {
		errno = 0;
		outcome(argv[i], attempt(argv[i]));
	}
	return 0;
}
"""


@pytest.fixture
def probe(tool):
    return tool("seccomp-probe", PROBE)


def attempts(runtime, bundle, probe, names):
    """Run the probe with names in a container; {name: outcome}."""
    bundle.args(probe, *names)
    r = runtime.run(bundle)
    assert r.rc == 0, r
    found = parse_report(r.out)
    missing = [n for n in names if n not in found]
    assert not missing, f"probe did not report {missing}\n{r}"
    return found


def check(runtime, bundle, probe, expected):
    found = attempts(runtime, bundle, probe, list(expected))
    wrong = {n: found[n] for n, want in expected.items()
             if found[n] not in ((want,) if isinstance(want, str) else want)}
    assert not wrong, f"unexpected outcomes {wrong}; expected {expected}"
    return found


def test_default_spec_has_the_profile(session):
    sc = session.template["linux"]["seccomp"]
    assert sc["defaultAction"] == "SCMP_ACT_ERRNO"
    assert sc["defaultErrnoRet"] == errno.ENOSYS
    assert "SCMP_ARCH_X86" in sc["architectures"] or "SCMP_ARCH_X86_64" not in sc["architectures"]


def test_filter_is_loaded(runtime, bundle):
    bundle.args("cat", "/proc/self/status")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    st = parse_status(r.out)
    assert st["Seccomp"] == "2"
    assert st["NoNewPrivs"] == "1"
    assert int(st["CapBnd"], 16) & (1 << 21) == 0, "the attacks below assume no CAP_SYS_ADMIN"


def test_busybox_unshare_user_namespace_fails(runtime, bundle):
    """unshare -U -r would make us root of a new user namespace with every
    capability in it: the first step of most container escapes."""
    bundle.sh("unshare -U -r sh -c 'grep CapEff /proc/self/status'; echo rc=$?")
    r = runtime.run(bundle)
    assert "rc=0" not in r.out, r
    assert "Operation not permitted" in r.err, r
    assert "CapEff:\t000001ffffffffff" not in r.out


@pytest.mark.parametrize("name", ["unshare_user", "unshare_mnt", "unshare_time"])
def test_unshare_refused(runtime, bundle, probe, name):
    check(runtime, bundle, probe, {name: "EPERM"})


@pytest.mark.parametrize("flag", ["newuser", "newns", "newpid", "newnet", "newuts", "newipc",
                                  "newcgroup", "newuser_newnet"])
def test_clone_with_namespace_flag_refused(runtime, bundle, probe, flag):
    check(runtime, bundle, probe, {f"clone_{flag}": "EPERM", "clone_plain": "ok"})


def test_clone3_is_enosys_so_libc_falls_back_to_clone(runtime, bundle, probe):
    check(runtime, bundle, probe, {"clone3_newuser": "ENOSYS", "clone3_plain": "ENOSYS",
                                   "fork": "ok"})


def test_busybox_mount_fails_eperm(runtime, bundle):
    before = hostwatch.mount_table()
    bundle.sh("mount -t tmpfs none /mnt; echo rc=$?; grep -c ' /mnt ' /proc/self/mountinfo")
    r = runtime.run(bundle)
    rc, mounted = r.out.split()[:2]
    assert rc != "rc=0" and mounted == "0", r
    assert "permission denied" in r.err.lower() or "not permitted" in r.err.lower(), r
    assert hostwatch.mount_table() == before


@pytest.mark.parametrize("name", ["mount_tmpfs", "mount_bind", "umount_proc", "fsopen",
                                  "open_tree", "pivot_root", "setns"])
def test_mount_api_refused(runtime, bundle, probe, name):
    check(runtime, bundle, probe, {name: "EPERM"})


def test_keyring_refused(runtime, bundle, probe):
    """The kernel keyring is not namespaced: keys of other containers and of
    the host live in it."""
    check(runtime, bundle, probe, {"keyctl": "EPERM", "add_key": "EPERM",
                                   "request_key": "EPERM"})


def test_ptrace_refused(runtime, bundle, probe):
    check(runtime, bundle, probe, {"ptrace_traceme": "EPERM", "ptrace_attach": "EPERM",
                                   "process_vm_readv": "EPERM", "kcmp": "EPERM"})


@pytest.mark.parametrize("name,want", [
    ("personality_query", "ok"),
    ("personality_linux", "ok"),
    ("personality_linux32", "ok"),
    ("personality_no_randomize", "ENOSYS"),
    ("personality_read_implies_exec", "ENOSYS"),
    ("personality_bsd", "ENOSYS"),
])
def test_personality_filter(runtime, bundle, probe, name, want):
    """ADDR_NO_RANDOMIZE and READ_IMPLIES_EXEC weaken exploit mitigations."""
    check(runtime, bundle, probe, {name: want})


def test_busybox_linux32_still_works(runtime, bundle):
    bundle.args("linux32", "uname", "-m")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert r.out.strip() in ("i686", "armv8l", "armv7l"), r


@pytest.mark.parametrize("name,want", [
    ("socket_unix", "ok"),
    ("socket_inet", "ok"),
    ("socket_vsock", "ENOSYS"),
    ("socket_vsock_high_bits", "ENOSYS"),
    ("socket_kcm", "ENOSYS"),
])
def test_socket_families(runtime, bundle, probe, name, want):
    """AF_VSOCK reaches the hypervisor and is not namespaced; the kernel reads
    the family as an int, so garbage in the upper bits must not pass either."""
    check(runtime, bundle, probe, {name: want})


@pytest.mark.parametrize("name,want", [
    ("bpf", "EPERM"),
    ("perf_event_open", "EPERM"),
    ("userfaultfd", "EPERM"),
    ("io_uring_setup", "ENOSYS"),
    ("kexec_load", "EPERM"),
    ("init_module", "EPERM"),
    ("open_by_handle_at", "EPERM"),
    ("reboot", "EPERM"),
    ("syslog", "EPERM"),
    ("settimeofday", "EPERM"),
    ("swapon", "EPERM"),
    ("sethostname", "EPERM"),
    ("unknown_syscall", "ENOSYS"),
])
def test_kernel_attack_surface_refused(runtime, bundle, probe, name, want):
    check(runtime, bundle, probe, {name: want})


def test_capability_in_bounding_set_keeps_its_syscall(runtime, bundle, probe):
    """chroot is gated on CAP_SYS_CHROOT, which the default set has."""
    check(runtime, bundle, probe, {"chroot": "ok"})


def test_other_abis_are_filtered_too(runtime, bundle, probe):
    """A filter for x86_64 alone would let the same attack through int $0x80
    (i386 numbers) or the x32 ABI."""
    found = attempts(runtime, bundle, probe, ["ia32_unshare_user", "ia32_clone_newuser",
                                             "ia32_mount_tmpfs", "x32_unshare_user"])
    if found["ia32"] == "1":
        assert found["ia32_unshare_user"] == "EPERM", found
        assert found["ia32_clone_newuser"] == "EPERM", found
        assert found["ia32_mount_tmpfs"] == "EPERM", found
    # with x32 compiled out the kernel answers ENOSYS after the filter
    assert found["x32_unshare_user"] in ("EPERM", "ENOSYS"), found
    if found["x32"] == "1":
        assert found["x32_unshare_user"] == "EPERM", found


def test_exec_process_is_filtered(runtime, bundle, probe):
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    r = runtime.exec(bundle.id, probe, "unshare_user", "mount_tmpfs", "clone_plain")
    assert r.rc == 0, r
    found = parse_report(r.out)
    assert (found["unshare_user"], found["mount_tmpfs"], found["clone_plain"]) == \
        ("EPERM", "EPERM", "ok"), r


ORDINARY = r"""
set -e
ls -l / >/dev/null
ps -o pid,comm >/dev/null
id -u
mkdir -p /tmp/w/a && cd /tmp/w
echo hello > a/f && ln -s f a/l && chmod 600 a/f && chown 1000:1000 a/f
find . -type f | sort
tar czf ../w.tgz . && mkdir ../x && tar xzf ../w.tgz -C ../x && cmp a/f ../x/a/f
md5sum a/f | cut -c1-8
mkfifo p && (echo through-fifo > p &) && cat p
sleep 30 & pid=$!; kill $pid; wait $pid || echo killed=$?
echo $(seq 1 100 | awk '{s+=$1} END {print s}')
date +%s >/dev/null; uname -s; nproc >/dev/null; df / >/dev/null; free >/dev/null
top -b -n1 >/dev/null
chroot / true && echo chroot-ok
timeout 5 true && echo timeout-ok
syslogd -n -O /tmp/log & sleep 0.2; logger over-unix-socket; sleep 0.2; kill $!
grep -o over-unix-socket /tmp/log
echo done
"""


def test_ordinary_programs_work(runtime, bundle):
    """The profile must not get in the way of a shell and its tools."""
    bundle.sh(ORDINARY)
    r = runtime.run(bundle, timeout=60)
    assert r.rc == 0, r
    assert r.out.split() == ["0", "./a/f", "b1946ac9", "through-fifo", "killed=143", "5050",
                             "Linux", "chroot-ok", "timeout-ok", "over-unix-socket", "done"], r
