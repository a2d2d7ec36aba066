from __future__ import annotations

import functools
import json
import random
import uuid
from typing import Any

import pytest
from tachyon.applications import Tachyon
from tachyon.exceptions import HTTPException
from tachyon.middleware import Middleware
from tachyon.requests import Request
from tachyon.responses import JSONResponse, PlainTextResponse, Response
from tachyon.routing import (
    BaseRoute,
    Host,
    Match,
    Mount,
    NoMatchFound,
    Route,
    Router,
    WebSocketRoute,
    compile_path,
    get_name,
    replace_params,
)
from tachyon.types import Receive, Scope, Send

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("router_backend")]


def echo(request: Request) -> JSONResponse:
    route = request.scope["route"]
    return JSONResponse(
        {
            "route": getattr(route, "name", None),
            "params": {k: str(v) for k, v in request.path_params.items()},
            "root_path": request.scope.get("root_path", ""),
        }
    )


def named(name: str, path: str, **kwargs: Any) -> Route:
    return Route(path, echo, name=name, **kwargs)


async def test_first_registered_route_wins_over_a_later_more_specific_one(asgi: Any) -> None:
    app = Router([named("param", "/users/{name}"), named("static", "/users/me")])
    result = await asgi.request(app, "/users/me")
    assert result.status == 200
    assert as_json(result)["route"] == "param"


async def test_static_route_registered_first_wins(asgi: Any) -> None:
    app = Router([named("static", "/users/me"), named("param", "/users/{name}")])
    assert as_json(await asgi.request(app, "/users/me"))["route"] == "static"
    assert as_json(await asgi.request(app, "/users/tom"))["params"] == {"name": "tom"}


async def test_convertors_produce_typed_params(asgi: Any) -> None:
    seen: dict[str, Any] = {}

    def capture(request: Request) -> Response:
        seen.update(request.path_params)
        return Response("ok")

    app = Router(
        [
            Route("/i/{v:int}", capture),
            Route("/f/{v:float}", capture),
            Route("/u/{v:uuid}", capture),
            Route("/p/{v:path}", capture),
        ]
    )
    await asgi.request(app, "/i/42")
    assert seen["v"] == 42
    await asgi.request(app, "/f/2.5")
    assert seen["v"] == 2.5
    await asgi.request(app, "/u/ec38df32-ceda-4cfa-9b4a-1aeb94ad551a")
    assert seen["v"] == uuid.UUID("ec38df32-ceda-4cfa-9b4a-1aeb94ad551a")
    await asgi.request(app, "/p/a/b/c")
    assert seen["v"] == "a/b/c"
    assert (await asgi.request(app, "/i/x")).status == 404


async def test_wrong_method_answers_405_with_that_routes_allow_header(asgi: Any) -> None:
    app = Router([Route("/a", echo, methods=["POST"]), Route("/a", echo, methods=["PUT", "DELETE"])])
    result = await asgi.request(app, "/a", "GET")
    assert result.status == 405
    assert result.text == "Method Not Allowed"
    assert result.headers["allow"] == "POST"


async def test_a_later_full_match_beats_an_earlier_method_mismatch(asgi: Any) -> None:
    app = Router([named("post", "/a", methods=["POST"]), named("get", "/a", methods=["GET"])])
    assert as_json(await asgi.request(app, "/a"))["route"] == "get"


async def test_405_keeps_the_path_params_of_the_partial_route(asgi: Any) -> None:
    seen: dict[str, Any] = {}

    async def on_405(request: Request, exc: Exception) -> Response:
        seen.update(request.path_params)
        return PlainTextResponse("nope", status_code=405)

    app = Tachyon(routes=[Route("/items/{id:int}", echo, methods=["POST"])], exception_handlers={405: on_405})
    result = await asgi.request(app, "/items/7")
    assert result.status == 405
    assert seen == {"id": 7}


async def test_get_routes_answer_head(asgi: Any) -> None:
    app = Router([Route("/", lambda request: PlainTextResponse("hi"))])
    assert (await asgi.request(app, "/", "HEAD")).status == 200


