# SPDX-License-Identifier: LGPL-2.1-or-later
"""hooks: all six kinds, their order, the state on stdin, failures, timeouts."""
import json
import os
import time

import pytest

from celltest import pid_alive, wait_for

KINDS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop"]
HOOK_ENV = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "CELLTEST_HOOK=yes"]

# Appends "== <kind> <argv0> <env>" and the state JSON from stdin to the log.
# Hooks that run in the runtime's mount namespace (and createContainer, which
# runs before pivot_root) see the bundle's host path; startContainer runs
# inside the container, where the same directory is /out.
HOOK_SCRIPT = ('f="$1/hooks.log"; [ -d "$1" ] || f=/out/hooks.log; '
               '{ echo "== $2 $0 $CELLTEST_HOOK"; cat; echo; } >> "$f"')


def hook(bundle, kind, script=HOOK_SCRIPT, timeout=None):
    # sh takes $0 from the word after the script: "hook-<kind>" comes back in
    # the log, proving the args array reached the hook intact
    h = {"path": "/bin/sh", "args": ["sh", "-c", script, f"hook-{kind}", bundle.out, kind],
         "env": HOOK_ENV}
    if timeout is not None:
        h["timeout"] = timeout
    return h


def parse_log(bundle):
    path = os.path.join(bundle.out, "hooks.log")
    if not os.path.exists(path):
        return []
    entries = []
    for chunk in open(path).read().split("== ")[1:]:
        head, _, body = chunk.partition("\n")
        kind, argv0, env = (head.split() + ["", "", ""])[:3]
        entries.append({"kind": kind, "argv0": argv0, "env": env,
                        "state": json.loads(body) if body.strip() else None})
    return entries


def kinds(bundle):
    return [e["kind"] for e in parse_log(bundle)]


def test_all_hooks_get_state(runtime, bundle):
    bundle.config["hooks"] = {k: [hook(bundle, k)] for k in KINDS}
    bundle.sh("echo ran > /out/ran")
    runtime.create(bundle).ok()
    pid = runtime.state(bundle.id)["pid"]
    runtime.start(bundle.id).ok()
    runtime.wait_status(bundle.id, "stopped")
    assert "poststop" not in kinds(bundle), "poststop ran before delete"
    runtime.delete(bundle.id).ok()
    log = parse_log(bundle)
    assert sorted(e["kind"] for e in log) == sorted(KINDS)
    for e in log:
        st = e["state"]
        assert st is not None, f"{e['kind']} got no state on stdin"
        assert st["id"] == bundle.id, e
        assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path), e
        assert st["ociVersion"].startswith("1."), e
        assert e["argv0"] == f"hook-{e['kind']}", e
        assert e["env"] == "yes", e
        if e["kind"] == "poststop":
            continue
        # runtime-spec: hooks in the container namespace see the pid "as seen
        # by the container" (1 in its own pid namespace), the others the host pid
        if e["kind"] in ("createContainer", "startContainer"):
            assert st["pid"] == 1, e
        else:
            assert st["pid"] == pid, e
    by = {e["kind"]: e["state"]["status"] for e in log}
    assert by["poststop"] == "stopped"
    if runtime.is_cell:
        assert by["prestart"] == by["createRuntime"] == by["createContainer"] == "creating"
        assert by["poststart"] in ("running", "stopped")


def test_hook_order(runtime, bundle, session):
    session.needs("poststart-order")
    bundle.config["hooks"] = {k: [hook(bundle, k)] for k in KINDS}
    bundle.sh("echo ran > /out/ran")
    runtime.create(bundle).ok()
    assert kinds(bundle) == ["prestart", "createRuntime", "createContainer"]
    runtime.start(bundle.id).ok()
    assert kinds(bundle) == KINDS[:5]
    runtime.wait_status(bundle.id, "stopped")
    runtime.delete(bundle.id).ok()
    assert kinds(bundle) == KINDS


def test_hooks_with_run(runtime, bundle, session):
    session.needs("poststart-order")
    bundle.config["hooks"] = {k: [hook(bundle, k)] for k in KINDS}
    runtime.run(bundle).ok()
    assert kinds(bundle) == KINDS


