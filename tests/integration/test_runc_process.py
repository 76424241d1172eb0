# SPDX-License-Identifier: LGPL-2.1-or-later
"""Process-side behaviour where runc is the contract (issue 9): what the CLI
accepts and returns around a container's process (kill 0, exec into a created
container, run --keep, exit statuses), what execve gets (the command looked
up at create, HOME, the cwd) and the capabilities it may have."""
import os

import pytest

from celltest import CAP_NUMBERS, cap_mask, cap_sets, wait_for

STATUS = "cat /proc/self/status"


def not_found(err, name):
    """runc's message (its log quotes the quotes): exec: "name": executable
    file not found in $PATH"""
    return (f'exec: "{name}": executable file not found in $PATH' in err.replace('\\"', '"'))


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
    assert not_found(r.err, "nosuchcmd"), r
    assert runtime.exec(bundle.id, "sh", "-c", "exit 7").rc == 7
    assert runtime.status(bundle.id) == "running"
    # a usage error is an ordinary error (1)
    assert runtime.cmd("exec").rc == 1


def no_state_left(runtime, session, cid):
    assert runtime.state(cid) is None
    assert not session.leftovers(cid)


def test_missing_command_fails_create(runtime, bundle, session):
    """runc looks the command up in the init before reporting it created:
    `create` fails (podman exits 127 on that) and leaves nothing behind."""
    bundle.process["env"] = ["PATH=/bin:/sbin"]
    bundle.args("nosuchcmd", "arg")
    r = runtime.create(bundle)
    assert r.rc != 0, r
    assert not_found(r.err, "nosuchcmd"), r
    no_state_left(runtime, session, bundle.id)


@pytest.mark.parametrize("argv0", ["/etc/passwd", "/etc", "/no/such/cmd"])
def test_command_not_executable_fails_create(runtime, bundle, session, argv0):
    bundle.args(argv0)
    r = runtime.create(bundle)
    assert r.rc != 0, r
    assert argv0 in r.err, r
    no_state_left(runtime, session, bundle.id)


@pytest.mark.parametrize("argv0,errno_text", [("/no/such/cmd", "no such file or directory"),
                                              ("/etc/passwd", "permission denied"),
                                              ("/etc", "permission denied")])
def test_command_error_in_go_wording(runtime, bundle, argv0, errno_text):
    """The create failure names the error the way runc (Go) words it,
    lower case: docker's CLI matches "no such file or directory" (exit
    127) and "permission denied" (126) case-sensitively, else it exits 125."""
    bundle.args(argv0)
    r = runtime.create(bundle)
    assert r.rc != 0, r
    err = r.err.replace('\\"', '"')
    assert f'exec: "{argv0}"' in err and errno_text in err, r


def test_command_not_executable_for_user_fails_create(runtime, bundle, session):
    """Executable for root only (0744): for uid 1000 without CAP_DAC_OVERRIDE
    it fails at create."""
    rootfs = bundle.private_rootfs()
    with open(os.path.join(rootfs, "rootonly"), "w") as f:
        f.write("#!/bin/sh\necho ran\n")
    os.chmod(os.path.join(rootfs, "rootonly"), 0o744)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {"bounding": ["CAP_KILL"], "effective": [],
                                      "permitted": []}
    bundle.args("/rootonly")
    r = runtime.create(bundle)
    assert r.rc != 0, r
    assert "/rootonly" in r.err and "ermission denied" in r.err, r
    no_state_left(runtime, session, bundle.id)
    # root may run it
    bundle.process["user"] = {"uid": 0, "gid": 0}
    r = runtime.run(bundle, cid=session.new_id("root"))
    assert r.rc == 0 and r.out == "ran\n", r


def test_command_found_through_path_and_cwd(runtime, bundle):
    """A bare name goes through PATH of process.env; a name with a slash is
    relative to process.cwd."""
    bundle.process["env"] = ["PATH=/nonexistent:/bin"]
    bundle.process["cwd"] = "/bin"
    bundle.args("./echo", "dot")
    r = runtime.run(bundle)
    assert r.rc == 0 and r.out == "dot\n", r


def test_exec_missing_command_message(runtime, bundle):
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    r = runtime.exec(bundle.id, "nosuchcmd")
    assert r.rc != 0
    assert not_found(r.err, "nosuchcmd"), r


@pytest.mark.parametrize("uid,want", [(0, "/root"), (1000, "/home/user"), (4242, "/")])
def test_home_from_passwd(runtime, bundle, uid, want):
    """HOME from the user's /etc/passwd entry of the container, "/" without
    one, when process.env has none (runc)."""
    bundle.process["env"] = ["PATH=/bin"]
    bundle.process["user"] = {"uid": uid, "gid": uid}
    bundle.sh('echo "HOME=$HOME"')
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert r.out == f"HOME={want}\n"