async def test_unknown_method_only_matches_method_less_routes(asgi: Any) -> None:
    class RawApp:  # an ASGI object, not a function: its route accepts any method
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await PlainTextResponse(scope["method"])(scope, receive, send)

    app = Router([Route("/a", echo), Route("/a", RawApp())])
    result = await asgi.request(app, "/a", "BREW")
    assert result.status == 200
    assert result.text == "BREW"


async def test_miss_is_404_plain_text_outside_an_application(asgi: Any) -> None:
    result = await asgi.request(Router([Route("/a", echo)]), "/b")
    assert result.status == 404
    assert result.text == "Not Found"


async def test_redirect_slashes_both_directions(asgi: Any) -> None:
    app = Router([Route("/a", echo), Route("/b/", echo)])
    with_slash = await asgi.request(app, "/a/")
    assert with_slash.status == 307
    assert with_slash.headers["location"] == "http://testserver/a"
    without = await asgi.request(app, "/b")
    assert without.status == 307
    assert without.headers["location"] == "http://testserver/b/"


async def test_redirect_slashes_also_for_a_method_mismatch(asgi: Any) -> None:
    app = Router([Route("/a", echo, methods=["POST"])])
    assert (await asgi.request(app, "/a/")).status == 307


async def test_redirect_slashes_can_be_disabled(asgi: Any) -> None:
    app = Router([Route("/a", echo)], redirect_slashes=False)
    assert (await asgi.request(app, "/a/")).status == 404


async def test_default_app_answers_misses(asgi: Any) -> None:
    app = Router([Route("/a", echo)], default=PlainTextResponse("fallback", status_code=418))
    assert (await asgi.request(app, "/nothing")).status == 418


async def test_mount_sets_root_path_and_merges_params(asgi: Any) -> None:
    inner = Router([named("leaf", "/items/{item}")])
    app = Router([Mount("/orgs/{org}", app=inner)])
    body = as_json(await asgi.request(app, "/orgs/acme/items/7"))
    assert body == {"route": "leaf", "params": {"org": "acme", "item": "7"}, "root_path": "/orgs/acme"}


async def test_mount_keeps_outer_root_path(asgi: Any) -> None:
    app = Router([Mount("/sub", routes=[named("leaf", "/x")])])
    assert (await asgi.request(app, "/x", root_path="/api")).status == 404
    body = as_json(await asgi.request(app, "/sub/x", root_path="/api"))
    assert body == {"route": "leaf", "params": {}, "root_path": "/api/sub"}


async def test_mount_child_scope_equals_mount_matches(asgi: Any) -> None:
    captured: dict[str, Any] = {}

    async def sub(scope: Scope, receive: Receive, send: Send) -> None:
        captured.update({k: scope[k] for k in ("root_path", "app_root_path", "path_params", "path")})
        await Response("")(scope, receive, send)

    mount = Mount("/m/{x:int}", app=sub)
    for path in ["/m/1/", "/m/1/a/b", "/m/1/a\n"]:
        scope = asgi.http_scope(path, root_path="/r")
        expected_match, expected = mount.matches(dict(scope))
        assert expected_match is Match.FULL
        captured.clear()
        await asgi.call(Router([mount]), scope)
        assert captured["root_path"] == expected["root_path"]
        assert captured["app_root_path"] == expected["app_root_path"]
        assert captured["path_params"] == expected["path_params"]


async def test_mount_without_trailing_part_needs_the_slash(asgi: Any) -> None:
    app = Router([Mount("/static", app=PlainTextResponse("file"))])
    assert (await asgi.request(app, "/static/x")).text == "file"
    redirect = await asgi.request(app, "/static")
    assert redirect.status == 307
    assert redirect.headers["location"] == "http://testserver/static/"


