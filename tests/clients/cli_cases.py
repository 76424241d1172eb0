# SPDX-License-Identifier: LGPL-2.1-or-later
"""The cases docker and podman share: the two CLIs take the same words, so
each case is written once here and runs for both.  A test module imports
them and provides a `cli` fixture (its engine, with `client_args()`,
`run_args()`, `inspect()`, `image`, `dir` and, for podman, `rootless`), and keeps in
itself only what differs between the engines."""
import os
import pty
import select
import shutil
import subprocess
import time

import pytest

import celltest

def run(cli, *args, **kw):
    return cli(*cli.run_args(*args), **kw)


def sh(cli, script, *opts, check=True):
    r = run(cli, "--rm", *opts, cli.image, "sh", "-c", script)
    if check:
        assert r.rc == 0, f"rc={r.rc}\n{r.out}\n{r.err}"
    return r


def detached(cli, name, script="while :; do sleep 0.1; done", opts=()):
    run(cli, "-d", "--name", name, *opts, cli.image, "sh", "-c", script, check=True)
    celltest.wait_for(lambda: cli.inspect(name, "{{.State.Status}}") == "running",
                      what=f"{name} running")


def on_pty(cli, script, *opts):
    """`run -it` with the client on a pty, one line typed once the container
    shows its tty: (exit status, what the pty showed)."""
    master, slave = pty.openpty()
    argv = cli.client_args() + cli.run_args("-it", "--rm", *opts, cli.image, "sh", "-c", script)
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=cli.env,
                         cwd=cli.dir, start_new_session=True)
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
    return rc, out.decode(errors="replace")


def test_interactive_pty(cli):
    rc, text = on_pty(cli, "tty; stty size; read line; echo got:$line")
    assert rc == 0, text
    assert "/dev/pts/0" in text
    assert "got:typed" in text


@pytest.mark.cgroups
def test_cpus_and_pids_limit(cli):
    r = sh(cli, "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us"
           " /sys/fs/cgroup/pids/pids.max;"
           " (for i in $(seq 30); do sleep 2 & done) 2>/dev/null;"
           " cat /sys/fs/cgroup/pids/pids.current",
           "--cpus", "0.5", "--pids-limit", "20")
    quota, period, pids, current = r.out.split()
    assert int(quota) * 2 == int(period)
    assert pids == "20"
    assert 10 < int(current) <= 20  # forks stopped at the limit


def test_user(cli):
    assert sh(cli, "id -u; id -g; id -G", "--user", "1000:1000", "--group-add", "5").out.split() \
        == ["1000", "1000", "1000", "5"]


def test_cap_drop_add(cli):
    r = sh(cli, "grep -E '^Cap(Eff|Bnd)' /proc/self/status",
           "--cap-drop", "all", "--cap-add", "NET_RAW", "--cap-add", "CHOWN")
    for line in r.out.splitlines():
        assert int(line.split()[1], 16) == (1 << 13) | (1 << 0), r.out
    r = sh(cli, "touch /tmp/y; chown 1000 /tmp/y 2>&1 && echo chowned; true",
           "--cap-drop", "CHOWN")
    assert "chowned" not in r.out
    assert "Operation not permitted" in r.out


def test_read_only_tmpfs_and_bind(cli):
    host = os.path.join(cli.dir, "data-bind")
    os.makedirs(host, exist_ok=True)
    with open(os.path.join(host, "in"), "w") as f:
        f.write("from host\n")
    if getattr(cli, "rootless", False):
        os.chown(host, cli.user.uid, cli.user.pw.pw_gid)
    r = sh(cli, "touch /x 2>/dev/null && echo rootfs-writable; touch /scratch/f && echo tmpfs-ok;"
           " grep ' /scratch ' /proc/mounts; cat /data/in; echo out > /data/out",
           "--read-only", "--tmpfs", "/scratch:size=1m", "-v", f"{host}:/data")
    lines = r.out.splitlines()
    assert "rootfs-writable" not in lines
    assert "tmpfs-ok" in lines
    assert any(ln.startswith("tmpfs /scratch tmpfs") and "size=1024k" in ln for ln in lines)
    assert "from host" in lines
    with open(os.path.join(host, "out")) as f:
        assert f.read() == "out\n"
    shutil.rmtree(host)


def test_env_workdir_hostname(cli):
    r = sh(cli, "echo $FOO; pwd; hostname", "-e", "FOO=bar baz", "-w", "/tmp",
           "--hostname", "box1")
    assert r.out.splitlines() == ["bar baz", "/tmp", "box1"]


@pytest.mark.cgroups
def test_pause_unpause(cli):
    host = os.path.join(cli.dir, "counter")
    os.makedirs(host, exist_ok=True)
    counter = os.path.join(host, "n")

    def count():
        with open(counter) as f:
            return int(f.read())
    detached(cli, "frozen",
             "i=0; while :; do i=$((i+1)); echo $i > /c/t; mv /c/t /c/n; sleep 0.05; done",
             opts=("-v", f"{host}:/c"))
    celltest.wait_for(lambda: os.path.exists(counter), what="counter running")
    cli("pause", "frozen", check=True)
    assert cli.inspect("frozen", "{{.State.Status}}") == "paused"
    a = count()
    time.sleep(0.4)
    assert count() == a  # frozen: the loop does not move
    cli("unpause", "frozen", check=True)
    assert cli.inspect("frozen", "{{.State.Status}}") == "running"
    celltest.wait_for(lambda: count() > a, what="counter moving again")
    cli("rm", "--force", "frozen", check=True)
    shutil.rmtree(host, ignore_errors=True)


def test_kill(cli):
    detached(cli, "killed", "trap 'echo usr1 > /tmp/got' USR1; while :; do sleep 0.1; done")
    cli("kill", "--signal", "USR1", "killed", check=True)
    celltest.wait_for(lambda: cli("exec", "killed", "cat", "/tmp/got").out == "usr1\n",
                      what="USR1 delivered")
    cli("kill", "killed", check=True)
    assert cli("wait", "killed", check=True).out.strip() == "137"
    assert cli.inspect("killed", "{{.State.Status}}") == "exited"


def test_wait(cli):
    run(cli, "-d", "--name", "waited", cli.image, "sh", "-c", "sleep 0.5; exit 7", check=True)
    assert cli("wait", "waited", check=True).out.strip() == "7"
