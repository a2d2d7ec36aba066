"""Routes, mounts, hosts and the Router that dispatches between them.

Behaviour follows Starlette 1.10.0: routes are tried in registration order, the first full match
wins, the first path-only match (wrong method) answers 405, and ``redirect_slashes`` retries with the
other slash form. The Router does not loop over its routes, though: it compiles them into a
``tachyon_router.RouteTable`` (a radix tree) and asks it for the lowest matching index in one call.
Routes the table cannot reason about (``Host``, any class that overrides ``matches()``) stay
"opaque": the table reports which of them could come first, and only those have ``matches()``
called, in order.

Every public name of Starlette's ``routing`` module is importable from here. The pieces live by concern:
``tachyon._adapters`` (``request_response``, ``websocket_session``), ``tachyon._reverse`` (``url_path_for``
helpers, ``NoMatchFound``; ``replace_params`` is tachyon-router's), ``tachyon._lifespan`` (the ``lifespan=``
argument), ``tachyon._route_table`` (the versioned route list and its compiled table); this module keeps the
route classes and the Router's dispatch.
"""

from __future__ import annotations

import functools
import inspect
import re
import traceback
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from enum import Enum
from typing import Any

import tachyon_router
from tachyon_http._shared import get_route_path, parse_host_header
from tachyon_http.datastructures import URL, Headers, URLPath
from tachyon_http.exceptions import HTTPException
from tachyon_http.requests import Request
from tachyon_http.responses import PlainTextResponse, RedirectResponse, Response
from tachyon_http.types import ASGIApp, Lifespan, Receive, Scope, Send
from tachyon_router import RouteSpec, compile_path
from tachyon_router.convertors import Convertor, IntegerConvertor
from tachyon_ws.websockets import WebSocket, WebSocketClose

from tachyon._adapters import get_name, request_response, websocket_session
from tachyon._lifespan import _DefaultLifespan, _lifespan_context_for
from tachyon._reverse import (
    PARAM_REGEX as PARAM_REGEX,  # public in Starlette's module too
    NoMatchFound,
    _child_name,
    _endpoint_url,
    _first_url,
    replace_params,
)
from tachyon._route_table import (
    _MOUNT,
    _MOUNT_HANDLE,
    _OPAQUE,
    _ROUTE,
    _ROUTE_HANDLE,
    _WEBSOCKET,
    _WEBSOCKET_HANDLE,
    _Compiled,
    _Found,
    _RouteList,
)
from tachyon.middleware import Middleware

__all__ = [
    "BaseRoute",
    "Host",
    "Match",
    "Mount",
    "NoMatchFound",
    "Route",
    "Router",
    "WebSocketRoute",
    "compile_path",
    "get_name",
    "replace_params",
    "request_response",
    "websocket_session",
]


class Match(Enum):
    NONE = 0
    PARTIAL = 1
    FULL = 2


# ---------------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------------


def _is_plain_callable(endpoint: Any) -> bool:
    """True for functions and methods (possibly behind functools.partial): ``f(request)`` style."""
    target = endpoint
    while isinstance(target, functools.partial):
        target = target.func
    return inspect.isfunction(target) or inspect.ismethod(target)


def _apply_layers(app: ASGIApp, middleware: Sequence[Middleware] | None, max_body_size: int | None) -> ASGIApp:
    """Wrap ``app`` in the declared middleware (first declared = outermost), then the body limit."""
    wrapped = app
    for factory, args, kwargs in reversed(middleware or ()):
        wrapped = factory(wrapped, *args, **kwargs)
    if max_body_size is None:
        return wrapped
    from tachyon.middleware.body_limit import RequestBodyLimitMiddleware

    return RequestBodyLimitMiddleware(wrapped, max_body_size=max_body_size)


def _merge_params(scope: Scope, matched: dict[str, Any]) -> dict[str, Any]:
    """The child ``path_params``: the outer ones (from enclosing mounts/hosts), then the matched ones."""
    outer = scope.get("path_params")
    if not outer:
        return matched
    merged = dict(outer)
    merged.update(matched)
    return merged


