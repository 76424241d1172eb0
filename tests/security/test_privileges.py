# SPDX-License-Identifier: LGPL-2.1-or-later
"""Privileged operations from a default container: mounting, regaining
capabilities through a user namespace, chroot/pivot_root/handle escapes,
ptrace of host processes, device nodes, raw sockets, cgroup v1
release_agent.

Most attacks run twice (the `profile` fixture): under the default config,
where seccomp refuses many of them first, and with seccomp removed, where
the capability set, the namespaces' owners, and the read-only/masked paths
must hold on their own.
"""
import glob
import os
import subprocess

import celltest
import hostwatch
from payload import USERNS, parse_report
from secrun import apply_profile, drop_capability

DENIED = {"EPERM", "EACCES"}


def run_attack(runtime, bundle, tool, name, source, *args, profile="default", timeout=15):
    prog = tool(name, source)
    apply_profile(bundle, profile)
    bundle.args(prog, *[str(a) for a in args])
    r = runtime.run(bundle, timeout=timeout)
    assert r.rc == 0, r
    return parse_report(r.out), r


def refused(report, keys, allowed=DENIED):
    """The keys whose result is not one of `allowed` (so: wrongly succeeded)."""
    return {k: report.get(k) for k in keys if report.get(k) not in allowed}


MOUNTER = r"""
int main(int argc, char **argv)
{
	const char *marker = argv[1];
	mkdir("/tmp/m", 0755);
	mkdir("/tmp/m/old", 0755);
	outcome("mount_tmpfs", mount(marker, "/tmp/m", "tmpfs", 0, "size=1m"));
	outcome("mount_proc", mount("proc", "/tmp/m", "proc", 0, NULL));
	outcome("mount_sysfs", mount("sysfs", "/tmp/m", "sysfs", 0, NULL));
	outcome("mount_devpts", mount("devpts", "/tmp/m", "devpts", 0, "newinstance"));
	outcome("mount_cgroup", mount("cgroup", "/tmp/m", "cgroup", 0, "none,name=celltest"));
	outcome("bind_root", mount("/", "/tmp/m", NULL, MS_BIND | MS_REC, NULL));
	outcome("remount_root_rw", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL));
	outcome("remount_proc_sys_rw", mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
	outcome("umount_proc_sys", umount2("/proc/sys", MNT_DETACH));
	outcome("umount_masked", umount2("/proc/keys", MNT_DETACH));
	outcome("make_root_shared", mount(NULL, "/", NULL, MS_SHARED | MS_REC, NULL));
	outcome("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */));
	outcome("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
	outcome("pivot_root", syscall(SYS_pivot_root, "/tmp/m", "/tmp/m/old"));
	outcome("pivot_root_dot", syscall(SYS_pivot_root, ".", "."));
	return 0;
}
"""
MOUNT_KEYS = ["mount_tmpfs", "mount_proc", "mount_sysfs", "mount_devpts", "mount_cgroup",
              "bind_root", "remount_root_rw", "remount_proc_sys_rw", "umount_proc_sys",
              "umount_masked", "make_root_shared", "open_tree", "fsopen", "pivot_root",
              "pivot_root_dot"]


def test_mount_and_pivot_root(runtime, bundle, tool, profile):
    marker = f"celltest-pwn-{bundle.id}"
    table = hostwatch.mount_table()
    report, r = run_attack(runtime, bundle, tool, "mounter", MOUNTER, marker, profile=profile)
    assert refused(report, MOUNT_KEYS, DENIED | {"ENOSYS"}) == {}, r
    assert hostwatch.mounts_naming(marker) == []
    assert hostwatch.mount_table() == table


