# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 8, escape 5: a system container's init must not mount a new procfs over
the one the runtime set up (masked /proc/keys and /proc/timer_list, read-only
/proc/sys).  The busybox template's rcS used to call `mountpoint`, which Debian's
busybox-static lacks, and so always mounted a fresh, unmasked procfs.

Observed from inside the booted container: one procfs at /proc, and the masks
and the read-only /proc/sys on top of that visible one."""
import os

import pytest

from test_cell import wait

BOOTED = "/run/cell-test-booted"


def kinds(cell):
    """The two kinds of system container: privileged (no user namespace) and
    unprivileged, spelled whichever way this cell's create understands."""
    usage = cell("create", "--help").stdout + cell("create", "--help").stderr
    privileged = ["--privileged"] if "--privileged" in usage else []
    return {"privileged": privileged, "unprivileged": ["--unprivileged"]}


def visible_mounts(mountinfo):
    """mount point -> (id, parent id, per-mount options) of the mount seen there
    (the last one mounted at that point)."""
    seen = {}
    for line in mountinfo.splitlines():
        f = line.split()
        seen[f[4]] = (f[0], f[1], f[5].split(","))
    return seen


def boot(cell, n, args):
    cell("create", n, "--template", "busybox", *args, check=True)
    rootfs = os.path.join(cell.store, "containers", n, "rootfs")
    # the last boot script: rcS has done its mounts when this has run
    marker = os.path.join(rootfs, "etc/init.d/S99celltest")
    with open(marker, "w") as f:
        f.write(f"#!/bin/sh\n: > {BOOTED}\n")
    os.chmod(marker, 0o755)
    cell("start", n, check=True)
    wait(lambda: cell("exec", n, "--", "test", "-e", BOOTED).returncode == 0, what="rcS done")


@pytest.mark.parametrize("kind", ["privileged", "unprivileged"])
def test_init_keeps_the_runtime_proc(cell, kind):
    n = cell.name(f"proc-{kind}")
    boot(cell, n, kinds(cell)[kind])
    info = cell("exec", n, "--", "cat", "/proc/self/mountinfo", check=True).stdout
    procs = [ln for ln in info.splitlines() if ln.split()[4] == "/proc"]
    assert len(procs) == 1, "a second procfs was mounted over the runtime's:\n" + "\n".join(procs)
    seen = visible_mounts(info)
    proc_id = seen["/proc"][0]
    for masked in ("/proc/keys", "/proc/timer_list", "/proc/sys"):
        assert masked in seen and seen[masked][1] == proc_id, f"{masked} not masked:\n{info}"
    assert "ro" in seen["/proc/sys"][2], seen["/proc/sys"]
    r = cell("exec", n, "--", "cat", "/proc/timer_list", "/proc/keys")
    assert r.returncode == 0 and r.stdout == "", r
    # opened for writing, nothing written (and the file is one the UTS namespace owns)
    r = cell("exec", n, "--", "sh", "-c", ": >> /proc/sys/kernel/hostname && echo opened")
    assert "opened" not in r.stdout, r
    cell("stop", n, check=True)
    cell("destroy", n, check=True)
    cell.names.discard(n)


def test_unprivileged_fresh_proc_unmasks_nothing_writable(cell):
    """Defence beneath the masks, where the kernel holds them: in an unprivileged
    container, root may mount a procfs of its own (the runtime's masks are not
    locked mounts, so the kernel's mount_too_revealing check lets it), but what it
    uncovers stays the host root's: timer_list unreadable, core_pattern and
    sysrq-trigger not writable (opened for writing, nothing written)."""
    n = cell.name("freshproc")
    boot(cell, n, ["--unprivileged"])
    script = ("mkdir -p /tmp/p && mount -t proc proc /tmp/p || exit 9; "
              "cat /tmp/p/timer_list >/dev/null 2>&1 && echo timer_list-read; "
              "(: >> /tmp/p/sys/kernel/core_pattern) 2>/dev/null && echo core_pattern-open; "
              "(: >> /tmp/p/sysrq-trigger) 2>/dev/null && echo sysrq-open; "
              "umount /tmp/p")
    r = cell("exec", n, "--", "sh", "-c", script)
    if r.returncode == 9:
        pytest.skip("this kernel refuses a new procfs in the container: nothing to uncover")
    assert r.returncode == 0 and r.stdout == "", r
    cell("stop", n, check=True)
    cell("destroy", n, check=True)
    cell.names.discard(n)
