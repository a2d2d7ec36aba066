"""BaseHTTPMiddleware in the middleware stack: Tachyon before and after a change, beside Starlette and the floor.

The cells are the suite's two stack scenarios (``scenarios.py``: CORS + GZip + two user pure-ASGI middlewares
around plaintext, without and with one pass-through ``BaseHTTPMiddleware``) on the raw floor, Starlette and
Tachyon, plus Tachyon's stack with ``tachyon/middleware/base.py`` as it is at a git revision (``--baseline``,
default ``main``, loaded from ``git show``): "before" and "after" side by side in one process.

Timed (default): every round visits every cell, order rotating, in short batches; the best batch is kept.
``--instructions``: each cell runs in a child process under valgrind's callgrind, twice (100 and 1,100
requests after the same warm-up), and the difference / 1,000 is the instruction count per request, which
does not depend on the machine's load (loop turns cost time that instructions do not show).

    python tests-integration/benchmarks/bench_basehttp.py [--rounds 15] [--baseline main] [--instructions]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from apps import load  # noqa: E402
from bench_inprocess import batch  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402

STACK, STACK_BASE = "middleware stack", "middleware stack + BaseHTTPMiddleware"
CELLS = (
    ("raw", STACK),
    ("starlette", STACK),
    ("starlette", STACK_BASE),
    ("tachyon", STACK),
    ("tachyon", STACK_BASE),
    ("tachyon-baseline", STACK_BASE),
)


def load_cell(framework: str, baseline: str) -> Any:
    if framework != "tachyon-baseline":
        return load(framework)
    import tachyon.middleware.base as current

    source = subprocess.run(
        ["git", "show", f"{baseline}:packages/tachyon/src/tachyon/middleware/base.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    old = types.ModuleType("tachyon_middleware_base_baseline")
    exec(compile(source, f"{baseline}:middleware/base.py", "exec"), old.__dict__)
    saved = current.BaseHTTPMiddleware
    current.BaseHTTPMiddleware = old.BaseHTTPMiddleware  # type: ignore[misc]
    try:
        sys.modules.pop("tachyon_bench_app", None)
        return load("tachyon")
    finally:
        current.BaseHTTPMiddleware = saved  # type: ignore[misc]
        sys.modules.pop("tachyon_bench_app", None)


def scenario(name: str) -> Any:
    return next(s for s in SCENARIOS if s.name == name)


async def timed(rounds: int, baseline: str) -> dict[tuple[str, str], float]:
    apps = {cell: load_cell(cell[0], baseline) for cell in CELLS}
    sizes = {}
    for cell, app in apps.items():
        await batch(app, scenario(cell[1]), 200)
        sizes[cell] = max(50, int(20_000 / await batch(app, scenario(cell[1]), 200)))
    best = dict.fromkeys(CELLS, float("inf"))
    for r in range(rounds):
        for cell in CELLS[r % len(CELLS) :] + CELLS[: r % len(CELLS)]:
            best[cell] = min(best[cell], await batch(apps[cell], scenario(cell[1]), sizes[cell]))
    return best


def child(framework: str, name: str, requests: int, baseline: str) -> None:
    app = load_cell(framework, baseline)

    async def run() -> None:
        await batch(app, scenario(name), 50)
        await batch(app, scenario(name), requests)

    asyncio.run(run())


def instructions(baseline: str) -> dict[tuple[str, str], float]:
    counts = {}
    for framework, name in CELLS:
        totals = []
        for requests in (100, 1100):
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "callgrind.out"
                subprocess.run(
                    ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__]
                    + ["--child", framework, name, str(requests), "--baseline", baseline],
                    check=True,
                    capture_output=True,
                )
                summary = next(line for line in out.read_text().splitlines() if line.startswith("summary:"))
                totals.append(int(summary.split()[1]))
        counts[(framework, name)] = (totals[1] - totals[0]) / 1000
        print(f"  {framework:17s} {name:40s} {counts[(framework, name)]:>12,.0f} instructions", flush=True)
    return counts


def report(figures: dict[tuple[str, str], float], unit: str, baseline: str) -> None:
    for (framework, name), value in figures.items():
        label = f"tachyon ({baseline})" if framework == "tachyon-baseline" else framework
        print(f"{label:17s} {name:40s} {value:12,.2f} {unit}")
    star, after, before = (
        figures[("starlette", STACK_BASE)],
        figures[("tachyon", STACK_BASE)],
        figures[("tachyon-baseline", STACK_BASE)],
    )
    stack = figures[("tachyon", STACK)]
    ratios = f"after {star / after:.2f}x, before ({baseline}) {star / before:.2f}x"
    print(f"with BaseHTTPMiddleware, Starlette / Tachyon: {ratios}")
    added = f"after {after - stack:+,.2f} {unit}, before {before - stack:+,.2f} {unit}"
    print(f"Tachyon, with minus without BaseHTTPMiddleware: {added}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--baseline", default="main", help="git revision of the 'before' middleware/base.py")
    parser.add_argument("--instructions", action="store_true", help="count instructions under callgrind instead")
    parser.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "SCENARIO", "REQUESTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]), args.baseline)
    elif args.instructions:
        report(instructions(args.baseline), "instructions/request", args.baseline)
    else:
        report(asyncio.run(timed(args.rounds, args.baseline)), "µs", args.baseline)


if __name__ == "__main__":
    main()
