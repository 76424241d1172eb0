# SPDX-License-Identifier: LGPL-2.1-or-later
"""containerd drives the runtime through its runc v2 shim (`ctr run
--runc-binary`), through cellrun and runc (see containerd.py for the set-up)."""
import os
import time

import pytest

import celltest
from conftest import CGROUP_PARENT, cmdline
from containerd import (CONTAINERD, CTR, IMAGE, NAMESPACE, SHIM, SYSTEM_DIRS, make_engine,
                        shim_sockets)

pytestmark = pytest.mark.skipif(not all(os.path.exists(p) for p in (CONTAINERD, CTR, SHIM)),
                                reason="containerd not installed (scripts/install-deps)")


@pytest.fixture(scope="module")
def engine(runtime):
    existed = {d: os.path.exists(d) for d in SYSTEM_DIRS}
    ctrd, close = make_engine(runtime, CGROUP_PARENT)
    yield ctrd
    close()
    for d, was in existed.items():
        assert was or not os.path.exists(d), f"{d} left behind"
    # the daemon is gone and took nothing with it: no shim, no mount, no dir
    assert not ctrd.shims()
    assert not [m for m in celltest.host_mounts() if m["mountpoint"].startswith(ctrd.dir)]
    assert not os.path.exists(ctrd.dir)


@pytest.fixture
def ctrd(engine, leak_check):
    leak_check.keep.add(engine.proc.pid)
    leak_check.watch(dirs=[engine.dir], engine_cgroups=engine.own_cgroups())
    before = len(engine.runtime_calls())
    sockets = shim_sockets()
    yield engine
    engine.reset()
    # nothing of the test's is left in containerd, and no shim runs
    assert engine.ids("containers") == [] and engine.ids("tasks") == []
    celltest.wait_for(lambda: not engine.shims(), timeout=10, what="shims gone")
    assert shim_sockets() <= sockets, shim_sockets() - sockets
    assert not os.listdir(engine.fifo_dir) or all(
        not os.listdir(os.path.join(engine.fifo_dir, d)) for d in os.listdir(engine.fifo_dir))
    # the runtime's state: <runc-root>/<namespace>/<id>, none left
    ns_state = os.path.join(engine.runc_root, NAMESPACE)
    assert not os.path.isdir(ns_state) or not os.listdir(ns_state), os.listdir(ns_state)
    # the runtime under test was reached (not the shim's default runc), as root
    calls = engine.runtime_calls()[before:]
    assert calls and all(c[0] == "0" for c in calls), calls


def run(ctrd, cid, *cmd, opts=(), **kw):
    return ctrd(*ctrd.run_args(cid, "--rm", *opts), IMAGE, cid, *cmd, **kw)


def start_detached(ctrd, cid, script, opts=()):
    ctrd(*ctrd.run_args(cid, "-d", "--null-io", *opts), IMAGE, cid, "sh", "-c", script,
         check=True)
    celltest.wait_for(lambda: task_status(ctrd, cid) == "RUNNING", what=f"{cid} running")


def task_status(ctrd, cid):
    for line in ctrd("tasks", "ls", check=True).out.splitlines()[1:]:
        f = line.split()
        if f and f[0] == cid:
            return f[2]
    return None


def exec_out(ctrd, cid, exec_id, *cmd, check=True):
    r = ctrd("tasks", "exec", "--exec-id", exec_id, "--fifo-dir", ctrd.fifo_dir, cid, *cmd)
    if check:
        assert r.rc == 0, f"exec {cmd}: rc={r.rc}\n{r.out}\n{r.err}"
    return r


def cgroup_file(ctrd, cid, ctrl, name):
    with open(os.path.join(celltest.CGROUP_FS, ctrl, ctrd.cgroup(cid).lstrip("/"), name)) as f:
        return f.read().strip()


def test_run_exit_codes(ctrd):
    r = run(ctrd, "c-echo", "sh", "-c", "echo hello; cat /proc/self/cgroup")
    assert r.rc == 0, r
    lines = r.out.replace("\r", "").splitlines()
    assert lines[0] == "hello"
    # the container's cgroup is the one ctr asked for, below the suite's parent
    memory = [ln.split(":", 2)[2] for ln in lines[1:] if ln.split(":")[1] == "memory"]
    assert memory == [ctrd.cgroup("c-echo")], lines
    assert run(ctrd, "c-exit", "sh", "-c", "exit 3").rc == 3


def test_missing_command_fails_and_leaves_nothing(ctrd):
    r = run(ctrd, "c-missing", "/no/such/command")
    assert r.rc != 0, r
    # the runtime refuses at create, and containerd says so
    assert "OCI runtime create failed" in r.err and '"/no/such/command"' in r.err, r.err
    # containerd reports the failure and keeps neither container nor task
    assert ctrd.ids("containers") == []
    assert ctrd.ids("tasks") == []
    celltest.wait_for(lambda: not ctrd.shims(), timeout=10, what="shim gone")


