# SPDX-License-Identifier: LGPL-2.1-or-later
"""linux.seccomp: errnoRet, argument filters, default actions, kill actions."""
import os
import sys

import pytest

from celltest import parse_status

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "security"))
import payload  # noqa: E402

ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]


def seccomp(bundle, syscalls, default="SCMP_ACT_ALLOW", **extra):
    bundle.linux["seccomp"] = {"defaultAction": default, "architectures": ARCHES,
                               "syscalls": syscalls, **extra}


def run(runtime, bundle, script):
    bundle.sh(script)
    return runtime.run(bundle)


def test_errno_ret_42(runtime, bundle):
    seccomp(bundle, [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 42}])
    r = run(runtime, bundle, "mkdir /tmp/d; echo rc=$?; touch /tmp/f && echo touch-ok")
    assert r.rc == 0, r
    assert r.out.split() == ["rc=1", "touch-ok"]
    assert "mkdir: can't create directory '/tmp/d': No message of desired type" in r.err


def test_errno_default_is_eperm(runtime, bundle):
    seccomp(bundle, [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}])
    r = run(runtime, bundle, "mkdir /tmp/d")
    assert r.rc == 1
    assert "Operation not permitted" in r.err


def test_default_allow_empty(runtime, bundle):
    seccomp(bundle, [])
    r = run(runtime, bundle, "mkdir /tmp/d && echo ok; grep Seccomp: /proc/self/status")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0] == "ok"


def test_filter_mode_in_status(runtime, bundle):
    seccomp(bundle, [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}])
    r = run(runtime, bundle, "cat /proc/self/status")
    assert r.rc == 0, r
    assert parse_status(r.out)["Seccomp"] == "2"


def test_args_filter(runtime, bundle):
    """chmod is refused only when the mode argument equals 0700."""
    seccomp(bundle, [
        {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
         "args": [{"index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"}]},
        {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
         "args": [{"index": 2, "value": 0o700, "op": "SCMP_CMP_EQ"}]},
    ])
    r = run(runtime, bundle, "touch /tmp/f; chmod 755 /tmp/f && echo 755-ok; "
                             "chmod 700 /tmp/f; echo rc=$?; stat -c %a /tmp/f")
    assert r.rc == 0, r
    assert r.out.split() == ["755-ok", "rc=1", "755"]
    assert "Permission denied" in r.err


def test_args_filter_masked_eq(runtime, bundle):
    """kill(2) is refused when bit 8 of the signal number is set (signals 8-15)."""
    seccomp(bundle, [
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42,
         "args": [{"index": 1, "value": 8, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]},
    ])
    r = run(runtime, bundle, "sleep 5 & p=$!; kill -USR2 $p; echo rc=$?; "
                             "kill -HUP $p; echo rc=$?; wait $p; echo st=$?")
    assert r.out.split() == ["rc=1", "rc=0", "st=129"], r
    assert "No message of desired type" in r.err


UNISTD = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"


def x86_64_syscalls(max_nr=441):
    """Syscall names from the kernel headers, up to one libseccomp 2.5 knows."""
    import os
    import re
    if not os.path.exists(UNISTD):
        pytest.skip(f"{UNISTD} missing (linux-libc-dev)")
    with open(UNISTD) as f:
        return [m.group(1) for m in re.finditer(r"#define __NR_(\w+) (\d+)", f.read())
                if int(m.group(2)) <= max_nr]


def test_default_errno_with_allowlist(runtime, bundle):
    """defaultAction ERRNO with defaultErrnoRet: everything is allowed by name
    except mkdir/mkdirat, which fall through to the default."""
    allow = [n for n in x86_64_syscalls() if n not in ("mkdir", "mkdirat")]
    seccomp(bundle, [{"names": allow, "action": "SCMP_ACT_ALLOW"}],
            default="SCMP_ACT_ERRNO", defaultErrnoRet=38)
    r = run(runtime, bundle, "mkdir /tmp/d; echo rc=$?; touch /tmp/f && echo touch-ok")
    assert r.rc == 0, r
    assert r.out.split() == ["rc=1", "touch-ok"]
    assert "Function not implemented" in r.err, r


def test_kill_process_action(runtime, bundle):
    # ioprio_get: `ionice -p`; (static glibc calls uname at startup, so not that)
    seccomp(bundle, [{"names": ["ioprio_get"], "action": "SCMP_ACT_KILL_PROCESS"}])
    # a subshell: busybox may run an applet inside the shell's own process
    r = run(runtime, bundle, "(ionice -p $$); echo rc=$?")
    assert r.rc == 0, r
    assert r.out.strip() == "rc=159"   # 128 + SIGSYS


