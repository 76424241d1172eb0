# SPDX-License-Identifier: LGPL-2.1-or-later
"""create/start/state/kill/delete/run/list/ps/pause/resume and the
informational verbs."""
import json
import os
import re
import time

import pytest

from celltest import pid_alive, wait_for

# Waits for /out/go to appear, then exits 0: the host decides when.
WAIT_GO = "while [ ! -e /out/go ]; do usleep 10000; done; echo done > /out/done"
SIG_TRAP = ("for s in TERM HUP USR1; do trap \"echo $s > /out/sig; exit 0\" $s; done; "
            "echo ready > /out/ready; while :; do usleep 20000; done")


def touch(path):
    with open(path, "w"):
        pass


def test_create_start_state_delete(runtime, bundle, session):
    bundle.sh(WAIT_GO)
    runtime.create(bundle).ok()
    st = runtime.state(bundle.id)
    assert st["status"] == "created"
    assert st["pid"] > 0 and pid_alive(st["pid"])
    assert not os.path.exists(os.path.join(bundle.out, "done")), "process ran before start"
    runtime.start(bundle.id).ok()
    assert runtime.status(bundle.id) == "running"
    touch(os.path.join(bundle.out, "go"))
    runtime.wait_status(bundle.id, "stopped")
    assert bundle.read_out("done") == "done\n"
    runtime.delete(bundle.id).ok()
    assert runtime.state(bundle.id) is None
    assert session.leftovers(bundle.id, needle=bundle.path) == []


def test_start_twice_fails(runtime, bundle):
    bundle.args("sleep", "30")
    runtime.create(bundle).ok()
    runtime.start(bundle.id).ok()
    r = runtime.start(bundle.id)
    assert r.rc != 0
    assert runtime.status(bundle.id) == "running"


@pytest.mark.parametrize("code", [0, 3, 42])
def test_run_exit_code_passthrough(runtime, bundle, code):
    bundle.sh(f"echo out-$((1+1)); exit {code}")
    r = runtime.run(bundle)
    assert r.rc == code, r
    assert r.out == "out-2\n"


def test_run_stdout_stderr_split(runtime, bundle):
    bundle.sh("echo to-out; echo to-err >&2")
    r = runtime.run(bundle).ok()
    assert r.out == "to-out\n"
    assert "to-err" in r.err


def test_run_removes_container_after_exit(runtime, bundle, session):
    bundle.args("true")
    runtime.run(bundle).ok()
    assert runtime.state(bundle.id) is None
    assert session.leftovers(bundle.id, needle=bundle.path) == []


def test_run_detached(runtime, bundle):
    bundle.sh("echo $$ > /out/pid; " + WAIT_GO)
    r = runtime.run(bundle, detach=True)
    r.ok()
    assert r.elapsed < 10
    st = runtime.state(bundle.id)
    assert st["status"] == "running"
    wait_for(lambda: os.path.exists(os.path.join(bundle.out, "pid")), what="container pid file")
    assert bundle.read_out("pid").strip() == "1", "init is not pid 1 of its pid namespace"
    touch(os.path.join(bundle.out, "go"))
    runtime.wait_status(bundle.id, "stopped")
    runtime.delete(bundle.id).ok()


def test_delete_running_needs_force(runtime, bundle, session):
    bundle.args("sleep", "300")
    runtime.run(bundle, detach=True).ok()
    pid = runtime.state(bundle.id)["pid"]
    r = runtime.delete(bundle.id)
    assert r.rc != 0
    assert runtime.status(bundle.id) == "running"
    assert pid_alive(pid)
    runtime.delete(bundle.id, force=True).ok()
    assert runtime.state(bundle.id) is None
    wait_for(lambda: not pid_alive(pid), what="container init to die")
    assert session.leftovers(bundle.id, needle=bundle.path) == []


def test_delete_created_container(runtime, bundle, session):
    bundle.args("sleep", "300")
    runtime.create(bundle).ok()
    pid = runtime.state(bundle.id)["pid"]
    runtime.delete(bundle.id, force=True).ok()
    wait_for(lambda: not pid_alive(pid), what="created init to die")
    assert session.leftovers(bundle.id, needle=bundle.path) == []


