# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bad input: each case must fail with a non-zero exit, one line on stderr
that names the problem, and leave nothing behind (state dir, cgroup,
mounts, processes).  Mount escapes must fail or land inside the rootfs."""
import json
import os

import pytest

from celltest import host_mounts, parse_mountinfo


def rejected(r, runtime, bundle, *needles, cell_needles=(), one_line=True):
    """Common assertions; `needles` must appear for every runtime, cell_needles
    only for cellrun (whose wording the suite pins down)."""
    assert r.rc != 0, r
    if one_line or runtime.is_cell:
        assert len(r.err_lines) == 1, f"stderr is not one line: {r.err!r}"
    for n in needles:
        assert n in r.err, f"stderr does not name {n!r}: {r.err!r}"
    if runtime.is_cell:
        for n in cell_needles:
            assert n in r.err, f"stderr does not name {n!r}: {r.err!r}"
    assert runtime.s.leftovers(bundle.id, needle=bundle.path) == []


MALFORMED = '{\n  "ociVersion": "1.0.2",\n  "process": {,\n    "args": ["true"]\n  }\n}\n'


def test_malformed_json(runtime, bundle):
    bundle.write_raw(MALFORMED)
    r = runtime.cmd("create", "--bundle", bundle.path, bundle.id, guard=True)
    runtime.ids.append(bundle.id)
    rejected(r, runtime, bundle, cell_needles=("line 3, column 15", "config.json"))


def test_malformed_json_truncated(runtime, bundle):
    text = json.dumps(bundle.config, indent=2)
    bundle.write_raw(text[: len(text) // 2])
    r = runtime.cmd("run", "--bundle", bundle.path, bundle.id, guard=True)
    runtime.ids.append(bundle.id)
    rejected(r, runtime, bundle, cell_needles=("line ", "column "))


def test_empty_config(runtime, bundle):
    bundle.write_raw("")
    r = runtime.cmd("create", "--bundle", bundle.path, bundle.id, guard=True)
    runtime.ids.append(bundle.id)
    rejected(r, runtime, bundle, cell_needles=("config.json",))


def write_and_create(runtime, bundle, mutate):
    bundle.write()
    with open(os.path.join(bundle.path, "config.json")) as f:
        c = json.load(f)
    mutate(c)
    bundle.write_raw(json.dumps(c, indent=2))
    runtime.ids.append(bundle.id)
    return runtime.cmd("create", "--bundle", bundle.path, bundle.id, guard=True)


def test_wrong_type_process_args(runtime, bundle):
    r = write_and_create(runtime, bundle, lambda c: c["process"].__setitem__("args", "sh"))
    rejected(r, runtime, bundle, "process.args")


def test_wrong_type_nested(runtime, bundle):
    def mutate(c):
        c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": "many", "hard": 10}]
    r = write_and_create(runtime, bundle, mutate)
    rejected(r, runtime, bundle, cell_needles=("process.rlimits[0].soft",))


def test_wrong_type_root(runtime, bundle):
    r = write_and_create(runtime, bundle, lambda c: c.__setitem__("root", "rootfs"))
    rejected(r, runtime, bundle, "root")


def test_empty_args(runtime, bundle):
    r = write_and_create(runtime, bundle, lambda c: c["process"].__setitem__("args", []))
    rejected(r, runtime, bundle, cell_needles=("process.args",))


def test_unknown_rlimit(runtime, bundle):
    def mutate(c):
        c["process"]["rlimits"] = [{"type": "RLIMIT_CELLTEST", "soft": 1, "hard": 1}]
    r = write_and_create(runtime, bundle, mutate)
    rejected(r, runtime, bundle, "RLIMIT_CELLTEST", cell_needles=("process.rlimits[0].type",))


def test_rlimit_soft_above_hard(runtime, bundle):
    def mutate(c):
        c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024}]
    r = write_and_create(runtime, bundle, mutate)
    rejected(r, runtime, bundle, cell_needles=("RLIMIT_NOFILE",))


def test_unknown_namespace(runtime, bundle):
    r = write_and_create(runtime, bundle,
                         lambda c: c["linux"]["namespaces"].append({"type": "celltestns"}))
    rejected(r, runtime, bundle, "celltestns", cell_needles=("linux.namespaces[",))


def test_duplicate_namespace(runtime, bundle, session):
    session.cell_only("runc 1.1 accepts a namespace listed twice")
    r = write_and_create(runtime, bundle,
                         lambda c: c["linux"]["namespaces"].append({"type": "pid"}))
    rejected(r, runtime, bundle, cell_needles=("linux.namespaces[", "pid"))


def test_unknown_seccomp_action(runtime, bundle):
    def mutate(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_CELLTEST"}
    r = write_and_create(runtime, bundle, mutate)
    rejected(r, runtime, bundle, "SCMP_ACT_CELLTEST",
             cell_needles=("linux.seccomp.defaultAction",))


def test_hostname_without_uts_namespace(runtime, bundle):
    def mutate(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "uts"]
        c["hostname"] = "celltest-nouts"
    r = write_and_create(runtime, bundle, mutate)
    rejected(r, runtime, bundle, cell_needles=("hostname", "uts"))


def test_net_sysctl_without_net_namespace(runtime, bundle):
    """Guarded: the runtime runs in a throwaway netns, so even a runtime that
    wrongly writes the sysctl cannot touch the host's."""
    def mutate(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"]
                                    if n["type"] != "network"]
        c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    r = write_and_create(runtime, bundle, mutate)
    rejected(r, runtime, bundle, "net.ipv4.ip_forward", cell_needles=("linux.sysctl",))


