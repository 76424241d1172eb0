# SPDX-License-Identifier: LGPL-2.1-or-later
"""linux.namespaces (new, absent, joined by path), user namespace id maps,
time namespace offsets, sysctl inside namespaces."""
import os
import subprocess

import pytest

from celltest import host_mounts, parse_mountinfo, wait_for

# spec name -> /proc/self/ns entry
NS_FILE = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
           "cgroup": "cgroup", "time": "time", "user": "user"}
USER_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def host_ino(ns):
    return os.stat(f"/proc/self/ns/{NS_FILE[ns]}").st_ino


def ns_inodes_inside(runtime, bundle, **kw):
    files = " ".join(f"/proc/self/ns/{f}" for f in NS_FILE.values())
    bundle.sh(f"for f in {files}; do echo $(basename $f) $(stat -L -c %i $f); done")
    r = runtime.run(bundle, **kw)
    assert r.rc == 0, r
    return {k: int(v) for k, v in (ln.split() for ln in r.out.splitlines())}


def enable_userns(bundle):
    bundle.set_namespace("user")
    bundle.linux["uidMappings"] = USER_MAP
    bundle.linux["gidMappings"] = USER_MAP


@pytest.mark.parametrize("ns", list(NS_FILE))
def test_new_namespace(runtime, bundle, session, ns):
    if ns == "time":
        session.needs("time-namespace")
    if ns == "user":
        enable_userns(bundle)
    bundle.set_namespace(ns)
    inside = ns_inodes_inside(runtime, bundle)
    assert inside[NS_FILE[ns]] != host_ino(ns), f"{ns} namespace is the host's"


@pytest.mark.parametrize("ns", ["ipc", "network", "cgroup", "pid", "uts"])
def test_absent_namespace_is_hosts(runtime, bundle, ns):
    bundle.set_namespace(ns, present=False)
    if ns == "uts":
        bundle.config.pop("hostname", None)
        bundle.config.pop("domainname", None)
    # no guard: the container must share exactly the runtime's (= our) namespace
    inside = ns_inodes_inside(runtime, bundle, guard=False)
    assert inside[NS_FILE[ns]] == host_ino(ns), f"{ns} namespace is not the host's"


def no_mount_ns(bundle):
    """Without a mount namespace nothing may be mounted: no mounts, no
    masked or read-only paths, a writable root (runc refuses the paths too)."""
    bundle.set_namespace("mount", present=False)
    bundle.config["mounts"] = []
    bundle.config["root"]["readonly"] = False
    for k in ("maskedPaths", "readonlyPaths", "devices"):
        bundle.linux.pop(k, None)


def in_own_mount_ns(bundle):
    """A wrapper that runs the runtime in a mount namespace of the test's own
    (a copy of the host's), recording its inode: the container must share it,
    and a runtime that wrongly mounts there cannot touch the host's table."""
    rec = os.path.join(bundle.path, "runtime-mntns")
    return rec, ["unshare", "--mount", "--propagation", "unchanged", "--", "sh", "-c",
                 f'stat -L -c %i /proc/self/ns/mnt > {rec}; exec "$@"', "sh"]


def create_sharing(runtime, bundle):
    rec, wrap = in_own_mount_ns(bundle)
    cid = runtime._prepare(bundle, None)
    runtime.cmd("create", "--bundle", bundle.path, cid, guard=True, wrap=wrap).ok()
    with open(rec) as f:
        return runtime.state(cid)["pid"], int(f.read())


