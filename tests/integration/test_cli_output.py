# SPDX-License-Identifier: LGPL-2.1-or-later
"""What clients and runc's own tests parse from the CLI: --log/--log-format
lines, --version, help pages, exit statuses.  Each check holds for runc too
(the program name aside: runc calls itself runc, cellrun by its argv[0])."""
import json
import os
import re

# logrus's text: msg is quoted when it needs to be; runc's --debug adds fields
TEXT_LINE = re.compile(r'^time="[0-9T:.+Z-]+" level=(debug|info|warning|error) '
                       r'msg=("(?:[^"\\]|\\.)*"|\S+)( \w+=.*)?$')


def run_logged(runtime, bundle, *glob):
    log = os.path.join(bundle.path, "log.out")
    bundle.args("true")
    cid = runtime._prepare(bundle, None)
    r = runtime.cmd("--log", log, *glob, "run", "--bundle", bundle.path, cid, guard=True)
    with open(log) as f:
        return r, f.read().splitlines()


def test_debug_lines_go_to_the_log_file_as_logfmt(runtime, bundle):
    """runc's debug.bats: with --log, no debug line on stderr; in the file,
    logrus text lines (time="…" level=debug msg="…")."""
    r, lines = run_logged(runtime, bundle, "--debug")
    r.ok()
    assert "level=debug" not in r.err and "debug" not in r.err.lower(), r
    assert lines, "nothing in the log file"
    for ln in lines:
        assert TEXT_LINE.match(ln), ln
    assert any("level=debug" in ln for ln in lines), lines


def test_debug_lines_in_json(runtime, bundle):
    r, lines = run_logged(runtime, bundle, "--log-format", "json", "--debug")
    r.ok()
    assert '"level":"debug"' not in r.err, r
    levels = set()
    for ln in lines:
        rec = json.loads(ln)
        assert set(rec) >= {"level", "msg", "time"}, ln
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", rec["time"]), ln
        levels.add(rec["level"])
    assert "debug" in levels, lines


def test_error_in_the_json_log(runtime, bundle):
    """containerd reads the last "error" record of the json log to report a
    failed create; stderr still has the error for a human."""
    log = os.path.join(bundle.path, "log.out")
    bundle.config["root"]["path"] = "/nonexistent-celltest-rootfs"
    cid = runtime._prepare(bundle, None)
    r = runtime.cmd("--log", log, "--log-format", "json", "create", "--bundle", bundle.path,
                    cid, guard=True)
    assert r.rc == 1, r
    with open(log) as f:
        recs = [json.loads(ln) for ln in f.read().splitlines()]
    errors = [x for x in recs if x["level"] == "error"]
    assert errors, recs
    assert "nonexistent-celltest-rootfs" in errors[-1]["msg"], errors
    assert "nonexistent-celltest-rootfs" in r.err, r


def check_version(out):
    lines = out.splitlines()
    assert re.match(r"^\S+ version \d+\.\d+\.\d+", lines[0]), lines
    assert lines[1].startswith("commit: ") and len(lines[1]) > len("commit: "), lines
    assert re.match(r"^spec: \d+\.\d+\.\d+", lines[2]), lines
    assert any(re.match(r"^libseccomp: \d+\.\d+\.\d+$", ln) for ln in lines), lines


def test_version_shape(runtime):
    """runc's version.bats and go-runc read: PROG version X.Y.Z / commit: / spec:"""
    for flag in ("--version", "-v"):
        check_version(runtime.cmd(flag, root=False).ok().out)


def test_version_verb(runtime, session):
    session.cell_only("runc 1.1 has no version command (No help topic)")
    check_version(runtime.cmd("version", root=False).ok().out)


def test_help_pages(runtime):
    """runc's help.bats: NAME: then "PROG - Open Container Initiative runtime"."""
    for args in (["-h"], ["--help"], ["help"], []):
        r = runtime.cmd(*args, root=False).ok()
        lines = r.out.splitlines()
        assert lines[0] == "NAME:", (args, lines[:3])
        assert re.match(r"^   \S+ - Open Container Initiative runtime$", lines[1]), lines[:3]
        assert "GLOBAL OPTIONS:" in lines and "COMMANDS:" in lines, args
        assert re.search(r"^   help, h ", r.out, re.M), args


def test_verb_help_pages(runtime):
    for verb in ("create", "run", "start", "state", "kill", "delete", "exec", "list", "ps",
                 "pause", "resume", "update", "spec"):
        for args in ([verb, "-h"], [verb, "--help"], ["help", verb]):
            r = runtime.cmd(*args, root=False).ok()
            lines = r.out.splitlines()
            assert lines[0] == "NAME:", (args, lines[:3])
            assert re.match(rf"^   \S+ {verb} - \S", lines[1]), (args, lines[:3])


def test_no_help_topic(runtime):
    for args in (["celltest-foo", "-h"], ["help", "celltest-foo"], ["celltest-foo"]):
        r = runtime.cmd(*args, root=False)
        assert r.rc == 3, (args, r)
        assert "No help topic for 'celltest-foo'" in r.err, (args, r)


def test_exec_failure_is_255(runtime, session):
    """runc exits 255 when exec fails before its process runs ("exec failed");
    other runtime errors are 1."""
    cid = session.new_id("noexec")
    r = runtime.exec(cid, "true")
    assert r.rc == 255, r
    r = runtime.cmd("kill", cid, "KILL")
    assert r.rc == 1, r


def test_exec_of_a_missing_binary_is_255(runtime, bundle):
    bundle.sh("sleep 30")
    runtime.run(bundle, detach=True).ok()
    r = runtime.exec(bundle.id, "/nonexistent-celltest-cmd")
    assert r.rc == 255, r
    assert "/nonexistent-celltest-cmd" in r.err, r
    runtime.kill(bundle.id, "KILL").ok()
    runtime.wait_status(bundle.id, "stopped")
