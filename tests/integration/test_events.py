# SPDX-License-Identifier: LGPL-2.1-or-later
"""events: runc's JSON event stream (containerd and podman parse it), and checkpoint/
restore failing as runc does without CRIU."""
import json
import os
import subprocess
import time

import pytest

from celltest import wait_for

MiB = 1024 * 1024


@pytest.fixture
def running(runtime, bundle):
    bundle.args("sleep", "1002")
    runtime.run(bundle, detach=True).ok()
    return bundle


def test_events_stats_once(runtime, running):
    bundle = running
    r = runtime.cmd("events", "--stats", bundle.id).ok()
    assert len(r.out.splitlines()) == 1, r
    ev = json.loads(r.out)
    assert list(ev) == ["type", "id", "data"]
    assert ev["type"] == "stats" and ev["id"] == bundle.id
    d = ev["data"]
    assert list(d) == ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt",
                       "network_interfaces"]
    assert d["pids"]["current"] == 1
    assert "limit" not in d["pids"]          # "max" is left out, as runc
    assert d["cpu"]["usage"]["total"] > 0
    assert set(d["cpu"]["usage"]) >= {"kernel", "user"}
    assert d["memory"]["usage"]["usage"] > 0
    assert set(d["memory"]) >= {"usage", "swap", "kernel", "kernelTCP"}
    assert d["memory"]["raw"]
    assert d["cpuset"]["cpus"]
    assert isinstance(d["hugetlb"], dict) and d["network_interfaces"] is None


def test_events_pids_limit_reported(runtime, bundle):
    bundle.linux.setdefault("resources", {})["pids"] = {"limit": 33}
    bundle.args("sleep", "1002")
    runtime.run(bundle, detach=True).ok()
    d = json.loads(runtime.cmd("events", "--stats", bundle.id).ok().out)["data"]
    assert d["pids"] == {"current": 1, "limit": 33}


def test_events_bad_interval(runtime, running):
    r = runtime.cmd("events", "--interval", "0s", running.id)
    assert r.rc != 0 and "greater than 0" in r.err, r
    r = runtime.cmd("events", "--interval", "fast", running.id)
    assert r.rc != 0, r


def test_events_stopped_container(runtime, bundle):
    bundle.args("true")
    runtime.create(bundle).ok()
    runtime.start(bundle.id).ok()
    runtime.wait_status(bundle.id, "stopped")
    r = runtime.cmd("events", "--stats", bundle.id)
    assert r.rc != 0 and "not running" in r.err, r


def read_events(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_events_stream_stats_and_oom(runtime, bundle, session, tmp_path):
    """Stats every interval, and an "oom" event when the OOM killer acts in the
    container (tail keeps a line without newline from /dev/zero in memory)."""
    bundle.linux.setdefault("resources", {})["memory"] = {"limit": 24 * MiB,
                                                          "swap": 24 * MiB}
    if not os.path.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"):
        bundle.linux["resources"]["memory"].pop("swap")
    bundle.sh("while [ ! -e /out/go ]; do usleep 20000; done; tail /dev/zero; sleep 1000")
    runtime.run(bundle, detach=True).ok()
    out = tmp_path / "events"
    argv = [runtime.binary, "--root", session.state_root, "events", "--interval", "300ms",
            bundle.id]
    with open(out, "w") as f:
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        wait_for(lambda: len(read_events(out)) >= 2, timeout=10, what="two stats events")
        open(os.path.join(bundle.out, "go"), "w").close()
        wait_for(lambda: any(e["type"] == "oom" for e in read_events(out)), timeout=20,
                 what="an oom event")
    finally:
        p.kill()
        p.wait()
    evs = read_events(out)
    stats = [e for e in evs if e["type"] == "stats"]
    assert len(stats) >= 2 and all(e["id"] == bundle.id for e in evs)
    assert [e for e in evs if e["type"] == "oom"][0] == {"type": "oom", "id": bundle.id}


def test_events_end_when_container_stops(runtime, bundle, session):
    session.cell_only("runc's stream ends only when the cgroup is removed")
    bundle.sh("sleep 1")
    runtime.run(bundle, detach=True).ok()
    t0 = time.monotonic()
    r = runtime.cmd("events", "--interval", "200ms", bundle.id, timeout=20).ok()
    assert time.monotonic() - t0 < 10
    assert all(json.loads(line)["type"] == "stats" for line in r.out.splitlines())


CHECKPOINT_FLAGS = ["--image-path", "/nonexistent-img", "--work-path", "/nonexistent-work",
                    "--leave-running", "--tcp-established", "--ext-unix-sk", "--shell-job",
                    "--file-locks", "--manage-cgroups-mode", "soft", "--empty-ns", "network",
                    "--auto-dedup"]


def test_checkpoint_without_criu(runtime, running, session):
    session.cell_only("runc uses the host's criu when installed")
    r = runtime.cmd("checkpoint", *CHECKPOINT_FLAGS, running.id)
    assert r.rc == 1, r
    assert len(r.err_lines) == 1 and "CRIU" in r.err, r
    assert runtime.status(running.id) == "running"     # left as it was
    assert not os.path.exists("/nonexistent-img")


def test_checkpoint_states(runtime, bundle, session):
    bundle.args("true")
    runtime.create(bundle).ok()
    r = runtime.cmd("checkpoint", bundle.id)
    assert r.rc != 0 and "created" in r.err, r
    r = runtime.cmd("checkpoint", session.new_id("ghost"))
    assert r.rc != 0, r


def test_restore_without_criu(runtime, bundle, session):
    session.cell_only("runc uses the host's criu when installed")
    cid = session.new_id("restored")
    r = runtime.cmd("restore", "--image-path", "/nonexistent-img", "--bundle", bundle.path,
                    "-d", "--no-pivot", "--lsm-profile", "x", cid)
    assert r.rc == 1 and len(r.err_lines) == 1 and "CRIU" in r.err, r
    assert runtime.state(cid) is None
    assert session.leftovers(cid) == []
