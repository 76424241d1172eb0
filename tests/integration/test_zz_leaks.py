# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs last (file name order): nothing the suite made may be left behind.

Checks the whole session: mounts mentioning the session dir, cgroups under
/sys/fs/cgroup/*/celltest-<pid>/, processes the tests saw (by pid and start
time) or that sit in a suite cgroup, and state dirs in the --root dir.
Then removes the (now empty) cgroup parents the suite owns."""
import os

from celltest import reap_orphans, wait_for


def test_no_leaks(session):
    reap_orphans()
    # a container killed by the last test may need a moment to be reaped
    try:
        wait_for(lambda: not session.leaked_processes(), timeout=5, what="processes to exit")
    except AssertionError:
        pass
    findings = session.leftovers()
    assert findings == [], "left behind:\n  " + "\n  ".join(findings)


def test_cgroup_parents_removable(session):
    errors = session.remove_cgroup_parents()
    assert errors == []
    assert session.cgroup_roots() == []
    netns = os.listdir("/run/netns") if os.path.isdir("/run/netns") else []
    assert [n for n in netns if n.startswith(session.cgroup_parent + "-")] == []
