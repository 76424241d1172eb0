# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers shared by the integration tests: the runtime driver, bundles,
the busybox rootfs, parsers for /proc files and the leak checks.

Everything a test creates lives under one session directory
(/run/celltest-<pid>) and one cgroup parent (/celltest-<pid> in every
hierarchy), so that the leak check can tell exactly what the suite owns.
"""
import copy
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

CGROUP_FS = "/sys/fs/cgroup"
BUSYBOX = "/bin/busybox"
DEFAULT_TIMEOUT = int(os.environ.get("CELLTEST_TIMEOUT", "30"))   # seconds per CLI call

PASSWD = """root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
"""
GROUP = """root:x:0:
wheel:x:10:
audio:x:20:
user:x:1000:
nogroup:x:65534:
"""
# Directories the rootfs carries so that runtimes need not create mount
# points in the shared (read-only for containers) rootfs.
ROOTFS_DIRS = ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev",
               "tmp", "out", "mnt", "root", "home/user", "run", "var"]

# Features that runc 1.1 (Debian 12) silently ignores or rejects.  A test
# that needs one is skipped for such a runc and stays strict for cellrun.
RUNC_1_1_GAPS = {
    "time-namespace": "runc 1.1 has no time namespace",
    "domainname": "runc 1.1 ignores domainname",
    "personality": "runc 1.1 ignores linux.personality",
    "ioPriority": "runc 1.1 ignores process.ioPriority",
    "scheduler": "runc 1.1 ignores process.scheduler",
    "execCPUAffinity": "runc 1.1 ignores process.execCPUAffinity",
    "poststart-order": "runc 1.1 runs poststart hooks during create, before startContainer",
    "hugetlb-unified": "runc 1.1 (cgroupfs v1 manager) skips hugetlb on a hybrid host",
}


# ---------------------------------------------------------------- processes

def proc_starttime(pid):
    """Field 22 of /proc/<pid>/stat, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = data[data.rindex(")") + 2:].split()
    if rest[0] in ("Z", "X"):
        return None
    return int(rest[19])


def pid_alive(pid, starttime=None):
    st = proc_starttime(pid)
    return st is not None and (starttime is None or st == starttime)


