# SPDX-License-Identifier: LGPL-2.1-or-later
"""What runc's own integration suite (tests/integration/*.bats, run by
scripts/peer-suites/runc-bats) found where cellrun differed from runc 1.1.5:
each case checked here on its own, against cellrun and runc alike."""
import json
import os
import socket
import subprocess
import threading
import time

import pytest

import celltest
from celltest import CGROUP_FS, wait_for

RUNC_STATE_KEYS = ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created"]


def cgroup2_host():
    return subprocess.run(["stat", "-f", "-c", "%T", CGROUP_FS], capture_output=True,
                          text=True, check=True).stdout.strip() == "cgroup2fs"


def write_config(bundle, cgroups_path):
    """bundle.write() resets cgroupsPath to the default; this keeps ours."""
    bundle.config["linux"]["cgroupsPath"] = cgroups_path
    with open(os.path.join(bundle.path, "config.json"), "w") as f:
        json.dump(bundle.config, f)


def sleeping(runtime, bundle):
    bundle.args("sleep", "1000")
    runtime.run(bundle, detach=True).ok()
    return bundle


# ---- spec

def test_spec_cgroup_namespace_only_on_a_unified_host(session, tmp_path):
    """runc's example spec lists the cgroup namespace on cgroup v2 alone; the
    suite's v1 tests add it themselves (a second one is refused)."""
    r = celltest.run_reaping([session.binary, "spec", "--bundle", str(tmp_path)], timeout=10,
                             tmpdir=session.base)
    assert r.rc == 0, r
    with open(tmp_path / "config.json") as f:
        types = [n["type"] for n in json.load(f)["linux"]["namespaces"]]
    assert ("cgroup" in types) == cgroup2_host(), types
    assert {"pid", "network", "ipc", "uts", "mount"} <= set(types)


# ---- CLI: flags after the id, state/list shape, kill --all

def test_flags_after_the_container_id(runtime, bundle, session):
    """runc (urfave/cli v1) reorders flags behind the id for every verb but exec and ps."""
    if not os.path.isdir(os.path.join(CGROUP_FS, "pids")):
        pytest.skip("no v1 pids hierarchy")
    sleeping(runtime, bundle)
    runtime.cmd("update", bundle.id, "--pids-limit", "42").ok()
    with open(os.path.join(session.host_cgroup("pids", bundle.id), "pids.max")) as f:
        assert f.read().strip() == "42"
    listed = json.loads(runtime.cmd("list", "--format", "json").ok().out)
    assert bundle.id in [c["id"] for c in listed]


def test_state_and_list_field_order(runtime, bundle):
    """list.bats matches the JSON text: runc's containerState field order, annotations
    left out when empty."""
    sleeping(runtime, bundle)
    st = json.loads(runtime.cmd("state", bundle.id).ok().out)
    assert list(st) == RUNC_STATE_KEYS + ["owner"], list(st)
    listed = [c for c in json.loads(runtime.cmd("list", "--format", "json").ok().out)
              if c["id"] == bundle.id]
    assert list(listed[0]) == RUNC_STATE_KEYS + ["owner"], listed


def test_state_annotations_after_created(runtime, bundle):
    bundle.config["annotations"] = {"org.celltest.k": "v"}
    sleeping(runtime, bundle)
    st = json.loads(runtime.cmd("state", bundle.id).ok().out)
    assert list(st) == RUNC_STATE_KEYS + ["annotations", "owner"], list(st)
    assert st["annotations"] == {"org.celltest.k": "v"}


def test_kill_all_after_the_init_is_gone(runtime, bundle):
    sleeping(runtime, bundle)
    pid = runtime.state(bundle.id)["pid"]
    runtime.kill(bundle.id, "KILL").ok()
    runtime.wait_status(bundle.id, "stopped")
    assert not celltest.pid_alive(pid)
    runtime.kill(bundle.id, "0", "--all").ok()
    r = runtime.kill(bundle.id, "0")
    assert r.rc != 0 and "container not running" in r.err, r  # runc's ErrNotRunning


# ---- exec into a paused container

def test_exec_refuses_a_paused_container(runtime, bundle):
    sleeping(runtime, bundle)
    runtime.cmd("pause", bundle.id).ok()
    r = runtime.exec(bundle.id, "echo", "ok", timeout=10)
    assert r.rc == 255, r
    assert "cannot exec in a paused container" in r.err, r
    runtime.cmd("resume", bundle.id).ok()


