# SPDX-License-Identifier: LGPL-2.1-or-later
"""The fixtures both suites use (tests/integration and tests/security import
them into their conftest.py); each conftest keeps only its session fixture."""
import os

import pytest

import celltest


def start_session(s, what):
    """Set up the run's one celltest.Session on first use; skip without root
    or when the runtime binary cannot run."""
    if os.geteuid() != 0:
        pytest.skip(f"the {what} suite needs root")
    if not hasattr(s, "skip_reason"):
        celltest.become_subreaper()
        s.setup()
        s.skip_reason = s.probe_binary()
    if s.skip_reason:
        pytest.skip(s.skip_reason)
    return s


@pytest.fixture
def runtime(session):
    rt = celltest.Runtime(session)
    yield rt
    rt.cleanup()


@pytest.fixture
def make_bundle(session, runtime, request):
    made = []

    def make(hint=None):
        b = celltest.Bundle(session, hint or request.node.name.replace("test_", ""))
        made.append(b)
        return b

    yield make
    runtime.cleanup()   # delete --force every id the test made, before the bundle goes
    for b in made:
        b.destroy()


@pytest.fixture
def bundle(make_bundle):
    return make_bundle()