def test_ipc_sysctl_without_ipc_namespace(runtime, bundle):
    """kernel.shm* and friends belong to the IPC namespace: without one they
    would change the host's."""
    def mutate(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "ipc"]
        c["linux"]["sysctl"] = {"kernel.shmmax": "65536"}
    r = write_and_create(runtime, bundle, mutate)
    rejected(r, runtime, bundle, "kernel.shmmax",
             cell_needles=('linux.sysctl."kernel.shmmax"', "ipc namespace"))


def test_net_sysctl_in_the_runtimes_own_netns(runtime, bundle):
    """Joining the runtime's own network namespace by path is no new one
    (runc compares the inode with /proc/self/ns/net).  Guarded: that netns is
    a throwaway one."""
    def mutate(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"]
                                    if n["type"] != "network"]
        c["linux"]["namespaces"].append({"type": "network", "path": "/proc/self/ns/net"})
        c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    r = write_and_create(runtime, bundle, mutate)
    rejected(r, runtime, bundle, "net.ipv4.ip_forward",
             cell_needles=('linux.sysctl."net.ipv4.ip_forward"', "network namespace"))


def test_kernel_hostname_sysctl_conflicts(runtime, bundle):
    """kernel.hostname next to the "hostname" field: which wins? Refused."""
    def mutate(c):
        c["hostname"] = "celltest-field"
        c["linux"]["sysctl"] = {"kernel.hostname": "celltest-sysctl"}
    r = write_and_create(runtime, bundle, mutate)
    rejected(r, runtime, bundle, "kernel.hostname",
             cell_needles=('linux.sysctl."kernel.hostname"', "hostname"))


def test_kernel_domainname_sysctl_conflicts(runtime, bundle, session):
    session.cell_only("runc 1.1 has no domainname field")
    def mutate(c):
        c["domainname"] = "field.example"
        c["linux"]["sysctl"] = {"kernel.domainname": "sysctl.example"}
    r = write_and_create(runtime, bundle, mutate)
    rejected(r, runtime, bundle, cell_needles=('linux.sysctl."kernel.domainname"',
                                               '"domainname" field'))


def test_missing_bundle(runtime, session):
    cid = session.new_id("nobundle")
    path = os.path.join(session.bundles, "does-not-exist")
    runtime.ids.append(cid)
    r = runtime.cmd("create", "--bundle", path, cid, guard=True)
    assert r.rc != 0
    assert len(r.err_lines) == 1, r
    assert "does-not-exist" in r.err
    assert session.leftovers(cid) == []


def test_missing_config(runtime, bundle):
    runtime.ids.append(bundle.id)
    r = runtime.cmd("create", "--bundle", bundle.path, bundle.id, guard=True)
    rejected(r, runtime, bundle, "config.json")


def test_missing_rootfs(runtime, bundle):
    bundle.config["root"]["path"] = os.path.join(bundle.path, "no-rootfs")
    r = runtime.create(bundle)
    rejected(r, runtime, bundle, "no-rootfs")


def test_missing_executable(runtime, bundle):
    bundle.args("/no/such/celltest-binary")
    r = runtime.run(bundle)
    rejected(r, runtime, bundle, "/no/such/celltest-binary")


def test_missing_executable_detached(runtime, bundle):
    bundle.args("/no/such/celltest-binary")
    r = runtime.run(bundle, detach=True)
    rejected(r, runtime, bundle, "/no/such/celltest-binary")


def test_duplicate_id(runtime, make_bundle):
    a = make_bundle("dup")
    b = make_bundle("dup2")
    a.args("sleep", "1001")
    runtime.create(a).ok()
    pid = runtime.state(a.id)["pid"]
    r = runtime.create(b, cid=a.id)
    assert r.rc != 0
    assert len(r.err_lines) == 1, r
    assert a.id in r.err or "exists" in r.err
    st = runtime.state(a.id)
    assert st["status"] == "created" and st["pid"] == pid
    assert os.path.realpath(st["bundle"]) == os.path.realpath(a.path)


@pytest.mark.parametrize("verb", ["start", "state", "kill", "delete", "pause", "resume", "ps",
                                  "exec", "update"])
