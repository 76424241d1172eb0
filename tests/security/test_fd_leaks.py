# SPDX-License-Identifier: LGPL-2.1-or-later
"""No host file descriptor or working directory reaches the container.

The runtime is started with host fds it was not asked to pass (a directory
outside the rootfs, a host file): an fd to a host directory is a complete
escape (openat(fd, "..")), so the container must see exactly 0, 1, 2 and
the --preserve-fds ones.  The runtime is also started from a host working
directory, and the container's cwd is aimed out of the rootfs through a
symlink: the process must still start inside its root.
"""
import os

import pytest

import hostwatch
from payload import parse_report
from secrun import run_with_fds

FDLIST = r"""
/* Every open fd (but the one listing them) with its target -- and for a
 * directory, an escape through it -- then where the cwd is: "cwd_is_root" compares "." with "/", "dotdot_is_root" does after
 * 40 chdir(".."), "sentinel" looks for argv[1] in the cwd. */
static const char *same(const char *a, const char *b)
{
	struct stat x, y;
	if (stat(a, &x) < 0 || stat(b, &y) < 0)
		return "error";
	return x.st_dev == y.st_dev && x.st_ino == y.st_ino ? "yes" : "no";
}

int main(int argc, char **argv)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[64], link[4096];

	while (d && (e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		report("fd", "%d %s", fd, link);
		/* a directory fd from outside is a way out: use it */
		struct stat st;
		if (fd > 2 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			char key[32];
			snprintf(key, sizeof(key), "escape_via_fd%d", fd);
			outcome(key, mkdirat(fd, "celltest-escaped", 0755));
		}
	}
	ssize_t n = readlink("/proc/self/cwd", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	report("cwd", "%s", link);
	report("cwd_is_root", "%s", same(".", "/"));
	if (argc > 1)
		report("sentinel", "%s", access(argv[1], F_OK) == 0 ? "visible" : "absent");
	for (int i = 0; i < 40; i++)
		(void)chdir("..");
	report("dotdot_is_root", "%s", same(".", "/"));
	return 0;
}
"""

SENTINEL = "celltest-host-sentinel"


def open_fds(report_text):
    """{fd: target} from the FDLIST report."""
    fds = {}
    for line in report_text.splitlines():
        if line.startswith("fd "):
            _, num, *target = line.split(" ", 2)
            fds[int(num)] = target[0] if target else ""
    return fds


@pytest.fixture
def host_dir(bundle):
    """A host directory outside the rootfs, with a sentinel file in it."""
    d = os.path.join(bundle.path, "host-secret")
    os.makedirs(os.path.join(d, "sub"))
    with open(os.path.join(d, SENTINEL), "w") as f:
        f.write("host secret\n")
    return d


def leaked(host_dir):
    """Host fds the caller leaks to the runtime: directories and a file (all
    the test's own: an escape through them writes nowhere else)."""
    return {5: host_dir, 7: os.path.join(host_dir, SENTINEL), 9: os.path.join(host_dir, "sub")}


def test_init_gets_only_stdio(runtime, bundle, tool, host_dir):
    prog = tool("fdlist", FDLIST)
    bundle.args(prog, SENTINEL)
    bundle.write()
    runtime.ids.append(bundle.id)
    before = hostwatch.tree(host_dir)
    r = run_with_fds(runtime, "run", "--bundle", bundle.path, bundle.id,
                     fds=leaked(host_dir), cwd=host_dir)
    assert r.rc == 0, r
    assert hostwatch.tree(host_dir) == before
    fds = open_fds(r.out)
    assert sorted(fds) == [0, 1, 2], f"fds reaching the container: {fds}"
    report = parse_report(r.out)
    assert (report["cwd"], report["cwd_is_root"], report["sentinel"]) == ("/", "yes", "absent")
    assert report["dotdot_is_root"] == "yes"


def test_preserve_fds_passes_exactly_those(runtime, bundle, tool, host_dir):
    """--preserve-fds 1: fd 3 on purpose, 4 and up are leaks."""
    prog = tool("fdlist", FDLIST)
    bundle.args(prog)
    bundle.write()
    runtime.ids.append(bundle.id)
    passed = os.path.join(bundle.out, "passed")
    with open(passed, "w") as f:
        f.write("for the container\n")
    fds = {3: passed, **leaked(host_dir)}
    before = hostwatch.tree(host_dir)
    r = run_with_fds(runtime, "run", "--preserve-fds", "1", "--bundle", bundle.path, bundle.id,
                     fds=fds)
    assert r.rc == 0, r
    assert hostwatch.tree(host_dir) == before
    seen = open_fds(r.out)
    assert sorted(seen) == [0, 1, 2, 3], f"fds reaching the container: {seen}"
    assert seen[3].endswith("/out/passed")


