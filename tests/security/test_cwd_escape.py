# SPDX-License-Identifier: LGPL-2.1-or-later
"""The container's cwd never resolves through an fd to outside its root
(the CVE-2024-21626 class).

process.cwd (or `exec --cwd`) is /proc/self/fd/N: N an fd the caller leaked
to the runtime (a host directory), an fd passed on purpose with
--preserve-fds, or one of the runtime's own fds (whatever it holds while the
child resolves the cwd: cgroup, rootfs or state directories).  A cwd that
resolves through any of them is a host directory: the process reads and
writes host files, and ".." walks the host's tree.  Each case must be
refused with an error naming the cwd, or start with the cwd inside the root;
the host directory stays as it was either way (a missing cwd is created by
the runtime: not through the fd either).
"""
import os

import pytest

import hostwatch
from payload import parse_report
from secrun import run_with_fds, wait_out

SENTINEL = "celltest-host-sentinel"

# Where the cwd is, without touching any fd: "cwd" its path as the kernel
# gives it (outside the root: "(unreachable)/..." or a host path), whether
# argv[1] is visible in it, whether a file can be made in it, and whether 40
# chdir("..") end at "/".
CWDPROBE = r"""
static const char *same(const char *a, const char *b)
{
	struct stat x, y;
	if (stat(a, &x) < 0 || stat(b, &y) < 0)
		return "error";
	return x.st_dev == y.st_dev && x.st_ino == y.st_ino ? "yes" : "no";
}

int main(int argc, char **argv)
{
	char cwd[4096];
	ssize_t n = readlink("/proc/self/cwd", cwd, sizeof(cwd) - 1);
	cwd[n > 0 ? n : 0] = '\0';
	report("cwd", "%s", cwd);
	report("sentinel", "%s", access(argv[1], F_OK) == 0 ? "visible" : "absent");
	outcome("write_in_cwd", mkdir("celltest-escaped", 0755));
	for (int i = 0; i < 40; i++)
		(void)chdir("..");
	report("dotdot_is_root", "%s", same(".", "/"));
	return 0;
}
"""

HOST_FD = 6
# every fd number the runtime's child may hold while it resolves the cwd
OWN_FDS = range(3, 16)


@pytest.fixture
def host_dir(bundle):
    """A host directory outside the rootfs, with a sentinel file in it."""
    d = os.path.join(bundle.path, "host-secret")
    os.makedirs(os.path.join(d, "sub"))
    with open(os.path.join(d, SENTINEL), "w") as f:
        f.write("host secret\n")
    return d


def fd_cwd(n, below=""):
    return f"/proc/self/fd/{n}" + (f"/{below}" if below else "")


def assert_contained(r, cwd, host_dir, before):
    """Refused, saying it was the cwd -- or running with the cwd in the root."""
    assert hostwatch.tree(host_dir) == before, f"the host directory changed\n{r}"
    if r.rc != 0:
        assert any("cwd" in ln for ln in r.err_lines), f"refused without naming the cwd\n{r}"
        return
    report = parse_report(r.out)
    assert report.get("sentinel") == "absent", f"cwd {cwd} is the host directory\n{r}"
    assert report.get("dotdot_is_root") == "yes", f"'..' from cwd {cwd} leaves the root\n{r}"
    assert report.get("cwd", "").startswith("/"), f"cwd {cwd} is outside the root\n{r}"
    assert not report.get("cwd", "").startswith(host_dir), r


def leaked_dir(host_dir):
    return {HOST_FD: host_dir}


@pytest.mark.parametrize("below", ["", "made-by-runtime"])
def test_run_cwd_through_leaked_fd(runtime, bundle, tool, host_dir, below):
    """( exec 6<HOST_DIR; cellrun run ID ) with process.cwd /proc/self/fd/6[/new]."""
    prog = tool("cwdprobe", CWDPROBE)
    cwd = fd_cwd(HOST_FD, below)
    bundle.process["cwd"] = cwd
    bundle.args(prog, SENTINEL)
    bundle.write()
    runtime.ids.append(bundle.id)
    before = hostwatch.tree(host_dir)
    r = run_with_fds(runtime, "run", "--bundle", bundle.path, bundle.id, fds=leaked_dir(host_dir))
    assert_contained(r, cwd, host_dir, before)