def _match_params(regex: re.Pattern[str], convertors: dict[str, Convertor[Any]], text: str) -> dict[str, Any] | None:
    """The converted params when ``regex`` matches ``text``; ``None`` when it does not match.

    The built-in int convertor's text past Python's int-digit limit (``int()`` raises ``ValueError``) means no
    match, as the route table answers (docs/security.md): an absurd number in a path is a 404, not a 500, on
    routes matched by their regex too (a replaced ``path_regex``, an overridden ``matches``).
    """
    found = regex.match(text)
    if found is None:
        return None
    params = {}
    for key, raw in found.groupdict().items():
        convertor = convertors[key]
        if type(convertor) is IntegerConvertor:
            try:
                params[key] = int(raw)
            except ValueError:
                return None
        else:
            params[key] = convertor.convert(raw)
    return params


def _compile_template(route: Any, template: str) -> None:
    """Set the route's ``path_regex``, ``path_format`` and bound ``param_convertors``."""
    regex, path_format, convertors = compile_path(template)
    route.path_regex = regex
    route.path_format = path_format
    route.param_convertors = convertors


def _check_path(path: str, *, allow_empty: bool = False) -> None:
    assert (allow_empty and path == "") or path.startswith("/"), "Routed paths must start with '/'"


def _same_as(route: Any, other: Any, cls: type, fields: tuple[str, ...]) -> bool:
    return isinstance(other, cls) and all(getattr(route, field) == getattr(other, field) for field in fields)


