# SPDX-License-Identifier: LGPL-2.1-or-later
"""--systemd-cgroup with cgroupsPath "slice:prefix:name" under a real systemd.

As runc, cellrun asks systemd over D-Bus for a transient scope unit
(StartTransientUnit: Slice, Delegate=yes, PIDs=[init], the limits as unit
properties), so that systemd knows the unit and its limits; update changes
the unit too (SetUnitProperties), delete stops it.  What systemd cannot say
exactly is written to cgroupfs after the unit's own values."""
import os
import subprocess

import pytest

import celltest

MiB = 1024 * 1024


@pytest.fixture
def sd_bundle(bundle, session, runtime):
    session.systemd[bundle.id] = f"system.slice:celltest:{bundle.id}"
    bundle.scope = f"celltest-{bundle.id}.scope"
    bundle.cgroup = os.path.join(celltest.CGROUP_FS, "system.slice", bundle.scope)
    yield bundle
    runtime.cleanup()
    # a transient scope that outlived its processes (it should not) goes too
    subprocess.run(["systemctl", "stop", bundle.scope], capture_output=True, timeout=30)
    session.systemd.pop(bundle.id, None)
    if os.path.isdir(bundle.cgroup):
        os.rmdir(bundle.cgroup)


def show(unit, prop):
    r = subprocess.run(["systemctl", "show", unit, "-p", prop, "--value"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r
    return r.stdout.strip()


def sd_run(runtime, bundle, *args):
    """run -d with --systemd-cgroup (the config's cgroupsPath is slice:prefix:name)."""
    cid = runtime._prepare(bundle, None)
    return runtime.cmd("--systemd-cgroup", "run", "-d", "--bundle", bundle.path, *args, cid,
                       guard=True)


def test_systemd_cgroup_path_and_limit(runtime, sd_bundle, session):
    """The container lands in /system.slice/<prefix>-<name>.scope with its limit."""
    sd_bundle.linux["resources"]["memory"] = {"limit": 40 * MiB}
    sd_bundle.args("sleep", "1001")
    sd_run(runtime, sd_bundle).ok()
    pid = runtime.state(sd_bundle.id)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        assert f.read().splitlines() == [f"0::/system.slice/{sd_bundle.scope}"]
    with open(os.path.join(sd_bundle.cgroup, "memory.max")) as f:
        assert f.read().strip() == str(40 * MiB)
    runtime.cmd("--systemd-cgroup", "update", "--memory", str(56 * MiB), sd_bundle.id).ok()
    with open(os.path.join(sd_bundle.cgroup, "memory.max")) as f:
        assert f.read().strip() == str(56 * MiB)
    runtime.cmd("--systemd-cgroup", "delete", "--force", sd_bundle.id).ok()
    assert not os.path.exists(sd_bundle.cgroup)


def test_systemd_scope_unit_has_memory_max(runtime, sd_bundle, session):
    sd_bundle.linux["resources"]["memory"] = {"limit": 40 * MiB}
    sd_bundle.linux["resources"]["pids"] = {"limit": 50}
    sd_bundle.args("sleep", "1001")
    sd_run(runtime, sd_bundle).ok()
    assert show(sd_bundle.scope, "ActiveState") == "active"
    assert show(sd_bundle.scope, "MemoryMax") == str(40 * MiB)
    assert show(sd_bundle.scope, "TasksMax") == "50"
    pid = runtime.state(sd_bundle.id)["pid"]
    assert str(pid) in show(sd_bundle.scope, "MainPID") + " " + \
        open(os.path.join(sd_bundle.cgroup, "cgroup.procs")).read()


def test_systemd_scope_update_changes_unit(runtime, sd_bundle, session):
    sd_bundle.linux["resources"]["memory"] = {"limit": 40 * MiB}
    sd_bundle.args("sleep", "1001")
    sd_run(runtime, sd_bundle).ok()
    runtime.cmd("--systemd-cgroup", "update", "--memory", str(72 * MiB), sd_bundle.id).ok()
    assert show(sd_bundle.scope, "MemoryMax") == str(72 * MiB)
    with open(os.path.join(sd_bundle.cgroup, "memory.max")) as f:
        assert f.read().strip() == str(72 * MiB)


def test_systemd_scope_gone_after_delete(runtime, sd_bundle, session):
    sd_bundle.args("sleep", "1001")
    sd_run(runtime, sd_bundle).ok()
    assert show(sd_bundle.scope, "LoadState") == "loaded"
    assert show(sd_bundle.scope, "ActiveState") == "active"
    runtime.cmd("--systemd-cgroup", "delete", "--force", sd_bundle.id).ok()
    celltest.wait_for(lambda: show(sd_bundle.scope, "ActiveState") == "inactive",
                      what="scope to stop")


def read(path, name):
    with open(os.path.join(path, name)) as f:
        return f.read().strip()


def test_systemd_scope_properties(runtime, sd_bundle, session):
    """The unit is a delegated scope in its slice; shares, quota and cpus become
    CPUWeight, CPUQuotaPerSecUSec and AllowedCPUs; cgroupfs gets the exact quota,
    or systemd's rounding of it up to 10 ms per second."""
    sd_bundle.linux["resources"]["cpu"] = {"shares": 512, "quota": 12345, "period": 100000,
                                           "cpus": "0"}
    sd_bundle.args("sleep", "1001")
    sd_run(runtime, sd_bundle).ok()
    assert show(sd_bundle.scope, "Slice") == "system.slice"
    assert show(sd_bundle.scope, "Delegate") == "yes"
    assert show(sd_bundle.scope, "CPUWeight") == "20"
    assert show(sd_bundle.scope, "CPUQuotaPerSecUSec") == "130ms"
    assert show(sd_bundle.scope, "AllowedCPUs") == "0"
    # cellrun writes the exact quota after the unit started; systemd writes its own,
    # rounded up to 10 ms per second, again whenever it re-realizes the unit's cgroup
    # (a sibling started in the slice can trigger that), as it does under runc
    assert read(sd_bundle.cgroup, "cpu.max") in ("12345 100000", "13000 100000")
    assert read(sd_bundle.cgroup, "cpu.weight") == "20"
    assert read(sd_bundle.cgroup, "cpuset.cpus") == "0"
    # delegated: every controller is there for a nested manager (podman, systemd inside)
    ctrl = runtime.exec(sd_bundle.id, "cat", "/sys/fs/cgroup/cgroup.controllers").ok().out.split()
    assert {"memory", "pids", "cpu", "cpuset", "io"} <= set(ctrl), ctrl


def test_systemd_scope_update_pids_and_cpu(runtime, sd_bundle, session):
    sd_bundle.linux["resources"]["pids"] = {"limit": 50}
    sd_bundle.args("sleep", "1001")
    sd_run(runtime, sd_bundle).ok()
    runtime.cmd("--systemd-cgroup", "update", "--pids-limit", "70", "--cpu-share", "1024",
                sd_bundle.id).ok()
    assert show(sd_bundle.scope, "TasksMax") == "70"
    assert show(sd_bundle.scope, "CPUWeight") == "39"
    assert read(sd_bundle.cgroup, "pids.max") == "70"
    # what the container itself sees
    assert runtime.exec(sd_bundle.id, "cat", "/sys/fs/cgroup/pids.max").ok().out.strip() == "70"


@pytest.fixture
def nested_slice(session):
    """A slice systemd has no unit file for, two levels deep: celltest.slice/celltest-n.slice."""
    yield "celltest-n.slice"
    subprocess.run(["systemctl", "stop", "celltest-n.slice", "celltest.slice"],
                   capture_output=True, timeout=30)


def test_systemd_scope_in_new_nested_slice(runtime, bundle, session, nested_slice):
    session.systemd[bundle.id] = f"{nested_slice}:celltest:{bundle.id}"
    scope = f"celltest-{bundle.id}.scope"
    try:
        bundle.args("sleep", "1001")
        sd_run(runtime, bundle).ok()
        pid = runtime.state(bundle.id)["pid"]
        with open(f"/proc/{pid}/cgroup") as f:
            assert f.read().strip() == f"0::/celltest.slice/{nested_slice}/{scope}"
        assert show(scope, "Slice") == nested_slice
        assert show(nested_slice, "ActiveState") == "active"
        assert show(nested_slice, "Slice") == "celltest.slice"
        runtime.cmd("--systemd-cgroup", "delete", "--force", bundle.id).ok()
        celltest.wait_for(lambda: show(scope, "ActiveState") == "inactive", what="scope to stop")
        assert not os.path.exists(f"/sys/fs/cgroup/celltest.slice/{nested_slice}/{scope}")
    finally:
        runtime.cleanup()
        subprocess.run(["systemctl", "stop", scope], capture_output=True, timeout=30)
        session.systemd.pop(bundle.id, None)


def test_systemd_scope_gone_after_kill(runtime, sd_bundle, session):
    """The init killed from outside: systemd sees the scope empty and drops it;
    delete then finds nothing to stop and still succeeds."""
    sd_bundle.args("sleep", "1001")
    sd_run(runtime, sd_bundle).ok()
    runtime.kill(sd_bundle.id, "KILL").ok()
    runtime.wait_status(sd_bundle.id, "stopped")
    celltest.wait_for(lambda: show(sd_bundle.scope, "ActiveState") == "inactive",
                      what="scope to stop")
    runtime.cmd("--systemd-cgroup", "delete", sd_bundle.id).ok()
    celltest.wait_for(lambda: show(sd_bundle.scope, "LoadState") == "not-found",
                      what="the unit to be gone")
    assert not os.path.exists(sd_bundle.cgroup)


def test_systemd_scope_failed_create_leaves_no_unit(runtime, sd_bundle, session):
    """A create that fails after the unit started (the process cannot be executed)
    stops the unit again."""
    sd_bundle.args("/no/such/binary")
    r = sd_run(runtime, sd_bundle)
    assert r.rc != 0, r
    celltest.wait_for(lambda: show(sd_bundle.scope, "LoadState") == "not-found",
                      what="the unit to be gone")
    assert not os.path.exists(sd_bundle.cgroup)
