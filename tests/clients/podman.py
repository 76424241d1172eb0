# SPDX-License-Identifier: LGPL-2.1-or-later
"""podman (Debian's 4.3, test-only) as root and as a fresh unprivileged user,
with its own store, run dir, tmp dir, network config and runtime state.

Root: --root/--runroot/--tmpdir under the engine's dir, cgroupfs below the
suite's parent, `unshare --uts --net` around podman (a runtime bug that sets
the hostname or a sysctl too early hits a throwaway namespace).
Rootless: a user made by useradd, ranges appended to /etc/subuid and
/etc/subgid (restored byte for byte), XDG_RUNTIME_DIR a dir made here,
storage under its HOME.  podman creates the user namespace (newuidmap) and
runs the runtime there as its root: no cgroups on this v1 host.
Both reach the runtime through a wrapper that logs each call.
"""
import os
import pwd
import shutil
import subprocess
import tarfile
import tempfile

import celltest
from conftest import remove_cgroups

IMAGE = "localhost/cellclients-busybox:latest"
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
SYSTEM_DIRS = ["/var/lib/containers", "/run/containers"]
USER = "cellclients-pm"
SUBID_COUNT = 65536


def subid_start(*paths):
    """The first multiple of 65536 past every range in the files (>= 200000)."""
    end = 200000
    for path in paths:
        with open(path) as f:
            for line in f:
                parts = line.strip().split(":")
                if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                    end = max(end, int(parts[1]) + int(parts[2]))
    return (end + SUBID_COUNT - 1) // SUBID_COUNT * SUBID_COUNT


class RootlessUser:
    """useradd + sub-id ranges; undone by close() (userdel -r, files restored)."""

    def __init__(self, base):
        self.saved = {}
        for p in ("/etc/subuid", "/etc/subgid"):
            with open(p, "rb") as f:
                self.saved[p] = f.read()
        try:
            pwd.getpwnam(USER)
            raise AssertionError(f"user {USER} exists: a previous run did not clean up")
        except KeyError:
            pass
        # -K ..._COUNT=0: no automatic ranges; the ones below are the test's
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", "-K",
                        "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", USER], check=True,
                       capture_output=True)
        self.pw = pwd.getpwnam(USER)
        start = subid_start(*self.saved)
        self.line = f"{USER}:{start}:{SUBID_COUNT}\n".encode()
        for p, data in self.saved.items():
            with open(p, "wb") as f:
                f.write(data + (b"" if not data or data.endswith(b"\n") else b"\n") + self.line)
        self.xdg = os.path.join(base, "xdg")
        os.mkdir(self.xdg, 0o700)
        os.chown(self.xdg, self.pw.pw_uid, self.pw.pw_gid)

    @property
    def uid(self):
        return self.pw.pw_uid

    def close(self):
        # everything the user runs was started by this suite (podman's pause process)
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.stat(f"/proc/{entry}").st_uid == self.uid:
                        os.kill(int(entry), 9)
                except OSError:
                    pass
        celltest.wait_for(lambda: not any(
            e.isdigit() and _uid_of(e) == self.uid for e in os.listdir("/proc")),
            what=f"processes of {USER} gone")
        celltest.reap_orphans()
        subprocess.run(["userdel", "--remove", USER], capture_output=True)
        for p, data in self.saved.items():
            with open(p, "rb") as f:
                now = f.read()
            if now != data:
                # byte for byte what was there; a range someone else added
                # meanwhile (other suites run useradd too) is kept
                other = b"".join(ln for ln in now.splitlines(True)
                                 if not ln.startswith(f"{USER}:".encode()))
                with open(p, "wb") as f:
                    f.write(data if other in (data, data + b"\n") else other)


def _uid_of(pid):
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


