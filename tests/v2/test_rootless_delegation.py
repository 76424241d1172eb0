# SPDX-License-Identifier: LGPL-2.1-or-later
"""Rootless cellrun in a cgroup that systemd delegated to the user
(a transient service with User= and Delegate=yes): the limits apply, as on
a host where user@.service delegates to rootless podman."""
import json
import os
import subprocess

import pytest

import celltest
from conftest import rootless_user

USER = "cellv2rootless"


@pytest.fixture(scope="module")
def rl(session):
    with rootless_user(session, USER, "celltest-rl-") as u:
        yield u


def delegated_run(rl, resources, script):
    """`cellrun run` as the user inside a delegated transient service; the
    service's own shell moves itself ("0") to a leaf first: no processes in
    a cgroup whose controllers are enabled for its children."""
    rl["n"][0] += 1
    unit = f"celltest-rl-{os.getpid()}-{rl['n'][0]}.service"
    cid = f"celltest-rl-{rl['n'][0]}"
    b = os.path.join(rl["base"], cid)
    os.mkdir(b)
    os.chown(b, rl["uid"], rl["gid"])
    subprocess.run(["runuser", "-u", USER, "--", rl["binary"], "spec", "--rootless", "-b", b],
                   check=True, capture_output=True)
    with open(os.path.join(b, "config.json")) as f:
        c = json.load(f)
    c["root"] = {"path": os.path.join(rl["base"], "rootfs"), "readonly": True}
    c["process"]["terminal"] = False
    c["process"]["args"] = ["sh", "-c", script]
    c["linux"]["resources"] = resources
    c["linux"]["cgroupsPath"] = f"/system.slice/{unit}/ctr"
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(c, f)
    inner = ('cg=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup); mkdir "$cg/sh" && '
             'echo 0 >"$cg/sh/cgroup.procs" && '
             f'exec {rl["binary"]} --root {rl["state"]} run -b {b} {cid}')
    argv = ["systemd-run", "--quiet", "--wait", "--pipe", "--collect", f"--unit={unit}",
            f"--uid={USER}", "-p", "Delegate=yes", "busybox", "sh", "-c", inner]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
    finally:
        subprocess.run(["systemctl", "stop", unit], capture_output=True, timeout=30)
    return celltest.Result(argv, r.returncode, r.stdout, r.stderr, 0)


def test_rootless_delegated_limits_apply(rl):
    # the rootless spec binds the host's /sys: the host's tree, seen from inside
    ctr = f"/sys/fs/cgroup/system.slice/celltest-rl-{os.getpid()}-{rl['n'][0] + 1}.service/ctr"
    r = delegated_run(rl, {"pids": {"limit": 4}, "memory": {"limit": 64 * 1024 * 1024}},
                      f"id -u; cat /proc/self/cgroup {ctr}/pids.max {ctr}/memory.max; "
                      "for i in 1 2 3 4 5 6; do sleep 2 & done 2>&1; wait")
    assert r.out.splitlines()[:4] == ["0", "0::/", "4", str(64 * 1024 * 1024)], r
    assert "can't fork" in r.out + r.err, r   # and sh gives up (rc 2)


def test_rootless_delegated_oom(rl):
    r = delegated_run(rl, {"memory": {"limit": 32 * 1024 * 1024, "swap": 32 * 1024 * 1024}},
                      'awk \'BEGIN { s = "x"; while (1) s = s s }\'')
    assert r.rc == 137, r
