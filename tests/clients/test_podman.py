# SPDX-License-Identifier: LGPL-2.1-or-later
"""podman drives the runtime as its users type it: as root and rootless,
each through cellrun and runc (see podman.py for the set-up)."""
import os
import pty
import select
import shutil
import subprocess
import time

import pytest

import celltest
from conftest import CGROUP_PARENT
from podman import IMAGE, make_engine

pytestmark = pytest.mark.skipif(not (os.path.exists("/usr/bin/podman") and
                                     os.path.exists("/usr/bin/conmon")),
                                reason="podman/conmon not installed (scripts/install-deps)")

NO_LIMITS = ("rootless podman on this cgroup v1 host (cgroupfs, no systemd to delegate) "
             "runs without cgroups: no limits, pause, stats or update")


@pytest.fixture(scope="module", params=["root", "rootless"])
def engine(request, runtime):
    if request.param == "rootless":
        if not os.path.exists("/usr/bin/newuidmap"):
            pytest.skip("newuidmap missing (Debian's uidmap package)")
        mode = os.stat("/dev/null").st_mode & 0o777
        if mode != 0o666:
            pytest.skip(f"the host's /dev/null is mode {mode:o}, not 666: an unprivileged "
                        "podman cannot open it (something on this machine changed it)")
    pm, close = make_engine(runtime, request.param == "rootless", CGROUP_PARENT)
    yield pm
    close()


@pytest.fixture
def pm(engine, leak_check, request):
    if engine.rootless and request.node.get_closest_marker("cgroups"):
        pytest.skip(NO_LIMITS)
    leak_check.watch(dirs=[engine.dir], engine_cgroups=engine.own_cgroups())
    before = len(engine.runtime_calls())
    yield engine
    engine.reset()
    # the runtime was reached (not podman's default), by the expected user
    calls = engine.runtime_calls()[before:]
    # uid 0: root, or root of podman's user namespace when rootless
    assert calls and all(c[0] == "0" for c in calls), calls
    if engine.rootless:
        state = os.path.join(engine.user.xdg, engine.runtime.name)
        assert not os.path.isdir(state) or not os.listdir(state), os.listdir(state)


def run(pm, *args, **kw):
    return pm(*pm.run_args(*args), **kw)


def sh(pm, script, *opts, check=True):
    r = run(pm, "--rm", *opts, IMAGE, "sh", "-c", script)
    if check:
        assert r.rc == 0, f"rc={r.rc}\n{r.out}\n{r.err}"
    return r


def test_run_exit_codes(pm):
    assert sh(pm, "echo hello").out == "hello\n"
    assert sh(pm, "exit 3", check=False).rc == 3


def test_missing_command_127(pm):
    r = run(pm, "--rm", IMAGE, "/no/such/command")
    assert r.rc == 127, r


def test_detach_exec_logs_stop_rm(pm):
    r = run(pm, "-d", "--name", "web", IMAGE, "sh", "-c",
            "echo started; trap 'echo term; exit 0' TERM; while :; do sleep 0.1; done",
            check=True)
    cid = r.out.strip()
    assert len(cid) == 64
    celltest.wait_for(lambda: "started" in pm("logs", "web").out, what="log line")
    ex = pm("exec", "web", "sh", "-c", "echo $$ > /tmp/pid; cat /proc/1/cmdline | tr '\\0' ' '",
            check=True)
    assert ex.out.startswith("sh -c echo started")
    assert pm("exec", "web", "sh", "-c", "exit 5").rc == 5
    pm("stop", "-t", "5", "web", check=True)
    assert pm.inspect("web", "{{.State.Status}} {{.State.ExitCode}}") == "exited 0"
    assert "term" in pm("logs", "web").out
    pm("rm", "web", check=True)
    assert pm("inspect", "web").rc != 0


def test_interactive_pty(pm):
    master, slave = pty.openpty()
    argv = pm.base_args + pm.run_args("-it", "--rm", IMAGE, "sh", "-c",
                                      "tty; stty size; read line; echo got:$line")
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=pm.env,
                         cwd=pm.dir, start_new_session=True)
    os.close(slave)
    out = b""
    try:
        deadline = time.monotonic() + 30
        sent = False
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if not sent and b"/dev/pts/" in out:
                os.write(master, b"typed\r")
                sent = True
            if p.poll() is not None and not ready:
                break
        rc = celltest.wait_reaping(p, 30)
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
            p.wait()
    text = out.decode(errors="replace")
    assert rc == 0, text
    assert "/dev/pts/0" in text
    assert "got:typed" in text


