# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host-wide kernel knobs under /proc and /sys stay out of reach.

Each attack opens the file for writing from inside a default container and,
where a value is given, writes it.  A host-wide knob only ever gets the
host's current value, so that a write that wrongly succeeded changes
nothing (the open/write result is the verdict, and the test never has to
repair the host); namespaced knobs (hostname, shmmax) get new values, and
the host's own must not change.  Expected: EROFS (read-only bind),
EACCES/EPERM, or ENOENT where this kernel (or the mask) has no such file.
"""
import os

import hostwatch
from payload import parse_report

WRITER = r"""
/* Each argument is PATH or PATH=VALUE: open PATH for writing ("PATH <result>")
 * and write VALUE when the open worked ("write:PATH <result>").  Or, with a
 * leading '<', read it: "read:PATH <bytes or error>". */
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char path[4096], key[4200], buf[4096];
		if (argv[i][0] == '<') {
			int fd = open(argv[i] + 1, O_RDONLY);
			snprintf(key, sizeof(key), "read:%s", argv[i] + 1);
			if (fd < 0) {
				outcome(key, fd);
				continue;
			}
			long n = 0, r;
			while ((r = read(fd, buf, sizeof(buf))) > 0)
				n += r;
			if (r < 0)
				outcome(key, r);
			else
				report(key, "%ld", n);
			close(fd);
			continue;
		}
		const char *eq = strchr(argv[i], '=');
		size_t len = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		snprintf(path, sizeof(path), "%.*s", (int)len, argv[i]);
		int fd = open(path, O_WRONLY);
		if (outcome(path, fd) == 0 && eq) {
			snprintf(key, sizeof(key), "write:%s", path);
			outcome(key, write(fd, eq + 1, strlen(eq + 1)));
		}
		if (fd >= 0)
			close(fd);
	}
	return 0;
}
"""

REFUSED = {"EROFS", "EACCES", "EPERM", "ENOENT"}


def current(path):
    return hostwatch.read(path).rstrip("\n")


def attack(runtime, bundle, tool, targets):
    """Run WRITER on targets (path -> value or None); the parsed report."""
    prog = tool("writer", WRITER)
    bundle.args(prog, *[p if v is None else f"{p}={v}" for p, v in targets.items()])
    r = runtime.run(bundle, timeout=15)
    assert r.rc == 0, r
    return parse_report(r.out), r


def check(targets, report, r, before):
    after = hostwatch.snapshot(list(before))
    changed = [p for p in before if after[p] != before[p]]
    assert not changed, f"host values changed by the container: {sorted(changed)}\n{r}"
    opened = {p: report.get(p) for p in targets if report.get(p) not in REFUSED}
    assert not opened, f"opened for writing inside the container: {opened}\n{r}"


def test_sysrq_trigger(runtime, bundle, tool):
    """Never written, even if it opens: the open result is the verdict (this
    kernel may lack the file: ENOENT)."""
    targets = {p: None for p in ("/proc/sysrq-trigger", "/proc/self/root/proc/sysrq-trigger",
                                 "/proc/1/root/proc/sysrq-trigger", "/proc/sys/kernel/sysrq")}
    before = hostwatch.snapshot(["/proc/sys/kernel/sysrq"])
    report, r = attack(runtime, bundle, tool, targets)
    check(targets, report, r, before)


# kernel.* sysctls that are host-wide (the user-mode helper paths are the
# classic escapes: the kernel runs them as root on the host).
KERNEL_HOST_WIDE = ["core_pattern", "poweroff_cmd", "modprobe", "panic_on_oops", "printk",
                    "randomize_va_space", "kptr_restrict", "dmesg_restrict",
                    "perf_event_paranoid", "threads-max", "pid_max", "sysctl_writes_strict",
                    "ctrl-alt-del", "usermodehelper/bset"]
KERNEL_NAMESPACED = {"hostname": "celltest-pwned", "domainname": "celltest-pwned",
                     "shmmax": "4096"}


def test_proc_sys_kernel(runtime, bundle, tool):
    base = "/proc/sys/kernel/"
    targets = {}
    for name in KERNEL_HOST_WIDE:
        path = base + name
        targets[path] = current(path) if os.path.exists(path) else None
    targets.update({base + k: v for k, v in KERNEL_NAMESPACED.items()})
    before = hostwatch.snapshot(list(targets))
    report, r = attack(runtime, bundle, tool, targets)
    check(targets, report, r, before)


def test_proc_sys_other_trees(runtime, bundle, tool):
    """vm, fs (binfmt_misc's register is a classic one), net, and the
    same files reached through /proc/<pid>/root and /proc/self/task."""
    same = ["/proc/sys/vm/overcommit_memory", "/proc/sys/vm/swappiness",
            "/proc/sys/fs/protected_symlinks", "/proc/sys/fs/suid_dumpable",
            "/proc/sys/net/core/somaxconn", "/proc/sys/net/ipv4/ip_forward"]
    targets = {p: current(p) for p in same if os.path.exists(p)}
    core = current("/proc/sys/kernel/core_pattern")
    targets.update({
        "/proc/sys/vm/drop_caches": None,
        "/proc/sys/fs/binfmt_misc/register": None,
        "/proc/1/root/proc/sys/kernel/core_pattern": core,
        "/proc/self/task/1/root/proc/sys/kernel/core_pattern": core,
    })
    before = hostwatch.snapshot([p for p in same if os.path.exists(p)]
                                + ["/proc/sys/kernel/core_pattern"])
    report, r = attack(runtime, bundle, tool, targets)
    check(targets, report, r, before)


def test_sys(runtime, bundle, tool):
    """sysfs is read-only: host-wide files (power state, THP, uevent helper)
    and the container's own (its net devices, its cgroup) alike.  Opened,
    never written -- /sys/power/state would suspend the machine."""
    targets = {p: None for p in (
        "/sys/power/state", "/sys/kernel/uevent_helper", "/sys/kernel/profiling",
        "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/class/net/lo/mtu",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/devices/devices.allow",
        "/sys/fs/cgroup/pids/pids.max", "/sys/kernel/security/lsm")}
    watched = ["/sys/kernel/mm/transparent_hugepage/enabled", "/sys/kernel/profiling",
               "/sys/kernel/uevent_helper"]
    before = hostwatch.snapshot(watched)
    report, r = attack(runtime, bundle, tool, targets)
    check(targets, report, r, before)


MASKED = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
          "/proc/latency_stats", "/proc/acpi", "/proc/scsi", "/sys/firmware"]


def test_masked_paths_read_nothing(runtime, bundle, tool):
    """The default maskedPaths: nothing to read (empty, or no such file)."""
    prog = tool("writer", WRITER)
    files = [p for p in MASKED if not p.endswith(("acpi", "scsi", "firmware"))]
    bundle.sh(f"{prog} " + " ".join("'<" + p + "'" for p in files)
              + "; for d in /proc/acpi /proc/scsi /sys/firmware; do "
                "echo \"dir:$d $(ls -A $d 2>/dev/null | wc -l)\"; done")
    r = runtime.run(bundle, timeout=15)
    assert r.rc == 0, r
    report = parse_report(r.out)
    for p in files:
        assert report.get("read:" + p) in ("0", "ENOENT", "EACCES", "EPERM"), (p, r)
    for d in ("/proc/acpi", "/proc/scsi", "/sys/firmware"):
        assert report.get("dir:" + d) == "0", (d, r)