def test_absent_mount_namespace_is_the_runtimes(runtime, bundle, session):
    """The container shares the runtime's mount namespace, chrooted into the
    rootfs, and nothing was mounted in it: its mount table is the host's."""
    session.cell_only("runc 1.1 needs /proc in the rootfs (error closing exec fds)")
    no_mount_ns(bundle)
    bundle.sh("sleep 30")
    before = {(m["mountpoint"], m["root"]) for m in host_mounts()}
    pid, runtime_ns = create_sharing(runtime, bundle)
    assert os.stat(f"/proc/{pid}/ns/mnt").st_ino == runtime_ns
    assert runtime_ns != host_ino("mount")
    assert os.path.realpath(f"/proc/{pid}/root") == os.path.realpath(bundle.config["root"]["path"])
    with open(f"/proc/{pid}/mountinfo") as f:
        assert parse_mountinfo(f.read()) == [], "a mount at or below the rootfs"
    # the whole table of that namespace (setns makes its root ours) is a copy of
    # the host's: every mount in it the host had before or has now (other test
    # runs on the machine may mount and unmount meanwhile), none the runtime's
    table = subprocess.run(["nsenter", f"--mount=/proc/{pid}/ns/mnt", "cat",
                            "/proc/self/mountinfo"], capture_output=True, text=True, check=True)
    after = {(m["mountpoint"], m["root"]) for m in host_mounts()}
    ns = {(m["mountpoint"], m["root"]) for m in parse_mountinfo(table.stdout)}
    assert sorted(ns - (before | after)) == [], "a mount the host never had"
    assert before & after <= ns, "a host mount missing from the runtime's copy"
    runtime.kill(bundle.id, "KILL").ok()
    runtime.wait_status(bundle.id, "stopped")


def test_absent_mount_namespace_runs(runtime, bundle, session):
    session.cell_only("runc 1.1 needs /proc in the rootfs (error closing exec fds)")
    no_mount_ns(bundle)
    bundle.sh("ls /bin/busybox && echo chrooted")
    rec, wrap = in_own_mount_ns(bundle)
    cid = runtime._prepare(bundle, None)
    r = runtime.cmd("run", "--bundle", bundle.path, cid, guard=True, wrap=wrap)
    assert r.rc == 0, r
    assert r.out.split() == ["/bin/busybox", "chrooted"], r


def test_exec_without_mount_namespace_is_chrooted(runtime, bundle, session):
    """exec joins no mount namespace then: it must still land in the
    container's root, not in the runtime's (the host's) filesystem."""
    session.cell_only("runc 1.1 needs /proc in the rootfs (error closing exec fds)")
    no_mount_ns(bundle)
    rootfs = bundle.private_rootfs()
    with open(os.path.join(rootfs, "celltest-marker"), "w") as f:
        f.write("inside\n")
    bundle.sh("sleep 30")
    pid, _ = create_sharing(runtime, bundle)
    runtime.start(bundle.id).ok()
    r = runtime.exec(bundle.id, "/bin/sh", "-c", "cat /celltest-marker; ls /")
    assert r.rc == 0, r
    assert r.out.splitlines()[0] == "inside", r
    assert sorted(r.out.splitlines()[1:]) == sorted(os.listdir(rootfs)), r
    runtime.kill(bundle.id, "KILL").ok()
    runtime.wait_status(bundle.id, "stopped")


@pytest.mark.parametrize("field", ["mounts", "linux.maskedPaths", "linux.readonlyPaths",
                                   "root.readonly"])
def test_absent_mount_namespace_refuses_mounts(runtime, bundle, session, field):
    no_mount_ns(bundle)
    if field == "mounts":
        session.cell_only("runc mounts them in the runtime's mount namespace")
        bundle.add_mount("/tmp", "tmpfs", "tmpfs")
    elif field == "root.readonly":
        session.cell_only("runc remounts the root it shares with the host read-only")
        bundle.config["root"]["readonly"] = True
    else:
        bundle.linux[field.split(".")[1]] = ["/proc/kcore"]
    rec, wrap = in_own_mount_ns(bundle)
    cid = runtime._prepare(bundle, None)
    r = runtime.cmd("create", "--bundle", bundle.path, cid, guard=True, wrap=wrap)
    assert r.rc != 0, r
    assert runtime.s.leftovers(bundle.id, needle=bundle.path) == []
    if runtime.is_cell:
        assert f"{field}: requires a mount namespace" in r.err, r


def test_default_namespaces_not_hosts(runtime, bundle):
    inside = ns_inodes_inside(runtime, bundle)
    for ns in bundle.namespaces():
        assert inside[NS_FILE[ns]] != host_ino(ns), ns


