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
    python tests-integration/benchmarks/bench_basehttp.py --layers [--instructions] [--side tachyon]

``--layers``: the stack built up one layer at a time, to attribute each layer's cost: the raw endpoint and a
one-route app (Starlette's or Tachyon's, from the suite's app module) bare, inside the two user middlewares,
then + CORS, + GZip, + both (the stack, as application middleware), the stack on a Mount (as in the suite's
scenario) and the suite's app itself; the same for the "3 middlewares" scenario (application middleware, a
Mount without and with them), and BlackSheep's app with and without its middleware. The raw endpoint is
wrapped in the same side's CORS and GZip classes, which gives those middlewares' own cost; plaintext is also
built up from the raw endpoint (the side's ``PlainTextResponse``, then its ``Request`` and the endpoint). With
``--instructions`` each side runs in one process under callgrind, counters zeroed and dumped around each cell's
requests (``bench_fastapi_path.callgrind_per_request``).
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

from apps import load, module, start  # noqa: E402
from bench_inprocess import batch, calibrate  # noqa: E402
from scenarios import SCENARIOS, STACK_HEADERS, Scenario  # noqa: E402

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


# The layer-by-layer cells (--layers): requests as the suite's scenarios make them.
LAYER_SIDES = ("starlette", "tachyon", "blacksheep")
STACK_LAYERS = (
    ("endpoint", ()),
    ("2 user middlewares", ("user",)),
    ("CORS + 2 user", ("cors", "user")),
    ("GZip + 2 user", ("gzip", "user")),
    ("CORS + GZip + 2 user (the stack)", ("cors", "gzip", "user")),
)
ROOT_WITH_STACK_HEADERS = Scenario("layers: /", "/", extra_headers=STACK_HEADERS)
MOUNTED_STACK = Scenario("layers: /stack/", "/stack/", extra_headers=STACK_HEADERS)
PLAIN_ROOT = Scenario("layers: / plain", "/")


def _wrap(app: Any, middleware: list[Any]) -> Any:
    for cls, args, kwargs in reversed(middleware):
        app = cls(app, *args, **kwargs)
    return app


def layer_cells(side: str) -> dict[str, tuple[Any, Scenario]]:
    """The cells of --layers for one side: label -> (ASGI app, scenario)."""
    cells: dict[str, tuple[Any, Scenario]] = {}
    suite = load(side)
    if side == "blacksheep":
        from apps import blacksheep_app as bs
        from blacksheep import Application
        from blacksheep.server.routing import Router

        for label, with_middleware in (("app, /mw/ route alone", False), ("app, /mw/ route + its middleware", True)):
            app = Application(router=Router())
            app.router.add_get("/mw/", bs.mw_plaintext)
            if with_middleware:
                app.middlewares.append(bs.middlewares_under_mw)
            cells[label] = (app, scenario("3 middlewares"))
        cells["suite app: 3 middlewares"] = (suite, scenario("3 middlewares"))
        cells["suite app: plaintext"] = (suite, scenario("plaintext"))
        return cells
    from apps.raw_app import _plaintext

    m = module(side)
    application = getattr(m, "Tachyon", None) or m.Starlette
    middleware, route, mount = m.Middleware, m.Route, m.Mount
    named = {
        "cors": [middleware(m.CORSMiddleware, allow_origins=[m.STACK_ORIGIN], allow_methods=["GET", "POST"])],
        "gzip": [middleware(m.GZipMiddleware)],
        "user": [middleware(m.AddHeader), middleware(m.CountRequests)],
    }
    response_class, request_class, endpoint = m.PlainTextResponse, m.Request, m.plaintext

    async def raw_with_response(scope: Any, receive: Any, send: Any) -> None:
        await response_class("Hello, world!")(scope, receive, send)

    async def raw_with_request_and_endpoint(scope: Any, receive: Any, send: Any) -> None:
        response = await endpoint(request_class(scope, receive, send))
        await response(scope, receive, send)

    # Plaintext piece by piece: the raw endpoint, then the side's Response, then its Request and the endpoint.
    cells["raw ASGI answering with the side's PlainTextResponse"] = (raw_with_response, ROOT_WITH_STACK_HEADERS)
    cells["raw ASGI + Request + the endpoint (no routing)"] = (raw_with_request_and_endpoint, ROOT_WITH_STACK_HEADERS)
    bare = application(routes=[route("/", m.plaintext)])
    lookup = getattr(bare.router, "fast_path_lookup", None)
    if lookup is not None:  # Tachyon: the route lookup its fast path makes, without the rest of the fast path

        async def raw_with_lookup(scope: Any, receive: Any, send: Any) -> None:
            lookup(scope)
            response = await endpoint(request_class(scope, receive, send))
            await response(scope, receive, send)

        label = "raw ASGI + Router.fast_path_lookup + Request + the endpoint"
        cells[label] = (raw_with_lookup, ROOT_WITH_STACK_HEADERS)
    for label, parts in STACK_LAYERS:
        stack = [layer for part in parts for layer in named[part]]
        cells[f"raw endpoint + {label}"] = (_wrap(_plaintext, stack), ROOT_WITH_STACK_HEADERS)
        app = application(routes=[route("/", m.plaintext)], middleware=stack)
        cells[f"app + {label}"] = (app, ROOT_WITH_STACK_HEADERS)
    app = application(routes=[mount("/stack", routes=[route("/", m.plaintext)], middleware=m.STACK)])
    cells["app, the stack on a Mount"] = (app, MOUNTED_STACK)
    cells["suite app: middleware stack"] = (suite, scenario(STACK))
    three = [middleware(m.AddHeader), middleware(m.CountRequests), middleware(m.ScopeTag)]
    cells["raw endpoint + 3 user middlewares"] = (_wrap(_plaintext, three), PLAIN_ROOT)
    cells["app + 3 user middlewares"] = (application(routes=[route("/", m.plaintext)], middleware=three), PLAIN_ROOT)
    for label, layers in (("app, Mount without middleware", None), ("app, Mount + 3 user middlewares", three)):
        app = application(routes=[mount("/mw", routes=[route("/", m.plaintext)], middleware=layers)])
        cells[label] = (app, scenario("3 middlewares"))
    cells["suite app: 3 middlewares"] = (suite, scenario("3 middlewares"))
    cells["suite app: plaintext"] = (suite, scenario("plaintext"))
    return cells


async def _ready(side: str, cells: dict[str, tuple[Any, Scenario]]) -> None:
    """Start (BlackSheep), warm up and check every cell's answer."""
    for app, cell_scenario in cells.values():
        await start(side, app)
        await calibrate({side: app}, cell_scenario, 1.0)


def layers_worker(side: str, requests: int) -> None:
    """Under callgrind: zero the counters, N requests, dump, for each cell of the side."""
    from bench_fastapi_path import _client_requests

    lib = _client_requests()
    cells = layer_cells(side)

    async def run() -> None:
        await _ready(side, cells)
        for i, (app, cell_scenario) in enumerate(cells.values()):
            await batch(app, cell_scenario, 100)
            lib.tachyon_bench_zero()
            await batch(app, cell_scenario, requests)
            lib.tachyon_bench_dump(f"endpoint-{i}".encode())

    asyncio.run(run())


async def _timed_layers(side: str, cells: dict[str, tuple[Any, Scenario]], rounds: int) -> dict[str, float]:
    await _ready(side, cells)
    sizes = {key: max(50, int(20_000 / await batch(app, sc, 200))) for key, (app, sc) in cells.items()}
    best = dict.fromkeys(cells, float("inf"))
    keys = list(cells)
    for r in range(rounds):
        for key in keys[r % len(keys) :] + keys[: r % len(keys)]:
            app, cell_scenario = cells[key]
            best[key] = min(best[key], await batch(app, cell_scenario, sizes[key]))
    return best


def layers(sides: list[str], rounds: int, requests: int, count: bool) -> None:
    from bench_fastapi_path import callgrind_per_request

    for side in sides:
        cells = layer_cells(side)
        if count:
            worker = [sys.executable, __file__, "--layers-worker", side, "--requests", str(requests)]
            figures = callgrind_per_request(worker, list(cells), requests)
            unit = "instructions/request"
        else:
            figures = asyncio.run(_timed_layers(side, cells, rounds))
            unit = "µs/request"
        print(f"\n{side} ({unit})")
        for label in cells:
            print(f"  {label:45s} {figures[label]:12,.2f}", flush=True)


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
    parser.add_argument("--layers", action="store_true", help="the stack built up one layer at a time instead")
    parser.add_argument("--side", action="append", choices=LAYER_SIDES, help="--layers: only this side")
    parser.add_argument("--requests", type=int, default=300, help="--layers --instructions: requests per cell")
    parser.add_argument("--layers-worker", choices=LAYER_SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.layers_worker:
        layers_worker(args.layers_worker, args.requests)
    elif args.layers:
        layers(args.side or list(LAYER_SIDES), args.rounds, args.requests, args.instructions)
    elif args.child:
        child(args.child[0], args.child[1], int(args.child[2]), args.baseline)
    elif args.instructions:
        report(instructions(args.baseline), "instructions/request", args.baseline)
    else:
        report(asyncio.run(timed(args.rounds, args.baseline)), "µs", args.baseline)


if __name__ == "__main__":
    main()
