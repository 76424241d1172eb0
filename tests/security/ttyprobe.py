# SPDX-License-Identifier: LGPL-2.1-or-later
"""A pty to start a runtime from, as a shell on a terminal does, and a
program that tries to push keystrokes into it (TIOCSTI) -- for the cellrun
tests here and the `cell` ones in tests/cell.

    pty = Pty()       # slave: stdin and controlling terminal of the runtime
    subprocess.Popen(argv, stdin=pty.slave, start_new_session=True, preexec_fn=pty.preexec)
    assert_no_injection(result, pty)   # result.out: the probe's report
"""
import array
import fcntl
import os
import termios
import tty

from payload import parse_report

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


def assert_no_injection(r, pty):
    """r: anything with .out (the probe's report), printed on failure."""
    report = parse_report(r.out)
    assert report.get("session_leader") == "yes", f"the process shares the caller's session\n{r}"
    for fd in range(3):
        assert report.get(f"tiocsti_fd{fd}") in REFUSED, f"TIOCSTI on fd {fd} worked\n{r}"
    assert report.get("open_dev_tty") in REFUSED, f"/dev/tty opened: a controlling tty\n{r}"
    assert "tiocsti_dev_tty" not in report, r
    assert pty.pending_input() == b"", f"input pushed into the caller's terminal\n{r}"
