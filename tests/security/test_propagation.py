# SPDX-License-Identifier: LGPL-2.1-or-later
"""No mount propagates out of a container's mount namespace, whatever the
propagation of the caller's "/".

On a systemd host every mount is shared (mount_namespaces(7)); this machine's
are private, which hid the bug.  So each test calls the runtime from a mount
namespace of its own whose "/" is rshared (scripts/shared-root: a private
copy of ours made shared, so that nothing reaches the real host), and compares
that namespace's mount table before, during and after the container: the
container's proc, sys, dev, cgroup and tmpfs mounts, and mounts the container
makes itself, must never appear there.  Covered: a container without a user
namespace, one in a user namespace with a root-owned rootfs (shifted by an
idmapped mount that the runtime makes in its own namespace), and one whose
rootfs is owned by the mapped range (a plain bind); each with every
linux.rootfsPropagation.
"""
import os

import pytest

import celltest

RANGE = 200000
MAPS = [{"containerID": 0, "hostID": RANGE, "size": 65536}]
PROPAGATIONS = [None, "private", "rprivate", "slave", "rslave", "shared", "rshared",
                "unbindable", "runbindable"]
USERNS = ["no-userns", "userns-idmapped", "userns-owned"]


@pytest.fixture
def shared_ns():
    ns = celltest.SharedNamespace()
    yield ns
    ns.close()


def runc_gaps(session, propagation):
    """Where runc 1.1 differs without leaking: it refuses an unbindable "/" (the
    rootfs bind fails) and leaves a shared request off the new root."""
    if propagation in ("shared", "rshared", "unbindable", "runbindable"):
        session.cell_only(f"runc 1.1 does not give the root {propagation} propagation")


def configure(bundle, userns, propagation):
    rootfs = bundle.private_rootfs()
    bundle.config["root"]["readonly"] = False
    if propagation:
        bundle.linux["rootfsPropagation"] = propagation
    # the container mounts things itself too (the default profile lets only a
    # spec that grants CAP_SYS_ADMIN up front call mount(2))
    bundle.linux.pop("seccomp", None)
    caps = bundle.process.setdefault("capabilities", {})
    for kind in ("bounding", "effective", "permitted"):
        caps[kind] = sorted(set(caps.get(kind, [])) | {"CAP_SYS_ADMIN"})
    if userns == "no-userns":
        return rootfs
    bundle.set_namespace("user")
    bundle.linux["uidMappings"] = MAPS
    bundle.linux["gidMappings"] = MAPS
    # cgroupfs v1 cannot be mounted from a user namespace
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m.get("type") != "cgroup"]
    if userns == "userns-owned":
        for d, dirs, files in os.walk(rootfs):
            for name in [d] + [os.path.join(d, f) for f in dirs + files]:
                os.lchown(name, RANGE, RANGE)
    return rootfs


def check_disk(rootfs, userns):
    """A root-owned rootfs was shifted by an idmapped mount, not by chown."""
    want = RANGE if userns == "userns-owned" else 0
    assert os.stat(os.path.join(rootfs, "bin/busybox")).st_uid == want


INSIDE = ("cat /proc/self/mountinfo > /out/mountinfo; mkdir -p /out/sub; "
          "mount -t tmpfs made-inside /out/sub && mount -t tmpfs made-inside /mnt && echo mounted")


def check_inside(bundle, propagation):
    """The container had its mounts, and its root the propagation asked for."""
    mounts = celltest.parse_mountinfo(bundle.read_out("mountinfo"))
    assert celltest.mount_at(mounts, "/proc")["fstype"] == "proc"
    assert celltest.mount_at(mounts, "/sys")["fstype"] == "sysfs"
    assert celltest.mount_at(mounts, "/dev")["fstype"] == "tmpfs"
    tags = " ".join(celltest.mount_at(mounts, "/")["optional"])
    if propagation in ("shared", "rshared"):
        assert "shared:" in tags, tags
    elif propagation in ("unbindable", "runbindable"):
        assert "unbindable" in tags, tags
    else:
        assert "shared:" not in tags, tags
    if propagation in ("private", "rprivate"):
        assert tags == "", tags


