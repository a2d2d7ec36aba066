"""Requests per second through the blocking TestClient: Tachyon's against Starlette 1.10.0's.

Run: python packages/tachyon-testclient/benchmarks/bench_testclient.py  (needs starlette installed)
Both clients drive the same raw ASGI app; "inside with" shares the lifespan's event loop, "no with" starts an
event loop per request (both clients' documented behaviour). Best of ROUNDS runs, interleaved.
"""

from __future__ import annotations

import time
from typing import Any

import starlette.testclient as starlette_testclient
import tachyon_testclient.testclient as tachyon_testclient

ROUNDS = 5
REQUESTS_INSIDE_WITH = 1000
REQUESTS_WITHOUT_WITH = 100


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


def _per_request(module: Any, inside_with: bool) -> float:
    client = module.TestClient(app)
    count = REQUESTS_INSIDE_WITH if inside_with else REQUESTS_WITHOUT_WITH
    if inside_with:
        with client:
            client.get("/")
            started = time.perf_counter()
            for _ in range(count):
                client.get("/")
            return (time.perf_counter() - started) / count * 1e6
    client.get("/")
    started = time.perf_counter()
    for _ in range(count):
        client.get("/")
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    for inside_with in (True, False):
        results: dict[str, list[float]] = {"starlette": [], "tachyon": []}
        for _ in range(ROUNDS):
            results["starlette"].append(_per_request(starlette_testclient, inside_with))
            results["tachyon"].append(_per_request(tachyon_testclient, inside_with))
        starlette, tachyon = min(results["starlette"]), min(results["tachyon"])
        label = "inside with" if inside_with else "no with"
        print(
            f"{label:11}: starlette {starlette:7.0f} us/request | tachyon {tachyon:7.0f} us/request | "
            f"tachyon is {starlette / tachyon:.2f}x faster"
        )


if __name__ == "__main__":
    main()
