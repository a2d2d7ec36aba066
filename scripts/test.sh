#!/usr/bin/env bash
# The whole test suite, step by step. Run it through `hatch run test` (the README's command), which
# creates the development environment first. Every step runs even if an earlier one failed; the exit
# status is non-zero if any step failed. Arguments are passed to the unit/integration pytest step.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
step() {
    local name=$1
    shift
    printf '\n===== %s =====\n' "$name"
    local started=$SECONDS
    "$@"
    local rc=$?
    printf -- '----- %s: exit %s in %ss\n' "$name" "$rc" "$((SECONDS - started))"
    [ "$rc" -eq 0 ] || failed+=("$name (exit $rc)")
}

# 0. Build the router's C extension in place from the current native/ sources. The editable install built it
#    when the environment was created; building again here keeps it in step with later C changes and with a
#    reused environment whose build products were removed (a fresh clone in a folder used before).
step "build the C router" python packages/tachyon-router/src/tachyon_router/_build.py

# 1. Prove which router backend is in use. With TACHYON_ROUTER_REQUIRE_NATIVE=1 (CI sets it) a missing or
#    broken C extension is an import error, so this step and every later one fail loudly.
step "router backend" python - <<'PY'
import os
import tachyon_router
print(f"tachyon_router.backend = {tachyon_router.backend!r}")
if os.environ.get("TACHYON_ROUTER_REQUIRE_NATIVE") == "1" and tachyon_router.backend != "native":
    raise SystemExit("TACHYON_ROUTER_REQUIRE_NATIVE=1 but the native backend is not in use")
PY

# 2. Lint: ruff and mypy --strict over every package (their own Hatch environment).
step "lint (ruff, mypy --strict)" hatch run lint:check

# 2b. The documentation site, strict: a broken link, a missing page or an API reference that does not
#     resolve fails (mkdocs.yml; its own Hatch environment). The docs' code examples run in step 3.
step "docs site (mkdocs --strict)" hatch run docs:build

# 3. Every package's unit tests and the cross-package integration tests (pytest.ini lists them).
#    The ci hypothesis profile runs thousands of differential examples.
step "unit + integration tests" python -m pytest --hypothesis-profile="${HYPOTHESIS_PROFILE:-ci}" "$@"

# 3b. The unit tests on the other supported Pythons (pyenv's 3.12 and 3.13; scripts/matrix.sh creates their
#     environments on first use), with the matrix hypothesis profile (conftest.py: fixed seeds, a tenth of ci's
#     examples). About 3 minutes on 2 cores, environments included.
step "unit tests on Python 3.12 and 3.13" bash scripts/matrix.sh unit 3.12 3.13 -- --hypothesis-profile=matrix

# 4. FastAPI running on Tachyon through the compatibility switch, in a pytest process of its own (a process
#    that has already imported the real Starlette, as the router's differential tests do, cannot switch).
step "FastAPI smoke tests" python -m pytest tests-integration/fastapi -q

# 5. Starlette 1.10.0's own test suite against Tachyon (and against Starlette, for the comparison).
step "Starlette conformance" python tests-integration/conformance/run.py

# 5b. Starlette's suite on 3.12 and 3.13 (each Python with its own reference environment): about a minute.
step "Starlette conformance on Python 3.12 and 3.13" bash scripts/matrix.sh conformance 3.12 3.13

# 6. The C router under AddressSanitizer + UndefinedBehaviorSanitizer: differential suite and fuzzing.
step "sanitizers + fuzz" bash native/sanitize.sh

printf '\n===== summary =====\n'
if [ "${#failed[@]}" -eq 0 ]; then
    echo "all steps passed"
    exit 0
fi
printf 'failed: %s\n' "${failed[@]}"
exit 1
