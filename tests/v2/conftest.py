# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for tests/v2: cellrun on a pure cgroup v2 host with systemd as
PID 1.  These tests run only inside the guest of scripts/v2-vm (`make
check-v2`), which sets CELL_V2_GUEST=1; anywhere else they skip, so they can
never touch a real machine's cgroups.  The helpers are tests/integration's."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import celltest  # noqa: E402
from cellfixtures import bundle, make_bundle, runtime, start_session  # noqa: E402,F401

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CG = celltest.CGROUP_FS
_session = None


def guest_reason():
    """Why this is not the v2 test guest, or None."""
    if os.environ.get("CELL_V2_GUEST") != "1":
        return "tests/v2 run only inside the scripts/v2-vm guest (make check-v2)"
    if not os.path.exists(os.path.join(CG, "cgroup.controllers")):
        return f"{CG} is not cgroup2"
    return None


class V2Session(celltest.Session):
    """celltest.Session for the unified hierarchy: one tree at /sys/fs/cgroup,
    the suite's parent /sys/fs/cgroup/celltest-<pid>; ids in `systemd` use a
    "slice:prefix:name" cgroupsPath (for --systemd-cgroup)."""

    def __init__(self, binary):
        super().__init__(binary)
        self.systemd = {}   # cid -> "system.slice:celltest:<cid>"

    def cgroups_path(self, cid):
        return self.systemd.get(cid) or super().cgroups_path(cid)

    def host_cgroup(self, controller, cid):
        return os.path.join(CG, self.cgroup_parent, cid)

    def cgroup_roots(self):
        p = os.path.join(CG, self.cgroup_parent)
        return [p] if os.path.isdir(p) else []

    def kill_leftovers(self, cids=None, timeout=5):
        for root in self.cgroup_roots():
            for dirpath, _, files in os.walk(root):
                if "cgroup.freeze" in files:
                    try:
                        with open(os.path.join(dirpath, "cgroup.freeze"), "w") as f:
                            f.write("0")
                    except OSError:
                        pass
        return super().kill_leftovers(cids, timeout)


def _get_session():
    global _session
    if _session is None:
        _session = V2Session(os.environ.get("CELLRUN", os.path.join(REPO, "build", "cellrun")))
    return _session


@pytest.fixture(scope="session")
def session():
    why = guest_reason()
    if why:
        pytest.skip(why)
    return start_session(_get_session(), "v2")


def pytest_sessionfinish(session, exitstatus):
    s = _session
    if s is None or not os.path.isdir(s.base):
        return
    import shutil
    if os.path.isdir(s.state_root):
        for cid in os.listdir(s.state_root):
            try:
                celltest.run_reaping([s.binary, "--root", s.state_root, "delete", "--force", cid],
                                     timeout=30, tmpdir=s.base)
            except AssertionError:
                pass
    s.kill_leftovers()
    s.remove_cgroup_parents()
    shutil.rmtree(s.base, ignore_errors=True)
