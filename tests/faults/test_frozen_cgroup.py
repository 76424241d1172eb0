# SPDX-License-Identifier: LGPL-2.1-or-later
"""A container's cgroup that already exists and is frozen (issue 8, fault 3):
a process that joined it would hang in D state for ever.  create refuses,
naming the cgroup, before any process joins; it leaves nothing behind and
does not remove the cgroup it did not make.  Also a frozen parent."""
import json
import os

import pytest

import celltest
from celltest import CGROUP_FS


def freezers():
    """(hierarchy dir, file, frozen value, thawed value) this host has."""
    found = []
    if os.path.isfile(os.path.join(CGROUP_FS, "cgroup.controllers")):
        found.append(("", "cgroup.freeze", "1", "0"))
    if os.path.isdir(os.path.join(CGROUP_FS, "freezer")):
        found.append(("freezer", "freezer.state", "FROZEN", "THAWED"))
    if os.path.isfile(os.path.join(CGROUP_FS, "unified", "cgroup.freeze")) or \
            os.path.isfile(os.path.join(CGROUP_FS, "unified", "cgroup.controllers")):
        found.append(("unified", "cgroup.freeze", "1", "0"))
    return found


FREEZERS = freezers()


def write(path, value):
    with open(path, "w") as f:
        f.write(value)


@pytest.mark.parametrize("where", ["self", "parent"])
@pytest.mark.parametrize("hier", FREEZERS, ids=[f[0] or "v2" for f in FREEZERS])
def test_frozen_cgroup_refused(session, runtime, bundle, hier, where):
    name, file, frozen, thawed = hier
    cid = bundle.id
    sub = f"{session.cgroup_parent}/{cid}-frozen"
    cg_path = f"/{sub}" if where == "self" else f"/{sub}/{cid}"
    frozen_dir = os.path.join(CGROUP_FS, name, sub)
    bundle.linux["cgroupsPath"] = cg_path
    os.makedirs(frozen_dir)
    try:
        write(os.path.join(frozen_dir, file), frozen)
        celltest.wait_for(lambda: open(os.path.join(frozen_dir, file)).read().strip() == frozen,
                          timeout=5, what="the cgroup to freeze")
        # the config as is: bundle.write() would reset cgroupsPath to the default
        with open(os.path.join(bundle.path, "config.json"), "w") as f:
            json.dump(bundle.config, f)
        runtime.ids.append(cid)
        r = runtime.cmd("create", "--bundle", bundle.path, cid, timeout=15, guard=True)
        assert r.rc != 0, r
        assert len(r.err_lines) == 1, r
        assert "frozen" in r.err and cg_path.rsplit("/", 1)[0] in r.err, r
        # runc's words, which its cgroups.bats reads
        assert "container's cgroup unexpectedly frozen" in r.err, r
        # nothing of the container; our cgroup still there, still frozen, empty
        assert session.leaked_state(cid) == []
        assert os.path.isdir(frozen_dir)
        assert open(os.path.join(frozen_dir, file)).read().strip() == frozen
        assert celltest.pids_in_cgroup(f"/{sub}") == []
        made = [os.path.join(CGROUP_FS, h, sub, cid) for h in os.listdir(CGROUP_FS)
                if where == "parent" and os.path.isdir(os.path.join(CGROUP_FS, h, sub, cid))]
        assert made == [], made
    finally:
        write(os.path.join(frozen_dir, file), thawed)
        session.kill_leftovers(cids=[f"{cid}-frozen"])
        celltest.wait_for(lambda: celltest.pids_in_cgroup(f"/{sub}") == [], timeout=10,
                          what="the frozen cgroup to empty")
        for h in os.listdir(CGROUP_FS):
            for d in (os.path.join(CGROUP_FS, h, sub, cid), os.path.join(CGROUP_FS, h, sub)):
                if os.path.isdir(d):
                    os.rmdir(d)
