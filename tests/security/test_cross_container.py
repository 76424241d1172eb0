# SPDX-License-Identifier: LGPL-2.1-or-later
"""One container attacks another (and the runtime's caller): files through
/proc/<pid>/root and known host paths, and the kernel keyring, which is not
namespaced -- each container must have its own session keyring, and none
may reach the keys of another or of the process that started it.
"""
import ctypes
import os

import pytest

import hostwatch
from payload import parse_report
from secrun import apply_profile, run_with_preexec, wait_out

SECRET = "celltest-secret-of-A"

SNOOP = r"""
/* argv[1]: A's host pid; argv[2..]: host paths of A's files.  Look for
 * SECRET everywhere B can name: every /proc/<pid>/root, A's host pid, the
 * host paths, and /proc/<pid>/cwd and fds of whatever B can see. */
static void try_read(const char *key, const char *path)
{
	char buf[256] = "";
	int fd = open(path, O_RDONLY);
	if (outcome(key, fd) == 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		if (strstr(buf, "SECRET"))
			report("STOLEN", "%s", path);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	char path[4200], key[64];
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		report("pid", "%s", e->d_name);
		snprintf(path, sizeof(path), "/proc/%s/root/tmp/secret", e->d_name);
		try_read("proc_root", path);
		snprintf(path, sizeof(path), "/proc/%s/cwd/tmp/secret", e->d_name);
		try_read("proc_cwd", path);
	}
	snprintf(path, sizeof(path), "/proc/%s/root/tmp/secret", argv[1]);
	try_read("a_pid_root", path);
	for (int i = 2; i < argc; i++) {
		snprintf(key, sizeof(key), "host_path_%d", i - 2);
		try_read(key, argv[i]);
	}
	return 0;
}
""".replace("SECRET", SECRET)


def test_read_other_container_files(runtime, make_bundle, tool):
    prog = tool("snoop", SNOOP)
    a, b = make_bundle("victim"), make_bundle("snoop")
    a_rootfs = a.private_rootfs()
    with open(os.path.join(a_rootfs, "etc", "secret"), "w") as f:
        f.write(SECRET + "\n")
    a.sh(f"echo {SECRET} > /tmp/secret; echo ready > /out/ready; exec sleep 30")
    runtime.run(a, detach=True).ok()
    wait_out(a, "ready")
    a_pid = runtime.state(a.id)["pid"]
    with open(f"/proc/{a_pid}/root/tmp/secret") as f:   # the host can: the secret is there
        assert f.read().strip() == SECRET
    host_paths = [os.path.join(a_rootfs, "etc/secret"), f"/proc/{a_pid}/root/tmp/secret",
                  os.path.join(a.out, "ready")]
    b.args(prog, str(a_pid), *host_paths)
    r = runtime.run(b, timeout=15)
    assert r.rc == 0, r
    report = parse_report(r.out)
    assert "STOLEN" not in report, r
    pids = [ln.split()[1] for ln in r.out.splitlines() if ln.startswith("pid ")]
    assert pids == ["1"], f"B sees processes other than its own: {pids}"
    assert all(report[f"host_path_{i}"] == "ENOENT" for i in range(len(host_paths))), r


KEYS = r"""
#include <linux/keyctl.h>
/* plant DESC SECRET: a user key in our session keyring; report its serial
 * and the keyring's.  steal ...: every way to the keys of others (below). */
static long kc(int op, long a, long b, long c, long d)
{
	return syscall(SYS_keyctl, op, a, b, c, d);
}

static void whoami(const char *key)
{
	char desc[512] = "";
	long ses = kc(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
	if (ses < 0) {
		outcome(key, ses);
		return;
	}
	kc(KEYCTL_DESCRIBE, ses, (long)desc, sizeof(desc) - 1, 0);
	report(key, "%ld %s", ses, desc);   /* serial type;uid;gid;perm;name */
}

/* KEYCTL_READ: a key's payload, or a keyring's list of serials */
static void try_read(const char *what, long serial)
{
	char key[128], buf[516] = "";
	snprintf(key, sizeof(key), "read_%s", what);
	long n = kc(KEYCTL_READ, serial, (long)buf, 512, 0);
	if (outcome(key, n) == 0 && n > 0 && strstr(buf, "celltest-secret"))
		report("STOLEN", "%s", what);
}

int main(int argc, char **argv)
{
	whoami("session_keyring");
	if (strcmp(argv[1], "plant") == 0) {
		long k = syscall(SYS_add_key, "user", argv[2], argv[3], strlen(argv[3]),
				 KEY_SPEC_SESSION_KEYRING);
		if (outcome("add_key", k) == 0)
			report("key", "%ld", k);
		return 0;
	}
	/* steal A_NAME A_DESC A_RING A_KEY HOST_DESC HOST_SERIALS_FILE */
	const char *a_name = argv[2], *a_desc = argv[3], *host_desc = argv[6];
	long a_ring = atol(argv[4]), a_key = atol(argv[5]), host_ring = 0, host_key = 0;
	FILE *f = fopen(argv[7], "r");
	if (!f || fscanf(f, "%ld %ld", &host_ring, &host_key) != 2)
		report("host_serials", "missing");

	outcome("request_a", syscall(SYS_request_key, "user", a_desc, NULL, 0));
	outcome("request_host", syscall(SYS_request_key, "user", host_desc, NULL, 0));
	try_read("a_ring", a_ring);
	try_read("a_key", a_key);
	try_read("host_ring", host_ring);
	try_read("host_key", host_key);
	/* a keyring linked into ours would be searched as if we possessed it */
	outcome("link_a_ring", kc(KEYCTL_LINK, a_ring, KEY_SPEC_SESSION_KEYRING, 0, 0));
	outcome("link_host_ring", kc(KEYCTL_LINK, host_ring, KEY_SPEC_SESSION_KEYRING, 0, 0));
	outcome("request_a_after_link", syscall(SYS_request_key, "user", a_desc, NULL, 0));
	outcome("request_host_after_link", syscall(SYS_request_key, "user", host_desc, NULL, 0));
	try_read("a_key_after_link", a_key);
	try_read("host_key_after_link", host_key);
	/* A's session keyring is named after A's id, which B may well know */
	outcome("join_a", kc(KEYCTL_JOIN_SESSION_KEYRING, (long)a_name, 0, 0, 0));
	whoami("session_after_join");
	outcome("request_a_after_join", syscall(SYS_request_key, "user", a_desc, NULL, 0));
	try_read("a_key_after_join", a_key);
	return 0;
}
"""