def test_detach_exec(ctrd):
    start_detached(ctrd, "c-exec", "echo from-init > /tmp/mark; exec sleep 1000")
    assert len(ctrd.shims()) == 1  # the shim the teardown checks gone, seen alive
    r = exec_out(ctrd, "c-exec", "e1", "sh", "-c",
                 "cat /tmp/mark; echo $$; readlink /proc/1/ns/pid; readlink /proc/self/ns/pid")
    lines = r.out.replace("\r", "").split()
    assert lines[0] == "from-init"
    assert lines[1] != "1"  # not the init
    # in the init's pid namespace, which is not the host's
    assert lines[2] == lines[3] != os.readlink("/proc/self/ns/pid"), lines
    assert exec_out(ctrd, "c-exec", "e2", "sh", "-c", "exit 5", check=False).rc == 5


def test_kill(ctrd):
    start_detached(ctrd, "c-kill", "trap 'exit 0' TERM; while :; do sleep 0.1; done")
    ctrd("tasks", "kill", "c-kill", check=True)  # SIGTERM: the trap exits 0
    celltest.wait_for(lambda: task_status(ctrd, "c-kill") == "STOPPED", what="stopped by TERM")
    r = ctrd("tasks", "delete", "c-kill", check=True)
    assert "non-zero exit code" not in r.err, r.err  # 0: ctr warns of any other
    ctrd("containers", "delete", "c-kill", check=True)
    start_detached(ctrd, "c-kill9", "trap '' TERM; while :; do sleep 0.1; done")
    ctrd("tasks", "kill", "--signal", "SIGTERM", "c-kill9", check=True)
    time.sleep(0.3)
    assert task_status(ctrd, "c-kill9") == "RUNNING"  # TERM ignored
    ctrd("tasks", "kill", "--signal", "SIGKILL", "c-kill9", check=True)
    celltest.wait_for(lambda: task_status(ctrd, "c-kill9") == "STOPPED", what="stopped by KILL")
    r = ctrd("tasks", "delete", "c-kill9", check=True)
    assert "non-zero exit code 137" in r.err, r.err


def task_pid(ctrd, cid):
    for line in ctrd("tasks", "ls", check=True).out.splitlines()[1:]:
        f = line.split()
        if f and f[0] == cid:
            return int(f[1])
    raise AssertionError(f"no task {cid}")


def test_pause_resume(ctrd):
    start_detached(ctrd, "c-pause",
                   "i=0; while :; do i=$((i+1)); echo $i > /tmp/tick; sleep 0.05; done")
    # the counter, read from the host through the init's root
    tick = os.path.join(f"/proc/{task_pid(ctrd, 'c-pause')}/root", "tmp", "tick")

    def read_tick():
        with open(tick) as f:
            return f.read().strip()
    celltest.wait_for(lambda: os.path.exists(tick) and read_tick(), what="ticking")
    ctrd("tasks", "pause", "c-pause", check=True)
    assert task_status(ctrd, "c-pause") == "PAUSED"
    assert cgroup_file(ctrd, "c-pause", "freezer", "freezer.state") == "FROZEN"
    a = read_tick()
    time.sleep(0.3)
    assert read_tick() == a  # frozen
    ctrd("tasks", "resume", "c-pause", check=True)
    assert task_status(ctrd, "c-pause") == "RUNNING"
    assert cgroup_file(ctrd, "c-pause", "freezer", "freezer.state") == "THAWED"
    celltest.wait_for(lambda: read_tick() != a, what="ticking again")


def test_ps_and_metrics(ctrd):
    start_detached(ctrd, "c-ps", "sleep 1000 & exec sleep 1001")
    r = ctrd("tasks", "ps", "c-ps", check=True)
    pids = [int(ln.split()[0]) for ln in r.out.splitlines()[1:] if ln.strip()]
    assert len(pids) == 2, r.out
    cmds = sorted(cmdline(p) for p in pids)
    assert cmds == ["sleep 1000", "sleep 1001"], cmds
    m = ctrd("tasks", "metrics", "c-ps", check=True).out
    assert "pids.current" in m and "memory.usage_in_bytes" in m, m
    for line in m.splitlines():
        if line.startswith("pids.current"):
            assert int(line.split()[1]) == 2, line


@pytest.mark.cgroups
def test_memory_limit_and_oom(ctrd):
    limit = 32 * 1024 * 1024
    start_detached(ctrd, "c-mem", "exec sleep 1000", opts=("--memory-limit", str(limit)))
    assert int(cgroup_file(ctrd, "c-mem", "memory", "memory.limit_in_bytes")) == limit
    ctrd("tasks", "kill", "--signal", "SIGKILL", "c-mem", check=True)
    celltest.wait_for(lambda: task_status(ctrd, "c-mem") == "STOPPED", what="c-mem stopped")
    ctrd("tasks", "delete", "c-mem", check=True)
    ctrd("containers", "delete", "c-mem", check=True)
    # a shell string past the limit (no swap): the kernel's OOM killer ends it, 137
    r = run(ctrd, "c-oom", "sh", "-c",
            "a=$(head -c 100000000 /dev/zero | tr '\\0' x); echo survived",
            opts=("--memory-limit", str(limit)), timeout=60)
    assert r.rc == 137, r
    assert "survived" not in r.out
