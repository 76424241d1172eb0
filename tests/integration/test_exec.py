# SPDX-License-Identifier: LGPL-2.1-or-later
"""exec: a new process in a running container's namespaces and cgroup."""
import json
import os

import pytest

from celltest import cap_mask, cap_sets, parse_status, wait_for


@pytest.fixture
def running(runtime, bundle):
    """A running container whose init is `sleep 1001` with hostname exechost;
    it leaves a marker in its private /tmp first."""
    bundle.config["hostname"] = "exechost"
    bundle.process["env"] = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FROMCONFIG=yes"]
    bundle.sh("echo secret > /tmp/marker; exec sleep 1001")
    runtime.run(bundle, detach=True).ok()
    wait_for(lambda: runtime.exec(bundle.id, "cat", "/tmp/marker").out == "secret\n",
             what="init to write its marker")
    return bundle


def test_exec_sees_same_uts_and_mount_ns(runtime, running):
    assert runtime.exec(running.id, "hostname").ok().out == "exechost\n"
    assert runtime.exec(running.id, "cat", "/tmp/marker").ok().out == "secret\n"


def test_exec_shares_pid_namespace(runtime, running):
    r = runtime.exec(running.id, "cat", "/proc/1/cmdline").ok()
    assert r.out.split("\0")[:2] == ["sleep", "1001"]
    entries = runtime.exec(running.id, "ls", "/proc").ok().out.split()
    assert "1" in entries
    table = runtime.exec(running.id, "ps").ok().lines
    init = [ln for ln in table[1:] if ln.split()[0] == "1"]
    assert init and init[0].split()[-2:] == ["sleep", "1001"], table
    # the exec'd process itself is not pid 1 and is in the same namespace
    me = runtime.exec(running.id, "sh", "-c", "echo $$").ok().out.strip()
    assert int(me) > 1


def test_exec_namespace_inodes_match_init(runtime, running):
    init = runtime.state(running.id)["pid"]
    for ns in ("pid", "net", "ipc", "uts", "mnt"):
        host_view = os.stat(f"/proc/{init}/ns/{ns}").st_ino
        r = runtime.exec(running.id, "stat", "-L", "-c", "%i", f"/proc/self/ns/{ns}").ok()
        assert int(r.out) == host_view, ns


def test_exec_same_cgroup(runtime, running):
    a = runtime.exec(running.id, "cat", "/proc/1/cgroup").ok().out
    b = runtime.exec(running.id, "cat", "/proc/self/cgroup").ok().out
    assert a == b


def test_exec_exit_code(runtime, running):
    assert runtime.exec(running.id, "sh", "-c", "exit 7").rc == 7


def test_exec_env(runtime, running):
    r = runtime.exec(running.id, "env", opts=["--env", "FOO=bar", "--env", "BAZ=qu ux"]).ok()
    env = r.out.splitlines()
    assert "FOO=bar" in env and "BAZ=qu ux" in env
    assert "FROMCONFIG=yes" in env


def test_exec_cwd(runtime, running):
    assert runtime.exec(running.id, "pwd", opts=["--cwd", "/tmp"]).ok().out == "/tmp\n"


def test_exec_user(runtime, running):
    r = runtime.exec(running.id, "sh", "-c", "id -u; id -g; id -un",
                     opts=["-u", "1000:1000"]).ok()
    assert r.out.split() == ["1000", "1000", "user"]


def test_exec_additional_gids(runtime, running):
    r = runtime.exec(running.id, "cat", "/proc/self/status",
                     opts=["-u", "1000:1000", "--additional-gids", "10",
                           "--additional-gids", "20"]).ok()
    assert parse_status(r.out)["Groups"].split() == ["10", "20"]


def test_exec_process_json(runtime, running, tmp_path):
    proc = {
        "terminal": False,
        "user": {"uid": 1000, "gid": 1000},
        "args": ["sh", "-c", "echo $WHO; pwd; id -u; umask"],
        "env": ["PATH=/bin:/usr/bin", "WHO=from-json"],
        "cwd": "/out",
        "capabilities": {"bounding": ["CAP_KILL"], "effective": [], "permitted": [],
                         "inheritable": [], "ambient": []},
        "noNewPrivileges": True,
    }
    p = tmp_path / "process.json"
    p.write_text(json.dumps(proc))
    r = runtime.exec(running.id, opts=["-p", str(p)]).ok()
    assert r.out.split()[:3] == ["from-json", "/out", "1000"]


def test_exec_detached(runtime, running, session):
    r = runtime.exec(running.id, "sh", "-c", "echo $$ > /out/d.pid; exec sleep 1002",
                     opts=["-d"]).ok()
    assert r.elapsed < 10
    wait_for(lambda: os.path.exists(os.path.join(running.out, "d.pid")), what="detached exec")
    r = runtime.cmd("ps", "--format", "json", running.id).ok()
    pids = json.loads(r.out)
    for p in pids:
        session.track(p)
    assert len(pids) == 2
    cmdlines = []
    for p in pids:
        with open(f"/proc/{p}/cmdline") as f:
            cmdlines.append(f.read().split("\0")[:2])
    assert ["sleep", "1002"] in cmdlines


