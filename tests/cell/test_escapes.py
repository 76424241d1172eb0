# SPDX-License-Identifier: LGPL-2.1-or-later
"""The escapes of tests/security, through `cell`: a cwd that resolves
through an fd the caller leaked (`cell exec -w /proc/self/fd/6`, an image
whose WorkingDir is /proc/self/fd/6 under `cell run`), and keystrokes pushed
into the caller's terminal (TIOCSTI) by `cell exec` and `cell run` without
-t.  The attack programs and the pty come from tests/security."""
import os
import subprocess
import sys

import pytest

from conftest import CELL, TIMEOUT
from test_cell import make_docker_archive

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "security"))
import payload  # noqa: E402
from ttyprobe import INJECT, TIOCSTI_PROBE, Pty, assert_no_injection  # noqa: E402

HOST_FD = 6
SENTINEL = "celltest-host-sentinel"
MKROOTFS = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "mkrootfs")

# where the shell's cwd is (busybox sh; "cd -P" walks the real "..")
CWD_PROBE = (
    "echo cwd $(readlink /proc/$$/cwd); "
    f"if [ -e {SENTINEL} ]; then echo sentinel visible; else echo sentinel absent; fi; "
    "mkdir celltest-escaped 2>/dev/null && echo write_in_cwd ok || echo write_in_cwd refused; "
    "for i in $(seq 40); do cd -P .. 2>/dev/null; done; "
    '[ "$(stat -c %d:%i .)" = "$(stat -c %d:%i /)" ] && echo dotdot_is_root yes '
    "|| echo dotdot_is_root no"
)


class Result:
    def __init__(self, p):
        self.rc, self.out, self.err = p.returncode, p.stdout, p.stderr

    def __repr__(self):
        return f"<rc={self.rc}\n--- stdout ---\n{self.out}\n--- stderr ---\n{self.err}>"


def run_cell(cell, *args, fds=None, pty=None, timeout=TIMEOUT):
    """cell ARGS, started with fds {number: host path} open (read-only, not
    close-on-exec: what a careless caller leaks), and with pty's slave as its
    stdin and controlling terminal."""
    env = dict(cell.env)
    redirs = []
    for n, path in sorted((fds or {}).items()):
        env[f"CELLTEST_FD{n}"] = path
        redirs.append(f'{n}<"$CELLTEST_FD{n}"')
    argv = ["/bin/sh", "-c", 'exec "$@" ' + " ".join(redirs), "sh", *cell.cmd, *args]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                       stdin=pty.slave if pty else subprocess.DEVNULL, start_new_session=True,
                       preexec_fn=pty.preexec if pty else None)
    return Result(p)


def report_of(text):
    return dict(ln.split(" ", 1) for ln in text.splitlines() if " " in ln)


def tree(d):
    return sorted(os.listdir(d))


@pytest.fixture
def host_dir(tmp_path):
    d = tmp_path / "host-secret"
    d.mkdir()
    (d / SENTINEL).write_text("host secret\n")
    return str(d)


@pytest.fixture
def pty():
    p = Pty()
    yield p
    p.close()


@pytest.fixture(scope="module")
def running(cell):
    """A started busybox system container; its rootfs directory on the host.
    Unprivileged: with CAP_SYS_ADMIN of the host's user namespace a process
    may push input into any terminal it has open, its own session or not."""
    n = cell.name("escapes")
    cell("create", n, "--template", "busybox", "--unprivileged", check=True)
    cell("start", n, check=True)
    yield n, os.path.join(cell.store, "containers", n, "rootfs")
    cell("destroy", "--force", n)


def assert_contained(r, host_dir, before):
    assert tree(host_dir) == before, f"the host directory changed\n{r}"
    if r.rc != 0:
        assert "cwd" in r.err, f"refused without naming the cwd\n{r}"
        return
    rep = report_of(r.out)
    assert rep.get("sentinel") == "absent", f"the cwd is the host directory\n{r}"
    assert rep.get("dotdot_is_root") == "yes", f"'..' leaves the root\n{r}"


def test_exec_workdir_through_leaked_fd(cell, running, host_dir):
    n, _ = running
    before = tree(host_dir)
    r = run_cell(cell, "exec", n, "-w", f"/proc/self/fd/{HOST_FD}", "--", "sh", "-c",
                 CWD_PROBE, fds={HOST_FD: host_dir})
    assert_contained(r, host_dir, before)


@pytest.fixture(scope="module")
def image_tree(tmp_path_factory):
    src = tmp_path_factory.mktemp("image") / "tree"
    subprocess.run([MKROOTFS, str(src)], check=True)
    return str(src)


@pytest.mark.parametrize("below", ["", "/made-by-runtime"])
def test_run_image_workdir_through_leaked_fd(cell, image_tree, host_dir, tmp_path, below):
    """The CVE-2024-21626 image: WorkingDir /proc/self/fd/N."""
    img = str(tmp_path / "image.tar")
    make_docker_archive(img, image_tree, WorkingDir=f"/proc/self/fd/{HOST_FD}{below}",
                        Entrypoint=["/bin/sh", "-c"], Cmd=[CWD_PROBE])
    before = tree(host_dir)
    r = run_cell(cell, "run", "--rm", "--name", cell.name("wd"), f"oci:{img}",
                 fds={HOST_FD: host_dir}, timeout=120)
    assert_contained(r, host_dir, before)


def test_exec_without_tty_cannot_push_input(cell, running, pty):
    n, rootfs = running
    prog = payload.compile_into(rootfs, "tiocsti", TIOCSTI_PROBE)
    r = run_cell(cell, "exec", n, "--", prog, INJECT, pty=pty)
    assert r.rc == 0, r
    assert_no_injection(r, pty)


def test_run_without_tty_cannot_push_input(cell, image_tree, tmp_path, pty):
    tree_dir = str(tmp_path / "tree")
    subprocess.run(["cp", "-a", image_tree, tree_dir], check=True)
    prog = payload.compile_into(tree_dir, "tiocsti", TIOCSTI_PROBE)
    img = str(tmp_path / "image.tar")
    make_docker_archive(img, tree_dir, Entrypoint=[prog], Cmd=[INJECT], WorkingDir="/")
    r = run_cell(cell, "run", "--rm", "--name", cell.name("sti"), f"oci:{img}", pty=pty,
                 timeout=120)
    assert r.rc == 0, r
    assert_no_injection(r, pty)
