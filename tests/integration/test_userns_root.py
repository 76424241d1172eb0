# SPDX-License-Identifier: LGPL-2.1-or-later
"""Root that is not root: host root starts a container whose user namespace
maps container root to an unprivileged host range.  A root-owned rootfs is
shifted with an idmapped mount (the disk is not changed)."""
import os

import pytest

RANGE = 200000


def userns(bundle):
    bundle.set_namespace("user")
    maps = [{"containerID": 0, "hostID": RANGE, "size": 65536}]
    bundle.linux["uidMappings"] = maps
    bundle.linux["gidMappings"] = maps
    # cgroupfs cannot be mounted from a user namespace on v1: drop that mount
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m.get("type") != "cgroup"]


def test_container_root_owns_the_shifted_rootfs(runtime, bundle, session):
    session.cell_only("rootfs shifting is cellrun's own")
    rootfs = bundle.private_rootfs()
    bundle.config["root"]["readonly"] = False
    userns(bundle)
    bundle.sh("cat /proc/self/uid_map; stat -c %u:%g /bin/busybox /etc/passwd; "
              "touch /made-inside && echo wrote")
    r = runtime.run(bundle).ok()
    lines = r.out.split("\n")
    assert lines[0].split() == ["0", str(RANGE), "65536"]
    assert lines[1:3] == ["0:0", "0:0"]      # not 65534 (unmapped): shifted
    assert "wrote" in r.out
    # the disk keeps root's ownership: nothing was chowned
    assert os.stat(os.path.join(rootfs, "bin/busybox")).st_uid == 0
    assert os.stat(os.path.join(rootfs, "made-inside")).st_uid == 0


def test_container_root_is_unprivileged_on_a_bind_mount(runtime, bundle, session):
    userns(bundle)
    bundle.private_rootfs()
    os.chmod(bundle.out, 0o777)
    bundle.sh("id -u; touch /out/by-container-root")
    r = runtime.run(bundle).ok()
    assert r.out.strip() == "0"
    st = os.stat(os.path.join(bundle.out, "by-container-root"))
    assert st.st_uid == RANGE and st.st_uid != 0


@pytest.mark.parametrize("relative", [False, True])
def test_bind_source_below_a_root_only_directory(runtime, bundle, relative):
    """The runtime opens bind sources with its own privileges (runc sends them
    by fd): a source below a 0700 root directory, which the container's root
    may not search, still mounts."""
    userns(bundle)
    bundle.private_rootfs()
    hidden = os.path.join(bundle.path, "hidden")
    os.makedirs(os.path.join(hidden, "data"))
    os.chmod(hidden, 0o700)
    os.chmod(os.path.join(hidden, "data"), 0o755)
    with open(os.path.join(hidden, "data", "f"), "w") as f:
        f.write("reached\n")
    os.chmod(os.path.join(hidden, "data", "f"), 0o644)
    source = "hidden/data" if relative else os.path.join(hidden, "data")
    bundle.add_mount("/mnt", "bind", source, ["rbind", "ro"])   # /mnt exists: no mkdir
    bundle.sh("cat /mnt/f; ls /hidden 2>/dev/null || echo no-hidden; "
              "touch /mnt/x 2>/dev/null || echo read-only")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert r.lines == ["reached", "no-hidden", "read-only"], r
