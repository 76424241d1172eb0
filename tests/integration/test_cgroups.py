# SPDX-License-Identifier: LGPL-2.1-or-later
"""linux.resources read back from inside (/sys/fs/cgroup/<controller>/...) and
from the host cgroup at /sys/fs/cgroup/<controller>/celltest-<pid>/<id>."""
import json
import os

import pytest

import celltest

MiB = 1024 * 1024


def resources(bundle):
    return bundle.linux.setdefault("resources", {})


def read_inside(runtime, bundle, *rel):
    bundle.sh("; ".join(f"cat /sys/fs/cgroup/{p}" for p in rel))
    r = runtime.run(bundle)
    assert r.rc == 0, r
    return r.out.split()


def run_detached(runtime, bundle):
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()


def host_file(session, bundle, controller, name):
    return os.path.join(session.host_cgroup(controller, bundle.id), name)


def read_host(session, bundle, controller, name):
    with open(host_file(session, bundle, controller, name)) as f:
        return f.read().strip()


def test_memory_limit(runtime, bundle, session):
    resources(bundle)["memory"] = {"limit": 64 * MiB, "reservation": 32 * MiB}
    out = read_inside(runtime, bundle, "memory/memory.limit_in_bytes",
                      "memory/memory.soft_limit_in_bytes")
    assert out == [str(64 * MiB), str(32 * MiB)]


def test_memory_swap(runtime, bundle, session):
    if not os.path.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"):
        pytest.skip("no memsw accounting on this kernel")
    resources(bundle)["memory"] = {"limit": 64 * MiB, "swap": 96 * MiB}
    out = read_inside(runtime, bundle, "memory/memory.memsw.limit_in_bytes")
    assert out == [str(96 * MiB)]


def test_memory_limit_host_path(runtime, bundle, session):
    resources(bundle)["memory"] = {"limit": 40 * MiB}
    run_detached(runtime, bundle)
    assert read_host(session, bundle, "memory", "memory.limit_in_bytes") == str(40 * MiB)
    with open(host_file(session, bundle, "memory", "cgroup.procs")) as f:
        assert str(runtime.state(bundle.id)["pid"]) in f.read().split()


def test_pids_limit(runtime, bundle):
    resources(bundle)["pids"] = {"limit": 42}
    assert read_inside(runtime, bundle, "pids/pids.max") == ["42"]


def test_pids_limit_enforced(runtime, bundle):
    resources(bundle)["pids"] = {"limit": 2}
    bundle.sh("usleep 200000 & usleep 200000 & wait")
    r = runtime.run(bundle)
    assert "can't fork" in r.err, r


def test_cpu_quota_shares(runtime, bundle):
    resources(bundle)["cpu"] = {"quota": 20000, "period": 100000, "shares": 256}
    out = read_inside(runtime, bundle, "cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us",
                      "cpu/cpu.shares")
    assert out == ["20000", "100000", "256"]


def test_cpuset(runtime, bundle):
    resources(bundle)["cpu"] = {"cpus": "0", "mems": "0"}
    bundle.sh("cat /sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/cpuset/cpuset.mems; "
              "grep Cpus_allowed_list /proc/self/status")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert r.out.split() == ["0", "0", "Cpus_allowed_list:", "0"]


def test_blkio_weight(runtime, bundle, session):
    resources(bundle)["blockIO"] = {"weight": 321}
    run_detached(runtime, bundle)
    names = [n for n in ("blkio.weight", "blkio.bfq.weight")
             if os.path.exists(host_file(session, bundle, "blkio", n))]
    if not names:
        pytest.skip("neither blkio.weight nor blkio.bfq.weight exists on this host")
    r = runtime.exec(bundle.id, "cat", f"/sys/fs/cgroup/blkio/{names[0]}").ok()
    # blkio.bfq.weight reads "default 321"
    assert r.out.split()[-1] == "321", r


