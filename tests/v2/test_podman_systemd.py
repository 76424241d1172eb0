# SPDX-License-Identifier: LGPL-2.1-or-later
"""podman as root with its default cgroup manager on a systemd host
(--cgroup-manager systemd: podman calls the runtime with --systemd-cgroup and
a cgroupsPath of machine.slice:libpod:<id>) driving cellrun through conmon.

Storage and runtime state live under the session dir (vfs driver); the
runtime is reached through a wrapper that logs each call and adds --root
(podman 4.3 forgets --runtime-flag on delete)."""
import os
import shutil
import subprocess
import tarfile

import pytest

from celltest import run_reaping, wait_for

IMAGE = "localhost/celltest-busybox:latest"
MiB = 1024 * 1024


def unit_prop(unit, prop):
    r = subprocess.run(["systemctl", "show", unit, "-p", prop, "--value"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r
    return r.stdout.strip()


class Podman:
    def __init__(self, session):
        self.s = session
        self.dir = os.path.join(session.base, "podman")
        self.log = os.path.join(self.dir, "runtime.log")
        self.wrapper = os.path.join(self.dir, "runtime")
        for d in ("root", "runroot", "tmp", "runtime-state"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        with open(self.wrapper, "w") as f:
            f.write("#!/bin/sh\n"
                    f"echo \"$*\" >> '{self.log}'\n"
                    f"exec '{session.binary}' --root '{self.dir}/runtime-state' \"$@\"\n")
        os.chmod(self.wrapper, 0o755)
        self.base_args = ["podman", "--root", os.path.join(self.dir, "root"),
                          "--runroot", os.path.join(self.dir, "runroot"),
                          "--tmpdir", os.path.join(self.dir, "tmp"),
                          "--storage-driver", "vfs", "--events-backend", "file",
                          "--runtime", self.wrapper]

    def __call__(self, *args, timeout=90):
        return run_reaping(self.base_args + list(args), timeout=timeout, tmpdir=self.dir)

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return f.read().splitlines()


@pytest.fixture(scope="module")
def podman(session):
    if shutil.which("podman") is None or shutil.which("conmon") is None:
        pytest.skip("podman/conmon not in the guest image")
    pm = Podman(session)
    r = pm("info", "--format", "{{.Host.CgroupManager}} {{.Host.CgroupsVersion}}")
    assert r.rc == 0, r
    assert r.out.split() == ["systemd", "v2"], r
    tar_path = os.path.join(pm.dir, "busybox.tar")
    with tarfile.open(tar_path, "w") as tar:
        tar.add(session.rootfs, arcname=".")
    r = pm("import", tar_path, IMAGE, timeout=180)
    assert r.rc == 0, r
    try:
        yield pm
    finally:
        pm("rm", "--all", "--force", "--time", "0", timeout=120)
        pm("rmi", "--all", "--force", timeout=120)


def test_podman_systemd_run_limits(podman):
    r = podman("run", "--rm", "--network", "none", "--memory", "64m", "--pids-limit", "50",
               IMAGE, "sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max")
    assert r.rc == 0, r
    assert r.out.split() == [str(64 * MiB), "50"], r
    creates = [c for c in podman.calls() if " create " in f" {c} "]
    assert creates and "--systemd-cgroup" in creates[-1].split(), podman.calls()


def test_podman_systemd_detached_pause_stop(podman, session):
    name = session.new_id("pm")
    r = podman("run", "-d", "--name", name, "--network", "none", "--memory", "48m", IMAGE,
               "sleep", "1001")
    assert r.rc == 0, r
    try:
        wait_for(lambda: podman("inspect", "-f", "{{.State.Status}}", name).out.strip()
                 == "running", timeout=30, what="podman container running")
        pid = int(podman("inspect", "-f", "{{.State.Pid}}", name).out)
        cid = podman("inspect", "-f", "{{.Id}}", name).out.strip()
        session.track(pid)
        with open(f"/proc/{pid}/cgroup") as f:
            cg = f.read().strip()
        assert cg == f"0::/machine.slice/libpod-{cid}.scope", cg
        path = f"/sys/fs/cgroup/machine.slice/libpod-{cid}.scope"
        with open(os.path.join(path, "memory.max")) as f:
            assert f.read().strip() == str(48 * MiB)
        # a unit systemd knows (the runtime's StartTransientUnit), with the limit
        scope = f"libpod-{cid}.scope"
        assert unit_prop(scope, "ActiveState") == "active"
        assert unit_prop(scope, "MemoryMax") == str(48 * MiB)
        assert unit_prop(scope, "Delegate") == "yes"
        assert podman("pause", name).rc == 0
        with open(os.path.join(path, "cgroup.freeze")) as f:
            assert f.read().strip() == "1"
        assert podman("unpause", name).rc == 0
        r = podman("exec", name, "cat", "/proc/1/cmdline")
        assert r.rc == 0 and r.out.startswith("sleep"), r
        assert podman("stop", "-t", "1", name).rc == 0
        wait_for(lambda: not os.path.exists(f"/proc/{pid}/cmdline")
                 or open(f"/proc/{pid}/cmdline").read() == "", what="container gone")
        assert podman("rm", name).rc == 0
        wait_for(lambda: unit_prop(scope, "LoadState") == "not-found", what="scope unit gone")
    finally:
        podman("rm", "--force", "--time", "0", name)
