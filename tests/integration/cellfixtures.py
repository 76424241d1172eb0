# SPDX-License-Identifier: LGPL-2.1-or-later
"""The fixtures both suites use (tests/integration and tests/security import
them into their conftest.py); each conftest keeps only its session fixture."""
import importlib.util
import os

import pytest

import celltest


def integration_session(config, what):
    """The run's one celltest.Session, for a suite outside tests/integration.

    A run has exactly one Session (/run/celltest-<pid>, one cgroup parent per
    hierarchy): a second one would set up -- and wipe -- the same directory.
    So it always comes from the integration conftest module: the one pytest
    loaded when tests/integration is collected too, or one loaded here and
    registered under its path (pytest then reuses it). Either way its
    session-finish cleanup runs."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conftest.py")
    mod = config.pluginmanager.get_plugin(path)
    if mod is None:
        spec = importlib.util.spec_from_file_location("celltest_integration_conftest", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        config.pluginmanager.register(mod, name=path)
    return start_session(mod._get_session(), what)


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
