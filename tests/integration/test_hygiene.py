# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runtime hygiene: nothing of the host reaches the container through the
runtime itself: no file descriptor the caller held (except --preserve-fds
ones), not the caller's working directory, and not a writable runtime binary
(CVE-2019-5736: the runtime runs from a sealed copy).

The caller here holds a host file and a host directory open without
close-on-exec (subprocess pass_fds) and runs the CLI from a host directory.
Each container process is then inspected from inside the container
(`exec ls -l /proc/<pid>/fd`) and, for the exact fd numbers, from the host.
"""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import pytest

import celltest
from celltest import DEFAULT_TIMEOUT, wait_for

SECRET = "host-secret-contents\n"


@pytest.fixture
def host(session, bundle):
    """A host file and a host directory (outside every container), open with
    fds the caller will leak, and a host directory to run the CLI from."""
    d = tempfile.mkdtemp(dir=session.base, prefix="hygiene-")
    path = os.path.join(d, "secret")
    with open(path, "w") as f:
        f.write(SECRET)
    h = type("Host", (), {})()
    h.dir, h.file = d, path
    h.file_fd = os.open(path, os.O_RDONLY)
    h.dir_fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    h.fds = (h.file_fd, h.dir_fd)
    yield h
    os.close(h.file_fd)
    os.close(h.dir_fd)
    shutil.rmtree(d, ignore_errors=True)


def cli(runtime, *args, fds=(), cwd=None, guard=False, wrap=None, timeout=DEFAULT_TIMEOUT):
    """runtime.cmd with the caller's fds passed on (not close-on-exec) and a
    chosen cwd; wrap is a shell prefix that opens more fds by number."""
    return runtime.cmd(*args, pass_fds=fds, cwd=cwd, guard=guard, wrap=wrap, timeout=timeout)


def bash_opening(file, dirpath, fds="3 4 5"):
    """A bash prefix that execs the rest with file at fd 3 and dirpath at 4 and 5."""
    redir = {"3": '3<"$f"', "4": '4<"$d"', "5": '5<"$d"'}
    script = 'f=$1 d=$2; shift 2; exec "$@" ' + " ".join(redir[n] for n in fds.split())
    return ["bash", "-c", script, "bash", file, dirpath]


def ns_pid(host_pid):
    """The pid of host_pid in its innermost pid namespace."""
    with open(f"/proc/{host_pid}/status") as f:
        return int(celltest.parse_status(f.read())["NSpid"].split()[-1])


def fds_inside(runtime, cid, host_pid):
    """{fd: link target} of a container process, as the container sees it."""
    r = runtime.exec(cid, "ls", "-l", f"/proc/{ns_pid(host_pid)}/fd/").ok()
    fds = {}
    for line in r.lines:
        m = re.search(r"\s(\d+) -> (.*)$", line)
        if m:
            fds[int(m.group(1))] = m.group(2)
    return fds


def fds_from_host(host_pid):
    return sorted(int(n) for n in os.listdir(f"/proc/{host_pid}/fd"))


def assert_clean(runtime, cid, host_pid, host, preserved=None):
    """The process has 0, 1, 2 and exactly the preserved fds ({fd: target}),
    none of the leaked host objects otherwise, and its cwd is the root."""
    preserved = preserved or {}
    inside = fds_inside(runtime, cid, host_pid)
    expected = sorted([0, 1, 2] + list(preserved))
    assert sorted(inside) == expected, inside
    assert fds_from_host(host_pid) == expected
    for fd, target in inside.items():
        if fd in preserved:
            assert target == preserved[fd], f"fd {fd} -> {target}"
        else:   # 0-2 are the caller's stdio, given on purpose
            assert host.dir not in target, f"fd {fd} -> {target}"
    cwd = runtime.exec(cid, "readlink", f"/proc/{ns_pid(host_pid)}/cwd").ok().out.strip()
    assert cwd == "/", f"cwd of the container process is {cwd!r}"


def sleeper(bundle, seconds):
    bundle.args("sleep", str(seconds))
    bundle.process["cwd"] = "/"


# ------------------------------------------------------------ create / run

def test_create_leaks_no_fd_or_cwd(session, runtime, bundle, host):
    sleeper(bundle, 1101)
    runtime._prepare(bundle, None)
    cli(runtime, "create", "--bundle", bundle.path, bundle.id, fds=host.fds, cwd=host.dir,
        guard=True).ok()
    runtime.start(bundle.id).ok()
    pid = runtime.state(bundle.id)["pid"]
    assert_clean(runtime, bundle.id, pid, host)


def test_run_detached_leaks_no_fd_or_cwd(session, runtime, bundle, host):
    sleeper(bundle, 1102)
    runtime._prepare(bundle, None)
    cli(runtime, "run", "-d", "--bundle", bundle.path, bundle.id, fds=host.fds, cwd=host.dir,
        guard=True).ok()
    pid = runtime.state(bundle.id)["pid"]
    assert_clean(runtime, bundle.id, pid, host)


def test_run_foreground_leaks_no_fd_or_cwd(session, runtime, bundle, host):
    """The container's own view, while `run` still waits in the foreground."""
    # no redirection until the end: ash would park the old stdout on fd 10
    script = ("l=; for f in $(seq 0 30); do t=$(readlink /proc/1/fd/$f) && l=\"$l|$f $t\"; done; "
              "echo \"$l\" > /out/fds; readlink /proc/1/cwd > /out/cwd; pwd > /out/pwd")
    bundle.sh(script)
    bundle.process["cwd"] = "/"
    runtime._prepare(bundle, None)
    cli(runtime, "run", "--bundle", bundle.path, bundle.id, fds=host.fds, cwd=host.dir,
        guard=True).ok()
    lines = [ln for ln in bundle.read_out("fds").strip().split("|") if ln]
    # the loop runs in pid 1 (sh); the command substitution's pipe is the
    # only fd the shell itself adds, and it is a pipe, not a path
    listed = {int(ln.split()[0]): ln.split(" ", 1)[1] for ln in lines}
    extra = {fd: t for fd, t in listed.items() if fd > 2 and not t.startswith("pipe:")}
    assert extra == {}, listed
    assert all(session.base not in t for fd, t in listed.items() if fd > 2), listed
    assert bundle.read_out("cwd") == "/\n"
    assert bundle.read_out("pwd") == "/\n"