USERNS_ATTACK = USERNS + r"""
/* Root with every capability -- in a user namespace the container's
 * namespaces do not belong to.  None of this may work. */
int main(int argc, char **argv)
{
	if (userns_root("unshare_user", CLONE_NEWNS) < 0)
		return 0;
	char status[4096] = "", *cap;
	int fd = open("/proc/self/status", O_RDONLY);
	status[read(fd, status, sizeof(status) - 1) > 0 ? sizeof(status) - 1 : 0] = '\0';
	if ((cap = strstr(status, "CapEff:")))
		report("capeff", "%.16s", cap + 8);
	mkdir("/tmp/m", 0755);
	outcome("remount_root_rw", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL));
	outcome("remount_proc_sys_rw", mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
	outcome("umount_proc_sys", umount2("/proc/sys", MNT_DETACH));
	outcome("umount_masked", umount2("/proc/keys", MNT_DETACH));
	outcome("umount_masked_dir", umount2("/sys/firmware", MNT_DETACH));
	outcome("write_core_pattern", open("/proc/sys/kernel/core_pattern", O_WRONLY));
	outcome("sethostname", sethostname("pwned", 5));
	outcome("mknod", mknod("/tmp/celltest-mem", S_IFCHR | 0600, makedev(1, 1)));
	outcome("raw_socket", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
	outcome("mount_proc", mount("proc", "/tmp/m", "proc", 0, NULL));
	outcome("mount_sysfs", mount("sysfs", "/tmp/m", "sysfs", 0, NULL));
	outcome("setns_host_net", setns(open("/proc/1/ns/net", O_RDONLY), CLONE_NEWNET));

	/* own pid and net namespaces too: a fresh proc or sysfs would now be
	 * allowed, were the container's not partly masked (mnt_too_revealing) */
	if (outcome("unshare_pid_net", unshare(CLONE_NEWPID | CLONE_NEWNET)) < 0)
		return 0;
	pid_t pid = fork();
	if (pid == 0) {
		outcome("fresh_proc", mount("proc", "/tmp/m", "proc", 0, NULL));
		outcome("fresh_sysfs", mount("sysfs", "/tmp/m", "sysfs", 0, NULL));
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	return 0;
}
"""
USERNS_KEYS = {
    "remount_root_rw": DENIED, "remount_proc_sys_rw": DENIED,
    "umount_proc_sys": DENIED | {"EINVAL"}, "umount_masked": DENIED | {"EINVAL"},
    "umount_masked_dir": DENIED | {"EINVAL"}, "write_core_pattern": DENIED | {"EROFS"},
    "sethostname": DENIED, "mknod": DENIED, "raw_socket": DENIED, "mount_proc": DENIED,
    "mount_sysfs": DENIED, "setns_host_net": DENIED, "fresh_proc": DENIED,
    "fresh_sysfs": DENIED,
}


def test_user_namespace_regains_nothing(runtime, bundle, tool, profile):
    table = hostwatch.mount_table()
    report, r = run_attack(runtime, bundle, tool, "userns-attack", USERNS_ATTACK,
                           profile=profile)
    if report.get("unshare_user") != "ok":
        assert report.get("unshare_user") in DENIED, r
        return
    assert profile == "no-seccomp", f"the default profile let unshare(CLONE_NEWUSER) through\n{r}"
    wrong = {k: report.get(k) for k, ok in USERNS_KEYS.items()
             if k in report and report[k] not in ok}
    assert wrong == {}, r
    assert "remount_root_rw" in report, r   # the attack got that far
    assert hostwatch.mount_table() == table


