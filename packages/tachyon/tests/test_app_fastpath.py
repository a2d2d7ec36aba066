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
from tachyon.routing import BaseRoute, Host, Mount, Route, Router
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


class Marker:
    """A user middleware (or layer put in by hand) that notes it ran, in MARKS."""

    def __init__(self, app: ASGIApp, mark: str) -> None:
        self.app, self.mark = app, mark

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        MARKS.append(self.mark)
        await self.app(scope, receive, send)


MARKS: list[str] = []


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


async def transcript(
    app: Any,
    asgi: types.SimpleNamespace,
    path: str,
    fail_on: str | None = None,
    *,
    method: str = "GET",
    root_path: str = "",
) -> Any:
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
        await app(asgi.http_scope(path, method, root_path=root_path), receive, send)
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
    # ...and the router dispatching through its app() (its own, fresh: ROUTES has no mounts).
    app.router._tachyon_inline = None
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
    MARKS.clear()
    app = fast_app({})
    assert (await asgi.request(app, "/ok/1")).status == 200
    stack = app.middleware_stack
    assert isinstance(stack, ServerErrorMiddleware)
    exception_layer = stack.app
    stack.app = Marker(exception_layer, "between")
    assert (await asgi.request(app, "/ok/1")).status == 200
    stack.app = exception_layer
    exception_layer.app = Marker(app.router, "router")  # type: ignore[attr-defined]
    assert (await asgi.request(app, "/ok/1")).status == 200
    exception_layer.app = app.router  # type: ignore[attr-defined]
    app.middleware_stack = Marker(stack, "outer")
    assert (await asgi.request(app, "/ok/1")).status == 200
    assert MARKS == ["between", "router", "outer"]
    MARKS.clear()


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


# --- Mounts: the fast path carries on into a plain Mount of a stock Router -------------------------------------

# The scopes `scoped` was called with, in order (a shallow copy each, taken when the endpoint runs).
SCOPES: list[dict[str, Any]] = []


async def scoped(request: Request) -> Response:
    SCOPES.append(dict(request.scope))
    return JSONResponse(
        {
            "params": request.path_params,
            "root_path": request.scope["root_path"],
            "url": str(request.url),
            "leaf": str(request.url_for("leaf", version=3, k="z", id=9)),
            "named": str(request.url_for("plain:named", name="n")),
        }
    )


