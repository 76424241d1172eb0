# SPDX-License-Identifier: LGPL-2.1-or-later
"""Rootless --systemd-cgroup: cellrun as an unprivileged user talks to that
user's systemd (user@UID.service, the user bus at $XDG_RUNTIME_DIR/bus), and the
container's scope is a unit of that manager, below its delegated cgroup:
/user.slice/user-UID.slice/user@UID.service/user.slice/<prefix>-<name>.scope.
runc does the same; every later command (state, kill, delete) must find it."""
import json
import os
import subprocess

import pytest

import celltest
from conftest import rootless_user

USER = "cellv2sd"
MiB = 1024 * 1024


def user_env(u):
    return {"XDG_RUNTIME_DIR": f"/run/user/{u['uid']}", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def as_user(u, *argv, timeout=60):
    """argv as the user, with its runtime dir (runuser: from root's cgroup)."""
    env = [f"{k}={v}" for k, v in user_env(u).items()]
    r = subprocess.run(["runuser", "-u", USER, "--", "env", *env, *argv], capture_output=True,
                       text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return celltest.Result(list(argv), r.returncode, r.stdout, r.stderr, 0)


def in_user_manager(u, *argv, timeout=90):
    """argv in a transient service of the user's own manager: inside the delegated
    user@UID.service tree, where a rootless process can make cgroups.  Its output goes
    to a file, not to systemd-run's --pipe: a detached container keeps its stdio open."""
    log = os.path.join(u["base"], f"out-{u['n'][0]}")
    r = as_user(u, "systemd-run", "--user", "--quiet", "--wait", "--collect",
                "-E", f"XDG_RUNTIME_DIR=/run/user/{u['uid']}", "--", "/bin/sh", "-c",
                'exec "$@" </dev/null >"$0" 2>&1', log, *argv, timeout=timeout)
    with open(log) as f:
        r.out = f.read()
    return r


def user_show(u, unit, prop):
    r = as_user(u, "systemctl", "--user", "show", unit, "-p", prop, "--value")
    assert r.rc == 0, r
    return r.out.strip()


@pytest.fixture(scope="module")
def u(session):
    with rootless_user(session, USER, "celltest-sd-", linger=True) as info:
        yield info


def bundle_for(u, resources, args):
    u["n"][0] += 1
    cid = f"celltest-sd-{os.getpid()}-{u['n'][0]}"
    b = os.path.join(u["base"], cid)
    os.mkdir(b)
    os.chown(b, u["uid"], u["gid"])
    as_user(u, u["binary"], "spec", "--rootless", "-b", b).ok()
    with open(os.path.join(b, "config.json")) as f:
        c = json.load(f)
    c["root"] = {"path": os.path.join(u["base"], "rootfs"), "readonly": True}
    c["process"]["terminal"] = False
    c["process"]["args"] = args
    c["linux"]["resources"] = resources
    c["linux"]["cgroupsPath"] = f"user.slice:celltest:{cid}"
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(c, f)
    return cid, b


def cellrun(u, *args, **kw):
    return as_user(u, u["binary"], "--root", u["state"], "--systemd-cgroup", *args, **kw)


def test_rootless_systemd_scope_in_user_manager(u):
    cid, b = bundle_for(u, {"memory": {"limit": 48 * MiB}, "pids": {"limit": 30}},
                        ["sleep", "1001"])
    scope = f"celltest-{cid}.scope"
    mgr = f"/user.slice/user-{u['uid']}.slice/user@{u['uid']}.service"
    cg = f"/sys/fs/cgroup{mgr}/user.slice/{scope}"
    try:
        r = in_user_manager(u, u["binary"], "--root", u["state"], "--systemd-cgroup", "run",
                            "-d", "-b", b, cid)
        assert r.rc == 0, r
        st = json.loads(cellrun(u, "state", cid).ok().out)
        assert st["status"] == "running", st
        with open(f"/proc/{st['pid']}/cgroup") as f:
            assert f.read().strip() == f"0::{mgr}/user.slice/{scope}"
        # a unit of the user's manager, with the limits as its properties
        assert user_show(u, scope, "ActiveState") == "active"
        assert user_show(u, scope, "MemoryMax") == str(48 * MiB)
        assert user_show(u, scope, "TasksMax") == "30"
        with open(os.path.join(cg, "memory.max")) as f:
            assert f.read().strip() == str(48 * MiB)
        cellrun(u, "update", "--memory", str(56 * MiB), cid).ok()
        assert user_show(u, scope, "MemoryMax") == str(56 * MiB)
        cellrun(u, "kill", cid, "KILL").ok()
        celltest.wait_for(lambda: json.loads(cellrun(u, "state", cid).out)["status"]
                          == "stopped", what="the container to stop")
        cellrun(u, "delete", cid).ok()
        celltest.wait_for(lambda: user_show(u, scope, "LoadState") == "not-found",
                          what="the user's scope to be gone")
        assert not os.path.exists(cg)
    finally:
        cellrun(u, "delete", "--force", cid)
        as_user(u, "systemctl", "--user", "stop", scope)


def test_rootless_systemd_delete_force_stops_running(u):
    cid, b = bundle_for(u, {}, ["sleep", "1001"])
    scope = f"celltest-{cid}.scope"
    try:
        r = in_user_manager(u, u["binary"], "--root", u["state"], "--systemd-cgroup", "run",
                            "-d", "-b", b, cid)
        assert r.rc == 0, r
        pid = json.loads(cellrun(u, "state", cid).ok().out)["pid"]
        cellrun(u, "delete", "--force", cid).ok()
        assert cellrun(u, "state", cid).rc != 0
        celltest.wait_for(lambda: not os.path.exists(f"/proc/{pid}/cmdline")
                          or open(f"/proc/{pid}/cmdline").read() == "", what="init gone")
        celltest.wait_for(lambda: user_show(u, scope, "LoadState") == "not-found",
                          what="the user's scope to be gone")
    finally:
        cellrun(u, "delete", "--force", cid)
        as_user(u, "systemctl", "--user", "stop", scope)