def test_create_preserve_fds_passes_exactly_those(session, runtime, bundle, host):
    sleeper(bundle, 1103)
    runtime._prepare(bundle, None)
    cli(runtime, "create", "--preserve-fds", "2", "--bundle", bundle.path, bundle.id,
        fds=host.fds, cwd=host.dir, guard=True,
        wrap=bash_opening(host.file, host.dir)).ok()
    runtime.start(bundle.id).ok()
    pid = runtime.state(bundle.id)["pid"]
    assert_clean(runtime, bundle.id, pid, host, preserved={3: host.file, 4: host.dir})
    inner = ns_pid(pid)
    assert runtime.exec(bundle.id, "cat", f"/proc/{inner}/fd/3").ok().out == SECRET


# ------------------------------------------------------------ exec

@pytest.fixture
def running(runtime, bundle):
    sleeper(bundle, 1104)
    runtime.run(bundle, detach=True).ok()
    return bundle


def exec_detached(runtime, cid, tmpdir, *args, **kw):
    pidfile = os.path.join(tmpdir, "exec.pid")
    cli(runtime, "exec", "-d", "--pid-file", pidfile, *args, **kw).ok()
    pid = int(open(pidfile).read())
    runtime.s.track(pid)
    return pid


def test_exec_leaks_no_fd_or_cwd(session, runtime, running, host, tmp_path):
    pid = exec_detached(runtime, running.id, tmp_path, "--cwd", "/", running.id, "sleep", "1105",
                        fds=host.fds, cwd=host.dir)
    assert_clean(runtime, running.id, pid, host)


def test_exec_foreground_sees_only_stdio(session, runtime, running, host):
    r = cli(runtime, "exec", running.id, "sh", "-c",
            "for f in $(seq 0 30); do "
            "t=$(readlink /proc/$$/fd/$f) && echo \"$f $t\"; done; echo cwd $(readlink /proc/$$/cwd)",
            fds=host.fds, cwd=host.dir).ok()
    listed = dict(ln.split(" ", 1) for ln in r.lines)
    assert listed.pop("cwd") == "/"
    extra = {fd: t for fd, t in listed.items() if int(fd) > 2 and not t.startswith("pipe:")}
    assert extra == {}, listed
    assert host.dir not in r.out


