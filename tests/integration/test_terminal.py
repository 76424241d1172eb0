# SPDX-License-Identifier: LGPL-2.1-or-later
"""process.terminal with --console-socket: a small receiver takes the pty
master over SCM_RIGHTS and reads what the container writes to its tty."""
import array
import os
import socket
import threading

import pytest

from celltest import wait_for


class ConsoleReceiver:
    """Listens on an AF_UNIX socket, receives one fd, drains it until EOF/EIO."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self.sock.bind(path)
        self.sock.listen(1)
        self.sock.settimeout(20)
        self.data = b""
        self.master = None
        self.error = None
        self.got_fd = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                fds = array.array("i")
                msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))
                for level, typ, payload in anc:
                    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                        fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
                if not fds:
                    raise RuntimeError(f"no fd received (message {msg!r})")
                self.master = fds[0]
            self.got_fd.set()
            while True:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:        # EIO once every slave fd is closed
                    break
                if not chunk:
                    break
                self.data += chunk
        except Exception as e:      # reported by wait()
            self.error = e
        finally:
            self.got_fd.set()
            self.done.set()

    def write(self, data):
        wait_for(self.got_fd.is_set, what="console fd")
        os.write(self.master, data)

    def wait(self, timeout=20):
        assert self.done.wait(timeout), f"console not closed; got so far {self.data!r}"
        if self.error:
            raise self.error
        return self.data.decode(errors="replace")

    def close(self):
        self.sock.close()
        if self.master is not None:
            try:
                os.close(self.master)
            except OSError:
                pass


@pytest.fixture
def console(bundle):
    made = []

    def make(name="console.sock"):
        c = ConsoleReceiver(os.path.join(bundle.path, name))
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def tty_bundle(bundle, script):
    bundle.process["terminal"] = True
    bundle.process["consoleSize"] = {"height": 30, "width": 100}
    bundle.sh(script)


def test_terminal_create_start(runtime, bundle, console):
    rx = console()
    tty_bundle(bundle, "tty; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty")
    runtime.create(bundle, "--console-socket", rx.path).ok()
    runtime.start(bundle.id).ok()
    out = rx.wait()
    assert out.split("\n")[:3] == ["/dev/pts/0\r", "30 100\r", "all-tty\r"], out
    runtime.wait_status(bundle.id, "stopped")


def test_terminal_run_detached(runtime, bundle, console):
    rx = console()
    tty_bundle(bundle, "tty")
    runtime.run(bundle, "--console-socket", rx.path, detach=True).ok()
    assert rx.wait().strip() == "/dev/pts/0"


def test_terminal_input(runtime, bundle, console):
    rx = console()
    tty_bundle(bundle, "read line; echo got:$line")
    runtime.run(bundle, "--console-socket", rx.path, detach=True).ok()
    rx.write(b"hello\n")
    out = rx.wait()
    assert "got:hello" in out


def test_terminal_dev_console(runtime, bundle, console):
    rx = console()
    tty_bundle(bundle, "stat -c '%t' /dev/console; stat -c '%t' /dev/pts/0")
    runtime.run(bundle, "--console-socket", rx.path, detach=True).ok()
    majors = rx.wait().split()
    assert majors[0] == majors[1] == "88"    # 136: the pts major


@pytest.mark.parametrize("kind", ["symlink", "directory"])
def test_terminal_dev_console_not_a_file_is_refused(runtime, bundle, console, kind):
    """/dev/console of the image (no tmpfs on /dev) is a symlink to a file or a
    directory: the pty is not bound over it, or over what the link names."""
    root = bundle.private_rootfs()
    os.makedirs(os.path.join(root, "dev"), exist_ok=True)
    target = os.path.join(root, "dev/console")
    if os.path.lexists(target):
        os.remove(target)
    if not os.path.lexists(os.path.join(root, "dev/ptmx")):
        os.symlink("pts/ptmx", os.path.join(root, "dev/ptmx"))
    if kind == "symlink":
        os.symlink("/etc/hostname", target)
    else:
        os.mkdir(target)
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/dev"]
    rx = console()
    tty_bundle(bundle, "true")
    r = runtime.run(bundle, "--console-socket", rx.path, detach=True)
    assert r.rc != 0, r
    if runtime.is_cell:
        assert f"/dev/console is a {kind}" in r.err, r


def test_terminal_exec(runtime, bundle, console):
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    rx = console("exec.sock")
    runtime.exec(bundle.id, "sh", "-c", "tty; [ -t 1 ] && echo is-tty",
                 opts=["--tty", "--console-socket", rx.path, "-d"]).ok()
    lines = rx.wait().split()
    assert lines[0].startswith("/dev/pts/") and lines[1] == "is-tty"


def devpts_gid(bundle):
    """The gid= of the devpts mount (5, tty, in the default spec)."""
    for m in bundle.config["mounts"]:
        if m.get("type") == "devpts":
            for o in m.get("options", []):
                if o.startswith("gid="):
                    return int(o[4:])
    return 0


def test_terminal_owned_by_process_user(runtime, bundle, console):
    """runc fchowns the pty to the process's uid (the gid stays the devpts
    mount's), so that a non-root process can use its own terminal."""
    rx = console()
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    tty_bundle(bundle, "stat -c '%u %g' $(tty)")
    runtime.run(bundle, "--console-socket", rx.path, detach=True).ok()
    assert rx.wait().split() == ["1000", str(devpts_gid(bundle))]


def test_terminal_exec_owned_by_process_user(runtime, bundle, console):
    bundle.args("sleep", "1001")
    runtime.run(bundle, detach=True).ok()
    rx = console("exec.sock")
    runtime.exec(bundle.id, "sh", "-c", "stat -c '%u %g' $(tty)",
                 opts=["--tty", "--console-socket", rx.path, "-d", "--user", "1000:1000"]).ok()
    assert rx.wait().split() == ["1000", str(devpts_gid(bundle))]


def test_no_terminal_stdio_not_tty(runtime, bundle):
    bundle.sh("[ -t 1 ] && echo tty || echo not-tty; tty")
    r = runtime.run(bundle)
    assert r.out.splitlines()[0] == "not-tty"


def test_terminal_without_console_socket_fails(runtime, bundle, session):
    bundle.process["terminal"] = True
    bundle.args("true")
    r = runtime.create(bundle)
    assert r.rc != 0
    assert session.leftovers(bundle.id, needle=bundle.path) == []
    if runtime.is_cell:
        assert len(r.err_lines) == 1 and "console-socket" in r.err, r
