# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the cellrun integration suite.

CELLRUN names the runtime binary (default: <repo>/build/cellrun); the suite
is written to be correct for runc too (CELLRUN=/usr/sbin/runc).
"""
import os

import pytest

import celltest
from cellfixtures import bundle, make_bundle, runtime, start_session  # noqa: F401 (fixtures)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_session = None


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes seconds (hook timeouts, podman)")
    config.addinivalue_line("markers", "podman: drives the runtime through podman")


def _get_session():
    global _session
    if _session is None:
        _session = celltest.Session(os.environ.get("CELLRUN", os.path.join(REPO, "build", "cellrun")))
    return _session


@pytest.fixture(scope="session")
def session():
    return start_session(_get_session(), "integration")


@pytest.fixture
def is_cell(session):
    return session.is_cell


def pytest_sessionfinish(session, exitstatus):
    """Best-effort cleanup of whatever the tests left; test_zz_leaks.py is
    the place where leaks fail the run."""
    s = _session
    if s is None or not os.path.isdir(s.base):
        return
    import shutil
    import subprocess
    findings = s.leftovers()
    if os.path.isdir(s.state_root):
        for cid in os.listdir(s.state_root):
            try:
                celltest.run_reaping([s.binary, "--root", s.state_root, "delete", "--force",
                                      cid], timeout=30, tmpdir=s.base)
            except AssertionError:
                pass
    s.kill_leftovers()
    s.cleanup_netns()
    for m in sorted(celltest.host_mounts(), key=lambda m: -len(m["mountpoint"])):
        if m["mountpoint"].startswith(s.base + "/"):
            subprocess.run(["umount", "-l", m["mountpoint"]], capture_output=True)
    s.remove_cgroup_parents()
    if not any(m["mountpoint"].startswith(s.base) for m in celltest.host_mounts()):
        shutil.rmtree(s.base, ignore_errors=True)
    if findings:
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            tr.write_line("celltest: cleaned up leftovers: " + "; ".join(findings), yellow=True)