def wait_for(cond, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def become_subreaper():
    """This machine's pid 1 does not reap orphans: a container init whose
    runtime exited would stay a zombie forever.  Adopt them instead, like a
    container shim does, and reap them in reap_orphans()."""
    import ctypes
    PR_SET_CHILD_SUBREAPER = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def proc_stats():
    """(pid, state, ppid) of every process in /proc (one read of its stat each;
    a process gone meanwhile is left out)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2:].split()
        yield int(entry), rest[0], int(rest[1])


def reap_orphans():
    """waitpid() the zombie children that no subprocess object waits for."""
    me = os.getpid()
    for pid, state, ppid in proc_stats():
        if state == "Z" and ppid == me and pid not in IN_FLIGHT:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


IN_FLIGHT = set()   # pids of Popen children whose status someone will collect


def wait_reaping(p, timeout):
    """Wait for Popen p, reaping adopted orphans meanwhile: a runtime that
    waits for a cgroup to empty would otherwise wait on our zombies.
    Returns the exit status, or None after killing p on timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        rc = p.poll()
        if rc is not None:
            return rc
        reap_orphans()
        if time.monotonic() > deadline:
            # the whole process group: a runtime's helper children must not
            # outlive it holding locks (they are ours: started by this call)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def pids_in_cgroup(path):
    """Live host pids in cgroup `path` ("/a/b") or below it, in any hierarchy."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or proc_starttime(entry) is None:
            continue
        try:
            with open(f"/proc/{entry}/cgroup") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            cg = line.split(":", 2)[-1]
            if cg == path or cg.startswith(path + "/"):
                found.append(int(entry))
                break
    return found


# ---------------------------------------------------------------- /proc parsers

def parse_mountinfo(text):
    """List of dicts: mountpoint, root, options, optional (tags), fstype, source, super."""
    mounts = []
    for line in text.splitlines():
        if " - " not in line:
            continue   # not a mountinfo line (callers may mix in other output)
        left, right = line.split(" - ", 1)
        f = left.split()
        r = right.split()
        mounts.append({
            "id": int(f[0]), "parent": int(f[1]), "dev": f[2], "root": unescape(f[3]),
            "mountpoint": unescape(f[4]), "options": f[5].split(","),
            "optional": f[6:], "fstype": r[0], "source": r[1] if len(r) > 1 else "",
            "super": r[2].split(",") if len(r) > 2 else [],
        })
    return mounts


def unescape(s):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def mount_at(mounts, mountpoint):
    """The topmost mount at mountpoint (last in mountinfo order), or None."""
    hits = [m for m in mounts if m["mountpoint"] == mountpoint]
    return hits[-1] if hits else None


def host_mounts():
    with open("/proc/self/mountinfo") as f:
        return parse_mountinfo(f.read())


def cgroup_hierarchies():
    """Names of the cgroup hierarchies mounted in CGROUP_FS.  A plain dir
    there is none: a peer (crun on a hybrid host) may make one for a
    controller that is not mounted (hugetlb, net_cls, ...), and podman then
    makes its cgroups in it as plain dirs with a plain `tasks` file."""
    mounted = {m["mountpoint"] for m in host_mounts() if m["fstype"] in ("cgroup", "cgroup2")}
    return [c for c in sorted(os.listdir(CGROUP_FS)) if os.path.join(CGROUP_FS, c) in mounted]


def remove_plain_cgroup_dirs(parent):
    """A suite's parent in the plain dirs of CGROUP_FS (see cgroup_hierarchies):
    tmpfs dirs and files that its clients made there, no kernel object."""
    real = set(cgroup_hierarchies())
    for ctrl in os.listdir(CGROUP_FS):
        p = os.path.join(CGROUP_FS, ctrl, parent)
        if ctrl not in real and os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)


def parse_status(text):
    """/proc/<pid>/status as a dict of str -> str."""
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


CAP_NUMBERS = {
    "CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
    "CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
    "CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
    "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
    "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
    "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
    "CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
    "CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
    "CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
    "CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
    "CAP_CHECKPOINT_RESTORE": 40,
}


def cap_mask(names):
    m = 0
    for n in names:
        m |= 1 << CAP_NUMBERS[n]
    return m


def cap_sets(status_text):
    st = parse_status(status_text)
    return {k: int(st[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


# ---------------------------------------------------------------- mount namespaces

SHARED_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                           "scripts", "shared-root")


class SharedNamespace:
    """A mount namespace whose "/" is rshared, as on a systemd host
    (scripts/shared-root: a private copy of ours made shared, so nothing done
    in it reaches the real host), held open by a sleep of ours.  `wrap` is the
    command prefix that runs a program in it; mounts() is its mount table."""

    def __init__(self):
        self.p = subprocess.Popen([SHARED_ROOT, "sh", "-c", "echo ready; exec sleep 3600"],
                                  stdout=subprocess.PIPE, start_new_session=True)
        IN_FLIGHT.add(self.p.pid)
        if self.p.stdout.readline() != b"ready\n":
            self.close()
            raise AssertionError("scripts/shared-root failed")
        self.wrap = ["nsenter", f"--mount=/proc/{self.p.pid}/ns/mnt", "--"]
        root = mount_at(self.mounts(), "/")
        assert any(t.startswith("shared:") for t in root["optional"]), root

    def mounts(self):
        with open(f"/proc/{self.p.pid}/mountinfo") as f:
            return parse_mountinfo(f.read())

    def new_mounts(self, before):
        """Mounts of the namespace now that `before` (an earlier mounts()) lacked."""
        def key(m):
            return (m["mountpoint"], m["fstype"], m["source"], m["root"])
        old = {key(m) for m in before}
        return [f"{m['mountpoint']} ({m['fstype']})" for m in self.mounts() if key(m) not in old]

    def close(self):
        self.p.kill()
        self.p.wait()
        self.p.stdout.close()
        IN_FLIGHT.discard(self.p.pid)


# ---------------------------------------------------------------- rootfs

def build_rootfs(dest):
    """A busybox-static rootfs: applet symlinks, passwd/group, empty dirs."""
    os.makedirs(dest, mode=0o755)
    for d in ROOTFS_DIRS:
        os.makedirs(os.path.join(dest, d), mode=0o755, exist_ok=True)
    os.chmod(os.path.join(dest, "tmp"), 0o1777)
    os.chown(os.path.join(dest, "home/user"), 1000, 1000)
    shutil.copy2(BUSYBOX, os.path.join(dest, "bin/busybox"))
    os.chmod(os.path.join(dest, "bin/busybox"), 0o755)
    applets = subprocess.run([BUSYBOX, "--list-full"], check=True, capture_output=True,
                             text=True).stdout.split()
    for applet in applets:
        link = os.path.join(dest, applet)
        if not os.path.lexists(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink("/bin/busybox", link)
    for name, text in (("passwd", PASSWD), ("group", GROUP)):
        with open(os.path.join(dest, "etc", name), "w") as f:
            f.write(text)
    with open(os.path.join(dest, "etc/hosts"), "w") as f:
        f.write("127.0.0.1 localhost\n")


# ---------------------------------------------------------------- results

class Result:
    def __init__(self, argv, rc, out, err, elapsed):
        self.argv, self.rc, self.out, self.err, self.elapsed = argv, rc, out, err, elapsed

    @property
    def err_lines(self):
        return [ln for ln in self.err.splitlines() if ln.strip()]

    @property
    def lines(self):
        return self.out.splitlines()

    def __repr__(self):
        return (f"<Result rc={self.rc} argv={' '.join(self.argv)!r}\n"
                f"--- stdout ---\n{self.out}\n--- stderr ---\n{self.err}>")

    def ok(self):
        assert self.rc == 0, repr(self)
        return self


# ---------------------------------------------------------------- session

class Session:
    """What the whole run shares: binary, dirs, rootfs, spec template, trackers."""

    def __init__(self, binary):
        self.pid = os.getpid()
        self.binary = binary
        self.base = f"/run/celltest-{self.pid}"
        self.state_root = os.path.join(self.base, "state")
        self.rootfs = os.path.join(self.base, "rootfs")
        self.bundles = os.path.join(self.base, "bundles")
        self.cgroup_parent = f"celltest-{self.pid}"
        self.tracked = {}          # pid -> starttime, every pid a test saw
        self.netns = set()         # names given to `ip netns add`
        self.netns_dir_existed = os.path.exists("/run/netns")
        self.counter = 0
        self.version_text = ""
        self.template = None

    # -- setup
    def setup(self):
        if os.path.lexists(self.base):
            if any(m["mountpoint"].startswith(self.base) for m in host_mounts()):
                raise RuntimeError(f"{self.base} exists and has mounts; refusing to reuse it")
            shutil.rmtree(self.base)
        os.makedirs(self.base, mode=0o755)
        os.chmod(self.base, 0o755)
        os.makedirs(self.state_root, mode=0o700)
        os.makedirs(self.bundles, mode=0o755)
        build_rootfs(self.rootfs)

    def probe_binary(self):
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            return f"runtime binary {self.binary} not found (set CELLRUN)"
        r = subprocess.run([self.binary, "--version"], capture_output=True, text=True,
                           timeout=DEFAULT_TIMEOUT)
        self.version_text = r.stdout + r.stderr
        d = tempfile.mkdtemp(dir=self.bundles, prefix="spec-")
        r = subprocess.run([self.binary, "spec"], cwd=d, capture_output=True, text=True,
                           timeout=DEFAULT_TIMEOUT)
        if r.returncode != 0:
            return f"`{self.binary} spec` failed: {r.stderr.strip()}"
        with open(os.path.join(d, "config.json")) as f:
            self.template = json.load(f)
        shutil.rmtree(d)
        return None

    @property
    def is_cell(self):
        return ("cellrun" in os.path.basename(self.binary)
                or self.version_text.lower().startswith("cellrun"))

    @property
    def runc_version(self):
        m = re.search(r"runc version (\d+)\.(\d+)", self.version_text)
        return (int(m.group(1)), int(m.group(2))) if m else None

    def needs(self, feature):
        """Skip for a runtime known to lack feature; never skips for cellrun."""
        if self.is_cell:
            return
        v = self.runc_version
        if v is not None and v < (1, 2) and feature in RUNC_1_1_GAPS:
            pytest.skip(RUNC_1_1_GAPS[feature])

    def cell_only(self, why):
        if not self.is_cell:
            pytest.skip(f"cellrun-specific: {why}")

    def new_id(self, hint=""):
        self.counter += 1
        hint = re.sub(r"[^a-zA-Z0-9]", "", hint)[:20]
        return f"celltest-{self.pid}-{self.counter}" + (f"-{hint}" if hint else "")

    def cgroups_path(self, cid):
        return f"/{self.cgroup_parent}/{cid}"

    def host_cgroup(self, controller, cid):
        return os.path.join(CGROUP_FS, controller, self.cgroup_parent, cid)

    def track(self, pid):
        if pid and pid > 0 and pid not in self.tracked:
            st = proc_starttime(pid)
            if st is not None:
                self.tracked[pid] = st

    # -- leak checks (each returns a list of human-readable findings)
    def leaked_mounts(self, needle=None):
        needle = needle or self.base
        return [f"mount {m['mountpoint']} ({m['fstype']})" for m in host_mounts()
                if needle in m["mountpoint"] or needle in m["root"]]

    def cgroup_roots(self):
        roots = []
        for name in cgroup_hierarchies():
            p = os.path.join(CGROUP_FS, name, self.cgroup_parent)
            if os.path.isdir(p):
                roots.append(p)
        return roots

    def leaked_cgroups(self, cid=None):
        found = []
        for root in self.cgroup_roots():
            if cid is not None:
                p = os.path.join(root, cid)
                if os.path.isdir(p):
                    found.append(f"cgroup {p}")
                continue
            for dirpath, dirnames, _ in os.walk(root):
                found.extend(f"cgroup {os.path.join(dirpath, d)}" for d in dirnames)
        return found

    def leaked_processes(self, cid=None):
        found = []
        if cid is None:
            for pid, st in sorted(self.tracked.items()):
                if pid_alive(pid, st):
                    found.append(f"process {pid} still alive")
        path = f"/{self.cgroup_parent}" + (f"/{cid}" if cid is not None else "")
        for pid in pids_in_cgroup(path):
            found.append(f"process {pid} in cgroup {path}")
        return found

    def leaked_processes_of(self, cids):
        return [p for c in cids for p in self.leaked_processes(c)]

    def leaked_state(self, cid=None):
        if not os.path.isdir(self.state_root):
            return []
        names = os.listdir(self.state_root)
        if cid is not None:
            names = [n for n in names if n == cid]
        return [f"state {os.path.join(self.state_root, n)}" for n in names]

    def leftovers(self, cid=None, needle=None):
        return (self.leaked_state(cid) + self.leaked_cgroups(cid) + self.leaked_processes(cid)
                + self.leaked_mounts(needle))

    def kill_leftovers(self, cids=None, timeout=5):
        """SIGKILL what tests left running: tracked pids and anything in a
        suite cgroup (thawed first: a frozen task cannot die).  With cids,
        only the cgroups of those containers."""
        frags = [f"/{self.cgroup_parent}/{c}" for c in cids] if cids is not None \
            else [f"/{self.cgroup_parent}"]
        for frag in frags:
            for dirpath, _, files in os.walk(os.path.join(CGROUP_FS, "freezer") + frag):
                if "freezer.state" in files:
                    try:
                        with open(os.path.join(dirpath, "freezer.state"), "w") as f:
                            f.write("THAWED")
                    except OSError:
                        pass
        if cids is None:
            for pid in list(self.tracked):
                kill_tracked(self, pid)
        victims = set()
        for frag in frags:
            victims.update(pids_in_cgroup(frag))
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reap_orphans()
            if not any(pid_alive(p) for p in victims) and (cids is not None
                                                          or not self.leaked_processes()):
                return True
            time.sleep(0.05)
        return False

    def remove_cgroup_parents(self):
        """rmdir the suite-owned parents, deepest first; non-empty ones stay."""
        remove_plain_cgroup_dirs(self.cgroup_parent)
        errors = []
        for root in self.cgroup_roots():
            for dirpath, dirnames, _ in sorted(os.walk(root, topdown=False), key=lambda t: -len(t[0])):
                try:
                    os.rmdir(dirpath)
                except OSError as e:
                    errors.append(f"rmdir {dirpath}: {e.strerror}")
        return errors

    def cleanup_netns(self):
        for name in sorted(self.netns):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self.netns.clear()
        # `ip netns add` made /run/netns a self bind mount; undo that if it was us
        if not self.netns_dir_existed and os.path.isdir("/run/netns") \
                and not os.listdir("/run/netns"):
            if any(m["mountpoint"] == "/run/netns" for m in host_mounts()):
                subprocess.run(["umount", "/run/netns"], capture_output=True)
            try:
                os.rmdir("/run/netns")
            except OSError:
                pass


def run_reaping(argv, timeout=DEFAULT_TIMEOUT, stdin=None, cwd=None, env=None, tmpdir=None,
                pass_fds=(), preexec=None):
    """Run argv to completion and return a Result.  stdout/stderr go to files,
    not pipes: a detached container inherits them and would hold a pipe open
    forever.  Orphans adopted meanwhile are reaped (see wait_reaping).
    pass_fds: the caller's fds the program inherits (what a careless caller
    leaks); preexec: a callable run in the child just before exec."""
    with tempfile.TemporaryFile(dir=tmpdir) as fo, tempfile.TemporaryFile(dir=tmpdir) as fe:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                             stdout=fo, stderr=fe, cwd=cwd, env=env, start_new_session=True,
                             pass_fds=pass_fds, preexec_fn=preexec)
        IN_FLIGHT.add(p.pid)
        try:
            rc = wait_reaping(p, timeout)
        finally:
            IN_FLIGHT.discard(p.pid)
        elapsed = time.monotonic() - t0
        reap_orphans()
        fo.seek(0)
        fe.seek(0)
        out = fo.read().decode(errors="replace")
        err = fe.read().decode(errors="replace")
    if rc is None:
        raise AssertionError(f"{' '.join(argv)} timed out after {timeout}s; stderr: {err}")
    return Result(argv, rc, out, err, elapsed)


# ---------------------------------------------------------------- runtime driver

class Runtime:
    """Runs the CLI with --root <session state dir> (through run_reaping)."""

    def __init__(self, session):
        self.s = session
        self.binary = session.binary
        self.ids = []

    @property
    def is_cell(self):
        return self.s.is_cell

    def cmd(self, *args, timeout=DEFAULT_TIMEOUT, guard=False, root=True, stdin=None,
            cwd=None, env=None, pass_fds=(), preexec=None, wrap=None):
        """wrap: a command prefix (e.g. a shell that opens more fds) around it all."""
        argv = [self.binary] + (["--root", self.s.state_root] if root else []) + [str(a) for a in args]
        # create/run write hostname, domainname and sysctls: a runtime bug
        # that does so before entering the container's namespaces must hit
        # a throwaway UTS/net namespace, never the host's.
        if guard:
            argv = ["unshare", "--uts", "--net", "--"] + argv
        if wrap:
            argv = list(wrap) + argv
        return run_reaping(argv, timeout=timeout, stdin=stdin, cwd=cwd, env=env,
                           tmpdir=self.s.base, pass_fds=pass_fds, preexec=preexec)

    # -- verbs that make containers
    def _prepare(self, bundle, cid):
        cid = bundle.id if cid is None else cid
        if cid not in self.ids:
            self.ids.append(cid)
        bundle.write(cid)
        return cid

    def create(self, bundle, *extra, cid=None, timeout=DEFAULT_TIMEOUT, guard=True, wrap=None):
        cid = self._prepare(bundle, cid)
        r = self.cmd("create", "--bundle", bundle.path, *extra, cid, timeout=timeout, guard=guard,
                     wrap=wrap)
        if r.rc == 0:
            self.state(cid)
        return r

    def run(self, bundle, *extra, cid=None, detach=False, timeout=DEFAULT_TIMEOUT, guard=True,
            wrap=None):
        cid = self._prepare(bundle, cid)
        opts = ["-d"] if detach else []
        r = self.cmd("run", "--bundle", bundle.path, *opts, *extra, cid, timeout=timeout,
                     guard=guard, wrap=wrap)
        if detach and r.rc == 0:
            self.state(cid)
        return r

    def start(self, cid, **kw):
        r = self.cmd("start", cid, **kw)
        return r

    # -- queries
    def state(self, cid):
        """Parsed state JSON, or None when `state` failed."""
        r = self.cmd("state", cid)
        if r.rc != 0:
            return None
        st = json.loads(r.out)
        self.s.track(st.get("pid", 0))
        return st

    def status(self, cid):
        st = self.state(cid)
        return st["status"] if st else None

    def wait_status(self, cid, status, timeout=10):
        return wait_for(lambda: self.status(cid) == status, timeout=timeout,
                        what=f"{cid} to be {status}")

    def kill(self, cid, sig=None, *opts):
        return self.cmd("kill", *opts, cid, *([sig] if sig is not None else []))

    def delete(self, cid, force=False):
        return self.cmd("delete", *(["--force"] if force else []), cid)

    def exec(self, cid, *args, opts=(), timeout=DEFAULT_TIMEOUT, wrap=None):
        return self.cmd("exec", *opts, cid, *args, timeout=timeout, wrap=wrap)

    def cleanup(self):
        """delete --force every id this test used; then kill whatever a
        broken runtime left in those containers' cgroups."""
        for cid in reversed(self.ids):
            try:
                self.cmd("delete", "--force", cid, timeout=min(DEFAULT_TIMEOUT, 10))
            except AssertionError:
                pass
        if self.ids and self.s.leaked_processes_of(self.ids):
            self.s.kill_leftovers(cids=list(self.ids))
        self.ids.clear()


