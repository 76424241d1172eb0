# SPDX-License-Identifier: LGPL-2.1-or-later
"""dockerd drives the runtime (`--add-runtime`, through containerd's runc v2
shim) as docker's users type it, through cellrun and runc (see docker.py
for the set-up)."""
import os

import pytest

import celltest
from cli_cases import (detached, on_pty, run, sh, test_cap_drop_add,  # noqa: F401
                       test_cpus_and_pids_limit, test_env_workdir_hostname,
                       test_interactive_pty, test_kill, test_pause_unpause,
                       test_read_only_tmpfs_and_bind, test_user, test_wait)
from conftest import CGROUP_PARENT
from docker import DOCKER, DOCKERD, IMAGE, SYSTEM_DIRS, host_change_reason, make_engine

pytestmark = pytest.mark.skipif(not (os.access(DOCKERD, os.X_OK) and os.access(DOCKER, os.X_OK)),
                                reason=f"dockerd not unpacked at {DOCKERD} (scripts/install-deps)")


@pytest.fixture(scope="module")
def engine(runtime):
    reason = host_change_reason()
    if reason:
        pytest.skip(reason)
    dk, close, existed = make_engine(runtime, CGROUP_PARENT)
    yield dk
    close()
    for d, was in existed.items():
        assert was or not os.path.exists(d), f"{d} left behind"
    # the daemon and its containerd are gone and took nothing with it
    assert not dk.shims()
    assert not [m for m in celltest.host_mounts()
                if m["mountpoint"] == dk.dir or m["mountpoint"].startswith(dk.dir + "/")]
    assert not os.path.exists(dk.dir)


@pytest.fixture
def dk(engine, leak_check):
    leak_check.keep |= engine.daemon_pids()
    # the data root is a mount of dockerd's own (on itself) while it runs
    leak_check.watch(dirs=[engine.data_root + "/", engine.exec_root + "/"],
                     engine_cgroups=engine.own_cgroups())
    before = len(engine.runtime_calls())
    sockets = shim_sockets()
    yield engine
    engine.reset()
    assert engine.ids() == []
    celltest.wait_for(lambda: not engine.shims(), timeout=10, what="shims gone")
    assert shim_sockets() <= sockets, shim_sockets() - sockets
    assert engine.runtime_state() == []  # <root>/<namespace>/<id>: none left
    # the runtime under test was reached (not dockerd's built-in runc), as root
    calls = engine.runtime_calls()[before:]
    assert calls and all(c[0] == "0" for c in calls), calls


@pytest.fixture
def cli(dk):
    """The engine for the cases shared with the other CLI (cli_cases.py)."""
    return dk


def shim_sockets():
    try:
        return set(os.listdir(SYSTEM_DIRS[-1]))
    except FileNotFoundError:
        return set()


def test_run_exit_codes(dk):
    r = sh(dk, "echo hello; cat /proc/self/cgroup")
    lines = r.out.splitlines()
    assert lines[0] == "hello"
    # the container's cgroup: below dockerd's --cgroup-parent
    memory = [ln.split(":", 2)[2] for ln in lines[1:] if ln.split(":")[1] == "memory"]
    assert len(memory) == 1 and memory[0].startswith(dk.cgroup_parent + "/"), lines
    assert sh(dk, "exit 3", check=False).rc == 3


@pytest.mark.parametrize("argv0,rc", [("/no/such/command", 127), ("nosuchcommand", 127),
                                      ("/etc", 126)])
def test_missing_command(dk, argv0, rc):
    """The runtime refuses at create; docker's CLI reads its words: 127 for
    a command that is not there, 126 for one that cannot run."""
    r = run(dk, "--name", "missing", IMAGE, argv0)
    assert r.rc == rc, r
    assert "OCI runtime create failed" in r.err and f'"{argv0}"' in r.err, r.err
    # docker keeps the record of a container that never started
    assert dk.inspect("missing", "{{.State.Status}} {{.State.ExitCode}}") == f"created {rc}"
    celltest.wait_for(lambda: not dk.shims(), timeout=10, what="shim gone")
    dk("rm", "missing", check=True)


