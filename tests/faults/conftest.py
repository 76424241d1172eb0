# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the fault tests: the integration suite's, shared (see
tests/security/conftest.py for why the Session must come from the
integration conftest module).  FAULT_TRIALS sets how many kill -9 trials
each test makes (`make check-faults` runs 200)."""
import importlib.util
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(os.path.dirname(HERE), "integration")
if INTEGRATION not in sys.path:
    sys.path.insert(0, INTEGRATION)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from cellfixtures import bundle, make_bundle, runtime, start_session  # noqa: E402,F401

import faultlib  # noqa: E402


def integration_conftest(config):
    """The integration conftest module of this run (loaded once)."""
    path = os.path.join(INTEGRATION, "conftest.py")
    mod = config.pluginmanager.get_plugin(path)
    if mod is None:
        spec = importlib.util.spec_from_file_location("celltest_integration_conftest", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        config.pluginmanager.register(mod, name=path)
    return mod


@pytest.fixture(scope="session")
def session(request):
    """The integration suite's session fixture, for this directory."""
    return start_session(integration_conftest(request.config)._get_session(), "faults")


@pytest.fixture
def adopted(session):
    """Kills, after the test, the processes this test's runtime calls left
    behind as our (subreaper's) children -- only those: pids that were not
    our children before the test started."""
    before = set(faultlib.adopted_children())
    yield before
    faultlib.kill_adopted(before)
