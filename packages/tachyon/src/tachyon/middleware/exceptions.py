"""ExceptionMiddleware: turns HTTPException / WebSocketException and registered exceptions into responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tachyon_http._shared import CacheBound
from tachyon_http.exceptions import HTTPException, WebSocketException
from tachyon_http.requests import Request
from tachyon_http.responses import PlainTextResponse, Response
from tachyon_http.types import ASGIApp, Receive, Scope, Send
from tachyon_ws.websockets import WebSocket

from tachyon._exception_handler import (
    HANDLERS_SCOPE_KEY,
    ExceptionHandlers,
    StatusHandlers,
    _StartTracker,
    handle_exception,
)
from tachyon.types import ExceptionHandler

__all__ = ["ExceptionMiddleware"]

# Statuses whose responses must not carry a body (RFC 9110 §15.3.5, §15.4.5).
_BODYLESS_STATUSES = frozenset({204, 304})


def _http_error_response(exc: HTTPException) -> Response:
    code, headers = exc.status_code, exc.headers
    if code in _BODYLESS_STATUSES:
        return Response(status_code=code, headers=headers)
    return PlainTextResponse(exc.detail, status_code=code, headers=headers)


class _RenderedAnswer:
    """A fixed response rendered once at import; every call sends fresh message dicts and a fresh header list,
    byte for byte what the Response it was rendered from sends (middleware may mutate what it is sent)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, response: Response) -> None:
        self.status = response.status_code
        self.headers = tuple(response.raw_headers)
        self.body = bytes(response.body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": list(self.headers)})
        await send({"type": "http.response.body", "body": self.body})


# The router's error answers (404, and 405 per Allow header value), rendered on first use. Bounded: Allow values
# come from route method sets, which an application has a handful of (the size of a key is its headers' length).
_rendered_answers: dict[tuple[int, tuple[tuple[str, str], ...]], _RenderedAnswer] = {}
_RENDERED_ANSWER_BOUND = CacheBound(256, 1024)


def _rendered_error(status_code: int, headers: Mapping[str, str] | None) -> ASGIApp:
    key = (status_code, tuple(headers.items()) if headers else ())
    answer = _rendered_answers.get(key)
    if answer is None:
        answer = _RenderedAnswer(_http_error_response(HTTPException(status_code, headers=headers)))
        size = sum(len(name) + len(value) for name, value in key[1])
        _RENDERED_ANSWER_BOUND.keep(_rendered_answers, key, answer, size)
    return answer


class ExceptionMiddleware:
    """Answers exceptions raised by the wrapped app with the registered handlers.

    Handlers are keyed by status code (matched against ``HTTPException.status_code``) or by
    exception class (matched along the exception's MRO).
    """

    # Installed by tachyon._fastpath.FastPath.attach when the application built this layer directly around its
    # Router: HTTP requests are then served by it (this module never imports the router).
    _fast_path: Any = None

    def __init__(
        self,
        app: ASGIApp,
        handlers: Mapping[Any, ExceptionHandler] | None = None,
        debug: bool = False,
    ) -> None:
        self.app = app
        self.debug = debug
        by_class: ExceptionHandlers = {HTTPException: self.http_exception, WebSocketException: self.websocket_exception}
        by_status: StatusHandlers = {}
        self._exception_handlers = by_class
        self._status_handlers = by_status
        # Published in every scope; built once, the dicts inside stay live for add_exception_handler.
        self._tables = (by_class, by_status)
        # The handler HTTPException gets unless one is registered for it: while it is in place, an error the
        # router detects itself (404, 405) can be answered without raising (see answer_router_error).
        self._builtin_http_handler = by_class[HTTPException]
        for key, handler in (handlers or {}).items():
            self.add_exception_handler(key, handler)

    def add_exception_handler(
        self,
        exc_class_or_status_code: int | type[Exception],
        handler: ExceptionHandler,
    ) -> None:
        key = exc_class_or_status_code
        if not isinstance(key, int):
            assert issubclass(key, Exception)
            self._exception_handlers[key] = handler
            return
        self._status_handlers[key] = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type == "http":
            fast = self._fast_path
            if fast is not None and fast.intact():
                # The router and the route adapter below, run as one coroutine (tachyon._fastpath).
                await fast.serve(None, scope, receive, send, fast)
                return
            scope[HANDLERS_SCOPE_KEY] = self._tables
            # Directly inside ServerErrorMiddleware, `send` already is a fresh tracker: reuse it
            # rather than adding a second wrapper to every message.
            tracker = send if type(send) is _StartTracker and not send.started else _StartTracker(send)
            try:
                await self.app(scope, receive, tracker)
            except Exception as exc:
                request = Request(scope, receive, send)
                await handle_exception(exc, request, scope, receive, tracker, tracker.started, self._tables)
        elif scope_type == "websocket":
            scope[HANDLERS_SCOPE_KEY] = self._tables
            try:
                await self.app(scope, receive, send)
            except Exception as exc:
                # Only "http.response.start" counts as a started response, and a websocket never
                # sends that message type, so the response is never considered started here.
                websocket = WebSocket(scope, receive, send)
                await handle_exception(exc, websocket, scope, receive, send, False, self._tables)
        else:
            await self.app(scope, receive, send)

    def answer_router_error(self, status_code: int, headers: Mapping[str, str] | None = None) -> ASGIApp | None:
        """The answer ``HTTPException(status_code, headers=headers)`` would get here; or None when a registered
        handler (or an overridden ``http_exception``) must see the exception.

        Raising and catching costs more than the rest of a 404 put together; the fast path asks this first for
        the router's refusals and raises only on None, so the answer is the same either way.
        """
        if (
            status_code in self._status_handlers
            or self._exception_handlers.get(HTTPException) is not self._builtin_http_handler
            or type(self).http_exception is not ExceptionMiddleware.http_exception
        ):
            return None
        if headers is None:
            rendered = _rendered_answers.get((status_code, ()))
            if rendered is not None:
                return rendered
        return _rendered_error(status_code, headers)

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _http_error_response(exc)

    async def websocket_exception(self, websocket: WebSocket, exc: Exception) -> None:
        assert isinstance(exc, WebSocketException)
        await websocket.close(code=exc.code, reason=exc.reason)
