# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the fault tests: the integration suite's, shared (see
tests/security/conftest.py for why the Session must come from the
integration conftest module).  FAULT_TRIALS sets how many kill -9 trials
each test makes (`make check-faults` runs 200)."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(os.path.dirname(HERE), "integration")
if INTEGRATION not in sys.path:
    sys.path.insert(0, INTEGRATION)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from cellfixtures import bundle, integration_session, make_bundle, runtime  # noqa: E402,F401

import faultlib  # noqa: E402


@pytest.fixture(scope="session")
def session(request):
    """The integration suite's session fixture, for this directory."""
    return integration_session(request.config, "faults")


@pytest.fixture
def adopted(session):
    """Kills, after the test, the processes this test's runtime calls left
    behind as our (subreaper's) children -- only those: pids that were not
    our children before the test started."""
    before = set(faultlib.adopted_children())
    yield before
    faultlib.kill_adopted(before)
