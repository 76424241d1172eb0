# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for tests/v2: cellrun on a pure cgroup v2 host with systemd as
PID 1.  These tests run only inside the guest of scripts/v2-vm (`make
check-v2`), which sets CELL_V2_GUEST=1; anywhere else they skip, so they can
never touch a real machine's cgroups.  The helpers are tests/integration's."""
import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

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


def chown_tree(base, uid, gid):
    """Give base and everything under it to uid:gid (symlinks themselves)."""
    for d, dirs, files in os.walk(base):
        for name in [d] + [os.path.join(d, f) for f in files + dirs]:
            os.lchown(name, uid, gid)


def _remove_subids(user):
    for path in ("/etc/subuid", "/etc/subgid"):
        if not os.path.exists(path):
            continue
        with open(path) as f:
            lines = f.readlines()
        keep = [line for line in lines if line.split(":", 1)[0] != user]
        if keep != lines:
            with open(path, "w") as f:
                f.writelines(keep)


def _user_manager_up(uid):
    return os.path.exists(f"/run/user/{uid}/bus") and subprocess.run(
        ["systemctl", "is-active", "--quiet", f"user@{uid}.service"]).returncode == 0


def _user_units_stopped(uid):
    # logind and systemd finish a user's teardown asynchronously
    return all(subprocess.run(["systemctl", "show", unit, "-p", "ActiveState", "--value"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
               in ("inactive", "")
               for unit in (f"user@{uid}.service", f"user-runtime-dir@{uid}.service",
                            f"user-{uid}.slice"))


@contextlib.contextmanager
def rootless_user(session, name, prefix, linger=False, subids=None, rootfs=True):
    """A fresh unprivileged user for the rootless tests, and a base directory of
    its own holding its copy of cellrun (the 9p share is root's) and, with
    rootfs, a busybox rootfs.  subids=(start, count) gives it /etc/subuid and
    /etc/subgid ranges; linger starts its user@UID.service and user bus without a
    login, and waits for them.  Everything goes again on exit: the user's units
    (waited for), the base (as root: it may hold files of subordinate ids), the
    user and its ranges."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--shell", "/bin/sh", name], check=True)
    pw = pwd.getpwnam(name)
    uid, gid = pw.pw_uid, pw.pw_gid
    base = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    try:
        _remove_subids(name)
        if subids:
            for path in ("/etc/subuid", "/etc/subgid"):
                with open(path, "a") as f:
                    f.write(f"{name}:{subids[0]}:{subids[1]}\n")
        os.chmod(base, 0o755)
        binary = os.path.join(base, "cellrun")
        shutil.copy(session.binary, binary)
        os.chmod(binary, 0o755)
        if rootfs:
            celltest.build_rootfs(os.path.join(base, "rootfs"))
        chown_tree(base, uid, gid)
        if linger:
            subprocess.run(["loginctl", "enable-linger", name], check=True, timeout=60)
            celltest.wait_for(lambda: _user_manager_up(uid), timeout=60,
                              what=f"user@{uid}.service and its bus")
        yield {"name": name, "uid": uid, "gid": gid, "base": base, "binary": binary,
               "state": os.path.join(base, "state"), "n": [0]}
    finally:
        if linger:
            subprocess.run(["loginctl", "disable-linger", name], capture_output=True, timeout=60)
            subprocess.run(["systemctl", "stop", f"user@{uid}.service"], capture_output=True,
                           timeout=60)
            subprocess.run(["loginctl", "terminate-user", name], capture_output=True, timeout=60)
            celltest.wait_for(lambda: _user_units_stopped(uid), timeout=60,
                              what="the user's units to stop")
        shutil.rmtree(base, ignore_errors=True)
        subprocess.run(["userdel", name], capture_output=True)
        _remove_subids(name)


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
