"""BaseHTTPMiddleware (what FastAPI's ``@app.middleware("http")`` builds) under real servers, with concurrent clients.

On asyncio, ``call_next`` steps the application in place as a task of its own (tachyon/middleware/base.py);
these tests check, through uvicorn, hypercorn and granian processes, what a client and the application can
observe: every response whole and in order under concurrency, the body read by the middleware still reaching
the endpoint, streamed responses, background tasks run after their responses, sync endpoints in the thread
pool, a failing endpoint answered with a 500 without harming the other requests, and a streaming endpoint
closed when its client goes away.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from collections.abc import Callable, Iterator, Sequence

import e2e_processes as processes  # apps/e2e_processes.py, registered by conftest.py
import httpx
import pytest

APP = "e2e_basehttp_app:app"
CONCURRENT = 24  # requests of each kind in flight at once


def _uvicorn(port: int) -> Sequence[str]:
    return [
        sys.executable, "-m", "uvicorn", APP, "--host", processes.HOST, "--port", str(port),
        "--app-dir", str(processes.APPS_DIR), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


def _hypercorn(port: int) -> Sequence[str]:
    return [
        sys.executable, "-m", "hypercorn", APP, "--bind", f"{processes.HOST}:{port}", "--log-level", "warning",
    ]  # fmt: skip


def _granian(port: int) -> Sequence[str]:
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", APP, "--host", processes.HOST, "--port", str(port),
        "--working-dir", str(processes.APPS_DIR), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


SERVERS: dict[str, Callable[[int], Sequence[str]]] = {"uvicorn": _uvicorn, "hypercorn": _hypercorn, "granian": _granian}


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[processes.ServerProcess]:
    started = processes.ServerProcess.start(
        SERVERS[request.param], cwd=processes.APPS_DIR, name=f"{request.param} serving {APP}"
    )
    try:
        yield started
    finally:
        started.stop()


def _state(server: processes.ServerProcess) -> dict[str, list[object]]:
    result: dict[str, list[object]] = httpx.get(f"{server.base_url}/state", timeout=processes.IO_TIMEOUT).json()
    return result


async def _mixed_load(base_url: str) -> None:
    limits = httpx.Limits(max_connections=CONCURRENT * 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=processes.IO_TIMEOUT, limits=limits) as client:

        async def echo(number: int) -> None:
            body = bytes([number % 256]) * (number * 997 + 1)
            response = await client.post("/echo", content=body)
            assert response.status_code == 200
            assert response.json() == {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            assert response.headers["x-middleware-saw"] == str(len(body))

        async def plain(number: int) -> None:
            response = await client.get(f"/plain/{number}")
            assert (response.status_code, response.text) == (200, f"plain {number}")
            assert response.headers["x-middleware-saw"] == "0"

        async def stream(number: int) -> None:
            response = await client.get(f"/stream/{number + 1}")
            assert response.status_code == 200
            assert response.content == b"x" * 1024 * (number + 1)

        async def thread(number: int) -> None:
            response = await client.get("/thread")
            assert (response.status_code, response.text) == (200, "from a thread")

        async def fail(number: int) -> None:
            # The server closes the connection after re-raising the endpoint's error (the 500 already went
            # out); "Connection: close" keeps the client from reusing it for another request in the meantime.
            response = await client.get("/fail", headers={"connection": "close"})
            assert response.status_code == 500

        jobs = [kind(number) for number in range(CONCURRENT) for kind in (echo, plain, stream, thread, fail)]
        await asyncio.gather(*jobs)


def test_concurrent_requests_through_the_middleware(server: processes.ServerProcess) -> None:
    asyncio.run(_mixed_load(server.base_url))
    # Every background task ran (after its response was sent: the client already has them all).
    server.wait_for(
        lambda: set(range(CONCURRENT)) <= set(_state(server)["background"]),  # type: ignore[arg-type]
        f"the background tasks of the {CONCURRENT} plain requests to have run",
    )


def test_a_client_leaving_an_endless_stream_closes_it(server: processes.ServerProcess) -> None:
    keys = [f"client-{number}" for number in range(4)]
    with httpx.Client(base_url=server.base_url, timeout=processes.IO_TIMEOUT) as client:
        for key in keys:
            with client.stream("GET", "/endless", params={"key": key}) as response:
                assert response.status_code == 200
                assert len(next(response.iter_raw())) > 0
            # Leaving the block closes the connection: the client has gone away mid-stream.
    server.wait_for(
        lambda: set(keys) <= set(_state(server)["closed"]),  # type: ignore[arg-type]
        "every endless stream to be closed after its client went away",
    )
    # The server still answers.
    assert httpx.get(f"{server.base_url}/plain/7", timeout=processes.IO_TIMEOUT).text == "plain 7"
