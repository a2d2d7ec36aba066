"""The endpoint adapters: ``request_response`` (``f(request) -> response`` as an ASGI app) and
``websocket_session`` (``f(websocket)``). Public under ``tachyon.routing``, which re-exports them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tachyon_http._shared import is_async_callable
from tachyon_http.concurrency import run_in_threadpool
from tachyon_http.requests import Request
from tachyon_http.responses import Response
from tachyon_http.types import ASGIApp, Receive, Scope, Send
from tachyon_ws.websockets import WebSocket

from tachyon._exception_handler import _StartTracker, handle_exception

__all__ = ["get_name", "request_response", "websocket_session"]

# Responses whose __call__ is Response.__call__ send "http.response.start" before anything that can
# raise (headers are rendered in __init__), so an exception out of them always means "started".
# For those the adapter needs no send wrapper to know it; any other response object gets one.
_RESPONSE_CALL = Response.__call__

# The attribute under which request_response() records the endpoint call of the ASGI app it returns.
_ENDPOINT_CALL = "_tachyon_endpoint_call"


async def _send_other_response(response: Any, request: Request, scope: Scope, receive: Receive, send: Send) -> None:
    """Send a response whose __call__ is not Response.__call__ (streaming, files, custom), tracking its start."""
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
        call: Callable[[Request], Awaitable[Response]] = func
    else:
        sync_func: Callable[[Request], Response] = func  # type: ignore[assignment]

        def call(request: Request) -> Awaitable[Response]:
            # A sync endpoint runs in the threadpool so that it cannot block the event loop.
            return run_in_threadpool(sync_func, request)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        # The fast path runs these same steps inline for routes whose app is this function (see _ENDPOINT_CALL
        # and tachyon._fastpath).
        request = Request(scope, receive, send)
        try:
            response = await call(request)
        except Exception as exc:
            # Nothing can have been sent through the endpoint's Request: not started.
            await handle_exception(exc, request, scope, receive, send, False)
            return
        if getattr(type(response), "__call__", None) is _RESPONSE_CALL:  # noqa: B004 - identity, not callability
            try:
                await response(scope, receive, send)
            except Exception as exc:
                await handle_exception(exc, request, scope, receive, send, True)
        else:
            await _send_other_response(response, request, scope, receive, send)

    setattr(app, _ENDPOINT_CALL, call)
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
