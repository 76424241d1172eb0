# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the `cell` manager tests: a private store, runtime dir and
cgroup parent per session, all removed at the end (and checked empty)."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CELL = os.environ.get("CELL", os.path.join(REPO, "build", "cell"))
TIMEOUT = 60


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes long (a debootstrap download, systemd boots)")


SUBID_ROOT = "root:1000000:1000000000\n"   # what cell itself adds when root has none


class NetHost:
    """A network namespace of the session's own that plays the host: every cell
    command runs in it (nsenter), so the bridges, veths, addresses, nftables
    rules and dnsmasq processes that containers on a network make exist only
    there.  Its network state lives under base (CELL_NET_DIR, CELL_NET_RUNTIME_DIR)."""

    def __init__(self, base):
        self.proc = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"])
        self.path = f"/proc/{self.proc.pid}/ns/net"
        own = os.readlink("/proc/self/ns/net")
        for _ in range(500):
            try:
                if os.readlink(self.path) != own:
                    break
            except FileNotFoundError:
                pass
            time.sleep(0.01)
        self.base = base
        self.env = dict(CELL_NET_DIR=os.path.join(base, "net"),
                        CELL_NET_RUNTIME_DIR=os.path.join(base, "net-run"))
        self.run("ip", "link", "set", "lo", "up", check=True)

    def argv(self, *args):
        return ["nsenter", f"--net={self.path}", "--", *args]

    def run(self, *args, check=False, timeout=TIMEOUT):
        r = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout)
        if check:
            assert r.returncode == 0, f"{' '.join(args)}: rc={r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def links(self):
        out = self.run("ip", "-j", "link", "show", check=True).stdout
        return [l["ifname"] for l in json.loads(out)]

    def dnsmasqs(self):
        """dnsmasq processes serving this session's networks."""
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().decode(errors="replace")
            except OSError:
                continue
            if "dnsmasq" in cmd and self.env["CELL_NET_RUNTIME_DIR"] in cmd:
                found.append(int(pid))
        return found

    def nft_tables(self):
        r = self.run("nft", "list", "tables")
        return r.stdout.split("\n") if r.returncode == 0 else []

    def leftovers(self):
        """What containers on networks may have left: links but lo, cell's table,
        dnsmasq processes, records of links."""
        left = [f"link {n}" for n in self.links() if n != "lo"]
        left += [f"nft {t}" for t in self.nft_tables() if "cell" in t]
        left += [f"dnsmasq {p}" for p in self.dnsmasqs()]
        links = os.path.join(self.env["CELL_NET_RUNTIME_DIR"], "links")
        left += [f"record {f}" for f in (os.listdir(links) if os.path.isdir(links) else [])]
        return left

    def close(self):
        for p in self.dnsmasqs():   # started by this session's cell, in its namespace
            try:
                os.kill(p, 9)
            except ProcessLookupError:
                pass
        self.proc.kill()
        self.proc.wait()


class Cell:
    """A store of its own; the host's /etc/subuid, /etc/subgid and id registry are
    replaced by scratch files (root's entry in place), shared by every store of
    the session, as the real ones are shared by every store of the host."""

    def __init__(self, base=None, shared=None):
        self.base = base or tempfile.mkdtemp(prefix="celltest-cell-", dir="/var/tmp")
        os.chmod(self.base, 0o755)
        self.cgparent = f"celltest-cell-{os.getpid()}"
        ids = shared.ids_env if shared else self.scratch_ids()
        self.ids_env = ids
        self.own_net = shared is None
        self.net = shared.net if shared else NetHost(self.base)
        self.cmd = self.net.argv(CELL)
        self.env = dict(os.environ, CELL_ROOT=os.path.join(self.base, "store"),
                        CELL_RUNTIME_DIR=os.path.join(self.base, "run"),
                        CELL_CGROUP_PARENT=self.cgparent,
                        CELL_SYSTEMD_DIR=os.path.join(self.base, "units"), **ids, **self.net.env)
        os.makedirs(self.env["CELL_SYSTEMD_DIR"])
        self.names = set()

    def scratch_ids(self):
        d = os.path.join(self.base, "ids")
        os.makedirs(d)
        for f in ("subuid", "subgid"):
            with open(os.path.join(d, f), "w") as fh:
                fh.write(SUBID_ROOT)
        return dict(CELL_SUBUID_FILE=os.path.join(d, "subuid"),
                    CELL_SUBGID_FILE=os.path.join(d, "subgid"),
                    CELL_IDMAP_REGISTRY=os.path.join(d, "registry", "ranges.json"))

    def registry(self):
        """The registry's entries as (store, name, start, size)."""
        try:
            with open(self.ids_env["CELL_IDMAP_REGISTRY"]) as f:
                return [(e["store"], e["name"], e["start"], e["size"]) for e in json.load(f)["ranges"]]
        except FileNotFoundError:
            return []

    def __call__(self, *args, timeout=TIMEOUT, check=False, stdin=subprocess.DEVNULL, env=None,
                 outside=False):
        """cell ARGS in the session's network namespace; outside: in the test's own
        (the machine's, for a `create` whose template is downloaded from Debian's
        mirror; create reads the routes there and changes nothing)."""
        r = subprocess.run([CELL, *args] if outside else [*self.cmd, *args], capture_output=True, text=True, timeout=timeout,
                           env=env or self.env, stdin=stdin)
        if check:
            assert r.returncode == 0, f"cell {' '.join(args)}: rc={r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def name(self, hint):
        n = f"t{len(self.names)}-{hint}"
        self.names.add(n)
        return n

    @property
    def store(self):
        return self.env["CELL_ROOT"]

    def cgroup_dirs(self):
        return [p for p in (f"/sys/fs/cgroup/{c}/{self.cgparent}" for c in os.listdir("/sys/fs/cgroup"))
                if os.path.isdir(p)]

    def cleanup(self):
        for n in sorted(self.names):
            self("destroy", "--force", n, timeout=60)
        for d in self.cgroup_dirs():
            for sub, dirs, _ in sorted(os.walk(d), reverse=True):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass
        if self.own_net:
            self.net_left = self.net.leftovers()
            self.net.close()
        mounts = [ln.split()[4] for ln in open("/proc/self/mountinfo") if self.base in ln]
        for m in sorted(mounts, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def cell():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if not os.access(CELL, os.X_OK):
        pytest.skip(f"{CELL} not built")
    c = Cell()
    yield c
    c.cleanup()
    assert not c.cgroup_dirs(), "cgroups left behind"
    assert not c.net_left, f"network state left behind: {c.net_left}"
    assert not any(c.base in ln for ln in open("/proc/self/mountinfo")), "mounts left behind"
