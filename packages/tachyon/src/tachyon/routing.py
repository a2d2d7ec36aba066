"""Routes, mounts, hosts and the Router that dispatches between them.

Behaviour follows Starlette 1.10.0: routes are tried in registration order, the first full match
wins, the first path-only match (wrong method) answers 405, and ``redirect_slashes`` retries with the
other slash form. The Router does not loop over its routes, though: it compiles them into a
``tachyon_router.RouteTable`` (a radix tree) and asks it for the lowest matching index in one call.
Routes the table cannot reason about (``Host``, any class that overrides ``matches()``) stay
"opaque": the table reports which of them could come first, and only those have ``matches()``
called, in order.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import re
import sys
import traceback
import types
import warnings
from collections.abc import Awaitable, Callable, Collection, Generator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager
from enum import Enum
from typing import Any, SupportsIndex, TypeVar

import tachyon_router
from tachyon_http._utils import get_route_path, is_async_callable, parse_host_header
from tachyon_http.concurrency import run_in_threadpool
from tachyon_http.datastructures import URL, Headers, URLPath
from tachyon_http.exceptions import HTTPException, TachyonDeprecationWarning
from tachyon_http.requests import Request
from tachyon_http.responses import PlainTextResponse, RedirectResponse, Response
from tachyon_http.types import ASGIApp, Lifespan, Receive, Scope, Send
from tachyon_router import RouteSpec, RouteTable, compile_path
from tachyon_router.convertors import Convertor
from tachyon_ws.websockets import WebSocket, WebSocketClose

from tachyon._exception_handler import _StartTracker, handle_exception
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

# Which tachyon_router backend new route tables use; None = the package default. Tests switch it.
_table_backend: str | None = None


class NoMatchFound(Exception):
    """Raised by ``url_path_for`` / ``url_for`` when no route has that name and exactly those params."""

    def __init__(self, name: str, path_params: dict[str, Any]) -> None:
        params = ", ".join(path_params)
        super().__init__(f'No route exists for name "{name}" and params "{params}".')


class Match(Enum):
    NONE = 0
    PARTIAL = 1
    FULL = 2


# ---------------------------------------------------------------------------------------------
# Endpoint adapters
# ---------------------------------------------------------------------------------------------


# Responses whose __call__ is Response.__call__ send "http.response.start" before anything that can
# raise (headers are rendered in __init__), so an exception out of them always means "started".
# For those the adapter needs no send wrapper to know it; any other response object gets one.
_RESPONSE_CALL = Response.__call__


async def _send_response(response: Any, request: Request, scope: Scope, receive: Receive, send: Send) -> None:
    if type(response).__call__ is _RESPONSE_CALL:
        try:
            await response(scope, receive, send)
        except Exception as exc:
            await handle_exception(exc, request, scope, receive, send, True)
    else:
        # Directly inside ExceptionMiddleware, `send` already is a fresh tracker: reuse it.
        tracker = send if type(send) is _StartTracker and not send.started else _StartTracker(send)
        try:
            await response(scope, receive, tracker)
        except Exception as exc:
            await handle_exception(exc, request, scope, receive, tracker, tracker.started)


def request_response(func: Callable[[Request], Awaitable[Response] | Response]) -> ASGIApp:
    """Adapt ``func(request) -> response`` (sync or async) into an ASGI app.

    Exceptions are answered by the handlers ExceptionMiddleware published in the scope, with the
    endpoint's own Request object (so a body it already read is still available).
    """
    if is_async_callable(func):
        async_func: Callable[[Request], Awaitable[Response]] = func

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            request = Request(scope, receive, send)
            try:
                response = await async_func(request)
            except Exception as exc:
                # Nothing can have been sent through the endpoint's Request: not started.
                await handle_exception(exc, request, scope, receive, send, False)
                return
            await _send_response(response, request, scope, receive, send)

    else:
        sync_func: Callable[[Request], Response] = func  # type: ignore[assignment]

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            request = Request(scope, receive, send)
            try:
                response = await run_in_threadpool(sync_func, request)
            except Exception as exc:
                await handle_exception(exc, request, scope, receive, send, False)
                return
            await _send_response(response, request, scope, receive, send)

    return app


def websocket_session(func: Callable[[WebSocket], Awaitable[None]]) -> ASGIApp:
    """Adapt ``async func(websocket)`` into an ASGI app."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        session = WebSocket(scope, receive=receive, send=send)
        try:
            await func(session)
        except Exception as exc:
            # "Started" only ever means an "http.response.start" message, which websockets never send.
            await handle_exception(exc, session, scope, receive, send, False)

    return app


