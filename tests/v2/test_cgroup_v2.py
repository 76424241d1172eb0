# SPDX-License-Identifier: LGPL-2.1-or-later
"""cellrun on the unified hierarchy: the limits bite (seen from inside the
container and in the host's cgroup files), update, freeze, kill --all."""
import os
import time

import pytest

import celltest

MiB = 1024 * 1024


def host_file(session, cid, name):
    with open(os.path.join(session.host_cgroup(None, cid), name)) as f:
        return f.read()


def keyed(text):
    return dict(line.split(None, 1) for line in text.splitlines() if line.strip())


def test_guest_is_pure_v2_with_systemd(session):
    with open("/proc/1/comm") as f:
        assert f.read().strip() == "systemd"
    types = {m["fstype"] for m in celltest.host_mounts() if m["mountpoint"].startswith(celltest.CGROUP_FS)}
    assert types == {"cgroup2"}, types
    with open("/proc/self/cgroup") as f:
        assert f.read().splitlines() == ["0::/system.slice/cell-v2.service"]


def test_container_in_its_cgroup_with_controllers(runtime, bundle, session):
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    pid = runtime.state(bundle.id)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        assert f.read().splitlines() == [f"0::{session.cgroups_path(bundle.id)}"]
    # the cgroup namespace: the container sees its cgroup as the root
    assert runtime.exec(bundle.id, "cat", "/proc/self/cgroup").ok().out.split() == ["0::/"]


def test_controllers_available_without_resources(runtime, bundle, session):
    """A container with no limits still sees memory, pids and cpu (runc): a
    nested runtime or systemd inside can use them, and update can set them."""
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    ctrl = runtime.exec(bundle.id, "cat", "/sys/fs/cgroup/cgroup.controllers").ok().out.split()
    assert {"memory", "pids", "cpu"} <= set(ctrl), ctrl


def test_memory_limit_oom_kills(runtime, bundle, session):
    bundle.linux["resources"]["memory"] = {"limit": 32 * MiB, "swap": 32 * MiB}
    # awk doubles a string until the cgroup's OOM killer stops it
    bundle.args("awk", 'BEGIN { s = "x"; while (1) s = s s }')
    r = runtime.run(bundle, timeout=60)
    assert r.rc == 137, r


def test_memory_limit_files_and_oom_event(runtime, bundle, session):
    bundle.linux["resources"]["memory"] = {"limit": 48 * MiB, "reservation": 16 * MiB,
                                           "swap": 48 * MiB}
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    inside = runtime.exec(bundle.id, "cat", "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.low",
                          "/sys/fs/cgroup/memory.swap.max").ok().out.split()
    assert inside == [str(48 * MiB), str(16 * MiB), "0"]
    r = runtime.exec(bundle.id, "awk", 'BEGIN { s = "x"; while (1) s = s s }', timeout=60)
    assert r.rc == 137, r
    assert int(keyed(host_file(session, bundle.id, "memory.events"))["oom_kill"]) >= 1
    assert runtime.status(bundle.id) == "running"   # only the exec'd process died


def test_pids_limit_bites(runtime, bundle, session):
    bundle.linux["resources"]["pids"] = {"limit": 4}
    bundle.sh("cat /sys/fs/cgroup/pids.max; "
              "for i in 1 2 3 4 5 6; do sleep 2 & done 2>&1; wait")
    r = runtime.run(bundle, timeout=60)
    assert r.out.splitlines()[0] == "4", r
    assert "can't fork" in r.out + r.err, r


def test_cpu_quota_in_cpu_max_and_throttles(runtime, bundle, session):
    bundle.linux["resources"]["cpu"] = {"quota": 20000, "period": 100000, "shares": 1024}
    bundle.sh("cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight; "
              "timeout 1 sh -c 'while :; do :; done'; cat /sys/fs/cgroup/cpu.stat")
    r = runtime.run(bundle, timeout=60)
    lines = r.out.splitlines()
    assert lines[0] == "20000 100000", r
    assert lines[1] == "39", r   # shares 1024 -> weight 1 + (1022 * 9999) / 262142
    stat = keyed("\n".join(lines[2:]))
    assert int(stat["nr_throttled"]) > 0, r
    # 20 % of one CPU for about a second
    assert int(stat["usage_usec"]) < 600000, r


