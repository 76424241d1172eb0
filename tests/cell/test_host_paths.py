# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 8, escape 6: the manager reads and writes files of a container's tree
from the host (exec -u's /etc/passwd, config hostname's /etc/hostname, the
identity a clone gets, the storage copy behind clone).  The tree is the
container's to shape: every symlink it planted must be followed as the
container would see it, inside its root, never to a host file.

Each test plants a symlink in a container's rootfs (dir storage, prepared here
as the container itself could) to a host file this test made, runs the host-side
command, and checks that the host file was neither read nor written."""
import os

import pytest



SECRET = "celltest:x:4242:4243:host secret:/:/bin/sh\n"
NAMES = ("passwd", "hostname", "machine-id")


class HostDir:
    """A host directory of files no container may read or write
    (passwd, hostname, machine-id), and a check that they were not."""
    def __init__(self, path):
        self.path = path
        path.mkdir()
        for name in NAMES:
            (path / name).write_text(SECRET)
        self.stats = {name: os.stat(path / name) for name in NAMES}

    def __truediv__(self, name):
        return self.path / name

    def unchanged(self):
        for name, st in self.stats.items():
            now = os.stat(self.path / name)
            assert (self.path / name).read_text() == SECRET, f"the host's {name} was written"
            assert (now.st_mtime_ns, now.st_ino) == (st.st_mtime_ns, st.st_ino), name


@pytest.fixture
def host(tmp_path):
    return HostDir(tmp_path / "host")


def rootfs(cell, n):
    return os.path.join(cell.store, "containers", n, "rootfs")


def plant(cell, n, rel, target):
    """rootfs/rel becomes a symlink to target (what the container's root could do)."""
    p = os.path.join(rootfs(cell, n), rel)
    if os.path.lexists(p):
        os.unlink(p)
    os.symlink(target, p)


def destroy(cell, n):
    cell("destroy", "--force", n, check=True)
    cell.names.discard(n)


def test_exec_user_reads_passwd_inside_the_root(cell, host):
    n = cell.name("pw")
    cell("create", n, "--template", "busybox", check=True)
    plant(cell, n, "etc/passwd", str(host / "passwd"))
    cell("start", n, check=True)
    r = cell("exec", n, "-u", "celltest", "--", "id", "-u")
    assert "4242" not in r.stdout, "exec -u read the host's file through the container's symlink"
    assert r.returncode != 0 and "celltest" in r.stderr, r
    # a link that stays inside the root is followed as the container sees it
    with open(os.path.join(rootfs(cell, n), "etc/passwd.real"), "w") as f:
        f.write("root:x:0:0::/root:/bin/sh\nguest:x:1234:1235::/tmp:/bin/sh\n")
    with open(os.path.join(rootfs(cell, n), "etc/group"), "a") as f:
        f.write("extra:x:77:guest\n")
    plant(cell, n, "etc/passwd", "/etc/../../../etc/passwd.real")
    r = cell("exec", n, "-u", "guest", "--", "sh", "-c", "id -u; id -g; id -G", check=True)
    assert r.stdout.split() == ["1234", "1235", "1235", "77"], r.stdout
    host.unchanged()
    destroy(cell, n)


def test_exec_user_through_a_planted_etc_dir(cell, host):
    n = cell.name("pwdir")
    cell("create", n, "--template", "busybox", check=True)
    cell("start", n, check=True)
    # the container itself swaps its /etc for a link to the host directory
    cell("exec", n, "--", "sh", "-c", f"mv /etc /etc.old && ln -s {host.path} /etc", check=True)
    r = cell("exec", n, "-u", "celltest", "--", "/bin/id", "-u")
    assert "4242" not in r.stdout, "exec -u read the host's passwd through the container's /etc"
    # refused when resolving the user: the container's /etc/passwd is a dangling link
    assert r.returncode != 0 and "-u celltest" in r.stderr and "/etc/passwd" in r.stderr, r
    host.unchanged()
    destroy(cell, n)


@pytest.mark.parametrize("planted", ["etc/hostname", "etc"])
def test_config_hostname_writes_inside_the_root(cell, host, planted):
    n = cell.name("hnl")
    cell("create", n, "--template", "busybox", check=True)
    if planted == "etc":
        os.rename(os.path.join(rootfs(cell, n), "etc"), os.path.join(rootfs(cell, n), "etc.old"))
        plant(cell, n, "etc", str(host.path))
    else:
        plant(cell, n, "etc/hostname", str(host / "hostname"))
    r = cell("config", n, "hostname", "renamed")
    host.unchanged()
    assert r.returncode == 0 and "not a regular file" in r.stderr, r
    assert cell("config", n, "hostname", check=True).stdout.strip() == "renamed"
    destroy(cell, n)


def test_clone_snapshot_copy_links_and_write_identity_inside_the_root(cell, host):
    n, c = cell.name("idsrc"), cell.name("idclone")
    cell("create", n, "--template", "busybox", check=True)
    for rel, name in (("etc/hostname", "hostname"), ("etc/machine-id", "machine-id"),
                      ("hostlink", "passwd")):
        plant(cell, n, rel, str(host / name))
    cell("clone", n, c, check=True)
    cell("snapshot", n, "s1", check=True)
    cell("rollback", n, "s1", check=True)
    snap = os.path.join(cell.store, "containers", n, "snapshots", "s1", "rootfs")
    for root, what in ((rootfs(cell, c), "clone"), (snap, "snapshot"), (rootfs(cell, n), "rollback")):
        for rel, name in (("etc/hostname", "hostname"), ("etc/machine-id", "machine-id"),
                          ("hostlink", "passwd")):
            p = os.path.join(root, rel)
            assert os.path.islink(p) and os.readlink(p) == str(host / name), \
                f"{what} did not copy {rel} as the symlink it is"
    host.unchanged()
    destroy(cell, c)
    destroy(cell, n)