def test_detach_exec_logs_stop_rm(dk):
    r = run(dk, "-d", "--name", "web", IMAGE, "sh", "-c",
            "echo started; trap 'echo term; exit 0' TERM; while :; do sleep 0.1; done",
            check=True)
    cid = r.out.strip()
    assert len(cid) == 64
    celltest.wait_for(lambda: "started" in dk("logs", "web").out, what="log line")
    ex = dk("exec", "web", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '", check=True)
    assert ex.out.startswith("sh -c echo started")
    assert dk("exec", "web", "sh", "-c", "exit 5").rc == 5
    # docker 20.10 exits 126 for any exec that fails to start (with runc too)
    r = dk("exec", "web", "/no/such/command")
    assert r.rc == 126 and "stat /no/such/command: no such file or directory" in r.out + r.err, r
    dk("stop", "-t", "5", "web", check=True)
    assert dk.inspect("web", "{{.State.Status}} {{.State.ExitCode}}") == "exited 0"
    assert "term" in dk("logs", "web").out
    dk("rm", "web", check=True)
    assert dk("inspect", "web").rc != 0


def test_interactive_pty_as_user(dk):
    """The pty belongs to the process's user (runc chowns it to process.user)."""
    rc, text = on_pty(dk, "tty; stat -c owner=%u $(tty); read line; echo got:$line",
                      "--user", "1000:1000")
    assert rc == 0, text
    assert "owner=1000" in text and "got:typed" in text, text


@pytest.mark.cgroups
def test_memory_limit_oom_137(dk):
    r = run(dk, "--name", "oom", "--memory", "32m", "--memory-swap", "32m", IMAGE, "sh", "-c",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; head -c 200m /dev/zero | tail")
    assert r.rc == 137, r
    assert r.out.split()[0] == str(32 << 20)
    # the shim watches the cgroup's OOM events, whoever made the cgroup
    assert dk.inspect("oom", "{{.State.OOMKilled}} {{.State.ExitCode}}") == "true 137"


@pytest.mark.cgroups
def test_unset_resources_stay_default(dk):
    """docker sends 0 for what the user did not set (cpu shares, blkio
    weight); a runtime must leave those at the kernel's defaults."""
    r = sh(dk, "cat /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    assert r.out.split() == ["1024", "-1"], r.out


def host_cap_bounding():
    with open("/proc/self/status") as f:
        return celltest.cap_sets(f.read())["CapBnd"]


def test_init(dk):
    """--init: docker's tini, bound from the host, is pid 1."""
    r = sh(dk, "tr '\\0' ' ' < /proc/1/cmdline; echo; echo $$", "--init")
    lines = r.out.splitlines()
    assert lines[0].startswith("/sbin/docker-init -- sh -c"), r.out
    assert lines[1] != "1"  # the shell is tini's child


@pytest.fixture
def all_caps_or_cellrun(runtime):
    """Skips runc's row where the runtime lacks a capability (before the
    engine's per-test checks start)."""
    if not runtime.is_cell and not host_cap_bounding() >> 24 & 1:
        pytest.skip("runc 1.1.5 fails --privileged when the runtime lacks a capability "
                    "(no CAP_SYS_RESOURCE in this host's bounding set): unable to apply caps")


def test_privileged(all_caps_or_cellrun, dk):
    """--privileged asks for every capability docker knows, the host's
    devices and a writable /sys.  A capability the runtime lacks (this
    sandbox's bounding set has no CAP_SYS_RESOURCE) is skipped with a
    warning, as runtime-spec 1.1 asks; runc 1.1.5 fails on it instead."""
    bounding = host_cap_bounding()
    r = sh(dk, "grep -E '^Cap(Eff|Bnd)' /proc/self/status; ls /dev/loop-control;"
           " grep ' /sys ' /proc/mounts", "--privileged")
    lines = r.out.splitlines()
    docker_known = (1 << 38) - 1  # docker 20.10's list ends at CAP_AUDIT_READ (37)
    for line in lines[:2]:
        assert int(line.split()[1], 16) == bounding & docker_known, r.out
    assert lines[2] == "/dev/loop-control"  # a host device node
    assert lines[3].startswith("sysfs /sys sysfs rw,"), r.out


def test_device_shm_ulimit_sysctl(dk):
    r = sh(dk, "ls -l /dev/mynull; echo x > /dev/mynull && echo wrote; df -k /dev/shm | tail -1;"
           " ulimit -n; cat /proc/sys/net/ipv4/ip_forward",
           "--device", "/dev/null:/dev/mynull", "--shm-size", "8m",
           "--ulimit", "nofile=512:512", "--sysctl", "net.ipv4.ip_forward=1")
    lines = r.out.splitlines()
    assert lines[0].startswith("crw") and lines[0].split()[4:6] == ["1,", "3"], r.out
    assert lines[1] == "wrote"
    assert lines[2].split()[1] == "8192", r.out
    assert lines[3:] == ["512", "1"], r.out  # the sysctl in the container's own netns


def test_top(dk):
    detached(dk, "topped", "sleep 1000")
    assert len(dk.runtime_state()) == 1  # what the teardown checks gone, seen here
    r = dk("top", "topped", check=True)
    assert "sleep 1000" in r.out, r.out


@pytest.mark.cgroups
def test_stats_no_stream(dk):
    detached(dk, "statted")
    r = dk("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}", "statted",
           check=True)
    name, mem, pids = r.out.split()[0], r.out.split()[1], r.out.split()[-1]
    assert name == "statted"
    assert mem[0].isdigit() and not mem.startswith("0B"), r.out
    assert int(pids) >= 1, r.out


@pytest.mark.cgroups
def test_update(dk):
    detached(dk, "updated")
    dk("update", "--cpus", "0.25", "--memory", "64m", "--memory-swap", "64m", "updated",
       check=True)
    r = dk("exec", "updated", "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
           "/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/memory/memory.limit_in_bytes",
           check=True)
    quota, period, mem = r.out.split()
    assert int(quota) * 4 == int(period)
    assert mem == str(64 << 20)
    # memory alone: docker sends cpu quota and period 0 ("unset") with it
    dk("update", "--memory", "48m", "--memory-swap", "48m", "updated", check=True)
    r = dk("exec", "updated", "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
           "/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/memory/memory.limit_in_bytes",
           check=True)
    assert r.out.split() == [quota, period, str(48 << 20)], r.out


def test_restart(dk):
    detached(dk, "restarted", "echo boot >> /tmp/boots; sleep 1000")
    first = dk.inspect("restarted", "{{.State.Pid}}")
    dk("restart", "-t", "0", "restarted", check=True)
    assert dk.inspect("restarted", "{{.State.Status}}") == "running"
    assert dk.inspect("restarted", "{{.State.Pid}}") != first
    # the same container (its writable layer kept): booted twice
    r = dk("exec", "restarted", "cat", "/tmp/boots", check=True)
    assert r.out == "boot\nboot\n"

