# SPDX-License-Identifier: LGPL-2.1-or-later
"""linux.devices (nodes), the default devices, and the device cgroup."""
STAT = "stat -c '%F %t:%T %a %u %g'"


def run(runtime, bundle, script):
    bundle.sh(script)
    r = runtime.run(bundle)
    assert r.rc == 0, r
    return r.out


def test_device_node_created(runtime, bundle):
    bundle.linux["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640,
         "uid": 1000, "gid": 1000},
        {"path": "/dev/celltest-blk", "type": "b", "major": 7, "minor": 0, "fileMode": 0o600,
         "uid": 0, "gid": 0},
        {"path": "/dev/sub/dir/node", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666},
    ]
    out = run(runtime, bundle, f"{STAT} /dev/fuse; {STAT} /dev/celltest-blk; "
                               "stat -c '%F %t:%T' /dev/sub/dir/node")
    assert out.splitlines() == [
        "character special file a:e5 640 1000 1000",
        "block special file 7:0 600 0 0",
        "character special file 1:3",
    ]


def test_device_fifo(runtime, bundle):
    bundle.linux["devices"] = [{"path": "/dev/celltest-fifo", "type": "p", "fileMode": 0o600}]
    out = run(runtime, bundle, "stat -c '%F %a' /dev/celltest-fifo")
    assert out.strip() == "fifo 600"


def test_device_mode_not_masked_by_umask(runtime, bundle):
    bundle.process["user"]["umask"] = 0o077
    bundle.linux["devices"] = [{"path": "/dev/celltest-null", "type": "c", "major": 1,
                                "minor": 3, "fileMode": 0o666}]
    assert run(runtime, bundle, "stat -c %a /dev/celltest-null").strip() == "666"


DEFAULTS = {
    "/dev/null": "character special file 1:3 666",
    "/dev/zero": "character special file 1:5 666",
    "/dev/full": "character special file 1:7 666",
    "/dev/random": "character special file 1:8 666",
    "/dev/urandom": "character special file 1:9 666",
    "/dev/tty": "character special file 5:0 666",
}


def test_default_devices(runtime, bundle):
    script = "; ".join(f"stat -c '%F %t:%T %a' {p}" for p in DEFAULTS)
    assert run(runtime, bundle, script).splitlines() == list(DEFAULTS.values())


def test_default_dev_symlinks(runtime, bundle):
    out = run(runtime, bundle, "for l in fd stdin stdout stderr ptmx; do "
                               "echo $l $(readlink /dev/$l); done")
    links = dict(ln.split(" ", 1) for ln in out.splitlines())
    assert links["fd"] == "/proc/self/fd"
    assert links["stdin"] == "/proc/self/fd/0"
    assert links["stdout"] == "/proc/self/fd/1"
    assert links["stderr"] == "/proc/self/fd/2"
    assert links["ptmx"] == "pts/ptmx"


def test_default_devices_usable(runtime, bundle):
    out = run(runtime, bundle, "head -c 16 /dev/urandom | wc -c; head -c 3 /dev/zero | wc -c; "
                               "echo x > /dev/null && echo null-ok; "
                               "(echo x > /dev/full) 2>&1 | grep -c 'No space left'")
    assert out.split() == ["16", "3", "null-ok", "1"]


def test_device_cgroup_denies_unlisted(runtime, bundle):
    """The node exists but no cgroup rule allows it: open fails EPERM."""
    bundle.linux["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                                "fileMode": 0o666}]
    res = bundle.linux.setdefault("resources", {})
    assert res["devices"][0] == {"allow": False, "access": "rwm"}
    out = run(runtime, bundle, "head -c1 /dev/fuse 2>&1; echo rc=$?")
    assert "Operation not permitted" in out and "rc=1" in out


def test_device_cgroup_explicit_deny(runtime, bundle, session):
    """A deny rule after the defaults removes a default device (rules apply in
    order).  runc appends its default allow rules after the config's."""
    session.cell_only("runc appends default device rules after the config's")
    bundle.linux["resources"]["devices"].append(
        {"allow": False, "type": "c", "major": 1, "minor": 9, "access": "rwm"})
    out = run(runtime, bundle, "head -c1 /dev/urandom >/dev/null 2>/out/err; echo rc=$?; "
                               "head -c1 /dev/zero | wc -c")
    assert out.split() == ["rc=1", "1"]
    assert "Operation not permitted" in bundle.read_out("err")


def test_device_cgroup_allow_rule(runtime, bundle):
    bundle.linux["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                                "fileMode": 0o666}]
    bundle.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"})
    # open only: reading an unmounted fuse device has its own EPERM
    out = run(runtime, bundle, ": < /dev/fuse && echo opened")
    assert out.strip() == "opened"


def test_device_cgroup_access_letters(runtime, bundle):
    """'r' without 'w': reading works, opening for write is denied."""
    bundle.linux["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                                "fileMode": 0o666}]
    bundle.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "r"})
    out = run(runtime, bundle, ": < /dev/fuse && echo read-open; "
                               "(: > /dev/fuse) 2>&1; echo rc=$?")
    lines = out.splitlines()
    assert lines[0] == "read-open"
    assert "Operation not permitted" in lines[1] and lines[2] == "rc=1"


def test_device_cgroup_mknod_node_unusable(runtime, bundle):
    """With CAP_MKNOD a node for a denied device may or may not be created
    (runc allows 'm' for all devices), but it can never be opened."""
    for s in ("bounding", "effective", "permitted"):
        bundle.process["capabilities"][s].append("CAP_MKNOD")
    out = run(runtime, bundle, "mknod /dev/celltest-kmsg c 1 11 2>&1; "
                               "head -c1 /dev/celltest-kmsg 2>&1 >/dev/null; echo rc=$?")
    assert "Operation not permitted" in out and out.splitlines()[-1] == "rc=1"
