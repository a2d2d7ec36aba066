"""Settings shared by every test directory of the monorepo (pytest.ini collects them in one run)."""

from hypothesis import settings

# `--hypothesis-profile=ci` (what `hatch run test` passes): thousands of examples for the property tests,
# notably the router's differential tests (C tree vs pure-Python twin vs Starlette). Registered here, at the
# root, so that the profile exists when pytest configures Hypothesis, whichever directories are collected.
settings.register_profile("ci", max_examples=2000, deadline=None)
settings.register_profile("dev", max_examples=50, deadline=None)
