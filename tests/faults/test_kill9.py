# SPDX-License-Identifier: LGPL-2.1-or-later
"""kill -9 of create, run -d, start and exec at random moments (issue 8,
fault 1): after each, `delete --force` exits 0 and leaves no process,
cgroup, mount or state dir, and the same id can be made again."""
import pytest

import faultlib
from faultlib import TRIALS, assert_delete_cleans, assert_remade, kill_after, timed


def sleeper(bundle):
    return bundle.args("sleep", "1000")


def baseline(runtime, bundle, *args, guard=True):
    """How long the verb normally takes (the window the kills are spread over)."""
    took, r = timed(runtime, *args, guard=guard)
    assert r.rc == 0, r
    return took


def mid_way(rcs):
    """Enough of the kills must land while the verb ran (else the test proves little)."""
    killed = sum(1 for rc in rcs if rc == -9)
    assert killed >= len(rcs) // 4, f"only {killed} of {len(rcs)} kills hit the verb: {rcs}"


class Delays:
    """TRIALS random delays over the verb's duration.  The measured duration
    includes starting the process, so the window adapts: a kill that came after
    the verb ended narrows it, one that hit it widens it again, so that
    most of the kills land inside and spread over all of the verb's steps.  A miss
    shrinks it faster than a hit grows it: a baseline measured during a load spike
    (several times the verb's usual time) is corrected within a few trials."""

    def __init__(self, name, window):
        self.g = faultlib.rng(name)
        self.window = window

    def __iter__(self):
        for i in range(TRIALS):
            yield i, self.g.uniform(0, self.window)

    def outcome(self, rc):
        self.window *= 1.25 if rc == -9 else 0.6


@pytest.mark.parametrize("verb", ["run", "create"])
def test_kill_making(runtime, bundle, adopted, verb):
    cid = bundle.id
    sleeper(bundle)
    runtime._prepare(bundle, cid)
    extra = ["-d"] if verb == "run" else []
    window = baseline(runtime, bundle, verb, "--bundle", bundle.path, *extra, cid)
    assert_delete_cleans(runtime, cid, adopted, "after a normal " + verb)
    rcs = []
    delays = Delays(verb, window)
    for i, delay in delays:
        what = f"kill -9 of {verb} after {delay * 1000:.1f} ms (trial {i})"
        rcs.append(kill_after(runtime, delay, verb, "--bundle", bundle.path, *extra, cid,
                              guard=True))
        delays.outcome(rcs[-1])
        assert_delete_cleans(runtime, cid, adopted, what)
        assert_remade(runtime, bundle, cid, what)
    mid_way(rcs)


def test_kill_start(runtime, bundle, adopted):
    cid = bundle.id
    sleeper(bundle)
    assert runtime.create(bundle).rc == 0
    window = baseline(runtime, bundle, "start", cid, guard=False)
    assert_delete_cleans(runtime, cid, adopted, "after a normal start")
    rcs = []
    delays = Delays("start", window)
    for i, delay in delays:
        what = f"kill -9 of start after {delay * 1000:.1f} ms (trial {i})"
        r = runtime.create(bundle)
        assert r.rc == 0, f"{what}: {r}"
        rcs.append(kill_after(runtime, delay, "start", cid))
        delays.outcome(rcs[-1])
        assert_delete_cleans(runtime, cid, adopted, what)
    mid_way(rcs)
    assert_remade(runtime, bundle, cid, "after the start trials")


def test_kill_exec(runtime, bundle, adopted):
    cid = bundle.id
    sleeper(bundle)
    assert runtime.run(bundle, detach=True).rc == 0
    window = baseline(runtime, bundle, "exec", cid, "true", guard=False)
    rcs = []
    for i, delay in Delays("exec", window):
        what = f"kill -9 of exec after {delay * 1000:.1f} ms (trial {i})"
        rcs.append(kill_after(runtime, delay, "exec", cid, "sleep", "1000"))
        if i % 4 == 3 or i == TRIALS - 1:
            assert_delete_cleans(runtime, cid, adopted, what)
            assert_remade(runtime, bundle, cid, what)
            if i != TRIALS - 1:
                assert runtime.run(bundle, detach=True).rc == 0
        else:
            # the container itself lives on and still runs what it is given
            r = runtime.exec(cid, "echo", "alive")
            assert r.rc == 0 and r.out == "alive\n", f"{what}: {r}"
    # exec of `sleep 1000` never ends by itself: every kill hits it
    assert all(rc == -9 for rc in rcs), rcs


def test_kill_delete(runtime, bundle, adopted):
    """A delete --force killed half-way leaves what a second one removes."""
    cid = bundle.id
    sleeper(bundle)
    assert runtime.run(bundle, detach=True).rc == 0
    window = baseline(runtime, bundle, "delete", "--force", cid, guard=False)
    rcs = []
    delays = Delays("delete", window)
    for i, delay in delays:
        what = f"kill -9 of delete --force after {delay * 1000:.1f} ms (trial {i})"
        r = runtime.run(bundle, detach=True)
        assert r.rc == 0, f"{what}: {r}"
        rcs.append(kill_after(runtime, delay, "delete", "--force", cid))
        delays.outcome(rcs[-1])
        assert_delete_cleans(runtime, cid, adopted, what)
    mid_way(rcs)
    assert_remade(runtime, bundle, cid, "after the delete trials")
