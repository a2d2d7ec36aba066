"""tachyon._fastpath: the application runs ExceptionMiddleware -> Router -> a plain route's endpoint as one
coroutine, with ServerErrorMiddleware too when there is no user middleware. These tests pin that it answers
exactly as the same application forced through the layers does, message for message, in every way an endpoint,
a response, a handler or a send can fail, with and without user middleware around it, and that rewiring any
layer turns it off."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from tachyon._fastpath import FastPath
from tachyon.applications import Tachyon
from tachyon.exceptions import HTTPException
from tachyon.middleware import Middleware
from tachyon.middleware.cors import CORSMiddleware
from tachyon.middleware.errors import ServerErrorMiddleware
from tachyon.middleware.exceptions import ExceptionMiddleware
from tachyon.middleware.gzip import GZipMiddleware
from tachyon.requests import Request
from tachyon.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from tachyon.routing import Mount, Route, Router
from tachyon.types import ASGIApp, Message, Receive, Scope, Send
from tachyon_router.convertors import Convertor, register_url_convertor

pytestmark = pytest.mark.anyio


class PassThrough:
    """A user middleware that changes nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class AddHeader:
    """A user middleware that wraps ``send`` (so that the layers below see another send than the server's)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), (b"x-tag", b"1")]}
            await send(message)

        await self.app(scope, receive, tagged)


class Recover:
    """A user middleware that answers what escapes from below with its own 503, unless the response started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Other:
            if started:
                raise
            await PlainTextResponse("recovered", status_code=503)(scope, receive, send)


class Boom(Exception):
    pass


class Other(Exception):
    pass


async def ok(request: Request) -> Response:
    return JSONResponse({"id": request.path_params.get("id"), "route": request.scope["route"].path})


async def raises(request: Request) -> Response:
    raise Boom("endpoint")


async def raises_http(request: Request) -> Response:
    raise HTTPException(status_code=418, detail="teapot", headers={"x-why": "tea"})


async def streams_then_fails(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        raise Boom("mid-stream")

    return StreamingResponse(body())


def returns_asgi_app_failing_before_start(request: Request) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise Boom("before start")

    return app


async def boom_handler(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"handled {exc}", status_code=409)


async def failing_handler(request: Request, exc: Exception) -> Response:
    raise Other("in handler")


async def server_error_handler(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"server error: {type(exc).__name__}", status_code=500)


class ExplodingConvertor(Convertor[str]):
    regex = "[a-z]+"

    def convert(self, value: str) -> str:
        raise Boom(f"cannot convert {value}")

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("explode", ExplodingConvertor())

ROUTES = [
    Route("/ok/{id:int}", ok),
    Route("/convert/{v:explode}", ok),
    Route("/methods/{id:int}", ok, methods=["PUT", "PATCH"]),
    Route("/raises", raises),
    Route("/http", raises_http),
    Route("/stream", streams_then_fails),
    Route("/asgi", returns_asgi_app_failing_before_start),
]

HANDLER_SETS: dict[str, dict[Any, Callable[..., Any]]] = {
    "none": {},
    "boom handled": {Boom: boom_handler},
    "handler fails": {Boom: failing_handler},
    "server error handler": {Exception: server_error_handler},
    "status handler": {418: boom_handler},
    "404 handler": {404: boom_handler},
    "404 handler fails": {404: failing_handler},
    "405 handler": {405: boom_handler},
}


async def transcript(app: Any, asgi: types.SimpleNamespace, path: str, fail_on: str | None = None) -> Any:
    """The messages the app sent and the exception that escaped it (type and text), for comparison."""
    messages: list[Message] = []

    received = False

    async def receive() -> Message:
        nonlocal received
        if received:
            return {"type": "http.disconnect"}
        received = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if fail_on is not None and message["type"] == fail_on:
            raise Other("send failed")
        messages.append(message)

    escaped = None
    try:
        await app(asgi.http_scope(path), receive, send)
    except Exception as exc:
        escaped = (type(exc).__name__, str(exc))
    return messages, escaped


# The middleware around the fast path: none (it then runs ServerErrorMiddleware too), pure-ASGI user middleware,
# the built-in ones, and a body limit.
STACKS: dict[str, dict[str, Any]] = {
    "default": {},
    "pass-through": {"middleware": [Middleware(PassThrough)]},
    "send wrapped": {"middleware": [Middleware(PassThrough), Middleware(AddHeader)]},
    "recovering": {"middleware": [Middleware(Recover), Middleware(AddHeader)]},
    "cors and gzip": {
        "middleware": [
            Middleware(CORSMiddleware, allow_origins=["*"]),
            Middleware(GZipMiddleware, minimum_size=1),
            Middleware(PassThrough),
        ]
    },
    "body limit": {"max_body_size": 1024},
}


def fast_app(handlers: dict[Any, Any], stack: str = "default") -> Tachyon:
    app = Tachyon(routes=ROUTES, exception_handlers=handlers, **STACKS[stack])
    app.middleware_stack = app.build_middleware_stack()
    return app


def layered_app(handlers: dict[Any, Any], stack: str = "default") -> Tachyon:
    """The same application with the fast path refused at build: every layer runs as a coroutine of its own."""
    app = Tachyon(routes=ROUTES, exception_handlers=handlers, **STACKS[stack])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FastPath, "attach", classmethod(lambda cls, *layers: None))
        app.middleware_stack = app.build_middleware_stack()
    return app