async def test_routes_appended_after_first_request_are_served(asgi: Any) -> None:
    app = Router([Route("/a", echo)])
    assert (await asgi.request(app, "/b")).status == 404
    app.routes.append(named("b", "/b"))
    assert (await asgi.request(app, "/b")).status == 200


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda routes, new: routes.insert(0, new), id="insert"),
        pytest.param(lambda routes, new: routes.extend([new]), id="extend"),
        pytest.param(lambda routes, new: routes.__setitem__(0, new), id="setitem"),
        pytest.param(lambda routes, new: routes.__setitem__(slice(0, 1), [new]), id="setslice"),
        pytest.param(lambda routes, new: routes.__iadd__([new]), id="iadd"),
    ],
)
async def test_every_list_mutation_is_seen(asgi: Any, mutate: Any) -> None:
    app = Router([named("old", "/old")])
    await asgi.request(app, "/old")
    mutate(app.routes, named("new", "/new"))
    assert (await asgi.request(app, "/new")).status == 200


async def test_removing_routes_is_seen(asgi: Any) -> None:
    app = Router([named("a", "/a"), named("b", "/b")])
    await asgi.request(app, "/a")
    del app.routes[0]
    assert (await asgi.request(app, "/a")).status == 404
    app.routes.pop()
    assert (await asgi.request(app, "/b")).status == 404
    app.routes.append(named("c", "/c"))
    app.routes.remove(app.routes[0])
    assert (await asgi.request(app, "/c")).status == 404
    app.routes.append(named("d", "/d"))
    app.routes.clear()
    assert (await asgi.request(app, "/d")).status == 404


async def test_reordering_routes_is_seen(asgi: Any) -> None:
    app = Router([named("param", "/x/{v}"), named("static", "/x/me")])
    assert as_json(await asgi.request(app, "/x/me"))["route"] == "param"
    app.routes.reverse()
    assert as_json(await asgi.request(app, "/x/me"))["route"] == "static"
    app.routes.sort(key=lambda route: getattr(route, "name", ""), reverse=False)
    assert as_json(await asgi.request(app, "/x/me"))["route"] == "param"


async def test_assigning_routes_rewraps_the_list(asgi: Any) -> None:
    app = Router([named("a", "/a")])
    await asgi.request(app, "/a")
    app.routes = [named("b", "/b")]
    assert (await asgi.request(app, "/a")).status == 404
    assert (await asgi.request(app, "/b")).status == 200
    app.routes.append(named("c", "/c"))
    assert (await asgi.request(app, "/c")).status == 200


