# SPDX-License-Identifier: LGPL-2.1-or-later
"""Safe by default (issue 8, escape 7): `cell create` makes unprivileged containers,
each with 65536 host ids of its own from root's /etc/subuid and /etc/subgid, handed
out host-wide by a registry so that no two containers of any store share ids;
`--privileged` makes the old kind and says that it is not root-safe."""
import json
import os
import shutil
import stat

import pytest

from conftest import Cell

SIZE = 65536


def info(cell, name, env=None):
    return json.loads(cell("info", "--json", name, check=True, env=env).stdout)


def host_range(cell, name, env=None):
    i = info(cell, name, env)
    assert i["unprivileged"] and not i["privileged"] and i["root_safe"], i
    assert i["idmap"]["size"] == SIZE, i
    return i["idmap"]["host"]


def disjoint(a, b):
    return a + SIZE <= b or b + SIZE <= a


def test_default_create_is_unprivileged(cell):
    """No flag: a user namespace with the container's own range; its root is not host
    root (a host directory of host root's, bound in, is not its to write), and what it
    creates is owned on the host by the mapped uid."""
    n = cell.name("dflt")
    hostdir = os.path.join(cell.base, f"hostdir-{n}")   # on a path the mapped root can walk
    os.mkdir(hostdir, 0o755)
    r = cell("create", n, "--mount", f"{hostdir}:/hostdir", check=True)
    start = host_range(cell, n)
    assert f"host ids {start}-{start + SIZE - 1}" in r.stdout, r.stdout
    store = os.path.realpath(cell.store)
    assert (store, n, start, SIZE) in cell.registry()
    # host users cannot walk into the container's files (what its root makes is
    # host root's on disk through the idmapped mount)
    d = os.stat(os.path.join(cell.store, "containers", n))
    assert stat.S_IMODE(d.st_mode) == 0o700 and d.st_uid == start, d
    cell("start", n, check=True)
    r = cell("exec", n, "--", "sh", "-c",
             "cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /made-inside; "
             "touch /hostdir/x 2>/dev/null && echo wrote-host-dir; ls -ln /hostdir/.. | grep hostdir",
             check=True)
    lines = r.stdout.split("\n")
    assert lines[0].split() == ["0", str(start), str(SIZE)], r.stdout
    assert lines[1].split() == ["0", str(start), str(SIZE)], r.stdout
    assert lines[2] == "0"
    assert "wrote-host-dir" not in r.stdout and not os.path.exists(os.path.join(hostdir, "x")), r.stdout
    assert lines[3].split()[2] == "65534", r.stdout  # host root is nobody in here
    pid = info(cell, n)["pid"]
    with open(f"/proc/{pid}/status") as f:
        uids = [ln for ln in f if ln.startswith("Uid:")][0].split()[1:]
    assert uids == [str(start)] * 4, uids
    made = os.stat(f"/proc/{pid}/root/made-inside")     # the host's view of the container's root
    assert (made.st_uid, made.st_gid) == (start, start)
    cell("stop", n, check=True)


def test_two_stores_get_disjoint_ranges(cell):
    other = Cell(shared=cell)      # a second CELL_ROOT on the same host
    try:
        a, b = cell.name("storeA"), other.name("storeB")
        cell("create", a, check=True)
        other("create", b, check=True)
        ra, rb = host_range(cell, a), host_range(other, b)
        assert disjoint(ra, rb), (ra, rb)
        stores = {e[0] for e in cell.registry() if e[1] in (a, b)}
        assert stores == {os.path.realpath(cell.store), os.path.realpath(other.store)}
        # the registry's ranges never overlap
        regs = sorted(e[2] for e in cell.registry())
        assert all(y - x >= SIZE for x, y in zip(regs, regs[1:])), regs
    finally:
        other.cleanup()


def test_destroy_releases_the_range(cell):
    a, b = cell.name("rel-a"), cell.name("rel-b")
    cell("create", a, check=True)
    ra = host_range(cell, a)
    cell("start", a, check=True)
    cell("destroy", "--force", a, check=True)
    cell.names.discard(a)
    assert not [e for e in cell.registry() if e[1] == a]
    cell("create", b, check=True)      # the lowest free range again
    assert host_range(cell, b) == ra


