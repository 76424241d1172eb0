# SPDX-License-Identifier: LGPL-2.1-or-later
"""A Debian system container (issue 4): made with debootstrap, systemd boots
as its init, `cell stop` powers it off cleanly, and a clone boots too.

The first run downloads bookworm from Debian's mirror into a cache that
outlives the test's store (CELL_CACHE_DIR, default /var/cache/cell), so
later runs and CI on the same machine create the container in seconds.
Skipped when debootstrap is missing, or when the cache is cold and the
mirror cannot be reached (one try: a 'no' from the network is final)."""
import glob
import json
import os
import subprocess
import time
import urllib.request

import pytest

pytestmark = pytest.mark.slow

CACHE = os.environ.get("CELL_CACHE_DIR") or "/var/cache/cell"
DEBOOTSTRAP = "/usr/sbin/debootstrap"
MIRROR = "http://deb.debian.org/debian/dists/bookworm/Release"
BOOT_TIMEOUT = 120
STOP_TIMEOUT = 60
# systemd-shutdown's reboot(2) in a pid namespace kills the init with SIGINT
# (halt, power-off); without CAP_SYS_BOOT it exits 0.  A SIGKILL is not clean.
CLEAN_EXITS = ("killed by signal 2", "exited 0")


def cache_warm():
    return bool(glob.glob(os.path.join(CACHE, "debian-bookworm-*.sha256")))


def mirror_error():
    """None when Debian's mirror answers, else why not (asked once)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(MIRROR, method="HEAD"), timeout=15):
            return None
    except OSError as e:
        return f"{MIRROR}: {e}"


def info(cell, name):
    return json.loads(cell("info", "--json", name, check=True).stdout)


def console(cell, name, n=60):
    return cell("logs", name, "-n", str(n)).stdout


def create_debian(cell, name, *extra):
    """`cell create --template debian`, with the persistent cache; seconds taken."""
    t0 = time.time()
    r = cell("create", name, "--template", "debian", *extra, timeout=1800,
             env=dict(cell.env, CELL_CACHE_DIR=CACHE), outside=True)
    took = time.time() - t0
    if r.returncode != 0 and cache_warm():
        why = mirror_error()   # a stale cache needs the mirror too
        if why:
            cell.names.discard(name)
            pytest.skip(f"the debian cache is stale and the mirror is unreachable: {why}")
    assert r.returncode == 0, f"create {name}: {r.stderr}"
    return took


def wait_system_running(cell, name, timeout=BOOT_TIMEOUT):
    """`systemctl is-system-running --wait` in the container, retried until
    systemd's private bus exists; returns running or degraded."""
    end = time.time() + timeout
    while True:
        left = end - time.time()
        assert left > 0, f"{name}: systemd did not finish booting in {timeout} s\n{console(cell, name)}"
        try:
            r = cell("exec", name, "--", "systemctl", "is-system-running", "--wait",
                     timeout=left)
        except subprocess.TimeoutExpired:
            continue
        state = r.stdout.strip()
        if state in ("running", "degraded"):
            return state
        assert state in ("", "offline", "initializing", "starting"), \
            f"{name}: is-system-running says {state!r} {r.stderr}\n{console(cell, name)}"
        time.sleep(0.2)


def boot(cell, name):
    """Start, wait for systemd; print what it reports; seconds to running."""
    t0 = time.time()
    cell("start", name, check=True)
    state = wait_system_running(cell, name)
    took = time.time() - t0
    failed = cell("exec", name, "--", "systemctl", "list-units", "--state=failed",
                  "--no-legend", "--plain", check=True).stdout.strip()
    print(f"{name}: {state} after {took:.1f} s; failed units: {failed or 'none'}")
    return took


def assert_systemd_is_init(cell, name):
    r = cell("exec", name, "--", "sh", "-c",
             "cat /proc/1/comm; readlink /proc/1/exe; hostname", check=True)
    comm, exe, hostname = r.stdout.split()
    assert comm == "systemd" and exe.endswith("/systemd"), r.stdout
    assert hostname == name, f"hostname {hostname!r}: /etc/hostname does not name {name}"


def stop_cleanly(cell, name):
    """`cell stop` powers systemd off within the timeout: no SIGKILL."""
    t0 = time.time()
    r = cell("stop", name, "--timeout", str(STOP_TIMEOUT), timeout=STOP_TIMEOUT + 30, check=True)
    took = time.time() - t0
    assert took < STOP_TIMEOUT and "did not stop" not in r.stderr, r.stderr
    st = info(cell, name)
    assert st["state"] == "stopped", st
    assert st["last_exit"] in CLEAN_EXITS, f"{st['last_exit']}\n{console(cell, name)}"
    tail = console(cell, name, 10)
    assert "Halting system" in tail or "Powering off" in tail, tail
    assert not [d for d in cell.cgroup_dirs() if os.path.exists(os.path.join(d, name))], \
        "cgroups left behind (the container's, or systemd's below it)"
    print(f"{name}: stopped in {took:.2f} s ({st['last_exit']})")
    return took


@pytest.fixture(scope="module")
def debian(cell):
    """One Debian container for the module (its name); skips when it cannot be made."""
    if not os.access(DEBOOTSTRAP, os.X_OK):
        pytest.skip(f"{DEBOOTSTRAP} not installed (apt-get install debootstrap)")
    if not cache_warm():
        why = mirror_error()
        if why:
            pytest.skip(f"no debian cache in {CACHE} and the mirror is unreachable: {why}")
    name, warm = cell.name("deb"), cache_warm()
    took = create_debian(cell, name)
    print(f"{name}: created in {took:.1f} s ({'from the cache' if warm else 'downloaded'})")
    return name


