# SPDX-License-Identifier: LGPL-2.1-or-later
"""Rootless cell with --net pasta: a user made by this module (and removed
after it) runs cell in a network and mount namespace of the module's own,
which plays the host: a veth pair there gives pasta the "host" address and
default route it copies, nothing leaves it.  /dev/net/tun is bind-mounted in
that mount namespace from a node of mode 0666 (Debian's udev default; some
sandboxes leave it 0600, which no unprivileged user can open); the host's own
device node is not touched.  Observed from both sides: a port published on
127.0.0.1 reached from the host, a server of the host reached from inside,
and no pasta (nor its namespace holder) left after stop, or after kill -9 of
the supervisor and destroy --force."""
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import CELL, TIMEOUT
from test_net import http_get, wait

USER = "celltest-rlnet"
HOST_IP, GATEWAY = "10.89.0.1", "10.89.0.254"
PASTA_DNS = "169.254.1.1"


class RootlessHost:
    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="celltest-rlnet-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.made_user = False
        self.proc = None
        self.names = set()
        try:
            pwd.getpwnam(USER)
        except KeyError:
            subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
                           check=True, capture_output=True)
            self.made_user = True
        self.pw = pwd.getpwnam(USER)
        self.proc = subprocess.Popen(["unshare", "--net", "--mount", "--propagation", "private",
                                      "--", "sleep", "infinity"])
        own = os.readlink("/proc/self/ns/net")
        for _ in range(500):
            try:
                if os.readlink(f"/proc/{self.proc.pid}/ns/net") != own:
                    break
            except FileNotFoundError:
                pass
            time.sleep(0.01)
        self.ns = ["nsenter", f"--net=/proc/{self.proc.pid}/ns/net",
                   f"--mount=/proc/{self.proc.pid}/ns/mnt", "--"]
        self.setup_host()
        for d in ("store", "run"):
            os.mkdir(os.path.join(self.base, d))
            os.chown(os.path.join(self.base, d), self.pw.pw_uid, self.pw.pw_gid)
        self.env = dict(PATH="/usr/sbin:/usr/bin:/sbin:/bin", HOME=self.base,
                        CELL_ROOT=os.path.join(self.base, "store"),
                        CELL_RUNTIME_DIR=os.path.join(self.base, "run"),
                        CELL_CGROUP_PARENT=f"celltest-rlnet-{os.getpid()}")

    def setup_host(self):
        dev = os.path.join(self.base, "dev")
        os.mkdir(dev)
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "link", "add", "h0", "type", "veth", "peer", "name", "h1"],
                    ["ip", "addr", "add", f"{HOST_IP}/24", "dev", "h0"],
                    ["ip", "link", "set", "h0", "up"], ["ip", "link", "set", "h1", "up"],
                    ["ip", "route", "add", "default", "via", GATEWAY, "dev", "h0"],
                    ["mount", "-t", "tmpfs", "tmpfs", dev],
                    ["mknod", "-m", "666", os.path.join(dev, "tun"), "c", "10", "200"],
                    ["mount", "--bind", os.path.join(dev, "tun"), "/dev/net/tun"]):
            self.host(*cmd, check=True)

    def host(self, *args, check=False, timeout=TIMEOUT):
        r = subprocess.run([*self.ns, *args], capture_output=True, text=True, timeout=timeout)
        if check:
            assert r.returncode == 0, f"{' '.join(args)}: rc={r.returncode}\n{r.stderr}"
        return r

    def host_sh(self, sh):
        return self.host("sh", "-c", sh)

    def __call__(self, *args, check=False, timeout=TIMEOUT):
        argv = [*self.ns, "setpriv", f"--reuid={self.pw.pw_uid}", f"--regid={self.pw.pw_gid}",
                "--clear-groups", "--", CELL, *args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=self.env,
                           stdin=subprocess.DEVNULL, cwd=self.base)
        if check:
            assert r.returncode == 0, f"cell {' '.join(args)}: rc={r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def name(self, hint):
        n = f"r{len(self.names)}-{hint}"
        self.names.add(n)
        return n

    def rundir(self, name):
        return os.path.join(self.env["CELL_RUNTIME_DIR"], name)

    def user_procs(self, word=None):
        """Processes of the module's user (pasta, holders, supervisors), as {pid: cmdline}."""
        found = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.stat(f"/proc/{pid}").st_uid != self.pw.pw_uid:
                    continue
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rpartition(")")[2].split()[0] == "Z":
                        continue
            except OSError:
                continue
            if word is None or word in cmd:
                found[int(pid)] = cmd
        return found

    def cleanup(self):
        for n in sorted(self.names):
            self("destroy", "--force", n, timeout=60)
        self.left = self.user_procs()
        for pid in self.left:   # the module's own user's: nobody else's
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.base, ignore_errors=True)
        if self.made_user:
            subprocess.run(["userdel", USER], capture_output=True)


