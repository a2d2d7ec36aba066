"""Class-based endpoints: HTTPEndpoint (one method per HTTP verb) and WebSocketEndpoint."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from typing import Any, Literal

from tachyon_http import status
from tachyon_http._utils import is_async_callable
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


class HTTPEndpoint:
    """Subclass and define ``get``, ``post``, ... (sync or async) taking the request.

    HEAD falls back to ``get`` when no ``head`` is defined; other methods answer 405.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.scope = scope
        self.receive = receive
        self.send = send
        self._allowed_methods = [
            method
            for method in DISPATCHABLE_METHODS
            if getattr(self, method.lower(), None) is not None
            or (method == "HEAD" and getattr(self, "get", None) is not None)
        ]

    def __await__(self) -> Generator[Any, None, None]:
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        request = Request(self.scope, receive=self.receive, send=self.send)
        method = request.method
        handler: Callable[[Request], Any]
        if method in self._allowed_methods:
            if method == "HEAD" and not hasattr(self, "head"):
                handler = self.get  # type: ignore[attr-defined]
            else:
                handler = getattr(self, method.lower())
        else:
            handler = self.method_not_allowed
        if is_async_callable(handler):
            response = await handler(request)
        else:
            response = await run_in_threadpool(handler, request)
        await response(self.scope, self.receive, self.send)

    async def method_not_allowed(self, request: Request) -> Response:
        headers = {"Allow": ", ".join(self._allowed_methods)}
        # Inside an application the 405 goes through the exception handlers.
        if "app" in self.scope:
            raise HTTPException(status_code=405, headers=headers)
        return PlainTextResponse("Method Not Allowed", status_code=405, headers=headers)


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

        close_code = status.WS_1000_NORMAL_CLOSURE
        try:
            while True:
                message = await websocket.receive()
                message_type = message["type"]
                if message_type == "websocket.receive":
                    data = await self.decode(websocket, message)
                    await self.on_receive(websocket, data)
                elif message_type == "websocket.disconnect":
                    close_code = int(message.get("code") or status.WS_1000_NORMAL_CLOSURE)
                    break
        except Exception as exc:
            close_code = status.WS_1011_INTERNAL_ERROR
            raise exc
        finally:
            await self.on_disconnect(websocket, close_code)

    async def decode(self, websocket: WebSocket, message: Message) -> Any:
        encoding = self.encoding
        if encoding == "text":
            if message.get("text") is None:
                await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA)
                raise RuntimeError("Expected text websocket messages, but got bytes")
            return message["text"]

        if encoding == "bytes":
            if message.get("bytes") is None:
                await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA)
                raise RuntimeError("Expected bytes websocket messages, but got text")
            return message["bytes"]

        if encoding == "json":
            text = message.get("text")
            if text is None:
                text = message["bytes"].decode("utf-8")
            try:
                return json.loads(text)
            except json.decoder.JSONDecodeError:
                await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA)
                raise RuntimeError("Malformed JSON data received.")

        assert encoding is None, f"Unsupported 'encoding' attribute {encoding}"
        text = message.get("text")
        return text if text is not None else message["bytes"]

    async def on_connect(self, websocket: WebSocket) -> None:
        """Called when a client connects; accepts the connection by default."""
        await websocket.accept()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        """Called with each decoded incoming message."""

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        """Called once the connection is closed, with the close code."""