@pytest.mark.parametrize("sig", ["TERM", "SIGTERM", "15", "HUP", "USR1"])
def test_kill_delivers_signal(runtime, bundle, sig):
    bundle.sh(SIG_TRAP)
    runtime.run(bundle, detach=True).ok()
    wait_for(lambda: os.path.exists(os.path.join(bundle.out, "ready")), what="trap set up")
    runtime.kill(bundle.id, sig).ok()
    runtime.wait_status(bundle.id, "stopped")
    want = {"15": "TERM", "SIGTERM": "TERM"}.get(sig, sig)
    assert bundle.read_out("sig").strip() == want


def test_kill_default_is_term(runtime, bundle):
    bundle.sh(SIG_TRAP)
    runtime.run(bundle, detach=True).ok()
    wait_for(lambda: os.path.exists(os.path.join(bundle.out, "ready")), what="trap set up")
    runtime.kill(bundle.id).ok()
    runtime.wait_status(bundle.id, "stopped")
    assert bundle.read_out("sig").strip() == "TERM"


@pytest.mark.parametrize("sig", ["SIGKILL", "KILL", "9"])
def test_kill_sigkill(runtime, bundle, sig):
    bundle.args("sleep", "300")
    runtime.run(bundle, detach=True).ok()
    pid = runtime.state(bundle.id)["pid"]
    runtime.kill(bundle.id, sig).ok()
    runtime.wait_status(bundle.id, "stopped")
    assert not pid_alive(pid)


def test_kill_bad_signal(runtime, bundle):
    bundle.args("sleep", "300")
    runtime.run(bundle, detach=True).ok()
    r = runtime.kill(bundle.id, "SIGNOPE")
    assert r.rc != 0
    assert runtime.status(bundle.id) == "running"


def test_kill_all_shared_pid_namespace(runtime, bundle, session):
    """Without a pid namespace, killing init leaves its children; --all must
    reach every process of the container's cgroup."""
    bundle.set_namespace("pid", present=False)
    bundle.sh("sleep 301 & echo $! > /out/child; sleep 302 & wait")
    runtime.run(bundle, detach=True).ok()
    wait_for(lambda: os.path.exists(os.path.join(bundle.out, "child"))
             and bundle.read_out("child").strip(), what="child pid")
    child = int(bundle.read_out("child"))
    session.track(child)
    assert pid_alive(child)
    r = runtime.kill(bundle.id, "KILL", "--all")
    r.ok()
    wait_for(lambda: not pid_alive(child), what="child to be killed by kill --all")
    runtime.wait_status(bundle.id, "stopped")


def test_kill_stopped_container_fails(runtime, bundle):
    bundle.args("true")
    runtime.create(bundle).ok()
    runtime.start(bundle.id).ok()
    runtime.wait_status(bundle.id, "stopped")
    r = runtime.kill(bundle.id, "KILL")
    assert r.rc != 0


def test_state_json(runtime, bundle):
    bundle.args("sleep", "300")
    bundle.config.setdefault("annotations", {})["org.celltest.a"] = "b"
    runtime.create(bundle).ok()
    r = runtime.cmd("state", bundle.id).ok()
    st = json.loads(r.out)
    for key in ("ociVersion", "id", "status", "pid", "bundle"):
        assert key in st, f"state lacks {key}: {st}"
    assert st["id"] == bundle.id
    assert st["status"] == "created"
    assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path)
    assert st["ociVersion"].startswith("1.")
    assert st.get("annotations", {}).get("org.celltest.a") == "b"


