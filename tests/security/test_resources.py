# SPDX-License-Identifier: LGPL-2.1-or-later
"""Exhausting resources from inside: a fork bomb against pids.max 64, a
memory bomb against a 64 MiB limit, tmpfs mounts filled to their size.
The container hits its own limit (EAGAIN, the OOM killer, ENOSPC); the
host, the runtime and a neighbour container keep working.
"""
import os
import subprocess
import time

import pytest

import celltest
from payload import parse_report
from secrun import release, wait_out

MiB = 1 << 20
PIDS_LIMIT = 64
MEMORY_LIMIT = 64 * MiB

FORK_BOMB = r"""
/* Fork until the kernel says no; children park in pause().  Report to
 * argv[1], then hold until argv[2] exists (at most 20 s). */
int main(int argc, char **argv)
{
	long n = 0;
	int err = 0;
	freopen(argv[1], "w", stdout);
	for (;;) {
		pid_t pid = fork();
		if (pid == 0) {
			pause();
			_exit(0);
		}
		if (pid < 0) {
			err = errno;
			break;
		}
		if (++n >= 100000)
			break;
	}
	report("forked", "%ld", n);
	report("fork_error", "%s", err ? strerrorname_np(err) : "none");
	for (int i = 0; i < 200 && access(argv[2], F_OK) < 0; i++)
		usleep(100000);
	return 0;
}
"""

MEMORY_BOMB = r"""
/* Touch 1 MiB after 1 MiB, up to 1 GiB, reporting every 4 MiB to argv[1]. */
int main(int argc, char **argv)
{
	long mib;
	freopen(argv[1], "w", stdout);
	for (mib = 1; mib <= 1024; mib++) {
		char *p = malloc(1 << 20);
		if (!p) {
			report("malloc_failed_at", "%ld", mib);
			return 1;
		}
		memset(p, 0xa5, 1 << 20);
		if (mib % 4 == 0)
			report("allocated_mib", "%ld", mib);
	}
	report("survived", "%ld", mib);
	return 0;
}
"""


def resources(bundle):
    return bundle.linux.setdefault("resources", {})


def host_cgroup_file(session, bundle, controller, name):
    """A file of the container's cgroup, read on the host."""
    with open(os.path.join(session.host_cgroup(controller, bundle.id), name)) as f:
        return f.read().strip()


@pytest.fixture
def neighbour(runtime, make_bundle):
    """A container that must stay responsive while another misbehaves."""
    b = make_bundle("neighbour")
    b.args("sleep", "60")
    runtime.run(b, detach=True).ok()

    def alive():
        r = runtime.exec(b.id, "echo", "alive", timeout=15)
        return r.rc == 0 and r.out.strip() == "alive"
    return alive


def host_can_fork():
    return subprocess.run(["true"], timeout=10).returncode == 0


def test_fork_bomb_hits_pids_limit(session, runtime, bundle, tool, neighbour):
    prog = tool("fork-bomb", FORK_BOMB)
    resources(bundle)["pids"] = {"limit": PIDS_LIMIT}
    bundle.args(prog, "/out/report", "/out/go")
    runtime.run(bundle, detach=True).ok()
    try:
        report = parse_report(wait_out(bundle, "report", want="fork_error", timeout=20))
        assert report["fork_error"] == "EAGAIN", report
        assert 0 < int(report["forked"]) < PIDS_LIMIT, report
        assert int(host_cgroup_file(session, bundle, "pids", "pids.current")) <= PIDS_LIMIT
        assert neighbour(), "the neighbour container stopped answering"
        assert host_can_fork()
        r = runtime.exec(bundle.id, "echo", "in", timeout=15)   # no room for one more
        assert r.rc != 0 and r.err_lines, r
    finally:
        release(bundle)
    runtime.wait_status(bundle.id, "stopped", timeout=15)
    assert session.leaked_processes(bundle.id) == []


