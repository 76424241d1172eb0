# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the hostile tests: the integration suite's, shared.

A run has exactly one celltest.Session (/run/celltest-<pid>, one cgroup
parent per hierarchy): a second one would set up -- and wipe -- the same
directory.  So the Session always comes from the integration conftest
module: the one pytest loaded when tests/integration is collected too, or
one we load and register under its path (pytest then reuses it).  Either
way its session-finish cleanup runs, and test_zz_leaks_security.py ends
this directory with the integration suite's leak check.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(os.path.dirname(HERE), "integration")
if INTEGRATION not in sys.path:
    sys.path.insert(0, INTEGRATION)

from cellfixtures import bundle, integration_session, make_bundle, runtime  # noqa: E402,F401

import payload  # noqa: E402


@pytest.fixture(scope="session")
def session(request):
    """The integration suite's session fixture, for this directory."""
    return integration_session(request.config, "security")


@pytest.fixture
def tool(session):
    """tool(name, c_source) -> path of a static attack program in the shared
    (read-only for containers) session rootfs."""
    def install(name, c_source, flags=()):
        return payload.compile_into(session.rootfs, name, c_source, flags)
    return install


@pytest.fixture(params=["default", "no-seccomp"])
def profile(request):
    """Run an attack twice: under the default config, and with its seccomp
    profile removed, so that the defences beneath seccomp (capabilities,
    namespaces, read-only and masked paths) are proven on their own too.
    Apply with secrun.apply_profile(bundle, profile)."""
    return request.param