def test_list(runtime, make_bundle):
    a, b = make_bundle("lista"), make_bundle("listb")
    a.args("sleep", "300")
    b.args("sleep", "300")
    runtime.run(a, detach=True).ok()
    runtime.create(b).ok()

    table = runtime.cmd("list").ok().lines
    assert table[0].split()[:3] == ["ID", "PID", "STATUS"]
    rows = {ln.split()[0]: ln.split() for ln in table[1:] if ln.strip()}
    assert rows[a.id][2] == "running"
    assert rows[b.id][2] == "created"

    js = json.loads(runtime.cmd("list", "--format", "json").ok().out)
    by_id = {c["id"]: c for c in js}
    assert by_id[a.id]["status"] == "running"
    assert by_id[b.id]["status"] == "created"
    assert by_id[a.id]["pid"] == runtime.state(a.id)["pid"]
    assert os.path.realpath(by_id[a.id]["bundle"]) == os.path.realpath(a.path)

    quiet = runtime.cmd("list", "-q").ok().lines
    assert a.id in quiet and b.id in quiet
    assert all(" " not in ln for ln in quiet)


def test_list_empty_root(runtime, session, tmp_path):
    root = tmp_path / "emptyroot"
    root.mkdir()
    r = runtime.cmd("--root", str(root), "list", "--format", "json", root=False).ok()
    assert json.loads(r.out or "null") in (None, [])


def test_ps(runtime, bundle, session):
    bundle.sh("sleep 303 & sleep 304 & echo ok > /out/ready; wait")
    runtime.run(bundle, detach=True).ok()
    wait_for(lambda: os.path.exists(os.path.join(bundle.out, "ready")), what="children")
    init = runtime.state(bundle.id)["pid"]
    pids = json.loads(runtime.cmd("ps", "--format", "json", bundle.id).ok().out)
    for p in pids:
        session.track(p)
    assert init in pids
    assert len(pids) == 3
    table = runtime.cmd("ps", bundle.id).ok().lines
    assert "PID" in table[0].split()
    body = "\n".join(table[1:])
    assert "sleep 303" in body and "sleep 304" in body


def test_ps_passes_options_to_ps(runtime, bundle, session):
    """runc ps ID [ps options]: ps(1)'s own table, only the container's rows."""
    bundle.sh("sleep 305 & echo ok > /out/ready; wait")
    runtime.run(bundle, detach=True).ok()
    wait_for(lambda: os.path.exists(os.path.join(bundle.out, "ready")), what="children")
    pids = json.loads(runtime.cmd("ps", "--format", "json", bundle.id).ok().out)
    for p in pids:
        session.track(p)
    table = runtime.cmd("ps", bundle.id, "-o", "pid,ppid,args").ok().lines
    assert table[0].split() == ["PID", "PPID", "COMMAND"]
    rows = [line.split(None, 2) for line in table[1:]]
    assert sorted(int(r[0]) for r in rows) == sorted(pids)
    assert any(r[2] == "sleep 305" for r in rows), table
    default = runtime.cmd("ps", bundle.id).ok().lines
    assert default[0].split()[:3] == ["UID", "PID", "PPID"]   # ps -ef
    assert len(default) == 1 + len(pids)
    r = runtime.cmd("ps", "--format", "yaml", bundle.id)
    assert r.rc != 0 and "invalid format" in r.err, r
    r = runtime.cmd("ps", bundle.id, "-o", "args")
    assert r.rc != 0 and "PID" in r.err, r


def test_pause_resume(runtime, bundle):
    bundle.sh("i=0; while :; do i=$((i+1)); echo $i > /out/counter.new; "
              "mv /out/counter.new /out/counter; usleep 20000; done")
    runtime.run(bundle, detach=True).ok()
    counter = os.path.join(bundle.out, "counter")

    def read():
        try:
            with open(counter) as f:
                return int(f.read() or 0)
        except FileNotFoundError:
            return 0
    wait_for(lambda: read() > 2, what="counter to run")
    runtime.cmd("pause", bundle.id).ok()
    assert runtime.status(bundle.id) == "paused"
    frozen = read()
    time.sleep(0.4)
    assert read() == frozen, "a paused container made progress"
    runtime.cmd("resume", bundle.id).ok()
    assert runtime.status(bundle.id) == "running"
    wait_for(lambda: read() > frozen + 2, what="counter to advance after resume")


