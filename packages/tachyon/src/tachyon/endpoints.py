"""Class-based endpoints: HTTPEndpoint (one method per HTTP verb) and WebSocketEndpoint."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from typing import Any, Literal

from tachyon_http import status
from tachyon_http._shared import is_async_callable
from tachyon_http.concurrency import run_in_threadpool
from tachyon_http.exceptions import HTTPException
from tachyon_http.requests import Request
from tachyon_http.responses import PlainTextResponse, Response
from tachyon_http.types import Message, Receive, Scope, Send
from tachyon_ws.websockets import WebSocket

__all__ = ["HTTPEndpoint", "WebSocketEndpoint"]

# The verbs an HTTPEndpoint may dispatch to, in Allow-header order. Only these: a request method
# is never used to look up an arbitrary attribute (a "_DO_DELETE" request must not reach a
# `_do_delete` helper).
DISPATCHABLE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY")


def _defined_verbs(endpoint: object) -> list[str]:
    """The dispatchable verbs ``endpoint`` answers; HEAD is answered by ``get`` when there is no ``head``."""
    has_get = getattr(endpoint, "get", None) is not None
    return [
        verb
        for verb in DISPATCHABLE_METHODS
        if getattr(endpoint, verb.lower(), None) is not None or (verb == "HEAD" and has_get)
    ]


class HTTPEndpoint:
    """Subclass and define ``get``, ``post``, ... (sync or async) taking the request.

    HEAD falls back to ``get`` when no ``head`` is defined; other methods answer 405.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.scope = scope
        self.receive = receive
        self.send = send
        self._allowed_methods = _defined_verbs(self)

    def __await__(self) -> Generator[Any, None, None]:
        return self.dispatch().__await__()

    def _handler_for(self, verb: str) -> Callable[[Request], Any]:
        if verb not in self._allowed_methods:
            return self.method_not_allowed
        if verb == "HEAD" and not hasattr(self, "head"):
            verb = "GET"
        return getattr(self, verb.lower())  # type: ignore[no-any-return]

    async def dispatch(self) -> None:
        request = Request(self.scope, receive=self.receive, send=self.send)
        handler = self._handler_for(request.method)
        if is_async_callable(handler):
            outcome = await handler(request)
        else:
            outcome = await run_in_threadpool(handler, request)
        await outcome(self.scope, self.receive, self.send)

    async def method_not_allowed(self, request: Request) -> Response:
        allow = {"Allow": ", ".join(self._allowed_methods)}
        # Inside an application the 405 goes through the exception handlers.
        if "app" not in self.scope:
            return PlainTextResponse("Method Not Allowed", status_code=405, headers=allow)
        raise HTTPException(status_code=405, headers=allow)


# encoding -> (the message key it requires, the error when that key is missing)
_RAW_ENCODINGS = {
    "text": ("text", "Expected text websocket messages, but got bytes"),
    "bytes": ("bytes", "Expected bytes websocket messages, but got text"),
}


class WebSocketEndpoint:
    """Subclass and override ``on_connect`` / ``on_receive`` / ``on_disconnect``.

    ``encoding`` decodes incoming messages before ``on_receive``: "text", "bytes", "json", or None
    (pass text or bytes through as received).
    """

    encoding: Literal["text", "bytes", "json"] | None = None

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        self.scope = scope
        self.receive = receive
        self.send = send

    def __await__(self) -> Generator[Any, None, None]:
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        websocket = WebSocket(self.scope, receive=self.receive, send=self.send)
        await self.on_connect(websocket)
        code = status.WS_1000_NORMAL_CLOSURE
        try:
            code = await self._receive_until_disconnect(websocket)
        except Exception:
            code = status.WS_1011_INTERNAL_ERROR
            raise
        finally:
            await self.on_disconnect(websocket, code)

    async def _receive_until_disconnect(self, websocket: WebSocket) -> int:
        """Feed decoded messages to on_receive; return the client's close code."""
        while True:
            message = await websocket.receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                return int(message.get("code") or status.WS_1000_NORMAL_CLOSURE)
            if kind == "websocket.receive":
                await self.on_receive(websocket, await self.decode(websocket, message))

    async def _reject(self, websocket: WebSocket, reason: str) -> None:
        await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA)
        raise RuntimeError(reason)

    async def decode(self, websocket: WebSocket, message: Message) -> Any:
        encoding = self.encoding
        raw = _RAW_ENCODINGS.get(encoding or "")
        if raw is not None:
            key, error = raw
            payload = message.get(key)
            if payload is None:
                await self._reject(websocket, error)
            return payload
        if encoding == "json":
            text = message.get("text")
            source = text if text is not None else message["bytes"].decode("utf-8")
            try:
                return json.loads(source)
            except json.JSONDecodeError:
                await self._reject(websocket, "Malformed JSON data received.")
        assert encoding is None, f"Unsupported 'encoding' attribute {encoding}"
        text = message.get("text")
        return message["bytes"] if text is None else text

    async def on_connect(self, websocket: WebSocket) -> None:
        """Called when a client connects; accepts the connection by default."""
        await websocket.accept()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        """Called with each decoded incoming message."""

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        """Called once the connection is closed, with the close code."""
