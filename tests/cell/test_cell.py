# SPDX-License-Identifier: LGPL-2.1-or-later
"""`cell` as an administrator types it: system and app containers."""
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import CELL


def wait(cond, timeout=20, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def state(cell, name):
    r = cell("info", "--json", name, check=True)
    return json.loads(r.stdout)


def test_busybox_system_container_lifecycle(cell):
    n = cell.name("bb")
    cell("create", n, "--template", "busybox", "-m", "64M", "--pids", "64", check=True)
    assert state(cell, n)["state"] == "stopped"
    cell("start", n, check=True)
    st = state(cell, n)
    assert st["state"] == "running" and st["pid"] > 0
    ls = json.loads(cell("ls", "--json", check=True).stdout)
    assert any(e["name"] == n and e["state"] == "running" for e in ls)
    # exec joins the container: its own pid 1 (busybox init) and hostname
    r = cell("exec", n, "--", "sh", "-c", "cat /proc/1/cmdline; echo; hostname", check=True)
    lines = r.stdout.split("\n")
    assert lines[0].startswith("init") or "init" in lines[0], r.stdout
    assert lines[1] == n
    t0 = time.time()
    cell("stop", n, "--timeout", "20", check=True)
    assert time.time() - t0 < 20
    assert state(cell, n)["state"] == "stopped"
    cell("destroy", n, check=True)
    assert not os.path.exists(os.path.join(cell.store, "containers", n))
    cell.names.discard(n)


def test_limits_reach_the_cgroup(cell):
    n = cell.name("lim")
    cell("create", n, "-m", "48M", "--pids", "40", check=True)
    cell("start", n, check=True)
    pid = state(cell, n)["pid"]
    cg = {ln.split(":")[1]: ln.split(":")[2] for ln in open(f"/proc/{pid}/cgroup").read().split("\n") if ln}
    with open(f"/sys/fs/cgroup/memory{cg['memory']}/memory.limit_in_bytes") as f:
        assert int(f.read()) == 48 << 20
    with open(f"/sys/fs/cgroup/pids{cg['pids']}/pids.max") as f:
        assert f.read().strip() == "40"
    cell("stop", n, check=True)


def test_run_rm_app_container(cell):
    r = cell("run", "--rm", "busybox", "--", "sh", "-c", "echo hello from $(hostname); exit 7")
    assert r.returncode == 7, r
    assert r.stdout.strip().startswith("hello from")
    names = cell("ls", "--json", check=True).stdout
    assert "run-" not in names


def test_exec_user_env_workdir(cell):
    n = cell.name("ex")
    cell("create", n, check=True)
    cell("start", n, check=True)
    r = cell("exec", n, "-u", "1000", "-w", "/tmp", "-e", "X=42", "--", "sh", "-c",
             "id -u; pwd; echo $X", check=True)
    assert r.stdout.split() == ["1000", "/tmp", "42"]
    cell("stop", n, check=True)


def test_config_get_set(cell):
    n = cell.name("cfg")
    cell("create", n, check=True)
    cell("config", n, "memory", "32M", check=True)
    assert cell("config", n, "memory", check=True).stdout.strip() == str(32 << 20)
    cell("config", n, "env", "A=1,B=2", check=True)
    assert cell("config", n, "env", check=True).stdout.strip() == "A=1,B=2"
    r = cell("config", n, "nosuchkey", "1")
    assert r.returncode != 0 and "nosuchkey" in r.stderr
    r = cell("config", n, "memory", "lots")
    assert r.returncode != 0 and "memory" in r.stderr
    cell("start", n, check=True)
    assert cell("exec", n, "--", "sh", "-c", "echo $A$B", check=True).stdout.strip() == "12"
    cell("stop", n, check=True)


@pytest.mark.parametrize("storage", ["dir", "overlay"])
def test_config_hostname_rewrites_etc_hostname(cell, storage):
    """A systemd init names the machine from /etc/hostname, over the runtime's:
    `config hostname` rewrites it, stopped (the root mounted for the while) or running."""
    n = cell.name("hn")
    cell("create", n, "--template", "busybox", "--storage", storage, check=True)
    cell("config", n, "hostname", "first", check=True)
    cell("start", n, check=True)
    r = cell("exec", n, "--", "sh", "-c", "cat /etc/hostname; hostname", check=True)
    assert r.stdout.split() == ["first", "first"], r.stdout
    cell("config", n, "hostname", "second", check=True)   # running: the file now, the UTS name at restart
    r = cell("exec", n, "--", "cat", "/etc/hostname", check=True)
    assert r.stdout.strip() == "second", r.stdout
    cell("stop", n, check=True)
    assert not os.path.ismount(os.path.join(cell.store, "containers", n, "rootfs"))
    cell("destroy", n, check=True)
    cell.names.discard(n)


def test_logs_hold_the_console(cell):
    n = cell.name("log")
    cell("create", n, check=True)
    cell("start", n, check=True)
    cell("exec", n, "--", "sh", "-c", "echo marker-$((6*7)) > /dev/console", check=True)
    wait(lambda: "marker-42" in cell("logs", n).stdout, what="log line")
    assert len(cell("logs", n, "-n", "1").stdout.strip().split("\n")) == 1
    cell("stop", n, check=True)


def test_unprivileged_container(cell):
    n = cell.name("unpriv")
    cell("create", n, "--unprivileged", check=True)
    info = state(cell, n)
    assert info["unprivileged"] and info["idmap"]["size"] == 65536
    cell("start", n, check=True)
    r = cell("exec", n, "--", "cat", "/proc/self/uid_map", check=True)
    inside, host, size = r.stdout.split()
    assert (inside, host, size) == ("0", str(info["idmap"]["host"]), "65536")
    pid = state(cell, n)["pid"]
    with open(f"/proc/{pid}/status") as f:
        uid = [ln for ln in f if ln.startswith("Uid:")][0].split()[1]
    assert int(uid) == info["idmap"]["host"], "container root must be an unprivileged host uid"
    cell("stop", n, check=True)


def test_clone_snapshot_rollback(cell):
    n, c = cell.name("src"), cell.name("clone")
    cell("create", n, check=True)
    rootfs = os.path.join(cell.store, "containers", n, "rootfs")
    with open(os.path.join(rootfs, "etc/motd"), "w") as f:
        f.write("v1\n")
    cell("clone", n, c, check=True)
    assert open(os.path.join(cell.store, "containers", c, "rootfs/etc/motd")).read() == "v1\n"
    snap = cell("snapshot", n, "first", check=True).stdout.strip()
    assert snap == "first"
    with open(os.path.join(rootfs, "etc/motd"), "w") as f:
        f.write("v2\n")
    assert "first" in cell("snapshots", n, check=True).stdout
    cell("rollback", n, "first", check=True)
    assert open(os.path.join(rootfs, "etc/motd")).read() == "v1\n"


def test_overlay_clone_is_copy_on_write(cell):
    n, c = cell.name("ovl"), cell.name("ovlclone")
    cell("create", n, "--storage", "overlay", check=True)
    cell("start", n, check=True)
    cell("exec", n, "--", "sh", "-c", "echo changed > /etc/motd", check=True)
    cell("stop", n, check=True)
    cell("clone", n, c, check=True)
    cell("start", c, check=True)
    assert cell("exec", c, "--", "cat", "/etc/motd", check=True).stdout.strip() == "changed"
    cell("stop", c, check=True)


def test_image_quota(cell):
    n = cell.name("quota")
    cell("create", n, "--storage", "image:64M", check=True)
    cell("start", n, check=True)
    r = cell("exec", n, "--", "sh", "-c",
             "dd if=/dev/zero of=/fill bs=1M count=200 2>&1; echo rc=$?", timeout=120)
    assert "No space left on device" in r.stdout and "rc=1" in r.stdout, r.stdout
    img = os.path.join(cell.store, "containers", n, "storage")
    used = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(img) for f in fs)
    assert used <= 64 << 20
    cell("stop", n, check=True)