class BaseRoute:
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        raise NotImplementedError()  # pragma: no cover

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NotImplementedError()  # pragma: no cover

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError()  # pragma: no cover

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve this single route as a complete ASGI app (404 / websocket close when it does not match)."""
        outcome, changes = self.matches(scope)
        if outcome is not Match.NONE:
            scope.update(changes)
            await self.handle(scope, receive, send)
        elif scope["type"] == "http":
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
        elif scope["type"] == "websocket":
            await WebSocketClose()(scope, receive, send)


class _ForwardingRoute(BaseRoute):
    """Routes whose handling is simply their (possibly middleware-wrapped) ``app``."""

    app: ASGIApp

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class Route(BaseRoute):
    path_regex: re.Pattern[str]
    path_format: str
    param_convertors: dict[str, Convertor[Any]]

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
        middleware: Sequence[Middleware] | None = None,
        max_body_size: int | None = None,
    ) -> None:
        _check_path(path)
        self.path = path
        self.endpoint = endpoint
        self.name = name if name is not None else get_name(endpoint)
        self.include_in_schema = include_in_schema

        # A function or method is `f(request) -> response` and defaults to GET; anything else (an
        # HTTPEndpoint class, an ASGI object) is an ASGI app accepting every method.
        plain = _is_plain_callable(endpoint)
        core: ASGIApp = request_response(endpoint) if plain else endpoint
        if plain and methods is None:
            methods = ("GET",)
        self.app = _apply_layers(core, middleware, max_body_size)

        self.methods: set[str] | None = None
        if methods is not None:
            allowed = {verb.upper() for verb in methods}
            if "GET" in allowed:
                allowed.add("HEAD")
            self.methods = allowed

        _compile_template(self, path)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        matched = _match_params(self.path_regex, self.param_convertors, get_route_path(scope))
        if matched is None:
            return Match.NONE, {}
        changes = {"endpoint": self.endpoint, "path_params": _merge_params(scope, matched)}
        method_ok = not self.methods or scope["method"] in self.methods
        return (Match.FULL if method_ok else Match.PARTIAL), changes

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return _endpoint_url(self, name, path_params, "http")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        allowed = self.methods
        if not allowed or scope["method"] in allowed:
            await self.app(scope, receive, send)
            return
        allow_header = {"Allow": ", ".join(allowed)}
        # Inside an application the 405 goes through the exception handlers.
        if "app" in scope:
            raise HTTPException(status_code=405, headers=allow_header)
        await PlainTextResponse("Method Not Allowed", status_code=405, headers=allow_header)(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return _same_as(self, other, Route, ("path", "endpoint", "methods"))

    def __repr__(self) -> str:
        verbs = sorted(self.methods or ())
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r}, methods={verbs!r})"


class WebSocketRoute(_ForwardingRoute):
    path_regex: re.Pattern[str]
    path_format: str
    param_convertors: dict[str, Convertor[Any]]

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        _check_path(path)
        self.path = path
        self.endpoint = endpoint
        self.name = name if name is not None else get_name(endpoint)
        core: ASGIApp = websocket_session(endpoint) if _is_plain_callable(endpoint) else endpoint
        self.app = _apply_layers(core, middleware, None)
        _compile_template(self, path)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "websocket":
            return Match.NONE, {}
        matched = _match_params(self.path_regex, self.param_convertors, get_route_path(scope))
        if matched is None:
            return Match.NONE, {}
        return Match.FULL, {"endpoint": self.endpoint, "path_params": _merge_params(scope, matched)}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return _endpoint_url(self, name, path_params, "websocket")

    def __eq__(self, other: Any) -> bool:
        return _same_as(self, other, WebSocketRoute, ("path", "endpoint"))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r})"


def _mount_child_scope(scope: Scope, route_path: str, params: dict[str, Any], app: ASGIApp) -> dict[str, Any]:
    """The scope changes of a Mount match; ``params`` holds the converted params incl. "path"."""
    rest = params.pop("path")
    # The mounted prefix is what precedes "/" + rest, measured from the end as the regex matched it.
    prefix = route_path[: len(route_path) - len(rest) - 1]
    outer_root = scope.get("root_path", "")
    return {
        "path_params": _merge_params(scope, params),
        # Set by the outermost mount only: Request.url_for() builds absolute paths from it.
        "app_root_path": scope.get("app_root_path", outer_root),
        "root_path": outer_root + prefix,
        "endpoint": app,
    }


class Mount(_ForwardingRoute):
    path_regex: re.Pattern[str]
    path_format: str
    param_convertors: dict[str, Convertor[Any]]

    def __init__(
        self,
        path: str,
        app: ASGIApp | None = None,
        routes: Sequence[BaseRoute] | None = None,
        name: str | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
        max_body_size: int | None = None,
    ) -> None:
        _check_path(path, allow_empty=True)
        assert app is not None or routes is not None, "Either 'app=...', or 'routes=' must be specified"
        self.path = path.rstrip("/")
        self._base_app: ASGIApp = Router(routes=routes) if app is None else app
        self.app = _apply_layers(self._base_app, middleware, max_body_size)
        self.name = name
        _compile_template(self, f"{self.path}/{{path:path}}")

    @property
    def routes(self) -> list[BaseRoute]:
        return getattr(self._base_app, "routes", [])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        route_path = get_route_path(scope)
        matched = _match_params(self.path_regex, self.param_convertors, route_path)
        if matched is None:
            return Match.NONE, {}
        return Match.FULL, _mount_child_scope(scope, route_path, matched, self.app)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        child_name = None
        if "path" in path_params and self.name is not None and name == self.name:
            # The mount itself, by name, with the sub-path given as "path".
            path_params["path"] = path_params["path"].lstrip("/")
            path, leftover = replace_params(self.path_format, self.param_convertors, path_params)
            if not leftover:
                return URLPath(path=path)
        else:
            child_name = _child_name(self.name, name)
        if child_name is not None:
            sub_path = path_params.get("path")
            path_params["path"] = ""
            prefix, leftover = replace_params(self.path_format, self.param_convertors, path_params)
            if sub_path is not None:
                leftover["path"] = sub_path
            found = _first_url(self.routes or (), child_name, leftover)
            if found is not None:
                return URLPath(path=prefix.rstrip("/") + str(found), protocol=found.protocol)
        raise NoMatchFound(name, path_params)

    def __eq__(self, other: Any) -> bool:
        return _same_as(self, other, Mount, ("path", "app"))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, name={self.name or ''!r}, app={self.app!r})"


class Host(_ForwardingRoute):
    def __init__(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        assert not host.startswith("/"), "Host must not start with '/'"
        self.host = host
        self.app = app
        self.name = name
        self.host_regex, self.host_format, self.param_convertors = compile_path(host)

    @property
    def routes(self) -> list[BaseRoute]:
        return getattr(self.app, "routes", [])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        parsed = parse_host_header(Headers(scope=scope).get("host"))
        if parsed is None:
            return Match.NONE, {}
        # Host names are case-insensitive; the pattern is compiled IGNORECASE, the value lowered.
        matched = _match_params(self.host_regex, self.param_convertors, parsed.host.lower())
        if matched is None:
            return Match.NONE, {}
        return Match.FULL, {"path_params": _merge_params(scope, matched), "endpoint": self.app}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        child_name = None
        if "path" in path_params and self.name is not None and name == self.name:
            sub_path = path_params.pop("path")
            host, leftover = replace_params(self.host_format, self.param_convertors, path_params)
            if not leftover:
                return URLPath(path=sub_path, host=host)
        else:
            child_name = _child_name(self.name, name)
        if child_name is not None:
            host, leftover = replace_params(self.host_format, self.param_convertors, path_params)
            found = _first_url(self.routes or (), child_name, leftover)
            if found is not None:
                return URLPath(path=str(found), protocol=found.protocol, host=host)
        raise NoMatchFound(name, path_params)

    def __eq__(self, other: Any) -> bool:
        return _same_as(self, other, Host, ("host", "app"))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.host!r}, name={self.name or ''!r}, app={self.app!r})"


def _regex_is_template(route: Any, template: str) -> bool:
    """Whether the route still matches with the regex its template compiles to.

    The table matches the template; a route whose ``path_regex`` was replaced after construction
    (a library making it case-insensitive, say) must be asked through ``matches()`` instead.
    """
    regex = getattr(route, "path_regex", None)
    if regex is None:
        return False
    expected = compile_path(template)[0]
    return bool(regex.pattern == expected.pattern and regex.flags == expected.flags)


def _classify(route: Any) -> tuple[int, RouteSpec]:
    cls = type(route)
    opaque = RouteSpec(None, None, tachyon_router.HTTP | tachyon_router.WEBSOCKET, None)
    if isinstance(route, (Route, WebSocketRoute)) and not _regex_is_template(route, route.path):
        return _OPAQUE, opaque
    if isinstance(route, Mount) and not _regex_is_template(route, route.path + "/{path:path}"):
        return _OPAQUE, opaque
    if isinstance(route, Route) and cls.matches is Route.matches:
        methods = frozenset(route.methods) if route.methods else None
        spec = RouteSpec(route.path, methods, tachyon_router.HTTP, route.param_convertors)
        return (_ROUTE if cls.handle is Route.handle else _ROUTE_HANDLE), spec
    if isinstance(route, WebSocketRoute) and cls.matches is WebSocketRoute.matches:
        spec = RouteSpec(route.path, None, tachyon_router.WEBSOCKET, route.param_convertors)
        return (_WEBSOCKET if cls.handle is WebSocketRoute.handle else _WEBSOCKET_HANDLE), spec
    if isinstance(route, Mount) and cls.matches is Mount.matches:
        spec = RouteSpec(
            route.path + "/{path:path}",
            None,
            tachyon_router.HTTP | tachyon_router.WEBSOCKET,
            route.param_convertors,
        )
        return (_MOUNT if cls.handle is Mount.handle else _MOUNT_HANDLE), spec
    return _OPAQUE, opaque


def _mounted_router(mount: Mount) -> Router | None:
    """The Router a plain Mount's app is, when ``Router.fast_path_lookup`` may carry on into it; else None.

    Decided when the outer router compiles its routes: a Router (or subclass) whose ``__call__``, ``app`` and
    ``fast_path_lookup`` are Router's own and that was built by ``Router.__init__``, so that calling it runs
    ``app()``, which the lookup stands for, while its ``middleware_stack`` is still that (checked per request, as
    is ``mount.app``). Middleware on the Mount, any other app or an overridden dispatch method: None.
    """
    app = mount.app
    if isinstance(app, Router) and _stock_dispatch(app) and app._tachyon_plain_stack is not None:
        return app
    return None


def _stock_dispatch(router: Router) -> bool:
    """Whether ``router``'s class keeps Router's own ``__call__``, ``app`` and ``fast_path_lookup``: what the fast
    path stands for (checked once, for the application's router and for each mounted one)."""
    cls = type(router)
    return cls.__call__ is Router.__call__ and cls.app is Router.app and cls.fast_path_lookup is Router.fast_path_lookup


# What Router.fast_path_lookup() found (see there).
RESOLVED_ENDPOINT = 0
RESOLVED_REFUSAL = 1
RESOLVED_REDIRECT = 2
RESOLVED_OTHER = 3
RESOLVED_APP = 4
# The refusal of a request no route matches, inside an application (see Router.not_found).
_NOT_FOUND: tuple[int, None] = (404, None)


async def _enter(route: Any, changes: Scope, scope: Scope, receive: Receive, send: Send) -> None:
    """Hand the request to a route ``matches()`` accepted, with the scope changes it asked for."""
    scope["route"] = route
    scope.update(changes)
    await route.handle(scope, receive, send)


# ---------------------------------------------------------------------------------------------
# Router
# ---------------------------------------------------------------------------------------------


class Router:
    # See __init__; a class default for subclasses that do not call it.
    _tachyon_plain_stack: Any = None
    _tachyon_inline: Any = None
    _tachyon_compiled: _Compiled | None = None

    def __init__(
        self,
        routes: Sequence[BaseRoute] | None = None,
        redirect_slashes: bool = True,
        default: ASGIApp | None = None,
        # Typed Any: the router cannot know the type of the application it will be given.
        lifespan: Lifespan[Any] | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
        max_body_size: int | None = None,
    ) -> None:
        if type(self).routes is _ROUTES_PROPERTY:
            # What the property's setter does, without the call.
            self._tachyon_routes = _RouteList(() if routes is None else routes)
            self._tachyon_compiled = None
        else:
            self.routes = list(routes or ())
        self.redirect_slashes = redirect_slashes
        self.default = default if default is not None else self.not_found
        self.lifespan_context: Lifespan[Any] = (
            _DefaultLifespan(self) if lifespan is None else _lifespan_context_for(self, lifespan)
        )
        # The bound method itself, kept to recognise (by identity) a stack that is still just this router.
        self._tachyon_plain_stack = self.app
        # The same, when __call__ may run app()'s steps itself (app() and the lookup are Router's own).
        cls = type(self)
        self._tachyon_inline = (
            self._tachyon_plain_stack
            if cls.app is Router.app and cls.fast_path_lookup is Router.fast_path_lookup
            else None
        )
        self.middleware_stack: ASGIApp = (
            self._tachyon_plain_stack
            if middleware is None and max_body_size is None
            else _apply_layers(self._tachyon_plain_stack, middleware, max_body_size)
        )

    # `routes` is a property so that assigning a plain list still yields a tracked _RouteList.
    @property
    def routes(self) -> list[BaseRoute]:
        return self._tachyon_routes

    @routes.setter
    def routes(self, routes: Iterable[BaseRoute]) -> None:
        self._tachyon_routes = routes if type(routes) is _RouteList else _RouteList(routes)
        self._tachyon_compiled = None

    def _compile(self) -> _Compiled:
        compiled = _Compiled(self._tachyon_routes, _classify, _mounted_router)
        self._tachyon_compiled = compiled
        return compiled

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await WebSocketClose()(scope, receive, send)
            return
        # Inside an application the 404 goes through the exception handlers.
        if "app" in scope:
            raise HTTPException(status_code=404)
        await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        found = _first_url(self.routes, name, path_params)
        if found is None:
            raise NoMatchFound(name, path_params)
        return found

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the ASGI lifespan protocol around ``lifespan_context``.

        A mapping yielded by the context becomes the server's lifespan ``state`` (copied into each
        request's scope by the server); failures are reported to the server, then re-raised.
        """
        phase = "startup"
        await receive()  # lifespan.startup
        try:
            async with self.lifespan_context(scope.get("app")) as initial_state:
                if initial_state is not None:
                    if "state" not in scope:
                        raise RuntimeError('The server does not support "state" in the lifespan scope.')
                    scope["state"].update(initial_state)
                await send({"type": "lifespan.startup.complete"})
                phase = "shutdown"
                await receive()  # lifespan.shutdown
        except BaseException:
            await send({"type": f"lifespan.{phase}.failed", "message": traceback.format_exc()})
            raise
        await send({"type": "lifespan.shutdown.complete"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.middleware_stack is not self._tachyon_inline or scope["type"] != "http":
            await self.middleware_stack(scope, receive, send)
            return
        # An HTTP request to a Router without middleware whose dispatch is Router's own (a mounted Router reached
        # through the Mount's middleware, or called by other code): what app() does, one coroutine less, from
        # the fast path's lookup. Refusals raise what app() raises for them (the route's 405, not_found's 404).
        kind, target = self.fast_path_lookup(scope)
        if kind == RESOLVED_ENDPOINT:
            # The route's app is still its request_response() adapter (the lookup checked it).
            await scope["route"].app(scope, receive, send)
        elif kind == RESOLVED_APP or kind == RESOLVED_REDIRECT:
            await target(scope, receive, send)
        elif kind == RESOLVED_REFUSAL:
            status_code, headers = target
            raise HTTPException(status_code=status_code, headers=headers)
        else:
            router, found = target
            await router.app(scope, receive, send, found=found)

    def fast_path_lookup(self, scope: Scope) -> tuple[int, Any]:
        """Look an HTTP request up for the fast path (tachyon._fastpath), which runs what ``app()`` would.

        - ``(RESOLVED_ENDPOINT, call)``: the winner is a plain Route whose app is still
          ``request_response(endpoint)``; the scope is updated as ``app()`` would and the caller runs the
          endpoint call itself.
        - ``(RESOLVED_REFUSAL, (status_code, headers))``: the HTTPException ``app()`` would raise (the built-in
          404; a plain Route's 405, with the scope entered as for ``handle()``).
        - ``(RESOLVED_REDIRECT, response)``: the slash redirect ``app()`` would send.
        - ``(RESOLVED_APP, app)``: the winner is a plain Mount; the scope is entered as ``app()`` enters it and
          the caller calls ``app`` (the mount's app: its middleware, or a Router reached through them).
        - ``(RESOLVED_OTHER, (router, found))``: anything else; ``router.app(..., found=found)`` continues from
          this lookup.

        When the winner is a plain Mount of a Router without middleware (``_mounted_router``, decided when the
        routes are compiled), the scope is entered as ``app()`` enters the mount (the mount as ``route``, then
        its child scope) and the answer is the inner Router's own ``fast_path_lookup``, whose ``router`` may
        then be the inner one: everything below the mount, including its 404, 405 and slash redirect, is the
        inner Router's, as when ``app()`` calls it.
        """
        scope.setdefault("router", self)
        current = self._tachyon_compiled
        compiled = (
            current if current is not None and current.version == self._tachyon_routes._version else self._compile()
        )
        route_path = get_route_path(scope) if scope.get("root_path") else scope["path"]
        method = scope["method"]
        answer = compiled.lookup(route_path, method, tachyon_router.HTTP)
        full = answer[0]
        if not answer[2]:
            if full >= 0:
                endpoint = compiled.endpoints[full]
                route = compiled.routes[full]
                if endpoint is not None and route.app is endpoint[0]:
                    scope["route"] = route
                    scope["endpoint"] = route.endpoint
                    params = answer[3]
                    scope["path_params"] = _merge_params(scope, params) if scope.get("path_params") else params
                    return RESOLVED_ENDPOINT, endpoint[1]
                if compiled.kinds[full] == _MOUNT:
                    # What app() does for a _MOUNT: the scope entered, then the mount's app is called.
                    app = route.app
                    scope["route"] = route
                    scope.update(_mount_child_scope(scope, route_path, answer[3], app))
                    inner = compiled.mounted_routers[full]
                    if inner is not None and app is inner and inner.middleware_stack is inner._tachyon_plain_stack:
                        # A Router without middleware: what its app() would look up.
                        inner_answer: tuple[int, Any] = inner.fast_path_lookup(scope)
                        return inner_answer
                    return RESOLVED_APP, app
            elif answer[1] >= 0:
                # A method mismatch on a plain Route: the 405 its handle() would raise.
                partial = answer[1]
                route = compiled.routes[partial]
                allowed = route.methods
                if compiled.kinds[partial] == _ROUTE and allowed and method not in allowed and "app" in scope:
                    self._enter_partial(route, _ROUTE, scope)
                    return RESOLVED_REFUSAL, (405, {"Allow": ", ".join(allowed)})
            else:
                # A miss: what app() does for it, short of sending.
                if self.redirect_slashes and route_path != "/":
                    toggled = self._slash_redirect(compiled, scope, route_path, method)
                    if toggled is not None:
                        return RESOLVED_REDIRECT, RedirectResponse(url=str(URL(scope=toggled)))
                if getattr(self.default, "__func__", None) is Router.not_found and "app" in scope:
                    return RESOLVED_REFUSAL, _NOT_FOUND
                return RESOLVED_OTHER, (self, (compiled, route_path, answer, True))
        return RESOLVED_OTHER, (self, (compiled, route_path, answer, False))

    async def app(self, scope: Scope, receive: Receive, send: Send, *, found: _Found = None) -> None:
        # ``found``: what fast_path_lookup() already looked up for this (HTTP) scope.
        route: Any
        if found is not None:
            compiled, route_path, (full, partial, candidates, params), slash_checked = found
            type_bit = tachyon_router.HTTP
            method = scope["method"]
        else:
            slash_checked = False
            scope_type = scope["type"]
            if scope_type == "http":
                type_bit = tachyon_router.HTTP
                method = scope["method"]
            elif scope_type == "websocket":
                type_bit = tachyon_router.WEBSOCKET
                method = ""
            else:
                assert scope_type == "lifespan"
                scope.setdefault("router", self)
                await self.lifespan(scope, receive, send)
                return
            scope.setdefault("router", self)

            current = self._tachyon_compiled
            compiled = (
                current if current is not None and current.version == self._tachyon_routes._version else self._compile()
            )

            route_path = get_route_path(scope) if scope.get("root_path") else scope["path"]
            full, partial, candidates, params = compiled.lookup(route_path, method, type_bit)

        if candidates:
            # Opaque routes the table could not rule out, all ordered before `full`: ask them.
            opaque_partial: tuple[int, Any, Scope] | None = None
            for index in candidates:
                route = compiled.routes[index]
                outcome, changes = route.matches(scope)
                if outcome is Match.FULL:
                    await _enter(route, changes, scope, receive, send)
                    return
                if outcome is Match.PARTIAL and opaque_partial is None:
                    opaque_partial = (index, route, changes)
            if full < 0 and opaque_partial is not None and (partial < 0 or opaque_partial[0] < partial):
                await _enter(opaque_partial[1], opaque_partial[2], scope, receive, send)
                return

        if full >= 0:
            route = compiled.routes[full]
            kind = compiled.kinds[full]
            scope["route"] = route
            if kind == _ROUTE:
                # The hot path, inlined: the scope update Route.matches() would make, then the endpoint.
                scope["endpoint"] = route.endpoint
                # Inside a mount the outer params come first; the call is skipped in the usual case (none).
                scope["path_params"] = _merge_params(scope, params) if scope.get("path_params") else params
                await route.app(scope, receive, send)
            elif kind == _MOUNT:
                app = route.app
                scope.update(_mount_child_scope(scope, route_path, params, app))
                if type(app) is Router and app.middleware_stack is app._tachyon_plain_stack:
                    # A mounted Router without middleware: what its __call__ would do, one coroutine less.
                    await app.app(scope, receive, send)
                else:
                    await app(scope, receive, send)
            else:
                await self._dispatch(route, kind, scope, route_path, params, receive, send)
            return
        if partial >= 0:
            # Method mismatch: the route's handle() answers 405 with its own Allow header.
            route = compiled.routes[partial]
            kind = compiled.kinds[partial]
            await _enter(route, self._partial_changes(route, kind, scope), scope, receive, send)
            return

        if type_bit == tachyon_router.HTTP and self.redirect_slashes and route_path != "/" and not slash_checked:
            toggled = self._slash_redirect(compiled, scope, route_path, method)
            if toggled is not None:
                await RedirectResponse(url=str(URL(scope=toggled)))(scope, receive, send)
                return

        await self.default(scope, receive, send)

    async def _dispatch(
        self,
        route: Any,
        kind: int,
        scope: Scope,
        route_path: str,
        params: dict[str, Any],
        receive: Receive,
        send: Send,
    ) -> None:
        """Finish a full match found by the table: the scope update ``route.matches()`` would make."""
        if kind == _WEBSOCKET:
            scope["endpoint"] = route.endpoint
            scope["path_params"] = _merge_params(scope, params)
            await route.app(scope, receive, send)
        elif kind == _MOUNT_HANDLE:
            scope.update(_mount_child_scope(scope, route_path, params, route.app))
            await route.handle(scope, receive, send)
        else:
            scope["endpoint"] = route.endpoint
            scope["path_params"] = _merge_params(scope, params)
            await route.handle(scope, receive, send)

    @staticmethod
    def _partial_changes(route: Any, kind: int, scope: Scope) -> Scope:
        """The scope changes ``route.matches()`` returns with a PARTIAL match the table found.

        The table converts params for full matches only; 405s are rare enough to ask the route, except for a
        plain Route without params, whose answer is known (the table saw its regex match).
        """
        if kind == _ROUTE and not route.param_convertors:
            return {"endpoint": route.endpoint, "path_params": _merge_params(scope, {})}
        changes: Scope = route.matches(scope)[1]
        return changes

    def _enter_partial(self, route: Any, kind: int, scope: Scope) -> None:
        scope["route"] = route
        scope.update(self._partial_changes(route, kind, scope))

    def _slash_redirect(self, compiled: _Compiled, scope: Scope, route_path: str, method: str) -> Scope | None:
        """The scope to redirect to when a route matches the other slash form of the path (Starlette rule)."""
        original: str = scope["path"]
        other_path = original.rstrip("/") if route_path.endswith("/") else original + "/"
        toggled: Scope | None = None
        if scope.get("root_path"):
            toggled = {**scope, "path": other_path}
            other_route_path = get_route_path(toggled)
        else:
            # Without a root_path the route path is the path itself: no scope copy for the (usual) miss.
            other_route_path = other_path
        segments = compiled.first_segments
        if segments is not None and other_route_path[:1] == "/" and "\n" not in other_route_path:
            # Toggling the trailing slash keeps the first segment; if no template starts with it, the other form
            # misses too ("$" also matches before a final newline, hence no shortcut for paths holding one).
            end = other_route_path.find("/", 1)
            if (other_route_path[1:end] if end > 0 else other_route_path[1:]) not in segments:
                return None
        full, partial, candidates, _ = compiled.lookup(other_route_path, method, tachyon_router.HTTP)
        if full < 0 and partial < 0 and not candidates:
            return None
        if toggled is None:
            toggled = {**scope, "path": other_path}
        if full < 0 and partial < 0:
            # Only opaque routes could match the other form: ask them.
            if all(compiled.routes[index].matches(toggled)[0] is Match.NONE for index in candidates):
                return None
        return toggled

    def __eq__(self, other: Any) -> bool:
        return _same_as(self, other, Router, ("routes",))

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        self.routes.append(Mount(path, app=app, name=name))

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        self.routes.append(Host(host, app=app, name=name))

    def add_route(
        self,
        path: str,
        endpoint: Callable[[Request], Awaitable[Response] | Response],
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        self.routes.append(
            Route(path, endpoint=endpoint, methods=methods, name=name, include_in_schema=include_in_schema)
        )

    def add_websocket_route(
        self,
        path: str,
        endpoint: Callable[[WebSocket], Awaitable[None]],
        name: str | None = None,
    ) -> None:
        self.routes.append(WebSocketRoute(path, endpoint=endpoint, name=name))


# Router.routes, to tell whether a subclass replaced it (Router.__init__).
_ROUTES_PROPERTY = Router.routes
