# SPDX-License-Identifier: LGPL-2.1-or-later
"""A container that will not stop: it ignores SIGTERM (trap '' TERM, which
its children inherit) and one child double-forks into a new session.
`kill TERM` must not count as stopping it; `kill KILL` and `delete --force`
must end every process of it, leaving no state, cgroup or process.
"""
import time

from secrun import wait_out

STUBBORN = ("trap '' TERM; "
            "sleep 100 & sleep 100 & "
            "setsid sh -c 'sleep 100 & exec sleep 100' & "
            "echo ready > /out/ready; "
            "while :; do sleep 1; done")


def start_stubborn(runtime, bundle):
    bundle.sh(STUBBORN)
    runtime.run(bundle, detach=True).ok()
    wait_out(bundle, "ready")
    runtime.kill(bundle.id, "TERM").ok()
    time.sleep(0.5)
    assert runtime.status(bundle.id) == "running", "SIGTERM was not ignored?"
    assert len(runtime.s.leaked_processes(bundle.id)) >= 5   # sh, 4 sleeps (and setsid's sh)


def test_sigterm_ignored_stopped_by_kill_sigkill(runtime, bundle):
    start_stubborn(runtime, bundle)
    runtime.kill(bundle.id, "KILL").ok()
    runtime.wait_status(bundle.id, "stopped", timeout=10)
    assert runtime.s.leaked_processes(bundle.id) == []
    runtime.delete(bundle.id).ok()
    assert runtime.s.leftovers(bundle.id, needle=bundle.path) == []


def test_sigterm_ignored_stopped_by_delete_force(runtime, bundle):
    start_stubborn(runtime, bundle)
    t0 = time.monotonic()
    runtime.delete(bundle.id, force=True).ok()
    assert time.monotonic() - t0 < 10
    assert runtime.state(bundle.id) is None
    assert runtime.s.leftovers(bundle.id, needle=bundle.path) == []