@pytest.mark.parametrize("case,args,needle", [
    ("invalid-name", ["create", "bad/name"], "invalid name"),
    ("missing-template", ["create", "nt1", "--template", "nosuch"], "unknown template"),
    ("bad-storage", ["create", "nt2", "--storage", "floppy"], "floppy"),
    ("bad-mount", ["create", "nt3", "--mount", "relative:/x"], "mount"),
])
def test_bad_input(cell, case, args, needle):
    r = cell(*args)
    assert r.returncode != 0
    assert needle in r.stderr, r.stderr
    assert len(r.stderr.strip().split("\n")) == 1, r.stderr
    name = args[1]
    assert not os.path.exists(os.path.join(cell.store, "containers", name))


def test_existing_name_and_corrupt_image(cell, tmp_path):
    n = cell.name("dup")
    cell("create", n, check=True)
    r = cell("create", n)
    assert r.returncode != 0 and "exists" in r.stderr
    bad = tmp_path / "corrupt.tar"
    bad.write_bytes(b"this is not a tar archive" * 100)
    r = cell("create", "corrupt1", "--template", f"oci:{bad}")
    assert r.returncode != 0 and "corrupt.tar" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(cell.store, "containers", "corrupt1"))


def test_systemd_unit_notify(cell, tmp_path):
    n = cell.name("unit")
    cell("create", n, check=True)
    unit = cell("systemd-unit", n, check=True).stdout
    assert "Type=notify" in unit
    path = tmp_path / f"cell-{n}.service"
    path.write_text(unit)
    v = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert v.returncode == 0, v.stderr
    # act as systemd: a notify socket, ExecStart with its environment
    exec_start = [ln.split("=", 1)[1] for ln in unit.split("\n") if ln.startswith("ExecStart=")][0]
    env_line = [ln.split("=", 1)[1] for ln in unit.split("\n") if ln.startswith("Environment=")][0]
    env = dict(cell.env)
    env.update(kv.split("=", 1) for kv in env_line.split())
    sock_path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(30)
    env["NOTIFY_SOCKET"] = sock_path
    p = subprocess.Popen(exec_start.split(), env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        msg = s.recv(4096).decode()
        assert "READY=1" in msg
        p.send_signal(signal.SIGTERM)       # systemd's stop
        msg = s.recv(4096).decode()
        assert "STOPPING=1" in msg
        assert p.wait(timeout=30) is not None
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        s.close()


def test_supervisor_is_small(cell):
    """The resident supervisor (cell-monitor) stays under 1 MiB RSS."""
    n = cell.name("rss")
    cell("create", n, check=True)
    cell("start", n, check=True)
    pid = state(cell, n)["supervisor"]["pid"]
    comm = lambda: open(f"/proc/{pid}/comm").read().strip()
    wait(lambda: comm() == "cell-monitor", what="the supervisor to become cell-monitor")
    time.sleep(0.2)
    rss = state(cell, n)["supervisor"]["rss_kb"]
    print(f"supervisor {comm()} rss {rss} KiB")
    if "asan" not in open(f"/proc/{pid}/maps").read():   # sanitizer builds are big
        assert rss < 1024
    cell("stop", n, check=True)


def test_supervisor_error_reaches_start(cell):
    """A failure inside the detached supervisor comes back to `cell start` as its
    error record, message and errno, and nothing is left running."""
    n = cell.name("superr")
    cell("create", n, check=True)
    log = os.path.join(cell.store, "containers", n, "console.log")
    os.mkdir(log)
    try:
        r = cell("start", n)
        assert r.returncode == 1
        assert r.stderr == f"cell: open {log}: Is a directory\n"
        assert state(cell, n)["state"] == "stopped"
        assert "supervisor" not in state(cell, n)
    finally:
        os.rmdir(log)
    cell("start", n, check=True)
    cell("stop", n, check=True)


def test_full_disk_during_create_leaves_nothing(cell, tmp_path):
    tpl = tmp_path / "big"
    (tpl / "bin").mkdir(parents=True)
    with open(tpl / "blob", "wb") as f:
        f.write(os.urandom(24 << 20))
    r = cell("create", "full1", "--template", f"dir:{tpl}", "--storage", "image:16M")
    assert r.returncode != 0
    assert "No space left on device" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(cell.store, "containers", "full1"))
    assert not any("full1" in ln for ln in open("/proc/self/mountinfo"))


