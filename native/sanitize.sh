#!/usr/bin/env bash
# Sanitizer + fuzz job of the native router.  One command:
#
#     native/sanitize.sh [FUZZ_SECONDS]        (default 60; or env FUZZ_SECONDS)
#
# 1. builds the cffi extension with AddressSanitizer + UndefinedBehaviorSanitizer (gcc, the compiler CPython's
#    build tools use) into a private copy of the tachyon_router package, and runs the router's test-suite
#    (differential tests native vs twin vs Starlette, and the native-specific tests) against it in a Python
#    process started with the gcc ASan runtime in LD_PRELOAD (an uninstrumented interpreter can only load
#    an ASan-instrumented extension when the runtime comes first in the library list);
# 2. builds native/fuzz_lookup.c with clang's libFuzzer + ASan + UBSan (twice: default and memo-early
#    builds) and runs them for FUZZ_SECONDS in total: every input is checked against an independent
#    reference matcher, so the fuzzer finds wrong answers as well as memory errors.
#
# Any sanitizer report, test failure, fuzz crash, mismatch or timeout makes the script exit non-zero.
# Python: $PYTHON, else `python3` on PATH; it needs pytest, hypothesis and starlette (the dev environment,
# e.g. `hatch run bash native/sanitize.sh`).  Missing clang is installed with apt-get (CI runs as root).
# Leak detection is off for the Python run (the interpreter keeps objects alive at exit by design); the
# fuzz run keeps it on, so a tree that leaks memory fails there.
set -euo pipefail

FUZZ_SECONDS="${1:-${FUZZ_SECONDS:-60}}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
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

ensure_clang() {
    if command -v clang >/dev/null 2>&1 && echo 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){return 0;}' |
        clang -x c -fsanitize=fuzzer - -o "$WORK/probe" >/dev/null 2>&1; then
        return
    fi
    log "installing clang (libFuzzer)"
    if [ "$(id -u)" != 0 ]; then
        echo "clang with libFuzzer is missing and this is not root: install clang first" >&2
        exit 2
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang >/dev/null
}

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
(cd "$REPO" && LD_PRELOAD="$ASAN_RT" "$PYTHON" -m pytest -q -p no:cacheprovider --import-mode=importlib \
    "$PKG/tests")

# ---------------------------------------------------------------- 2. libFuzzer
ensure_clang
log "building the fuzz targets"
# Two builds: the default one, and one whose lookups switch to the memoised search after 16 steps (by
# default only lookups doing thousands of steps do), so both search regimes meet the reference matcher.
FUZZ_FLAGS=(-g -O1 -std=c99 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I"$HERE")
clang "${FUZZ_FLAGS[@]}" "$HERE/fuzz_lookup.c" "$HERE/radix.c" -o "$WORK/fuzz_default"
clang "${FUZZ_FLAGS[@]}" -DMEMO_AFTER_STEPS=16 "$HERE/fuzz_lookup.c" "$HERE/radix.c" -o "$WORK/fuzz_memo"

unset ASAN_OPTIONS UBSAN_OPTIONS
half=$(( (FUZZ_SECONDS + 1) / 2 ))
for target in fuzz_default fuzz_memo; do
    log "fuzzing $target for ${half}s"
    mkdir -p "$WORK/corpus-$target"
    status=0
    (cd "$WORK" && ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
        "./$target" -max_total_time="$half" -max_len=512 -timeout=10 -rss_limit_mb=1024 \
        -print_final_stats=1 "corpus-$target" >"$WORK/$target.log" 2>&1) || status=$?
    # on failure the offending input is printed (hex and Base64) in the tail of the log
    tail -n 12 "$WORK/$target.log"
    if [ "$status" != 0 ]; then
        tail -n 60 "$WORK/$target.log" >&2
        echo "fuzzing $target failed (exit $status)" >&2
        exit "$status"
    fi
done
log "sanitizer + fuzz job passed"
