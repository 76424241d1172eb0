# SPDX-License-Identifier: LGPL-2.1-or-later
"""root, mounts, propagation, maskedPaths, readonlyPaths — all read back from
the container's own /proc/self/mountinfo or by touching files inside."""
import os
import shutil

import pytest

from celltest import host_mounts, mount_at, parse_mountinfo, wait_for

MOUNTINFO = "cat /proc/self/mountinfo"


def run(runtime, bundle, script, rc=0):
    bundle.sh(script)
    r = runtime.run(bundle)
    assert r.rc == rc, r
    return r


def inside_mounts(runtime, bundle, extra=""):
    r = run(runtime, bundle, (extra + "; " if extra else "") + MOUNTINFO)
    return parse_mountinfo(r.out), r


def data_dir(bundle, name="data", files=None):
    d = os.path.join(bundle.path, name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    for fname, text in (files or {}).items():
        with open(os.path.join(d, fname), "w") as f:
            f.write(text)
    return d


def test_root_readonly(runtime, bundle):
    bundle.config["root"]["readonly"] = True
    r = run(runtime, bundle, "touch /celltest-x 2>&1; echo rc=$?; " + MOUNTINFO)
    first, rest = r.out.split("\n", 1)
    assert "Read-only file system" in first
    assert rest.startswith("rc=1")
    root = mount_at(parse_mountinfo(rest.split("\n", 1)[1]), "/")
    assert "ro" in root["options"]
    assert not os.path.exists(os.path.join(bundle.s.rootfs, "celltest-x"))


def test_root_writable(runtime, bundle):
    rootfs = bundle.private_rootfs()
    bundle.config["root"]["readonly"] = False
    run(runtime, bundle, "echo hi > /written")
    with open(os.path.join(rootfs, "written")) as f:
        assert f.read() == "hi\n"


def test_tmpfs_size_mode(runtime, bundle):
    bundle.add_mount("/tmp/t", "tmpfs", "tmpfs", ["size=1m", "mode=0710", "nosuid", "nodev"])
    mounts, r = inside_mounts(runtime, bundle, "stat -c %a /tmp/t")
    assert r.out.splitlines()[0] == "710"
    m = mount_at(mounts, "/tmp/t")
    assert m and m["fstype"] == "tmpfs"
    assert "size=1024k" in m["super"] and "mode=710" in m["super"]
    assert "nosuid" in m["options"] and "nodev" in m["options"]


def test_mount_nested_destination_created(runtime, bundle):
    bundle.add_mount("/tmp/a/b/c", "tmpfs", "tmpfs", ["size=1m"])
    mounts, _ = inside_mounts(runtime, bundle)
    assert mount_at(mounts, "/tmp/a/b/c")["fstype"] == "tmpfs"


def test_mounts_applied_in_order(runtime, bundle):
    d = data_dir(bundle, files={"f": "lower\n"})
    bundle.add_mount("/tmp/o", "bind", d, ["bind"])
    bundle.add_mount("/tmp/o", "tmpfs", "tmpfs", ["size=1m"])
    r = run(runtime, bundle, "ls -A /tmp/o | wc -l")
    assert r.out.strip() == "0", "the later tmpfs does not cover the earlier bind"


def test_bind_ro(runtime, bundle):
    d = data_dir(bundle, files={"file": "hello\n"})
    bundle.add_mount("/tmp/ro", "bind", d, ["bind", "ro"])
    mounts, r = inside_mounts(runtime, bundle,
                              "cat /tmp/ro/file; touch /tmp/ro/new 2>&1; echo rc=$?")
    lines = r.out.splitlines()
    assert lines[0] == "hello"
    assert "Read-only file system" in lines[1] and lines[2] == "rc=1"
    assert "ro" in mount_at(mounts, "/tmp/ro")["options"]
    assert not os.path.exists(os.path.join(d, "new"))


def test_bind_rw_writes_reach_host(runtime, bundle):
    d = data_dir(bundle)
    os.chmod(d, 0o777)
    bundle.add_mount("/tmp/rw", "bind", d, ["bind", "rw"])
    run(runtime, bundle, "echo from-inside > /tmp/rw/new")
    with open(os.path.join(d, "new")) as f:
        assert f.read() == "from-inside\n"


def test_bind_file(runtime, bundle):
    d = data_dir(bundle, files={"one.txt": "just a file\n"})
    bundle.add_mount("/tmp/single.txt", "bind", os.path.join(d, "one.txt"), ["bind", "ro"])
    r = run(runtime, bundle, "cat /tmp/single.txt; stat -c %F /tmp/single.txt")
    assert r.out.splitlines() == ["just a file", "regular file"]


def test_bind_nosuid_nodev_noexec(runtime, bundle):
    d = data_dir(bundle)
    shutil.copy2("/bin/busybox", os.path.join(d, "busybox"))
    bundle.add_mount("/tmp/nx", "bind", d, ["bind", "nosuid", "nodev", "noexec"])
    bundle.add_mount("/tmp/x", "bind", d, ["bind"])
    mounts, r = inside_mounts(runtime, bundle,
                              "/tmp/x/busybox echo exec-ok; /tmp/nx/busybox true 2>&1; echo rc=$?")
    lines = r.out.splitlines()
    assert lines[0] == "exec-ok"
    assert "Permission denied" in lines[1] and lines[2] == "rc=126"
    opts = mount_at(mounts, "/tmp/nx")["options"]
    assert {"nosuid", "nodev", "noexec"} <= set(opts)
    assert "noexec" not in mount_at(mounts, "/tmp/x")["options"]


def test_rbind_vs_bind(runtime, bundle):
    d = data_dir(bundle, files={"top": "top\n"})
    sub = os.path.join(d, "sub")
    bundle.host_mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", target=sub)
    with open(os.path.join(sub, "inner"), "w") as f:
        f.write("inner\n")
    bundle.add_mount("/tmp/rb", "bind", d, ["rbind"])
    bundle.add_mount("/tmp/b", "bind", d, ["bind"])
    mounts, r = inside_mounts(runtime, bundle,
                              "cat /tmp/rb/sub/inner; ls -A /tmp/b/sub | wc -l")
    assert r.out.splitlines()[:2] == ["inner", "0"]
    assert mount_at(mounts, "/tmp/rb/sub")["fstype"] == "tmpfs"
    assert mount_at(mounts, "/tmp/b/sub") is None


def shared_source(bundle):
    d = os.path.join(bundle.path, "shared")
    bundle.host_mount("-t", "tmpfs", "-o", "size=1m,mode=755", "celltest", target=d)
    import subprocess
    subprocess.run(["mount", "--make-shared", d], check=True)
    return d


def test_propagation_rslave(runtime, bundle):
    d = shared_source(bundle)
    bundle.add_mount("/tmp/slave", "bind", d, ["rbind", "rslave"])
    bundle.sh("cat /proc/self/mountinfo > /out/mountinfo; "
              "while [ ! -e /tmp/slave/late/flag ]; do usleep 10000; done; echo seen > /out/seen")
    runtime.run(bundle, detach=True).ok()
    wait_for(lambda: os.path.exists(os.path.join(bundle.out, "mountinfo")), what="mountinfo")
    m = mount_at(parse_mountinfo(bundle.read_out("mountinfo")), "/tmp/slave")
    assert any(t.startswith("master:") for t in m["optional"]), m
    assert not any(t.startswith("shared:") for t in m["optional"]), m
    # a mount made on the host later propagates into the slave
    bundle.host_mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", target=os.path.join(d, "late"))
    with open(os.path.join(d, "late", "flag"), "w"):
        pass
    wait_for(lambda: os.path.exists(os.path.join(bundle.out, "seen")), what="propagation")


def test_propagation_rshared(runtime, bundle):
    d = shared_source(bundle)
    bundle.add_mount("/tmp/shared", "bind", d, ["rbind", "rshared"])
    mounts, _ = inside_mounts(runtime, bundle)
    m = mount_at(mounts, "/tmp/shared")
    assert any(t.startswith("shared:") for t in m["optional"]), m


def test_propagation_rprivate(runtime, bundle):
    d = shared_source(bundle)
    bundle.add_mount("/tmp/private", "bind", d, ["rbind", "rprivate"])
    mounts, _ = inside_mounts(runtime, bundle)
    assert mount_at(mounts, "/tmp/private")["optional"] == []


def test_container_mounts_invisible_on_host(runtime, bundle, session):
    before = {m["mountpoint"] for m in host_mounts()}
    bundle.add_mount("/tmp/t", "tmpfs", "tmpfs", ["size=1m"])
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    after = {m["mountpoint"] for m in host_mounts()}
    assert after - before == set()


def test_sysfs_readonly(runtime, bundle):
    mounts, _ = inside_mounts(runtime, bundle)
    m = mount_at(mounts, "/sys")
    assert m["fstype"] == "sysfs"
    assert "ro" in m["options"]


def test_proc_and_dev_mounts(runtime, bundle):
    mounts, _ = inside_mounts(runtime, bundle)
    assert mount_at(mounts, "/proc")["fstype"] == "proc"
    assert mount_at(mounts, "/dev")["fstype"] == "tmpfs"
    assert mount_at(mounts, "/dev/pts")["fstype"] == "devpts"
    assert mount_at(mounts, "/dev/shm")["fstype"] == "tmpfs"


def test_mqueue(runtime, bundle):
    mounts, _ = inside_mounts(runtime, bundle)
    m = mount_at(mounts, "/dev/mqueue")
    assert m and m["fstype"] == "mqueue"


def test_cgroup_mount(runtime, bundle, session):
    r = run(runtime, bundle, "ls /sys/fs/cgroup; echo --; "
                             "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; echo --; " + MOUNTINFO)
    listing, limit, mi = r.out.split("--\n")
    names = listing.split()
    for ctrl in ("memory", "pids", "cpu", "devices", "freezer"):
        assert any(ctrl in n.split(",") for n in names), names
    assert limit.strip().isdigit()
    mounts = parse_mountinfo(mi)
    cg = [m for m in mounts if m["mountpoint"].startswith("/sys/fs/cgroup/")]
    assert cg and all(m["fstype"] in ("cgroup", "cgroup2") for m in cg)
    assert all("ro" in m["options"] for m in cg)
    # the memory hierarchy shown inside is the container's own cgroup
    mem = [m for m in cg if m["mountpoint"].endswith("/memory")][0]
    assert mem["root"] in ("/", session.cgroups_path(bundle.id))


def test_masked_file(runtime, bundle):
    d = data_dir(bundle, files={"secret.txt": "s3cret\n"})
    bundle.add_mount("/tmp/secret.txt", "bind", os.path.join(d, "secret.txt"), ["bind"])
    bundle.linux["maskedPaths"] = bundle.linux["maskedPaths"] + ["/tmp/secret.txt"]
    r = run(runtime, bundle, "stat -c '%F %t:%T' /tmp/secret.txt; wc -c < /tmp/secret.txt")
    assert r.out.splitlines() == ["character special file 1:3", "0"]


def test_masked_proc_file(runtime, bundle):
    masked = [p for p in bundle.linux["maskedPaths"]
              if p.startswith("/proc/") and os.path.isfile(p)]
    if not masked:
        pytest.skip("none of the default masked /proc files exists on this kernel")
    r = run(runtime, bundle, "; ".join(f"stat -c '%F %t:%T' {p}; wc -c < {p}" for p in masked))
    assert r.out.splitlines() == ["character special file 1:3", "0"] * len(masked)


def test_masked_dir(runtime, bundle):
    d = data_dir(bundle, files={"secret": "s3cret\n"})
    bundle.add_mount("/tmp/secret", "bind", d, ["bind"])
    bundle.linux["maskedPaths"] = bundle.linux["maskedPaths"] + ["/tmp/secret"]
    mounts, r = inside_mounts(runtime, bundle, "ls -A /tmp/secret | wc -l; "
                                               "touch /tmp/secret/x 2>/dev/null; echo rc=$?")
    assert r.out.splitlines()[:2] == ["0", "rc=1"]
    m = mount_at(mounts, "/tmp/secret")
    assert m["fstype"] == "tmpfs" and "ro" in m["options"]


def test_masked_sys_firmware(runtime, bundle):
    if not os.path.isdir("/sys/firmware") or not os.listdir("/sys/firmware"):
        pytest.skip("/sys/firmware is empty on this host")
    assert "/sys/firmware" in bundle.linux["maskedPaths"]
    r = run(runtime, bundle, "ls -A /sys/firmware | wc -l")
    assert r.out.strip() == "0"


def test_masked_path_missing_is_ignored(runtime, bundle):
    bundle.linux["maskedPaths"] = bundle.linux["maskedPaths"] + ["/proc/celltest-none",
                                                                   "/tmp/none/deeper"]
    r = run(runtime, bundle, "echo ok")
    assert r.out == "ok\n"


def test_readonly_proc_sys(runtime, bundle):
    # the write is aimed at the container's own network namespace
    assert "network" in bundle.namespaces()
    assert "/proc/sys" in bundle.linux["readonlyPaths"]
    # a new namespace starts with the host's value (net.core.devconf_inherit_init_net
    # 0: IPv4 inherits init_net's): what is shown is that the write changed nothing
    mounts, r = inside_mounts(runtime, bundle,
                              "before=$(cat /proc/sys/net/ipv4/ip_forward); "
                              "(echo $((1 - before)) > /proc/sys/net/ipv4/ip_forward) 2>&1; "
                              "echo rc=$?; echo $before; cat /proc/sys/net/ipv4/ip_forward")
    lines = r.out.splitlines()
    assert "Read-only file system" in lines[0]
    assert lines[1] == "rc=1" and lines[2] == lines[3], lines
    assert "ro" in mount_at(mounts, "/proc/sys")["options"]


def test_readonly_path_custom(runtime, bundle):
    d = data_dir(bundle)
    os.chmod(d, 0o777)
    bundle.add_mount("/tmp/rop", "bind", d, ["bind", "rw"])
    bundle.linux["readonlyPaths"] = bundle.linux["readonlyPaths"] + ["/tmp/rop"]
    r = run(runtime, bundle, "touch /tmp/rop/x 2>&1; echo rc=$?")
    assert "Read-only file system" in r.out and "rc=1" in r.out
    assert not os.path.exists(os.path.join(d, "x"))


def test_rootfs_propagation_unbindable(runtime, bundle):
    bundle.linux["rootfsPropagation"] = "unbindable"
    bundle.sh("awk '$5 == \"/\"' /proc/self/mountinfo")
    r = runtime.run(bundle)
    if not runtime.is_cell and r.rc != 0:
        pytest.skip("runc 1.1 cannot bind an unbindable root either")
    assert r.rc == 0, r
    assert "unbindable" in r.out


def test_readonly_dev(runtime, bundle):
    """A read-only /dev in the config (runc's dev.bats): /dev/pts, the device
    nodes and links are still made below it, and /dev ends up read-only."""
    dev = next(m for m in bundle.config["mounts"] if m["destination"] == "/dev")
    dev["options"] = list(dev.get("options", [])) + ["ro"]
    mounts, r = inside_mounts(runtime, bundle,
                              "touch /dev/celltest 2>&1; echo rc=$?; echo x > /dev/null && "
                              "echo null-ok; ls -d /dev/pts/ptmx /dev/fd /dev/zero")
    lines = r.out.splitlines()
    assert "Read-only file system" in lines[0] and lines[1] == "rc=1", lines
    assert lines[2] == "null-ok", lines
    assert sorted(lines[3:6]) == ["/dev/fd", "/dev/pts/ptmx", "/dev/zero"], lines
    assert "ro" in mount_at(mounts, "/dev")["options"]
    assert "rw" in mount_at(mounts, "/dev/pts")["options"]


def test_readonly_tmpfs_with_a_mount_below(runtime, bundle):
    """A read-only tmpfs gets its mount points made before it turns read-only."""
    d = data_dir(bundle, files={"file": "below\n"})
    bundle.add_mount("/mnt/rotmp", "tmpfs", "tmpfs", ["ro", "mode=755"])
    bundle.add_mount("/mnt/rotmp/sub/dir", "bind", d, ["bind", "ro"])
    mounts, r = inside_mounts(runtime, bundle,
                              "cat /mnt/rotmp/sub/dir/file; touch /mnt/rotmp/x 2>&1; echo rc=$?")
    lines = r.out.splitlines()
    assert lines[0] == "below", lines
    assert "Read-only file system" in lines[1] and lines[2] == "rc=1", lines
    assert "ro" in mount_at(mounts, "/mnt/rotmp")["options"]