@pytest.mark.cgroups
def test_memory_limit_oom_137(pm):
    r = run(pm, "--name", "oom", "--memory", "32m", "--memory-swap", "32m", IMAGE, "sh", "-c",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; head -c 200m /dev/zero | tail")
    assert r.rc == 137, r
    assert r.out.split()[0] == str(32 << 20)
    # (State.OOMKilled stays false here with runc as with cellrun: conmon 2.1
    # watches memory.oom_control only when it runs the container's cgroup)


@pytest.mark.cgroups
def test_cpus_and_pids_limit(pm):
    r = sh(pm, "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us"
           " /sys/fs/cgroup/pids/pids.max;"
           " (for i in $(seq 30); do sleep 2 & done) 2>/dev/null;"
           " cat /sys/fs/cgroup/pids/pids.current",
           "--cpus", "0.5", "--pids-limit", "20")
    quota, period, pids, current = r.out.split()
    assert int(quota) * 2 == int(period)
    assert pids == "20"
    assert 10 < int(current) <= 20  # forks stopped at the limit


def test_user(pm):
    assert sh(pm, "id -u; id -g; id -G", "--user", "1000:1000", "--group-add", "5").out.split() \
        == ["1000", "1000", "1000", "5"]


def test_cap_drop_add(pm):
    r = sh(pm, "grep -E '^Cap(Eff|Bnd)' /proc/self/status",
           "--cap-drop", "all", "--cap-add", "NET_RAW", "--cap-add", "CHOWN")
    for line in r.out.splitlines():
        assert int(line.split()[1], 16) == (1 << 13) | (1 << 0), r.out
    r = sh(pm, "touch /tmp/y; chown 1000 /tmp/y 2>&1 && echo chowned; true",
           "--cap-drop", "CHOWN")
    assert "chowned" not in r.out
    assert "Operation not permitted" in r.out


def test_read_only_tmpfs_and_bind(pm):
    host = os.path.join(pm.dir, "data")
    os.makedirs(host, exist_ok=True)
    with open(os.path.join(host, "in"), "w") as f:
        f.write("from host\n")
    if pm.rootless:
        os.chown(host, pm.user.uid, pm.user.pw.pw_gid)
    r = sh(pm, "touch /x 2>/dev/null && echo rootfs-writable; touch /scratch/f && echo tmpfs-ok;"
           " grep ' /scratch ' /proc/mounts; cat /data/in; echo out > /data/out",
           "--read-only", "--tmpfs", "/scratch:size=1m", "-v", f"{host}:/data")
    lines = r.out.splitlines()
    assert "rootfs-writable" not in lines
    assert "tmpfs-ok" in lines
    assert any(ln.startswith("tmpfs /scratch tmpfs") and "size=1024k" in ln for ln in lines)
    assert "from host" in lines
    with open(os.path.join(host, "out")) as f:
        assert f.read() == "out\n"


def test_env_workdir_hostname(pm):
    r = sh(pm, "echo $FOO; pwd; hostname", "-e", "FOO=bar baz", "-w", "/tmp",
           "--hostname", "box1")
    assert r.out.splitlines() == ["bar baz", "/tmp", "box1"]


def detached(pm, name, script="while :; do sleep 0.1; done"):
    run(pm, "-d", "--name", name, IMAGE, "sh", "-c", script, check=True)
    celltest.wait_for(lambda: pm.inspect(name, "{{.State.Status}}") == "running",
                      what=f"{name} running")


@pytest.mark.cgroups
def test_pause_unpause(pm):
    host = os.path.join(pm.dir, "counter")
    os.makedirs(host, exist_ok=True)
    counter = os.path.join(host, "n")

    def count():
        with open(counter) as f:
            return int(f.read())
    run(pm, "-d", "--name", "frozen", "-v", f"{host}:/c", IMAGE, "sh", "-c",
        "i=0; while :; do i=$((i+1)); echo $i > /c/t; mv /c/t /c/n; sleep 0.05; done",
        check=True)
    celltest.wait_for(lambda: os.path.exists(counter), what="counter running")
    pm("pause", "frozen", check=True)
    assert pm.inspect("frozen", "{{.State.Status}}") == "paused"
    a = count()
    time.sleep(0.4)
    assert count() == a  # frozen: the loop does not move
    pm("unpause", "frozen", check=True)
    assert pm.inspect("frozen", "{{.State.Status}}") == "running"
    celltest.wait_for(lambda: count() > a, what="counter moving again")
    shutil.rmtree(host, ignore_errors=True)


def test_top(pm):
    detached(pm, "topped", "sleep 1000")
    r = pm("top", "topped", check=True)
    assert "sleep 1000" in r.out, r.out


@pytest.mark.cgroups
def test_stats_no_stream(pm):
    detached(pm, "statted")
    r = pm("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}", "statted",
           check=True)
    name, mem = r.out.split()[0], r.out.split()[1]
    assert name == "statted"
    assert mem[0].isdigit() and mem != "0B", r.out


@pytest.mark.cgroups
def test_update(pm):
    detached(pm, "updated")
    pm("update", "--cpus", "0.25", "--memory", "64m", "updated", check=True)
    r = pm("exec", "updated", "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
           "/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/memory/memory.limit_in_bytes",
           check=True)
    quota, period, mem = r.out.split()
    assert int(quota) * 4 == int(period)
    assert mem == str(64 << 20)


def test_kill(pm):
    detached(pm, "killed", "trap 'echo usr1 > /tmp/got' USR1; while :; do sleep 0.1; done")
    pm("kill", "--signal", "USR1", "killed", check=True)
    celltest.wait_for(lambda: pm("exec", "killed", "cat", "/tmp/got").out == "usr1\n",
                      what="USR1 delivered")
    pm("kill", "killed", check=True)
    assert pm("wait", "killed", check=True).out.strip() == "137"
    assert pm.inspect("killed", "{{.State.Status}}") == "exited"


def test_restart(pm):
    detached(pm, "restarted", "echo $$-$(cat /proc/uptime) >> /tmp/boots; sleep 1000")
    first = pm.inspect("restarted", "{{.State.Pid}}")
    pm("restart", "-t", "0", "restarted", check=True)
    assert pm.inspect("restarted", "{{.State.Status}}") == "running"
    assert pm.inspect("restarted", "{{.State.Pid}}") != first


def test_wait(pm):
    run(pm, "-d", "--name", "waited", IMAGE, "sh", "-c", "sleep 0.5; exit 7", check=True)
    assert pm("wait", "waited", check=True).out.strip() == "7"