class Podman:
    image = IMAGE

    def __init__(self, runtime, user, base, cgroup_parent):
        rootless = user is not None
        self.runtime = runtime
        self.rootless = rootless
        self.dir = base
        self.log = os.path.join(base, "runtime.log")
        self.wrapper = os.path.join(base, "runtime")
        self.cgroup_parent = f"/{cgroup_parent}/podman-{runtime.name}"
        self.user = user
        home = self.user.pw.pw_dir if rootless else base
        store = os.path.join(home, "store")
        run = os.path.join(self.user.xdg if rootless else base, "run")
        for d in (store, run, os.path.join(run, "tmp"), os.path.join(run, "net")):
            os.makedirs(d, exist_ok=True)
            if rootless:
                os.chown(d, self.user.uid, self.user.pw.pw_gid)
        # root: the state under our dir (podman 4.3 drops --runtime-flag at
        # delete); rootless: the runtime's own default, $XDG_RUNTIME_DIR/NAME
        root_flag = "" if rootless else f"--root '{os.path.join(base, 'runtime-state')}' "
        with open(self.wrapper, "w") as f:
            f.write("#!/bin/sh\n"
                    f"echo \"$(id -u) $*\" >> '{self.log}'\n"
                    f"exec '{runtime.binary}' {root_flag}\"$@\"\n")
        os.chmod(self.wrapper, 0o755)
        if rootless:
            with open(self.log, "w"):
                pass
            os.chown(self.log, self.user.uid, self.user.pw.pw_gid)
        podman = ["podman", "--root", store, "--runroot", run,
                  "--tmpdir", os.path.join(run, "tmp"),
                  "--network-config-dir", os.path.join(run, "net"),
                  "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                  "--events-backend", "file", "--runtime", self.wrapper]
        if rootless:
            self.env = {"PATH": os.environ["PATH"], "HOME": home, "USER": USER,
                        "LOGNAME": USER, "XDG_RUNTIME_DIR": self.user.xdg}
            self.base_args = ["setpriv", f"--reuid={self.user.uid}",
                              f"--regid={self.user.pw.pw_gid}", "--init-groups", "--", *podman]
        else:
            self.env = None
            self.base_args = ["unshare", "--uts", "--net", "--", *podman]

    def client_args(self):
        return self.base_args

    def __call__(self, *args, timeout=60, check=False, stdin=None):
        # conmon daemonizes and is adopted by this (subreaper) process
        r = celltest.run_reaping(self.base_args + list(args), timeout=timeout, tmpdir=self.dir,
                                 env=self.env, cwd=self.dir, stdin=stdin)
        if check:
            assert r.rc == 0, f"podman {' '.join(args)}: rc={r.rc}\n{r.out}\n{r.err}"
        return r

    def run_args(self, *args):
        extra = [] if self.rootless else ["--cgroup-parent", self.cgroup_parent]
        return ["run", "--network", "none", *extra, *ULIMITS, *args]

    def own_cgroups(self):
        """podman's --cgroup-parent and the conmon group below it."""
        p = self.cgroup_parent.split("/", 2)[2]
        return {p, f"{p}/conmon"}

    def inspect(self, name, fmt):
        return self("inspect", "--format", fmt, name, check=True).out.strip()

    def runtime_calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [ln.split() for ln in f.read().splitlines()]

    def import_image(self, rootfs):
        tar_path = os.path.join(self.dir, "busybox.tar")
        with tarfile.open(tar_path, "w") as tar:
            tar.add(rootfs, arcname=".")
        os.chmod(tar_path, 0o644)
        self("import", tar_path, IMAGE, check=True, timeout=120)

    def reset(self):
        self("rm", "--all", "--force", "--time", "0", timeout=120)

    def close(self):
        self.reset()
        self("system", "reset", "--force", timeout=120)
        for m in sorted(celltest.host_mounts(), key=lambda m: -len(m["mountpoint"])):
            if m["mountpoint"].startswith(self.dir + "/"):
                subprocess.run(["umount", "-l", m["mountpoint"]], capture_output=True)
        if self.user:
            self.user.close()
        remove_cgroups(self.own_cgroups())


def make_engine(runtime, rootless, cgroup_parent):
    base = tempfile.mkdtemp(prefix=f"cellclients-podman-{runtime.name}-", dir="/tmp")
    os.chmod(base, 0o755)
    existed = {d: os.path.exists(d) for d in SYSTEM_DIRS}
    pm = user = None

    def close():
        try:
            if pm:
                pm.close()
            elif user:
                user.close()
        finally:
            shutil.rmtree(base, ignore_errors=True)
            for d, was in existed.items():
                if not was and os.path.isdir(d):
                    shutil.rmtree(d, ignore_errors=True)
    try:
        user = RootlessUser(base) if rootless else None
        pm = Podman(runtime, user, base, cgroup_parent)
        rootfs = os.path.join(base, "rootfs")
        celltest.build_rootfs(rootfs)
        pm.import_image(rootfs)
        shutil.rmtree(rootfs)
    except BaseException:
        close()
        raise
    return pm, close
