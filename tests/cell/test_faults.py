# SPDX-License-Identifier: LGPL-2.1-or-later
"""`cell` under faults: kill -9 of its supervisor (cell-monitor) and of its commands at
random moments, a store that is nearly full, limits too small to run.  After each,
`cell destroy --force NAME` must leave nothing (process, cgroup, mount, loop device,
runtime dir, store dir) and the same name can be made again.

FAULT_TRIALS (default 30) is the number of kill trials of this file in all, shared by
its scenarios; FAULT_SEED makes a run repeatable (the seed is printed on failure)."""
import json
import os
import random
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import CELL

TRIALS = int(os.environ.get("FAULT_TRIALS", "30"))
SEED = int(os.environ.get("FAULT_SEED", str(random.randrange(1 << 30))))
SCENARIOS = ["monitor", "start", "create", "stop", "destroy"]
PER_SCENARIO = max(2, TRIALS // len(SCENARIOS))


def wait(cond, timeout=20, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def alive(pid):
    """Running, not a zombie (a killed supervisor may stay unreaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except (FileNotFoundError, ProcessLookupError):
        return False


def our_processes(cell):
    """Pids of processes started with this store's environment (cell commands, the
    supervisor, cell-monitor; a container's processes have their own environment)."""
    key = f"CELL_ROOT={cell.store}".encode()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if key in env and alive(int(d)):
            pids.append(int(d))
    return pids


def kill_ours(cell):
    for pid in our_processes(cell):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def held_elsewhere(dev):
    """The loop device is mounted in a mount namespace not ours: one that another
    process (another suite's `unshare -m` on this machine) made while the container
    ran holds a copy of the image's mount, which only it can let go."""
    own = os.readlink("/proc/self/ns/mnt")
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and os.readlink(f"/proc/{d}/ns/mnt") != own:
                with open(f"/proc/{d}/mountinfo") as f:
                    if any(f" /dev/{dev} " in ln for ln in f):
                        print(f"loop device {dev} is held by a mount in process {d}'s namespace")
                        return True
        except OSError:
            pass
    return False


def leftovers(cell, name, store=None):
    """What is left of name anywhere on the host: [] when nothing."""
    store = store or cell.store
    run = cell.env["CELL_RUNTIME_DIR"]
    cdir = os.path.join(store, "containers", name)
    left = [p for p in (cdir, cdir + ".lock", os.path.join(run, name),
                        os.path.join(run, "state", name)) if os.path.lexists(p)]
    left += [d for d in (f"/sys/fs/cgroup/{h}/{cell.cgparent}/{name}"
                         for h in os.listdir("/sys/fs/cgroup")) if os.path.isdir(d)]
    with open("/proc/self/mountinfo") as f:
        left += ["mount " + ln.split()[4] for ln in f
                 if ln.split()[4] == cdir or ln.split()[4].startswith(cdir + "/")]
    for dev in os.listdir("/sys/block"):
        try:
            with open(f"/sys/block/{dev}/loop/backing_file") as f:
                if f.read().startswith(cdir + "/") and not held_elsewhere(dev):
                    left.append(f"loop device {dev}")
        except OSError:
            pass
    # its network: a lease (destroy releases it), a record of a link (its veth is
    # gone with its namespace)
    real = os.path.realpath(store)
    try:
        with open(os.path.join(cell.env["CELL_NET_DIR"], "networks.json")) as f:
            left += [f"lease {e.get('ipv4')}" for e in json.load(f)["leases"]
                     if e["store"] == real and e["name"] == name]
    except FileNotFoundError:
        pass
    links = os.path.join(cell.env["CELL_NET_RUNTIME_DIR"], "links")
    for rec in os.listdir(links) if os.path.isdir(links) else []:
        with open(os.path.join(links, rec)) as f:
            r = json.load(f)
        if r["store"] == real and r["name"] == name:
            left.append(f"link record {rec}")
    # an orphan of a killed command (mkfs.ext4 of `cell create`) may take a moment
    end = time.time() + 5
    while our_processes(cell) and time.time() < end:
        time.sleep(0.05)
    left += [f"process {p}" for p in our_processes(cell)]
    return left


def supervisor_pid(cell, name):
    with open(os.path.join(cell.env["CELL_RUNTIME_DIR"], name, "supervisor.pid")) as f:
        return int(f.read().split()[0])


def info(cell, name):
    return json.loads(cell("info", "--json", name, check=True).stdout)


def kill_during(cell, args, delay, also_supervisor=False):
    """Run `cell ARGS`, kill -9 it after delay seconds (and every other process of
    ours with it: the supervisor at whatever it is doing)."""
    p = subprocess.Popen([*cell.cmd, *args], env=cell.env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    p.kill()
    if also_supervisor:
        kill_ours(cell)
    p.wait()


def assert_gone_and_reusable(cell, name, what):
    r = cell("destroy", "--force", name)
    assert r.returncode == 0, f"{what}: destroy --force: {r.stderr}"
    assert leftovers(cell, name) == [], f"{what}: left behind"
    cell("create", name, check=True)
    cell("destroy", name, check=True)
    assert leftovers(cell, name) == [], f"{what}: left behind after a re-create"


def test_killed_monitor_is_noticed_and_cleaned_up(cell):
    """kill -9 of cell-monitor: ls says so, destroy --force kills the container's
    cgroup and removes everything, and the name is free again."""
    n = cell.name("mon")
    cell("create", n, check=True)
    cell("start", n, check=True)
    init, sup = info(cell, n)["pid"], supervisor_pid(cell, n)
    wait(lambda: open(f"/proc/{sup}/comm").read().strip() == "cell-monitor",
         what="the supervisor to become cell-monitor")
    os.kill(sup, signal.SIGKILL)
    wait(lambda: not alive(sup), what="cell-monitor to die")
    st = info(cell, n)
    assert st["state"] == "running (supervisor lost)" and st["supervisor"]["lost"], st
    assert st["pid"] == init and alive(init)
    r = cell("ls")
    assert "running (supervisor lost)" in r.stdout and "cell stop" in r.stderr, r
    r = cell("start", n)
    assert r.returncode != 0 and "without its supervisor" in r.stderr, r.stderr
    r = cell("destroy", "--force", n)
    assert r.returncode == 0 and "supervisor is gone" in r.stderr, r.stderr
    assert not alive(init), "the init survived destroy --force"
    assert leftovers(cell, n) == []
    cell("create", n, check=True)
    cell("start", n, check=True)
    assert info(cell, n)["state"] == "running"
    cell("destroy", "--force", n, check=True)
    assert leftovers(cell, n) == []
    cell.names.discard(n)


def test_stop_after_a_killed_monitor_then_start_again(cell):
    n = cell.name("monstop")
    cell("create", n, check=True)
    cell("start", n, check=True)
    init, sup = info(cell, n)["pid"], supervisor_pid(cell, n)
    os.kill(sup, signal.SIGKILL)
    wait(lambda: not alive(sup), what="the supervisor to die")
    r = cell("stop", n, "--timeout", "10")
    assert r.returncode == 0 and "supervisor is gone" in r.stderr, r.stderr
    assert not alive(init)
    st = info(cell, n)
    assert st["state"] == "stopped" and "supervisor was lost" in st["last_exit"], st
    run = cell.env["CELL_RUNTIME_DIR"]
    assert not os.path.exists(os.path.join(run, n)) and not os.path.exists(
        os.path.join(run, "state", n))
    cell("start", n, check=True)
    r = cell("exec", n, "--", "cat", "/proc/1/cmdline", check=True)
    assert "init" in r.stdout
    # kill (SIGKILL, the default) of a container whose supervisor died cleans up too
    sup = supervisor_pid(cell, n)
    os.kill(sup, signal.SIGKILL)
    wait(lambda: not alive(sup), what="the supervisor to die")
    r = cell("kill", n)
    assert r.returncode == 0 and "supervisor is gone" in r.stderr, r.stderr
    assert info(cell, n)["state"] == "stopped"
    cell("destroy", n, check=True)
    assert leftovers(cell, n) == []
    cell.names.discard(n)


def trial(cell, scenario, name, rnd):
    storage = rnd.choice(["dir", "image:16M"])
    both = rnd.random() < 0.5
    if scenario == "create":
        kill_during(cell, ["create", name, "--storage", storage], rnd.uniform(0, 0.05), both)
        return f"create --storage {storage}"
    cell("create", name, "--storage", storage, check=True)
    if scenario == "start":
        delay = rnd.uniform(0, 0.08)
        kill_during(cell, ["start", name], delay, both)
        return f"start {delay:.3f}s (supervisor too: {both})"
    cell("start", name, check=True)
    if scenario == "monitor":
        wait(lambda: alive(supervisor_pid(cell, name)), what="the supervisor")
        time.sleep(rnd.uniform(0, 0.1))
        os.kill(supervisor_pid(cell, name), signal.SIGKILL)
        return "cell-monitor"
    delay = rnd.uniform(0, 2.3)
    args = ["stop", name] if scenario == "stop" else ["destroy", "--force", name]
    kill_during(cell, args, delay, both)
    return f"{scenario} {delay:.3f}s (supervisor too: {both})"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_kill_9_at_random_moments_leaves_nothing(cell, scenario):
    rnd = random.Random(f"{SEED}-{scenario}")
    n = cell.name(f"k9{scenario}")
    for i in range(PER_SCENARIO):
        what = trial(cell, scenario, n, rnd)
        assert_gone_and_reusable(cell, n, f"seed {SEED} trial {i}: kill -9 of {what}")
    cell.names.discard(n)


@pytest.fixture
def small_store(cell):
    """A 40 MiB tmpfs as the store (removed whatever happens)."""
    mnt = tempfile.mkdtemp(prefix="celltest-small-", dir="/var/tmp")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40M", "celltest-small", mnt], check=True)
    env = dict(cell.env, CELL_ROOT=os.path.join(mnt, "store"))
    try:
        yield env
    finally:
        for n in ("fill1", "fill2", "fill3"):
            cell("destroy", "--force", n, env=env)
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        os.rmdir(mnt)


def test_image_storage_reserves_its_space(cell, small_store):
    env, store = small_store, small_store["CELL_ROOT"]
    r = cell("create", "fill1", "--storage", "image:64M", env=env)
    assert r.returncode != 0, "a 64 MiB image on a 40 MiB store was made"
    assert "free" in r.stderr and "needs 64 MiB" in r.stderr, r.stderr
    assert leftovers(cell, "fill1", store) == []
    cell("create", "fill2", "--storage", "image:24M", env=env, check=True)
    img = os.path.join(store, "containers", "fill2", "storage", "disk.img")
    assert os.stat(img).st_blocks * 512 >= 24 << 20, "the image is not reserved"
    # what the first image took is no longer free for a second
    r = cell("create", "fill3", "--storage", "image:16M", env=env)
    assert r.returncode != 0 and "needs 16 MiB" in r.stderr, r.stderr
    # the container can fill its image without the host store failing under it
    cell("start", "fill2", env=env, check=True)
    r = cell("exec", "fill2", "--", "sh", "-c",
             "dd if=/dev/zero of=/fill bs=1M count=14 && sync && echo rc=$?", env=env)
    assert "rc=0" in r.stdout, r.stdout + r.stderr
    cell("destroy", "--force", "fill2", env=env, check=True)
    assert leftovers(cell, "fill2", store) == []


@pytest.mark.parametrize("args,needle", [
    (["-m", "1"], "memory \"1\" (1 bytes) is below the minimum of 6 MiB"),
    (["-m", "5M"], "below the minimum of 6 MiB"),
    (["--cpus", "0.001"], "below the minimum of 0.01"),
    (["--pids", "0"], "at least 1"),
])
def test_limits_below_the_minimum_are_refused(cell, args, needle):
    r = cell("create", "lim-bad", *args)
    assert r.returncode != 0 and needle in r.stderr, r.stderr
    assert leftovers(cell, "lim-bad") == []
    n = cell.name("limcfg")
    cell("create", n, check=True)
    key = {"-m": "memory", "--cpus": "cpus", "--pids": "pids"}[args[0]]
    r = cell("config", n, key, args[1])
    assert r.returncode != 0 and needle in r.stderr, r.stderr
    cell("destroy", n, check=True)
    cell.names.discard(n)


def test_the_minimum_memory_runs(cell):
    n = cell.name("limmin")
    cell("create", n, "-m", "6M", "--cpus", "0.01", check=True)
    cell("start", n, check=True)
    r = cell("exec", n, "--", "sh", "-c", "echo alive", check=True)
    assert r.stdout.strip() == "alive"
    cell("destroy", "--force", n, check=True)
    cell.names.discard(n)


@pytest.mark.parametrize("how", ["memory-1-in-cell.json", "missing-init"])
def test_failed_start_leaves_nothing(cell, how):
    n = cell.name("badstart")
    if how == "missing-init":
        cell("create", n, "--init", "/nonexistent", check=True)
    else:   # a limit written before limits were checked
        cell("create", n, check=True)
        path = os.path.join(cell.store, "containers", n, "cell.json")
        with open(path) as f:
            s = json.load(f)
        s["memory"] = 1
        with open(path, "w") as f:
            json.dump(s, f)
    r = cell("start", n)
    assert r.returncode != 0
    run = cell.env["CELL_RUNTIME_DIR"]
    assert not os.path.exists(os.path.join(run, n)), "an empty runtime dir stays"
    assert not os.path.exists(os.path.join(run, "state", n))
    assert not [h for h in os.listdir("/sys/fs/cgroup")
                if os.path.isdir(f"/sys/fs/cgroup/{h}/{cell.cgparent}/{n}")], "a cgroup stays"
    cell("destroy", n, check=True)
    assert leftovers(cell, n) == []
    cell.names.discard(n)
