# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the host looks like, read on the host, before and after an attack.

Each hostile test records the host state its attack aims at (a file's hash,
a sysctl, a cgroup file, the mount table) and asserts it did not change.
Reading is all this module does: it never writes host state.
"""
import hashlib
import os

import celltest

# Host mounts an escape would show up on.  Other test suites may mount and
# unmount elsewhere on this machine meanwhile, so the comparison is limited
# to these, plus any mount that names an attack's marker.
WATCHED_MOUNTS = ("/", "/proc", "/sys", "/sys/fs/cgroup", "/dev", "/dev/pts", "/dev/shm",
                  "/run", "/tmp", "/proc/sys", "/proc/sysrq-trigger", "/etc", "/mnt")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read(path):
    """File text, or a string saying why it could not be read (still comparable)."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError as e:
        return f"<{type(e).__name__} {e.errno}>"


def snapshot(paths):
    return {p: read(p) for p in paths}


def mount_table():
    """Host mounts at WATCHED_MOUNTS and under /sys/fs/cgroup, as comparable tuples."""
    keep = []
    for m in celltest.host_mounts():
        mp = m["mountpoint"]
        if mp in WATCHED_MOUNTS or mp.startswith("/sys/fs/cgroup/"):
            keep.append((mp, m["fstype"], m["source"], m["root"], tuple(m["options"])))
    return sorted(keep)


def mounts_naming(marker):
    """Host mounts whose source, root or mount point contains marker."""
    return [m for m in celltest.host_mounts()
            if marker in m["source"] or marker in m["mountpoint"] or marker in m["root"]]


def tree(path):
    """{relative path: (mode, size, content hash)} of a host directory tree."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            digest = sha256(full) if os.path.isfile(full) and not os.path.islink(full) else ""
            found[os.path.relpath(full, path)] = (st.st_mode, st.st_size, digest)
    return found
