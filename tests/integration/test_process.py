# SPDX-License-Identifier: LGPL-2.1-or-later
"""process.*: user, umask, env, cwd, capabilities, rlimits, noNewPrivileges,
oomScoreAdj, ioPriority, scheduler, execCPUAffinity; linux.personality."""
import json
import os
import resource
import subprocess

import pytest

from celltest import cap_mask, cap_sets, parse_status

STATUS = "cat /proc/self/status"


def run_out(runtime, bundle, script):
    bundle.sh(script)
    r = runtime.run(bundle)
    assert r.rc == 0, r
    return r.out


def test_user_uid_gid_groups(runtime, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20]}
    out = run_out(runtime, bundle, "id -u; id -g; id -un; " + STATUS)
    lines = out.splitlines()
    assert lines[:3] == ["1000", "1000", "user"]
    st = parse_status("\n".join(lines[3:]))
    assert st["Uid"].split() == ["1000"] * 4
    assert st["Gid"].split() == ["1000"] * 4
    assert st["Groups"].split() == ["10", "20"]


def test_user_root_default_no_groups(runtime, bundle):
    bundle.process["user"] = {"uid": 0, "gid": 0}
    st = parse_status(run_out(runtime, bundle, STATUS))
    assert st["Uid"].split() == ["0"] * 4
    assert st["Groups"].split() == []


@pytest.mark.parametrize("umask,want", [(0o027, "0027"), (0o077, "0077"), (0, "0000")])
def test_umask(runtime, bundle, umask, want):
    bundle.process["user"]["umask"] = umask
    out = run_out(runtime, bundle, "umask; touch /tmp/f; stat -c %a /tmp/f")
    assert out.split() == [want, format(0o666 & ~umask, "o")]


def test_env_exact(runtime, bundle):
    bundle.process["env"] = ["PATH=/bin:/usr/bin", "A=1", "B=two words", "EMPTY="]
    env = run_out(runtime, bundle, "env").splitlines()
    for e in ("PATH=/bin:/usr/bin", "A=1", "B=two words", "EMPTY="):
        assert e in env
    assert not any(v.startswith("TERM=") for v in env)


def test_args_exec_path_lookup(runtime, bundle):
    bundle.process["env"] = ["PATH=/usr/sbin:/sbin"]
    bundle.args("sysctl", "-n", "kernel.ostype")   # /sbin/sysctl, found through PATH
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert r.out == "Linux\n"


@pytest.mark.parametrize("cwd", ["/tmp", "/out", "/etc"])
def test_cwd(runtime, bundle, cwd):
    bundle.process["cwd"] = cwd
    assert run_out(runtime, bundle, "pwd").strip() == cwd


def test_cwd_created_when_missing(runtime, bundle):
    bundle.process["cwd"] = "/tmp/does/not/exist"
    assert run_out(runtime, bundle, "pwd").strip() == "/tmp/does/not/exist"


def caps_config(bnd, eff, prm, inh, amb):
    return {"bounding": bnd, "effective": eff, "permitted": prm, "inheritable": inh,
            "ambient": amb}


BND = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]
PRM = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
INH = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
AMB = ["CAP_NET_BIND_SERVICE"]


def test_capabilities_non_root(runtime, bundle):
    """For uid != 0 the kernel's execve rules leave P'=E'=ambient, so every
    set the runtime configured is visible exactly."""
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = caps_config(BND, PRM, PRM, INH, AMB)
    caps = cap_sets(run_out(runtime, bundle, STATUS))
    assert caps["CapBnd"] == cap_mask(BND)
    assert caps["CapInh"] == cap_mask(INH)
    assert caps["CapAmb"] == cap_mask(AMB)
    assert caps["CapPrm"] == cap_mask(AMB)
    assert caps["CapEff"] == cap_mask(AMB)


@pytest.mark.parametrize("nnp", [False, True])
def test_capabilities_root(runtime, bundle, nnp):
    """uid 0 without SECBIT_NOROOT: P' = inheritable | bounding (+ ambient);
    with no_new_privs the kernel caps P' at the permitted set before exec."""
    bundle.process["user"] = {"uid": 0, "gid": 0}
    bundle.process["noNewPrivileges"] = nnp
    bundle.process["capabilities"] = caps_config(BND, PRM, PRM, INH, AMB)
    caps = cap_sets(run_out(runtime, bundle, STATUS))
    assert caps["CapBnd"] == cap_mask(BND)
    assert caps["CapInh"] == cap_mask(INH)
    assert caps["CapAmb"] == cap_mask(AMB)
    want = cap_mask(BND) | cap_mask(INH)
    if nnp:
        want &= cap_mask(PRM)
    assert caps["CapPrm"] == want
    assert caps["CapEff"] == want