@pytest.fixture
def netns(session):
    name = f"{session.new_id('netns')}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    session.netns.add(name)
    yield f"/run/netns/{name}"
    session.cleanup_netns()     # ip netns del, and /run/netns itself if we made it


def test_join_netns_by_path(runtime, bundle, netns):
    bundle.set_namespace("network", path=netns)
    inside = ns_inodes_inside(runtime, bundle)
    assert inside["net"] == os.stat(netns).st_ino


def test_join_other_containers_namespaces(runtime, make_bundle):
    a, b = make_bundle("nsa"), make_bundle("nsb")
    a.args("sleep", "1001")
    runtime.run(a, detach=True).ok()
    pid = runtime.state(a.id)["pid"]
    for ns in ("ipc", "uts", "network"):
        b.set_namespace(ns, path=f"/proc/{pid}/ns/{NS_FILE[ns]}")
    b.config.pop("hostname", None)
    inside_b = ns_inodes_inside(runtime, b)
    for ns in ("ipc", "uts", "network"):
        assert inside_b[NS_FILE[ns]] == os.stat(f"/proc/{pid}/ns/{NS_FILE[ns]}").st_ino, ns
    assert inside_b["pid"] != os.stat(f"/proc/{pid}/ns/pid").st_ino


def test_join_pid_namespace_sees_other_init(runtime, make_bundle):
    a, b = make_bundle("pida"), make_bundle("pidb")
    a.args("sleep", "1001")
    runtime.run(a, detach=True).ok()
    pid = runtime.state(a.id)["pid"]
    b.set_namespace("pid", path=f"/proc/{pid}/ns/pid")
    b.sh("cat /proc/1/cmdline | tr '\\0' ' '")
    r = runtime.run(b)
    assert r.rc == 0, r
    assert r.out.strip() == "sleep 1001"


def test_user_namespace_mappings(runtime, bundle, session):
    enable_userns(bundle)
    bundle.sh("cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /bin/busybox")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    lines = [ln.split() for ln in r.out.splitlines()]
    assert lines[0] == ["0", "100000", "65536"]
    assert lines[1] == ["0", "100000", "65536"]
    assert lines[2] == ["0"]
    if session.is_cell:
        # cellrun shifts a root-owned rootfs with an idmapped mount (issue 3)
        assert lines[3] == ["0"], "the rootfs must be shifted into the user namespace"
    else:
        assert lines[3] == ["65534"], "host root's files must look unmapped (nobody)"


def test_user_namespace_host_view(runtime, bundle):
    enable_userns(bundle)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    pid = runtime.state(bundle.id)["pid"]
    with open(f"/proc/{pid}/status") as f:
        st = dict(ln.split(":", 1) for ln in f.read().splitlines())
    assert st["Uid"].split()[0] == "101000"
    assert st["Gid"].split()[0] == "101000"


def test_user_namespace_multiple_ranges(runtime, bundle):
    bundle.set_namespace("user")
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 1000},
                                   {"containerID": 1000, "hostID": 300000, "size": 10}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 2000}]
    bundle.sh("cat /proc/self/uid_map; echo --; cat /proc/self/gid_map")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    uid, gid = r.out.split("--\n")
    assert [ln.split() for ln in uid.splitlines()] == [["0", "200000", "1000"],
                                                      ["1000", "300000", "10"]]
    assert [ln.split() for ln in gid.splitlines()] == [["0", "200000", "2000"]]


def test_cgroup_namespace_root(runtime, bundle, session):
    bundle.set_namespace("cgroup")
    bundle.sh("cat /proc/self/cgroup")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    for line in r.out.splitlines():
        assert line.split(":", 2)[2] == "/", line


def test_no_cgroup_namespace_shows_cgroups_path(runtime, bundle, session):
    bundle.set_namespace("cgroup", present=False)
    bundle.sh("cat /proc/self/cgroup")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    paths = {ln.split(":", 2)[1]: ln.split(":", 2)[2] for ln in r.out.splitlines()}
    assert paths["memory"] == session.cgroups_path(bundle.id)
    assert paths["pids"] == session.cgroups_path(bundle.id)


