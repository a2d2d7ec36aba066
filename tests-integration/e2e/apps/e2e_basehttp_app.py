"""An application behind a BaseHTTPMiddleware (what FastAPI's ``@app.middleware("http")`` builds), for the
end-to-end tests of tests-integration/e2e/test_e2e_basehttp.py: the middleware reads the request body and adds
a header; the endpoints answer plainly, stream, run background tasks, run in the thread pool, fail, and stream
without end (until the client goes away). ``/state`` reports what the background tasks and the endless streams
did.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable

from tachyon import Tachyon
from tachyon.background import BackgroundTask
from tachyon.middleware import Middleware
from tachyon.middleware.base import BaseHTTPMiddleware
from tachyon.requests import Request
from tachyon.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from tachyon.routing import Route

CHUNK = b"x" * 1024
background_done: set[int] = set()
endless_closed: set[str] = set()


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"length": len(body), "sha256": hashlib.sha256(body).hexdigest()})


async def record(number: int) -> None:
    await asyncio.sleep(0)
    background_done.add(number)


async def plain(request: Request) -> Response:
    number = request.path_params["number"]
    return PlainTextResponse(f"plain {number}", background=BackgroundTask(record, number))


async def stream(request: Request) -> Response:
    count = request.path_params["count"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(count):
            await asyncio.sleep(0)
            yield CHUNK

    return StreamingResponse(chunks(), media_type="application/octet-stream")


def in_thread(request: Request) -> Response:
    return PlainTextResponse("from a thread")


async def fail(request: Request) -> Response:
    raise ValueError("the endpoint failed")


async def endless(request: Request) -> Response:
    key = request.query_params["key"]

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while True:
                yield CHUNK
                await asyncio.sleep(0.001)
        finally:
            endless_closed.add(key)

    return StreamingResponse(chunks(), media_type="application/octet-stream")


async def state(request: Request) -> Response:
    return JSONResponse({"background": sorted(background_done), "closed": sorted(endless_closed)})


async def read_body_and_mark(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    body = await request.body()  # read here: the endpoint must still receive it
    response = await call_next(request)
    response.headers["x-middleware-saw"] = str(len(body))
    return response


app = Tachyon(
    routes=[
        Route("/echo", echo, methods=["POST"]),
        Route("/plain/{number:int}", plain),
        Route("/stream/{count:int}", stream),
        Route("/thread", in_thread),
        Route("/fail", fail),
        Route("/endless", endless),
        Route("/state", state),
    ],
    middleware=[Middleware(BaseHTTPMiddleware, dispatch=read_body_and_mark)],
)
