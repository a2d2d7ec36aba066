"""Micro-benchmarks of start-up and response construction, ops/s for Starlette and Tachyon side by side:
app creation, route creation, adding 10 routes to an app, rendering a JSON response.

    python tests-integration/benchmarks/bench_micro.py [--rounds 5]
"""

from __future__ import annotations

import argparse
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

    def add_ten() -> None:
        app = App()
        for i in range(10):
            app.add_route(f"/items{i}/{{id:int}}", endpoint)

    return {
        "app creation (10 routes)": lambda: App(routes=routes),
        "route creation": lambda: Route("/users/{id:int}/posts/{slug}", endpoint),
        "adding 10 routes": add_ten,
        "JSON response render": lambda: JSONResponse(PAYLOAD).body,
    }


def ops_per_second(fn: Callable[[], Any], rounds: int) -> float:
    n = 1
    while True:  # calibrate to ~50 ms a batch
        start = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - start > 0.05:
            break
        n *= 2
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return 1.0 / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    table = {fw: cases(fw) for fw in ("starlette", "tachyon")}
    rows = []
    for name in table["starlette"]:
        s = ops_per_second(table["starlette"][name], args.rounds)
        t = ops_per_second(table["tachyon"][name], args.rounds)
        rows.append({"case": name, "starlette_ops": s, "tachyon_ops": t})
        print(f"{name:28s} starlette {s:12.0f} ops/s  tachyon {t:12.0f} ops/s  speed-up {t / s:5.2f}x", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "micro.json").write_text(json.dumps({"rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
