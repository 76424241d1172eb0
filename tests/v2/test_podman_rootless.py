# SPDX-License-Identifier: LGPL-2.1-or-later
"""Rootless podman with its default cgroup manager (systemd) on a systemd host,
with cellrun and, for comparison, runc as its runtime.

A fresh user with /etc/subuid and /etc/subgid ranges lingers, so its
user@UID.service and user bus run; podman runs as that user with the user's
bus.  podman calls the runtime (as root of its user namespace) with
--systemd-cgroup and user.slice:libpod:<id>: the runtime must talk to the
user's manager, and the container's libpod-<id>.scope is a unit of that
manager below user@UID.service.  The runtime is reached through a wrapper that
logs each call and adds --root (podman 4.3 forgets --runtime-flag on delete)."""
import os
import shutil
import subprocess
import tarfile

import pytest

import celltest
from conftest import chown_tree, rootless_user

USER = "cellv2pm"
IMAGE = "localhost/celltest-busybox:latest"
MiB = 1024 * 1024
SUBID_START, SUBID_COUNT = 300000, 65536
RUNTIMES = ("cellrun", "runc")


def user_env(u):
    return {"XDG_RUNTIME_DIR": f"/run/user/{u['uid']}",
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path=/run/user/{u['uid']}/bus",
            "HOME": u["base"], "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def as_user(u, *argv, timeout=90):
    """argv as the user with its runtime dir and bus (podman moves itself into a
    scope of the user's manager)."""
    env = [f"{k}={v}" for k, v in user_env(u).items()]
    return celltest.run_reaping(["runuser", "-u", USER, "--", "env", "-i", *env, *argv],
                                timeout=timeout, tmpdir=u["base"])


def user_show(u, unit, prop):
    r = as_user(u, "systemctl", "--user", "show", unit, "-p", prop, "--value")
    assert r.rc == 0, r
    return r.out.strip()


def user_units(u, pattern):
    r = as_user(u, "systemctl", "--user", "list-units", "--all", "--plain", "--no-legend",
                pattern)
    return [line.split()[0] for line in r.out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def u(session):
    if shutil.which("podman") is None or shutil.which("newuidmap") is None:
        pytest.skip("podman/newuidmap not in the guest image")
    with rootless_user(session, USER, "celltest-pm-", linger=True,
                       subids=(SUBID_START, SUBID_COUNT), rootfs=False) as info:
        base = info["base"]
        binaries = {"cellrun": session.binary, "runc": shutil.which("runc")}
        info["runtimes"] = {}
        for name, src in binaries.items():
            if src is None:
                continue
            d = os.path.join(base, "runtimes", name)
            os.makedirs(os.path.join(d, "state"))
            shutil.copy(src, os.path.join(d, "bin"))
            os.chmod(os.path.join(d, "bin"), 0o755)
            with open(os.path.join(d, "runtime"), "w") as f:
                f.write("#!/bin/sh\n"
                        f"echo \"$*\" >> '{d}/calls.log'\n"
                        f"exec '{d}/bin' --root '{d}/state' \"$@\"\n")
            os.chmod(os.path.join(d, "runtime"), 0o755)
            info["runtimes"][name] = d
        for d in ("root", "runroot", "tmp"):
            os.makedirs(os.path.join(base, d))
        with tarfile.open(os.path.join(base, "busybox.tar"), "w") as tar:
            tar.add(session.rootfs, arcname=".")
        chown_tree(base, info["uid"], info["gid"])
        try:
            r = podman(info, "cellrun", "info", "--format",
                       "{{.Host.CgroupManager}} {{.Host.CgroupsVersion}} "
                       "{{.Host.Security.Rootless}}")
            assert r.rc == 0, r
            assert r.out.split() == ["systemd", "v2", "true"], r
            r = podman(info, "cellrun", "import", os.path.join(base, "busybox.tar"), IMAGE,
                       timeout=180)
            assert r.rc == 0, r
            yield info
        finally:
            for name in info["runtimes"]:
                podman(info, name, "rm", "--all", "--force", "--time", "0", timeout=120)
            podman(info, "cellrun", "rmi", "--all", "--force", timeout=120)


def podman(u, runtime, *args, timeout=90):
    b = u["base"]
    return as_user(u, "podman", "--root", f"{b}/root", "--runroot", f"{b}/runroot",
                   "--tmpdir", f"{b}/tmp", "--storage-driver", "vfs", "--events-backend", "file",
                   "--cgroup-manager", "systemd", "--runtime", f"{u['runtimes'][runtime]}/runtime", *args,
                   timeout=timeout)


def calls(u, runtime):
    path = os.path.join(u["runtimes"][runtime], "calls.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


@pytest.fixture(params=RUNTIMES)
def rt(request, u):
    if request.param not in u["runtimes"]:
        pytest.skip(f"{request.param} not in the guest image")
    return request.param


def test_podman_rootless_run_limits(u, rt):
    r = podman(u, rt, "run", "--rm", "--network", "none", "--memory", "64m", "--pids-limit",
               "50", IMAGE, "sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; "
               "cat /proc/self/cgroup")
    assert r.rc == 0, r
    assert r.out.split() == [str(64 * MiB), "50", "0::/"], r
    creates = [c for c in calls(u, rt) if " create " in f" {c} "]
    assert creates and "--systemd-cgroup" in creates[-1].split(), calls(u, rt)


def test_podman_rootless_scope_limits_bite_stop_rm(u, rt, session):
    name = session.new_id("pmr")
    r = podman(u, rt, "run", "-d", "--name", name, "--network", "none", "--memory", "48m",
               "--memory-swap", "48m", "--pids-limit", "12", IMAGE, "sleep", "1001")
    assert r.rc == 0, r
    try:
        pid = int(podman(u, rt, "inspect", "-f", "{{.State.Pid}}", name).out)
        cid = podman(u, rt, "inspect", "-f", "{{.Id}}", name).out.strip()
        session.track(pid)
        scope = f"libpod-{cid}.scope"
        mgr = f"/user.slice/user-{u['uid']}.slice/user@{u['uid']}.service"
        with open(f"/proc/{pid}/cgroup") as f:
            assert f.read().strip() == f"0::{mgr}/user.slice/{scope}"
        # a unit of the user's manager (the runtime's StartTransientUnit), with the limits
        assert user_show(u, scope, "ActiveState") == "active"
        assert user_show(u, scope, "MemoryMax") == str(48 * MiB)
        assert user_show(u, scope, "TasksMax") == "12"
        assert user_show(u, scope, "Delegate") == "yes"
        assert subprocess.run(["systemctl", "show", scope, "-p", "LoadState", "--value"],
                              capture_output=True, text=True).stdout.strip() == "not-found"
        # the limits bite inside: an allocation is OOM-killed, fork fails at pids.max
        r = podman(u, rt, "exec", name, "awk", 'BEGIN { s = "x"; while (1) s = s s }')
        assert r.rc == 137, r
        cg = f"/sys/fs/cgroup{mgr}/user.slice/{scope}"
        with open(os.path.join(cg, "memory.events")) as f:
            events = dict(line.split() for line in f)
        assert int(events["oom_kill"]) >= 1, events
        r = podman(u, rt, "exec", name, "sh", "-c",
                   "cat /sys/fs/cgroup/pids.max; for i in $(seq 16); do "
                   "sleep 3 & done 2>&1; wait")
        assert r.out.splitlines()[0] == "12", r
        assert "can't fork" in r.out + r.err, r
        assert podman(u, rt, "stop", "-t", "1", name).rc == 0
        celltest.wait_for(lambda: not os.path.exists(f"/proc/{pid}/cmdline")
                          or open(f"/proc/{pid}/cmdline").read() == "", what="container gone")
        assert podman(u, rt, "rm", name).rc == 0
        celltest.wait_for(lambda: user_show(u, scope, "LoadState") == "not-found",
                          what="the user's scope to be gone")
        assert not os.path.exists(cg)
        assert user_units(u, f"libpod-{cid}*") == []
        # the runtime did the work: podman called it for each step
        words = {w for c in calls(u, rt) for w in c.split()}
        assert {"create", "start", "exec", "kill", "delete"} <= words, calls(u, rt)
    finally:
        podman(u, rt, "rm", "--force", "--time", "0", name)