@pytest.fixture(scope="module")
def rl():
    if os.geteuid() != 0:
        pytest.skip("needs root (to make the unprivileged user and the scratch namespaces)")
    if not os.access(CELL, os.X_OK):
        pytest.skip(f"{CELL} not built")
    for tool in ("pasta", "setpriv", "useradd", "nsenter", "busybox"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} missing (pasta: Debian's passt package)")
    h = RootlessHost()
    try:
        yield h
    finally:
        h.cleanup()
    assert not h.left, f"processes of the rootless user left behind: {h.left}"


def pasta_of(rl, name):
    with open(os.path.join(rl.rundir(name), "pasta.cell")) as f:
        return int(f.read().split()[0])


def holder_of(rl, name):
    with open(os.path.join(rl.rundir(name), "netns-holder.cell")) as f:
        return int(f.read().split()[0])


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def listening(rl, port):
    r = subprocess.run([*rl.ns, "busybox", "netstat", "-ltn"], capture_output=True, text=True)
    return f":{port} " in r.stdout


def send_out_once(rl, run, port, word):
    srv = subprocess.Popen([*rl.ns, "busybox", "nc", "-l", "-p", str(port)],
                           stdout=subprocess.PIPE, text=True)
    try:
        end = time.time() + 5
        while not listening(rl, port) and time.time() < end:
            time.sleep(0.05)
        r = run(f"echo {word} | nc -w 2 {GATEWAY} {port}")
        assert r.returncode == 0, r.stdout + r.stderr
        out, _ = srv.communicate(timeout=10)
        return out.strip()
    finally:
        srv.kill()
        srv.wait()


def send_out(rl, run, port, word):
    """What a server of the host's namespace on port received when run(sh) in a
    container sent word to it through pasta's gateway (container to host).  Up
    to three tries: Debian 12's passt at times loses a short connection's data
    on this kernel (see test_reply_from_host_server); one that arrives shows the
    path works, none in three fails."""
    got = ""
    for _ in range(3):
        got = send_out_once(rl, run, port, word)
        if got:
            break
    return got


def test_default_net_is_pasta(rl):
    n = rl.name("default")
    rl("create", n, "--template", "busybox", check=True)
    assert "pasta" in rl("config", n, "net", check=True).stdout
    # without root: the network dirs are the store's, not /var/lib/cell-net
    rl("destroy", "--force", n, check=True)


def test_system_container_port_outbound_dns(rl):
    n = rl.name("web")
    rl("create", n, "--template", "busybox", "--net", "pasta", "-p", "127.0.0.1:18080:80",
       check=True)
    rl("start", n, check=True)
    inside = lambda sh: rl("exec", n, "--", "sh", "-c", sh)
    addr = inside("ip -4 addr show eth0").stdout
    assert HOST_IP in addr, addr   # pasta copies the host's address
    assert f"default via {GATEWAY}" in inside("ip route").stdout
    assert f"nameserver {PASTA_DNS}" in inside("cat /etc/resolv.conf").stdout
    inside("mkdir -p /www && echo hello-rootless > /www/index.html && httpd -p 80 -h /www")
    # host -> container, through the port pasta listens on
    r = None
    for _ in range(50):
        r = http_get(rl.host_sh, "http://127.0.0.1:18080/")
        if r.returncode == 0:
            break
        time.sleep(0.1)
    assert r.returncode == 0 and "hello-rootless" in r.stdout, r.stdout
    # container -> a server of the host's namespace, through the gateway pasta maps
    assert send_out(rl, inside, 18081, "hello-out") == "hello-out"
    # pasta holds nothing of cell's: no store file, no lock
    pasta = pasta_of(rl, n)
    fds = [os.readlink(f"/proc/{pasta}/fd/{fd}") for fd in os.listdir(f"/proc/{pasta}/fd")]
    assert not [t for t in fds if rl.env["CELL_ROOT"] in t or t.endswith(".lock")], fds
    holder = holder_of(rl, n)
    rl("stop", n, "--timeout", "5", check=True)
    wait(lambda: not alive(pasta) and not alive(holder), 10, "pasta and its holder to go")
    rl("destroy", n, check=True)


def test_app_container_outbound(rl):
    run = lambda sh: rl("run", "--rm", "--net", "pasta", "busybox", "--", "sh", "-c", sh)
    assert send_out(rl, run, 18082, "hello-app") == "hello-app"
    assert not rl.user_procs("pasta"), "pasta outlived the --rm container"


@pytest.mark.xfail(reason="passt 0.0~git20230309 on this kernel (6.18) sends the data of a "
                   "host-side socket to the container again, at times, or never its end: a "
                   "reply from the host may not end (seen with pasta alone, without cell)", strict=False)
def test_reply_from_host_server(rl):
    n = rl.name("reply")
    rl("create", n, "--template", "busybox", "--net", "pasta", check=True)
    rl("start", n, check=True)
    www = os.path.join(rl.base, "hostwww")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("hello-host\n")
    srv = subprocess.Popen([*rl.ns, "busybox", "httpd", "-f", "-p", "18084", "-h", www])
    try:
        time.sleep(0.3)
        r = rl("exec", n, "--", "sh", "-c", f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | "
               f"timeout 5 nc -w 3 {GATEWAY} 18084 > /tmp/reply; echo rc=$?; "
               "head -c 4096 /tmp/reply")
    finally:
        srv.kill()
        srv.wait()
        rl("destroy", "--force", n)
    assert "rc=0" in r.stdout, r.stdout   # the reply ended (not killed by timeout)
    assert r.stdout.count("HTTP/1.") == 1 and "hello-host" in r.stdout, r.stdout


def test_destroy_after_kill9_of_supervisor_leaves_no_pasta(rl):
    n = rl.name("k9")
    rl("create", n, "--template", "busybox", "--net", "pasta", "-p", "127.0.0.1:18083:80",
       check=True)
    rl("start", n, check=True)
    pasta, holder = pasta_of(rl, n), holder_of(rl, n)
    assert alive(pasta) and alive(holder)
    with open(os.path.join(rl.rundir(n), "supervisor.pid")) as f:
        sup = int(f.read().split()[0])
    os.kill(sup, signal.SIGKILL)
    wait(lambda: not alive(sup), 10, "the supervisor to die")
    rl("destroy", "--force", n, check=True)
    assert not alive(pasta) and not alive(holder)
    assert not rl.user_procs("pasta")
    assert rl.host("ss", "-tln").stdout.count(":18083") == 0