def test_stale_entry_is_reclaimed(cell):
    """A container directory removed by hand leaves an entry that the next
    allocation reclaims."""
    n = cell.name("stale")
    cell("create", n, check=True)
    r = host_range(cell, n)
    shutil.rmtree(os.path.join(cell.store, "containers", n))
    m = cell.name("reuse")
    cell("create", m, check=True)
    assert host_range(cell, m) == r
    assert not [e for e in cell.registry() if e[1] == n]


def test_privileged_is_not_root_safe(cell):
    n = cell.name("priv")
    r = cell("create", n, "--privileged", check=True)
    assert "not root-safe" in r.stderr, r.stderr
    i = info(cell, n)
    assert i["privileged"] and not i["unprivileged"] and not i["root_safe"], i
    text = cell("info", n, check=True).stdout
    assert "yes (not root-safe)" in text, text
    ls = {e["name"]: e for e in json.loads(cell("ls", "--json", check=True).stdout)}
    assert ls[n]["privileged"] and not ls[n]["root_safe"]
    assert not [e for e in cell.registry() if e[1] == n]
    cell("start", n, check=True)
    r = cell("exec", n, "--", "cat", "/proc/self/uid_map", check=True)
    assert r.stdout.split() == ["0", "0", "4294967295"], r.stdout
    cell("stop", n, check=True)
    assert cell("create", "pu1", "--privileged", "--unprivileged").returncode != 0


def test_unprivileged_flag_still_accepted(cell):
    n = cell.name("uflag")
    cell("create", n, "--unprivileged", check=True)
    host_range(cell, n)


def test_idmap_share(cell):
    a, b, c = cell.name("sh-a"), cell.name("sh-b"), cell.name("sh-c")
    cell("create", a, check=True)
    cell("create", b, "--idmap-share", a, check=True)
    ra = host_range(cell, a)
    assert host_range(cell, b) == ra
    cell("destroy", a, check=True)
    cell.names.discard(a)
    cell("create", c, check=True)      # b still holds the range
    assert disjoint(host_range(cell, c), ra)
    r = cell("create", "shx", "--idmap-share", "nosuch")
    assert r.returncode != 0 and "nosuch" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(cell.store, "containers", "shx"))


def shift_tree(root, by):
    paths = [root]
    for d, dirs, files in os.walk(root):
        paths += [os.path.join(d, x) for x in dirs + files]
    for p in paths:
        st = os.lstat(p)
        os.lchown(p, st.st_uid + by, st.st_gid + by)
        if not stat.S_ISLNK(st.st_mode):      # chown clears set-id bits
            os.chmod(p, stat.S_IMODE(st.st_mode))


def test_clone_gets_its_own_range_and_a_shifted_root(cell):
    """A root shifted on disk (what cellrun's chown does where idmapped mounts are
    missing) is shifted again into the clone's range; snapshots keep the range."""
    n, c = cell.name("csrc"), cell.name("cdst")
    cell("create", n, check=True)
    rn = host_range(cell, n)
    rootfs = os.path.join(cell.store, "containers", n, "rootfs")
    open(os.path.join(rootfs, "etc/of-1000"), "w").close()
    os.chown(os.path.join(rootfs, "etc/of-1000"), 1000, 1000)
    shift_tree(rootfs, rn)
    cell("clone", n, c, check=True)
    rc = host_range(cell, c)
    assert disjoint(rn, rc)
    croot = os.path.join(cell.store, "containers", c, "rootfs")
    owners = {os.lstat(os.path.join(d, x)).st_uid for d, ds, fs in os.walk(croot) for x in ds + fs}
    owners.add(os.lstat(croot).st_uid)
    assert owners <= set(range(rc, rc + SIZE)), sorted(owners)[:5]
    assert os.lstat(os.path.join(croot, "etc/of-1000")).st_uid == rc + 1000
    assert os.lstat(os.path.join(rootfs, "etc/of-1000")).st_uid == rn + 1000   # the source keeps its own
    cell("start", c, check=True)
    r = cell("exec", c, "--", "sh", "-c", "touch /etc/written && stat -c %u /etc/written", check=True)
    assert r.stdout.strip() == "0"
    cell("stop", c, check=True)
    cell("snapshot", n, "s1", check=True)
    cell("rollback", n, "s1", check=True)
    assert host_range(cell, n) == rn