def test_exec_ignore_paused_runs_after_resume(runtime, bundle):
    sleeping(runtime, bundle)
    runtime.cmd("pause", bundle.id).ok()
    resumed = []

    def resume():
        time.sleep(1.5)
        resumed.append(time.monotonic())
        runtime.cmd("resume", bundle.id)

    t = threading.Thread(target=resume)
    t.start()
    try:
        r = runtime.exec(bundle.id, "sh", "-c", "echo ok", opts=("--ignore-paused",),
                         timeout=20)
    finally:
        t.join()
    assert r.rc == 0 and r.out == "ok\n", r
    assert resumed and time.monotonic() >= resumed[0]
    assert runtime.status(bundle.id) == "running"


# ---- hooks

def test_create_container_hook_runs_in_the_rootfs(runtime, bundle, session):
    out = os.path.join(bundle.out, "cwd")
    bundle.config["hooks"] = {"createContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", f"pwd -P > {out}"]}]}
    runtime.run(bundle).ok()
    with open(out) as f:
        assert f.read().strip() == os.path.realpath(session.rootfs)


# ---- mounts

@pytest.mark.parametrize("kernel_dir", ["proc", "sys"])
def test_kernel_fs_on_a_symlink_is_refused_in_runcs_words(runtime, bundle, kernel_dir):
    rootfs = bundle.private_rootfs()
    target = os.path.join(rootfs, kernel_dir)
    os.rmdir(target)
    os.symlink("/symlink", target)
    r = runtime.run(bundle, detach=True)
    assert r.rc != 0, r
    if kernel_dir == "proc":  # runc on v1 may fail on /sys/fs/cgroup first
        assert "must be mounted on ordinary directory" in r.err, r
    assert not os.path.exists(os.path.join(rootfs, "symlink"))


# ---- seccomp notify