def get_name(endpoint: Callable[..., Any]) -> str:
    return getattr(endpoint, "__name__", endpoint.__class__.__name__)


# ---------------------------------------------------------------------------------------------
# Reverse routing
# ---------------------------------------------------------------------------------------------

# A placeholder in a path *format* (after compile_path): "{name}", never "{name:conv}".
_FORMAT_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


def replace_params(
    path: str,
    param_convertors: dict[str, Convertor[Any]],
    path_params: dict[str, str],
) -> tuple[str, dict[str, str]]:
    """Fill the placeholders of a path format; return the path and the params left unused.

    Placeholders without a value stay as ``{name}``. Values are rendered by the param's convertor
    and are never re-scanned for placeholders.
    """
    if not path_params:
        return path, path_params
    pieces: list[str] = []
    position = 0
    for found in _FORMAT_PLACEHOLDER.finditer(path):
        pieces.append(path[position : found.start()])
        key = found.group(1)
        if key in path_params:
            pieces.append(param_convertors[key].to_string(path_params.pop(key)))
        else:
            pieces.append(found.group(0))
        position = found.end()
    pieces.append(path[position:])
    return "".join(pieces), path_params


# ---------------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------------


def _is_plain_callable(endpoint: Any) -> bool:
    """True for functions and methods (possibly behind functools.partial): ``f(request)`` style."""
    while isinstance(endpoint, functools.partial):
        endpoint = endpoint.func
    return inspect.isfunction(endpoint) or inspect.ismethod(endpoint)


def _wrap_middleware(app: ASGIApp, middleware: Sequence[Middleware] | None, max_body_size: int | None) -> ASGIApp:
    if middleware is not None:
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
    if max_body_size is not None:
        from tachyon.middleware.body_limit import RequestBodyLimitMiddleware

        app = RequestBodyLimitMiddleware(app, max_body_size=max_body_size)
    return app


def _merge_params(scope: Scope, matched: dict[str, Any]) -> dict[str, Any]:
    outer = scope.get("path_params")
    if not outer:
        return matched
    merged = dict(outer)
    merged.update(matched)
    return merged


def _convert_groups(convertors: dict[str, Convertor[Any]], groups: dict[str, str]) -> dict[str, Any]:
    return {key: convertors[key].convert(value) for key, value in groups.items()}


