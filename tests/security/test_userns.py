# SPDX-License-Identifier: LGPL-2.1-or-later
"""Root that is not root: with a user namespace mapping container root to
host uid 100000, what container root does lands on the host as 100000, and
host root's files stay host root's.
"""
import os

import pytest

import hostwatch
from payload import USERNS, compile_into, parse_report

HOST_ID = 100000
MAP = [{"containerID": 0, "hostID": HOST_ID, "size": 65536}]


def unprivileged(bundle):
    bundle.set_namespace("user")
    bundle.linux["uidMappings"] = MAP
    bundle.linux["gidMappings"] = MAP
    return bundle.private_rootfs()   # the runtime may shift its ownership: not the shared one


def test_files_on_bind_mount_owned_by_mapped_uid(runtime, bundle):
    unprivileged(bundle)
    shared = os.path.join(bundle.path, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o777)
    bundle.add_mount("/shared", "bind", shared, ["rbind", "rw"])
    bundle.sh("id -u; touch /shared/by-root && mkdir /shared/dir-by-root && "
              "ln -s nowhere /shared/link-by-root && touch /shared/by-user && "
              "chown 1000:1000 /shared/by-user && echo made")
    r = runtime.run(bundle)
    assert r.rc == 0 and r.out.split() == ["0", "made"], r
    owners = {name: (st.st_uid, st.st_gid) for name in os.listdir(shared)
              for st in [os.lstat(os.path.join(shared, name))]}
    assert owners == {"by-root": (HOST_ID, HOST_ID), "dir-by-root": (HOST_ID, HOST_ID),
                      "link-by-root": (HOST_ID, HOST_ID),
                      "by-user": (HOST_ID + 1000, HOST_ID + 1000)}


@pytest.fixture
def host_root_dir(bundle):
    """Host root's directory (0755) with a 0600 secret and a 0644 file."""
    d = os.path.join(bundle.path, "hostroot")
    os.mkdir(d)
    for name, mode in (("secret", 0o600), ("public", 0o644)):
        with open(os.path.join(d, name), "w") as f:
            f.write(f"host {name}\n")
        os.chmod(os.path.join(d, name), mode)
    return d


def test_container_root_cannot_use_host_root_files(runtime, bundle, host_root_dir):
    unprivileged(bundle)
    bundle.add_mount("/hostroot", "bind", host_root_dir, ["rbind", "rw"])
    attempts = ["cat /hostroot/secret", "echo pwned >> /hostroot/public",
                "touch /hostroot/new", "chmod 666 /hostroot/public",
                "chown 0:0 /hostroot/public", "rm -f /hostroot/public",
                "mv /hostroot/secret /hostroot/moved", "ln /hostroot/secret /tmp/hardlink"]
    bundle.sh("; ".join(f"{a} 2>/dev/null; echo $?" for a in attempts))
    before = hostwatch.tree(host_root_dir)
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert hostwatch.tree(host_root_dir) == before
    results = dict(zip(attempts, r.out.split()))
    assert all(rc != "0" for rc in results.values()), results


SUID = r"""
int main(int argc, char **argv)
{
	report("euid", "%u", (unsigned)geteuid());
	outcome("open_secret", open(argv[1], O_RDONLY));
	return 0;
}
"""


def test_setuid_host_root_binary_grants_nothing(runtime, bundle, host_root_dir):
    """A setuid-root program owned by host root, run by container uid 1000
    (no_new_privs off, so that only the id mapping stands in the way: host
    root is not mapped, so the set-user-ID bit gives nothing)."""
    unprivileged(bundle)
    prog = compile_into(host_root_dir, "suid", SUID)
    os.chmod(os.path.join(host_root_dir, prog.lstrip("/")), 0o4755)
    bundle.add_mount("/hostroot", "bind", host_root_dir, ["rbind", "ro"])
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["noNewPrivileges"] = False
    bundle.args("/hostroot" + prog, "/hostroot/secret")
    r = runtime.run(bundle)
    assert r.rc == 0, r
    assert parse_report(r.out) == {"euid": "1000", "open_secret": "EACCES"}, r


IDENTITY = USERNS + r"""
/* Container root of a user namespace: the map is fixed, unmapped ids do
 * not exist, device nodes are the host's business. */
int main(int argc, char **argv)
{
	char map[256] = "";
	int fd = open("/proc/self/uid_map", O_RDONLY);
	map[read(fd, map, sizeof(map) - 1) > 0 ? sizeof(map) - 1 : 0] = '\0';
	for (char *p = map; *p; p++)
		if (*p == '\n')
			*p = ';';
	report("uid_map", "%s", map);
	errno = -write_text("/proc/self/uid_map", "0 0 4294967295");
	outcome("rewrite_uid_map", errno ? -1 : 0);
	errno = -write_text("/proc/self/setgroups", "allow");
	outcome("allow_setgroups", errno ? -1 : 0);
	outcome("setuid_unmapped", setuid(70000));
	outcome("mknod_dev", mknod("/dev/celltest-mem", S_IFCHR | 0600, makedev(1, 1)));
	outcome("mknod_tmp", mknod("/tmp/celltest-disk", S_IFBLK | 0600, makedev(7, 0)));
	outcome("sysctl_host_wide", open("/proc/sys/kernel/core_pattern", O_WRONLY));
	outcome("setns_host_user", setns(open("/proc/1/ns/user", O_RDONLY), CLONE_NEWUSER));
	/* a nested user namespace mapping host root: root of the outer one is
	 * not host root, so there is nothing to map */
	if (userns_root("nested_userns", 0) == 0)
		report("nested_uid", "%u", (unsigned)getuid());
	return 0;
}
"""


def test_user_namespace_identity_is_fixed(runtime, bundle):
    prog = compile_into(unprivileged(bundle), "identity", IDENTITY)
    bundle.args(prog)
    r = runtime.run(bundle)
    assert r.rc == 0, r
    report = parse_report(r.out)
    assert report["uid_map"].split() == ["0", str(HOST_ID), "65536;"], r
    expect = {"rewrite_uid_map": {"EPERM"}, "allow_setgroups": {"EPERM", "EACCES"},
              "setuid_unmapped": {"EINVAL"}, "mknod_dev": {"EPERM"}, "mknod_tmp": {"EPERM"},
              "sysctl_host_wide": {"EROFS", "EACCES", "EPERM"},
              "setns_host_user": {"EPERM", "EINVAL"}}
    wrong = {k: report.get(k) for k, allowed in expect.items() if report.get(k) not in allowed}
    assert wrong == {}, r