def test_shell_fork_bomb_stopped_by_delete_force(session, runtime, bundle, neighbour):
    """The classic bomb, never ending: `delete --force` must still end it."""
    resources(bundle)["pids"] = {"limit": PIDS_LIMIT}
    bundle.sh("bomb() { bomb | bomb & }; bomb; sleep 30")
    runtime.run(bundle, detach=True).ok()
    current = lambda: int(host_cgroup_file(session, bundle, "pids", "pids.current"))  # noqa: E731
    # pids.events "max N" counts the forks the limit refused: the bomb reached it, even
    # if its shells (exiting when a fork fails) have thinned out again meanwhile
    refused = lambda: int(host_cgroup_file(session, bundle, "pids", "pids.events").split()[-1])  # noqa: E731
    celltest.wait_for(lambda: current() >= PIDS_LIMIT - 8 or refused() > 0, timeout=30,
                      what="the bomb to reach the limit")
    assert current() <= PIDS_LIMIT
    assert neighbour(), "the neighbour container stopped answering"
    assert host_can_fork()
    t0 = time.monotonic()
    runtime.delete(bundle.id, force=True).ok()
    assert time.monotonic() - t0 < 10
    assert session.leftovers(bundle.id, needle=bundle.path) == []


def test_memory_bomb_oom_killed(session, runtime, bundle, tool, neighbour):
    prog = tool("memory-bomb", MEMORY_BOMB)
    limits = {"limit": MEMORY_LIMIT}
    if os.path.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"):
        limits["swap"] = MEMORY_LIMIT   # memory+swap: no way around the limit
    resources(bundle)["memory"] = limits
    bundle.args(prog, "/out/report")
    runtime.run(bundle, detach=True).ok()
    runtime.wait_status(bundle.id, "stopped", timeout=20)
    report = parse_report(bundle.read_out("report"))
    assert "survived" not in report and "malloc_failed_at" not in report, report
    assert int(report["allocated_mib"]) <= MEMORY_LIMIT // MiB, report
    oom = dict(ln.split() for ln in
               host_cgroup_file(session, bundle, "memory", "memory.oom_control").splitlines())
    assert int(oom["oom_kill"]) >= 1, oom
    peak = int(host_cgroup_file(session, bundle, "memory", "memory.max_usage_in_bytes"))
    assert peak <= MEMORY_LIMIT
    assert neighbour(), "the neighbour container stopped answering"
    assert host_can_fork()


def host_used(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


FILL = ("for d in /tmp /dev/shm /dev /; do "
        "dd if=/dev/zero of=$d/celltest-fill bs=1M count=128 2>/dev/null; "
        "echo \"$d rc=$? size=$(stat -c %s $d/celltest-fill 2>/dev/null || echo none)\"; "
        "done > /out/report; echo done >> /out/report; "
        "while [ ! -e /out/go ]; do sleep 0.1; done")


def test_tmpfs_fill_hits_size_limit(session, runtime, bundle):
    """/tmp (size=16m), /dev/shm (8m here) and /dev (64m): ENOSPC at their
    size; the read-only root refuses outright.  They are the container's own
    tmpfs mounts (seen from the host in its mountinfo), and the host's shared
    memory does not fill.  (The host's disk is not measured: other work on
    this machine writes to it meanwhile.)"""
    bundle.add_mount("/dev/shm", "tmpfs", "shm", ["nosuid", "nodev", "size=8m"])
    bundle.sh(FILL)
    before = host_used("/dev/shm")
    runtime.run(bundle, detach=True).ok()
    try:
        text = wait_out(bundle, "report", want="done", timeout=20)
        grown = host_used("/dev/shm") - before
        pid = runtime.state(bundle.id)["pid"]
        with open(f"/proc/{pid}/mountinfo") as f:
            mounts = celltest.parse_mountinfo(f.read())
    finally:
        release(bundle)
    sizes = {ln.split()[0]: ln.split()[1:] for ln in text.splitlines() if ln.startswith("/")}
    assert sizes["/tmp"] == ["rc=1", f"size={16 * MiB}"], text
    assert sizes["/dev/shm"] == ["rc=1", f"size={8 * MiB}"], text
    assert sizes["/dev"][0] == "rc=1" and int(sizes["/dev"][1][5:]) <= 64 * MiB, text
    assert sizes["/"] == ["rc=1", "size=none"], text
    for point in ("/tmp", "/dev/shm", "/dev"):
        assert celltest.mount_at(mounts, point)["fstype"] == "tmpfs", point
    assert grown < 8 * MiB, f"the host's /dev/shm grew by {grown} bytes"