def test_hugepage_limit_unified(runtime, bundle, session):
    """On this hybrid host hugetlb lives only in the cgroup2 hierarchy."""
    if not os.path.exists("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        pytest.skip("no 2MB huge pages")
    with open("/proc/cgroups") as f:
        v1 = {ln.split()[0]: ln.split()[1] for ln in f if not ln.startswith("#")}
    if v1.get("hugetlb") != "0":
        pytest.skip("hugetlb is a v1 controller here")
    session.needs("hugetlb-unified")
    resources(bundle)["hugepageLimits"] = [{"pageSize": "2MB", "limit": 4 * MiB}]
    run_detached(runtime, bundle)
    path = host_file(session, bundle, "unified", "hugetlb.2MB.max")
    with open(path) as f:
        assert f.read().strip() == str(4 * MiB)


def test_unified_hierarchy_joined(runtime, bundle, session):
    """On a hybrid host the container also sits in the cgroup2 tree."""
    run_detached(runtime, bundle)
    pid = runtime.state(bundle.id)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        lines = f.read().splitlines()
    unified = [ln for ln in lines if ln.startswith("0::")]
    assert unified == [f"0::{session.cgroups_path(bundle.id)}"]


def test_freezer_and_devices_cgroups_used(runtime, bundle, session):
    run_detached(runtime, bundle)
    pid = str(runtime.state(bundle.id)["pid"])
    for ctrl in ("freezer", "devices", "memory", "pids", "cpu", "blkio", "cpuset"):
        with open(host_file(session, bundle, ctrl, "cgroup.procs")) as f:
            assert pid in f.read().split(), ctrl


def test_cgroup_removed_after_delete(runtime, bundle, session):
    run_detached(runtime, bundle)
    assert os.path.isdir(session.host_cgroup("memory", bundle.id))
    runtime.delete(bundle.id, force=True).ok()
    assert session.leaked_cgroups(bundle.id) == []


def test_memory_kernel_tcp_v1(runtime, bundle, session):
    path = "/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes"
    if not os.path.exists(path):
        pytest.skip("no v1 memory.kmem.tcp on this host")
    session.cell_only("runc ignores kernelTCP")
    bundle.linux.setdefault("resources", {})["memory"] = {"kernelTCP": 8 << 20}
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    with open(os.path.join(session.host_cgroup("memory", bundle.id),
                           "memory.kmem.tcp.limit_in_bytes")) as f:
        assert int(f.read()) == 8 << 20


def test_docker_zeros_are_unset(runtime, bundle, session):
    """Docker's config for `docker run` without limits: every value 0.  runc writes
    none of them (blkio.bfq.weight 0 is ERANGE, cpu.shares 0 becomes 2)."""
    resources(bundle).update({
        "memory": {"limit": 0, "reservation": 0, "swap": 0, "kernel": 0, "kernelTCP": 0},
        "cpu": {"shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0,
                "realtimePeriod": 0, "cpus": "", "mems": ""},
        "blockIO": {"weight": 0, "leafWeight": 0},
        "pids": {"limit": 0},
        "network": {"classID": 0},
    })
    out = read_inside(runtime, bundle, "cpu/cpu.shares", "cpu/cpu.cfs_period_us",
                      "cpu/cpu.cfs_quota_us", "pids/pids.max")
    assert out == ["1024", "100000", "-1", "max"]


def make_runner_cgroup(hier, path):
    """path (and its parents) in one hierarchy; a new v1 cpuset takes its
    parent's cpus and mems, or no process may join it."""
    d = celltest.CGROUP_FS + "/" + hier
    for part in path.split("/"):
        parent, d = d, os.path.join(d, part)
        if not os.path.isdir(d):
            os.mkdir(d)
        for f in ("cpuset.cpus", "cpuset.mems"):
            if os.path.exists(os.path.join(d, f)):
                with open(os.path.join(d, f)) as cur, open(os.path.join(parent, f)) as up:
                    if not cur.read().strip():
                        with open(os.path.join(d, f), "w") as out:
                            out.write(up.read().strip())


def test_default_parent_removed_with_its_last_container(runtime, bundle, session):
    """Without cgroupsPath the cgroup is <runtime's cgroup>/cellrun/<id>; the
    delete that empties "cellrun" removes it too (it was made for the container).
    The runtime runs from a cgroup of the suite's own, so all of it lands there."""
    session.cell_only("runc 1.1 leaves its default parent behind")
    runner = f"{session.cgroup_parent}/{bundle.id}-runner"
    hiers = [h for h in os.listdir(celltest.CGROUP_FS)
             if os.path.exists(os.path.join(celltest.CGROUP_FS, h, "cgroup.procs"))]
    for h in hiers:
        make_runner_cgroup(h, runner)
    join = " ".join(f'echo $$ > {os.path.join(celltest.CGROUP_FS, h, runner, "cgroup.procs")};'
                    for h in hiers)
    wrap = ["sh", "-ec", join + ' exec "$@"', "sh"]
    try:
        bundle.sh("sleep 30")
        bundle.linux.pop("cgroupsPath", None)
        with open(os.path.join(bundle.path, "config.json"), "w") as f:
            json.dump(bundle.config, f)
        runtime.ids.append(bundle.id)
        r = runtime.cmd("run", "-d", "--bundle", bundle.path, bundle.id, guard=True, wrap=wrap)
        assert r.rc == 0, r
        made = [h for h in hiers if os.path.isdir(
            os.path.join(celltest.CGROUP_FS, h, runner, "cellrun", bundle.id))]
        assert made == hiers, made
        runtime.delete(bundle.id, force=True).ok()
        left = [h for h in hiers
                if os.path.exists(os.path.join(celltest.CGROUP_FS, h, runner, "cellrun"))]
        assert left == [], f"default parent left in {left}"
    finally:
        runtime.delete(bundle.id, force=True)
        for h in hiers:
            d = os.path.join(celltest.CGROUP_FS, h, runner)
            for sub in (os.path.join(d, "cellrun", bundle.id), os.path.join(d, "cellrun"), d):
                if os.path.isdir(sub):
                    os.rmdir(sub)