def test_several_hooks_of_one_kind_in_order(runtime, bundle):
    scripts = [f'echo {i} >> "$1/multi"' for i in range(3)]
    bundle.config["hooks"] = {"prestart": [
        {"path": "/bin/sh", "args": ["sh", "-c", s, "x", bundle.out]} for s in scripts]}
    runtime.run(bundle).ok()
    assert bundle.read_out("multi").split() == ["0", "1", "2"]


def test_start_container_hook_runs_inside(runtime, bundle):
    """startContainer's path resolves inside the container: a binary that only
    exists in the rootfs (/bin/busybox) must be found."""
    script = "hostname > /out/sc-hostname; cat /proc/self/cgroup > /out/sc-cgroup"
    bundle.config["hooks"] = {"startContainer": [
        {"path": "/bin/busybox", "args": ["busybox", "sh", "-c", script]}]}
    bundle.config["hostname"] = "celltest-hooked"
    runtime.run(bundle).ok()
    assert bundle.read_out("sc-hostname").strip() == "celltest-hooked"


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook(runtime, bundle, session, kind):
    bundle.config["hooks"] = {kind: [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    bundle.args("sleep", "1001")
    r = runtime.create(bundle)
    assert r.rc != 0
    assert runtime.state(bundle.id) is None
    assert session.leftovers(bundle.id, needle=bundle.path) == []
    if runtime.is_cell:
        assert len(r.err_lines) == 1, r
        assert kind in r.err, r


def test_failing_start_container_hook(runtime, bundle, session):
    bundle.config["hooks"] = {"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", "exit 4"]}]}
    bundle.sh("echo ran > /out/ran")
    runtime.create(bundle).ok()
    r = runtime.start(bundle.id)
    if runtime.is_cell:
        assert r.rc != 0, r
    runtime.wait_status(bundle.id, "stopped")
    assert not os.path.exists(os.path.join(bundle.out, "ran")), "user process ran anyway"


def test_failing_poststart_hook_is_a_warning(runtime, bundle, session):
    session.cell_only("runc 1.1 fails start when a poststart hook fails")
    bundle.config["hooks"] = {"poststart": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 5"]}]}
    bundle.sh("echo ran > /out/ran")
    runtime.create(bundle).ok()
    runtime.start(bundle.id).ok()
    wait_for(lambda: os.path.exists(os.path.join(bundle.out, "ran")), what="user process")


def test_failing_poststop_hook_is_a_warning(runtime, bundle, session):
    bundle.config["hooks"] = {"poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 6"]}]}
    runtime.create(bundle).ok()
    runtime.start(bundle.id).ok()
    runtime.wait_status(bundle.id, "stopped")
    r = runtime.delete(bundle.id)
    if runtime.is_cell:
        assert r.rc == 0, r
    assert runtime.state(bundle.id) is None
    assert session.leftovers(bundle.id, needle=bundle.path) == []


def test_missing_hook_binary(runtime, bundle, session):
    bundle.config["hooks"] = {"prestart": [{"path": "/nonexistent/celltest-hook"}]}
    r = runtime.create(bundle)
    assert r.rc != 0
    assert session.leftovers(bundle.id, needle=bundle.path) == []
    if runtime.is_cell:
        assert "/nonexistent/celltest-hook" in r.err, r


def test_hook_that_does_not_read_its_state(runtime, bundle):
    """A hook may leave its stdin unread and exit: the runtime's write of the
    state then fails with EPIPE, which must not kill it with SIGPIPE, also
    while `run` holds its signals blocked to forward them.  State larger than
    a pipe's buffer makes the EPIPE certain, not a race."""
    bundle.config["annotations"] = {f"celltest.pad{i}": "x" * 1024 for i in range(80)}
    quick = {"path": "/bin/sh", "args": ["sh", "-c", "exec 0<&-; exit 0"]}
    bundle.config["hooks"] = {k: [quick] for k in ("prestart", "createRuntime", "poststart")}
    bundle.sh("echo ran > /out/ran")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert bundle.read_out("ran") == "ran\n"


def test_failed_create_runs_poststop_with_stopped_state(runtime, bundle, session):
    """A create that fails after the hooks began rolls back as delete would:
    poststop runs, and what it reads on stdin is the state of a container
    that is gone (status "stopped", pid 0 or none, as runc), not a running one."""
    bundle.config["hooks"] = {
        "createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}],
        "poststop": [hook(bundle, "poststop")]}
    assert runtime.create(bundle).rc != 0
    log = parse_log(bundle)
    assert [e["kind"] for e in log] == ["poststop"], log
    assert log[0]["state"]["status"] == "stopped", log
    assert log[0]["state"].get("pid", 0) == 0, log  # runc leaves it out
    assert session.leftovers(bundle.id, needle=bundle.path) == []