KEYRING_FINDING_FIXED = (
    "the session keyring cellrun joins (named after the container id, spawn.c "
    "child_setup) keeps the kernel's default permissions 0x3f130000: any process of "
    "the same uid -- every root container without a user namespace -- may READ and "
    "LINK it; KEYCTL_LINK into its own session keyring makes it possessed, and "
    "KEYCTL_READ of its keys then works. Only the default seccomp profile "
    "(keyctl -> EPERM) stops this; KEYCTL_SETPERM to 0x3f010000 would.")

KEYCTL_JOIN_SESSION_KEYRING = 1
KEY_SPEC_SESSION_KEYRING = -3
SYS_KEYCTL, SYS_ADD_KEY = 250, 248   # x86-64


def host_session_with_key(desc, secret, report_path):
    """preexec_fn: the runtime starts in a new session keyring of its own
    holding a "host" key -- the caller's secrets a container must not see."""
    def setup():
        libc = ctypes.CDLL(None, use_errno=True)
        ring = libc.syscall(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, None)
        key = libc.syscall(SYS_ADD_KEY, b"user", desc.encode(), secret.encode(),
                           len(secret), KEY_SPEC_SESSION_KEYRING)
        with open(report_path, "w") as f:
            f.write(f"{ring} {key}\n")
    return setup


def test_keyrings_across_containers(runtime, make_bundle, tool, profile, request):
    """A plants a key in its session keyring; B, started by a caller whose
    session keyring holds a key too, knows every serial and name and tries
    request_key, KEYCTL_READ, KEYCTL_LINK and joining A's keyring by name.
    (Serials are no secret: /proc/keys is masked, but a serial is a 31-bit
    number and KEYCTL_DESCRIBE answers for any key the uid may view.)"""
    prog = tool("keys", KEYS)
    a, b = make_bundle("planter"), make_bundle("thief")
    for x in (a, b):
        apply_profile(x, profile)
    a_desc = f"celltest-key-{a.id}"
    a.sh(f"{prog} plant {a_desc} celltest-secret-A > /out/report; echo done >> /out/report; "
         "exec sleep 30")
    runtime.run(a, detach=True).ok()
    planted = parse_report(wait_out(a, "report", want="done"))
    if planted.get("session_keyring") in ("EPERM", "ENOSYS"):
        assert profile == "default", planted
        a_ring, a_key = 0, 0
    else:
        assert planted.get("add_key") == "ok", planted
        a_ring, a_key = int(planted["session_keyring"].split()[0]), int(planted["key"])
        assert planted["session_keyring"].endswith(";" + a.id), planted

    host_desc = f"celltest-host-key-{b.id}"
    host_report = os.path.join(b.out, "host-keys")   # B gets the serials, too
    b.args(prog, "steal", a.id, a_desc, str(a_ring), str(a_key), host_desc, "/out/host-keys")
    b.write()
    runtime.ids.append(b.id)
    r = run_with_preexec(runtime, host_session_with_key(host_desc, "celltest-secret-host",
                                                       host_report),
                         "run", "--bundle", b.path, b.id)
    host_ring, host_key = map(int, hostwatch.read(host_report).split())
    assert host_ring > 0 and host_key > 0
    assert r.rc == 0, r
    report = parse_report(r.out)
    assert "STOLEN" not in report, r
    assert "host_serials" not in report, r
    if report["session_keyring"] in ("EPERM", "ENOSYS"):
        assert profile == "default", r
        return
    b_ring = int(report["session_keyring"].split()[0])
    assert b_ring not in (a_ring, host_ring), r
    assert report["session_keyring"].endswith(";" + b.id), r
    # joining by A's name makes a new keyring of that name, never A's
    assert int(report["session_after_join"].split()[0]) != a_ring, r
    # A's keyring (made by cellrun, restricted to possessors): not even the list of
    # serials.  The caller's own keyring keeps the permissions its owner gave it
    # (the kernel default lets the same uid list it); its keys stay unreadable below.
    assert report["read_a_ring"] in ("EACCES", "EPERM"), r
    for k in ("request_a", "request_host", "request_a_after_link", "request_host_after_link",
              "request_a_after_join"):
        assert report[k] in ("ENOKEY", "EACCES", "EPERM"), (k, r)
    for k in ("a_key", "host_key", "a_key_after_link", "host_key_after_link",
              "a_key_after_join"):
        assert report["read_" + k] in ("EACCES", "EPERM", "ENOKEY"), (k, r)