def test_unknown_id(runtime, session, verb):
    cid = session.new_id("ghost")
    extra = {"exec": ["true"], "update": []}.get(verb, [])
    args = [verb, cid] + extra if verb != "update" else [verb, "--pids-limit", "10", cid]
    r = runtime.cmd(*args)
    assert r.rc != 0
    assert len(r.err_lines) == 1, r
    assert cid in r.err or "not exist" in r.err, r
    if runtime.is_cell:
        assert cid in r.err
    assert session.leftovers(cid) == []


@pytest.mark.parametrize("bad", ["../celltest-evil", "a/b", "", "celltest with space",
                                 ".."])
def test_invalid_id(runtime, bundle, session, bad):
    r = runtime.create(bundle, cid=bad)
    assert r.rc != 0, r
    parent = os.path.dirname(session.state_root)
    assert not os.path.exists(os.path.join(parent, "celltest-evil"))
    assert [n for n in os.listdir(session.state_root) if not n.startswith("celltest-")] == []
    assert session.leaked_mounts(bundle.path) == []
    if bad:
        assert runtime.state(bad) is None


def test_bad_console_socket(runtime, bundle):
    bundle.process["terminal"] = True
    bundle.args("true")
    r = runtime.create(bundle, "--console-socket", os.path.join(bundle.path, "no.sock"))
    rejected(r, runtime, bundle, "no.sock")


# ---------------------------------------------------------------- mount escapes

def escape_target(session, name):
    target = f"/tmp/celltest-esc-{session.pid}-{name}"
    assert not os.path.exists(target)
    return target


def others_mount(session, mountpoint):
    """A mount that another test run on this machine made meanwhile (another
    session's dir, a client suite's store): not evidence of this escape."""
    own = f"-{session.pid}"
    for part in mountpoint.split("/"):
        if part.startswith(("celltest-", "cellclients-", "pytest-of-")) and own not in part:
            return True
    return False


def check_escape(runtime, bundle, session, target, inside_dest):
    before = {m["mountpoint"] for m in host_mounts()}
    bundle.sh("cat /proc/self/mountinfo")
    r = runtime.run(bundle)
    after = {m["mountpoint"] for m in host_mounts()}
    try:
        new = {m for m in after - before if not others_mount(session, m)}
        assert new == set(), "a container mount showed up on the host"
        assert not os.path.exists(target), f"the runtime created {target} on the host"
        if r.rc == 0:
            mounts = parse_mountinfo(r.out)
            assert any(m["mountpoint"] == inside_dest for m in mounts), \
                f"mount did not land inside the rootfs at {inside_dest}"
        else:
            assert len(r.err_lines) == 1, r
        assert session.leftovers(bundle.id, needle=bundle.path) == []
    finally:
        if os.path.isdir(target) and not any(m["mountpoint"] == target for m in host_mounts()):
            os.rmdir(target)


def test_mount_destination_dotdot(runtime, bundle, session):
    bundle.private_rootfs()
    target = escape_target(session, "dotdot")
    name = os.path.basename(target)
    bundle.add_mount("/../../../../../../../../../tmp/" + name, "tmpfs", "tmpfs", ["size=1m"])
    check_escape(runtime, bundle, session, target, "/tmp/" + name)


def test_mount_destination_symlink(runtime, bundle, session):
    rootfs = bundle.private_rootfs()
    target = escape_target(session, "link")
    name = os.path.basename(target)
    os.symlink("/../../../tmp", os.path.join(rootfs, "mnt", "link"))
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/tmp"]
    bundle.add_mount(f"/mnt/link/{name}", "tmpfs", "tmpfs", ["size=1m"])
    check_escape(runtime, bundle, session, target, f"/tmp/{name}")


def test_mount_destination_relative_symlink(runtime, bundle, session):
    rootfs = bundle.private_rootfs()
    target = escape_target(session, "rel")
    name = os.path.basename(target)
    depth = "../" * 12
    os.symlink(f"{depth}tmp", os.path.join(rootfs, "mnt", "rel"))
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/tmp"]
    bundle.add_mount(f"/mnt/rel/{name}", "tmpfs", "tmpfs", ["size=1m"])
    check_escape(runtime, bundle, session, target, f"/tmp/{name}")


def test_device_path_symlink_escape(runtime, bundle, session):
    """A device node path given in linux.devices whose parent is a symlink
    out of the rootfs must not create anything on the host."""
    rootfs = bundle.private_rootfs()
    target = escape_target(session, "dev")
    os.symlink(target, os.path.join(rootfs, "mnt", "devlink"))
    bundle.linux["devices"] = [{"path": "/mnt/devlink/null", "type": "c", "major": 1,
                                "minor": 3, "fileMode": 0o666}]
    r = runtime.run(bundle)
    try:
        assert not os.path.exists(target), f"the runtime created {target} on the host"
        if r.rc != 0:
            assert len(r.err_lines) == 1, r
        assert session.leftovers(bundle.id, needle=bundle.path) == []
    finally:
        if os.path.isdir(target):
            for f in os.listdir(target):
                os.unlink(os.path.join(target, f))
            os.rmdir(target)
