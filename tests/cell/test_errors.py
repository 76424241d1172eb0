# SPDX-License-Identifier: LGPL-2.1-or-later
"""What `cell` says when it refuses (issue 10, item 4): no such container, exists,
running and not running each in words of their own, a usage error without an
errno's text, and one line on stderr with exit status 1 (cell/main.c)."""
import os

import pytest


def refused(cell, *args):
    """stderr of a failing `cell ARGS`: exit status 1, one line."""
    r = cell(*args)
    assert r.returncode == 1, r
    lines = r.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("cell: "), r.stderr
    return lines[0]


@pytest.mark.parametrize("verb", [["start"], ["destroy"], ["info"], ["exec", "--", "true"],
                                  ["config"], ["stop"], ["kill"], ["kill", "KILL"]])
def test_no_such_container(cell, verb):
    err = refused(cell, verb[0], "nosuch", *verb[1:])
    assert err == 'cell: no container named "nosuch" (see cell ls)', err
    # and the refusal made nothing in the store (no lock file for the name)
    store = os.path.join(cell.env["CELL_ROOT"], "containers")
    assert not [f for f in (os.listdir(store) if os.path.isdir(store) else [])
                if f.startswith("nosuch")], os.listdir(store)


def test_exists(cell):
    n = cell.name("exists")
    cell("create", n, check=True)
    err = refused(cell, "create", n)
    assert err == f'cell: a container named "{n}" exists already', err
    src = cell.name("clone-src")
    cell("create", src, check=True)
    err = refused(cell, "clone", src, n)   # same condition, same words as create
    assert err == f'cell: a container named "{n}" exists already', err


def test_running_and_not_running(cell):
    n = cell.name("busy")
    cell("create", n, check=True)
    # exec into a stopped container: its real state, not "does not exist"
    assert refused(cell, "exec", n, "--", "true") == f"cell: {n} is not running"
    cell("start", n, check=True)
    try:
        assert refused(cell, "start", n) == f"cell: {n} is running already"
        err = refused(cell, "destroy", n)
        assert err == f"cell: {n} is running: stop it first or use --force", err
    finally:
        cell("stop", n, check=True)
    assert refused(cell, "stop", n) == f"cell: {n} is not running"


@pytest.mark.parametrize("args,want", [
    (["start"], "cell: usage: cell start"),
    (["exec", "x"], "cell: usage: cell exec"),
    (["clone", "a"], "cell: usage: cell clone SRC DST"),
    (["no-such-verb"], 'cell: unknown command "no-such-verb" (see cell --help)'),
    (["create", "x", "--privileged", "--unprivileged"],
     "cell: --privileged and --unprivileged contradict"),
])
def test_usage_errors_carry_no_errno_text(cell, args, want):
    err = refused(cell, *args)
    assert err.startswith(want), err
    assert "Invalid argument" not in err, err


def test_destroy_force_of_nothing_is_no_error(cell):
    """`destroy --force` is `rm -f`: a name with nothing left is no error, and
    it leaves nothing (not even a lock file) behind."""
    r = cell("destroy", "--force", "nosuch-forced")
    assert r.returncode == 0, r
    store = os.path.join(cell.env["CELL_ROOT"], "containers")
    assert not [f for f in (os.listdir(store) if os.path.isdir(store) else [])
                if f.startswith("nosuch-forced")]
