# SPDX-License-Identifier: LGPL-2.1-or-later
"""podman (Debian's, test-only) driving the runtime through conmon.

Everything podman keeps lives under the session dir: storage (--root,
--runroot, vfs driver: no overlay mounts), --tmpdir, network config, and
the runtime's state.  Podman 4.3 forgets --runtime-flag when it calls
`delete`, so the runtime is reached through a tiny wrapper that adds
`--root` and logs each call — which also proves podman went through
$CELLRUN.  Cgroups go under the suite's parent (--cgroup-parent).
Every container runs with --network none (no bridges or firewall rules on
the host) and explicit ulimits (this machine cannot raise rlimits).
"""
import os
import shutil
import subprocess
import tarfile

import pytest

from celltest import host_mounts, run_reaping, wait_for

pytestmark = [pytest.mark.podman, pytest.mark.slow]

# Directories podman creates outside --root/--runroot; removed afterwards
# when they did not exist before this module ran.
SYSTEM_DIRS = ["/var/lib/containers", "/run/containers"]
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
IMAGE = "localhost/celltest-busybox:latest"
VERBS = {"create", "start", "run", "exec", "kill", "delete", "state", "pause", "resume",
         "update", "ps", "list", "features", "checkpoint", "restore"}


class Podman:
    def __init__(self, session):
        self.s = session
        self.dir = os.path.join(session.base, "podman")
        self.state = os.path.join(self.dir, "runtime-state")
        self.log = os.path.join(self.dir, "runtime.log")
        self.wrapper = os.path.join(self.dir, "runtime")
        self.cgroup_parent = f"/{session.cgroup_parent}/podman"
        for d in ("root", "runroot", "tmp", "net", "runtime-state"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        with open(self.wrapper, "w") as f:
            f.write("#!/bin/sh\n"
                    f"echo \"$*\" >> '{self.log}'\n"
                    f"exec '{session.binary}' --root '{self.state}' \"$@\"\n")
        os.chmod(self.wrapper, 0o755)
        # podman sets a hostname and net sysctls through the runtime: keep a
        # runtime bug that applies them too early away from the host's
        self.base_args = [
            "unshare", "--uts", "--net", "--", "podman", "--root", os.path.join(self.dir, "root"),
            "--runroot", os.path.join(self.dir, "runroot"),
            "--tmpdir", os.path.join(self.dir, "tmp"),
            "--network-config-dir", os.path.join(self.dir, "net"),
            "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
            "--events-backend", "file", "--runtime", self.wrapper,
        ]

    def __call__(self, *args, timeout=60, check=False):
        # conmon daemonizes and is adopted by this (subreaper) process:
        # reap it while podman waits for it to go
        r = run_reaping(self.base_args + list(args), timeout=timeout, tmpdir=self.dir)
        if check:
            assert r.rc == 0, f"podman {' '.join(args)}: rc={r.rc}\n{r.err}"
        return r

    def run_args(self, *args):
        return ["run", "--network", "none", "--cgroup-parent", self.cgroup_parent, *ULIMITS,
                *args]

    def runtime_calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [ln.split() for ln in f.read().splitlines()]

    def runtime_verbs(self, since=0):
        """The verb of each runtime call (the first argument that is a verb)."""
        verbs = []
        for argv in self.runtime_calls()[since:]:
            verbs += [a for a in argv if a in VERBS][:1]
        return verbs


@pytest.fixture(scope="module")
def podman(session):
    if shutil.which("podman") is None or shutil.which("conmon") is None:
        pytest.skip("podman/conmon not installed (apt-get install podman)")
    existed = {d: os.path.exists(d) for d in SYSTEM_DIRS}
    pm = Podman(session)
    tar_path = os.path.join(pm.dir, "busybox.tar")
    with tarfile.open(tar_path, "w") as tar:
        tar.add(session.rootfs, arcname=".")
    pm("import", tar_path, IMAGE, check=True, timeout=120)
    try:
        yield pm
    finally:
        pm("rm", "--all", "--force", "--time", "0", timeout=120)
        pm("rmi", "--all", "--force", timeout=120)
        for m in sorted(host_mounts(), key=lambda m: -len(m["mountpoint"])):
            if m["mountpoint"].startswith(pm.dir + "/"):
                subprocess.run(["umount", "-l", m["mountpoint"]], capture_output=True)
        # podman's conmon/libpod cgroups below our parent
        for root in session.cgroup_roots():
            sub = os.path.join(root, "podman")
            for dirpath, _, _ in sorted(os.walk(sub, topdown=False), key=lambda t: -len(t[0])):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
        if not any(m["mountpoint"].startswith(pm.dir) for m in host_mounts()):
            shutil.rmtree(pm.dir, ignore_errors=True)
        for d, was in existed.items():
            if not was and os.path.isdir(d):
                shutil.rmtree(d, ignore_errors=True)


def test_podman_run_echo(podman):
    before = len(podman.runtime_calls())
    r = podman(*podman.run_args("--rm", IMAGE, "echo", "hello"))
    assert r.rc == 0, r.err
    assert r.out == "hello\n"
    verbs = podman.runtime_verbs(before)
    assert "create" in verbs and "start" in verbs, podman.runtime_calls()[before:]


def test_podman_exit_code(podman):
    r = podman(*podman.run_args("--rm", IMAGE, "sh", "-c", "exit 3"))
    assert r.rc == 3, r.err


def test_podman_network_none(podman):
    r = podman(*podman.run_args("--rm", IMAGE, "ls", "/sys/class/net"))
    assert r.rc == 0, r.err
    assert r.out.split() == ["lo"]


def test_podman_ulimits(podman):
    r = podman(*podman.run_args("--rm", IMAGE, "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -u"))
    assert r.rc == 0, r.err
    assert r.out.split() == ["1024", "1024", "1024"]


def test_podman_user(podman):
    r = podman(*podman.run_args("--rm", "--user", "1000:1000", IMAGE, "id", "-u"))
    assert r.rc == 0, r.err
    assert r.out.strip() == "1000"


def test_podman_detach_exec_stop(podman, session):
    name = session.new_id("podman")
    r = podman(*podman.run_args("-d", "--name", name, "--hostname", "pm-host", IMAGE,
                                "sleep", "1001"))
    assert r.rc == 0, r.err
    try:
        wait_for(lambda: podman("inspect", "-f", "{{.State.Status}}", name).out.strip()
                 == "running", what="podman container running")
        pid = int(podman("inspect", "-f", "{{.State.Pid}}", name).out)
        session.track(pid)
        r = podman("exec", name, "sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '")
        assert r.rc == 0, r.err
        assert r.out.splitlines() == ["pm-host", "sleep 1001 "]
        r = podman("stop", "-t", "1", name)
        assert r.rc == 0, r.err
        status = podman("inspect", "-f", "{{.State.Status}}", name).out.strip()
        assert status in ("exited", "stopped")
        wait_for(lambda: not os.path.exists(f"/proc/{pid}/cmdline")
                 or open(f"/proc/{pid}/cmdline").read() == "", what="container gone")
        verbs = podman.runtime_verbs()
        assert "exec" in verbs and "kill" in verbs, verbs
    finally:
        podman("rm", "--force", "--time", "0", name)
