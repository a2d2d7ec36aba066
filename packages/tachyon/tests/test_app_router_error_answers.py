"""404 and 405 found by the router are answered without raising when only the built-in handler would see
the HTTPException; these tests pin that every way a handler or a wrapper can observe it still does."""

from __future__ import annotations

import types
from typing import Any

import pytest
from tachyon.applications import Tachyon
from tachyon.exceptions import HTTPException
from tachyon.middleware import Middleware
from tachyon.middleware.exceptions import ExceptionMiddleware
from tachyon.requests import Request
from tachyon.responses import PlainTextResponse, Response
from tachyon.routing import Mount, Route, Router
from tachyon.types import ASGIApp, Receive, Scope, Send

pytestmark = pytest.mark.anyio


async def item(request: Request) -> Response:
    return PlainTextResponse("item")


def make_app(**kwargs: Any) -> Tachyon:
    return Tachyon(routes=[Route("/items/{id:int}", item, methods=["GET", "POST"])], **kwargs)


async def test_404_and_405_without_handlers_are_starlettes_responses(
    asgi: types.SimpleNamespace, router_backend: str
) -> None:
    app = make_app()
    missing = await asgi.request(app, "/nowhere")
    assert (missing.status, missing.text) == (404, "Not Found")
    assert missing.headers == {"content-length": "9", "content-type": "text/plain; charset=utf-8"}
    wrong = await asgi.request(app, "/items/3", "DELETE")
    assert (wrong.status, wrong.text) == (405, "Method Not Allowed")
    assert sorted(wrong.headers["allow"].split(", ")) == ["GET", "HEAD", "POST"]


async def test_a_status_handler_receives_the_http_exception(asgi: types.SimpleNamespace) -> None:
    seen: list[tuple[int, Any]] = []

    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        seen.append((exc.status_code, exc.headers))
        return PlainTextResponse(f"custom {exc.status_code}", status_code=exc.status_code)

    app = make_app(exception_handlers={404: handler, 405: handler})
    assert (await asgi.request(app, "/nowhere")).text == "custom 404"
    assert (await asgi.request(app, "/items/3", "PUT")).text == "custom 405"
    assert seen[0] == (404, None)
    assert seen[1][0] == 405 and sorted(seen[1][1]["Allow"].split(", ")) == ["GET", "HEAD", "POST"]


async def test_a_handler_for_the_http_exception_class_is_used(asgi: types.SimpleNamespace) -> None:
    async def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("by class", status_code=418)

    app = make_app(exception_handlers={HTTPException: handler})
    assert (await asgi.request(app, "/nowhere")).status == 418
    assert (await asgi.request(app, "/items/3", "PUT")).status == 418


async def test_a_handler_registered_after_start_on_the_middleware_is_used(asgi: types.SimpleNamespace) -> None:
    app = make_app()
    assert (await asgi.request(app, "/nowhere")).status == 404
    exception_middleware = app.middleware_stack.app  # type: ignore[union-attr]
    assert isinstance(exception_middleware, ExceptionMiddleware)

    async def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("late", status_code=410)

    exception_middleware.add_exception_handler(404, handler)
    assert (await asgi.request(app, "/nowhere")).status == 410


async def test_an_overridden_http_exception_method_is_called(asgi: types.SimpleNamespace) -> None:
    class Custom(ExceptionMiddleware):
        async def http_exception(self, request: Request, exc: Exception) -> Response:
            assert isinstance(exc, HTTPException)
            return PlainTextResponse("overridden", status_code=exc.status_code)

    router = Router(routes=[Route("/items/{id:int}", item)])
    wrapped = Custom(router)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app  # inside an application the router raises instead of answering itself
        await wrapped(scope, receive, send)

    assert (await asgi.request(app, "/nowhere")).text == "overridden"
    assert (await asgi.request(app, "/items/1", "POST")).text == "overridden"


