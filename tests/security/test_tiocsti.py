# SPDX-License-Identifier: LGPL-2.1-or-later
"""No keystrokes pushed into the caller's terminal (TIOCSTI).

The runtime is started as a shell on a pty would start it: the pty's slave
is its stdin and its controlling terminal.  The container's process
(`terminal: false`, so it inherits that stdin) must be in a session of its
own: then the pty is not its controlling terminal, /dev/tty does not open,
and TIOCSTI on the inherited fd is refused (a process needs CAP_SYS_ADMIN to
push input into a terminal that is not its own; the container has no such
capability).  Were it in the caller's session, what it pushes would be read
-- and run -- by the caller's shell once the runtime exits.  Checked from
inside (the ioctl's result, the session id) and outside (nothing waits in
the pty's input queue).  This host has dev.tty.legacy_tiocsti=1.
"""
import array
import fcntl
import os
import termios
import tty

import pytest

from payload import parse_report
from secrun import apply_profile, wait_out

INJECT = "echo celltest-injected"

TIOCSTI_PROBE = r"""
#include <sys/ioctl.h>

/* Push argv[1] and a newline into fd's terminal, one byte at a time. */
static long push(int fd, const char *text)
{
	for (const char *c = text; *c; c++)
		if (ioctl(fd, TIOCSTI, c) < 0)
			return -1;
	return ioctl(fd, TIOCSTI, "\n");
}

int main(int argc, char **argv)
{
	char key[32];
	pid_t sid = getsid(0);

	report("pid", "%d", (int)getpid());
	report("sid", "%d", (int)sid);
	report("session_leader", "%s", sid == getpid() ? "yes" : "no");
	for (int fd = 0; fd < 3; fd++) {
		snprintf(key, sizeof(key), "tiocsti_fd%d", fd);
		outcome(key, push(fd, argv[1]));
	}
	int t = open("/dev/tty", O_RDWR | O_NOCTTY);
	outcome("open_dev_tty", t);
	if (t >= 0)
		outcome("tiocsti_dev_tty", push(t, argv[1]));
	return 0;
}
"""

REFUSED = ("EPERM", "ENOTTY", "EIO", "ENXIO", "EBADF")


class Pty:
    """A pty whose slave becomes the runtime's stdin and controlling tty."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)   # input is readable byte by byte, nothing echoed

    def preexec(self):
        # run_reaping makes the runtime a session leader: take the pty as ctty
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    def pending_input(self):
        """Bytes waiting in the pty's input queue: what the caller's shell
        would read next."""
        n = array.array("i", [0])
        fcntl.ioctl(self.slave, termios.FIONREAD, n, True)
        if n[0] == 0:
            return b""
        os.set_blocking(self.slave, False)
        return os.read(self.slave, n[0])

    def close(self):
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def pty():
    p = Pty()
    yield p
    p.close()


def assert_no_injection(r, pty):
    assert r.rc == 0, r
    report = parse_report(r.out)
    assert report.get("session_leader") == "yes", f"the process shares the caller's session\n{r}"
    for fd in range(3):
        assert report.get(f"tiocsti_fd{fd}") in REFUSED, f"TIOCSTI on fd {fd} worked\n{r}"
    assert report.get("open_dev_tty") in REFUSED, f"/dev/tty opened: a controlling tty\n{r}"
    assert "tiocsti_dev_tty" not in report, r
    assert pty.pending_input() == b"", f"input pushed into the caller's terminal\n{r}"


def test_run_without_terminal(runtime, bundle, tool, pty, profile):
    prog = tool("tiocsti", TIOCSTI_PROBE)
    apply_profile(bundle, profile)
    bundle.args(prog, INJECT)
    bundle.write()
    runtime.ids.append(bundle.id)
    r = runtime.cmd("run", "--bundle", bundle.path, bundle.id, guard=True, stdin=pty.slave,
                    preexec=pty.preexec)
    assert_no_injection(r, pty)


def test_create_start_without_terminal(runtime, bundle, tool, pty):
    """create holds the caller's pty as the init's stdin; start runs it."""
    prog = tool("tiocsti", TIOCSTI_PROBE)
    bundle.args("/bin/sh", "-c", f"{prog} '{INJECT}' > /out/report 2>&1")
    bundle.write()
    runtime.ids.append(bundle.id)
    r = runtime.cmd("create", "--bundle", bundle.path, bundle.id, guard=True, stdin=pty.slave,
                    preexec=pty.preexec)
    assert r.rc == 0, r
    runtime.start(bundle.id).ok()
    r.out = wait_out(bundle, "report", want="open_dev_tty")
    assert_no_injection(r, pty)


def test_exec_without_terminal(runtime, bundle, tool, pty, profile):
    prog = tool("tiocsti", TIOCSTI_PROBE)
    apply_profile(bundle, profile)
    bundle.args("sleep", "30")
    runtime.run(bundle, detach=True).ok()
    r = runtime.cmd("exec", bundle.id, prog, INJECT, stdin=pty.slave, preexec=pty.preexec)
    assert_no_injection(r, pty)
