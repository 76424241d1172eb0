# SPDX-License-Identifier: LGPL-2.1-or-later
"""Unprivileged containers: a dedicated non-root user, made by this module,
runs cellrun with a user namespace.  Single-id mapping needs no helper;
multi-id mapping goes through newuidmap/newgidmap and /etc/subuid."""
import json
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

import celltest

USER = "cellrootless"


def _subid_range(path, user):
    with open(path) as f:
        for line in f:
            name, start, count = line.strip().split(":")
            if name == user:
                return int(start), int(count)
    return None


@pytest.fixture(scope="module")
def rootless(session):
    if not session.is_cell:
        pytest.skip("rootless module drives cellrun's own default root and messages")
    if not shutil.which("newuidmap"):
        pytest.skip("newuidmap missing (Debian's uidmap package)")
    made = False
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
        made = True
    pw = pwd.getpwnam(USER)
    if not _subid_range("/etc/subuid", USER):
        subprocess.run(["usermod", "--add-subuids", "300000-365535", "--add-subgids",
                        "300000-365535", USER], check=True)
    base = tempfile.mkdtemp(prefix="celltest-rootless-", dir="/tmp")
    os.chmod(base, 0o755)
    rootfs = os.path.join(base, "rootfs")
    celltest.build_rootfs(rootfs)
    for d, _, files in os.walk(base):
        for name in [d] + [os.path.join(d, f) for f in files]:
            os.lchown(name, pw.pw_uid, pw.pw_gid)
    ctx = {"uid": pw.pw_uid, "gid": pw.pw_gid, "base": base, "rootfs": rootfs,
           "state": os.path.join(base, "state"), "binary": session.binary}
    yield ctx
    # containers first, then files, then the user
    subprocess.run(["runuser", "-u", USER, "--", session.binary, "--root", ctx["state"],
                    "list", "-q"], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)
    if made:
        subprocess.run(["userdel", "--remove", USER], capture_output=True)


def as_user(ctx, *args, cwd=None, timeout=30, wrap=()):
    argv = [*wrap, "runuser", "-u", USER, "--", ctx["binary"], "--root", ctx["state"], *args]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    return celltest.Result(argv, r.returncode, r.stdout, r.stderr, 0)


def make_bundle(ctx, name, script, mappings=None, extra=None):
    b = os.path.join(ctx["base"], name)
    os.mkdir(b)
    os.chown(b, ctx["uid"], ctx["gid"])
    as_user(ctx, "spec", "--rootless", "-b", b).ok()
    with open(os.path.join(b, "config.json")) as f:
        c = json.load(f)
    c["root"] = {"path": ctx["rootfs"], "readonly": True}
    c["process"]["terminal"] = False
    c["process"]["args"] = ["sh", "-c", script]
    if mappings:
        c["linux"]["uidMappings"] = mappings
        c["linux"]["gidMappings"] = mappings
    if extra:
        extra(c)
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(c, f)
    return b


def test_rootless_single_mapping(rootless):
    b = make_bundle(rootless, "single", "id -u; cat /proc/self/uid_map; hostname")
    r = as_user(rootless, "run", "-b", b, "celltest-rl-single").ok()
    lines = r.out.split("\n")
    assert lines[0] == "0"
    assert lines[1].split() == ["0", str(rootless["uid"]), "1"]
    assert not os.path.exists(os.path.join(rootless["state"], "celltest-rl-single"))


def test_rootless_multi_id_through_newuidmap(rootless):
    start, count = _subid_range("/etc/subuid", USER)
    maps = [{"containerID": 0, "hostID": rootless["uid"], "size": 1},
            {"containerID": 1, "hostID": start, "size": min(count, 65536)}]
    out = os.path.join(rootless["base"], "out-multi")
    os.mkdir(out)
    os.chown(out, rootless["uid"], rootless["gid"])

    def bind_out(c):
        c["mounts"].append({"destination": "/out", "type": "bind", "source": out,
                            "options": ["rbind", "rw"]})
    b = make_bundle(rootless, "multi", "cat /proc/self/uid_map; touch /out/f && chown 5:5 /out/f",
                    maps, bind_out)
    r = as_user(rootless, "run", "-b", b, "celltest-rl-multi").ok()
    assert len(r.out.strip().splitlines()) == 2
    st = os.stat(os.path.join(out, "f"))
    # container uid 5 is host subordinate uid start+4: never host root
    assert (st.st_uid, st.st_gid) == (start + 4, start + 4)


def test_rootless_container_root_is_not_host_root(rootless):
    out = os.path.join(rootless["base"], "out-root")
    os.mkdir(out)
    os.chown(out, rootless["uid"], rootless["gid"])

    def bind_out(c):
        c["mounts"].append({"destination": "/out", "type": "bind", "source": out,
                            "options": ["rbind", "rw"]})
    b = make_bundle(rootless, "root", "id -u; touch /out/made-by-root", None, bind_out)
    r = as_user(rootless, "run", "-b", b, "celltest-rl-root").ok()
    assert r.out.strip() == "0"
    st = os.stat(os.path.join(out, "made-by-root"))
    assert st.st_uid == rootless["uid"] and st.st_uid != 0


def test_rootless_mapping_outside_subuid_is_refused(rootless):
    maps = [{"containerID": 0, "hostID": rootless["uid"], "size": 1},
            {"containerID": 1, "hostID": 10, "size": 10}]
    b = make_bundle(rootless, "bad", "true", maps)
    r = as_user(rootless, "run", "-b", b, "celltest-rl-bad")
    assert r.rc != 0
    assert "newuidmap" in r.err and "/etc/subuid" in r.err, r
    assert not os.path.exists(os.path.join(rootless["state"], "celltest-rl-bad"))


def test_rootless_limits_without_delegation_warn(rootless):
    def limits(c):
        c["linux"]["resources"] = {"pids": {"limit": 50}}
    b = make_bundle(rootless, "limits", "echo ran", None, limits)
    r = as_user(rootless, "run", "-b", b, "celltest-rl-limits").ok()
    assert r.out.strip() == "ran"
    assert "rootless: resource limits apply only" in r.err


def test_rootless_sees_only_its_processes(rootless):
    b = make_bundle(rootless, "ps", "ls /proc | grep -c '^[0-9]'")
    r = as_user(rootless, "run", "-b", b, "celltest-rl-ps").ok()
    assert int(r.out.strip()) <= 3


def test_rootless_mounts_stay_in_the_container_on_a_shared_root(rootless):
    """Called from a namespace whose "/" is rshared (as on a systemd host): the
    container's mounts never appear in the caller's mount table."""
    ns = celltest.SharedNamespace()
    try:
        b = make_bundle(rootless, "shared", "stat -f -c %T /proc /dev /dev/pts")
        before = ns.mounts()
        r = as_user(rootless, "run", "-b", b, "celltest-rl-shared", wrap=ns.wrap)
        leaked = ns.new_mounts(before)
    finally:
        ns.close()
    assert (r.rc, leaked) == (0, []), f"new mounts in the caller's namespace: {leaked}\n{r}"
    assert r.out.split() == ["proc", "tmpfs", "devpts"], r
