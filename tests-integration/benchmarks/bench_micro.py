"""Micro-benchmarks of start-up and response construction, ops/s for Starlette and Tachyon side by side:
app creation, route creation (a repeated and a never-seen template), adding 10 routes to an app, rendering a
JSON response.

    python tests-integration/benchmarks/bench_micro.py [--rounds 25]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PAYLOAD = {"id": 42, "name": "widget", "tags": ["a", "b", "c"], "price": 12.5, "active": True}


def cases(framework: str) -> dict[str, Callable[[], Any]]:
    if framework == "starlette":
        from starlette.applications import Starlette as App
        from starlette.responses import JSONResponse, PlainTextResponse
        from starlette.routing import Route
    else:
        from tachyon.applications import Tachyon as App
        from tachyon.responses import JSONResponse, PlainTextResponse
        from tachyon.routing import Route

    async def endpoint(request: Any) -> Any:
        return PlainTextResponse("ok")

    routes = [Route(f"/r{i}/{{id:int}}", endpoint) for i in range(10)]
    # Both frameworks keep compiled templates (Starlette through `re`'s pattern cache, Tachyon also its own
    # parse): a template never seen before shows the cost without any cache.
    fresh = itertools.count()

    def new_route() -> Any:
        return Route(f"/{framework}{next(fresh)}/{{id:int}}/posts/{{slug}}", endpoint)

    def add_ten() -> None:
        app = App()
        for i in range(10):
            app.add_route(f"/items{i}/{{id:int}}", endpoint)

    return {
        "app creation (10 routes)": lambda: App(routes=routes),
        "route creation": lambda: Route("/users/{id:int}/posts/{slug}", endpoint),
        "route creation (new template)": new_route,
        "adding 10 routes": add_ten,
        "JSON response render": lambda: JSONResponse(PAYLOAD).body,
    }


def batch_size(fn: Callable[[], Any], target: float) -> int:
    n = 1
    while True:  # calibrate to about `target` seconds a batch
        start = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - start > target:
            return n
        n *= 2


def seconds_per_op(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def ops_per_second(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Best ops/s of each function; short batches, the frameworks interleaved round by round (order rotating),
    so that noise on a shared machine hits both alike."""
    sizes = {name: batch_size(fn, 0.01) for name, fn in fns.items()}
    best = dict.fromkeys(fns, float("inf"))
    names = list(fns)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            best[name] = min(best[name], seconds_per_op(fns[name], sizes[name]))
    return {name: 1.0 / value for name, value in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args()
    table = {fw: cases(fw) for fw in ("starlette", "tachyon")}
    rows = []
    for name in table["starlette"]:
        found = ops_per_second({fw: table[fw][name] for fw in table}, args.rounds)
        s, t = found["starlette"], found["tachyon"]
        rows.append({"case": name, "starlette_ops": s, "tachyon_ops": t})
        print(f"{name:30s} starlette {s:12.0f} ops/s  tachyon {t:12.0f} ops/s  speed-up {t / s:5.2f}x", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "micro.json").write_text(json.dumps({"meta": {"rounds": args.rounds}, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
