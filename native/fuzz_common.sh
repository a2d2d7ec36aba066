# Shared by native/sanitize.sh (the deterministic CI fuzz step) and native/fuzz_campaign.sh (the open-ended
# campaign): the two libFuzzer builds of fuzz_lookup.c and the options every run of them uses.  Sourced, not run.
#
#   fuzz_ensure_clang WORK        installs clang with apt-get when libFuzzer is missing (root only)
#   fuzz_build WORK               builds WORK/fuzz_default and WORK/fuzz_memo
#   FUZZ_TARGETS                  the two build names
#   FUZZ_OPTS                     libFuzzer options shared by every run (input size, per-input timeout, memory)
#   fuzz_env                      the sanitizer settings for a run (prefix a command with it)

FUZZ_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The committed corpus: the inputs that reached new code so far, and every input that ever failed (minimised).
FUZZ_CORPUS="$FUZZ_HERE/corpus"
FUZZ_TARGETS=(fuzz_default fuzz_memo)
FUZZ_OPTS=(-max_len=512 -timeout=10 -rss_limit_mb=1024)

fuzz_env() {
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" "$@"
}

fuzz_ensure_clang() {
    local work=$1
    if command -v clang >/dev/null 2>&1 && echo 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){return 0;}' |
        clang -x c -fsanitize=fuzzer - -o "$work/probe" >/dev/null 2>&1; then
        return
    fi
    printf '\n== installing clang (libFuzzer)\n'
    if [ "$(id -u)" != 0 ]; then
        echo "clang with libFuzzer is missing and this is not root: install clang first" >&2
        return 2
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang >/dev/null
}

# Two builds: the default one, and one whose lookups switch to the memoised search after 16 steps (by default
# only lookups doing thousands of steps do), so both search regimes meet the reference matcher.
fuzz_build() {
    local work=$1
    local flags=(-g -O1 -std=c99 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I"$FUZZ_HERE")
    clang "${flags[@]}" "$FUZZ_HERE/fuzz_lookup.c" "$FUZZ_HERE/radix.c" -o "$work/fuzz_default"
    clang "${flags[@]}" -DMEMO_AFTER_STEPS=16 "$FUZZ_HERE/fuzz_lookup.c" "$FUZZ_HERE/radix.c" -o "$work/fuzz_memo"
}
