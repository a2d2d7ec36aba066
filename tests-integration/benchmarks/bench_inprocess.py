"""In-process benchmark: µs per request calling each ASGI app directly.

Every call gets a fresh scope and receive callable. Every round visits every scenario and every framework
(both orders rotating) in short batches; each is warmed first and the best batch is kept, so machine noise
hits all cells alike. Ratios are computed from figures measured in this same run.

    python tests-integration/benchmarks/bench_inprocess.py [--rounds 15] [--target-ms 20] [-k SUBSTRING]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import FRAMEWORKS, expected_status, load, start, supports
from scenarios import SCENARIOS, Scenario

RESULTS = Path(__file__).resolve().parent / "results"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--target-ms", type=float, default=20.0, help="duration of one timed batch")
    parser.add_argument("-k", default="", help="only scenarios whose name contains this")
    args = parser.parse_args()

    apps = {name: load(name) for name in FRAMEWORKS}
    import starlette
    import tachyon_router

    scenarios = [scenario for scenario in SCENARIOS if args.k in scenario.name]
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