def test_seccomp_applies_to_exec(runtime, bundle):
    seccomp(bundle, [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 42}])
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    r = runtime.exec(bundle.id, "mkdir", "/tmp/x")
    assert r.rc == 1
    assert "No message of desired type" in r.err


def test_seccomp_without_nnp_as_root(runtime, bundle):
    bundle.process["noNewPrivileges"] = False
    seccomp(bundle, [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 42}])
    r = run(runtime, bundle, "mkdir /tmp/d")
    assert r.rc == 1 and "No message of desired type" in r.err, r


@pytest.mark.parametrize("uid", [1000])
def test_seccomp_without_nnp_non_root(runtime, bundle, uid):
    """Loading a filter needs NNP or CAP_SYS_ADMIN; the runtime must load it
    before dropping privileges."""
    bundle.process["noNewPrivileges"] = False
    bundle.process["user"] = {"uid": uid, "gid": uid}
    seccomp(bundle, [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 42}])
    r = run(runtime, bundle, "mkdir /tmp/d; grep NoNewPrivs /proc/self/status")
    assert "No message of desired type" in r.err, r
    assert r.out.split() == ["NoNewPrivs:", "0"]


def test_native_arch_is_always_in_the_filter(runtime, bundle):
    """A profile that lists only the 32-bit x86 ABIs still filters (and so
    allows) the native x86_64 syscalls, as runc does; without the native arch
    every syscall would hit the bad-arch action (SIGSYS, exit 159)."""
    import platform
    if platform.machine() != "x86_64":
        pytest.skip("x86_64 host only")
    seccomp(bundle, [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 42}])
    bundle.linux["seccomp"]["architectures"] = ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    r = run(runtime, bundle, "mkdir /tmp/d; echo rc=$?; grep Seccomp: /proc/self/status")
    assert r.rc == 0, r
    assert r.out.split() == ["rc=1", "Seccomp:", "2"], r
    assert "No message of desired type" in r.err, r


# syscall(nr) for each number in argv: "<nr> ok" or "<nr> E<NAME>"
SYSCALL_PROBE = r"""
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		outcome(argv[i], syscall(strtol(argv[i], NULL, 0), 0, 0, 0, 0, 0, 0));
	return 0;
}
"""

X32_BIT = 0x40000000


@pytest.mark.parametrize("flags", [[], ["SECCOMP_FILTER_FLAG_LOG"]])
def test_newer_syscall_gets_enosys(runtime, bundle, session, flags):
    """A syscall numbered above every one the profile names is newer than the
    profile: ENOSYS (so that libc falls back, as for clone3), not the default
    errno; a listed syscall keeps its errnoRet, an unlisted older one gets the
    default.  The same for x32 numbers, and on the path with filter flags."""
    import platform
    if platform.machine() != "x86_64":
        pytest.skip("x86_64 host only")
    if flags:
        session.cell_only("runc 1.1 refuses linux.seccomp.flags")
    names = x86_64_syscalls()
    allow = [n for n in names if n not in ("sched_yield", "getcpu")]
    seccomp(bundle, [{"names": allow, "action": "SCMP_ACT_ALLOW"},
                     {"names": ["getcpu"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}],
            default="SCMP_ACT_ERRNO", flags=flags)
    prog = payload.compile_into(session.rootfs, "syscall-probe", SYSCALL_PROBE)
    probes = {"1000": "ENOSYS", str(X32_BIT + 1000): "ENOSYS",
              "24": "EPERM",       # sched_yield: unlisted, below the maximum
              "309": "EACCES"}     # getcpu: listed, errnoRet 13
    bundle.args(prog, *probes)
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert payload.parse_report(r.out) == probes, r


def test_no_enosys_stub_for_default_allow(runtime, bundle, session):
    """With an allowing default the kernel answers an unknown number itself
    (ENOSYS), and a number above the rules' maximum that the kernel knows
    runs: here getcpu (309) is above the only rule's syscall (sched_yield, 24)."""
    seccomp(bundle, [{"names": ["sched_yield"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}])
    prog = payload.compile_into(session.rootfs, "syscall-probe", SYSCALL_PROBE)
    bundle.args(prog, "309", "24", "1000")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert payload.parse_report(r.out) == {"309": "ok", "24": "EACCES", "1000": "ENOSYS"}, r