def test_pause_stopped_fails(runtime, bundle):
    bundle.args("true")
    runtime.create(bundle).ok()
    runtime.start(bundle.id).ok()
    runtime.wait_status(bundle.id, "stopped")
    assert runtime.cmd("pause", bundle.id).rc != 0
    assert runtime.cmd("resume", bundle.id).rc != 0


def test_delete_paused_force(runtime, bundle, session):
    bundle.args("sleep", "300")
    runtime.run(bundle, detach=True).ok()
    pid = runtime.state(bundle.id)["pid"]
    runtime.cmd("pause", bundle.id).ok()
    runtime.delete(bundle.id, force=True).ok()
    wait_for(lambda: not pid_alive(pid), what="paused init to die")
    assert session.leftovers(bundle.id, needle=bundle.path) == []


def test_spec_writes_config(runtime, tmp_path):
    r = runtime.cmd("spec", cwd=str(tmp_path), root=False).ok()
    c = json.loads((tmp_path / "config.json").read_text())
    assert c["ociVersion"].startswith("1.")
    assert c["root"]["path"] == "rootfs"
    assert isinstance(c["process"]["args"], list) and c["process"]["args"]
    nss = {n["type"] for n in c["linux"]["namespaces"]}
    assert {"pid", "mount", "network", "ipc", "uts"} <= nss
    assert r.out == ""


def test_spec_bundle_option_and_no_overwrite(runtime, tmp_path):
    runtime.cmd("spec", "--bundle", str(tmp_path), root=False).ok()
    cfg = tmp_path / "config.json"
    cfg.write_text('{"mine": true}')
    r = runtime.cmd("spec", "--bundle", str(tmp_path), root=False)
    assert r.rc != 0
    assert cfg.read_text() == '{"mine": true}'


def test_spec_rootless(runtime, tmp_path):
    runtime.cmd("spec", "--rootless", cwd=str(tmp_path), root=False).ok()
    c = json.loads((tmp_path / "config.json").read_text())
    nss = {n["type"] for n in c["linux"]["namespaces"]}
    assert "user" in nss
    assert c["linux"]["uidMappings"] and c["linux"]["gidMappings"]


def test_features(runtime, is_cell):
    r = runtime.cmd("features", root=False).ok()
    f = json.loads(r.out)
    assert re.match(r"^1\.\d+\.\d+", f["ociVersionMin"])
    assert re.match(r"^1\.\d+\.\d+", f["ociVersionMax"])
    assert set(f["hooks"]) >= {"prestart", "createRuntime", "createContainer",
                               "startContainer", "poststart", "poststop"}
    assert "bind" in f["mountOptions"] and "rbind" in f["mountOptions"]
    lin = f["linux"]
    assert {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"} <= set(lin["namespaces"])
    assert "CAP_SYS_ADMIN" in lin["capabilities"]
    assert lin["seccomp"]["enabled"] is True
    if is_cell:
        assert "time" in lin["namespaces"]
        assert tuple(int(x) for x in re.findall(r"\d+", f["ociVersionMax"])[:2]) >= (1, 2)
        assert lin["cgroup"]["v1"] is True and lin["cgroup"]["v2"] is True


def test_version(runtime, is_cell):
    r = runtime.cmd("--version", root=False).ok()
    assert re.search(r"version \d+\.\d+\.\d+", r.out), r
    assert re.search(r"spec: 1\.\d+", r.out), r
    if is_cell:
        assert r.out.startswith("cellrun version ")


def test_help(runtime):
    r = runtime.cmd("--help", root=False).ok()
    for verb in ("create", "start", "state", "kill", "delete", "run", "exec", "list", "ps",
                 "pause", "resume", "update", "spec"):
        assert re.search(rf"^\s+{verb}\b", r.out, re.M), f"--help does not list {verb}"


def test_unknown_verb(runtime):
    r = runtime.cmd("frobnicate", root=False)
    assert r.rc != 0
    assert "frobnicate" in r.err
