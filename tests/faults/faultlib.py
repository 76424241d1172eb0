# SPDX-License-Identifier: LGPL-2.1-or-later
"""kill -9 at a random moment, and what must hold after it.

A trial starts a runtime verb, SIGKILLs it after a random delay (spread over
the verb's normal duration, measured first, so that every step of it gets
hit), then checks that `delete --force` exits 0 and leaves nothing -- no
process, cgroup, mount or state dir -- and that the same id can be made
again.  FAULT_TRIALS trials per test; FAULT_SEED repeats a run's delays."""
import os
import random
import signal
import subprocess
import time

import celltest

TRIALS = int(os.environ.get("FAULT_TRIALS", "8"))
SEED = int(os.environ.get("FAULT_SEED", str(int(time.time()))))


def rng(name):
    """A generator per test: the seed is printed on failure via the message."""
    return random.Random(f"{SEED}-{name}")


def adopted_children():
    """Pids whose parent is this (subreaper) process, zombies included."""
    me = os.getpid()
    return [pid for pid, _, ppid in celltest.proc_stats() if ppid == me]


def live_adopted(before):
    """Our children that were not there before, and are not zombies or Popen
    children in flight: what killed runtimes left running."""
    celltest.reap_orphans()
    return [p for p in adopted_children()
            if p not in before and p not in celltest.IN_FLIGHT and celltest.pid_alive(p)]


def kill_adopted(before):
    for pid in live_adopted(before):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    celltest.wait_for(lambda: not live_adopted(before), timeout=10,
                      what="adopted processes to exit")


def argv(runtime, *args, guard=False):
    a = [runtime.binary, "--root", runtime.s.state_root] + [str(x) for x in args]
    return (["unshare", "--uts", "--net", "--"] + a) if guard else a


def timed(runtime, *args, guard=False):
    """Seconds one normal call takes (and its Result)."""
    t0 = time.monotonic()
    r = celltest.run_reaping(argv(runtime, *args, guard=guard), tmpdir=runtime.s.base)
    return time.monotonic() - t0, r


def kill_after(runtime, delay, *args, guard=False):
    """Start a verb, SIGKILL it after delay seconds (if still running).
    Only the runtime process itself is killed: what it started is left to
    fend for itself, as after a real crash.  Returns its exit status."""
    p = subprocess.Popen(argv(runtime, *args, guard=guard), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    celltest.IN_FLIGHT.add(p.pid)
    try:
        time.sleep(delay)
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        rc = celltest.wait_reaping(p, 30)
    finally:
        celltest.IN_FLIGHT.discard(p.pid)
    return rc


def assert_delete_cleans(runtime, cid, before, what):
    """delete --force exits 0 and nothing of cid is left."""
    s = runtime.s
    r = runtime.delete(cid, force=True)
    assert r.rc == 0, f"{what}: {r}"
    assert "AddressSanitizer" not in r.err and "runtime error" not in r.err, f"{what}: {r}"
    try:
        celltest.wait_for(lambda: not s.leaked_processes(cid) and not live_adopted(before),
                          timeout=5, what="processes to exit")
    except AssertionError:
        pass
    left = s.leftovers(cid) + [f"process {p} (adopted) still alive"
                               for p in live_adopted(before)]
    assert left == [], f"{what} (FAULT_SEED={SEED}): delete --force left:\n  " + \
        "\n  ".join(left)


def assert_remade(runtime, bundle, cid, what):
    """The same id runs again, to completion, and leaves nothing."""
    saved = list(bundle.process["args"])
    bundle.args("sh", "-c", "echo again > /out/again")
    try:
        r = runtime.run(bundle, cid=cid)
    finally:
        bundle.args(*saved)
    assert r.rc == 0, f"{what}: the id cannot be made again: {r}"
    assert bundle.read_out("again") == "again\n"
    os.unlink(os.path.join(bundle.out, "again"))
    assert runtime.s.leftovers(cid) == [], what
