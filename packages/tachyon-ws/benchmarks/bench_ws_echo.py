"""In-process WebSocket echo: Tachyon's WebSocket against Starlette 1.10.0's, with a raw-ASGI floor.

Run: python packages/tachyon-ws/benchmarks/bench_ws_echo.py  (needs starlette installed for the comparison)
Each figure is the best of ROUNDS runs of MESSAGES echoes (receive + send) through scripted receive/send
callables, so it measures the connection object's own per-message cost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import starlette.websockets as starlette_websockets
import tachyon_ws.websockets as tachyon_websockets

MESSAGES = 50_000
ROUNDS = 7
JSON_PAYLOAD = '{"a":1,"b":[1,2,3],"c":"hello"}'
SCOPE = {"type": "websocket", "path": "/", "headers": [], "query_string": b""}


def _server(payload: str) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    connect = {"type": "websocket.connect"}
    data = {"type": "websocket.receive", "text": payload}
    pending = [connect]

    async def receive() -> dict[str, Any]:
        return pending.pop() if pending else data

    async def send(message: dict[str, Any]) -> None:
        pass

    return receive, send


async def _raw(kind: str) -> float:
    receive, send = _server(JSON_PAYLOAD if kind == "json" else "x")
    await receive()
    started = time.perf_counter()
    for _ in range(MESSAGES):
        message = await receive()
        await send({"type": "websocket.send", "text": message["text"]})
    return (time.perf_counter() - started) / MESSAGES * 1e9


async def _connection(module: Any, kind: str) -> float:
    receive, send = _server(JSON_PAYLOAD if kind == "json" else "x")
    websocket = module.WebSocket(dict(SCOPE), receive, send)
    await websocket.accept()
    started = time.perf_counter()
    if kind == "text":
        for _ in range(MESSAGES):
            await websocket.send_text(await websocket.receive_text())
    else:
        for _ in range(MESSAGES):
            await websocket.send_json(await websocket.receive_json())
    return (time.perf_counter() - started) / MESSAGES * 1e9


async def main() -> None:
    for kind in ("text", "json"):
        results: dict[str, list[float]] = {"raw": [], "starlette": [], "tachyon": []}
        for _ in range(ROUNDS):  # interleaved, so machine load affects all three alike
            results["raw"].append(await _raw(kind))
            results["starlette"].append(await _connection(starlette_websockets, kind))
            results["tachyon"].append(await _connection(tachyon_websockets, kind))
        best = {name: min(values) for name, values in results.items()}
        print(
            f"{kind:5} echo: raw {best['raw']:6.0f} ns | starlette {best['starlette']:6.0f} ns | "
            f"tachyon {best['tachyon']:6.0f} ns | tachyon is {best['starlette'] / best['tachyon']:.2f}x faster"
        )


if __name__ == "__main__":
    asyncio.run(main())
