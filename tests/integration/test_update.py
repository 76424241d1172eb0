# SPDX-License-Identifier: LGPL-2.1-or-later
"""update: resource changes on a running container, read back from inside
(the container's /sys/fs/cgroup) and from the host cgroup path."""
import json
import os

import pytest


MiB = 1024 * 1024


@pytest.fixture
def running(runtime, bundle):
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    return bundle


def inside(runtime, cid, rel):
    return runtime.exec(cid, "cat", f"/sys/fs/cgroup/{rel}").ok().out.strip()


def host(session, cid, controller, name):
    with open(os.path.join(session.host_cgroup(controller, cid), name)) as f:
        return f.read().strip()


def test_update_memory(runtime, running, session):
    runtime.cmd("update", "--memory", str(64 * MiB), running.id).ok()
    assert host(session, running.id, "memory", "memory.limit_in_bytes") == str(64 * MiB)
    assert inside(runtime, running.id, "memory/memory.limit_in_bytes") == str(64 * MiB)


def test_update_memory_suffix(runtime, running, session):
    runtime.cmd("update", "--memory", "48M", running.id).ok()
    assert inside(runtime, running.id, "memory/memory.limit_in_bytes") == str(48 * MiB)


def test_update_pids_limit(runtime, running, session):
    runtime.cmd("update", "--pids-limit", "57", running.id).ok()
    assert host(session, running.id, "pids", "pids.max") == "57"
    assert inside(runtime, running.id, "pids/pids.max") == "57"


def test_update_pids_limit_takes_effect(runtime, running):
    runtime.cmd("update", "--pids-limit", "3", running.id).ok()
    # init + sh + 1 child fit; the loop's extra forks hit the limit
    r = runtime.exec(running.id, "sh", "-c",
                     "for i in 1 2 3 4 5; do usleep 300000 & done; wait")
    assert "can't fork" in r.err, r


def test_update_cpu(runtime, running, session):
    runtime.cmd("update", "--cpu-period", "100000", "--cpu-quota", "25000",
                "--cpu-share", "512", running.id).ok()
    assert inside(runtime, running.id, "cpu/cpu.cfs_period_us") == "100000"
    assert inside(runtime, running.id, "cpu/cpu.cfs_quota_us") == "25000"
    assert inside(runtime, running.id, "cpu/cpu.shares") == "512"


def test_update_resources_file(runtime, running, session, tmp_path):
    res = {"memory": {"limit": 96 * MiB}, "pids": {"limit": 61},
           "cpu": {"quota": 30000, "period": 100000}}
    f = tmp_path / "resources.json"
    f.write_text(json.dumps(res))
    runtime.cmd("update", "-r", str(f), running.id).ok()
    assert inside(runtime, running.id, "memory/memory.limit_in_bytes") == str(96 * MiB)
    assert inside(runtime, running.id, "pids/pids.max") == "61"
    assert inside(runtime, running.id, "cpu/cpu.cfs_quota_us") == "30000"


def test_update_resources_stdin(runtime, running, tmp_path):
    f = tmp_path / "resources.json"
    f.write_text(json.dumps({"pids": {"limit": 62}}))
    with open(f) as stdin:
        runtime.cmd("update", "-r", "-", running.id, stdin=stdin).ok()
    assert inside(runtime, running.id, "pids/pids.max") == "62"


def test_update_keeps_other_limits(runtime, bundle, session):
    bundle.linux.setdefault("resources", {})["memory"] = {"limit": 80 * MiB}
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    runtime.cmd("update", "--pids-limit", "70", bundle.id).ok()
    assert inside(runtime, bundle.id, "memory/memory.limit_in_bytes") == str(80 * MiB)
    assert inside(runtime, bundle.id, "pids/pids.max") == "70"


def test_update_malformed_resources(runtime, running, tmp_path):
    f = tmp_path / "resources.json"
    f.write_text("{\"memory\": {\"limit\": }}")
    r = runtime.cmd("update", "-r", str(f), running.id)
    assert r.rc != 0
    assert len(r.err_lines) == 1, r


def test_update_unknown_container(runtime, session):
    r = runtime.cmd("update", "--pids-limit", "10", session.new_id("none"))
    assert r.rc != 0


def test_update_paused_container(runtime, running):
    runtime.cmd("pause", running.id).ok()
    runtime.cmd("update", "--pids-limit", "66", running.id).ok()
    assert runtime.status(running.id) == "paused"
    runtime.cmd("resume", running.id).ok()
    assert inside(runtime, running.id, "pids/pids.max") == "66"


# What Docker and containerd send for every value the user did not give: zeros.
DOCKER_ZEROS = {
    "memory": {"limit": 0, "reservation": 0, "swap": 0, "kernel": 0, "kernelTCP": 0},
    "cpu": {"shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0,
            "realtimePeriod": 0, "cpus": "", "mems": ""},
    "blockIO": {"weight": 0},
    "pids": {"limit": 0},
}