class Agent:
    """A seccomp agent: takes the listener fds that arrive on a unix socket
    and keeps each with the containerProcessState it came with."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.got = []   # (state dict, fd)
        self.stop = False
        self.thread = threading.Thread(target=self.serve)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(5)
                msg, fds, _, _ = socket.recv_fds(conn, 1 << 16, 4)
                data = msg
                while True:
                    try:
                        more = conn.recv(1 << 16)
                    except socket.timeout:
                        break
                    if not more:
                        break
                    data += more
                self.got.append((json.loads(data), fds))

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()
        for _, fds in self.got:
            for fd in fds:
                os.close(fd)


def notify_profile(listener, names):
    return {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": listener,
            "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64"],
            "syscalls": [{"names": names, "action": "SCMP_ACT_NOTIFY"}]}


def test_exec_reaches_the_seccomp_agent_at_the_runtimes_path(runtime, bundle, session):
    """The agent's socket is a path of the runtime's filesystem, not the container's:
    exec connects from the runtime side, as create does."""
    path = os.path.join(session.base, f"agent-{bundle.id}.sock")
    agent = Agent(path)
    try:
        bundle.linux["seccomp"] = notify_profile(path, ["mkdir"])
        sleeping(runtime, bundle)
        wait_for(lambda: len(agent.got) == 1, timeout=10, what="the init's listener fd")
        runtime.exec(bundle.id, "true").ok()
        wait_for(lambda: len(agent.got) == 2, timeout=10, what="the exec's listener fd")
        state, fds = agent.got[1]
        assert len(fds) == 1 and state["state"]["id"] == bundle.id, state
        assert state["pid"] != agent.got[0][0]["pid"]
    finally:
        runtime.cmd("delete", "--force", bundle.id)
        agent.close()
        os.unlink(path)


def test_seccomp_agent_missing_in_runcs_words(runtime, bundle, session):
    bundle.linux["seccomp"] = notify_profile(os.path.join(session.base, "no-agent.sock"),
                                             ["mkdir"])
    r = runtime.run(bundle)
    assert r.rc != 0 and "failed to connect with seccomp agent" in r.err, r
    assert session.leaked_state(bundle.id) == []


def test_notify_on_write_is_refused(runtime, bundle, session):
    path = os.path.join(session.base, f"agent-{bundle.id}.sock")
    agent = Agent(path)
    try:
        bundle.linux["seccomp"] = notify_profile(path, ["write"])
        r = runtime.run(bundle)
        assert r.rc != 0, r
        assert "SCMP_ACT_NOTIFY cannot be used for the write syscall" in r.err, r
    finally:
        agent.close()
        os.unlink(path)


# ---- cgroups

def test_cpuset_of_a_parent_made_empty_is_filled(runtime, bundle, session):
    """A pod's parent made with mkdir has empty cpuset.cpus/mems (v1), and a child
    could take no task: the runtime fills it from its own parent (runc's ensureParent)."""
    cpuset = os.path.join(CGROUP_FS, "cpuset")
    if not os.path.isfile(os.path.join(cpuset, "cpuset.cpus")):
        pytest.skip("no v1 cpuset hierarchy")
    pod = os.path.join(cpuset, session.cgroup_parent, f"pod-{bundle.id}")
    os.makedirs(pod)
    try:
        with open(os.path.join(pod, "cpuset.cpus")) as f:
            assert f.read().strip() == ""
        bundle.args("sleep", "1000")
        write_config(bundle, f"/{session.cgroup_parent}/pod-{bundle.id}/{bundle.id}")
        runtime.ids.append(bundle.id)
        runtime.cmd("run", "-d", "--bundle", bundle.path, bundle.id, guard=True).ok()
        with open(os.path.join(pod, "cpuset.cpus")) as f, \
                open(os.path.join(cpuset, "cpuset.cpus")) as root:
            assert f.read().strip() == root.read().strip()
        r = runtime.exec(bundle.id, "cat", "/proc/self/status").ok()
        assert "Cpus_allowed_list" in r.out
    finally:
        runtime.cmd("delete", "--force", bundle.id)
        wait_for(lambda: not os.path.isdir(os.path.join(pod, bundle.id)), timeout=10,
                 what="the container's cgroup to go")
        # the runtime made the pod's level in the other hierarchies
        for name in os.listdir(CGROUP_FS):
            d = os.path.join(CGROUP_FS, name, session.cgroup_parent, f"pod-{bundle.id}")
            if os.path.isdir(d) and not os.path.islink(os.path.join(CGROUP_FS, name)):
                os.rmdir(d)


def test_shared_cgroup_is_reported_in_runcs_words(runtime, make_bundle, session):
    """runc 1.1 warns "container's cgroup is not empty" and goes on; runc 1.2 and
    cellrun refuse, in the same words."""
    a, b = make_bundle("cga"), make_bundle("cgb")
    shared = f"/{session.cgroup_parent}/shared-{a.id}"
    for x in (a, b):
        x.args("sleep", "1000")
        write_config(x, shared)
        runtime.ids.append(x.id)
    runtime.cmd("run", "-d", "--bundle", a.path, a.id, guard=True).ok()
    r = runtime.cmd("create", "--bundle", b.path, b.id, guard=True)
    assert "container's cgroup is not empty" in r.err, r
    if session.is_cell:
        assert r.rc != 0 and session.leaked_state(b.id) == [], r


def test_unified_resources_on_v1_are_an_invalid_configuration(runtime, bundle, session):
    if cgroup2_host():
        pytest.skip("a unified host takes linux.resources.unified")
    bundle.linux["resources"] = {"unified": {"memory.min": "131072"}}
    r = runtime.run(bundle, detach=True)
    assert r.rc != 0 and "invalid configuration" in r.err, r
    assert session.leaked_state(bundle.id) == []


# ---- checkpoint's path checks (before CRIU is needed)

def test_checkpoint_parent_path_checks(runtime, bundle, tmp_path):
    sleeping(runtime, bundle)
    r = runtime.cmd("checkpoint", "--parent-path", str(tmp_path / "parent"), "--image-path",
                    "./image-dir", bundle.id, cwd=str(tmp_path))
    assert r.rc != 0 and "--parent-path" in r.err, r
    r = runtime.cmd("checkpoint", "--parent-path", "./parent-dir", "--image-path", "./image-dir",
                    bundle.id, cwd=str(tmp_path))
    assert r.rc != 0 and "--parent-path" in r.err, r
    assert runtime.status(bundle.id) == "running"


# ---- --debug and exec --cgroup

def test_debug_log_names_runcs_steps(runtime, bundle, tmp_path):
    """runc's debug.bats greps its --debug lines for the steps of nsexec and init."""
    log = tmp_path / "debug.log"
    bundle.args("sleep", "1000")
    runtime._prepare(bundle, None)
    r = runtime.cmd("--debug", "--log", str(log), "run", "-d", "--bundle", bundle.path,
                    bundle.id, guard=True)
    assert r.rc == 0 and "level=debug" not in r.err, r
    text = log.read_text()
    for step in ("nsexec container setup", "child process in init()",
                 "init: closing the pipe to signal completion"):
        assert step in text and "level=debug" in text, (step, text)
    r = runtime.cmd("--debug", "exec", bundle.id, "true")
    assert r.rc == 0 and "setns_init: about to exec" in r.err, r


def test_exec_into_a_sub_cgroup(runtime, bundle, session):
    memory = session.host_cgroup("memory", bundle.id)
    if not os.path.isdir(os.path.join(CGROUP_FS, "memory")):
        pytest.skip("no v1 memory hierarchy")
    sleeping(runtime, bundle)
    sub = os.path.join(memory, "sub")
    os.mkdir(sub)
    try:
        r = runtime.exec(bundle.id, "cat", "/proc/self/cgroup", opts=("--cgroup", "memory:sub"))
        lines = r.ok().lines
        mem = [ln for ln in lines if ln.split(":")[1] == "memory"]
        assert mem and mem[0].endswith(f"{bundle.id}/sub"), lines
        others = [ln for ln in lines if ln.split(":")[1] not in ("memory", "name=systemd")]
        assert others and all(not ln.endswith("/sub") for ln in others), lines
        r = runtime.exec(bundle.id, "true", opts=("--cgroup", ".."))
        assert r.rc != 0 and "is not a sub cgroup path" in r.err, r
        r = runtime.exec(bundle.id, "true", opts=("--cgroup", "nonexistent"))
        assert r.rc != 0 and "nonexistent/cgroup.procs" in r.err, r
        r = runtime.exec(bundle.id, "true", opts=("--cgroup", "whaaat:/"))
        assert r.rc != 0 and "unknown controller" in r.err, r
        with open(os.path.join(sub, "cgroup.procs")) as f:
            assert f.read() == ""
    finally:
        os.rmdir(sub)


def test_start_container_hook_runs_confined_as_the_process(runtime, bundle):
    """runc's init runs startContainer hooks right before its exec: as the
    process's user, under its seccomp filter (seccomp.bats)."""
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 1}]}
    script = "id -u > /out/hook-uid; mkdir /tmp/hook-dir; echo $? > /out/hook-mkdir"
    bundle.config["hooks"] = {"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", script]}]}
    runtime.run(bundle).ok()
    assert bundle.read_out("hook-uid").strip() == "1000"
    assert bundle.read_out("hook-mkdir").strip() != "0"


