# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs last in this directory: the integration suite's leak check (mounts,
cgroups, processes, state dirs), also when tests/integration ran before."""
from test_zz_leaks import test_cgroup_parents_removable, test_no_leaks  # noqa: F401
