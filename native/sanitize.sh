#!/usr/bin/env bash
# Sanitizer + fuzz job of the native router (deterministic: the same commit always gives the same result).
# One command:
#
#     native/sanitize.sh [FUZZ_RUNS]        (default 50000 inputs per fuzz build; or env FUZZ_RUNS, FUZZ_SEED)
#
# 1. builds the cffi extension with AddressSanitizer + UndefinedBehaviorSanitizer (gcc, the compiler CPython's
#    build tools use) into a private copy of the tachyon_router package, and runs the router's test-suite
#    (differential tests native vs twin vs Starlette, and the native-specific tests) against it in a Python
#    process started with the gcc ASan runtime in LD_PRELOAD (an uninstrumented interpreter can only load
#    an ASan-instrumented extension when the runtime comes first in the library list);
# 2. builds native/fuzz_lookup.c with clang's libFuzzer + ASan + UBSan (twice: default and memo-early
#    builds, see native/fuzz_common.sh), replays the committed corpus native/corpus through both (every input
#    that ever failed is in it), then runs FUZZ_RUNS new inputs through each with the fixed seed FUZZ_SEED
#    (default 1).  Every input is checked against an independent reference matcher, so the fuzzer finds wrong
#    answers as well as memory errors.  The open-ended random campaign is native/fuzz_campaign.sh.
#
# Any sanitizer report, test failure, fuzz crash, mismatch or timeout makes the script exit non-zero.
# Python: $PYTHON, else `python3` on PATH; it needs pytest, hypothesis and starlette (the dev environment,
# e.g. `hatch run bash native/sanitize.sh`).  Missing clang is installed with apt-get (CI runs as root).
# Leak detection is off for the Python run (the interpreter keeps objects alive at exit by design); the
# fuzz run keeps it on, so a tree that leaks memory fails there.
set -euo pipefail

FUZZ_RUNS="${1:-${FUZZ_RUNS:-50000}}"
FUZZ_SEED="${FUZZ_SEED:-1}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=native/fuzz_common.sh
. "$HERE/fuzz_common.sh"
REPO="$(cd "$HERE/.." && pwd)"
PKG="$REPO/packages/tachyon-router"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tachyon-sanitize.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

log() { printf '\n== %s\n' "$*"; }

if ! "$PYTHON" -c "import cffi, pytest, hypothesis, starlette" 2>/dev/null; then
    echo "$PYTHON lacks cffi/pytest/hypothesis/starlette: set PYTHON to the dev environment's interpreter" >&2
    echo "(e.g. PYTHON=\$(hatch env find)/bin/python, or run this script under 'hatch run')" >&2
    exit 2
fi

# ---------------------------------------------------------------- 1. sanitized extension + test-suite
log "building the ASan+UBSan extension"
SAN_FLAGS=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1)
mkdir -p "$WORK/site" "$WORK/build"
cp -r "$PKG/src/tachyon_router" "$WORK/site/"
rm -f "$WORK/site/tachyon_router/_tachyon_router_native."*
"$PYTHON" - "$PKG/src/tachyon_router/_build.py" "$WORK/build" "$WORK/site/tachyon_router" "${SAN_FLAGS[*]}" <<'EOF'
import importlib.util, shutil, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("_tachyon_router_build", sys.argv[1])
builder = importlib.util.module_from_spec(spec)
spec.loader.exec_module(builder)
flags = sys.argv[4].split()
built = builder.compile_extension(Path(sys.argv[2]), extra_compile_args=flags, extra_link_args=flags[:1])
shutil.copy2(built, Path(sys.argv[3]) / built.name)
EOF

ASAN_RT="$(gcc -print-file-name=libasan.so)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TACHYON_ROUTER_REQUIRE_NATIVE=1
export PYTHONPATH="$WORK/site${PYTHONPATH:+:$PYTHONPATH}"

# make sure the instrumented copy is the one imported, not the editable install
LD_PRELOAD="$ASAN_RT" "$PYTHON" -c "
import sys, tachyon_router, tachyon_router._native as n
assert n.__file__.startswith('$WORK'), n.__file__
assert tachyon_router.backend == 'native', tachyon_router.backend
"

log "router test-suite against the sanitized extension"
# The "sanitize" hypothesis profile (conftest.py): a fixed seed and a tenth of the ci profile's examples.
(cd "$REPO" && LD_PRELOAD="$ASAN_RT" "$PYTHON" -m pytest -q -p no:cacheprovider --import-mode=importlib \
    --hypothesis-profile=sanitize "$PKG/tests")

# ---------------------------------------------------------------- 2. libFuzzer
fuzz_ensure_clang "$WORK"
log "building the fuzz targets"
fuzz_build "$WORK"

unset ASAN_OPTIONS UBSAN_OPTIONS
mapfile -t corpus < <(find "$FUZZ_CORPUS" -type f | sort)
if [ "${#corpus[@]}" -eq 0 ]; then
    echo "the fuzz corpus $FUZZ_CORPUS is empty" >&2
    exit 1
fi
fuzz_failed() { # target status log
    # on failure the offending input is printed (hex and Base64) in the tail of the log
    tail -n 60 "$3" >&2
    echo "fuzzing $1 failed (exit $2)" >&2
    exit "$2"
}
for target in "${FUZZ_TARGETS[@]}"; do
    log "$target: replaying the ${#corpus[@]} inputs of native/corpus"
    status=0
    (cd "$WORK" && fuzz_env "./$target" "${FUZZ_OPTS[@]}" "${corpus[@]}" >"$WORK/$target-replay.log" 2>&1) || status=$?
    [ "$status" = 0 ] || fuzz_failed "$target" "$status" "$WORK/$target-replay.log"
    grep -c '^Executed ' "$WORK/$target-replay.log" | sed 's/$/ inputs passed/'

    log "$target: $FUZZ_RUNS new inputs with seed $FUZZ_SEED"
    mkdir -p "$WORK/corpus-$target"
    status=0
    (cd "$WORK" && fuzz_env "./$target" "${FUZZ_OPTS[@]}" -seed="$FUZZ_SEED" -runs="$FUZZ_RUNS" -print_final_stats=1 \
        "corpus-$target" "$FUZZ_CORPUS" >"$WORK/$target.log" 2>&1) || status=$?
    [ "$status" = 0 ] || fuzz_failed "$target" "$status" "$WORK/$target.log"
    tail -n 5 "$WORK/$target.log"
done
log "sanitizer + fuzz job passed"