ESCAPE = r"""
/* argv[1]: a host file outside the rootfs.  Classic chroot escape (chroot
 * into a subdirectory, fchdir to an fd kept outside it, ".." 64 times,
 * chroot "."), the "shocker" handle escape (open the filesystem's root
 * inode by handle), and the roots of other processes. */
static const char *same_root(void)
{
	static struct stat first;
	struct stat now;
	if (!first.st_ino)
		stat("/", &first);
	stat("/", &now);
	return now.st_dev == first.st_dev && now.st_ino == first.st_ino ? "yes" : "no";
}

int main(int argc, char **argv)
{
	const char *host_file = argv[1];
	char path[4200];
	same_root();
	int outside = open("/", O_RDONLY | O_DIRECTORY);
	mkdir("/tmp/jail", 0755);
	if (outcome("chroot_jail", chroot("/tmp/jail")) == 0) {
		outcome("fchdir_out", fchdir(outside));
		for (int i = 0; i < 64; i++)
			(void)chdir("..");
		outcome("chroot_dot", chroot("."));
	}
	report("root_unchanged", "%s", same_root());
	report("host_file", "%s", access(host_file, F_OK) == 0 ? "visible" : "absent");
	snprintf(path, sizeof(path), "/proc/1/root/../../../..%s", host_file);
	report("via_proc1_root", "%s", access(path, F_OK) == 0 ? "visible" : "absent");
	snprintf(path, sizeof(path), "/proc/self/cwd/../../../..%s", host_file);
	report("via_proc_cwd", "%s", access(path, F_OK) == 0 ? "visible" : "absent");

	/* ext4's root directory is inode 2, generation 0 */
	struct { struct file_handle h; unsigned int ino_gen[2]; } fh = {
		.h = { .handle_bytes = 8, .handle_type = 1 /* FILEID_INO32_GEN */ },
		.ino_gen = { 2, 0 },
	};
	int fsroot = open_by_handle_at(outside, &fh.h, O_RDONLY | O_DIRECTORY);
	if (outcome("open_by_handle", fsroot) == 0) {
		snprintf(path, sizeof(path), ".%s", host_file);
		report("handle_reaches_host_file", "%s",
		       faccessat(fsroot, path, F_OK, 0) == 0 ? "yes" : "no");
	}
	return 0;
}
"""


def test_chroot_and_handle_escapes(runtime, bundle, tool, profile):
    secret = os.path.join(bundle.path, "host-secret")
    with open(secret, "w") as f:
        f.write("host secret\n")
    report, r = run_attack(runtime, bundle, tool, "escape", ESCAPE, secret, profile=profile)
    assert hostwatch.read(secret) == "host secret\n"
    assert report["root_unchanged"] == "yes", r
    assert (report["host_file"], report["via_proc1_root"], report["via_proc_cwd"]) == \
        ("absent", "absent", "absent"), r
    assert report["open_by_handle"] in DENIED, r
    assert "handle_reaches_host_file" not in report, r


TRACER = r"""
/* argv: host pids.  Each must be out of reach: not visible, not signalable,
 * not traceable, its memory not readable. */
int main(int argc, char **argv)
{
	char key[64], path[64], buf[16];
	for (int i = 1; i < argc; i++) {
		pid_t pid = atoi(argv[i]);
		snprintf(key, sizeof(key), "kill:%d", pid);
		outcome(key, kill(pid, SIGKILL));
		snprintf(key, sizeof(key), "ptrace:%d", pid);
		if (outcome(key, ptrace(PTRACE_ATTACH, pid, 0, 0)) == 0)
			ptrace(PTRACE_DETACH, pid, 0, 0);
		snprintf(key, sizeof(key), "pidfd:%d", pid);
		outcome(key, syscall(SYS_pidfd_open, pid, 0));
		struct iovec local = { buf, sizeof(buf) }, remote = { (void *)0x400000, sizeof(buf) };
		snprintf(key, sizeof(key), "vm_read:%d", pid);
		outcome(key, process_vm_readv(pid, &local, 1, &remote, 1, 0));
		snprintf(path, sizeof(path), "/proc/%d/environ", pid);
		snprintf(key, sizeof(key), "proc:%d", pid);
		outcome(key, open(path, O_RDONLY));
	}
	return 0;
}
"""


