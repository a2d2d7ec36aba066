from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from tachyon.applications import Starlette, Tachyon
from tachyon.exceptions import HTTPException, TachyonDeprecationWarning
from tachyon.middleware import Middleware
from tachyon.requests import Request
from tachyon.responses import JSONResponse, PlainTextResponse, Response
from tachyon.routing import Mount, Route, Router
from tachyon.types import ASGIApp, Message, Receive, Scope, Send

pytestmark = pytest.mark.anyio


async def run_lifespan(app: ASGIApp, state: dict[str, Any] | None = None) -> list[Message]:
    """Drive startup and shutdown; returns what the app sent."""
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "lifespan"}
    if state is not None:
        scope["state"] = state
    await app(scope, receive, send)
    return sent


async def call_keeping_messages(app: ASGIApp, scope: Scope, sent: list[Message]) -> None:
    """Call ``app`` with an empty request body; what it sends is appended to ``sent``, also when it raises."""

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)


def test_starlette_name_is_the_tachyon_class() -> None:
    assert Starlette is Tachyon


async def test_routes_and_url_path_for(asgi: Any) -> None:
    async def home(request: Request) -> Response:
        return PlainTextResponse("home")

    app = Tachyon(routes=[Route("/", home)])
    assert app.routes is app.router.routes
    assert app.url_path_for("home") == "/"
    assert (await asgi.request(app, "/")).text == "home"


async def test_404_and_405_go_through_exception_handlers(asgi: Any) -> None:
    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"status": exc.status_code}, status_code=exc.status_code, headers=exc.headers)

    app = Tachyon(
        routes=[Route("/", lambda request: PlainTextResponse(""))], exception_handlers={HTTPException: handler}
    )
    missing = await asgi.request(app, "/missing")
    assert (missing.status, json.loads(missing.body)) == (404, {"status": 404})
    wrong = await asgi.request(app, "/", "DELETE")
    assert wrong.status == 405
    assert wrong.headers["allow"] in ("GET, HEAD", "HEAD, GET")


async def test_default_404_body(asgi: Any) -> None:
    result = await asgi.request(Tachyon(), "/x")
    assert (result.status, result.text) == (404, "Not Found")


async def test_unhandled_error_is_500_and_reraised(asgi: Any) -> None:
    def boom(request: Request) -> Response:
        raise RuntimeError("boom")

    app = Tachyon(routes=[Route("/", boom)])
    scope = asgi.http_scope("/")
    result = asgi.Result()
    with pytest.raises(RuntimeError, match="boom"):
        await call_keeping_messages(app, scope, result.messages)
    assert (result.status, result.text) == (500, "Internal Server Error")


@pytest.mark.parametrize("key", [500, Exception])
async def test_500_handler_is_used_by_server_error_middleware(asgi: Any, key: Any) -> None:
    def boom(request: Request) -> Response:
        raise KeyError("x")

    def on_error(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"handled {type(exc).__name__}", status_code=500)

    app = Tachyon(routes=[Route("/", boom)], exception_handlers={key: on_error})
    with pytest.raises(KeyError):
        await asgi.request(app, "/")
    messages: list[Message] = []
    with pytest.raises(KeyError):
        await call_keeping_messages(app, asgi.http_scope("/"), messages)
    assert messages[1]["body"] == b"handled KeyError"


async def test_debug_flag_set_after_creation_shows_traceback(asgi: Any) -> None:
    def boom(request: Request) -> Response:
        raise ValueError("details here")

    app = Tachyon(routes=[Route("/", boom)])
    app.debug = True
    messages: list[Message] = []
    with pytest.raises(ValueError):
        await call_keeping_messages(app, asgi.http_scope("/"), messages)
    assert messages[0]["status"] == 500
    assert b"ValueError: details here" in messages[1]["body"]