def exception_layer(app: Tachyon) -> ExceptionMiddleware:
    """The ExceptionMiddleware of a built application, found by walking the ``app`` attributes of its layers."""
    layer: Any = app.middleware_stack
    while type(layer) is not ExceptionMiddleware:
        layer = layer.app
    return layer


@pytest.mark.parametrize("stack", list(STACKS))
@pytest.mark.parametrize("handlers", list(HANDLER_SETS), ids=list(HANDLER_SETS))
@pytest.mark.parametrize(
    "path",
    ["/ok/7", "/ok/7/", "/raises", "/http", "/stream", "/asgi", "/missing", "/convert/abc", "/methods/3", "/ok/x"],
)
@pytest.mark.parametrize("fail_on", [None, "http.response.start", "http.response.body"])
async def test_answers_like_the_layered_stack(
    asgi: types.SimpleNamespace, stack: str, handlers: str, path: str, fail_on: str | None
) -> None:
    table = HANDLER_SETS[handlers]
    fast = fast_app(table, stack)
    layered = layered_app(table, stack)
    expected = await transcript(layered, asgi, path, fail_on)
    assert await transcript(fast, asgi, path, fail_on) == expected
    # The layered app really is layered (so that the comparison means something), and the other one is not.
    assert exception_layer(layered)._fast_path is None
    assert exception_layer(fast)._fast_path is fast._tachyon_fast_path is not None
    assert (fast._tachyon_fast_path.errors is fast.middleware_stack) is (stack == "default")


