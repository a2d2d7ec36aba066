"""Exception-handler lookup shared by ExceptionMiddleware and the route adapters.

Handlers are found by HTTP status code first (for HTTPException), then by walking the exception's
MRO. The lookup only runs once something has been raised: the success path costs a ``try`` block.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from tachyon_http._shared import is_async_callable
from tachyon_http.concurrency import run_in_threadpool
from tachyon_http.exceptions import HTTPException
from tachyon_http.requests import Request
from tachyon_http.types import ASGIApp, Message, Receive, Scope, Send
from tachyon_ws.websockets import WebSocket

from tachyon.types import ExceptionHandler

__all__ = ["ExceptionHandlers", "StatusHandlers", "wrap_app_handling_exceptions"]

ExceptionHandlers = dict[Any, ExceptionHandler]
StatusHandlers = dict[int, ExceptionHandler]

# Scope key under which ExceptionMiddleware publishes its handler tables; the name is Starlette's,
# because libraries (FastAPI) read and write it directly.
HANDLERS_SCOPE_KEY = "starlette.exception_handlers"

_ALREADY_STARTED = "Caught handled exception, but response already started."


def _lookup_exception_handler(exc_handlers: ExceptionHandlers, exc: Exception) -> ExceptionHandler | None:
    for cls in type(exc).__mro__:
        handler = exc_handlers.get(cls)
        if handler is not None:
            return handler
    return None


class _StartTracker:
    """A ``send`` wrapper remembering whether ``http.response.start`` went through it.

    ``__call__`` is a plain method returning the wrapped send's awaitable: callers ``await`` it as
    usual, and no extra coroutine is created per message (this sits on every response).
    """

    __slots__ = ("send", "started")

    def __init__(self, send: Send, started: bool = False) -> None:
        self.send = send
        self.started = started

    def __call__(self, message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            self.started = True
        return self.send(message)


async def handle_exception(
    exc: Exception,
    conn: Request | WebSocket,
    scope: Scope,
    receive: Receive,
    send: Send,
    response_started: bool,
    tables: tuple[ExceptionHandlers, StatusHandlers] | None = None,
) -> None:
    """Answer ``exc`` with a registered handler, or re-raise it when none applies.

    ``tables`` defaults to the handler tables published in the scope. Must be called from inside
    the ``except`` block that caught ``exc``.
    """
    if tables is None:
        tables = scope.get(HANDLERS_SCOPE_KEY)
        if tables is None:
            raise exc
    exception_handlers, status_handlers = tables

    handler: ExceptionHandler | None = None
    if isinstance(exc, HTTPException):
        handler = status_handlers.get(exc.status_code)
    if handler is None:
        handler = _lookup_exception_handler(exception_handlers, exc)
    if handler is None:
        raise exc
    if response_started:
        raise RuntimeError(_ALREADY_STARTED) from exc

    if is_async_callable(handler):
        response = await handler(conn, exc)  # type: ignore[arg-type]
    else:
        response = await run_in_threadpool(handler, conn, exc)  # type: ignore[arg-type]
    if response is not None:
        await response(scope, receive, send)
    # A module-level exception instance raised on every request would otherwise grow its
    # traceback (and keep every frame alive) forever.
    exc.__traceback__ = None


def wrap_app_handling_exceptions(app: ASGIApp, conn: Request | WebSocket) -> ASGIApp:
    """Wrap ``app`` so that exceptions it raises are answered by the handlers in ``conn.scope``."""

    # The tables are those in force when the wrapper is made: a mounted sub-application may
    # publish its own tables in the same scope dict later on.
    tables: tuple[ExceptionHandlers, StatusHandlers] = conn.scope.get(HANDLERS_SCOPE_KEY) or ({}, {})

    async def wrapped_app(scope: Scope, receive: Receive, send: Send) -> None:
        tracker = _StartTracker(send)
        try:
            await app(scope, receive, tracker)
        except Exception as exc:
            await handle_exception(exc, conn, scope, receive, tracker, tracker.started, tables)

    return wrapped_app
