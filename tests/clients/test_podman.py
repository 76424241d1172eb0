# SPDX-License-Identifier: LGPL-2.1-or-later
"""podman drives the runtime as its users type it: as root and rootless,
each through cellrun and runc (see podman.py for the set-up)."""
import os

import pytest

import celltest
from cli_cases import (detached, run, sh, test_cap_drop_add,  # noqa: F401
                       test_cpus_and_pids_limit, test_env_workdir_hostname,
                       test_interactive_pty, test_kill, test_pause_unpause,
                       test_read_only_tmpfs_and_bind, test_user, test_wait)
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


@pytest.fixture
def cli(pm):
    """The engine for the cases shared with the other CLI (cli_cases.py)."""
    return pm


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


@pytest.mark.cgroups
def test_memory_limit_oom_137(pm):
    r = run(pm, "--name", "oom", "--memory", "32m", "--memory-swap", "32m", IMAGE, "sh", "-c",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; head -c 200m /dev/zero | tail")
    assert r.rc == 137, r
    assert r.out.split()[0] == str(32 << 20)
    # (State.OOMKilled stays false here with runc as with cellrun: conmon 2.1
    # watches memory.oom_control only when it runs the container's cgroup)


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


def test_restart(pm):
    detached(pm, "restarted", "echo $$-$(cat /proc/uptime) >> /tmp/boots; sleep 1000")
    first = pm.inspect("restarted", "{{.State.Pid}}")
    pm("restart", "-t", "0", "restarted", check=True)
    assert pm.inspect("restarted", "{{.State.Status}}") == "running"
    assert pm.inspect("restarted", "{{.State.Pid}}") != first