def test_exec_pid_file(runtime, running, tmp_path, session):
    pidfile = tmp_path / "exec.pid"
    runtime.exec(running.id, "sleep", "1003", opts=["-d", "--pid-file", str(pidfile)]).ok()
    pid = int(pidfile.read_text())
    session.track(pid)
    with open(f"/proc/{pid}/cmdline") as f:
        assert f.read().split("\0")[:2] == ["sleep", "1003"]


def test_exec_caps_from_config(runtime, running):
    r = runtime.exec(running.id, "cat", "/proc/self/status").ok()
    init = runtime.exec(running.id, "cat", "/proc/1/status").ok()
    assert cap_sets(r.out)["CapBnd"] == cap_sets(init.out)["CapBnd"]
    assert parse_status(r.out)["NoNewPrivs"] == parse_status(init.out)["NoNewPrivs"]


def test_exec_cap_option(runtime, running):
    r = runtime.exec(running.id, "cat", "/proc/self/status",
                     opts=["--cap", "CAP_NET_RAW"]).ok()
    assert cap_sets(r.out)["CapEff"] & (1 << 13)


def test_exec_cap_option_sets(runtime, bundle):
    """exec --cap adds the capability to the bounding, effective and permitted
    sets (and asks for it ambient), never to the inheritable set; so with a
    config that has no inheritable capabilities the ambient set stays empty,
    as on runc 1.1 (exec.go)."""
    caps = bundle.process["capabilities"]
    for k in ("bounding", "effective", "permitted", "inheritable", "ambient"):
        caps[k] = []
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    r = runtime.exec(bundle.id, "cat", "/proc/self/status", opts=["--cap", "CAP_KILL"]).ok()
    st = cap_sets(r.out)
    kill = cap_mask(["CAP_KILL"])
    assert st["CapBnd"] == st["CapEff"] == st["CapPrm"] == kill, st
    assert st["CapInh"] == 0 and st["CapAmb"] == 0, st


def test_exec_env_overrides_config(runtime, running):
    """exec --env K=V for a K that process.env already has replaces the value
    in place (one entry), and a PATH given so is the one the command is
    looked up in -- runc sets each variable in turn (os.Setenv)."""
    r = runtime.exec(running.id, "env", opts=["--env", "FROMCONFIG=exec"]).ok()
    env = r.out.splitlines()
    assert [e for e in env if e.startswith("FROMCONFIG=")] == ["FROMCONFIG=exec"], env
    r = runtime.exec(running.id, "sh", "-c", 'echo "$PATH"',
                     opts=["-e", "PATH=/nowhere", "-e", "PATH=/bin"]).ok()
    assert r.out == "/bin\n", r


def test_config_env_duplicates_collapse(runtime, bundle):
    """A key listed twice in process.env: one entry, at the first one's place,
    with the last one's value (runc)."""
    bundle.process["env"] = ["PATH=/nowhere", "A=1", "B=2", "A=3",
                             "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
    bundle.args("env")
    env = runtime.run(bundle).ok().out.splitlines()
    mine = [e for e in env if e.split("=", 1)[0] in ("A", "B", "PATH")]
    assert mine == ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "A=3", "B=2"], env


def test_exec_stopped_container_fails(runtime, bundle):
    bundle.args("true")
    runtime.create(bundle).ok()
    runtime.start(bundle.id).ok()
    runtime.wait_status(bundle.id, "stopped")
    r = runtime.exec(bundle.id, "true")
    assert r.rc != 0


def test_exec_unknown_container(runtime, session):
    r = runtime.exec(session.new_id("nope"), "true")
    assert r.rc != 0


def test_exec_missing_binary(runtime, running):
    r = runtime.exec(running.id, "/no/such/binary")
    assert r.rc != 0
    assert "/no/such/binary" in r.err
    assert runtime.status(running.id) == "running"


def test_exec_paused_container_is_refused(runtime, running):
    """The new process would join a frozen cgroup and stop before it could
    report: refused at once (not a hang), and fine again after resume."""
    runtime.cmd("pause", running.id).ok()
    r = runtime.exec(running.id, "true", timeout=10)
    assert r.rc != 0, r
    if runtime.is_cell:
        assert "paused" in r.err, r
    runtime.cmd("resume", running.id).ok()
    assert runtime.exec(running.id, "echo", "back").ok().out == "back\n"


def test_exec_lsm_options_are_not_ignored(runtime, running):
    """--apparmor / --process-label apply to the exec'd process: where the
    LSM is off (or the profile unknown) exec fails and says which."""
    if os.path.exists("/sys/kernel/security/apparmor/profiles"):
        pytest.skip("AppArmor is enabled here: the profile would be looked up")
    if runtime.is_cell:
        r = runtime.exec(running.id, "true", opts=["--apparmor", "no-such-profile"])
        assert r.rc != 0 and "AppArmor" in r.err, r
        if not os.path.exists("/sys/fs/selinux/enforce"):
            r = runtime.exec(running.id, "true", opts=["--process-label", "system_u:system_r:x:s0"])
            assert r.rc != 0 and "SELinux" in r.err, r
    assert runtime.status(running.id) == "running"
