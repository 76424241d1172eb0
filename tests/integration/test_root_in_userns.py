# SPDX-License-Identifier: LGPL-2.1-or-later
"""Root of a user namespace is not the host's root (what rootless podman is
to its runtime): an unprivileged uid makes a user namespace (`unshare
--user --map-root-user`, held by a sleep) and runs the runtime there with
euid 0.  Like runc, the runtime must notice
(/proc/self/uid_map is not "0 0 4294967295") and then keep its state under
$XDG_RUNTIME_DIR, treat `--rootless auto` as rootless (no cgroup it may not
create), and bind the host's device nodes instead of mknod."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

import celltest

UID = 61234  # no passwd entry needed: setpriv takes numbers


@pytest.fixture
def userns_root(session):
    base = tempfile.mkdtemp(prefix="celltest-usernsroot-", dir="/tmp")
    os.chmod(base, 0o755)
    ctx = {"base": base, "rootfs": os.path.join(base, "rootfs"), "xdg": os.path.join(base, "xdg"),
           "bundle": os.path.join(base, "bundle"), "ids": []}
    celltest.build_rootfs(ctx["rootfs"])
    for d in ("xdg", "bundle", "bundle/out"):
        os.mkdir(os.path.join(base, d), 0o700)
        os.chown(os.path.join(base, d), UID, UID)
    # one user namespace for every call, held by a sleep (as podman's pause
    # process holds its own): exec must join namespaces owned by it
    holder = subprocess.Popen(["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups",
                               "--", "unshare", "--user", "--map-root-user", "--",
                               "sleep", "1000"], stdin=subprocess.DEVNULL)
    session.track(holder.pid)
    celltest.wait_for(lambda: os.readlink(f"/proc/{holder.pid}/ns/user")
                      != os.readlink("/proc/self/ns/user"), what="holder in its user namespace")
    ctx["holder"] = holder.pid
    try:
        yield ctx
    finally:
        for cid in ctx["ids"]:
            as_userns_root(session, ctx, "delete", "--force", cid)
        holder.kill()
        holder.wait()
        leaks = session.leaked_mounts(base) + session.leaked_processes_of(ctx["ids"])
        shutil.rmtree(base, ignore_errors=True)
        assert not leaks, leaks


def as_userns_root(session, ctx, *args, env=None):
    argv = ["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups", "--",
            "nsenter", "--preserve-credentials", f"--user=/proc/{ctx['holder']}/ns/user", "--",
            "env", f"XDG_RUNTIME_DIR={ctx['xdg']}", "USER=celltest", session.binary, *args]
    # files, not pipes: a created container's init keeps its stdio open; stdin
    # an empty file (runc reopens a /dev/null stdin as the container's user)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.TemporaryFile() as stdin:
        r = subprocess.run(argv, stdin=stdin, stdout=out, stderr=err, timeout=30,
                           cwd=ctx["base"], env={"PATH": os.environ["PATH"], **(env or {})})
        out.seek(0)
        err.seek(0)
        return celltest.Result(argv, r.returncode, out.read(), err.read(), 0)


def write_bundle(session, ctx, script, resources=None):
    subprocess.run([session.binary, "spec", "-b", ctx["bundle"]], check=True,
                   capture_output=True)
    path = os.path.join(ctx["bundle"], "config.json")
    with open(path) as f:
        c = json.load(f)
    c["root"] = {"path": ctx["rootfs"], "readonly": True}
    c["process"]["terminal"] = False
    c["process"]["args"] = ["sh", "-c", script]
    # what rootless podman passes on a cgroup v1 host: no cgroupsPath; the
    # cgroup mount stays (the runtime binds the cgroups it is in)
    c["linux"].pop("cgroupsPath", None)
    for m in c["mounts"]:  # only uid/gid 0 is mapped: no gid=5 for devpts
        m["options"] = [o for o in m.get("options", []) if not o.startswith(("gid=", "uid="))]
    c["mounts"].append({"destination": "/out", "type": "bind",
                        "source": os.path.join(ctx["bundle"], "out"), "options": ["rbind"]})
    if resources:
        c["linux"]["resources"] = resources
    with open(path, "w") as f:
        json.dump(c, f)
    os.chown(path, UID, UID)


def name(session):
    return "cellrun" if session.is_cell else "runc"


def wait_stopped(session, ctx, cid):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = as_userns_root(session, ctx, "state", cid).ok()
        if json.loads(r.out)["status"] == "stopped":
            return
        time.sleep(0.05)
    pytest.fail(f"{cid} did not stop")


def test_userns_root_state_cgroups_devices(session, userns_root):
    ctx = userns_root
    cid = session.new_id("usernsroot")
    ctx["ids"].append(cid)
    write_bundle(session, ctx, "id -u > /out/r; cat /proc/self/uid_map >> /out/r;"
                 " stat -c '%i %t,%T %a' /dev/null /dev/zero /dev/urandom >> /out/r;"
                 " head -c 4 /dev/zero | wc -c >> /out/r;"
                 " ls /sys/fs/cgroup/pids/cgroup.procs >> /out/r; read x < /out/go")
    r = as_userns_root(session, ctx, "create", "-b", ctx["bundle"], cid)
    assert r.rc == 0, r
    # state under $XDG_RUNTIME_DIR, not the host root's /run
    assert os.path.isdir(os.path.join(ctx["xdg"], name(session), cid))
    assert not os.path.exists(os.path.join("/run", name(session), cid))
    # --rootless auto: no cgroup was made for it (mkdir there is EACCES)
    for ctrl in os.listdir(celltest.CGROUP_FS):
        assert not os.path.exists(os.path.join(celltest.CGROUP_FS, ctrl, cid)), ctrl
    os.mkfifo(os.path.join(ctx["bundle"], "out", "go"))
    os.chown(os.path.join(ctx["bundle"], "out", "go"), UID, UID)
    as_userns_root(session, ctx, "start", cid).ok()
    # exec joins no cgroup the create could not make
    ex = as_userns_root(session, ctx, "exec", cid, "sh", "-c", "id -u; echo exec-ok")
    assert ex.rc == 0 and ex.out == "0\nexec-ok\n", ex
    with open(os.path.join(ctx["bundle"], "out", "go"), "w") as f:
        f.write("\n")
    wait_stopped(session, ctx, cid)
    with open(os.path.join(ctx["bundle"], "out", "r")) as f:
        lines = f.read().splitlines()
    assert lines[0] == "0"
    assert lines[1].split() == ["0", str(UID), "1"]
    # the host's nodes, bound (mknod is EPERM here): same inode, numbers, mode
    for line, dev in zip(lines[2:5], ("null", "zero", "urandom")):
        st = os.stat(f"/dev/{dev}")
        assert line.split() == [str(st.st_ino), f"{os.major(st.st_rdev):x},"
                                f"{os.minor(st.st_rdev):x}", f"{st.st_mode & 0o7777:o}"], lines
    assert lines[5].strip() == "4"
    # the cgroup mount: the cgroups it stayed in, bound (a fresh v1 mount is EPERM)
    assert lines[6] == "/sys/fs/cgroup/pids/cgroup.procs"
    as_userns_root(session, ctx, "delete", cid).ok()
    assert not os.path.exists(os.path.join(ctx["xdg"], name(session), cid))


def test_userns_root_limits_warn_and_run(session, userns_root):
    session.cell_only("runc 1.1 refuses limits it cannot set (\"container could not join or "
                      "create cgroup\"); cellrun warns and runs without them")
    ctx = userns_root
    cid = session.new_id("usernslimits")
    ctx["ids"].append(cid)
    write_bundle(session, ctx, "echo ran", {"pids": {"limit": 50},
                                             "memory": {"limit": 64 << 20}})
    r = as_userns_root(session, ctx, "run", "-b", ctx["bundle"], cid)
    assert r.rc == 0, r
    assert r.out.strip() == "ran"
    assert "rootless: resource limits apply only" in r.err
    assert "of this user namespace" in r.err
    assert not os.path.exists(os.path.join(ctx["xdg"], "cellrun", cid))


def test_userns_root_rootless_false_is_refused_cleanly(session, userns_root):
    """--rootless false in a user namespace: the cgroup mkdir fails with EACCES
    and says so, and leaves nothing behind."""
    ctx = userns_root
    cid = session.new_id("usernsfalse")
    ctx["ids"].append(cid)
    write_bundle(session, ctx, "echo ran")
    r = as_userns_root(session, ctx, "--rootless", "false", "run", "-b", ctx["bundle"], cid)
    assert r.rc != 0
    assert "ran" not in r.out
    assert "ermission denied" in r.err, r.err
    assert not os.path.exists(os.path.join(ctx["xdg"], name(session), cid))