def test_capabilities_effect(runtime, bundle):
    """Without CAP_CHOWN, root cannot chown a file it does not own... nor its own
    to another uid; with it, it can."""
    bundle.process["user"] = {"uid": 0, "gid": 0}
    bundle.process["capabilities"] = caps_config(["CAP_KILL"], ["CAP_KILL"], ["CAP_KILL"],
                                                 [], [])
    bundle.sh("touch /tmp/f && chown 1000 /tmp/f")
    r = runtime.run(bundle)
    assert r.rc != 0 and "Operation not permitted" in r.err, r
    bundle.process["capabilities"] = caps_config(["CAP_CHOWN"], ["CAP_CHOWN"],
                                                 ["CAP_CHOWN"], [], [])
    r = runtime.run(bundle, cid=bundle.id + "b")
    assert r.rc == 0, r


def test_capabilities_empty(runtime, bundle):
    bundle.process["capabilities"] = caps_config([], [], [], [], [])
    caps = cap_sets(run_out(runtime, bundle, STATUS))
    assert caps == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": 0, "CapAmb": 0}


def host_hard(res):
    return resource.getrlimit(res)[1]


def test_rlimit_nofile(runtime, bundle):
    hard = host_hard(resource.RLIMIT_NOFILE)
    want_hard = min(hard, 4096)
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 300, "hard": want_hard}]
    out = run_out(runtime, bundle, "ulimit -n; ulimit -Hn")
    assert out.split() == ["300", str(want_hard)]


def test_rlimits_several(runtime, bundle):
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024},
        {"type": "RLIMIT_NPROC", "soft": 200, "hard": 300},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        {"type": "RLIMIT_STACK", "soft": 4 * 1024 * 1024, "hard": 8 * 1024 * 1024},
    ]
    out = run_out(runtime, bundle, "cat /proc/self/limits")
    lim = {}
    for line in out.splitlines()[1:]:
        parts = line.rsplit(None, 3)
        lim[parts[0].strip()] = parts[1:3]
    assert lim["Max open files"] == ["512", "1024"]
    assert lim["Max processes"] == ["200", "300"]
    assert lim["Max core file size"] == ["0", "0"]
    assert lim["Max stack size"] == [str(4 << 20), str(8 << 20)]


@pytest.mark.parametrize("nnp,want", [(True, "1"), (False, "0")])
def test_no_new_privileges(runtime, bundle, nnp, want):
    bundle.process["noNewPrivileges"] = nnp
    st = parse_status(run_out(runtime, bundle, STATUS))
    assert st["NoNewPrivs"] == want


def have_cap(n):
    with open("/proc/self/status") as f:
        return bool(cap_sets(f.read())["CapEff"] & (1 << n))


@pytest.mark.parametrize("adj", [500, 1000, 0, -300])
def test_oom_score_adj(runtime, bundle, adj):
    if adj < 0 and not have_cap(24):
        pytest.skip("lowering oom_score_adj needs CAP_SYS_RESOURCE, which this host lacks")
    bundle.process["oomScoreAdj"] = adj
    assert run_out(runtime, bundle, "cat /proc/self/oom_score_adj").strip() == str(adj)


def test_oom_score_adj_exec_inherits(runtime, bundle):
    bundle.process["oomScoreAdj"] = 321
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    r = runtime.exec(bundle.id, "cat", "/proc/self/oom_score_adj").ok()
    assert r.out.strip() == "321"


def test_io_priority(runtime, bundle, session):
    session.needs("ioPriority")
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    out = run_out(runtime, bundle, "ionice -p $$")
    assert out.strip() == "best-effort: prio 6"


