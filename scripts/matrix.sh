#!/usr/bin/env bash
# Run a script of the `test-matrix` Hatch environment (hatch.toml) on several Pythons:
#
#     bash scripts/matrix.sh unit                  # every package's unit tests on 3.11, 3.12 and 3.13
#     bash scripts/matrix.sh router-http 3.12 3.13 # the router + http unit tests on 3.12 and 3.13
#     bash scripts/matrix.sh conformance 3.13      # Starlette's suite against Tachyon on 3.13
#     bash scripts/matrix.sh unit 3.13 -- -k cookies   # arguments after -- go to the script (pytest)
#
# Hatch finds an interpreter for `python = "3.12"` on PATH as `python3.12`. On these machines the 3.12 and
# 3.13 interpreters come from pyenv, whose shims refuse to run a version that is not selected; this script
# puts each installed pyenv version's bin/ directory on PATH instead (the newest patch release of each minor
# version), so no shim and no pyenv selection is involved. A Python that cannot be found is an error (Hatch
# would otherwise try to download one). Exit status: non-zero if any version failed.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
    echo "usage: $0 SCRIPT [PYTHON_VERSION ...] [-- ARGS]   (SCRIPT: unit, router-http or conformance)" >&2
    exit 2
fi
script=$1
shift
versions=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    versions+=("$1")
    shift
done
[ $# -gt 0 ] && shift  # the --
[ ${#versions[@]} -gt 0 ] || versions=(3.11 3.12 3.13)

pyenv_root=${PYENV_ROOT:-}
if [ -z "$pyenv_root" ] && command -v pyenv >/dev/null; then
    pyenv_root=$(pyenv root)
fi

interpreter_dir() {  # the bin/ directory holding python$1, preferring pyenv's newest $1.x, else PATH's
    local minor=$1 candidate best=""
    if [ -n "$pyenv_root" ]; then
        for candidate in "$pyenv_root"/versions/"$minor".*/bin; do
            [ -x "$candidate/python$minor" ] && best=$candidate
        done
    fi
    if [ -z "$best" ]; then
        candidate=$(command -v "python$minor" 2>/dev/null) || return 1
        # A pyenv shim that does not run is no interpreter.
        "$candidate" -c 'import sys' >/dev/null 2>&1 || return 1
        best=$(dirname "$candidate")
    fi
    echo "$best"
}

failed=()
for version in "${versions[@]}"; do
    printf '\n===== test-matrix.py%s:%s =====\n' "$version" "$script"
    started=$SECONDS
    if ! dir=$(interpreter_dir "$version"); then
        echo "no Python $version found (neither \$(pyenv root)/versions/$version.* nor python$version on PATH)" >&2
        failed+=("$version (no interpreter)")
        continue
    fi
    PATH="$dir:$PATH" hatch run "test-matrix.py$version:$script" "$@"
    rc=$?
    printf -- '----- Python %s (%s): exit %s in %ss\n' "$version" "$dir" "$rc" "$((SECONDS - started))"
    [ "$rc" -eq 0 ] || failed+=("$version (exit $rc)")
done

if [ ${#failed[@]} -gt 0 ]; then
    printf 'failed on: %s\n' "${failed[@]}"
    exit 1
fi