def test_systemd_boots_and_stops_cleanly(cell, debian):
    st = info(cell, debian)
    assert st["kind"] == "system" and st["state"] == "stopped"
    assert cell("config", debian, "stop_signal", check=True).stdout.strip() == "SIGRTMIN+3"
    boot(cell, debian)
    assert_systemd_is_init(cell, debian)
    # systemd sees a container and its own writable cgroup tree
    r = cell("exec", debian, "--", "systemd-detect-virt", "--container")
    assert r.stdout.strip() != "none", r.stdout
    r = cell("exec", debian, "--", "cat", "/proc/1/cgroup", check=True)
    assert "name=systemd:/init.scope" in r.stdout, r.stdout
    stop_cleanly(cell, debian)


def test_debian_network_by_cell_and_by_its_own_dhcp(cell, debian):
    """--net bridge (the default): eth0 is up with the leased address before
    systemd starts, no unit fails (LXC's Debian fails networking.service), glibc
    resolves the other containers by name through the network's DNS, and the
    container's own DHCP client (systemd-networkd) gets the same address from it."""
    peer = cell.name("debpeer")
    cell("create", peer, check=True)
    cell("start", peer, check=True)
    ip = info(cell, debian)["ip"]
    boot(cell, debian)
    try:
        assert wait_system_running(cell, debian) == "running", \
            cell("exec", debian, "--", "systemctl", "--failed").stdout
        r = cell("exec", debian, "--", "getent", "hosts", peer, check=True)
        assert r.stdout.split()[0] == info(cell, peer)["ip"], r.stdout
        r = cell("exec", debian, "--", "sh", "-c",
                 "mkdir -p /etc/systemd/network && printf '[Match]\\nName=eth0\\n"
                 "[Network]\\nDHCP=ipv4\\n' > /etc/systemd/network/50-eth0.network && "
                 "systemctl restart systemd-networkd", check=True)
        # dnsmasq handed out the lease (its lease file), networkd took it
        leases = os.path.join(cell.env["CELL_NET_RUNTIME_DIR"], "dns", "cell0", "leases")
        end = time.time() + 30
        while time.time() < end and not (os.path.exists(leases) and f" {ip} " in open(leases).read()):
            time.sleep(0.5)
        assert f" {ip} " in open(leases).read(), open(leases).read()
        # (minbase has no ip(8): networkd's own record of its lease)
        r = cell("exec", debian, "--", "sh", "-c", "cat /run/systemd/netif/leases/*", check=True)
        assert f"ADDRESS={ip}\n" in r.stdout, r.stdout
        assert wait_system_running(cell, debian) == "running"
    finally:
        stop_cleanly(cell, debian)
        cell("destroy", "--force", peer, check=True)
        cell.names.discard(peer)


def test_clone_boots_with_its_own_identity(cell, debian):
    if info(cell, debian)["state"] != "stopped":
        cell("stop", debian, "--timeout", str(STOP_TIMEOUT), timeout=STOP_TIMEOUT + 30)
    clone = cell.name("debclone")
    t0 = time.time()
    cell("clone", debian, clone, timeout=600, check=True)
    print(f"{clone}: cloned in {time.time() - t0:.1f} s")
    src_id = open(os.path.join(cell.store, "containers", debian, "rootfs/etc/machine-id")).read()
    boot(cell, clone)
    assert_systemd_is_init(cell, clone)
    clone_id = cell("exec", clone, "--", "cat", "/etc/machine-id", check=True).stdout
    assert clone_id.strip() and clone_id != src_id, "a clone gets a machine-id of its own"
    stop_cleanly(cell, clone)
    for n in (clone, debian):
        cell("destroy", n, check=True)
        assert not os.path.exists(os.path.join(cell.store, "containers", n))
        cell.names.discard(n)


def test_overlay_debian_stops_as_systemd(cell, debian):
    """overlay's root is mounted only while it runs: the stop signal is still
    found at create, so systemd powers off instead of re-executing on SIGTERM."""
    n = cell.name("debovl")
    create_debian(cell, n, "--storage", "overlay")
    assert cell("config", n, "stop_signal", check=True).stdout.strip() == "SIGRTMIN+3"
    boot(cell, n)
    assert_systemd_is_init(cell, n)
    stop_cleanly(cell, n)
    cell("destroy", n, check=True)
    cell.names.discard(n)


def test_unprivileged_debian_boots(cell, debian):
    """--unprivileged: systemd runs as an unprivileged host uid and still boots to
    running, because its cgroup is delegated to the user namespace's root (it
    must create init.scope and the units' groups below it)."""
    n = cell.name("debunpriv")
    create_debian(cell, n, "--storage", "overlay", "--unprivileged")
    st = info(cell, n)
    assert st["unprivileged"], st
    boot(cell, n)
    assert_systemd_is_init(cell, n)
    host_uid = st["idmap"]["host"]
    pid = info(cell, n)["pid"]
    assert os.stat(f"/proc/{pid}").st_uid == host_uid, "systemd must run as the mapped uid"
    r = cell("exec", n, "--", "cat", "/proc/1/cgroup", check=True)
    assert "name=systemd:/init.scope" in r.stdout, r.stdout
    # the delegation: the container's own cgroup belongs to its root, its parent does not
    dirs = [os.path.join(d, n) for d in cell.cgroup_dirs() if os.path.isdir(os.path.join(d, n))]
    assert dirs, "no cgroup of the container found"
    for d in dirs:
        assert os.stat(d).st_uid == host_uid, d
        assert os.stat(os.path.dirname(d)).st_uid == 0, os.path.dirname(d)
    stop_cleanly(cell, n)
    cell("destroy", n, check=True)
    cell.names.discard(n)
