# SPDX-License-Identifier: LGPL-2.1-or-later
"""dockerd (Debian's docker.io 20.10, test-only, unpacked by scripts/install-deps
into a private prefix: never installed, so its init script starts no system
daemon that rewrites the host's firewall) with a private daemon per runtime.

The daemon runs in `unshare --uts --net` (a network namespace held by the
daemon itself, gone with it) with --bridge=none and no iptables, ip
forwarding, masquerading or userland proxy; its own --data-root,
--exec-root, --pidfile, unix socket, --config-file (the trust key path in
it) and the containerd it manages (root and state under those dirs); vfs
storage, cgroupfs below the suite's parent, no live-restore.  The runtime
is `--add-runtime NAME=WRAPPER --default-runtime NAME`: a wrapper that logs
each call.  The image is imported offline from a busybox-static rootfs
(`docker import`); every container runs with `--network none`.
"""
import glob
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile

import celltest
from conftest import cgroup_children, remove_cgroups, remove_made_dirs

PREFIX = os.environ.get("CELL_DOCKER_PREFIX", "/var/cache/cell/docker")
DOCKERD = os.path.join(PREFIX, "usr/sbin/dockerd")
DOCKER = os.path.join(PREFIX, "usr/bin/docker")
IMAGE = "cellclients/busybox:latest"
# made by dockerd (plugin discovery) and by containerd 1.6's shims (their
# sockets) at fixed paths; removed at the end when this suite made them
SYSTEM_DIRS = ["/run/docker", "/run/docker/plugins", "/run/containerd", "/run/containerd/s"]
ROOT_MAXKEYS = "/proc/sys/kernel/keys/root_maxkeys"
DAEMON_ARGS = ["--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false",
               "--ip-masq=false", "--userland-proxy=false", "--storage-driver", "vfs",
               "--exec-opt", "native.cgroupdriver=cgroupfs", "--log-level", "info"]


def host_change_reason():
    """Why dockerd would change the host here (None when it would not): it
    raises kernel.keys.root_maxkeys (a host-wide sysctl) below 1000000, and
    loads its AppArmor profile into the kernel when AppArmor is enabled."""
    try:
        with open(ROOT_MAXKEYS) as f:
            if int(f.read()) < 1000000:
                return f"{ROOT_MAXKEYS} < 1000000: dockerd would raise this host-wide sysctl"
    except OSError:
        pass
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            if f.read().strip() == "Y":
                return "AppArmor is enabled: dockerd would load its profile into the kernel"
    except OSError:
        pass
    return None