def own_ids(subuid, subgid=None):
    """A store with subuid/subgid files and a registry of its own (subgid None: no file)."""
    own = Cell()
    with open(own.ids_env["CELL_SUBUID_FILE"], "w") as f:
        f.write(subuid)
    if subgid is None:
        os.unlink(own.ids_env["CELL_SUBGID_FILE"])
    else:
        with open(own.ids_env["CELL_SUBGID_FILE"], "w") as f:
            f.write(subgid)
    return own


@pytest.mark.parametrize("subuid,want", [
    ("alice:100000:65536\n", "root:1000000:1000000000"),
    ("alice:1000000:65536\nbob:1065536:65536", "root:1131072:1000000000"),
])
def test_missing_root_entry_is_added(cell, subuid, want):
    own = own_ids(subuid)                      # and no subgid file at all
    uidf, gidf = own.ids_env["CELL_SUBUID_FILE"], own.ids_env["CELL_SUBGID_FILE"]
    try:
        n = own.name("subid")
        r = own("create", n, check=True)
        assert f"added {want} to {uidf}" in r.stderr, r.stderr
        assert f"added {want} to {gidf}" in r.stderr, r.stderr
        lines = open(uidf).read().split("\n")
        assert lines[:len(subuid.strip().split("\n"))] == subuid.strip().split("\n")
        assert want in lines
        assert open(gidf).read() == want + "\n"
        first = int(want.split(":")[1])
        assert host_range(own, n) == first
        m = own.name("subid2")                 # the next create adds nothing
        r = own("create", m, check=True)
        assert "added" not in r.stderr and host_range(own, m) == first + SIZE
    finally:
        own.cleanup()


def test_no_room_is_an_error(cell):
    own = own_ids("root:1000000:65536\n", "root:1000000:65536\n")
    try:
        a = own.name("full-a")
        own("create", a, check=True)
        r = own("create", "full-b")
        assert r.returncode != 0 and "no free range" in r.stderr, r.stderr
        assert not os.path.exists(os.path.join(own.store, "containers", "full-b"))
    finally:
        own.cleanup()


REAL = ("/etc/subuid", "/etc/subgid", "/var/lib/cell-idmap/ranges.json")


def test_real_subid_files_and_registry(cell):
    """Once with the host's own files: root's entry goes into /etc/subuid and
    /etc/subgid when missing, the range into /var/lib/cell-idmap; all restored after."""
    saved = {p: (open(p, "rb").read(), os.stat(p).st_mode) if os.path.exists(p) else None
             for p in REAL}
    reg_dir_existed = os.path.isdir("/var/lib/cell-idmap")
    env = {k: v for k, v in cell.env.items()
           if k not in ("CELL_SUBUID_FILE", "CELL_SUBGID_FILE", "CELL_IDMAP_REGISTRY")}
    n = cell.name("real")
    try:
        r = cell("create", n, env=env, check=True)
        start = host_range(cell, n, env)
        had_root = saved["/etc/subuid"] and any(
            ln.split(":")[0] in ("root", "0") for ln in saved["/etc/subuid"][0].decode().split("\n"))
        assert had_root or "added root:" in r.stderr, r.stderr
        for p in REAL[:2]:
            roots = [ln.split(":") for ln in open(p).read().split("\n") if ln.split(":")[0] == "root"]
            assert any(int(s) <= start and start + SIZE <= int(s) + int(c) for _, s, c in roots), roots
        reg = json.load(open(REAL[2]))["ranges"]
        assert {"store": os.path.realpath(cell.store), "name": n, "start": start,
                "size": SIZE} in reg
        cell("destroy", n, env=env, check=True)
        cell.names.discard(n)
        reg = json.load(open(REAL[2]))["ranges"]
        assert not [e for e in reg if e["name"] == n and e["store"] == os.path.realpath(cell.store)]
    finally:
        cell("destroy", "--force", n, env=env)
        for p, v in saved.items():
            if v is None:
                if os.path.exists(p):
                    os.unlink(p)
            else:
                with open(p, "wb") as f:
                    f.write(v[0])
                os.chmod(p, stat.S_IMODE(v[1]))
        if not reg_dir_existed:
            shutil.rmtree("/var/lib/cell-idmap", ignore_errors=True)
    assert {p: (open(p, "rb").read() if os.path.exists(p) else None) for p in REAL} == \
        {p: (v[0] if v else None) for p, v in saved.items()}