# ---------------------------------------------------------------- bundles

class Bundle:
    """A bundle dir with config.json derived from `$CELLRUN spec`.

    `out` is a host directory bind-mounted read-write at /out: containers
    and hooks leave evidence there for the host to read."""

    def __init__(self, session, hint=""):
        self.s = session
        self.path = tempfile.mkdtemp(dir=session.bundles, prefix="b-")
        os.chmod(self.path, 0o755)
        self.out = os.path.join(self.path, "out")
        os.mkdir(self.out)
        os.chmod(self.out, 0o777)
        self.id = session.new_id(hint)
        self.config = self.default_config()
        self.host_mounts = []   # host mounts a test made; unmounted on teardown

    def default_config(self):
        c = copy.deepcopy(self.s.template)
        p = c.setdefault("process", {})
        p["terminal"] = False
        p["args"] = ["true"]
        p.pop("consoleSize", None)
        c["root"] = {"path": self.s.rootfs, "readonly": True}
        c["hostname"] = "celltest"
        c.setdefault("mounts", []).extend([
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "nodev", "mode=1777", "size=16m"]},
            {"destination": "/out", "type": "bind", "source": self.out,
             "options": ["rbind", "rw"]},
        ])
        c.setdefault("linux", {})
        return c

    # -- shortcuts
    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config["linux"]

    def args(self, *argv):
        self.process["args"] = list(argv)
        return self

    def sh(self, script):
        return self.args("sh", "-c", script)

    def add_mount(self, destination, type_, source, options=None):
        m = {"destination": destination, "type": type_, "source": source}
        if options is not None:
            m["options"] = list(options)
        self.config["mounts"].append(m)
        return m

    def namespaces(self):
        return [n["type"] for n in self.linux.get("namespaces", [])]

    def set_namespace(self, ns_type, present=True, path=None):
        nss = [n for n in self.linux.get("namespaces", []) if n["type"] != ns_type]
        if present:
            nss.append({"type": ns_type, **({"path": path} if path else {})})
        self.linux["namespaces"] = nss

    def private_rootfs(self):
        """A writable copy of the busybox rootfs inside the bundle."""
        dest = os.path.join(self.path, "rootfs")
        # the files only: a mount that a broken runtime left on the shared rootfs
        # (a procfs with its kmsg) must not be copied, or read forever
        subprocess.run(["cp", "-a", "--one-file-system", self.s.rootfs, dest], check=True,
                       timeout=DEFAULT_TIMEOUT * 4)
        self.config["root"]["path"] = "rootfs"
        return dest

    def write(self, cid=None):
        self.linux["cgroupsPath"] = self.s.cgroups_path(cid or self.id)  # "" stays ours too
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.config, f, indent=2)

    def write_raw(self, text):
        with open(os.path.join(self.path, "config.json"), "w") as f:
            f.write(text)

    def read_out(self, name):
        with open(os.path.join(self.out, name)) as f:
            return f.read()

    def host_mount(self, *mount_args, target):
        """mount(8) on the host at target (inside this bundle); undone on teardown."""
        assert target.startswith(self.path + "/")
        os.makedirs(target, exist_ok=True)
        subprocess.run(["mount", *mount_args, target], check=True)
        self.host_mounts.append(target)

    def destroy(self):
        for target in reversed(self.host_mounts):
            subprocess.run(["umount", "-l", target], capture_output=True)
        self.host_mounts.clear()
        if any(self.path in m["mountpoint"] for m in host_mounts()):
            return  # leave it for the leak check to report
        shutil.rmtree(self.path, ignore_errors=True)


def kill_tracked(session, pid):
    """SIGKILL a pid this suite saw (never anything else)."""
    st = session.tracked.get(pid)
    if st is not None and pid_alive(pid, st):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
