# SPDX-License-Identifier: LGPL-2.1-or-later
"""Process-side behaviour where runc is the contract (issue 9): what the CLI
accepts and returns around a container's process (kill 0, exec into a created
container, run --keep, exit statuses, a missing command at create)."""
import os

from celltest import wait_for


def test_kill_zero_probes_liveness(runtime, bundle):
    """Signal 0 (kill(2)'s probe) checks that the init is there, and does
    nothing to it; for a stopped container it fails."""
    bundle.sh("trap 'echo got >> /out/sig' TERM USR1; while :; do sleep 1; done")
    runtime.create(bundle).ok()
    runtime.kill(bundle.id, "0").ok()
    assert runtime.status(bundle.id) == "created"
    runtime.start(bundle.id).ok()
    runtime.kill(bundle.id, "0").ok()
    assert runtime.status(bundle.id) == "running"
    assert not os.path.exists(os.path.join(bundle.out, "sig"))
    runtime.kill(bundle.id, "KILL").ok()
    runtime.wait_status(bundle.id, "stopped")
    assert runtime.kill(bundle.id, "0").rc != 0


def test_exec_into_created_container(runtime, bundle):
    """exec works before start (runc allows it); the init still waits."""
    bundle.sh("echo started > /out/init; exec sleep 1001")
    runtime.create(bundle).ok()
    r = runtime.exec(bundle.id, "sh", "-c", "echo $$; hostname").ok()
    pid, host = r.out.split()
    assert int(pid) > 1 and host == "celltest"
    assert runtime.status(bundle.id) == "created"
    assert not os.path.exists(os.path.join(bundle.out, "init"))
    runtime.start(bundle.id).ok()
    wait_for(lambda: os.path.exists(os.path.join(bundle.out, "init")), what="init to start")


def test_run_keep_leaves_stopped_container(runtime, bundle, session):
    """run --keep: the container's status passes through, and the container
    stays, stopped, until delete."""
    bundle.sh("echo ran > /out/ran; exit 3")
    r = runtime.run(bundle, "--keep")
    assert r.rc == 3, r
    assert bundle.read_out("ran") == "ran\n"
    assert runtime.status(bundle.id) == "stopped"
    runtime.delete(bundle.id).ok()
    assert runtime.state(bundle.id) is None
    assert not session.leftovers(bundle.id)


def test_run_without_keep_deletes(runtime, bundle):
    bundle.args("true")
    assert runtime.run(bundle).rc == 0
    assert runtime.state(bundle.id) is None


def test_exec_failure_exits_255(runtime, bundle):
    """runc exits 255 when exec itself fails (not the process): clients tell
    that from the process's own status."""
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    r = runtime.exec(bundle.id, "nosuchcmd")
    assert r.rc == 255, r
    assert "nosuchcmd" in r.err and "executable file not found in $PATH" in r.err, r
    assert runtime.exec(bundle.id, "sh", "-c", "exit 7").rc == 7
    assert runtime.status(bundle.id) == "running"