class PrefixRoute(Route):
    """A subclass with its own matches(), like FastAPI's APIRoute: it must be asked, in order."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child["custom_flag"] = True
        return match, child


async def test_routes_overriding_matches_are_consulted_in_order(asgi: Any) -> None:
    flags: list[Any] = []

    def endpoint(request: Request) -> Response:
        flags.append(request.scope.get("custom_flag"))
        return PlainTextResponse(request.scope["route"].name)

    app = Router(
        [
            Route("/a", endpoint, name="plain-a"),
            PrefixRoute("/{x}", endpoint, name="custom"),
            Route("/b", endpoint, name="plain-b"),
        ]
    )
    assert (await asgi.request(app, "/a")).text == "plain-a"
    assert (await asgi.request(app, "/b")).text == "custom"
    assert flags == [None, True]


async def test_custom_route_partial_before_native_partial(asgi: Any) -> None:
    app = Router([PrefixRoute("/a", echo, methods=["PUT"]), Route("/a", echo, methods=["POST"])])
    result = await asgi.request(app, "/a")
    assert result.status == 405
    assert result.headers["allow"] == "PUT"


async def test_host_routes(asgi: Any) -> None:
    app = Router(
        [
            Host("{sub}.example.org", app=Router([named("sub", "/")])),
            Route("/", lambda request: PlainTextResponse("default")),
        ]
    )
    body = as_json(await asgi.request(app, "/", headers=[(b"host", b"API.example.org:8080")]))
    assert body["params"] == {"sub": "api"}
    assert (await asgi.request(app, "/")).text == "default"


async def test_route_and_endpoint_are_set_in_scope(asgi: Any) -> None:
    seen: dict[str, Any] = {}

    async def endpoint(request: Request) -> Response:
        seen["route"] = request.scope["route"]
        seen["endpoint"] = request.scope["endpoint"]
        seen["router"] = request.scope["router"]
        return Response("")

    route = Route("/", endpoint)
    app = Router([route])
    await asgi.request(app, "/")
    assert seen == {"route": route, "endpoint": endpoint, "router": app}


async def test_websocket_routes_only_match_websocket_scopes(asgi: Any) -> None:
    async def ws_app(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover - must not run
        raise AssertionError("websocket route used for http")

    app = Router([WebSocketRoute("/ws", ws_app)])
    assert (await asgi.request(app, "/ws")).status == 404


async def test_websocket_miss_closes(asgi: Any) -> None:
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/nope", "root_path": "", "headers": [], "query_string": b""}
    await Router([])(scope, receive, send)
    assert sent[0]["type"] == "websocket.close"


async def test_router_middleware_wraps_dispatch(asgi: Any) -> None:
    class Tag:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            scope["tagged"] = True
            await self.app(scope, receive, send)

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(str(request.scope.get("tagged")))

    app = Router([Route("/", endpoint)], middleware=[Middleware(Tag)])
    assert (await asgi.request(app, "/")).text == "True"


async def test_standalone_route_as_app(asgi: Any) -> None:
    route = Route("/", lambda request: PlainTextResponse("hi"))
    assert (await asgi.request(route, "/")).text == "hi"
    miss = await asgi.request(route, "/other")
    assert (miss.status, miss.text) == (404, "Not Found")


async def test_exception_handler_sees_the_endpoints_request(asgi: Any) -> None:
    async def endpoint(request: Request) -> Response:
        await request.body()
        raise HTTPException(status_code=422)

    async def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse((await request.body()).decode(), status_code=422)

    app = Tachyon(routes=[Route("/", endpoint, methods=["POST"])], exception_handlers={422: handler})
    result = await asgi.request(app, "/", "POST", body=b"payload")
    assert (result.status, result.text) == (422, "payload")


def test_url_path_for_routes_mounts_and_hosts() -> None:
    app = Router(
        [
            Route("/users/{id:int}", echo, name="user"),
            Mount("/api", name="api", routes=[Route("/items/{item}", echo, name="item")]),
            Mount("/static", app=PlainTextResponse(""), name="static"),
            Host("{sub}.example.org", name="hosted", app=Router([Route("/", echo, name="home")])),
        ]
    )
    assert app.url_path_for("user", id=3) == "/users/3"
    assert app.url_path_for("api:item", item="x") == "/api/items/x"
    assert app.url_path_for("static", path="/css/a.css") == "/static/css/a.css"
    url = app.url_path_for("hosted:home", sub="www")
    assert url.host == "www.example.org"
    with pytest.raises(NoMatchFound, match='No route exists for name "user" and params "id, extra".'):
        app.url_path_for("user", id=3, extra=1)


def test_replace_params_keeps_unknown_placeholders_and_reports_leftovers() -> None:
    _, _, convertors = compile_path("/{a}/{b:int}")
    path, left = replace_params("/{a}/{b}", convertors, {"a": "{b}", "c": "x"})
    assert path == "/{b}/{b}"
    assert left == {"c": "x"}


def test_route_naming_and_methods() -> None:
    def view(request: Request) -> Response:  # pragma: no cover - never called
        return Response("")

    class Endpoint:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
            pass

    assert get_name(view) == "view"
    assert get_name(Endpoint()) == "Endpoint"
    assert Route("/", view).methods == {"GET", "HEAD"}
    assert Route("/", Endpoint()).methods is None
    assert Route("/", functools.partial(view)).methods == {"GET", "HEAD"}
    assert Route("/", view, methods=["post"]).methods == {"POST"}
    assert repr(Route("/x", view)) == "Route(path='/x', name='view', methods=['GET', 'HEAD'])"
    with pytest.raises(AssertionError, match="Routed paths must start with '/'"):
        Route("x", view)
    with pytest.raises(ValueError, match="Duplicated param name id at path /{id}/{id}"):
        Route("/{id}/{id}", view)


def test_routes_compare_by_path_endpoint_and_methods() -> None:
    assert Route("/a", echo) == Route("/a", echo)
    assert Route("/a", echo) != Route("/a", echo, methods=["POST"])
    static = PlainTextResponse("")
    assert Mount("/m", app=static) == Mount("/m/", app=static)
    assert Router([Route("/a", echo)]) == Router([Route("/a", echo)])


# --- differential test: the compiled router must pick the route Starlette's in-order loop picks ---


def _reference_pick(routes: list[BaseRoute], scope: Scope) -> tuple[str, Any]:
    partial = None
    for route in routes:
        match, child = route.matches(dict(scope))
        if match is Match.FULL:
            return "full", (route.name, child.get("path_params"))  # type: ignore[attr-defined]
        if match is Match.PARTIAL and partial is None:
            partial = route
    if partial is not None:
        return "partial", partial.name  # type: ignore[attr-defined]
    return "none", None


_TEMPLATES = [
    "/",
    "/users",
    "/users/me",
    "/users/{name}",
    "/users/{id:int}",
    "/users/{id:int}/posts",
    "/files/{path:path}",
    "/files/{name}.{ext}",
    "/f/{v:float}",
    "/u/{v:uuid}",
    "/{a}/{b}",
    "/{catch:path}",
]
_PATHS = [
    "/",
    "/users",
    "/users/",
    "/users/me",
    "/users/42",
    "/users/42/posts",
    "/users/tom/posts",
    "/files/a/b.txt",
    "/files/a.b.c",
    "/f/1.5",
    "/f/1",
    "/u/ec38df32ceda4cfa9b4a1aeb94ad551a",
    "/x/y",
    "/x/y/z",
    "/users/42\n",
    "/ünï/cödé",
]


async def test_compiled_router_agrees_with_in_order_matching(asgi: Any) -> None:
    rng = random.Random(1234)
    picked: dict[str, Any] = {}

    async def endpoint(request: Request) -> Response:
        picked["name"] = request.scope["route"].name
        picked["params"] = dict(request.path_params)
        return Response("")

    async def on_405(request: Request, exc: Exception) -> Response:
        picked["name"] = request.scope["route"].name
        return Response("", status_code=405)

    for _ in range(25):
        chosen = rng.sample(_TEMPLATES, rng.randint(1, len(_TEMPLATES)))
        routes: list[BaseRoute] = []
        for i, template in enumerate(chosen):
            methods = rng.choice([None, ["GET"], ["POST"], ["GET", "PUT"]])
            routes.append(Route(template, endpoint, name=f"r{i}", methods=methods or ["GET"]))
        app = Tachyon(routes=routes, exception_handlers={405: on_405})
        app.router.redirect_slashes = False
        for path in _PATHS:
            for method in ("GET", "POST"):
                scope = asgi.http_scope(path, method)
                kind, expected = _reference_pick(routes, scope)
                picked.clear()
                result = await asgi.call(app, scope)
                if kind == "full":
                    assert result.status == 200, (chosen, path, method)
                    assert (picked["name"], picked["params"]) == expected, (chosen, path, method)
                elif kind == "partial":
                    assert result.status == 405, (chosen, path, method)
                    assert picked["name"] == expected, (chosen, path, method)
                else:
                    assert result.status == 404, (chosen, path, method)


def as_json(result: Any) -> Any:
    return json.loads(result.body)


async def test_endpoint_returning_a_non_response_is_a_type_error(asgi: Any) -> None:
    def no_response(request: Request) -> Any:
        return None

    with pytest.raises(TypeError):
        await asgi.request(Router([Route("/", no_response)]), "/")


# --- differential test over mixed route kinds: the scope the endpoint sees must be what the
# --- in-order `matches()` loop (Starlette's algorithm) would have produced.

_SCOPE_KEYS = ("route", "endpoint", "path_params", "root_path", "app_root_path")


class _Recorder:
    """An ASGI app recording the scope keys routing sets."""

    def __init__(self) -> None:
        self.seen: dict[str, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen = {key: scope.get(key, "<unset>") for key in _SCOPE_KEYS}
        await Response("")(scope, receive, send)


def _reference_scope(routes: list[BaseRoute], scope: Scope) -> dict[str, Any] | str:
    scope = dict(scope)
    partial = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            scope["route"] = route
            scope.update(child)
            return {key: scope.get(key, "<unset>") for key in _SCOPE_KEYS}
        if match is Match.PARTIAL and partial is None:
            partial = route
    return "405" if partial is not None else "404"


_MIXED_TEMPLATES = ["/", "/a", "/a/{x}", "/a/{x:int}", "/{x}/b", "/m", "/m/{y:int}", "/{p:path}", "/a/{x}.{e}"]
_MIXED_PATHS = ["/", "/a", "/a/", "/a/1", "/a/z", "/a/z.txt", "/q/b", "/m/", "/m/2/a", "/m/x", "/a/1\n", "/é/b"]


def _random_routes(rng: random.Random, recorder: _Recorder, kinds: list[str], most: int) -> list[BaseRoute]:
    """Between 1 and ``most`` of the mixed templates, each made a route of a kind drawn from ``kinds``."""
    routes: list[BaseRoute] = []
    for template in rng.sample(_MIXED_TEMPLATES, rng.randint(1, most)):
        kind = rng.choice(kinds)
        if kind == "route":
            routes.append(Route(template, recorder))
        elif kind == "get-route":
            routes.append(Route(template, recorder, methods=["GET"]))
        elif kind == "post-route":
            routes.append(Route(template, recorder, methods=["POST"]))
        elif kind == "custom":
            routes.append(PrefixRoute(template, recorder, methods=["GET"]))
        elif "{p:path}" not in template:
            routes.append(Mount(template, app=recorder))
    return routes


@pytest.mark.parametrize("seed", range(6))
async def test_mixed_route_kinds_agree_with_in_order_matching(asgi: Any, seed: int) -> None:
    rng = random.Random(seed)
    recorder = _Recorder()
    for _ in range(6):
        routes = _random_routes(
            rng, recorder, ["route", "get-route", "post-route", "custom", "mount"], len(_MIXED_TEMPLATES)
        )
        app = Router(routes, redirect_slashes=False)
        for path in _MIXED_PATHS:
            for root_path in ("", "/root"):
                scope = asgi.http_scope(path, root_path=root_path)
                scope["path_params"] = {"outer": "1"} if root_path else {}
                expected = _reference_scope(routes, scope)
                recorder.seen = None
                result = await asgi.call(app, scope)
                context = (routes, path, root_path)
                if isinstance(expected, str):
                    assert str(result.status) == expected, context
                else:
                    assert result.status == 200, context
                    assert recorder.seen == expected, context


def _reference_redirect(routes: list[BaseRoute], scope: Scope) -> bool:
    """Starlette's redirect_slashes rule, for a request nothing matched."""
    path: str = scope["path"]
    route_path = path[len(scope["root_path"]) :] if scope["root_path"] else path
    if route_path == "/":
        return False
    toggled = dict(scope, path=path.rstrip("/") if route_path.endswith("/") else path + "/")
    return any(route.matches(toggled)[0] is not Match.NONE for route in routes)