@pytest.mark.slow
def test_hook_timeout_kills_hook(runtime, bundle, session):
    script = 'echo $$ > "$1/hook.pid"; exec sleep 60'
    bundle.config["hooks"] = {"prestart": [
        {"path": "/bin/sh", "args": ["sh", "-c", script, "x", bundle.out], "timeout": 1}]}
    t0 = time.monotonic()
    r = runtime.create(bundle, timeout=30)
    elapsed = time.monotonic() - t0
    assert r.rc != 0
    assert elapsed < 15, f"create took {elapsed:.1f}s with a 1s hook timeout"
    pid = int(bundle.read_out("hook.pid"))
    session.track(pid)
    wait_for(lambda: not pid_alive(pid), timeout=5, what="timed-out hook to be killed")
    assert session.leftovers(bundle.id, needle=bundle.path) == []
    if runtime.is_cell:
        assert "timed out" in r.err or "timeout" in r.err, r


@pytest.mark.parametrize("kind", ["poststart", "poststop"])
def test_failing_post_hook_warns_and_the_rest_run(runtime, bundle, session, kind):
    """runtime.md: a failing poststart/poststop hook is logged; later hooks still run."""
    session.cell_only("runc 1.1 fails start on a poststart error")
    bundle.config["hooks"] = {kind: [
        {"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]},
        hook(bundle, kind),
    ]}
    bundle.sh("true")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert kinds(bundle) == [kind]
    assert f"error running {kind} hook #0" in r.err


# Writes "<kind> <$CELLTEST_INHERIT> <$CELLTEST_PROC> <${PATH-unset}>" into the
# log; the host-side hooks get the bundle's host path as $1.
ENV_SCRIPT = ('f="$1/env.log"; [ -d "$1" ] || f=/out/env.log; '
              'echo "$2 ${CELLTEST_INHERIT:--} ${CELLTEST_PROC:--} ${PATH:-unset}" >> "$f"')


def env_hooks(bundle, env):
    hooks = {}
    for k in KINDS:
        h = {"path": "/bin/sh", "args": ["sh", "-c", ENV_SCRIPT, "x", bundle.out, k]}
        if env is not None:
            h["env"] = env
        hooks[k] = [h]
    return hooks


def env_log(bundle):
    lines = bundle.read_out("env.log").splitlines()
    return {ln.split()[0]: ln.split()[1:] for ln in lines}


def test_hook_without_env_inherits(runtime, bundle, monkeypatch):
    """A hook without "env" inherits the environment of whoever runs it, as in
    runc: the runtime's on the host side, process.env in the container."""
    monkeypatch.setenv("CELLTEST_INHERIT", "runtime")
    bundle.config["process"]["env"] = ["PATH=/bin:/sbin", "CELLTEST_PROC=proc"]
    bundle.config["hooks"] = env_hooks(bundle, None)
    runtime.run(bundle).ok()
    log = env_log(bundle)
    assert sorted(log) == sorted(KINDS), log
    for k in ("prestart", "createRuntime", "poststart", "poststop"):
        assert log[k][:2] == ["runtime", "-"], (k, log[k])
    for k in ("createContainer", "startContainer"):
        assert log[k] == ["-", "proc", "/bin:/sbin"], (k, log[k])


def test_hook_with_empty_env_gets_none(runtime, bundle, monkeypatch):
    """"env": [] is an empty environment, not an inherited one."""
    monkeypatch.setenv("CELLTEST_INHERIT", "runtime")
    bundle.config["process"]["env"] = ["PATH=/bin:/sbin", "CELLTEST_PROC=proc"]
    bundle.config["hooks"] = env_hooks(bundle, [])
    runtime.run(bundle).ok()
    log = env_log(bundle)
    assert sorted(log) == sorted(KINDS), log
    for k in KINDS:
        # sh sets a default PATH of its own when it has none: only check ours is absent
        assert log[k][:2] == ["-", "-"], (k, log[k])
        assert log[k][2] != "/bin:/sbin", (k, log[k])
