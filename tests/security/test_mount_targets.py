# SPDX-License-Identifier: LGPL-2.1-or-later
"""Mount destinations are resolved inside the rootfs, never through a
symlink out of it -- also when the image makes /proc or /dev such a link,
and when another container swaps a directory on the path for a symlink
while the runtime is setting up (CVE-2021-30465).

The escape target is a host directory H outside the rootfs.  A runtime that
resolves a destination on the host would create the missing parts of the
path (and an empty file to bind a file on) inside H, and mount on H in the
container's namespace, so the mount would vanish with the old root: the
tests check that H is unchanged and that the mount is inside the container.
"""
import os
import time

import pytest

import celltest
import hostwatch
from payload import compile_into

MARKER = "celltest-payload-marker"


@pytest.fixture
def host_dir(bundle):
    d = os.path.join(bundle.path, "host-target")
    os.makedirs(os.path.join(d, "existing"))
    with open(os.path.join(d, "host-file"), "w") as f:
        f.write("host content\n")
    return d


@pytest.fixture
def source_dir(bundle):
    """What the container mounts: a directory with a marker file in it."""
    d = os.path.join(bundle.path, "payload")
    os.mkdir(d)
    with open(os.path.join(d, MARKER), "w") as f:
        f.write("mounted\n")
    return d


def up_and_out(host_dir):
    """/../../ ... /<host_dir>: the rootfs's parent chain, then the host path."""
    return "/.." * 16 + host_dir


def assert_host_untouched(host_dir, before, marker=None):
    assert hostwatch.tree(host_dir) == before, "the runtime changed the host directory"
    assert hostwatch.mounts_naming(host_dir) == []


# (symlink in the rootfs, link target, mount destination); "{H}" is the host dir
DESTINATIONS = {
    "absolute-link": ("evil", "{UP}", "/evil/sub/dir"),
    "relative-link": ("evil", "{REL}", "/evil/sub/dir"),
    "link-to-existing-host-dir": ("evil", "{UP}/existing", "/evil"),
    "dotdot-in-destination": (None, None, "{UP}/sub/dir"),
}


def expand(text, host_dir):
    return (text.replace("{UP}", up_and_out(host_dir))
            .replace("{REL}", "../" * 16 + host_dir.lstrip("/")))


@pytest.mark.parametrize("case", sorted(DESTINATIONS))
def test_bind_destination_out_of_rootfs(runtime, bundle, host_dir, source_dir, case):
    link, target, dest = DESTINATIONS[case]
    rootfs = bundle.private_rootfs()
    if link:
        os.symlink(expand(target, host_dir), os.path.join(rootfs, link))
    dest = expand(dest, host_dir)
    bundle.add_mount(dest, "bind", source_dir, ["rbind", "ro"])
    bundle.sh(f"cat '{dest}/{MARKER}'")
    before = hostwatch.tree(host_dir)
    r = runtime.run(bundle)
    assert_host_untouched(host_dir, before)
    # refusing is fine, silently mounting elsewhere is not
    assert r.rc == 0 and r.out.strip() == "mounted" or r.rc != 0 and r.err_lines, r


def test_file_bind_destination_out_of_rootfs(runtime, bundle, host_dir, source_dir):
    """A file bind makes an empty file to mount on: it must not be a host file."""
    rootfs = bundle.private_rootfs()
    os.symlink(up_and_out(host_dir), os.path.join(rootfs, "evil"))
    for dest in ("/evil/new-file", "/evil/host-file"):
        bundle.add_mount(dest, "bind", os.path.join(source_dir, MARKER), ["bind", "ro"])
    bundle.sh("cat /evil/new-file /evil/host-file")
    before = hostwatch.tree(host_dir)
    r = runtime.run(bundle)
    assert_host_untouched(host_dir, before)
    assert r.rc != 0 or r.out.split() == ["mounted", "mounted"], r


