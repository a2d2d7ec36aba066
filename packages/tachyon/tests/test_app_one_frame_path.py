"""The application runs its default stack (ServerErrorMiddleware -> ExceptionMiddleware -> Router -> a plain
route's endpoint) in one frame. These tests pin that it answers exactly as the layered stack does, in every
way an endpoint, a response or a handler can fail, and that rewiring any layer turns it off."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from tachyon.applications import Tachyon
from tachyon.exceptions import HTTPException
from tachyon.middleware import Middleware
from tachyon.middleware.errors import ServerErrorMiddleware
from tachyon.requests import Request
from tachyon.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from tachyon.routing import Mount, Route, Router
from tachyon.types import ASGIApp, Message, Receive, Scope, Send
from tachyon_router.convertors import Convertor, register_url_convertor

pytestmark = pytest.mark.anyio


class PassThrough:
    """A user middleware that changes nothing: the application then runs the layered stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


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


def one_frame_app(handlers: dict[Any, Any]) -> Tachyon:
    return Tachyon(routes=ROUTES, exception_handlers=handlers)


def layered_app(handlers: dict[Any, Any]) -> Tachyon:
    return Tachyon(routes=ROUTES, exception_handlers=handlers, middleware=[Middleware(PassThrough)])


@pytest.mark.parametrize("handlers", list(HANDLER_SETS), ids=list(HANDLER_SETS))
@pytest.mark.parametrize(
    "path",
    ["/ok/7", "/ok/7/", "/raises", "/http", "/stream", "/asgi", "/missing", "/convert/abc", "/methods/3", "/ok/x"],
)
@pytest.mark.parametrize("fail_on", [None, "http.response.start", "http.response.body"])
async def test_answers_like_the_layered_stack(
    asgi: types.SimpleNamespace, handlers: str, path: str, fail_on: str | None
) -> None:
    table = HANDLER_SETS[handlers]
    fused = one_frame_app(table)
    layered = layered_app(table)
    expected = await transcript(layered, asgi, path, fail_on)
    assert await transcript(fused, asgi, path, fail_on) == expected
    # The layered app really is layered (so the comparison means something), and the default one is not.
    assert fused._tachyon_fused is not None and layered._tachyon_fused is None


async def test_the_failing_endpoints_fail_as_intended(asgi: types.SimpleNamespace) -> None:
    app = one_frame_app({})
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
    messages, escaped = await transcript(one_frame_app({Boom: boom_handler}), asgi, "/raises")
    assert (messages[0]["status"], messages[1]["body"], escaped) == (409, b"handled endpoint", None)
    messages, escaped = await transcript(app, asgi, "/ok/7")
    assert messages[0]["status"] == 200 and messages[1]["body"] == b'{"id":7,"route":"/ok/{id:int}"}'


async def test_replacing_the_stack_or_a_layer_turns_the_one_frame_path_off(asgi: types.SimpleNamespace) -> None:
    seen: list[str] = []

    class Spy:
        def __init__(self, app: ASGIApp, label: str) -> None:
            self.app, self.label = app, label

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(self.label)
            await self.app(scope, receive, send)

    app = one_frame_app({})
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