class Docker:
    image = IMAGE

    def __init__(self, runtime, base, cgroup_parent):
        self.runtime = runtime
        self.dir = base
        # dockerd's name for the runtime ("runc" is its built-in one)
        self.name = "cellrun" if runtime.is_cell else "runc-deb"
        self.data_root = os.path.join(base, "data")
        self.exec_root = os.path.join(base, "exec")
        self.sock = os.path.join(base, "docker.sock")
        self.log = os.path.join(base, "runtime.log")
        self.wrapper = os.path.join(base, "runtime")
        self.cgroup_rel = f"docker-{runtime.name}"
        self.cgroup_parent = f"/{cgroup_parent}/{self.cgroup_rel}"
        self.proc = None
        for d in ("client", "tmp"):
            os.makedirs(os.path.join(base, d))
        with open(self.wrapper, "w") as f:
            f.write("#!/bin/sh\n"
                    f"echo \"$(id -u) $*\" >> '{self.log}'\n"
                    f"exec '{runtime.binary}' \"$@\"\n")
        os.chmod(self.wrapper, 0o755)
        self.config = os.path.join(base, "daemon.json")
        with open(self.config, "w") as f:
            # the trust key, else /etc/docker/key.json
            f.write(f'{{"deprecated-key-path": "{base}/key.json"}}\n')
        bindir = os.path.join(PREFIX, "usr/bin")
        # dockerd finds containerd, its shim and docker-init through PATH
        self.env = {"PATH": f"{bindir}:{os.path.join(PREFIX, 'usr/sbin')}:"
                            "/usr/sbin:/usr/bin:/sbin:/bin",
                    "HOME": base, "DOCKER_CONFIG": os.path.join(base, "client"),
                    "TMPDIR": os.path.join(base, "tmp")}

    def start(self):
        self.daemon_log = open(os.path.join(self.dir, "dockerd.log"), "wb")
        self.proc = subprocess.Popen(
            ["unshare", "--uts", "--net", "--", DOCKERD, "--config-file", self.config,
             "--data-root", self.data_root, "--exec-root", self.exec_root,
             "--pidfile", os.path.join(self.dir, "docker.pid"), "-H", f"unix://{self.sock}",
             "--cgroup-parent", self.cgroup_parent,
             "--add-runtime", f"{self.name}={self.wrapper}", "--default-runtime", self.name,
             *DAEMON_ARGS],
            stdin=subprocess.DEVNULL, stdout=self.daemon_log, stderr=subprocess.STDOUT,
            env=self.env, cwd=self.dir, start_new_session=True)
        celltest.IN_FLIGHT.add(self.proc.pid)
        celltest.wait_for(lambda: self.proc.poll() is not None or
                          self("version", timeout=10).rc == 0,
                          timeout=60, interval=0.2, what="dockerd answering")
        assert self.proc.poll() is None, f"dockerd exited:\n{self.daemon_output()}"

    def daemon_output(self):
        with open(os.path.join(self.dir, "dockerd.log"), errors="replace") as f:
            return f.read()[-4000:]

    def client_args(self):
        return [DOCKER, "-H", f"unix://{self.sock}"]

    def __call__(self, *args, timeout=60, check=False, stdin=None):
        r = celltest.run_reaping(self.client_args() + list(args), timeout=timeout,
                                 tmpdir=self.dir, cwd=self.dir, env=self.env, stdin=stdin)
        if check:
            assert r.rc == 0, f"docker {' '.join(args)}: rc={r.rc}\n{r.out}\n{r.err}"
        return r

    def run_args(self, *args):
        return ["run", "--network", "none", *args]

    def inspect(self, name, fmt):
        return self("inspect", "--format", fmt, name, check=True).out.strip()

    def own_cgroups(self):
        return {self.cgroup_rel}

    def runtime_calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [ln.split() for ln in f.read().splitlines()]

    def runtime_state(self):
        """The runtime's state dirs: dockerd 20.10 gives its runtimes the
        root <exec-root>/runtime-runc/<containerd namespace> (the name of
        its built-in one, whichever runtime it is)."""
        found = []
        for top in glob.glob(os.path.join(self.exec_root, "runtime-*")):
            for ns in os.listdir(top):
                found += [os.path.join(top, ns, c) for c in os.listdir(os.path.join(top, ns))]
        return found

    def daemon_pids(self):
        """dockerd and the containerd it manages."""
        if self.proc is None:
            return set()
        pids = {self.proc.pid}
        for pid, state, ppid in celltest.proc_stats():
            if ppid == self.proc.pid and state != "Z":
                pids.add(pid)
        return pids

    def shims(self):
        """live containerd-shim-runc-v2 processes of this daemon's containerd."""
        address = os.path.join(self.exec_root, "containerd", "containerd.sock").encode()
        found = []
        for pid, state, _ in celltest.proc_stats():
            if state == "Z":
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and address in argv:
                found.append(pid)
        return found

    def ids(self):
        return self("ps", "--all", "--quiet", "--no-trunc", check=True).out.split()

    def reset(self):
        """Remove every container (running, paused or stopped)."""
        for cid in self.ids():
            self("rm", "--force", cid, timeout=60)
        remove_cgroups({f"{self.cgroup_rel}/{c}" for c in cgroup_children(self.cgroup_parent)})

    def import_image(self, rootfs):
        tar_path = os.path.join(self.dir, "busybox.tar")
        with tarfile.open(tar_path, "w") as tar:
            tar.add(rootfs, arcname=".")
        self("import", tar_path, IMAGE, check=True, timeout=120)
        os.unlink(tar_path)

    def stop(self):
        """TERM: dockerd stops its containerd, unmounts its root and exits."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in self.daemon_pids():
                    os.kill(pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        celltest.IN_FLIGHT.discard(self.proc.pid)
        self.daemon_log.close()
        self.proc = None

    def close(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.reset()
        finally:
            shims = self.shims()
            self.stop()
            # the shims exit with their last container; any left (a failed reset) are ours
            for pid in shims + self.shims():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            celltest.reap_orphans()
            for m in sorted(celltest.host_mounts(), key=lambda m: -len(m["mountpoint"])):
                if m["mountpoint"] == self.dir or m["mountpoint"].startswith(self.dir + "/"):
                    subprocess.run(["umount", "-l", m["mountpoint"]], capture_output=True)
            remove_cgroups({f"{self.cgroup_rel}/{c}" for c in cgroup_children(self.cgroup_parent)})
            remove_cgroups(self.own_cgroups())


def make_engine(runtime, cgroup_parent):
    base = tempfile.mkdtemp(prefix=f"cellclients-docker-{runtime.name}-", dir="/tmp")
    os.chmod(base, 0o755)
    existed = {d: os.path.exists(d) for d in SYSTEM_DIRS}
    dk = None

    def close():
        try:
            if dk:
                dk.close()
        finally:
            shutil.rmtree(base, ignore_errors=True)
            remove_made_dirs(existed)
    try:
        dk = Docker(runtime, base, cgroup_parent)
        dk.start()
        rootfs = os.path.join(base, "rootfs")
        celltest.build_rootfs(rootfs)
        dk.import_image(rootfs)
        shutil.rmtree(rootfs)
    except BaseException:
        close()
        raise
    return dk, close, existed