@pytest.mark.parametrize("propagation", PROPAGATIONS, ids=lambda p: p or "default")
@pytest.mark.parametrize("userns", USERNS)
def test_no_mount_leaves_the_container(shared_ns, runtime, bundle, session, userns, propagation):
    runc_gaps(session, propagation)
    rootfs = configure(bundle, userns, propagation)
    bundle.sh(INSIDE)
    before = shared_ns.mounts()
    r = runtime.run(bundle, wrap=shared_ns.wrap)
    leaked = shared_ns.new_mounts(before)
    assert (r.rc, leaked) == (0, []), (
        f"caller's namespace: {len(before)} mounts before, {len(shared_ns.mounts())} after; "
        f"new: {leaked}\n{r}")
    assert r.out.strip() == "mounted", r
    check_inside(bundle, propagation)
    check_disk(rootfs, userns)


@pytest.mark.parametrize("userns", USERNS)
def test_no_mount_leaves_a_running_container(shared_ns, runtime, bundle, userns):
    """Detached: the caller's table stays the same while the container runs
    (also after an exec into it), and after delete."""
    rootfs = configure(bundle, userns, None)
    bundle.sh(INSIDE + " > /out/ready; exec sleep 1000")
    before = shared_ns.mounts()
    runtime.run(bundle, detach=True, wrap=shared_ns.wrap).ok()
    celltest.wait_for(lambda: os.path.exists(os.path.join(bundle.out, "ready")),
                      what="the container's mounts")
    assert bundle.read_out("ready").strip() == "mounted"
    r = runtime.exec(bundle.id, "stat", "-f", "-c", "%T", "/proc", "/mnt",
                     wrap=shared_ns.wrap).ok()
    assert r.out.split() == ["proc", "tmpfs"], r
    during = shared_ns.new_mounts(before)
    runtime.delete(bundle.id, force=True).ok()
    assert during == [], f"new mounts in the caller's namespace while it ran: {during}"
    assert shared_ns.new_mounts(before) == []
    check_inside(bundle, None)
    check_disk(rootfs, userns)


@pytest.mark.parametrize("propagation", [None, "rshared", "rslave"], ids=lambda p: p or "default")
@pytest.mark.parametrize("userns", USERNS)
def test_no_mount_leaves_a_no_pivot_container(shared_ns, runtime, bundle, session, userns,
                                              propagation):
    """--no-pivot: the rootfs is moved onto "/" (MS_MOVE) instead."""
    runc_gaps(session, propagation)
    rootfs = configure(bundle, userns, propagation)
    bundle.sh(INSIDE)
    before = shared_ns.mounts()
    r = runtime.run(bundle, "--no-pivot", wrap=shared_ns.wrap)
    leaked = shared_ns.new_mounts(before)
    assert (r.rc, leaked) == (0, []), f"new mounts in the caller's namespace: {leaked}\n{r}"
    assert r.out.strip() == "mounted", r
    check_inside(bundle, propagation)
    check_disk(rootfs, userns)


@pytest.mark.parametrize("propagation", PROPAGATIONS, ids=lambda p: p or "default")
def test_volume_on_a_shared_mount(shared_ns, runtime, bundle, session, propagation):
    """A bind whose host source is a shared mount of its own: what the container
    mounts below it reaches the caller only when rootfsPropagation asks for
    "rshared" (bidirectional volumes, as with runc); never by default, and not
    for a non-recursive "shared", "private" or "slave" either (runc lets those
    through: it gives "/" the requested mode before the binds are made)."""
    if propagation in ("private", "slave", "shared", "unbindable", "runbindable"):
        session.cell_only("runc gives / a non-recursive mode before its binds (and refuses "
                          "an unbindable one)")
    configure(bundle, "no-userns", propagation)
    vol = os.path.join(bundle.path, "vol")
    os.mkdir(vol)
    celltest.run_reaping([*shared_ns.wrap, "mount", "-t", "tmpfs", "celltest-vol", vol]).ok()
    bundle.add_mount("/vol", "bind", vol, ["rbind"])
    bundle.sh("mkdir /vol/sub && mount -t tmpfs made-inside /vol/sub && echo mounted")
    before = shared_ns.mounts()
    r = runtime.run(bundle, wrap=shared_ns.wrap).ok()
    assert r.out.strip() == "mounted", r
    leaked = shared_ns.new_mounts(before)
    want = [f"{vol}/sub (tmpfs)"] if propagation == "rshared" else []
    assert leaked == want