async def _not_found_response(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
    elif scope["type"] == "websocket":
        await WebSocketClose()(scope, receive, send)


class BaseRoute:
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        raise NotImplementedError()  # pragma: no cover

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NotImplementedError()  # pragma: no cover

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError()  # pragma: no cover

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve this single route as a complete ASGI app (404 / websocket close when it does not match)."""
        match, child_scope = self.matches(scope)
        if match is Match.NONE:
            await _not_found_response(scope, receive, send)
            return
        scope.update(child_scope)
        await self.handle(scope, receive, send)


class Route(BaseRoute):
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
        assert path.startswith("/"), "Routed paths must start with '/'"
        self.path = path
        self.endpoint = endpoint
        self.name = get_name(endpoint) if name is None else name
        self.include_in_schema = include_in_schema

        app: ASGIApp
        if _is_plain_callable(endpoint):
            app = request_response(endpoint)
            if methods is None:
                methods = ["GET"]
        else:
            # A class (HTTPEndpoint) or any other ASGI callable.
            app = endpoint
        self.app = _wrap_middleware(app, middleware, max_body_size)

        self.methods: set[str] | None
        if methods is None:
            self.methods = None
        else:
            self.methods = {method.upper() for method in methods}
            if "GET" in self.methods:
                self.methods.add("HEAD")

        self.path_regex, self.path_format, self.param_convertors = compile_path(path)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            found = self.path_regex.match(get_route_path(scope))
            if found:
                params = _merge_params(scope, _convert_groups(self.param_convertors, found.groupdict()))
                child_scope = {"endpoint": self.endpoint, "path_params": params}
                if self.methods and scope["method"] not in self.methods:
                    return Match.PARTIAL, child_scope
                return Match.FULL, child_scope
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if name != self.name or path_params.keys() != self.param_convertors.keys():
            raise NoMatchFound(name, path_params)
        path, remaining = replace_params(self.path_format, self.param_convertors, path_params)
        assert not remaining
        return URLPath(path=path, protocol="http")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            headers = {"Allow": ", ".join(self.methods)}
            # Inside an application the 405 goes through the exception handlers.
            if "app" in scope:
                raise HTTPException(status_code=405, headers=headers)
            await PlainTextResponse("Method Not Allowed", status_code=405, headers=headers)(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, Route)
            and self.path == other.path
            and self.endpoint == other.endpoint
            and self.methods == other.methods
        )

    def __repr__(self) -> str:
        methods = sorted(self.methods or [])
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r}, methods={methods!r})"


class WebSocketRoute(BaseRoute):
    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        assert path.startswith("/"), "Routed paths must start with '/'"
        self.path = path
        self.endpoint = endpoint
        self.name = get_name(endpoint) if name is None else name

        app: ASGIApp = websocket_session(endpoint) if _is_plain_callable(endpoint) else endpoint
        self.app = _wrap_middleware(app, middleware, None)

        self.path_regex, self.path_format, self.param_convertors = compile_path(path)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "websocket":
            found = self.path_regex.match(get_route_path(scope))
            if found:
                params = _merge_params(scope, _convert_groups(self.param_convertors, found.groupdict()))
                return Match.FULL, {"endpoint": self.endpoint, "path_params": params}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if name != self.name or path_params.keys() != self.param_convertors.keys():
            raise NoMatchFound(name, path_params)
        path, remaining = replace_params(self.path_format, self.param_convertors, path_params)
        assert not remaining
        return URLPath(path=path, protocol="websocket")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, WebSocketRoute) and self.path == other.path and self.endpoint == other.endpoint

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r})"


def _mount_child_scope(scope: Scope, route_path: str, params: dict[str, Any], app: ASGIApp) -> dict[str, Any]:
    """The scope changes of a Mount match; ``params`` holds the converted params incl. "path"."""
    remaining = params.pop("path")
    # The matched prefix is what precedes "/" + remaining (computed from the end, like the regex).
    matched_path = route_path[: len(route_path) - len(remaining) - 1]
    root_path = scope.get("root_path", "")
    return {
        "path_params": _merge_params(scope, params),
        # Set by the outermost mount only: Request.url_for() builds absolute paths from it.
        "app_root_path": scope.get("app_root_path", root_path),
        "root_path": root_path + matched_path,
        "endpoint": app,
    }


class Mount(BaseRoute):
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
        assert path == "" or path.startswith("/"), "Routed paths must start with '/'"
        assert app is not None or routes is not None, "Either 'app=...', or 'routes=' must be specified"
        self.path = path.rstrip("/")
        self._base_app: ASGIApp = app if app is not None else Router(routes=routes)
        self.app = _wrap_middleware(self._base_app, middleware, max_body_size)
        self.name = name
        self.path_regex, self.path_format, self.param_convertors = compile_path(self.path + "/{path:path}")

    @property
    def routes(self) -> list[BaseRoute]:
        return getattr(self._base_app, "routes", [])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            route_path = get_route_path(scope)
            found = self.path_regex.match(route_path)
            if found:
                params = _convert_groups(self.param_convertors, found.groupdict())
                return Match.FULL, _mount_child_scope(scope, route_path, params, self.app)
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if self.name is not None and name == self.name and "path" in path_params:
            # The mount itself, by name, with the sub-path given as "path".
            path_params["path"] = path_params["path"].lstrip("/")
            path, remaining = replace_params(self.path_format, self.param_convertors, path_params)
            if not remaining:
                return URLPath(path=path)
        elif self.name is None or name.startswith(self.name + ":"):
            # "<mount>:<child>", or any child name when the mount is unnamed.
            child_name = name if self.name is None else name[len(self.name) + 1 :]
            path_kwarg = path_params.get("path")
            path_params["path"] = ""
            prefix, remaining = replace_params(self.path_format, self.param_convertors, path_params)
            if path_kwarg is not None:
                remaining["path"] = path_kwarg
            for route in self.routes or []:
                try:
                    url = route.url_path_for(child_name, **remaining)
                except NoMatchFound:
                    continue
                return URLPath(path=prefix.rstrip("/") + str(url), protocol=url.protocol)
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Mount) and self.path == other.path and self.app == other.app

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, name={self.name or ''!r}, app={self.app!r})"


class Host(BaseRoute):
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
        if scope["type"] in ("http", "websocket"):
            parsed = parse_host_header(Headers(scope=scope).get("host"))
            if parsed is None:
                return Match.NONE, {}
            found = self.host_regex.match(parsed.host.lower())
            if found:
                params = _merge_params(scope, _convert_groups(self.param_convertors, found.groupdict()))
                return Match.FULL, {"path_params": params, "endpoint": self.app}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if self.name is not None and name == self.name and "path" in path_params:
            path = path_params.pop("path")
            host, remaining = replace_params(self.host_format, self.param_convertors, path_params)
            if not remaining:
                return URLPath(path=path, host=host)
        elif self.name is None or name.startswith(self.name + ":"):
            child_name = name if self.name is None else name[len(self.name) + 1 :]
            host, remaining = replace_params(self.host_format, self.param_convertors, path_params)
            for route in self.routes or []:
                try:
                    url = route.url_path_for(child_name, **remaining)
                except NoMatchFound:
                    continue
                return URLPath(path=str(url), protocol=url.protocol, host=host)
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Host) and self.host == other.host and self.app == other.app

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.host!r}, name={self.name or ''!r}, app={self.app!r})"


# ---------------------------------------------------------------------------------------------
# Lifespan helpers
# ---------------------------------------------------------------------------------------------

_T = TypeVar("_T")


class _AsyncLiftContextManager(AbstractAsyncContextManager[_T]):
    """Presents a synchronous context manager as an asynchronous one."""

    def __init__(self, cm: AbstractContextManager[_T]) -> None:
        self._cm = cm

    async def __aenter__(self) -> _T:
        return self._cm.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: types.TracebackType | None,
    ) -> bool | None:
        return self._cm.__exit__(exc_type, exc_value, tb)


def _wrap_gen_lifespan_context(
    lifespan_context: Callable[[Any], Generator[Any, Any, Any]],
) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    sync_cm = contextlib.contextmanager(lifespan_context)

    @functools.wraps(sync_cm)
    def wrapper(app: Any) -> _AsyncLiftContextManager[Any]:
        return _AsyncLiftContextManager(sync_cm(app))

    return wrapper


# Under the compatibility switch this module is also `starlette.routing`; warnings then carry that
# module name, so that filters written for Starlette (`...:starlette.routing`) still apply.
_STARLETTE_NAME = "starlette.routing"


def _warn_deprecated(message: str) -> None:
    this_module = sys.modules.get(__name__)
    module_name = _STARLETTE_NAME if sys.modules.get(_STARLETTE_NAME) is this_module else __name__
    registry = globals().setdefault("__warningregistry__", {})
    lineno = sys._getframe(1).f_lineno
    warnings.warn_explicit(message, TachyonDeprecationWarning, __file__, lineno, module=module_name, registry=registry)


class _DefaultLifespan:
    def __init__(self, router: Router) -> None:
        self._router = router

    async def __aenter__(self) -> None:
        pass

    async def __aexit__(self, *exc_info: object) -> None:
        pass

    def __call__(self: _T, app: object) -> _T:
        return self


# ---------------------------------------------------------------------------------------------
# The route list and its compiled table
# ---------------------------------------------------------------------------------------------

# Versions come from one global counter, so a replaced list can never look unchanged.
_versions = itertools.count(1)


class _RouteList(list):  # type: ignore[type-arg]
    """``Router.routes``: a plain list that records every mutation in ``_version``.

    The Router compares one int per request and rebuilds its table only when routes changed (e.g.
    FastAPI's ``include_router`` appending after start-up).
    """

    __slots__ = ("_version",)

    def __init__(self, iterable: Iterable[Any] = ()) -> None:
        super().__init__(iterable)
        self._version = next(_versions)

    def _touch(self) -> None:
        self._version = next(_versions)

    def append(self, item: Any) -> None:
        super().append(item)
        self._touch()

    def insert(self, index: SupportsIndex, item: Any) -> None:
        super().insert(index, item)
        self._touch()

    def extend(self, items: Iterable[Any]) -> None:
        super().extend(items)
        self._touch()

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self._touch()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._touch()

    def pop(self, index: SupportsIndex = -1) -> Any:
        item = super().pop(index)
        self._touch()
        return item

    def remove(self, item: Any) -> None:
        super().remove(item)
        self._touch()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._touch()

    def reverse(self) -> None:
        super().reverse()
        self._touch()

    def clear(self) -> None:
        super().clear()
        self._touch()

    def __iadd__(self, items: Iterable[Any]) -> _RouteList:  # type: ignore[misc]
        super().__iadd__(items)
        self._touch()
        return self

    def __imul__(self, count: SupportsIndex) -> _RouteList:
        super().__imul__(count)
        self._touch()
        return self


# How the Router finishes a match the table found, per route index.
_OPAQUE = 0  # matches() is called (Host, classes overriding matches, foreign objects)
_ROUTE = 1  # a Route whose handle() is Route.handle: a full match calls route.app directly
_ROUTE_HANDLE = 2  # a Route subclass with its own handle()
_WEBSOCKET = 3
_WEBSOCKET_HANDLE = 4
_MOUNT = 5
_MOUNT_HANDLE = 6


def _classify(route: Any) -> tuple[int, RouteSpec]:
    cls = type(route)
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
    return _OPAQUE, RouteSpec(None, None, tachyon_router.HTTP | tachyon_router.WEBSOCKET, None)


class _Compiled:
    """One immutable snapshot of a route list: the table plus what each index dispatches to."""

    __slots__ = ("version", "lookup", "routes", "kinds")

    def __init__(self, routes: _RouteList) -> None:
        self.version = routes._version
        snapshot = tuple(routes)
        kinds: list[int] = []
        specs: list[RouteSpec] = []
        for route in snapshot:
            kind, spec = _classify(route)
            kinds.append(kind)
            specs.append(spec)
        self.routes = snapshot
        self.kinds = tuple(kinds)
        self.lookup = RouteTable(specs, backend=_table_backend).lookup


# ---------------------------------------------------------------------------------------------
# Router
# ---------------------------------------------------------------------------------------------


class Router:
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
        self.routes = [] if routes is None else list(routes)
        self.redirect_slashes = redirect_slashes
        self.default = self.not_found if default is None else default

        if lifespan is None:
            self.lifespan_context: Lifespan[Any] = _DefaultLifespan(self)
        elif inspect.isasyncgenfunction(lifespan):
            _warn_deprecated(
                "async generator function lifespans are deprecated, "
                "use an @contextlib.asynccontextmanager function instead"
            )
            self.lifespan_context = asynccontextmanager(lifespan)
        elif inspect.isgeneratorfunction(lifespan):
            _warn_deprecated(
                "generator function lifespans are deprecated, use an @contextlib.asynccontextmanager function instead"
            )
            self.lifespan_context = _wrap_gen_lifespan_context(lifespan)
        else:
            self.lifespan_context = lifespan

        self.middleware_stack: ASGIApp = _wrap_middleware(self.app, middleware, max_body_size)

    # `routes` is a property so that assigning a plain list still yields a tracked _RouteList.
    @property
    def routes(self) -> list[BaseRoute]:
        return self._routes

    @routes.setter
    def routes(self, routes: Iterable[BaseRoute]) -> None:
        self._routes = routes if type(routes) is _RouteList else _RouteList(routes)
        self._compiled: _Compiled | None = None

    def _compile(self) -> _Compiled:
        compiled = _Compiled(self._routes)
        self._compiled = compiled
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
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the ASGI lifespan protocol around ``lifespan_context``."""
        started = False
        app: Any = scope.get("app")
        await receive()
        try:
            async with self.lifespan_context(app) as maybe_state:
                if maybe_state is not None:
                    if "state" not in scope:
                        raise RuntimeError('The server does not support "state" in the lifespan scope.')
                    scope["state"].update(maybe_state)
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()
        except BaseException:
            failure = "lifespan.shutdown.failed" if started else "lifespan.startup.failed"
            await send({"type": failure, "message": traceback.format_exc()})
            raise
        else:
            await send({"type": "lifespan.shutdown.complete"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.middleware_stack(scope, receive, send)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: Any
        scope_type = scope["type"]
        if scope_type == "http":
            type_bit = tachyon_router.HTTP
            method = scope["method"]
        elif scope_type == "websocket":
            type_bit = tachyon_router.WEBSOCKET
            method = ""
        else:
            assert scope_type == "lifespan"
            if "router" not in scope:
                scope["router"] = self
            await self.lifespan(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self

        compiled = self._compiled
        if compiled is None or compiled.version != self._routes._version:
            compiled = self._compile()

        route_path = get_route_path(scope) if scope.get("root_path") else scope["path"]
        full, partial, candidates, params = compiled.lookup(route_path, method, type_bit)

        if candidates:
            # Opaque routes the table could not rule out, all ordered before `full`: ask them.
            opaque_partial: tuple[int, Any, Scope] | None = None
            for index in candidates:
                route = compiled.routes[index]
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
                if match is Match.PARTIAL and opaque_partial is None:
                    opaque_partial = (index, route, child_scope)
            if full < 0 and opaque_partial is not None and (partial < 0 or opaque_partial[0] < partial):
                _, route, child_scope = opaque_partial
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return

        if full >= 0:
            route = compiled.routes[full]
            kind = compiled.kinds[full]
            scope["route"] = route
            if kind == _ROUTE:
                # The hot path, inlined: the scope update Route.matches() would make, then the endpoint.
                scope["endpoint"] = route.endpoint
                scope["path_params"] = _merge_params(scope, params)
                await route.app(scope, receive, send)
            else:
                await self._dispatch(route, kind, scope, route_path, params, receive, send)
            return
        if partial >= 0:
            # Method mismatch: the route's handle() answers 405 with its own Allow header.
            # The table converts params for full matches only; 405s are rare enough to ask the route.
            route = compiled.routes[partial]
            _, child_scope = route.matches(scope)
            scope["route"] = route
            scope.update(child_scope)
            await route.handle(scope, receive, send)
            return

        if type_bit == tachyon_router.HTTP and self.redirect_slashes and route_path != "/":
            if await self._redirect_slashes(compiled, scope, route_path, method, receive, send):
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
        elif kind == _MOUNT or kind == _MOUNT_HANDLE:
            scope.update(_mount_child_scope(scope, route_path, params, route.app))
            if kind == _MOUNT:
                await route.app(scope, receive, send)
            else:
                await route.handle(scope, receive, send)
        else:
            scope["endpoint"] = route.endpoint
            scope["path_params"] = _merge_params(scope, params)
            await route.handle(scope, receive, send)

    async def _redirect_slashes(
        self, compiled: _Compiled, scope: Scope, route_path: str, method: str, receive: Receive, send: Send
    ) -> bool:
        """Redirect to the other slash form of the path when any route matches that (Starlette rule)."""
        redirect_scope = dict(scope)
        path: str = scope["path"]
        redirect_scope["path"] = path.rstrip("/") if route_path.endswith("/") else path + "/"
        full, partial, candidates, _ = compiled.lookup(get_route_path(redirect_scope), method, tachyon_router.HTTP)
        found = full >= 0 or partial >= 0
        if not found:
            routes = compiled.routes
            found = any(routes[index].matches(redirect_scope)[0] is not Match.NONE for index in candidates)
        if not found:
            return False
        await RedirectResponse(url=str(URL(scope=redirect_scope)))(scope, receive, send)
        return True

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Router) and self.routes == other.routes

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