def test_time_namespace_offsets(runtime, bundle, session):
    session.needs("time-namespace")
    year = 365 * 24 * 3600
    bundle.set_namespace("time")
    bundle.linux["timeOffsets"] = {"boottime": {"secs": year, "nanosecs": 0},
                                   "monotonic": {"secs": 3600, "nanosecs": 500}}
    bundle.sh("cat /proc/self/timens_offsets; cat /proc/uptime")
    with open("/proc/uptime") as f:
        host_up = float(f.read().split()[0])
    r = runtime.run(bundle)
    assert r.rc == 0, r
    lines = r.out.splitlines()
    offs = {ln.split()[0]: ln.split()[1:] for ln in lines[:2]}
    assert offs["monotonic"] == ["3600", "500"]
    assert offs["boottime"] == [str(year), "0"]
    inside_up = float(lines[2].split()[0])
    assert host_up + year - 1 <= inside_up <= host_up + year + 30


def test_time_namespace_without_offsets(runtime, bundle, session):
    session.needs("time-namespace")
    bundle.set_namespace("time")
    bundle.sh("cat /proc/self/timens_offsets")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert [ln.split()[1:] for ln in r.out.splitlines()] == [["0", "0"], ["0", "0"]]


def read_host(path):
    with open(path) as f:
        return f.read().strip()


def test_sysctl_ip_forward(runtime, bundle):
    before = read_host("/proc/sys/net/ipv4/ip_forward")
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    bundle.sh("cat /proc/sys/net/ipv4/ip_forward")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert r.out.strip() == "1"
    assert read_host("/proc/sys/net/ipv4/ip_forward") == before


def test_sysctl_ipc_and_uts(runtime, bundle):
    before = read_host("/proc/sys/kernel/msgmax")
    bundle.linux["sysctl"] = {"kernel.msgmax": "4321", "kernel.domainname": "sysctl.example"}
    bundle.sh("cat /proc/sys/kernel/msgmax /proc/sys/kernel/domainname")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert r.out.split() == ["4321", "sysctl.example"]
    assert read_host("/proc/sys/kernel/msgmax") == before


def test_ipc_namespace_isolates_mqueue(runtime, make_bundle):
    """A POSIX message queue made in one container is invisible in another."""
    a, b = make_bundle("ipca"), make_bundle("ipcb")
    a.sh("ls /dev/mqueue > /out/before; echo hi > /dev/mqueue/celltest-q 2>/dev/null; "
         "ls /dev/mqueue > /out/after; sleep 1001")
    runtime.run(a, detach=True).ok()
    wait_for(lambda: os.path.exists(os.path.join(a.out, "after")), what="queue")
    assert a.read_out("after").split() == ["celltest-q"]
    b.sh("ls /dev/mqueue | wc -l")
    r = runtime.run(b)
    assert r.rc == 0, r
    assert r.out.strip() == "0"


def test_uts_namespace_hostname_isolated(runtime, make_bundle):
    a, b = make_bundle("utsa"), make_bundle("utsb")
    a.config["hostname"] = "celltest-a"
    b.config["hostname"] = "celltest-b"
    a.args("sleep", "1001")
    runtime.run(a, detach=True).ok()
    b.sh("hostname")
    r = runtime.run(b)
    assert r.out.strip() == "celltest-b"
    assert runtime.exec(a.id, "hostname").ok().out.strip() == "celltest-a"


def test_network_namespace_only_loopback(runtime, bundle):
    bundle.sh("ls /sys/class/net; ip link show lo | head -1")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0].split() == ["lo"]


def test_pid_namespace_init_reaps(runtime, bundle):
    bundle.sh("sleep 0.1 & wait; echo $$")
    r = runtime.run(bundle)
    assert r.out.strip() == "1"


def test_new_network_namespace_has_loopback_up(runtime, bundle):
    """runc and crun bring lo up in a network namespace they create."""
    bundle.sh("cat /sys/class/net/lo/operstate; ip -o link show lo")
    r = runtime.run(bundle).ok()
    assert "UP" in r.out.split("\n", 1)[1]