def test_exec_preserve_fds_passes_exactly_those(session, runtime, running, host, tmp_path):
    pid = exec_detached(runtime, running.id, tmp_path, "--preserve-fds", "1", running.id,
                        "sleep", "1106", fds=host.fds, cwd=host.dir,
                        wrap=bash_opening(host.file, host.dir))
    assert_clean(runtime, running.id, pid, host, preserved={3: host.file})


def test_exec_preserve_fds_beyond_what_was_passed(session, runtime, running, host, tmp_path):
    """--preserve-fds 3 from a caller that passed no fd: 3-5 would then be the
    runtime's own (its --log file, pidfd, sync socket).  Refusing is fine;
    passing them is not."""
    session.cell_only("what a runtime does with fds it was not given is its own choice")
    log = os.path.join(host.dir, "runtime.log")
    pidfile = os.path.join(tmp_path, "exec.pid")
    # a gap once: cell_fds_confine() (confine.c) un-CLOEXECs whatever sits at
    # 3..3+N-1: the log file would reach the container, and when the sync
    # socket were among them `exec` would wait for it forever
    gap = "--preserve-fds passes the runtime's own fds"
    try:
        r = cli(runtime, "--log", log, "exec", "-d", "--preserve-fds", "3", "--pid-file",
                pidfile, running.id, "sleep", "1109", timeout=5)
    except AssertionError:
        raise AssertionError(gap + " (exec hung)")
    if r.rc != 0:
        assert "preserve" in r.err, r
        return
    pid = int(open(pidfile).read())
    runtime.s.track(pid)
    assert sorted(fds_inside(runtime, running.id, pid)) == [0, 1, 2], gap
    assert_clean(runtime, running.id, pid, host)


# ------------------------------------------------------------ cwd

def test_cwd_dotdot_stays_in_rootfs(runtime, bundle):
    bundle.sh("pwd; readlink /proc/self/cwd; ls /")
    bundle.process["cwd"] = "/../../.."
    r = runtime.run(bundle).ok()
    assert r.lines[:2] == ["/", "/"]
    assert sorted(r.lines[2:]) == sorted(os.listdir(bundle.s.rootfs))   # the container's root


def test_exec_cwd_dotdot_stays_in_rootfs(runtime, running):
    r = runtime.exec(running.id, "sh", "-c", "pwd; readlink /proc/self/cwd",
                     opts=["--cwd", "/../../.."]).ok()
    assert r.lines == ["/", "/"]


def test_relative_cwd_is_refused(session, runtime, bundle):
    bundle.process["cwd"] = "tmp"
    r = runtime.create(bundle)
    assert r.rc != 0
    if session.is_cell:
        assert len(r.err_lines) == 1 and "process.cwd" in r.err, r
    assert session.leftovers(bundle.id) == []


# ------------------------------------------------------------ hooks inside

def test_start_container_hook_sees_no_host_fd(session, runtime, bundle, host):
    """startContainer hooks run inside the container (their binary is the
    container's), so they must not inherit the caller's fds either."""
    bundle.config["hooks"] = {"startContainer": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", "for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\"; "
                 "done > /out/hookfds; readlink /proc/$$/cwd > /out/hookcwd"]}]}
    bundle.args("true")
    runtime._prepare(bundle, None)
    cli(runtime, "create", "--bundle", bundle.path, bundle.id, fds=host.fds, cwd=host.dir,
        guard=True).ok()
    runtime.start(bundle.id).ok()
    listing = bundle.read_out("hookfds")
    assert session.base not in bundle.read_out("hookcwd")
    assert host.dir not in listing, listing


# ------------------------------------------------------------ sealed self

# Writes the byte that is already there (the ELF magic's 0x7f): a runtime
# that is not protected fails the test without being damaged by it.
PROBE = ("printf '\\177' | dd of=/proc/self/fd/7 bs=1 count=1 conv=notrunc 2>/dev/null; "
         "echo $?")


