"""Instructions per operation for the pieces of a plaintext answer, under callgrind (deterministic).

What a Tachyon endpoint adds to the raw floor besides the route lookup: building ``PlainTextResponse``,
sending it (``await response(scope, receive, send)``), building ``Request(scope, receive, send)``, and, for
comparison, an empty Python class with one attribute and the floor's own two ``send`` calls.

    hatch run bench:python tests-integration/benchmarks/bench_response_pieces.py [--requests 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_fastapi_path import _client_requests, callgrind_per_request

PIECES = [
    "loop alone",
    "an empty class with one attribute",
    "PlainTextResponse('Hello, world!')",
    "JSONResponse({'message': 'Hello, world!'})",
    "await response(scope, receive, send)",
    "the floor's two sends",
    "Request(scope, receive, send)",
]


class _OneAttribute:
    def __init__(self, content: Any) -> None:
        self.content = content


def worker(count: int) -> None:
    from tachyon_http.requests import Request
    from tachyon_http.responses import JSONResponse, PlainTextResponse

    lib = _client_requests()
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": [], "asgi": {}}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: dict[str, Any]) -> None:
        pass

    small = {"message": "Hello, world!"}
    response = PlainTextResponse("Hello, world!")

    async def loop_alone() -> None:
        for _ in range(count):
            pass

    async def one_attribute() -> None:
        for _ in range(count):
            _OneAttribute("Hello, world!")

    async def plaintext() -> None:
        for _ in range(count):
            PlainTextResponse("Hello, world!")

    async def json_small() -> None:
        for _ in range(count):
            JSONResponse(small)

    async def call() -> None:
        for _ in range(count):
            await response(scope, receive, send)

    async def floor_sends() -> None:
        for _ in range(count):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"Hello, world!"})

    async def request() -> None:
        for _ in range(count):
            Request(scope, receive, send)

    pieces: list[Callable[[], Awaitable[None]]] = [
        loop_alone,
        one_attribute,
        plaintext,
        json_small,
        call,
        floor_sends,
        request,
    ]

    async def run() -> None:
        for index, piece in enumerate(pieces):
            await piece()
            lib.tachyon_bench_zero()
            await piece()
            lib.tachyon_bench_dump(f"endpoint-{index}".encode())

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="operations per piece")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.requests)
        return
    command = [sys.executable, __file__, "--worker", "--requests", str(args.requests)]
    counts = callgrind_per_request(command, PIECES, args.requests)
    print("instructions per operation (callgrind; the loop's own share included)")
    print("| piece | instructions |\n|---|---:|")
    for name in PIECES:
        print(f"| {name} | {counts[name]:,.0f} |")


if __name__ == "__main__":
    main()
