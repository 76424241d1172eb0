# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared fixtures of the clients suite: real container engines from Debian
(podman, containerd, dockerd) drive the runtime under test.

- `runtime` (module scope, parametrized over cellrun and runc): name and
  binary; runc's row is skipped when /usr/sbin/runc is absent.  A client
  module builds its store once per runtime on top of it.
- `leak_check` (function scope): what a test must not leave behind — mounts
  under the given dirs, cgroups below the suite's parent, processes that
  descend from this pytest (a subreaper: conmon and shims are adopted) or
  run as a given uid.  Clients call `leak_check.watch(...)` to add their
  dirs and uid, and the check runs after their own teardown.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import celltest  # noqa: E402

RUNC = os.environ.get("RUNC", "/usr/sbin/runc")
CGROUP_PARENT = f"cellclients-{os.getpid()}"


def pytest_configure(config):
    config.addinivalue_line("markers", "cgroups: needs cgroup limits (none rootless on v1)")


def cellrun_binary():
    return os.environ.get("CELLRUN") or os.path.join(REPO, "build", "src", "cellrun", "cellrun")


class RuntimeUnderTest:
    def __init__(self, name, binary):
        self.name = name
        self.binary = binary

    @property
    def is_cell(self):
        return self.name == "cellrun"

    def __repr__(self):
        return self.name


@pytest.fixture(scope="session", autouse=True)
def _subreaper():
    celltest.become_subreaper()
    yield
    celltest.reap_orphans()
    # the suite's cgroup parents, when empty (each test checked its own)
    for ctrl in celltest.cgroup_hierarchies():
        p = os.path.join(celltest.CGROUP_FS, ctrl, CGROUP_PARENT)
        for dirpath, _, _ in sorted(os.walk(p, topdown=False), key=lambda t: -len(t[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass
    celltest.remove_plain_cgroup_dirs(CGROUP_PARENT)


@pytest.fixture(scope="module", params=["cellrun", "runc"])
def runtime(request):
    binary = cellrun_binary() if request.param == "cellrun" else RUNC
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{request.param} not found at {binary}")
    return RuntimeUnderTest(request.param, binary)


def descendants(root_pid):
    """pid -> cmdline of every live process below root_pid."""
    children = {}
    for pid, state, ppid in celltest.proc_stats():
        if state != "Z":
            children.setdefault(ppid, []).append(pid)
    found, todo = {}, [root_pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found[c] = cmdline(c)
            todo.append(c)
    return found


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def processes_of_uid(uid):
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found[int(entry)] = cmdline(int(entry))
            except OSError:
                pass
    return found


def remove_cgroups(rel_paths):
    """rmdir CGROUP_PARENT/rel in every hierarchy, deepest first (empty ones only)."""
    for rel in sorted(rel_paths, key=lambda r: -r.count("/")):
        for ctrl in celltest.cgroup_hierarchies():
            try:
                os.rmdir(os.path.join(celltest.CGROUP_FS, ctrl, CGROUP_PARENT, rel))
            except OSError:
                pass


def cgroup_children(path):
    """Names of the child cgroups of PATH (absolute, below CGROUP_FS's
    hierarchies) in any mounted hierarchy."""
    out = set()
    for ctrl in celltest.cgroup_hierarchies():
        p = os.path.join(celltest.CGROUP_FS, ctrl, path.lstrip("/"))
        if os.path.isdir(p):
            out.update(d for d in os.listdir(p) if os.path.isdir(os.path.join(p, d)))
    return out


def remove_made_dirs(existed):
    """rmdir, deepest first, the fixed host dirs (keys of EXISTED: path ->
    whether it was there before) that an engine made during the suite and
    left empty; another daemon's files are never touched."""
    for d in sorted(existed, key=len, reverse=True):
        if not existed[d]:
            try:
                os.rmdir(d)
            except OSError:
                pass


def suite_cgroups():
    found = []
    for ctrl in celltest.cgroup_hierarchies():
        p = os.path.join(celltest.CGROUP_FS, ctrl, CGROUP_PARENT)
        for dirpath, dirnames, _ in os.walk(p):
            found.extend(os.path.join(dirpath, d) for d in dirnames)
    return found


class LeakCheck:
    def __init__(self):
        self.dirs = []
        self.uids = []
        self.keep = set()  # pids a module keeps on purpose (none for podman)
        self.engine_cgroups = set()  # the engine's own parents, removed at its close
        self.before = set(descendants(os.getpid()))

    def watch(self, dirs=(), uid=None, engine_cgroups=()):
        """engine_cgroups: paths below the suite's parent that the engine keeps
        for its lifetime (podman's parent and conmon group), not a test's."""
        self.engine_cgroups |= set(engine_cgroups)
        self.dirs += list(dirs)
        if uid is not None:
            self.uids.append(uid)

    def findings(self):
        celltest.reap_orphans()
        out = [f"mount {m['mountpoint']} ({m['fstype']})" for m in celltest.host_mounts()
               if any(m["mountpoint"].startswith(d) for d in self.dirs)]
        out += [f"cgroup {p}" for p in suite_cgroups()
                if os.path.relpath(p, celltest.CGROUP_FS).split("/", 2)[2]
                not in self.engine_cgroups]
        procs = {p: c for p, c in descendants(os.getpid()).items()
                 if p not in self.before and p not in self.keep}
        for uid in self.uids:
            procs.update(processes_of_uid(uid))
        out += [f"process {p}: {c}" for p, c in sorted(procs.items())]
        return out


@pytest.fixture
def leak_check():
    lc = LeakCheck()
    yield lc
    found = []
    for _ in range(50):  # conmon and the runtime exit a moment after podman
        found = lc.findings()
        if not found:
            break
        celltest.time.sleep(0.1)
    assert not found, "left behind:\n" + "\n".join(found)
