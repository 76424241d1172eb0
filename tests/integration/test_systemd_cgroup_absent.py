# SPDX-License-Identifier: LGPL-2.1-or-later
"""--systemd-cgroup on a host whose init is not systemd (this build host): refused
before anything is made, with runc 1.1.5's words (manager.New checks sd_booted's
/run/systemd/system).  The systemd side itself is tested in tests/v2 (make check-v2)."""
import glob
import json
import os

import pytest

NOT_RUNNING = "systemd not running on this host, cannot use systemd cgroups manager"


@pytest.fixture
def no_systemd():
    if os.path.isdir("/run/systemd/system"):
        pytest.skip("systemd runs here: tests/v2 covers --systemd-cgroup")


def write_config(bundle, cgroups_path):
    bundle.linux["cgroupsPath"] = cgroups_path
    bundle.write_raw(json.dumps(bundle.config))


@pytest.mark.parametrize("verb", ["run", "create"])
def test_systemd_cgroup_refused_without_systemd(runtime, bundle, session, no_systemd, verb):
    bundle.args("sleep", "1001")
    write_config(bundle, f"system.slice:celltest:{bundle.id}")
    runtime.ids.append(bundle.id)
    r = runtime.cmd("--systemd-cgroup", verb, "--bundle", bundle.path, bundle.id, guard=True)
    assert r.rc != 0, r
    assert NOT_RUNNING in r.err, r
    # nothing was made: no state, no cgroup in any hierarchy
    assert runtime.state(bundle.id) is None
    assert glob.glob(f"/sys/fs/cgroup/*/system.slice/celltest-{bundle.id}.scope") == []
    assert glob.glob(f"/sys/fs/cgroup/system.slice/celltest-{bundle.id}.scope") == []


def test_systemd_cgroup_path_form_checked_first(runtime, bundle, session, no_systemd):
    """A path that is not slice:prefix:name is refused as such (runc's specconv runs
    before its manager.New)."""
    write_config(bundle, f"/{session.cgroup_parent}/{bundle.id}")
    runtime.ids.append(bundle.id)
    r = runtime.cmd("--systemd-cgroup", "run", "--bundle", bundle.path, bundle.id, guard=True)
    assert r.rc != 0, r
    assert "slice:prefix:name" in r.err, r
    assert NOT_RUNNING not in r.err, r
    assert runtime.state(bundle.id) is None


def test_features_report_both_systemd_managers(runtime):
    """`features` says what the runtime can do wherever it runs: the system's and the
    user's systemd (rootless --systemd-cgroup), as runc 1.1.5 reports."""
    cg = json.loads(runtime.cmd("features", root=False).ok().out)["linux"]["cgroup"]
    assert cg["systemd"] is True and cg["systemdUser"] is True, cg