def test_home_from_env_kept(runtime, bundle):
    bundle.process["env"] = ["PATH=/bin", "HOME=/elsewhere"]
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.sh('echo "HOME=$HOME"')
    assert runtime.run(bundle).ok().out == "HOME=/elsewhere\n"


def test_exec_home_from_passwd(runtime, bundle):
    bundle.process["env"] = ["PATH=/bin"]
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    r = runtime.exec(bundle.id, "sh", "-c", 'echo "HOME=$HOME"', opts=("--user", "1000:1000"))
    assert r.ok().out == "HOME=/home/user\n"


def test_cwd_only_root_may_enter(runtime, bundle):
    """runc's cwd.bats: the cwd is entered before the capabilities go, so a
    directory only root may enter (0700 root) works for uid 1000."""
    rootfs = bundle.private_rootfs()
    os.makedirs(os.path.join(rootfs, "home/nonroot"))
    os.chmod(os.path.join(rootfs, "home/nonroot"), 0o700)
    bundle.process["cwd"] = "/home/nonroot"
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    caps = ["CAP_KILL", "CAP_AUDIT_WRITE"]   # no CAP_DAC_*: uid 1000 may not enter
    bundle.process["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted")}
    bundle.sh("pwd; id -u; ls . || echo denied")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert r.lines[:2] == ["/home/nonroot", "1000"] and "denied" in r.out, r


def test_exec_user_root_into_cwd_of_other_user(runtime, bundle):
    """cwd.bats: runc exec --user 0 into a container whose cwd is 0700 uid 42."""
    rootfs = bundle.private_rootfs()
    os.makedirs(os.path.join(rootfs, "root"), exist_ok=True)
    os.chown(os.path.join(rootfs, "root"), 42, 0)
    os.chmod(os.path.join(rootfs, "root"), 0o700)
    bundle.process["cwd"] = "/root"
    bundle.process["user"] = {"uid": 42, "gid": 42}
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    r = runtime.exec(bundle.id, "sh", "-c", "pwd; id -u", opts=("--user", "0"))
    assert r.ok().lines == ["/root", "0"]


def runtime_lacks(cap):
    with open("/proc/self/status") as f:
        st = cap_sets(f.read())
    return not (st["CapBnd"] >> CAP_NUMBERS[cap]) & 1


def ignoring(err, name):
    return "ignoring unknown or unavailable capabilities" in err and name in err


def test_unknown_capability_ignored_with_warning(runtime, bundle):
    """runtime-spec 1.1: an unknown capability is warned about and left out;
    the known ones still apply."""
    caps = bundle.process["capabilities"]
    for k in ("bounding", "effective", "permitted"):
        caps[k] = ["CAP_KILL", "CAP_CELLTEST"]
    bundle.sh(STATUS)
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert ignoring(r.err, "CAP_CELLTEST"), r
    st = cap_sets(r.out)
    assert st["CapEff"] == st["CapPrm"] == st["CapBnd"] == cap_mask(["CAP_KILL"])


def test_unavailable_capability_dropped_with_warning(runtime, bundle, session):
    """A capability the runtime itself lacks (this host: CAP_SYS_RESOURCE) is
    warned about and left out, so --privileged-style configs still start."""
    session.cell_only("runc 1.1 fails: unable to apply caps: operation not permitted")
    if not runtime_lacks("CAP_SYS_RESOURCE"):
        pytest.skip("the runtime holds CAP_SYS_RESOURCE here")
    caps = bundle.process["capabilities"]
    for k in ("bounding", "effective", "permitted", "inheritable"):
        caps[k] = ["CAP_KILL", "CAP_SYS_RESOURCE"]
    bundle.sh(STATUS)
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert ignoring(r.err, "CAP_SYS_RESOURCE"), r
    st = cap_sets(r.out)
    assert st["CapEff"] == st["CapPrm"] == cap_mask(["CAP_KILL"])


def test_exec_unknown_cap_ignored_with_warning(runtime, bundle):
    caps = bundle.process["capabilities"]
    for k in ("bounding", "effective", "permitted"):
        caps[k] = ["CAP_KILL", "CAP_CHOWN"]
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    r = runtime.exec(bundle.id, "cat", "/proc/self/status", opts=("--cap", "CAP_CELLTEST"))
    assert r.rc == 0, r
    assert ignoring(r.err, "CAP_CELLTEST"), r
    assert cap_sets(r.out)["CapEff"] == cap_mask(["CAP_KILL", "CAP_CHOWN"])


def test_command_through_relative_path_entry_refused(runtime, bundle, session):
    """As Go's exec.LookPath (runc): a bare name found through a relative PATH
    entry is not run."""
    bundle.process["env"] = ["PATH=nonexistent:bin"]
    bundle.process["cwd"] = "/"
    bundle.args("echo", "rel")
    r = runtime.create(bundle)
    assert r.rc != 0, r
    assert "cannot run executable found relative to current directory" in r.err, r
    no_state_left(runtime, session, bundle.id)