def test_io_priority_idle_host_view(runtime, bundle, session):
    session.needs("ioPriority")
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    pid = runtime.state(bundle.id)["pid"]
    r = subprocess.run(["ionice", "-p", str(pid)], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "idle"


def test_scheduler(runtime, bundle, session):
    session.needs("scheduler")
    bundle.process["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    pid = runtime.state(bundle.id)["pid"]
    r = subprocess.run(["chrt", "-p", str(pid)], capture_output=True, text=True, check=True)
    assert "SCHED_BATCH" in r.stdout, r.stdout
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    assert fields[16] == "7"   # nice (field 19 of stat)


def test_scheduler_idle(runtime, bundle, session):
    session.needs("scheduler")
    bundle.process["scheduler"] = {"policy": "SCHED_IDLE"}
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    pid = runtime.state(bundle.id)["pid"]
    r = subprocess.run(["chrt", "-p", str(pid)], capture_output=True, text=True, check=True)
    assert "SCHED_IDLE" in r.stdout, r.stdout


def test_exec_cpu_affinity(runtime, bundle, session, tmp_path):
    """execCPUAffinity is for exec'd processes only (runtime-spec: "not
    applicable to the container's init process")."""
    session.needs("execCPUAffinity")
    if os.cpu_count() < 2:
        pytest.skip("needs 2 CPUs")
    host_mask = subprocess.run(["taskset", "-p", str(os.getpid())], capture_output=True,
                               text=True, check=True).stdout.split()[-1]
    bundle.process["execCPUAffinity"] = {"initial": "0", "final": "0"}
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    pid = runtime.state(bundle.id)["pid"]
    r = subprocess.run(["taskset", "-p", str(pid)], capture_output=True, text=True, check=True)
    assert r.stdout.split()[-1] == host_mask, "execCPUAffinity was applied to init"
    proc = {"terminal": False, "cwd": "/", "user": {"uid": 0, "gid": 0},
            "args": ["sh", "-c", "grep Cpus_allowed_list /proc/self/status; taskset -p $$"],
            "env": ["PATH=/bin:/usr/bin"], "execCPUAffinity": {"initial": "0", "final": "1"}}
    p = tmp_path / "process.json"
    p.write_text(json.dumps(proc))
    r = runtime.exec(bundle.id, opts=["-p", str(p)]).ok()
    lines = r.out.splitlines()
    assert lines[0].split() == ["Cpus_allowed_list:", "1"]
    assert lines[1].endswith(": 2"), r


def test_personality_linux32(runtime, bundle, session):
    session.needs("personality")
    bundle.linux["personality"] = {"domain": "LINUX32"}
    assert run_out(runtime, bundle, "uname -m").strip() == "i686"


def test_personality_linux(runtime, bundle, session):
    bundle.linux["personality"] = {"domain": "LINUX"}
    assert run_out(runtime, bundle, "uname -m").strip() == "x86_64"


def test_hostname(runtime, bundle):
    bundle.config["hostname"] = "celltest-h1"
    assert run_out(runtime, bundle, "hostname; cat /proc/sys/kernel/hostname").split() == [
        "celltest-h1", "celltest-h1"]


def test_domainname(runtime, bundle, session):
    session.needs("domainname")
    bundle.config["hostname"] = "celltest-h2"
    bundle.config["domainname"] = "cell.example"
    out = run_out(runtime, bundle, "hostname; cat /proc/sys/kernel/domainname")
    assert out.split() == ["celltest-h2", "cell.example"]


def test_hostname_host_untouched(runtime, bundle):
    before = os.uname().nodename
    bundle.config["hostname"] = "celltest-h3"
    run_out(runtime, bundle, "hostname")
    assert os.uname().nodename == before


def test_process_label_absent_ok(runtime, bundle):
    # no LSM is enforced here: the config without labels must just work
    bundle.process.pop("apparmorProfile", None)
    bundle.process.pop("selinuxLabel", None)
    assert run_out(runtime, bundle, "echo ok").strip() == "ok"


def test_init_is_pid1_and_args_intact(runtime, bundle):
    bundle.args("sh", "-c", 'echo "$$|$0|$1|$2"', "zero", "one two", "")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert r.out == "1|zero|one two|\n"


def test_proc_mounted_for_pid_ns(runtime, bundle):
    pids = [int(p) for p in run_out(runtime, bundle, "ls /proc").split() if p.isdigit()]
    assert 1 in pids
    assert max(pids) < 50, f"container /proc shows host processes: {pids}"