@pytest.mark.parametrize("preserve", [0, 1])
def test_exec_gets_only_stdio(runtime, bundle, tool, host_dir, preserve):
    prog = tool("fdlist", FDLIST)
    bundle.args("sleep", "30")
    runtime.run(bundle, detach=True).ok()
    fds = {3: os.path.join(host_dir, SENTINEL), **leaked(host_dir)}
    before = hostwatch.tree(host_dir)
    r = run_with_fds(runtime, "exec", "--preserve-fds", preserve, bundle.id, prog, SENTINEL,
                     fds=fds, cwd=host_dir)
    assert r.rc == 0, r
    assert hostwatch.tree(host_dir) == before
    seen = open_fds(r.out)
    assert sorted(seen) == list(range(3 + preserve)), f"fds reaching the process: {seen}"
    report = parse_report(r.out)
    assert (report["cwd"], report["cwd_is_root"], report["sentinel"]) == ("/", "yes", "absent")


def escape_link(rootfs, name, host_dir):
    """rootfs/<name> -> /../../../../<host_dir>: out of the rootfs when
    resolved on the host, back to the rootfs when resolved inside it."""
    os.symlink("/.." * 12 + host_dir, os.path.join(rootfs, name))


@pytest.mark.parametrize("verb", ["run", "exec"])
def test_cwd_symlink_out_of_rootfs(runtime, bundle, tool, host_dir, verb):
    """process.cwd (or exec --cwd) is a symlink to a host directory."""
    rootfs = bundle.private_rootfs()
    prog = tool("fdlist", FDLIST)
    escape_link(rootfs, "escape", host_dir)
    before = hostwatch.tree(host_dir)
    if verb == "run":
        bundle.process["cwd"] = "/escape"
        bundle.args(prog, SENTINEL)
        r = runtime.run(bundle)
    else:
        bundle.args("sleep", "30")
        runtime.run(bundle, detach=True).ok()
        r = runtime.exec(bundle.id, prog, SENTINEL, opts=["--cwd", "/escape"])
    assert hostwatch.tree(host_dir) == before, "the runtime changed the host directory"
    if r.rc != 0:
        assert r.err_lines, r   # refused, and said why
        return
    report = parse_report(r.out)
    assert report["sentinel"] == "absent", f"cwd is the host directory\n{r}"
    assert report["dotdot_is_root"] == "yes"
    # the cwd is the link's target resolved inside the rootfs
    assert report["cwd"] == os.path.normpath(host_dir), r
    assert os.path.isdir(os.path.join(rootfs, host_dir.lstrip("/")))


def test_listen_fds_pass_with_preserve_fds(runtime, bundle, tool, host_dir):
    """Socket activation: LISTEN_FDS=2 for this very runtime (LISTEN_PID) passes
    fds 3 and 4, --preserve-fds 1 then fd 5; the process is told LISTEN_FDS=2,
    LISTEN_PID=1 (as runc does).  The leaked host directory on 6 stays out."""
    prog = tool("fdlist", FDLIST)
    bundle.args("/bin/sh", "-c", f"{prog}; echo listen $LISTEN_FDS $LISTEN_PID")
    bundle.write()
    runtime.ids.append(bundle.id)
    passed = os.path.join(bundle.out, "passed")
    with open(passed, "w") as f:
        f.write("for the container\n")
    env = dict(os.environ, CELLTEST_PASSED=passed, CELLTEST_HOST=host_dir)
    opener = ["/bin/sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=2 exec "$@" 3<"$CELLTEST_PASSED" '
              '4<"$CELLTEST_PASSED" 5<"$CELLTEST_PASSED" 6<"$CELLTEST_HOST"', "sh"]
    before = hostwatch.tree(host_dir)
    r = runtime.cmd("run", "--preserve-fds", "1", "--bundle", bundle.path, bundle.id,
                    guard=True, env=env, wrap=opener)
    assert r.rc == 0, r
    assert hostwatch.tree(host_dir) == before
    seen = open_fds(r.out)
    assert sorted(seen) == [0, 1, 2, 3, 4, 5], f"fds reaching the container: {seen}"
    assert all(seen[n].endswith("/out/passed") for n in (3, 4, 5)), seen
    assert parse_report(r.out).get("listen") == "2 1", r
