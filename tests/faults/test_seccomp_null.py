# SPDX-License-Identifier: LGPL-2.1-or-later
"""A seccomp profile whose `syscalls` is null with a default ERRNO action
(issue 8, fault 6) refuses execve itself: no process can start.  The
runtime says so, naming the field, instead of a container process that
segfaults (or spins) after loading the filter; nothing is left behind."""
import pytest

import celltest


@pytest.mark.parametrize("verb", ["run", "create"])
@pytest.mark.parametrize("syscalls", [None, [], "only-mkdir"])
def test_default_errno_without_rules(runtime, bundle, verb, syscalls):
    runtime.s.cell_only("the refusal names the field; runc 1.1 says the process died")
    rules = [{"names": ["mkdir"], "action": "SCMP_ACT_ALLOW"}] if syscalls == "only-mkdir" \
        else syscalls
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO",
                               "architectures": ["SCMP_ARCH_X86_64"], "syscalls": rules}
    bundle.args("true")
    r = runtime.run(bundle, timeout=15) if verb == "run" else runtime.create(bundle, timeout=15)
    assert r.rc == 1, r
    assert len(r.err_lines) == 1, r
    assert "linux.seccomp.defaultAction" in r.err and "execve" in r.err, r
    assert "Operation not permitted" in r.err, r
    assert runtime.s.leftovers(bundle.id) == []


def test_errno_rule_for_execve(runtime, bundle):
    """The same when a rule refuses execve: the error names that rule."""
    runtime.s.cell_only("the refusal names the field")
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                               "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
                                            {"names": ["execve"], "action": "SCMP_ACT_ERRNO",
                                             "errnoRet": 13}]}
    r = runtime.run(bundle.args("true"), timeout=15)
    assert r.rc == 1, r
    assert "linux.seccomp.syscalls[1]" in r.err and "Permission denied" in r.err, r
    assert runtime.s.leftovers(bundle.id) == []


def test_errno_rule_allowing_execve_runs(runtime, bundle):
    """A default ERRNO profile that allows what busybox needs still runs."""
    runtime.s.cell_only("the list fits cellrun's steps after the load, not runc's Go init")
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve", "exit_group", "exit", "arch_prctl", "set_tid_address", "write",
                   "brk", "mmap", "munmap", "getuid", "getpid", "rt_sigaction",
                   "rt_sigprocmask", "prctl", "getppid", "uname", "close", "set_robust_list",
                   "rseq", "prlimit64", "mprotect", "readlink", "getrandom", "ioctl",
                   "fcntl", "geteuid", "stat", "newfstatat", "open", "openat", "read",
                   "lseek", "fstat"],
         "action": "SCMP_ACT_ALLOW"}]}
    r = runtime.run(bundle.args("echo", "hi"), timeout=15)
    assert r.rc == 0 and r.out == "hi\n", r
    assert celltest.wait_for(lambda: runtime.s.leftovers(bundle.id) == [], timeout=5)
