# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs last: nothing the suite made is left in the guest — cgroups under
/sys/fs/cgroup/celltest-<pid>/, scopes of --systemd-cgroup containers,
processes the tests saw, state dirs, mounts of the session dir, the users the
rootless tests made (with their lingering and /etc/subuid, /etc/subgid lines)."""
import glob
import os
import subprocess

from celltest import reap_orphans, wait_for


def systemd_units(pattern):
    """Units of the system manager matching pattern that are still loaded."""
    r = subprocess.run(["systemctl", "list-units", "--all", "--plain", "--no-legend", pattern],
                       capture_output=True, text=True, timeout=30)
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


def suite_users():
    """The suite's users (cellv2*), their lingering and subordinate id ranges."""
    found = []
    for path in ("/etc/passwd", "/etc/subuid", "/etc/subgid"):
        if not os.path.exists(path):
            continue
        with open(path) as f:
            found += [f"{path}: {line.strip()}" for line in f if line.startswith("cellv2")]
    found += [f"lingering {p}" for p in glob.glob("/var/lib/systemd/linger/cellv2*")]
    return found


def test_no_leaks(session):
    reap_orphans()
    try:
        wait_for(lambda: not session.leaked_processes(), timeout=5, what="processes to exit")
    except AssertionError:
        pass
    findings = session.leftovers()
    findings += [f"cgroup {p}" for p in glob.glob("/sys/fs/cgroup/system.slice/celltest-*.scope")]
    findings += [f"cgroup {p}" for p in glob.glob("/sys/fs/cgroup/celltest.slice/**/*.scope",
                                                   recursive=True)]
    findings += [f"cgroup {p}" for p in glob.glob(
        "/sys/fs/cgroup/user.slice/user-*.slice/user@*.service/user.slice/celltest-*.scope")]
    findings += [f"unit {u}" for u in systemd_units("celltest-*.scope")]
    findings += [f"cgroup {p}" for p in glob.glob(
        "/sys/fs/cgroup/user.slice/user-*.slice/user@*.service/**/libpod-*.scope",
        recursive=True)]
    findings += suite_users()
    assert findings == [], "left behind:\n  " + "\n  ".join(findings)


def test_cgroup_parents_removable(session):
    assert session.remove_cgroup_parents() == []
    assert session.cgroup_roots() == []
