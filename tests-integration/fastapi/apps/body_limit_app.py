"""A FastAPI (>= 0.165) application whose request-body limits are hit while middleware reads the body.

Served by ``test_fastapi_body_limit.py`` with uvicorn twice, on the real Starlette and on Tachyon through
``python -m tachyon.compat``, and used in process by the same tests. Every route answers with the number of
bytes it read; each limit is 10 bytes.
"""

from __future__ import annotations

from fastapi import Body, FastAPI, Request
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

LIMIT = 10


class ReadsBodyFirst(BaseHTTPMiddleware):
    """Reads the whole body in ``dispatch`` before handing the request on (logging/signing middleware do)."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        await request.body()
        return await call_next(request)


class PassesThrough(BaseHTTPMiddleware):
    """Leaves the body to the endpoint, which reads it through the middleware's relay."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)


def _sub_app(middleware: type[BaseHTTPMiddleware], max_body_size: int | None = None) -> FastAPI:
    sub = FastAPI(max_body_size=max_body_size)  # type: ignore[call-arg]  # FastAPI >= 0.165
    sub.add_middleware(middleware)

    @sub.post("/read")
    async def read(request: Request) -> int:
        return len(await request.body())

    return sub


def build() -> FastAPI:
    """``/read`` and ``/body`` under an application limit with a pass-through middleware; ``/mounted`` a
    sub-application whose middleware reads the body against its parent's limit; ``/limited`` a
    sub-application with its own limit."""
    app = FastAPI(max_body_size=LIMIT)  # type: ignore[call-arg]
    app.add_middleware(PassesThrough)

    @app.post("/read")
    async def read(request: Request) -> int:
        return len(await request.body())

    @app.post("/body")
    async def body(payload: bytes = Body()) -> int:
        return len(payload)

    app.mount("/mounted", _sub_app(ReadsBodyFirst))
    app.mount("/limited", _sub_app(PassesThrough, LIMIT))
    return app


app = build()
