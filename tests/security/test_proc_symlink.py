# SPDX-License-Identifier: LGPL-2.1-or-later
"""A rootfs whose /proc or /sys is a symlink is refused.

Mount targets resolve inside the root, so a link /proc -> /tmp/x would put
procfs at /tmp/x: /proc would then be whatever the image (or a container
sharing the rootfs) makes of that link later, and the masks and read-only
paths meant for the kernel's files would follow the link's target of the
moment.  runc refuses such a rootfs ("must be mounted on ordinary
directory"); so does cellrun, before it creates anything in the rootfs.
"""
import os

import pytest

import hostwatch

# (directory the link replaces, link target inside the root)
LINKS = {
    "proc-absolute": ("proc", "/tmp/x"),
    "proc-relative": ("proc", "tmp/x"),
    "proc-to-existing-dir": ("proc", "/mnt"),
    "proc-dangling": ("proc", "/nowhere/proc"),
    "sys-absolute": ("sys", "/tmp/y"),
    "sys-to-existing-dir": ("sys", "/mnt"),
}


def link_rootfs(bundle, kernel_dir, target):
    rootfs = bundle.private_rootfs()
    os.rmdir(os.path.join(rootfs, kernel_dir))
    os.symlink(target, os.path.join(rootfs, kernel_dir))
    return rootfs


@pytest.mark.parametrize("case", list(LINKS))
def test_kernel_dir_symlink_is_refused(runtime, bundle, session, case):
    kernel_dir, target = LINKS[case]
    rootfs = link_rootfs(bundle, kernel_dir, target)
    before = hostwatch.tree(rootfs)
    r = runtime.create(bundle)
    assert r.rc != 0, f"a rootfs with /{kernel_dir} -> {target} was accepted\n{r}"
    if runtime.is_cell:
        assert len(r.err_lines) == 1, r
        assert f"/{kernel_dir} in the rootfs is a symlink (to {target})" in r.err, r
    # refused before anything was made: no link target created, nothing left
    assert hostwatch.tree(rootfs) == before
    assert session.leftovers(bundle.id) == []


def test_kernel_dir_symlink_under_user_namespace_is_refused(runtime, bundle, session):
    """The same with a user namespace, where /sys is a bind of the host's."""
    rootfs = link_rootfs(bundle, "sys", "/mnt")
    maps = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    bundle.set_namespace("user")
    bundle.set_namespace("network", present=False)
    bundle.linux["uidMappings"] = maps
    bundle.linux["gidMappings"] = maps
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m.get("type") != "cgroup"]
    before = hostwatch.tree(rootfs)
    r = runtime.create(bundle)
    assert r.rc != 0, r
    if runtime.is_cell:
        assert len(r.err_lines) == 1, r
        assert "/sys in the rootfs is a symlink (to /mnt)" in r.err, r
    assert hostwatch.tree(rootfs) == before
    assert session.leftovers(bundle.id) == []


def test_proc_and_sys_directories_are_fine(runtime, bundle):
    """The control: the same private rootfs with real directories runs and has
    procfs and sysfs exactly at /proc and /sys."""
    bundle.private_rootfs()
    bundle.sh("stat -f -c %T /proc /sys")
    r = runtime.run(bundle).ok()
    assert r.out.split() == ["proc", "sysfs"], r
