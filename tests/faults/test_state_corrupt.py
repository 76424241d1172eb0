# SPDX-License-Identifier: LGPL-2.1-or-later
"""A running container whose state.json is truncated, empty, garbled,
NUL-filled or missing (issue 8, fault 1): `state` and `list` answer without
crashing, `delete --force` kills its processes and removes its cgroup and
state dir, and the id can be made again.  `delete --force` of an id that
does not exist exits 0 (as runc and crun do)."""
import json
import os

import pytest

import celltest
from faultlib import assert_delete_cleans, assert_remade


def corrupt(path, how):
    with open(path, "rb") as f:
        data = f.read()
    if how == "missing":
        os.unlink(path)
        return
    new = {"truncated": data[:len(data) // 2], "empty": b"",
           "garbled": bytes(b ^ 0x5a for b in data), "nul": b"\0" * len(data),
           "wrong-types": json.dumps({"id": 7, "pid": "x", "bundle": [],
                                      "cgroup_path": {}}).encode()}[how]
    with open(path, "wb") as f:
        f.write(new)


def no_crash(r):
    assert r.rc in (0, 1), r
    assert "AddressSanitizer" not in r.err and "runtime error" not in r.err, r


@pytest.mark.parametrize("how", ["truncated", "empty", "garbled", "nul", "missing",
                                 "wrong-types"])
def test_corrupt_state(session, runtime, bundle, adopted, how):
    bundle.sh("echo started > /out/started; exec sleep 1000")
    assert runtime.run(bundle, detach=True).rc == 0
    cid = bundle.id
    st = runtime.state(cid)
    pid = st["pid"]
    celltest.wait_for(lambda: os.path.exists(os.path.join(bundle.out, "started")),
                      what="the container to start")
    corrupt(os.path.join(session.state_root, cid, "state.json"), how)

    r = runtime.cmd("state", cid)
    no_crash(r)
    if r.rc:
        assert len(r.err_lines) == 1 and cid in r.err, r
    r = runtime.cmd("list")
    no_crash(r)
    assert r.rc == 0 and cid in r.out, r
    no_crash(runtime.cmd("list", "--format", "json"))

    assert celltest.pid_alive(pid)
    assert_delete_cleans(runtime, cid, adopted, f"state.json {how}")
    assert not celltest.pid_alive(pid), f"state.json {how}: init {pid} still runs"
    assert_remade(runtime, bundle, cid, f"state.json {how}")


def test_delete_force_missing_id(runtime):
    r = runtime.delete("celltest-no-such-container", force=True)
    assert r.rc == 0, r
    r = runtime.delete("celltest-no-such-container")
    assert r.rc != 0 and "does not exist" in r.err, r