async def test_middleware_stack_is_built_once_in_declared_order(asgi: Any) -> None:
    calls: list[str] = []
    built: list[str] = []

    class Tag:
        def __init__(self, app: ASGIApp, name: str) -> None:
            built.append(name)
            self.app = app
            self.name = name

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            calls.append(self.name)
            await self.app(scope, receive, send)

    app = Tachyon(middleware=[Middleware(Tag, "outer"), Middleware(Tag, name="inner")])
    app.add_middleware(Tag, "added-first")
    await asgi.request(app, "/")
    await asgi.request(app, "/")
    assert built == ["inner", "outer", "added-first"]
    assert calls == ["added-first", "outer", "inner"] * 2


async def test_add_middleware_after_start_is_an_error(asgi: Any) -> None:
    app = Tachyon()
    await asgi.request(app, "/")
    with pytest.raises(RuntimeError, match="Cannot add middleware after an application has started"):
        app.add_middleware(Middleware)  # type: ignore[arg-type]


async def test_add_route_forms_and_mount(asgi: Any) -> None:
    async def hello(request: Request) -> Response:
        return PlainTextResponse("hello")

    app = Tachyon()
    app.add_route("/a", hello)
    app.add_route(Route("/b", hello))
    app.mount("/sub", Router([Route("/c", hello)]))
    for path in ("/a", "/b", "/sub/c"):
        assert (await asgi.request(app, path)).text == "hello"
    with pytest.raises(TypeError):
        app.add_route(Route("/c", hello), hello)


async def test_add_exception_handler_before_start(asgi: Any) -> None:
    class Teapot(Exception):
        pass

    def raise_teapot(request: Request) -> Response:
        raise Teapot()

    app = Tachyon(routes=[Route("/", raise_teapot)])
    app.add_exception_handler(Teapot, lambda request, exc: PlainTextResponse("teapot", status_code=418))
    assert (await asgi.request(app, "/")).status == 418


async def test_lifespan_state_reaches_requests(asgi: Any) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Tachyon) -> AsyncIterator[dict[str, Any]]:
        yield {"db": "connected"}

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(request.state.db)

    app = Tachyon(routes=[Route("/", endpoint)], lifespan=lifespan)
    state: dict[str, Any] = {}
    sent = await run_lifespan(app, state)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert state == {"db": "connected"}


async def test_lifespan_state_without_server_support_fails_startup() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Tachyon) -> AsyncIterator[dict[str, Any]]:
        yield {"x": 1}

    with pytest.raises(RuntimeError, match='The server does not support "state" in the lifespan scope.'):
        await run_lifespan(Tachyon(lifespan=lifespan))


async def test_generator_lifespans_still_work_with_a_deprecation_warning() -> None:
    events: list[str] = []

    def sync_lifespan(app: Any) -> Iterator[None]:
        events.append("start")
        yield
        events.append("stop")

    with pytest.warns(TachyonDeprecationWarning, match="generator function lifespans are deprecated"):
        app = Tachyon(lifespan=sync_lifespan)  # type: ignore[arg-type]
    await run_lifespan(app)
    assert events == ["start", "stop"]


async def test_startup_failure_is_reported_and_raised() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Tachyon) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield  # pragma: no cover

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(RuntimeError, match="no database"):
        await Tachyon(lifespan=lifespan)({"type": "lifespan"}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "no database" in sent[0]["message"]


async def test_max_body_size_is_enforced_before_user_middleware(asgi: Any) -> None:
    pytest.importorskip("tachyon.middleware.body_limit")

    async def echo(request: Request) -> Response:
        return Response(await request.body())

    app = Tachyon(routes=[Route("/", echo, methods=["POST"])], max_body_size=4)
    assert (await asgi.request(app, "/", "POST", body=b"1234")).body == b"1234"
    assert (await asgi.request(app, "/", "POST", body=b"12345")).status == 413


async def test_mounted_application_keeps_its_own_handlers(asgi: Any) -> None:
    class Inner(Exception):
        pass

    def raise_inner(request: Request) -> Response:
        raise Inner()

    sub = Tachyon(
        routes=[Route("/", raise_inner)],
        exception_handlers={Inner: lambda request, exc: PlainTextResponse("inner", status_code=409)},
    )
    app = Tachyon(routes=[Mount("/sub", app=sub)])
    result = await asgi.request(app, "/sub/")
    assert (result.status, result.text) == (409, "inner")
