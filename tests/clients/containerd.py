# SPDX-License-Identifier: LGPL-2.1-or-later
"""containerd (Debian's 1.6, test-only) with a private daemon: its own
config, root, state, gRPC/ttrpc sockets and opt dir under a temp dir of the
engine; the CRI plugin disabled.  The daemon runs in `unshare --uts --net`
(a runtime bug that sets the hostname or a sysctl too early hits a
throwaway namespace).  `ctr run --runtime io.containerd.runc.v2
--runc-binary WRAPPER --runc-root DIR --fifo-dir DIR --cgroup
/<suite parent>/containerd-<runtime>/<id>` keeps the runtime's state, the
FIFOs and the cgroups in dirs of the engine; the wrapper logs each runtime
call.  The image is an OCI archive of a busybox-static rootfs written here
with tarfile and imported offline (`ctr images import`).
"""
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile

import celltest
from conftest import cgroup_children, remove_cgroups, remove_made_dirs

NAMESPACE = "celltest"
IMAGE = "docker.io/cellclients/busybox:latest"
CONTAINERD = "/usr/bin/containerd"
CTR = "/usr/bin/ctr"
SHIM = "/usr/bin/containerd-shim-runc-v2"
# the 1.6 shim puts its socket in a fixed dir, not under the daemon's state
SHIM_SOCKETS = "/run/containerd/s"
SYSTEM_DIRS = ["/run/containerd", SHIM_SOCKETS]

CONFIG = """version = 2
root = "{base}/root"
state = "{base}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{base}/containerd.sock"

[ttrpc]
  address = "{base}/containerd.sock.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{base}/opt"
"""


def _blob(tar, data):
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
    return {"digest": f"sha256:{digest}", "size": len(data)}