def make_docker_archive(path, rootfs_src, **image_config):
    """A one-layer docker-archive (`docker save` format) of a busybox tree;
    image_config overrides keys of its config (Entrypoint, WorkingDir...)."""
    import hashlib
    import io
    import tarfile
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as t:
        t.add(rootfs_src, arcname=".")
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo from-image $GREETING; pwd"],
                   "Env": ["PATH=/bin:/sbin", "GREETING=hi"], "WorkingDir": "/tmp",
                   **image_config},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }).encode()
    cfg_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": cfg_name, "RepoTags": ["celltest:latest"],
                            "Layers": ["layer0/layer.tar"]}]).encode()
    with tarfile.open(path, "w") as t:
        for name, data in ((cfg_name, config), ("layer0/layer.tar", layer_bytes),
                           ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def test_run_oci_image_app(cell, tmp_path):
    src = tmp_path / "tree"
    mkrootfs = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "mkrootfs")
    subprocess.run([mkrootfs, str(src)], check=True)
    img = tmp_path / "image.tar"
    make_docker_archive(str(img), str(src))
    r = cell("run", "--rm", f"oci:{img}", timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["from-image hi", "/tmp"]


def test_net_host_shares_the_network(cell):
    n = cell.name("nethost")
    cell("create", n, "--net", "host", check=True)
    cell("start", n, check=True)
    pid = state(cell, n)["pid"]
    # the host's: the namespace cell ran in (the session's own, conftest.NetHost)
    assert os.readlink(f"/proc/{pid}/ns/net") == os.readlink(cell.net.path)
    cell("stop", n, check=True)
