"""The application object: a Router wrapped in the error-handling and user middleware stack."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from tachyon_http.datastructures import State, URLPath
from tachyon_http.requests import Request
from tachyon_http.responses import Response
from tachyon_http.types import ASGIApp, Lifespan
from tachyon_ws.websockets import WebSocket

from tachyon._fastpath import FastPath, serve
from tachyon.middleware import Middleware, _MiddlewareFactory
from tachyon.middleware.errors import ServerErrorMiddleware
from tachyon.middleware.exceptions import ExceptionMiddleware
from tachyon.routing import BaseRoute, Router
from tachyon.types import ExceptionHandler

__all__ = ["Starlette", "Tachyon"]

AppType = TypeVar("AppType", bound="Tachyon")
P = ParamSpec("P")

# Handlers under these keys answer unhandled errors in ServerErrorMiddleware (outermost), not in
# ExceptionMiddleware, so that they also see errors raised by user middleware.
_SERVER_ERROR_KEYS = (500, Exception)

_DEFAULT_HOST = "127.0.0.1"
_DEFAULT_PORT = 8000


class Tachyon:
    """An ASGI application.

    Parameters:
        debug: return tracebacks in 500 responses.
        routes: the HTTP and WebSocket routes.
        middleware: user middleware, outermost first. ServerErrorMiddleware always wraps them all
            and ExceptionMiddleware always sits inside them, around the router.
        exception_handlers: status code or exception class -> ``handler(request, exc) -> response``
            (sync or async).
        lifespan: ``app -> async context manager`` run around the server's lifetime; a mapping it
            yields becomes the initial ``request.state``.
        max_body_size: a limit in bytes on every HTTP request body (None: unlimited).
    """

    # Set by build_middleware_stack() (see __call__); a class default, as subclasses (FastAPI) may not call
    # __init__ nor this class's build_middleware_stack().
    _tachyon_fast_path: FastPath | None = None

    def __init__(
        self: AppType,
        debug: bool = False,
        routes: Sequence[BaseRoute] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[Any, ExceptionHandler] | None = None,
        lifespan: Lifespan[AppType] | None = None,
        *,
        max_body_size: int | None = None,
    ) -> None:
        self.debug = debug
        self.state = State()
        self.router = Router(routes, lifespan=lifespan)
        self.max_body_size = max_body_size
        self.exception_handlers: dict[Any, ExceptionHandler] = (
            {} if exception_handlers is None else dict(exception_handlers)
        )
        self.user_middleware: list[Middleware] = [] if middleware is None else list(middleware)
        # Built on the first call (see __call__), then reused for every request.
        self.middleware_stack: ASGIApp | None = None

    def build_middleware_stack(self) -> ASGIApp:
        debug = self.debug
        server_error_handler: ExceptionHandler | None = None
        routed_handlers: dict[Any, ExceptionHandler] = {}
        for key, handler in self.exception_handlers.items():
            if key in _SERVER_ERROR_KEYS:
                server_error_handler = handler
            else:
                routed_handlers[key] = handler

        layers = [Middleware(ServerErrorMiddleware, handler=server_error_handler, debug=debug)]
        limit = self.max_body_size
        if limit is not None:
            from tachyon.middleware.body_limit import RequestBodyLimitMiddleware

            layers.append(Middleware(RequestBodyLimitMiddleware, max_body_size=limit))
        layers += self.user_middleware

        router = self.router
        handlers = stack = ExceptionMiddleware(router, handlers=routed_handlers, debug=debug)
        for factory, args, kwargs in reversed(layers):
            stack = factory(stack, *args, **kwargs)
        self._tachyon_fast_path = FastPath.attach(stack, handlers, router)
        return stack

    @property
    def routes(self) -> list[BaseRoute]:
        return self.router.routes

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self.router.url_path_for(name, **path_params)

    # Every event enters here: Starlette's three lines (the app in the scope, the stack built on first use, the
    # call), run by the fast path's own coroutine so that a default stack costs no coroutine more
    # (tachyon/_fastpath.py).
    __call__ = serve

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        self.router.mount(path, app=app, name=name)

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        self.router.host(host, app=app, name=name)

    def add_middleware(self, middleware_class: _MiddlewareFactory[P], *args: P.args, **kwargs: P.kwargs) -> None:
        if self.middleware_stack is not None:
            raise RuntimeError("Cannot add middleware after an application has started")
        self.user_middleware.insert(0, Middleware(middleware_class, *args, **kwargs))

    def add_exception_handler(
        self,
        exc_class_or_status_code: int | type[Exception],
        handler: ExceptionHandler,
    ) -> None:
        self.exception_handlers[exc_class_or_status_code] = handler

    def add_route(
        self,
        path: str | BaseRoute,
        route: Callable[[Request], Awaitable[Response] | Response] | None = None,
        methods: list[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        """Add a route: ``add_route("/path", endpoint, ...)``, or ``add_route(Route(...))``."""
        if isinstance(path, BaseRoute):
            if route is not None or methods is not None or name is not None:
                raise TypeError("add_route(route_object) takes no endpoint, methods or name")
            self.router.routes.append(path)
            return
        if route is None:
            raise TypeError("add_route(path, route) requires an endpoint")
        self.router.add_route(path, route, methods=methods, name=name, include_in_schema=include_in_schema)

    def add_websocket_route(
        self,
        path: str,
        route: Callable[[WebSocket], Awaitable[None]],
        name: str | None = None,
    ) -> None:
        self.router.add_websocket_route(path, route, name=name)

    def run(self, host: str = _DEFAULT_HOST, port: int = _DEFAULT_PORT, **uvicorn_options: Any) -> None:
        """Serve this application with uvicorn (blocking). Extra keyword arguments go to ``uvicorn.run``.

        Multiple workers or reload need an import string instead of an object: use
        ``tachyon run module:app --workers N``.
        """
        import uvicorn

        uvicorn.run(self, host=host, port=port, **uvicorn_options)


# The compatibility name: code written for Starlette keeps working after `starlette` -> `tachyon`.
Starlette = Tachyon
