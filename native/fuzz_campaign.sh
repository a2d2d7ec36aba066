#!/usr/bin/env bash
# The open-ended fuzz campaign of the native router (not part of `hatch run test`: its outcome depends on
# the random seed and on how long it runs).  One command:
#
#     native/fuzz_campaign.sh [MINUTES]        (default 30; `hatch run fuzz-campaign MINUTES`)
#
# Builds both libFuzzer targets (native/fuzz_common.sh) and fuzzes them in turns of ROUND_MINUTES (default 5)
# until MINUTES have passed, one process at a time (one core; run it under `nice`), each turn with a fresh
# random seed (printed).  Every turn starts from the committed corpus (native/corpus) plus what earlier turns
# found.  At the end:
#   - the inputs that reached new code are merged into native/corpus with `-merge=1` (only those that add
#     coverage to one of the builds are kept; file names are content hashes) -- review and commit them;
#   - a failing input (crash, sanitizer report, mismatch with the reference, timeout, leak) stops the campaign
#     and is minimised into native/findings/; fix the cause, then move the minimised input into native/corpus
#     (CI replays it from then on) and add a regression test beside the router's tests.
# Exit status: 0 with no finding, 1 with one, 2 on a usage or set-up error.
set -euo pipefail

MINUTES="${1:-30}"
ROUND_MINUTES="${ROUND_MINUTES:-5}"
case "$MINUTES$ROUND_MINUTES" in
*[!0-9]*) echo "usage: $0 [MINUTES] (whole minutes; env ROUND_MINUTES likewise)" >&2; exit 2 ;;
esac
# shellcheck source=native/fuzz_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/fuzz_common.sh"
FINDINGS="$FUZZ_HERE/findings"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tachyon-fuzz-campaign.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

fuzz_ensure_clang "$WORK"
printf '== building the fuzz targets\n'
fuzz_build "$WORK"
mkdir -p "$WORK/new" "$FUZZ_CORPUS"

started=$SECONDS
budget=$((MINUTES * 60))
execs=0
turn=0
finding=""
while [ $((SECONDS - started)) -lt "$budget" ]; do
    target=${FUZZ_TARGETS[$((turn % 2))]}
    turn=$((turn + 1))
    left=$((budget - (SECONDS - started)))
    seconds=$((ROUND_MINUTES * 60 < left ? ROUND_MINUTES * 60 : left))
    log="$WORK/$target.$turn.log"
    printf '== turn %d: %s for %ds (from %s, corpus %d + %d new inputs)\n' "$turn" "$target" "$seconds" \
        "$(date -u +%H:%M:%S)" "$(find "$FUZZ_CORPUS" -type f | wc -l)" "$(find "$WORK/new" -type f | wc -l)"
    status=0
    # New inputs go to the first directory (the scratch one); the committed corpus is only read.
    (cd "$WORK" && fuzz_env "./$target" "${FUZZ_OPTS[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$WORK/$target-" "$WORK/new" "$FUZZ_CORPUS" >"$log" 2>&1) || status=$?
    grep -m1 -o 'Seed: [0-9]*' "$log" || true
    ran=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    execs=$((execs + ${ran:-0}))
    tail -n 6 "$log"
    if [ "$status" != 0 ]; then
        tail -n 60 "$log" >&2
        artifact=$(find "$WORK" -maxdepth 1 -name "$target-*" -type f | head -n 1)
        if [ -z "$artifact" ]; then
            echo "$target failed (exit $status) without leaving the failing input" >&2
            exit 1
        fi
        mkdir -p "$FINDINGS"
        finding="$FINDINGS/$(basename "$artifact")"
        cp "$artifact" "$finding"
        printf '== minimising %s\n' "$finding"
        (cd "$WORK" && fuzz_env "./$target" "${FUZZ_OPTS[@]}" -minimize_crash=1 -max_total_time=120 \
            -exact_artifact_path="$finding.min" "$finding" >"$WORK/minimise.log" 2>&1) || true
        break
    fi
done

printf '== merging the new inputs into %s\n' "$FUZZ_CORPUS"
before=$(find "$FUZZ_CORPUS" -type f | wc -l)
for target in "${FUZZ_TARGETS[@]}"; do
    (cd "$WORK" && fuzz_env "./$target" "${FUZZ_OPTS[@]}" -merge=1 "$FUZZ_CORPUS" "$WORK/new" >"$WORK/merge-$target.log" 2>&1)
done
after=$(find "$FUZZ_CORPUS" -type f | wc -l)
printf '== campaign: %d s, %d turns, %d executions, corpus %d -> %d inputs\n' "$((SECONDS - started))" \
    "$turn" "$execs" "$before" "$after"
if [ -n "$finding" ]; then
    printf '== FINDING: %s (minimised: %s.min); base64:\n' "$finding" "$finding"
    base64 -w0 "$finding.min" 2>/dev/null || base64 -w0 "$finding"
    echo
    exit 1
fi
echo "== no findings"