@pytest.mark.parametrize("seed", range(4))
async def test_redirect_slashes_agrees_with_in_order_matching(asgi: Any, seed: int) -> None:
    rng = random.Random(100 + seed)
    recorder = _Recorder()
    for _ in range(6):
        routes = _random_routes(rng, recorder, ["route", "post-route", "custom", "mount"], 5)
        app = Router(routes)
        for path in _MIXED_PATHS + ["/a/1/", "/m/2", "/q/b/"]:
            scope = asgi.http_scope(path)
            expected = _reference_scope(routes, scope)
            if not isinstance(expected, str) or expected == "405":
                continue
            result = await asgi.call(app, scope)
            if _reference_redirect(routes, scope):
                assert result.status == 307, (routes, path)
                toggled = path.rstrip("/") if path.endswith("/") else path + "/"
                assert result.headers["location"] == "http://testserver" + toggled.replace("\n", "%0A").replace(
                    "é", "%C3%A9"
                ), (routes, path)
            else:
                assert result.status == 404, (routes, path)


async def test_a_replaced_path_regex_is_honoured(asgi: Any) -> None:
    import re

    route = Route("/hello", lambda request: PlainTextResponse("hi"))
    route.path_regex = re.compile("^/hello$", re.IGNORECASE)
    app = Router([route])
    assert (await asgi.request(app, "/HELLO")).text == "hi"