def test_ptrace_host_process(runtime, bundle, tool, profile):
    """A host process of our own (sleep) and this test process are the
    victims: kill/ptrace/pidfd/process_vm_readv/proc must all fail, and the
    victim must still run, untraced."""
    victim = subprocess.Popen(["sleep", "60"])
    celltest.IN_FLIGHT.add(victim.pid)
    try:
        pids = [victim.pid, os.getpid()]
        report, r = run_attack(runtime, bundle, tool, "tracer", TRACER, *pids, profile=profile)
        for pid in pids:
            for what in ("kill", "ptrace", "pidfd", "vm_read", "proc"):
                assert report.get(f"{what}:{pid}") in {"ESRCH", "ENOENT", "EPERM"}, r
        assert victim.poll() is None, "the host process was killed"
        status = celltest.parse_status(hostwatch.read(f"/proc/{victim.pid}/status"))
        assert status["TracerPid"] == "0" and not status["State"].startswith("t")
    finally:
        victim.kill()
        victim.wait()
        celltest.IN_FLIGHT.discard(victim.pid)


MKNOD = r"""
/* argv: NAME:TYPE:MAJOR:MINOR...  mknod each in /dev (a tmpfs without nodev)
 * and /tmp (nodev), then try to open it -- read-only, and nothing is read. */
int main(int argc, char **argv)
{
	const char *dirs[] = { "/dev", "/tmp" };
	for (int i = 1; i < argc; i++) {
		char name[64], type, key[128], path[128];
		unsigned maj, min;
		if (sscanf(argv[i], "%63[^:]:%c:%u:%u", name, &type, &maj, &min) != 4)
			return 2;
		for (int d = 0; d < 2; d++) {
			snprintf(path, sizeof(path), "%s/celltest-%s", dirs[d], name);
			snprintf(key, sizeof(key), "mknod:%s", path);
			mode_t mode = (type == 'b' ? S_IFBLK : S_IFCHR) | 0600;
			if (outcome(key, mknod(path, mode, makedev(maj, min))) < 0)
				continue;
			snprintf(key, sizeof(key), "open:%s", path);
			int fd = open(path, O_RDONLY | O_NONBLOCK);
			outcome(key, fd);
			if (fd >= 0)
				close(fd);
			unlink(path);
		}
	}
	int fd = open("/dev/null", O_RDWR);   /* the allow-list still works */
	outcome("open:/dev/null", fd);
	return 0;
}
"""


def host_disk():
    st = os.stat("/")
    return os.major(st.st_dev), os.minor(st.st_dev)


def test_device_nodes_unusable(runtime, bundle, tool):
    """CAP_MKNOD is in the default set, so mknod may work: the node must
    still be unusable (device cgroup in /dev, nodev in /tmp)."""
    maj, mnr = host_disk()
    nodes = ["mem:c:1:1", "kmem:c:1:2", "port:c:1:4", "kmsg:c:1:11", f"disk:b:{maj}:{mnr}",
             "loop0:b:7:0", "tty0:c:4:0", "fuse:c:10:229"]
    report, r = run_attack(runtime, bundle, tool, "mknoder", MKNOD, *nodes)
    assert glob.glob("/dev/celltest-*") == [], "device nodes appeared on the host"
    assert report.get("open:/dev/null") == "ok", r
    opened = {k: v for k, v in report.items() if k.startswith("open:/") and k != "open:/dev/null"
              and v not in DENIED | {"ENXIO", "ENODEV"}}
    assert opened == {}, r
    for node in nodes:
        name = node.split(":")[0]
        assert f"mknod:/dev/celltest-{name}" in report, r


RAW = r"""
#include <net/if.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
int main(int argc, char **argv)
{
	outcome("inet_raw_icmp", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
	outcome("inet_raw_raw", socket(AF_INET, SOCK_RAW, IPPROTO_RAW));
	outcome("inet6_raw", socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6));
	outcome("packet_raw", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
	outcome("packet_dgram", socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)));
	struct if_nameindex *ifs = if_nameindex();
	for (struct if_nameindex *i = ifs; i && i->if_index; i++)
		report("interface", "%s", i->if_name);
	return 0;
}
"""
RAW_KEYS = ["inet_raw_icmp", "inet_raw_raw", "inet6_raw", "packet_raw", "packet_dgram"]