def test_create_start_cwd_through_leaked_fd(runtime, bundle, tool, host_dir):
    """The fd is leaked to `create`; `start` (without it) runs the process."""
    prog = tool("cwdprobe", CWDPROBE)
    cwd = fd_cwd(HOST_FD)
    bundle.process["cwd"] = cwd
    bundle.args("/bin/sh", "-c", f"{prog} {SENTINEL} > /out/report 2>&1")
    bundle.write()
    runtime.ids.append(bundle.id)
    before = hostwatch.tree(host_dir)
    r = run_with_fds(runtime, "create", "--bundle", bundle.path, bundle.id,
                     fds=leaked_dir(host_dir))
    if r.rc == 0:
        r = runtime.start(bundle.id)
        if r.rc == 0:
            r.out = wait_out(bundle, "report", want="dotdot_is_root")
    assert_contained(r, cwd, host_dir, before)


def test_run_cwd_through_preserved_fd(runtime, bundle, tool, host_dir):
    """--preserve-fds 4 passes fds 3..6 on purpose: fd 6 reaches the process,
    yet the cwd must not resolve through it."""
    prog = tool("cwdprobe", CWDPROBE)
    cwd = fd_cwd(HOST_FD)
    bundle.process["cwd"] = cwd
    bundle.args(prog, SENTINEL)
    bundle.write()
    runtime.ids.append(bundle.id)
    passed = os.path.join(bundle.out, "passed")
    with open(passed, "w") as f:
        f.write("for the container\n")
    fds = {3: passed, 4: passed, 5: passed, **leaked_dir(host_dir)}
    before = hostwatch.tree(host_dir)
    r = run_with_fds(runtime, "run", "--preserve-fds", "4", "--bundle", bundle.path, bundle.id,
                     fds=fds)
    assert_contained(r, cwd, host_dir, before)


def test_run_cwd_through_runtime_fds(runtime, make_bundle, tool, host_dir):
    """No fd the runtime itself holds in the child leads out either."""
    prog = tool("cwdprobe", CWDPROBE)
    before = hostwatch.tree(host_dir)
    for n in OWN_FDS:
        b = make_bundle()
        b.process["cwd"] = fd_cwd(n)
        b.args(prog, SENTINEL)
        r = runtime.run(b)
        assert_contained(r, fd_cwd(n), host_dir, before)
        runtime.cmd("delete", "--force", b.id)


@pytest.mark.parametrize("preserve", [0, 4])
def test_exec_cwd_through_caller_fd(runtime, bundle, tool, host_dir, preserve):
    """cellrun exec --cwd /proc/self/fd/6, fd 6 leaked (or passed with --preserve-fds)."""
    prog = tool("cwdprobe", CWDPROBE)
    bundle.args("sleep", "30")
    runtime.run(bundle, detach=True).ok()
    sentinel_file = os.path.join(host_dir, SENTINEL)
    fds = {3: sentinel_file, 4: sentinel_file, 5: sentinel_file, **leaked_dir(host_dir)}
    cwd = fd_cwd(HOST_FD)
    before = hostwatch.tree(host_dir)
    r = run_with_fds(runtime, "exec", "--preserve-fds", preserve, "--cwd", cwd, bundle.id, prog,
                     SENTINEL, fds=fds)
    assert_contained(r, cwd, host_dir, before)


def test_exec_cwd_through_runtime_fds(runtime, bundle, tool, host_dir):
    prog = tool("cwdprobe", CWDPROBE)
    bundle.args("sleep", "30")
    runtime.run(bundle, detach=True).ok()
    before = hostwatch.tree(host_dir)
    for n in OWN_FDS:
        r = runtime.exec(bundle.id, prog, SENTINEL, opts=["--cwd", fd_cwd(n)])
        assert_contained(r, fd_cwd(n), host_dir, before)