def test_devices_ebpf_filter(runtime, bundle, session):
    """No device cgroup on v2: the eBPF program denies what the spec does not allow."""
    bundle.sh("mknod /tmp/vda b 254 0 && head -c 1 /tmp/vda >/dev/null; echo rc=$?; "
              "head -c 1 /dev/zero | wc -c")
    bundle.config["mounts"][-2]["options"] = ["nosuid", "mode=1777", "size=16m"]   # /tmp with dev
    r = runtime.run(bundle, timeout=60)
    assert "Operation not permitted" in r.out + r.err, r
    assert "rc=1" in r.out, r
    assert r.out.splitlines()[-1].strip() == "1", r


def test_update_v2_files(runtime, bundle, session):
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    runtime.cmd("update", "--memory", str(64 * MiB), "--pids-limit", "57", "--cpu-quota", "30000",
                "--cpu-period", "100000", "--cpu-share", "512", bundle.id).ok()
    got = runtime.exec(bundle.id, "cat", "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/pids.max",
                       "/sys/fs/cgroup/cpu.max", "/sys/fs/cgroup/cpu.weight").ok().out.splitlines()
    assert got == [str(64 * MiB), "57", "30000 100000", "20"]
    assert host_file(session, bundle.id, "pids.max").strip() == "57"


def test_update_pids_takes_effect(runtime, bundle, session):
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    runtime.cmd("update", "--pids-limit", "3", bundle.id).ok()
    r = runtime.exec(bundle.id, "sh", "-c", "for i in 1 2 3 4 5; do usleep 300000 & done; wait")
    assert "can't fork" in r.err, r
    assert int(keyed(host_file(session, bundle.id, "pids.events"))["max"]) >= 1


def test_pause_resume_freezes(runtime, bundle, session):
    bundle.sh("i=0; while :; do i=$((i+1)); echo $i >/out/n; usleep 20000; done")
    runtime.run(bundle, detach=True).ok()
    celltest.wait_for(lambda: os.path.exists(os.path.join(bundle.out, "n")), what="counter")
    runtime.cmd("pause", bundle.id).ok()
    assert runtime.status(bundle.id) == "paused"
    assert host_file(session, bundle.id, "cgroup.freeze").strip() == "1"
    assert keyed(host_file(session, bundle.id, "cgroup.events"))["frozen"] == "1"
    n1 = bundle.read_out("n")
    time.sleep(0.5)
    assert bundle.read_out("n") == n1   # nothing ran
    runtime.cmd("resume", bundle.id).ok()
    assert runtime.status(bundle.id) == "running"
    assert keyed(host_file(session, bundle.id, "cgroup.events"))["frozen"] == "0"
    celltest.wait_for(lambda: bundle.read_out("n") != n1, what="counter to advance")


def test_delete_force_of_paused(runtime, bundle, session):
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    runtime.cmd("pause", bundle.id).ok()
    runtime.delete(bundle.id, force=True).ok()
    assert session.leftovers(bundle.id) == []


def test_kill_all(runtime, bundle, session):
    bundle.sh("sleep 1001 & sleep 1002 & wait")
    runtime.run(bundle, detach=True).ok()
    procs = os.path.join(session.host_cgroup(None, bundle.id), "cgroup.procs")
    celltest.wait_for(lambda: len(open(procs).read().split()) == 3, what="3 processes")
    runtime.kill(bundle.id, "KILL", "--all").ok()
    celltest.wait_for(lambda: open(procs).read().split() == [], what="cgroup to empty")
    runtime.wait_status(bundle.id, "stopped")
    runtime.delete(bundle.id).ok()
    assert session.leftovers(bundle.id) == []


def test_cgroup_removed_after_delete(runtime, bundle, session):
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    assert os.path.isdir(session.host_cgroup(None, bundle.id))
    runtime.delete(bundle.id, force=True).ok()
    assert not os.path.exists(session.host_cgroup(None, bundle.id))