def test_foreground_terminal_output_has_no_carriage_returns(runtime, bundle, session, tmp_path):
    """run in the foreground with a terminal: runc clears ONLCR on the pty it
    proxies, so "echo" gives "x\\n" (env.bats compares such lines)."""
    bundle.process["terminal"] = True
    bundle.sh("echo first; echo second")
    runtime._prepare(bundle, None)
    out = tmp_path / "out"
    cmd = " ".join([session.binary, "--root", session.state_root, "run", "--bundle", bundle.path,
                    bundle.id, "</dev/null", ">", str(out), "2>&1"])
    # a controlling terminal for the runtime (as runc's CI gives the suite); its stdout a file
    r = celltest.run_reaping(["unshare", "--uts", "--net", "--", "script", "-qec", cmd,
                              "/dev/null"], timeout=30, tmpdir=session.base)
    assert r.rc == 0, r
    assert out.read_bytes() == b"first\nsecond\n", out.read_bytes()


def test_start_container_hook_killed_by_the_filter(runtime, bundle, session):
    """A startContainer hook that the process's seccomp filter kills fails the
    start, in runc's words (1.1: "error running hook", Go's "bad system call")."""
    bundle.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}]}
    bundle.config["hooks"] = {"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", "mkdir /tmp/hook-dir"]}]}
    bundle.sh("echo ran > /out/ran")
    r = runtime.run(bundle)
    assert r.rc != 0, r
    assert "error running hook" in r.err and "bad system call" in r.err, r
    assert not os.path.exists(os.path.join(bundle.out, "ran"))
    if session.is_cell:
        assert session.leaked_state(bundle.id) == []


def test_start_container_hook_inherits_the_process_environment(runtime, bundle):
    """Its environment is the init's, HOME (from /etc/passwd) included."""
    bundle.process["env"] = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "ONE=two"]
    bundle.config["hooks"] = {"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", 'echo "$ONE $HOME" > /out/hook-env']}]}
    bundle.sh('echo "$ONE $HOME" > /out/proc-env')
    runtime.run(bundle).ok()
    hook, proc = bundle.read_out("hook-env").strip(), bundle.read_out("proc-env").strip()
    assert hook == proc and hook.startswith("two /"), (hook, proc)