def write_oci_archive(rootfs, path, name):
    """An OCI image layout tarball: one uncompressed layer of rootfs."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as layer:
        layer.add(rootfs, arcname=".")
    layer_data = buf.getvalue()
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
              "rootfs": {"type": "layers",
                         "diff_ids": [f"sha256:{hashlib.sha256(layer_data).hexdigest()}"]}}
    with tarfile.open(path, "w") as tar:
        layer_desc = _blob(tar, layer_data)
        config_desc = _blob(tar, json.dumps(config).encode())
        manifest = {"schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               **config_desc},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                **layer_desc}]}
        manifest_desc = _blob(tar, json.dumps(manifest).encode())
        index = {"schemaVersion": 2,
                 "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                **manifest_desc,
                                "annotations": {"io.containerd.image.name": name,
                                                "org.opencontainers.image.ref.name": "latest"}}]}
        for fname, data in (("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
                            ("index.json", json.dumps(index).encode())):
            info = tarfile.TarInfo(fname)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))


class Containerd:
    def __init__(self, runtime, base, cgroup_parent):
        self.runtime = runtime
        self.dir = base
        self.sock = os.path.join(base, "containerd.sock")
        self.log = os.path.join(base, "runtime.log")
        self.wrapper = os.path.join(base, "runtime")
        self.runc_root = os.path.join(base, "runtime-state")
        self.fifo_dir = os.path.join(base, "fifo")
        self.cgroup_rel = f"containerd-{runtime.name}"
        self.cgroup_base = f"/{cgroup_parent}/{self.cgroup_rel}"
        self.proc = None
        for d in ("opt", "fifo", "runtime-state"):
            os.makedirs(os.path.join(base, d))
        with open(self.wrapper, "w") as f:
            f.write("#!/bin/sh\n"
                    f"echo \"$(id -u) $*\" >> '{self.log}'\n"
                    f"exec '{runtime.binary}' \"$@\"\n")
        os.chmod(self.wrapper, 0o755)
        self.config = os.path.join(base, "config.toml")
        with open(self.config, "w") as f:
            f.write(CONFIG.format(base=base))

    def start(self):
        self.daemon_log = open(os.path.join(self.dir, "containerd.log"), "wb")
        # the shim finds the runtime through --runc-binary; PATH for the rest
        self.proc = subprocess.Popen(
            ["unshare", "--uts", "--net", "--", CONTAINERD, "--config", self.config],
            stdin=subprocess.DEVNULL, stdout=self.daemon_log, stderr=subprocess.STDOUT,
            start_new_session=True)
        celltest.IN_FLIGHT.add(self.proc.pid)
        celltest.wait_for(lambda: self.proc.poll() is not None or
                          self("version", timeout=5).rc == 0,
                          timeout=30, interval=0.1, what="containerd answering")
        assert self.proc.poll() is None, f"containerd exited:\n{self.daemon_output()}"

    def daemon_output(self):
        with open(os.path.join(self.dir, "containerd.log"), errors="replace") as f:
            return f.read()[-4000:]

    def __call__(self, *args, timeout=60, check=False, stdin=None):
        r = celltest.run_reaping([CTR, "--address", self.sock, "--namespace", NAMESPACE,
                                  *args], timeout=timeout, tmpdir=self.dir, cwd=self.dir,
                                 stdin=stdin)
        if check:
            assert r.rc == 0, f"ctr {' '.join(args)}: rc={r.rc}\n{r.out}\n{r.err}"
        return r

    def cgroup(self, cid):
        return f"{self.cgroup_base}/{cid}"

    def run_args(self, cid, *opts):
        """`ctr run` options that keep everything in the engine's dirs."""
        return ["run", "--runtime", "io.containerd.runc.v2", "--runc-binary", self.wrapper,
                "--runc-root", self.runc_root, "--fifo-dir", self.fifo_dir,
                "--cgroup", self.cgroup(cid), *opts]

    def own_cgroups(self):
        return {self.cgroup_rel}

    def runtime_calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [ln.split() for ln in f.read().splitlines()]

    def ids(self, what):
        """ids of `ctr containers ls -q` / `ctr tasks ls -q`."""
        return self(what, "ls", "-q", check=True).out.split()

    def shims(self):
        """live containerd-shim-runc-v2 processes of this daemon's socket."""
        found = []
        for pid, state, _ in celltest.proc_stats():
            if state == "Z":
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and \
                    self.sock.encode() in b" ".join(argv) + self._shim_env(pid):
                found.append(pid)
        return found

    def _shim_env(self, pid):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                return f.read()
        except OSError:
            return b""

    def reset(self):
        """Kill and delete every task and container of the namespace."""
        for cid in self.ids("tasks"):
            self("tasks", "kill", "--signal", "SIGKILL", cid)
            self("tasks", "resume", cid)  # a paused task does not die of KILL until thawed
            celltest.wait_for(lambda: self("tasks", "delete", cid).rc == 0 or
                              cid not in self.ids("tasks"), timeout=20, interval=0.1,
                              what=f"task {cid} deleted")
        for cid in self.ids("containers"):
            self("containers", "delete", cid, check=True)
        remove_cgroups({f"{self.cgroup_rel}/{c}" for c in cgroup_children(self.cgroup_base)})

    def import_image(self, rootfs):
        tar_path = os.path.join(self.dir, "busybox-oci.tar")
        write_oci_archive(rootfs, tar_path, IMAGE)
        self("images", "import", tar_path, check=True, timeout=120)
        os.unlink(tar_path)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        celltest.IN_FLIGHT.discard(self.proc.pid)
        self.daemon_log.close()
        self.proc = None

    def close(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.reset()
        finally:
            self.stop()
            # the shims exit with their last task; any left (a failed reset) are ours
            for pid in self.shims():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            celltest.reap_orphans()
            for m in sorted(celltest.host_mounts(), key=lambda m: -len(m["mountpoint"])):
                if m["mountpoint"].startswith(self.dir + "/"):
                    subprocess.run(["umount", "-l", m["mountpoint"]], capture_output=True)
            remove_cgroups({f"{self.cgroup_rel}/{c}" for c in cgroup_children(self.cgroup_base)})
            remove_cgroups(self.own_cgroups())


def shim_sockets():
    try:
        return set(os.listdir(SHIM_SOCKETS))
    except FileNotFoundError:
        return set()


def make_engine(runtime, cgroup_parent):
    base = tempfile.mkdtemp(prefix=f"cellclients-containerd-{runtime.name}-", dir="/tmp")
    os.chmod(base, 0o755)
    existed = {d: os.path.exists(d) for d in SYSTEM_DIRS}
    ctrd = None
    try:
        ctrd = Containerd(runtime, base, cgroup_parent)
        ctrd.start()
        rootfs = os.path.join(base, "rootfs")
        celltest.build_rootfs(rootfs)
        ctrd.import_image(rootfs)
        shutil.rmtree(rootfs)
    except BaseException:
        if ctrd:
            ctrd.close()
        shutil.rmtree(base, ignore_errors=True)
        remove_made_dirs(existed)
        raise

    def close():
        try:
            ctrd.close()
        finally:
            shutil.rmtree(base, ignore_errors=True)
            remove_made_dirs(existed)
    return ctrd, close
