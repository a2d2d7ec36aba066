"""ExceptionMiddleware: turns HTTPException / WebSocketException and registered exceptions into responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tachyon_http.exceptions import HTTPException, WebSocketException
from tachyon_http.requests import Request
from tachyon_http.responses import PlainTextResponse, Response
from tachyon_http.types import ASGIApp, ExceptionHandler, Receive, Scope, Send
from tachyon_ws.websockets import WebSocket

from tachyon._exception_handler import (
    HANDLERS_SCOPE_KEY,
    ExceptionHandlers,
    StatusHandlers,
    _StartTracker,
    handle_exception,
)

__all__ = ["ExceptionMiddleware"]

# Statuses whose responses must not carry a body (RFC 9110 §15.3.5, §15.4.5).
_BODYLESS_STATUSES = frozenset({204, 304})


class ExceptionMiddleware:
    """Answers exceptions raised by the wrapped app with the registered handlers.

    Handlers are keyed by status code (matched against ``HTTPException.status_code``) or by
    exception class (matched along the exception's MRO).
    """

    def __init__(
        self,
        app: ASGIApp,
        handlers: Mapping[Any, ExceptionHandler] | None = None,
        debug: bool = False,
    ) -> None:
        self.app = app
        self.debug = debug
        self._status_handlers: StatusHandlers = {}
        self._exception_handlers: ExceptionHandlers = {
            HTTPException: self.http_exception,
            WebSocketException: self.websocket_exception,
        }
        # Published in every scope; built once, the dicts inside stay live for add_exception_handler.
        self._tables = (self._exception_handlers, self._status_handlers)
        if handlers is not None:
            for key, value in handlers.items():
                self.add_exception_handler(key, value)

    def add_exception_handler(
        self,
        exc_class_or_status_code: int | type[Exception],
        handler: ExceptionHandler,
    ) -> None:
        if isinstance(exc_class_or_status_code, int):
            self._status_handlers[exc_class_or_status_code] = handler
        else:
            assert issubclass(exc_class_or_status_code, Exception)
            self._exception_handlers[exc_class_or_status_code] = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type == "http":
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

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code in _BODYLESS_STATUSES:
            return Response(status_code=exc.status_code, headers=exc.headers)
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)

    async def websocket_exception(self, websocket: WebSocket, exc: Exception) -> None:
        assert isinstance(exc, WebSocketException)
        await websocket.close(code=exc.code, reason=exc.reason)
