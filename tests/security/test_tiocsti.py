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
import pytest

from secrun import apply_profile, wait_out
from ttyprobe import INJECT, TIOCSTI_PROBE, Pty, assert_no_injection


@pytest.fixture
def pty():
    p = Pty()
    yield p
    p.close()


def test_run_without_terminal(runtime, bundle, tool, pty, profile):
    prog = tool("tiocsti", TIOCSTI_PROBE)
    apply_profile(bundle, profile)
    bundle.args(prog, INJECT)
    bundle.write()
    runtime.ids.append(bundle.id)
    r = runtime.cmd("run", "--bundle", bundle.path, bundle.id, guard=True, stdin=pty.slave,
                    preexec=pty.preexec)
    assert r.rc == 0, r
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
    assert r.rc == 0, r
    assert_no_injection(r, pty)