@pytest.mark.parametrize("kernel_dir", ["proc", "dev", "sys"])
def test_kernel_mount_point_is_symlink_out(runtime, bundle, host_dir, kernel_dir):
    """The image makes /proc, /dev or /sys a symlink to a host path: proc,
    the /dev tmpfs and its nodes, sysfs must all stay inside the rootfs."""
    rootfs = bundle.private_rootfs()
    os.rmdir(os.path.join(rootfs, kernel_dir))
    os.symlink(up_and_out(host_dir), os.path.join(rootfs, kernel_dir))
    bundle.sh(f"ls /{kernel_dir}/ | head -3 | wc -l")
    before = hostwatch.tree(host_dir)
    r = runtime.run(bundle)
    assert_host_untouched(host_dir, before)
    if r.rc == 0:
        assert r.out.strip() != "0", f"nothing mounted at /{kernel_dir} inside\n{r}"
        assert "host-file" not in r.out


SWAPPER = r"""
/* Exchange argv[1] and argv[2] (a directory and a symlink) as fast as
 * possible until argv[3] exists or argv[4] seconds have passed. */
int main(int argc, char **argv)
{
	time_t end = time(NULL) + atoi(argv[4]);
	long n = 0;

	report("swapping", "%s", argv[1]);
	while (time(NULL) < end && access(argv[3], F_OK) < 0)
		for (int i = 0; i < 2000; i++, n++)
			if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], 2 /* EXCHANGE */) < 0) {
				report("error", "%s", strerror(errno));
				return 1;
			}
	report("swaps", "%ld", n);
	return 0;
}
"""

ROUNDS = 10


def test_mount_target_swapped_during_create(runtime, make_bundle, host_dir, source_dir):
    """Container A swaps vol/x between a directory and a symlink to a host
    directory while container B, which mounts vol at /mnt and a bind on
    /mnt/x/t, is created again and again."""
    a, b = make_bundle("swapper"), make_bundle("victim")
    vol = os.path.join(a.path, "vol")
    os.makedirs(os.path.join(vol, "x", "t"))
    os.symlink(up_and_out(host_dir), os.path.join(vol, "xlink"))
    os.chmod(vol, 0o777)
    swapper = compile_into(a.private_rootfs(), "swapper", SWAPPER)
    a.add_mount("/vol", "bind", vol, ["rbind", "rw"])
    a.args(swapper, "/vol/x", "/vol/xlink", "/out/stop", "30")
    b.private_rootfs()
    b.add_mount("/mnt", "bind", vol, ["rbind", "rw"])
    b.add_mount("/mnt/x/t", "bind", source_dir, ["rbind", "ro"])
    b.args("true")
    before = hostwatch.tree(host_dir)
    runtime.run(a, detach=True).ok()
    outcomes = []
    try:
        time.sleep(0.05)
        for _ in range(ROUNDS):
            outcomes.append(create_and_inspect(runtime, b))
    finally:
        with open(os.path.join(a.out, "stop"), "w"):
            pass
    assert_host_untouched(host_dir, before)
    lost = [o for o in outcomes if o == "mount-missing"]
    assert not lost, f"the bind on /mnt/x/t left the container in {len(lost)} of {ROUNDS} rounds"
    # on the directory (its name swaps too), or on the link's target resolved
    # inside B's rootfs: both inside the container
    inside = {"/mnt/x/t", "/mnt/xlink/t", os.path.join(host_dir, "t")}
    placed = {o.split(": at ", 1)[1] for o in outcomes if o.startswith("created")}
    assert placed <= inside, outcomes


def create_and_inspect(runtime, b):
    """One create of B: "refused: ..." or where the bind landed in B's view."""
    r = runtime.create(b)
    try:
        if r.rc != 0:
            assert r.err_lines, r
            return "refused: " + r.err_lines[-1]
        pid = runtime.state(b.id)["pid"]
        with open(f"/proc/{pid}/mountinfo") as f:
            mounts = f.read()
        for m in celltest.parse_mountinfo(mounts):
            if m["root"].endswith("/payload"):
                return f"created: at {m['mountpoint']}"
        return "mount-missing"
    finally:
        runtime.delete(b.id, force=True)