def test_runtime_binary_is_sealed(session, runtime, bundle):
    """CVE-2019-5736: a process in the container opens the runtime's
    /proc/<pid>/exe while the runtime is in the container (here: the init,
    during a startContainer hook), keeps it, and writes through it once the
    runtime has exec'd the container process."""
    binary = os.path.realpath(session.binary)
    before = hashlib.sha256(open(binary, "rb").read()).hexdigest()
    attack = ("readlink /proc/1/exe > /out/exe; "
              "( exec 7</proc/1/exe; "
              "  while [ \"$(readlink /proc/1/exe)\" = \"$(cat /out/exe)\" ]; do sleep 0.05; done; "
              f"  {PROBE} > /out/write-after-exec ) >/dev/null 2>&1 & "
              f"( exec 7</proc/1/exe; {PROBE} > /out/write-during )")
    bundle.config["hooks"] = {"startContainer": [{"path": "/bin/sh",
                                                  "args": ["sh", "-c", attack]}]}
    # the hook runs as the container's process (runc's order): the init is not dumpable
    # until its exec, so only a process with CAP_SYS_PTRACE may open its exe -- the
    # strongest attacker, given that capability here
    caps = bundle.process.setdefault("capabilities", {})
    for kind in ("bounding", "effective", "permitted"):
        caps.setdefault(kind, [])
        if "CAP_SYS_PTRACE" not in caps[kind]:
            caps[kind].append("CAP_SYS_PTRACE")
    sleeper(bundle, 1107)
    runtime.create(bundle).ok()
    runtime.start(bundle.id).ok()
    wait_for(lambda: os.path.exists(os.path.join(bundle.out, "write-after-exec")),
             what="the attacker to try again after exec")
    assert bundle.read_out("write-during").strip() != "0"
    assert bundle.read_out("write-after-exec").strip() != "0"
    assert hashlib.sha256(open(binary, "rb").read()).hexdigest() == before
    if session.is_cell:
        assert_protected_exe(bundle.read_out("exe").strip(), binary)


def assert_protected_exe(exe, binary):
    """cellrun runs from a sealed memfd copy, or (as root) from its file seen through a
    detached read-only overlay, whose path is the file's name at that mount's root."""
    assert exe.startswith("/memfd:cellrun-sealed") or exe == "/" + os.path.basename(binary), exe


def with_runtime_libraries(bundle, binary):
    """A private rootfs with the runtime's ELF interpreter and libraries, so
    that the runtime binary can run inside the container (the CVE needs it)."""
    root = bundle.private_rootfs()
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for path in re.findall(r"(/\S+) \(0x", out):
        dest = os.path.join(root, path.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(os.path.realpath(path), dest)


def test_exec_process_runs_from_sealed_copy(session, runtime, bundle):
    """The process `exec` makes runs runtime code in the container until its
    execve.  A container binary whose #! line is /proc/self/exe makes that
    execve start the runtime image again, now as a container process (the
    CVE's first step); it then blocks opening a FIFO named by --log=, so that
    the container can look at it: its exe must not be writable."""
    with_runtime_libraries(bundle, os.path.realpath(session.binary))
    sleeper(bundle, 1108)
    runtime.run(bundle, detach=True).ok()
    r = runtime.exec(bundle.id, "sh", "-c",
                     "mkfifo /tmp/f && printf '#!/proc/self/exe --log=/tmp/f\\n' > /tmp/x && "
                     "chmod +x /tmp/x && echo ok")
    assert r.ok().out == "ok\n"
    runtime.exec(bundle.id, "/tmp/x", opts=["-d"]).ok()
    find = ("for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null | "
            "grep -q '^/proc/self/exe --log=/tmp/f' && echo ${p#/proc/}; done")
    pid = wait_for(lambda: runtime.exec(bundle.id, "sh", "-c", find).out.strip(),
                   what="the runtime image to run as a container process")
    exe = runtime.exec(bundle.id, "readlink", f"/proc/{pid}/exe").ok().out.strip()
    probe = PROBE.replace("/proc/self/fd/7", f"/proc/{pid}/exe")
    assert runtime.exec(bundle.id, "sh", "-c", probe).ok().out.strip() != "0"
    if session.is_cell:
        assert_protected_exe(exe, os.path.realpath(session.binary))
