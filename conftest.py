"""Settings shared by every test directory of the monorepo (pytest.ini collects them in one run)."""

from hypothesis import settings

# `--hypothesis-profile=ci` (what `hatch run test` passes): thousands of examples for the property tests,
# notably the router's differential tests (C tree vs pure-Python twin vs Starlette). Registered here, at the
# root, so that the profile exists when pytest configures Hypothesis, whichever directories are collected.
# derandomize: every example is drawn from a seed fixed per test, so a commit passes or fails CI the same way
# on every run (random exploration is what the dev profile and `hatch run fuzz-campaign` are for); the
# example database is then not used either.
# Hypothesis also loads the profile named "ci" by itself when the environment says CI (CI=true, as .ci/run).
settings.register_profile("ci", max_examples=2000, deadline=None, derandomize=True)
# native/sanitize.sh: the router's suite once more, against the ASan+UBSan build of the C extension. Its job is
# to drive the C code through Python under the sanitizers (the fuzzers do the heavy exploration), so it draws
# a tenth of ci's examples: 2000 cost some 5 minutes there on 2 cores, 200 well under one.
settings.register_profile("sanitize", max_examples=200, deadline=None, derandomize=True)
# The unit tests on Python 3.12 and 3.13 (scripts/test.sh, step 3b): they check that the code works on those
# versions; the property tests' deep exploration already ran on 3.11 with the ci profile. Same fixed seeds.
settings.register_profile("matrix", max_examples=200, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=50, deadline=None)
