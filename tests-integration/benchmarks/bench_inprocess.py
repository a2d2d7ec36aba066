"""In-process benchmark: µs per request calling each ASGI app directly.

Every call gets a fresh scope and receive callable. Every round visits every scenario and every framework
(both orders rotating) in short batches; each is warmed first and the best batch is kept, so machine noise
hits all cells alike. Ratios are computed from figures measured in this same run.

    python tests-integration/benchmarks/bench_inprocess.py [--rounds 15] [--target-ms 20] [-k SUBSTRING]
    python tests-integration/benchmarks/bench_inprocess.py --instructions [-k SUBSTRING] [--framework NAME]
    python tests-integration/benchmarks/bench_inprocess.py --profile tachyon -k "middleware stack"

``--instructions``: each framework runs in a process of its own under valgrind's callgrind; per scenario, after
a warm-up, the counters are zeroed, N requests made through the same ``batch`` as the timed run and the counters
dumped (``bench_fastapi_path.callgrind_per_request``), so the figure is instructions per request, the harness's
own share included as in the timings, and deterministic on a loaded machine. ``--profile FRAMEWORK``: cProfile's
own time per function for each chosen scenario, C builtins charged to the Python function that called them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import FRAMEWORKS, expected_status, load, start, supports
from scenarios import SCENARIOS, Scenario

RESULTS = Path(__file__).resolve().parent / "results"
PROFILED_REQUESTS = 20_000


class Receiver:
    __slots__ = ("chunks", "index", "websocket", "text")

    def __init__(self, scenario: Scenario) -> None:
        self.chunks = scenario.chunks
        self.websocket = scenario.websocket
        self.index = 0

    async def __call__(self) -> dict[str, Any]:
        i = self.index
        self.index = i + 1
        if self.websocket:
            if i == 0:
                return {"type": "websocket.connect"}
            if i == 1:
                return {"type": "websocket.receive", "text": "ping"}
            return {"type": "websocket.disconnect", "code": 1000}
        if i < len(self.chunks):
            return {"type": "http.request", "body": self.chunks[i], "more_body": i + 1 < len(self.chunks)}
        # The app asked for more than the body: behave like a server whose client went away.
        await asyncio.sleep(0)
        return {"type": "http.disconnect"}


def make_scope(scenario: Scenario) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "websocket" if scenario.websocket else "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws" if scenario.websocket else "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": scenario.path,
        "raw_path": scenario.path.encode(),
        "query_string": scenario.query_string,
        "headers": scenario.headers(),
    }
    if not scenario.websocket:
        scope["method"] = scenario.method
    return scope


def check(framework: str, scenario: Scenario, messages: list[dict[str, Any]]) -> None:
    if scenario.websocket:
        kinds = [m["type"] for m in messages]
        ok = kinds[:2] == ["websocket.accept", "websocket.send"] and messages[1].get("text") == "ping"
    else:
        wanted = expected_status(framework, scenario.name, scenario.expected_status)
        ok = bool(messages) and messages[0].get("status") == wanted
    if not ok:
        raise SystemExit(f"{framework} answered {scenario.name!r} wrongly: {messages[:2]!r}")


async def batch(app: Any, scenario: Scenario, n: int) -> float:
    """Run n requests; return the mean µs per request."""
    template = make_scope(scenario)
    headers = template["headers"]
    messages: list[dict[str, Any]] = []
    append = messages.append

    async def send(message: dict[str, Any]) -> None:
        append(message)

    start = time.perf_counter_ns()
    for _ in range(n):
        messages.clear()
        scope = dict(template)
        scope["headers"] = list(headers)
        await app(scope, Receiver(scenario), send)
    elapsed = time.perf_counter_ns() - start
    return elapsed / n / 1000.0


async def calibrate(apps: dict[str, Any], scenario: Scenario, target_ms: float) -> dict[str, int]:
    """Warm each app up on the scenario (lazy stacks, caches, specialisation), check its answer, size a batch."""
    sizes: dict[str, int] = {}
    for name, app in apps.items():
        if not supports(name, scenario.name):
            continue
        template = make_scope(scenario)
        messages: list[dict[str, Any]] = []

        async def send(message: dict[str, Any], _m: list[dict[str, Any]] = messages) -> None:
            _m.append(message)

        await app(dict(template, headers=list(template["headers"])), Receiver(scenario), send)
        check(name, scenario, messages)
        per_call = await batch(app, scenario, 20)
        sizes[name] = max(20, int(target_ms * 1000 / max(per_call, 0.01)))
    return sizes


async def measure(
    apps: dict[str, Any], scenarios: list[Scenario], rounds: int, target_ms: float
) -> dict[str, dict[str, float]]:
    """Best µs per request of every (scenario, app). Each round visits every scenario and every app, both
    orders rotating, in short batches: machine noise then hits all cells alike, so ratios between scenarios
    (last route vs first route) are as meaningful as ratios between frameworks."""
    for name, app in apps.items():
        await start(name, app)
    sizes = {scenario.name: await calibrate(apps, scenario, target_ms) for scenario in scenarios}
    best = {scenario.name: dict.fromkeys(sizes[scenario.name], float("inf")) for scenario in scenarios}
    names = list(apps)
    for r in range(rounds):
        shift = r % len(scenarios)
        for scenario in scenarios[shift:] + scenarios[:shift]:
            cells = best[scenario.name]
            for name in names[r % len(names) :] + names[: r % len(names)]:
                if name not in cells:
                    continue
                cells[name] = min(cells[name], await batch(apps[name], scenario, sizes[scenario.name][name]))
    return best


def instructions_worker(framework: str, names: list[str], requests: int) -> None:
    """Under callgrind: for each scenario, warm up and check, zero the counters, N requests, dump."""
    from bench_fastapi_path import _client_requests

    lib = _client_requests()
    app = load(framework)
    chosen = [next(s for s in SCENARIOS if s.name == name) for name in names]

    async def run() -> None:
        await start(framework, app)
        for i, scenario in enumerate(chosen):
            await calibrate({framework: app}, scenario, 1.0)
            await batch(app, scenario, 100)
            lib.tachyon_bench_zero()
            await batch(app, scenario, requests)
            lib.tachyon_bench_dump(f"endpoint-{i}".encode())

    asyncio.run(run())


def instructions(frameworks: list[str], scenarios: list[Scenario], requests: int) -> dict[str, dict[str, float]]:
    """Instructions per request of every (scenario, framework), one callgrind process per framework."""
    from bench_fastapi_path import callgrind_per_request

    found: dict[str, dict[str, float]] = {s.name: {} for s in scenarios}
    for framework in frameworks:
        load(framework)  # to learn which scenarios its app serves
        names = [s.name for s in scenarios if supports(framework, s.name)]
        worker = [sys.executable, __file__, "--worker", framework, "--requests", str(requests), "--names", *names]
        for name, count in callgrind_per_request(worker, names, requests).items():
            found[name][framework] = count
    return found


def _function_label(filename: str, line: int, name: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return name
    parts = Path(filename).parts
    for anchor in ("site-packages", "src", "benchmarks", "lib"):
        if anchor in parts:
            parts = parts[len(parts) - parts[::-1].index(anchor) :]
            break
    return f"{'/'.join(parts)}:{line}({name})"


def profile(framework: str, scenario: Scenario, requests: int) -> tuple[float, list[tuple[str, float, float]]]:
    """cProfile's own time per Python function over ``requests`` requests (C builtins charged to their callers):
    the total in µs per request (profiler included) and (function, share of the total, calls per request)."""
    import cProfile
    import pstats

    app = load(framework)
    profiler = cProfile.Profile()

    async def run() -> None:
        await start(framework, app)
        await calibrate({framework: app}, scenario, 1.0)
        await batch(app, scenario, 500)
        profiler.enable()
        await batch(app, scenario, requests)
        profiler.disable()

    asyncio.run(run())
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    own: dict[str, float] = {}
    calls: dict[str, float] = {}
    for (filename, line, name), (_, count, tottime, _, callers) in stats.items():
        label = _function_label(filename, line, name)
        if filename == "~":
            for caller, entry in callers.items():
                caller_label = _function_label(*caller)
                own[caller_label] = own.get(caller_label, 0.0) + entry[2]
        else:
            own[label] = own.get(label, 0.0) + tottime
            calls[label] = calls.get(label, 0.0) + count / requests
    total = sum(own.values())
    rows = [(label, 100 * value / total, calls.get(label, 0.0)) for label, value in own.items()]
    rows.sort(key=lambda row: -row[1])
    return total / requests * 1e6, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--target-ms", type=float, default=20.0, help="duration of one timed batch")
    parser.add_argument("-k", default="", help="only scenarios whose name contains this")
    parser.add_argument("--instructions", action="store_true", help="count instructions under callgrind instead")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per cell (--instructions)")
    parser.add_argument("--framework", action="append", choices=FRAMEWORKS, help="only this framework (repeatable)")
    parser.add_argument("--profile", choices=FRAMEWORKS, help="cProfile this framework's functions instead")
    parser.add_argument("--top", type=int, default=25, help="functions listed by --profile")
    parser.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    parser.add_argument("--names", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    scenarios = [scenario for scenario in SCENARIOS if args.k in scenario.name]
    load_average = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if os.path.exists("/proc/loadavg") else "?"
    if args.worker:
        instructions_worker(args.worker, args.names, args.requests)
        return
    if args.profile:
        for scenario in scenarios:
            per_request, rows = profile(args.profile, scenario, PROFILED_REQUESTS)
            label = f"{args.profile}, {scenario.name}"
            print(f"\n{label}: {per_request:.2f} µs/request under cProfile (load {load_average})")
            print(f"{'own %':>6s} {'calls/req':>9s}  function (C builtins charged to their caller)")
            for label, share, count in rows[: args.top]:
                print(f"{share:6.1f} {count:9.2f}  {label}")
        return
    if args.instructions:
        frameworks = args.framework or list(FRAMEWORKS)
        found = instructions(frameworks, [s for s in scenarios if not s.websocket], args.requests)
        print(f"instructions per request in process (callgrind, {args.requests} requests per cell)")
        ratio_heads = " | ".join(f"{f} / raw" for f in frameworks[1:])
        print("| scenario | " + " | ".join(frameworks) + " | " + ratio_heads + " |")
        print("|---|" + "---:|" * (2 * len(frameworks) - 1))
        for name, cells in found.items():
            counts = " | ".join(f"{cells[f]:,.0f}" if f in cells else "n/a" for f in frameworks)
            raw = cells.get("raw")
            ratios = " | ".join(f"{cells[f] / raw:.2f}×" if f in cells and raw else "" for f in frameworks[1:])
            print(f"| {name} | {counts} | {ratios} |")
        return

    apps = {name: load(name) for name in FRAMEWORKS}
    import starlette
    import tachyon_router

    found = asyncio.run(measure(apps, scenarios, args.rounds, args.target_ms))
    rows = []
    for scenario in scenarios:
        best = found[scenario.name]
        rows.append({"scenario": scenario.name, **{f"{k}_us": v for k, v in best.items()}})
        cells = "  ".join(f"{name} {best[name]:7.2f}" if name in best else f"{name}    n/a" for name in FRAMEWORKS)
        ratios = "  ".join(f"{name}/raw {best[name] / best['raw']:5.2f}x" for name in FRAMEWORKS[1:] if name in best)
        print(f"{scenario.name:40s} µs: {cells}   {ratios}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "python": sys.version.split()[0],
        "starlette": starlette.__version__,
        "router_backend": tachyon_router.backend,
        "rounds": args.rounds,
        "target_ms": args.target_ms,
    }
    (RESULTS / "inprocess.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