def test_update_zeros_are_unset(runtime, bundle, session, tmp_path):
    """`docker update --memory 64m`: every other field 0; all of them are left alone
    and the memory limit is applied."""
    bundle.linux.setdefault("resources", {})["pids"] = {"limit": 71}
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    before = {f: inside(runtime, bundle.id, f) for f in
              ("cpu/cpu.shares", "cpu/cpu.cfs_period_us", "cpu/cpu.cfs_quota_us",
               "cpuset/cpuset.cpus", "memory/memory.soft_limit_in_bytes")}
    res = json.loads(json.dumps(DOCKER_ZEROS))
    res["memory"]["limit"] = 64 * MiB
    f = tmp_path / "resources.json"
    f.write_text(json.dumps(res))
    runtime.cmd("update", "-r", str(f), bundle.id).ok()
    assert inside(runtime, bundle.id, "memory/memory.limit_in_bytes") == str(64 * MiB)
    assert inside(runtime, bundle.id, "pids/pids.max") == "71"
    for name, value in before.items():
        assert inside(runtime, bundle.id, name) == value, name
    assert before["cpu/cpu.shares"] == "1024"


def test_update_zero_flags_are_unset(runtime, running):
    runtime.cmd("update", "--pids-limit", "58", running.id).ok()
    runtime.cmd("update", "--cpu-period", "0", "--cpu-quota", "0", "--cpu-share", "0",
                "--blkio-weight", "0", "--pids-limit", "0", "--memory", "40M",
                running.id).ok()
    assert inside(runtime, running.id, "memory/memory.limit_in_bytes") == str(40 * MiB)
    assert inside(runtime, running.id, "pids/pids.max") == "58"
    assert inside(runtime, running.id, "cpu/cpu.shares") == "1024"
    assert inside(runtime, running.id, "cpu/cpu.cfs_period_us") == "100000"


def test_update_all_runc_flags_parse(runtime, running):
    r = runtime.cmd("update", "--memory", "50M", "--memory-reservation", "20M",
                    "--memory-swap", "-1", "--kernel-memory", "0", "--kernel-memory-tcp", "0",
                    "--cpu-rt-period", "0", "--cpu-rt-runtime", "0",
                    "--cpuset-cpus", "0", "--cpuset-mems", "0", "--l3-cache-schema", "",
                    "--mem-bw-schema", "", running.id)
    assert r.rc == 0, r
    assert inside(runtime, running.id, "memory/memory.limit_in_bytes") == str(50 * MiB)
    assert inside(runtime, running.id, "memory/memory.soft_limit_in_bytes") == str(20 * MiB)
    assert inside(runtime, running.id, "cpuset/cpuset.cpus") == "0"


def test_update_intel_rdt_refused(runtime, running):
    if os.path.exists("/sys/fs/resctrl/schemata"):
        pytest.skip("resctrl is mounted here")
    for flag in ("--l3-cache-schema", "--mem-bw-schema"):
        r = runtime.cmd("update", flag, "L3:0=f", running.id)
        assert r.rc != 0, r
        assert "not enabled" in r.err, r


def test_update_negative_period_refused(runtime, running):
    r = runtime.cmd("update", "--cpu-period", "-5", running.id)
    assert r.rc != 0, r
    assert inside(runtime, running.id, "cpu/cpu.cfs_period_us") == "100000"


def test_update_lower_period_under_limited_parent(runtime, bundle, session):
    """The parent allows half a cpu.  Going from 50000/100000 to 25000/50000 in that
    order of writes passes through 50000/50000 (EINVAL): the period is written again
    after the quota."""
    parent = session.host_cgroup("cpu", bundle.id + "-p")
    os.makedirs(parent)
    try:
        with open(os.path.join(parent, "cpu.cfs_quota_us"), "w") as f:
            f.write("50000")
        bundle.linux.setdefault("resources", {})["cpu"] = {"quota": 50000, "period": 100000}
        bundle.args("sleep", "1001")
        bundle.write()
        bundle.linux["cgroupsPath"] = f"/{session.cgroup_parent}/{bundle.id}-p/{bundle.id}"
        with open(os.path.join(bundle.path, "config.json"), "w") as f:
            json.dump(bundle.config, f)
        runtime.ids.append(bundle.id)
        runtime.cmd("run", "-d", "--bundle", bundle.path, bundle.id).ok()
        runtime.cmd("update", "--cpu-period", "50000", "--cpu-quota", "25000",
                    bundle.id).ok()
        assert inside(runtime, bundle.id, "cpu/cpu.cfs_period_us") == "50000"
        assert inside(runtime, bundle.id, "cpu/cpu.cfs_quota_us") == "25000"
    finally:
        runtime.cmd("delete", "--force", bundle.id)
        for root in session.cgroup_roots():
            if os.path.isdir(os.path.join(root, bundle.id + "-p")):
                os.rmdir(os.path.join(root, bundle.id + "-p"))


def test_update_cpu_shares_clamped_is_an_error(runtime, running):
    """The kernel clamps cpu.shares to [2, 262144]; runc reads it back and says so."""
    r = runtime.cmd("update", "--cpu-share", "1", running.id)
    assert r.rc != 0 and "minimum allowed cpu-shares is 2" in r.err, r