def test_raw_sockets_without_cap_net_raw(runtime, bundle, tool, profile):
    drop_capability(bundle, "CAP_NET_RAW")
    report, r = run_attack(runtime, bundle, tool, "rawsock", RAW, profile=profile)
    assert refused(report, RAW_KEYS) == {}, r


def test_raw_socket_sees_only_container_network(runtime, bundle, tool):
    """With the default CAP_NET_RAW a packet socket opens -- on the
    container's network namespace, whose only interface is lo."""
    report, r = run_attack(runtime, bundle, tool, "rawsock", RAW)
    assert report["packet_raw"] == "ok", r
    interfaces = [ln.split(" ", 1)[1] for ln in r.out.splitlines() if ln.startswith("interface ")]
    assert interfaces == ["lo"], r


RELEASE_AGENT = USERNS + r"""
/* cgroup v1 release_agent: the kernel runs it as root on the host when a
 * cgroup with notify_on_release empties.  Every way to write one must
 * fail; a write that worked would name a program that does not exist. */
static void try_write(const char *key, const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	if (outcome(key, fd) == 0) {
		char wkey[128];
		snprintf(wkey, sizeof(wkey), "write_%s", key);
		outcome(wkey, write(fd, value, strlen(value)));
		close(fd);
	}
}

int main(int argc, char **argv)
{
	const char *agent = "/nonexistent-celltest-agent";
	char key[128], path[256];
	DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/release_agent", e->d_name);
		snprintf(key, sizeof(key), "agent:%s", e->d_name);
		if (access(path, F_OK) == 0)
			try_write(key, path, agent);
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/notify_on_release", e->d_name);
		snprintf(key, sizeof(key), "notify:%s", e->d_name);
		if (access(path, F_OK) == 0)
			try_write(key, path, "1");
	}
	mkdir("/tmp/cg", 0755);
	outcome("mount_new_hierarchy", mount("cgroup", "/tmp/cg", "cgroup", 0, "none,name=celltest"));
	outcome("mount_rdma", mount("cgroup", "/tmp/cg", "cgroup", 0, "rdma"));
	outcome("mount_memory", mount("cgroup", "/tmp/cg", "cgroup", 0, "memory"));
	if (userns_root("unshare_user", CLONE_NEWNS | CLONE_NEWCGROUP) < 0)
		return 0;
	const char *opts[] = { "none,name=celltest", "rdma", "memory" };
	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "userns_mount:%s", opts[i]);
		if (outcome(key, mount("cgroup", "/tmp/cg", "cgroup", 0, opts[i])) < 0)
			continue;
		snprintf(key, sizeof(key), "userns_agent:%s", opts[i]);
		if (access("/tmp/cg/release_agent", F_OK) == 0)
			try_write(key, "/tmp/cg/release_agent", agent);
		umount2("/tmp/cg", MNT_DETACH);
	}
	return 0;
}
"""


def host_release_agents():
    return hostwatch.snapshot(sorted(
        os.path.join(celltest.CGROUP_FS, c, "release_agent")
        for c in os.listdir(celltest.CGROUP_FS)
        if os.path.exists(os.path.join(celltest.CGROUP_FS, c, "release_agent"))))


def test_cgroup_release_agent(runtime, bundle, tool, profile):
    before = host_release_agents()
    report, r = run_attack(runtime, bundle, tool, "release-agent", RELEASE_AGENT,
                           profile=profile)
    assert host_release_agents() == before
    assert not any(k.startswith("write_") for k in report), r
    opened = {k: v for k, v in report.items()
              if k.startswith(("agent:", "notify:", "userns_agent:")) and v != "EROFS"
              and v not in DENIED}
    assert opened == {}, r
    mounted = {k: v for k, v in report.items()
               if k.startswith("mount_") and v not in DENIED}
    assert mounted == {}, r
    assert any(k.startswith("notify:") for k in report), "no cgroup mount to attack?\n" + r.out
