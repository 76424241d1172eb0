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