@pytest.mark.parametrize("stack", list(STACKS))
async def test_the_router_dispatch_is_not_entered(
    asgi: types.SimpleNamespace, stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered: list[str] = []
    app = fast_app({}, stack)

    async def router_app(*args: Any, **kwargs: Any) -> None:
        entered.append("router")

    monkeypatch.setattr(Router, "app", router_app)
    for path, status in (("/ok/7", 200), ("/missing", 404), ("/methods/3", 405), ("/ok/7/", 307)):
        assert (await asgi.request(app, path)).status == status
    assert entered == []
    # What the fast path cannot run itself goes to the general dispatch (here: a route whose app was replaced).
    ROUTES[0].app, original = PlainTextResponse("replaced"), ROUTES[0].app
    try:
        assert (await asgi.request(app, "/ok/7")).messages == []  # the stub above sends nothing
    finally:
        ROUTES[0].app = original
    assert entered == ["router"]


async def test_the_failing_endpoints_fail_as_intended(asgi: types.SimpleNamespace) -> None:
    app = fast_app({})
    messages, escaped = await transcript(app, asgi, "/missing")
    assert (messages[0]["status"], messages[1]["body"], escaped) == (404, b"Not Found", None)
    messages, escaped = await transcript(app, asgi, "/missing", "http.response.body")
    assert (messages[0]["status"], escaped) == (404, ("Other", "send failed"))
    messages, escaped = await transcript(app, asgi, "/ok/7/")
    assert (messages[0]["status"], escaped) == (307, None)
    messages, escaped = await transcript(app, asgi, "/raises")
    assert messages[0]["status"] == 500 and escaped == ("Boom", "endpoint")
    messages, escaped = await transcript(app, asgi, "/stream")
    assert [m.get("body") for m in messages[1:2]] == [b"first"] and escaped == ("Boom", "mid-stream")
    assert not any(m.get("status") == 500 for m in messages)
    messages, escaped = await transcript(fast_app({Boom: boom_handler}), asgi, "/raises")
    assert (messages[0]["status"], messages[1]["body"], escaped) == (409, b"handled endpoint", None)
    messages, escaped = await transcript(app, asgi, "/ok/7")
    assert messages[0]["status"] == 200 and messages[1]["body"] == b'{"id":7,"route":"/ok/{id:int}"}'


async def test_replacing_the_stack_or_a_layer_turns_the_fast_path_off(asgi: types.SimpleNamespace) -> None:
    seen: list[str] = []

    class Spy:
        def __init__(self, app: ASGIApp, label: str) -> None:
            self.app, self.label = app, label

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(self.label)
            await self.app(scope, receive, send)

    app = fast_app({})
    assert (await asgi.request(app, "/ok/1")).status == 200
    stack = app.middleware_stack
    assert isinstance(stack, ServerErrorMiddleware)
    exception_layer = stack.app
    stack.app = Spy(exception_layer, "between")
    assert (await asgi.request(app, "/ok/1")).status == 200
    stack.app = exception_layer
    exception_layer.app = Spy(app.router, "router")  # type: ignore[attr-defined]
    assert (await asgi.request(app, "/ok/1")).status == 200
    exception_layer.app = app.router  # type: ignore[attr-defined]
    app.middleware_stack = Spy(stack, "outer")
    assert (await asgi.request(app, "/ok/1")).status == 200
    assert seen == ["between", "router", "outer"]


async def test_a_route_whose_app_was_replaced_is_called(asgi: types.SimpleNamespace) -> None:
    route = Route("/ok/{id:int}", ok)
    app = Tachyon(routes=[route])
    assert (await asgi.request(app, "/ok/1")).status == 200
    replaced = PlainTextResponse("replaced", status_code=203)
    route.app = replaced
    result = await asgi.request(app, "/ok/1")
    assert (result.status, result.text) == (203, "replaced")


async def test_a_mounted_router_is_entered_directly_until_its_stack_is_replaced(asgi: types.SimpleNamespace) -> None:
    async def item(request: Request) -> Response:
        return JSONResponse({"params": request.path_params, "root": request.scope["root_path"]})

    inner = Router(routes=[Route("/items/{id:int}", item)])
    app = Tachyon(routes=[Mount("/v{version:int}", app=inner)])
    result = await asgi.request(app, "/v2/items/5")
    assert (result.status, result.body) == (200, b'{"params":{"version":2,"id":5},"root":"/v2"}')
    assert (await asgi.request(app, "/v2/nothing")).status == 404

    seen: list[str] = []
    plain = inner.middleware_stack

    async def spy(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["path"])
        await plain(scope, receive, send)

    inner.middleware_stack = spy
    assert (await asgi.request(app, "/v2/items/6")).status == 200
    assert seen == ["/v2/items/6"]
