"""The benchmark application, written against Starlette.

The Tachyon variant is NOT a separate file: `apps/__init__.py` derives it from this source by changing the
imports (`starlette` -> `tachyon`, `Starlette` -> `Tachyon`) and nothing else — exactly the migration a user
makes. Keep this file free of anything but ordinary Starlette code.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

SMALL = {"message": "Hello, world!"}
# About 1 KiB once encoded: a list of records, as an API listing would return.
KIB = {
    "items": [
        {"id": i, "name": f"item-{i}", "price": 10.5 + i, "tags": ["a", "b"], "active": i % 2 == 0} for i in range(14)
    ]
}


async def plaintext(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, world!")


async def json_small(request: Request) -> JSONResponse:
    return JSONResponse(SMALL)


async def json_kib(request: Request) -> JSONResponse:
    return JSONResponse(KIB)


async def resource(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def query(request: Request) -> JSONResponse:
    params = request.query_params
    return JSONResponse({"q": params["q"], "page": int(params["page"]), "tags": params.getlist("tag")})


async def echo(request: Request) -> JSONResponse:
    return JSONResponse(await request.json())


async def form(request: Request) -> JSONResponse:
    async with request.form() as data:
        return JSONResponse({key: str(value) for key, value in data.items()})


async def upload(request: Request) -> JSONResponse:
    async with request.form(max_part_size=2 * 1024 * 1024) as data:
        upload = data["file"]
        size = 0
        while chunk := await upload.read(64 * 1024):  # type: ignore[union-attr]
            size += len(chunk)
        return JSONResponse({"size": size})


async def ws_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    message = await websocket.receive_text()
    await websocket.send_text(message)
    await websocket.close()


class AddHeader:
    """A pure ASGI middleware that adds a response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-bench", b"1"))
            await send(message)

        await self.app(scope, receive, send_with_header)


class CountRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.count += 1
        await self.app(scope, receive, send)


class ScopeTag:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["tagged"] = True
        await self.app(scope, receive, send)


async def passthrough(request: Request, call_next: RequestResponseEndpoint) -> Response:
    """The most common ``@app.middleware("http")`` shape: do something around call_next."""
    response = await call_next(request)
    response.headers["x-dispatch"] = "1"
    return response


STACK_ORIGIN = "https://app.example.com"
STACK = [
    Middleware(CORSMiddleware, allow_origins=[STACK_ORIGIN], allow_methods=["GET", "POST"]),
    Middleware(GZipMiddleware),
    Middleware(AddHeader),
    Middleware(CountRequests),
]


def resource_routes(groups: int = 30) -> list[Route]:
    """Starlette's own routing benchmark table: 4 routes per group, 120 routes for 30 groups."""
    routes: list[Route] = []
    for i in range(groups):
        routes += [
            Route(f"/resources{i}", resource, methods=["GET", "POST"]),
            Route(f"/resources{i}/{{id:int}}", resource, methods=["GET", "PUT", "DELETE"]),
            Route(f"/resources{i}/{{id:int}}/items", resource, methods=["GET", "POST"]),
            Route(f"/resources{i}/{{id:int}}/items/{{item}}", resource, methods=["GET"]),
        ]
    return routes


routes = [
    Route("/", plaintext),
    Route("/json", json_small),
    Route("/json-1k", json_kib),
    Route("/query", query),
    Route("/echo", echo, methods=["POST"]),
    Route("/form", form, methods=["POST"]),
    Route("/upload", upload, methods=["POST"]),
    WebSocketRoute("/ws", ws_echo),
    Mount(
        "/mw",
        routes=[Route("/", plaintext)],
        middleware=[Middleware(AddHeader), Middleware(CountRequests), Middleware(ScopeTag)],
    ),
    Mount("/stack", routes=[Route("/", plaintext)], middleware=STACK),
    Mount(
        "/stack-base",
        routes=[Route("/", plaintext)],
        middleware=[*STACK, Middleware(BaseHTTPMiddleware, dispatch=passthrough)],
    ),
    *resource_routes(),
]

app = Starlette(routes=routes)
