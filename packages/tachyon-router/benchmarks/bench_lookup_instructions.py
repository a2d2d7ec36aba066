"""Where a native ``RouteTable.lookup`` spends its instructions: the whole lookup and each of its pieces.

Not a test. The timed split (``bench_lookup_parts.py``) cannot add up: each piece timed alone runs with hot
caches and trained branch predictors. Instruction counts under valgrind's callgrind do add up, and they do not
move with the load of a shared machine, so this is the accounting of record. Each statement runs in a loop of
N1 and then N2 iterations, in two processes; (count(N2) - count(N1)) / (N2 - N1) is its cost per call, and the
cost of the empty loop is subtracted. For the cffi calls, the share spent inside ``radix_find`` itself (the C
walk) is read from callgrind's per-function totals the same way.

    python packages/tachyon-router/benchmarks/bench_lookup_instructions.py   # ~6.5 min on a quiet machine

Needs valgrind (Debian package ``valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
N1, N2 = 1_000, 11_000

BASELINE = "pass"


def child(statement: str, loops: int) -> None:
    """Run ``statement`` ``loops`` times in a function whose locals hold the pieces (no global lookups)."""
    sys.path.insert(0, str(HERE))
    from bench_lookup_parts import lookup_pieces

    names = lookup_pieces()
    params = ", ".join(f"{name}={name}" for name in names)
    source = f"def run({params}):\n    for _ in range({loops}):\n        {statement}\n"
    namespace: dict[str, Any] = dict(names)
    exec(source, namespace)
    namespace["run"]()


def _count(valgrind: str, statement: str, loops: int, workdir: Path) -> tuple[int, int]:
    """(all instructions, instructions inside radix_find) of one child process."""
    out = workdir / f"cg.{abs(hash((statement, loops)))}"
    command = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__]
    # a fixed hash seed: dict probing (and so the count) then repeats from run to run
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run([*command, "--child", statement, str(loops)], check=True, capture_output=True, env=environment)
    annotate = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    total = walk = 0
    for line in annotate.splitlines():
        found = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$", line)
        if not found:
            continue
        count, where = int(found.group(1).replace(",", "")), found.group(2)
        if "PROGRAM TOTALS" in where:
            total = count
        elif re.search(r"radix\.c:radix_find\b", where):
            walk = max(walk, count)
    out.unlink(missing_ok=True)
    return total, walk


def per_call(valgrind: str, statement: str, workdir: Path) -> tuple[float, float]:
    (a_total, a_walk), (b_total, b_walk) = (_count(valgrind, statement, loops, workdir) for loops in (N1, N2))
    return (b_total - a_total) / (N2 - N1), (b_walk - a_walk) / (N2 - N1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=2, metavar=("STATEMENT", "LOOPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    valgrind = shutil.which("valgrind")
    if not valgrind or not shutil.which("callgrind_annotate"):
        raise SystemExit("valgrind (with callgrind_annotate) is required: apt-get install valgrind")
    sys.path.insert(0, str(HERE))
    from bench_lookup_parts import STATEMENTS

    jobs = [BASELINE, *STATEMENTS.values()]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = dict(zip(jobs, pool.map(lambda s: per_call(valgrind, s, Path(tmp)), jobs), strict=True))
    loop = results[BASELINE][0]
    print(f"instructions per call (callgrind, loop of {N2 - N1:,} minus its empty loop of {loop:,.0f})\n")
    print("| piece | instructions | of which in radix_find (C) |")
    print("|---|---:|---:|")
    for name, statement in STATEMENTS.items():
        total, walk = results[statement]
        print(f"| {name} | {total - loop:,.0f} | {f'{walk:,.0f}' if walk else ''} |")


if __name__ == "__main__":
    main()