async def inner_default(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("inner default", status_code=418)(scope, receive, send)


INNER = Router(
    routes=[
        Route("/items/{id:int}", scoped),
        Route("/methods/{id:int}", scoped, methods=["PUT", "PATCH"]),
        Route("/slash/", scoped),
        Route("/convert/{v:explode}", scoped),
        Route("/raises", raises),
        Route("/http", raises_http),
        Route("/stream", streams_then_fails),
        Mount("/deep/{k}", routes=[Route("/leaf/{id:int}", scoped, name="leaf")]),
    ]
)
MOUNT_ROUTES = [
    Route("/top/{id:int}", scoped),
    # Matches /v1/items/... by path only: the mount after it wins for GET (Starlette keeps looking after a 405).
    Route("/v1/items/{id:int}", scoped, methods=["POST"]),
    Mount("/v{version:int}", app=INNER),
    Mount("/plain", routes=[Route("/", scoped), Route("/{name}", scoped, name="named")], name="plain"),
    Mount("/noredirect", app=Router(routes=[Route("/slash/", scoped)], redirect_slashes=False)),
    Mount("/default", app=Router(routes=[Route("/x", scoped)], default=inner_default)),
    # An opaque route inside: the inner lookup hands over to the inner router's general dispatch.
    Mount(
        "/hosted",
        app=Router(routes=[Host("elsewhere.test", app=Router(routes=[Route("/x", ok)])), Route("/x", scoped)]),
    ),
]
# A mount matching every path: the outer router's own 404 and slash redirect never apply then (the mount
# matched), the inner router's do.
# Behind a Host the outer lookup has an opaque route to ask first: the general dispatch runs (the reference here).
# The same mounts with middleware on each: the application's lookup resolves the Mount, the middleware runs, then
# the inner Router (reached through it) dispatches from its own lookup in its __call__.
MIDDLEWARE_MOUNT_ROUTES = [
    Mount(route.path, app=route.app, name=route.name, middleware=[Middleware(AddHeader), Middleware(PassThrough)])
    if isinstance(route, Mount)
    else route
    for route in MOUNT_ROUTES
]
MOUNT_SETS: dict[str, list[Any]] = {
    "mounts": MOUNT_ROUTES,
    "mounts with middleware": MIDDLEWARE_MOUNT_ROUTES,
    "and a catch-all mount": [*MOUNT_ROUTES, Mount("", app=Router(routes=[Route("/catch/{id:int}", scoped)]))],
    "behind a host": [Host("elsewhere.test", app=Router(routes=[Route("/top/{id:int}", ok)])), *MOUNT_ROUTES],
}
MOUNT_REQUESTS = [
    ("GET", "/top/1"),
    ("GET", "/top/1/"),
    ("GET", "/v2/items/5"),
    ("GET", "/v2/items/5/"),
    ("GET", "/v2/items/x"),
    ("GET", "/v2/nothing"),
    ("GET", "/v2/slash"),
    ("GET", "/v2/slash/"),
    ("GET", "/v2/methods/3"),
    ("PUT", "/v2/methods/3"),
    ("HEAD", "/v2/items/5"),
    ("GET", "/v2/convert/abc"),
    ("GET", "/v2/raises"),
    ("GET", "/v2/http"),
    ("GET", "/v2/stream"),
    ("GET", "/v2/deep/q/leaf/8"),
    ("GET", "/v2/deep/q/leaf/8/"),
    ("GET", "/v2/deep/q/nothing"),
    ("POST", "/v2/deep/q/leaf/8"),
    ("GET", "/v2"),
    ("GET", "/v2/"),
    ("GET", "/v1/items/4"),
    ("POST", "/v1/items/4"),
    ("GET", "/plain"),
    ("GET", "/plain/"),
    ("GET", "/plain/abc"),
    ("GET", "/noredirect/slash"),
    ("GET", "/default/nothing"),
    ("GET", "/default/x/"),
    ("GET", "/hosted/x"),
    ("GET", "/hosted/x/"),
    ("GET", "/hosted/nothing"),
    ("GET", "/catch/5"),
    ("GET", "/missing"),
]


def routers_of(app: Any) -> list[Router]:
    """Every Router reachable from ``app``: through ``app``/``router`` attributes (middleware layers, the
    application) and the routes of each Router found, mounts included."""
    found: list[Router] = []
    pending = [app]
    while pending:
        item = pending.pop()
        if isinstance(item, Router):
            if any(item is known for known in found):
                continue
            found.append(item)
            pending += [route.app for route in item.routes if isinstance(route, Mount | Host)]
        else:
            pending += [getattr(item, name) for name in ("router", "app") if hasattr(item, name)]
    return found


def without_inline(app: Any, patch: pytest.MonkeyPatch) -> None:
    """Turn off, for the life of ``patch``, what Router.__call__ runs itself: every router dispatches through
    its ``middleware_stack`` (then ``app()``), as built — the reference the fast path is compared with."""
    for router in routers_of(app):
        patch.setattr(router, "_tachyon_inline", None)


def mount_app(routes: list[Any], handlers: dict[Any, Any], stack: str, *, layered: bool = False) -> Tachyon:
    """The application, its stack built now (with the fast path unless ``layered``)."""
    app = Tachyon(routes=routes, exception_handlers=handlers, **STACKS[stack])
    with pytest.MonkeyPatch.context() as patch:
        if layered:
            patch.setattr(FastPath, "attach", classmethod(lambda cls, *layers: None))
        app.middleware_stack = app.build_middleware_stack()
    assert (app._tachyon_fast_path is None) is layered
    return app


def seen_scopes(app: Tachyon) -> list[list[tuple[str, Any]]]:
    """The scopes ``scoped`` saw, in key order, with this application's own objects (and the body limit's
    per-request responder) named."""
    named = {id(app): "<the application>", id(app.router): "<its router>", id(exception_layer(app)._tables): "<tables>"}
    return [
        [
            (key, type(value).__name__ if key == "starlette._body_limit_responder" else named.get(id(value), value))
            for key, value in scope.items()
        ]
        for scope in SCOPES
    ]


async def mount_transcripts(
    asgi: types.SimpleNamespace,
    routes: list[Any],
    handlers: dict[Any, Any],
    stack: str,
    method: str,
    path: str,
    root_path: str,
    fail_on: str | None = None,
) -> tuple[Any, Any]:
    """(layered, fast): the messages, the escaped exception and the scopes the endpoint saw, each."""
    runs = []
    for layered in (True, False):
        app = mount_app(routes, handlers, stack, layered=layered)
        SCOPES.clear()
        with pytest.MonkeyPatch.context() as patch:
            if layered:
                without_inline(app, patch)
            outcome = await transcript(app, asgi, path, fail_on, method=method, root_path=root_path)
        runs.append((outcome, seen_scopes(app)))
        assert (exception_layer(app)._fast_path is None) is layered
    SCOPES.clear()
    return runs[0], runs[1]


@pytest.mark.parametrize("stack", list(STACKS))
@pytest.mark.parametrize("routes", list(MOUNT_SETS))
@pytest.mark.parametrize("root_path", ["", "/api"])
@pytest.mark.parametrize(("method", "path"), MOUNT_REQUESTS)
async def test_a_mounted_router_answers_like_the_layered_stack(
    asgi: types.SimpleNamespace, stack: str, routes: str, root_path: str, method: str, path: str
) -> None:
    layered, fast = await mount_transcripts(asgi, MOUNT_SETS[routes], {}, stack, method, path, root_path)
    assert fast == layered


MOUNT_FAILURES = ["/v2/items/5", "/v2/items/5/", "/v2/nothing", "/v2/methods/3", "/v2/convert/abc", "/v2/raises"]


@pytest.mark.parametrize("stack", list(STACKS))
@pytest.mark.parametrize("handlers", list(HANDLER_SETS), ids=list(HANDLER_SETS))
@pytest.mark.parametrize("path", [*MOUNT_FAILURES, "/v2/http", "/v2/stream", "/default/nothing"])
@pytest.mark.parametrize("fail_on", [None, "http.response.start", "http.response.body"])
async def test_failures_below_a_mount_answer_like_the_layered_stack(
    asgi: types.SimpleNamespace, stack: str, handlers: str, path: str, fail_on: str | None
) -> None:
    table = HANDLER_SETS[handlers]
    layered, fast = await mount_transcripts(asgi, MOUNT_ROUTES, table, stack, "GET", path, "", fail_on)
    assert fast == layered


async def test_the_child_scope_below_nested_mounts(asgi: types.SimpleNamespace) -> None:
    app = mount_app(MOUNT_ROUTES, {}, "default")
    SCOPES.clear()
    result = await asgi.request(app, "/v2/deep/q/leaf/8", root_path="/api")
    assert result.status == 200
    assert result.body == (
        b'{"params":{"version":2,"k":"q","id":8},"root_path":"/api/v2/deep/q",'
        b'"url":"http://testserver/api/v2/deep/q/leaf/8","leaf":"http://testserver/api/v3/deep/z/leaf/9",'
        b'"named":"http://testserver/api/plain/n"}'
    )
    (scope,) = SCOPES
    outer_mount, deep_mount = MOUNT_ROUTES[2], INNER.routes[-1]
    leaf = deep_mount.routes[0]
    added = list(scope)[list(scope).index("app") :]
    assert added == [
        "app",
        "starlette.exception_handlers",
        "router",
        "route",
        "path_params",
        "app_root_path",
        "endpoint",
    ]
    assert scope["router"] is app.router
    assert scope["route"] is leaf
    assert scope["endpoint"] is scoped
    assert scope["path_params"] == {"version": 2, "k": "q", "id": 8}
    paths = (scope["root_path"], scope["app_root_path"], scope["path"])
    assert paths == ("/api/v2/deep/q", "/api", "/api/v2/deep/q/leaf/8")
    assert outer_mount.app is INNER
    # url_path_for does not depend on how requests are served.
    assert app.url_path_for("leaf", version=3, k="z", id=9) == "/v3/deep/z/leaf/9"
    assert app.url_path_for("plain", path="/x") == "/plain/x"
    SCOPES.clear()


@pytest.mark.parametrize("stack", list(STACKS))
async def test_the_router_dispatch_is_not_entered_below_a_plain_mount(
    asgi: types.SimpleNamespace, stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered: list[str] = []
    app = mount_app(MOUNT_ROUTES, {}, stack)
    original = Router.app

    async def router_app(self: Router, *args: Any, **kwargs: Any) -> None:
        entered.append(scope_path(args[0]))
        await original(self, *args, **kwargs)

    def scope_path(scope: Scope) -> str:
        return str(scope["path"])

    monkeypatch.setattr(Router, "app", router_app)
    for method, path, status in (
        ("GET", "/v2/items/5", 200),
        ("GET", "/v2/deep/q/leaf/8", 200),
        ("GET", "/v2/nothing", 404),
        ("GET", "/v2/deep/q/nothing", 404),
        ("GET", "/v2/methods/3", 405),
        ("GET", "/v2/items/5/", 307),
        ("GET", "/plain/", 200),
    ):
        assert (await asgi.request(app, path, method)).status == status, path
    assert entered == []
    # A custom default of the inner router: its general dispatch runs it, continuing from the lookup.
    result = await asgi.request(app, "/default/nothing")
    assert (result.status, result.text) == (418, "inner default")
    assert entered == ["/default/nothing"]
    SCOPES.clear()


class OwnDispatch(Router):
    async def app(self, scope: Scope, receive: Receive, send: Send, **kwargs: Any) -> None:
        MARKS.append("own app")
        await super().app(scope, receive, send, **kwargs)


class OwnCall(Router):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        MARKS.append("own call")
        await super().__call__(scope, receive, send)


class OwnLookup(Router):
    def fast_path_lookup(self, scope: Scope) -> tuple[int, Any]:
        MARKS.append("own lookup")
        return super().fast_path_lookup(scope)


class Stock(Router):
    """Overrides nothing the fast path stands for: carried through like a Router."""


class HandledMount(Mount):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        MARKS.append("mount handle")
        await super().handle(scope, receive, send)


async def item(request: Request) -> Response:
    return JSONResponse({"params": request.path_params, "root_path": request.scope["root_path"]})


def leaf_routes() -> list[BaseRoute]:
    return [Route("/items/{id:int}", item)]


# What the fast path must not carry through: (mount, the marks the request leaves, whether Router.app is entered).
CUSTOMISED: dict[str, Callable[[], tuple[BaseRoute, list[str]]]] = {
    "middleware on the mount": lambda: (
        Mount("/m", routes=leaf_routes(), middleware=[Middleware(Marker, mark="mount middleware")]),
        ["mount middleware"],
    ),
    "middleware on the inner router": lambda: (
        Mount("/m", app=Router(routes=leaf_routes(), middleware=[Middleware(Marker, mark="router middleware")])),
        ["router middleware"],
    ),
    "a body limit on the mount": lambda: (Mount("/m", routes=leaf_routes(), max_body_size=10), []),
    "an overridden Router.app": lambda: (Mount("/m", app=OwnDispatch(routes=leaf_routes())), ["own app"]),
    "an overridden Router.__call__": lambda: (Mount("/m", app=OwnCall(routes=leaf_routes())), ["own call"]),
    "an overridden fast_path_lookup": lambda: (Mount("/m", app=OwnLookup(routes=leaf_routes())), []),
    "an overridden Mount.handle": lambda: (HandledMount("/m", routes=leaf_routes()), ["mount handle"]),
    "an ASGI app": lambda: (Mount("/m", app=Marker(Router(routes=leaf_routes()), "asgi app")), ["asgi app"]),
}


@pytest.mark.parametrize("case", list(CUSTOMISED))
async def test_a_customised_mount_or_inner_router_runs_as_built(
    asgi: types.SimpleNamespace, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Router.fast_path_lookup
    mount, marks = CUSTOMISED[case]()
    app = mount_app([mount], {}, "default")

    def noted_lookup(self: Router, scope: Scope) -> tuple[int, Any]:
        MARKS.append("application lookup" if self is app.router else "mounted lookup")
        return original(self, scope)

    monkeypatch.setattr(Router, "fast_path_lookup", noted_lookup)
    MARKS.clear()
    result = await asgi.request(app, "/m/items/3")
    assert (result.status, result.body) == (200, b'{"params":{"id":3},"root_path":"/m"}')
    customisations = [mark for mark in MARKS if not mark.endswith(" lookup")]
    assert customisations == marks
    # The application's router resolved the mount without carrying on into the router below it: a lookup of that
    # router, if any, comes after everything the mount's customisation did (its own __call__ ran it).
    assert MARKS[0] == "application lookup"
    if "mounted lookup" in MARKS:
        assert MARKS.index("mounted lookup") > max((MARKS.index(mark) for mark in customisations), default=0)
    MARKS.clear()
    SCOPES.clear()


async def test_a_router_subclass_with_stock_dispatch_is_carried_through(
    asgi: types.SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered: list[str] = []

    async def router_app(self: Router, *args: Any, **kwargs: Any) -> None:
        entered.append("router")

    app = mount_app([Mount("/m", app=Stock(routes=leaf_routes()))], {}, "default")
    monkeypatch.setattr(Router, "app", router_app)
    assert (await asgi.request(app, "/m/items/3")).status == 200
    assert (await asgi.request(app, "/m/nothing")).status == 404
    assert entered == []
    SCOPES.clear()


async def test_rewiring_a_mount_after_its_first_request_is_honoured(asgi: types.SimpleNamespace) -> None:
    inner = Router(routes=leaf_routes())
    mount = Mount("/m", app=inner)
    app = Tachyon(routes=[Route("/", item), mount])
    assert (await asgi.request(app, "/m/items/3")).status == 200
    MARKS.clear()
    mount.app = Marker(inner, "replaced mount app")
    assert (await asgi.request(app, "/m/items/3")).status == 200
    assert MARKS == ["replaced mount app"]
    mount.app = inner
    inner.middleware_stack = Marker(inner.middleware_stack, "replaced router stack")
    assert (await asgi.request(app, "/m/items/3")).status == 200
    assert MARKS == ["replaced mount app", "replaced router stack"]
    # Restored, and a route added to the inner router after the outer table was built is found.
    inner.middleware_stack = inner._tachyon_plain_stack
    inner.routes.append(Route("/late", item))
    assert (await asgi.request(app, "/m/late")).status == 200
    assert MARKS == ["replaced mount app", "replaced router stack"]
    MARKS.clear()
    SCOPES.clear()