class CatchHTTPException:
    """Turns any HTTPException passing through it into a 418 naming the status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except HTTPException as exc:
            await PlainTextResponse(f"caught {exc.status_code}", status_code=418)(scope, receive, send)


async def test_router_middleware_still_sees_the_exception(asgi: types.SimpleNamespace) -> None:
    router = Router(routes=[Route("/items/{id:int}", item)], middleware=[Middleware(CatchHTTPException)])
    app = Tachyon()
    app.router = router
    assert (await asgi.request(app, "/nowhere")).text == "caught 404"
    assert (await asgi.request(app, "/items/1", "POST")).text == "caught 405"


async def test_replacing_the_router_stack_after_start_still_raises_through_it(asgi: types.SimpleNamespace) -> None:
    app = make_app()
    assert (await asgi.request(app, "/nowhere")).status == 404
    app.router.middleware_stack = CatchHTTPException(app.router.app)
    assert (await asgi.request(app, "/nowhere")).text == "caught 404"


async def test_mount_middleware_still_sees_the_exception(asgi: types.SimpleNamespace) -> None:
    app = Tachyon(
        routes=[Mount("/sub", routes=[Route("/items/{id:int}", item)], middleware=[Middleware(CatchHTTPException)])]
    )
    assert (await asgi.request(app, "/sub/nowhere")).text == "caught 404"
    assert (await asgi.request(app, "/sub/items/1", "POST")).text == "caught 405"
    assert (await asgi.request(app, "/nowhere")).text == "Not Found"


async def test_405_leaves_the_scope_as_the_raising_path_does(asgi: types.SimpleNamespace) -> None:
    seen: dict[str, Any] = {}

    def remember(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            await app(scope, receive, send)
            seen.update(route=scope.get("route"), endpoint=scope.get("endpoint"), params=scope.get("path_params"))

        return middleware

    app = make_app(middleware=[Middleware(remember)])
    assert (await asgi.request(app, "/items/7", "DELETE")).status == 405
    assert seen["route"] is app.routes[0]
    assert seen["endpoint"] is item
    assert seen["params"] == {"id": 7}


async def test_a_custom_default_app_is_called_for_misses(asgi: types.SimpleNamespace) -> None:
    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("default", status_code=404)(scope, receive, send)

    app = make_app()
    app.router.default = default
    assert (await asgi.request(app, "/nowhere")).text == "default"


@pytest.mark.parametrize(
    ("templates", "path", "status"),
    [
        (["/items/"], "/items", 307),
        (["/zzz"], "/zzz/", 307),
        (["/zzz", "/items/{id:int}"], "/nope/x", 404),
        (["/zzz", "/items/{id:int}"], "/items/3/", 307),
        (["/{name}/"], "/abc", 307),  # a parameter in the first segment: no shortcut
        (["/items"], "/items\n/", 307),  # "$" matches before a final newline: "/items\n" is found
        (["/a"], "//", 404),
    ],
)
async def test_redirect_slashes_after_a_miss(
    asgi: types.SimpleNamespace, router_backend: str, templates: list[str], path: str, status: int
) -> None:
    app = Tachyon(routes=[Route(template, item) for template in templates])
    assert (await asgi.request(app, path)).status == status


@pytest.mark.parametrize(("path", "params"), [("/static", {}), ("/u/bob/static", {"user": "bob"})])
async def test_405_on_a_route_without_params_sets_endpoint_and_params(
    asgi: types.SimpleNamespace, router_backend: str, path: str, params: dict[str, str]
) -> None:
    seen: dict[str, Any] = {}

    def remember(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            await app(scope, receive, send)
            seen.update(endpoint=scope.get("endpoint"), params=scope.get("path_params"))

        return middleware

    routes = [Route("/static", item, methods=["GET"]), Mount("/u/{user}", routes=[Route("/static", item)])]
    app = Tachyon(routes=routes, middleware=[Middleware(remember)])
    assert (await asgi.request(app, path, "DELETE")).status == 405
    assert seen == {"endpoint": item, "params": params}


class _ReMatchingRoute(Route):
    """Matched by its regex (an overridden ``matches`` keeps the route out of the table)."""

    def matches(self, scope: Scope) -> Any:
        return super().matches(scope)


@pytest.mark.parametrize("kind", ["table", "overridden matches", "replaced path_regex", "mount"])
async def test_int_param_past_the_digit_limit_is_404_on_every_matching_path(
    asgi: types.SimpleNamespace, router_backend: str, kind: str
) -> None:
    import re

    route: Any
    if kind == "table":
        route = Route("/items/{id:int}", item)
    elif kind == "overridden matches":
        route = _ReMatchingRoute("/items/{id:int}", item)
    elif kind == "replaced path_regex":
        route = Route("/items/{id:int}", item)
        route.path_regex = re.compile(r"^/items/(?P<id>[0-9]+)$")
    else:
        route = Mount("/items/{id:int}", routes=[Route("/", item)])
    app = Tachyon(routes=[route])
    suffix = "/" if kind == "mount" else ""
    past = await asgi.request(app, "/items/" + "7" * 5000 + suffix)
    assert (past.status, past.text) == (404, "Not Found")
    at = await asgi.request(app, "/items/" + "7" * 4300 + suffix)  # at the limit: converted, answered
    assert (at.status, at.text) == (200, "item")
