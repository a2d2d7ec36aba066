"""The ASGI WebSocket connection: a state machine over ``receive``/``send`` with Starlette's API."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, cast

from tachyon_http._shared import dumps_text, loads_text
from tachyon_http.requests import HTTPConnection, StateT
from tachyon_http.types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from tachyon_http.responses import Response

__all__ = ["WebSocket", "WebSocketClose", "WebSocketDisconnect", "WebSocketDisconnected", "WebSocketState"]

# RFC 6455 section 7.4.1: 1000 is a normal closure, 1006 is reserved for "closed without a close frame" (what
# a failed write to a vanished peer means), 1005 stands in for "no status code was present" (ASGI asks servers
# to report it when the client's close frame carried none).
_NORMAL_CLOSURE = 1000
_NO_STATUS_RECEIVED = 1005
_ABNORMAL_CLOSURE = 1006

_decode_json = loads_text
_encode_json = dumps_text

_JSON_MODES = frozenset(("text", "binary"))
_BAD_JSON_MODE = 'The "mode" argument should be "text" or "binary".'
_NOT_ACCEPTED = 'WebSocket is not connected. Need to call "accept" first.'


class WebSocketState(enum.Enum):
    """Where one side of the connection stands in the ASGI WebSocket protocol."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


_CONNECTING = WebSocketState.CONNECTING
_CONNECTED = WebSocketState.CONNECTED
_DISCONNECTED = WebSocketState.DISCONNECTED
_RESPONSE = WebSocketState.RESPONSE


class WebSocketDisconnect(Exception):
    """The peer closed the connection (``code`` and ``reason`` come from its close frame)."""

    def __init__(self, code: int = _NORMAL_CLOSURE, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""


class WebSocketDisconnected(RuntimeError):
    """The connection was used after it had already been closed (or before it was accepted)."""


class WebSocket(HTTPConnection[StateT]):
    """A WebSocket connection: the scope's request data plus message exchange with the client.

    ``client_state`` tracks what the server told us (connect, messages, disconnect); ``application_state``
    tracks what we told the server (accept, messages, close, or a denial response).
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        super().__init__(scope)
        assert scope["type"] == "websocket"
        self._receive = receive
        self._send = send
        self.client_state = _CONNECTING
        self.application_state = _CONNECTING

    async def receive(self) -> Message:
        """Receive the next ASGI message, checking that it is valid in the current client state."""
        state = self.client_state
        # The connected state is checked first: it is where almost every call lands.
        if state is _CONNECTED:
            message = await self._receive()
            kind = message["type"]
            if kind == "websocket.receive":
                return message
            if kind == "websocket.disconnect":
                self.client_state = _DISCONNECTED
                return message
            raise RuntimeError(f'Expected ASGI message "websocket.receive" or "websocket.disconnect", but got {kind!r}')
        if state is _CONNECTING:
            message = await self._receive()
            kind = message["type"]
            if kind != "websocket.connect":
                raise RuntimeError(f'Expected ASGI message "websocket.connect", but got {kind!r}')
            self.client_state = _CONNECTED
            return message
        raise WebSocketDisconnected('Cannot call "receive" once a disconnect message has been received.')

    async def send(self, message: Message) -> None:
        """Send an ASGI message, checking that it is valid in the current application state."""
        state = self.application_state
        if state is _CONNECTED:
            kind = message["type"]
            if kind == "websocket.send":
                pass
            elif kind == "websocket.close":
                self.application_state = _DISCONNECTED
            else:
                raise RuntimeError(f'Expected ASGI message "websocket.send" or "websocket.close", but got {kind!r}')
            try:
                await self._send(message)
            except OSError:
                # Servers raise OSError from send() when the client has gone away.
                self.application_state = _DISCONNECTED
                raise WebSocketDisconnect(code=_ABNORMAL_CLOSURE) from None
            return
        if state is _CONNECTING:
            kind = message["type"]
            if kind == "websocket.accept":
                self.application_state = _CONNECTED
            elif kind == "websocket.close":
                self.application_state = _DISCONNECTED
            elif kind == "websocket.http.response.start":
                self.application_state = _RESPONSE
            else:
                raise RuntimeError(
                    'Expected ASGI message "websocket.accept", "websocket.close" or '
                    f'"websocket.http.response.start", but got {kind!r}'
                )
            await self._send(message)
            return
        if state is _RESPONSE:
            kind = message["type"]
            if kind != "websocket.http.response.body":
                raise RuntimeError(f'Expected ASGI message "websocket.http.response.body", but got {kind!r}')
            if not message.get("more_body", False):
                self.application_state = _DISCONNECTED
            await self._send(message)
            return
        raise WebSocketDisconnected('Cannot call "send" once a close message has been sent.')

    async def accept(
        self, subprotocol: str | None = None, headers: Iterable[tuple[bytes, bytes]] | None = None
    ) -> None:
        """Accept the connection, first waiting for the client's connect message if it has not been read."""
        if self.client_state is _CONNECTING:
            await self.receive()
        await self.send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": headers or []})

    # The data methods below inline the common case (both sides connected, a data message) instead of going
    # through receive()/send(): each coroutine layer costs more than the checks themselves. Anything else takes
    # the general path, which applies the full state machine.

    async def _receive_data(self) -> Message:
        if self.application_state is not _CONNECTED:
            raise WebSocketDisconnected(_NOT_ACCEPTED)
        if self.client_state is _CONNECTED:
            message = await self._receive()
            if message["type"] == "websocket.receive":
                return message
            self._reject_inbound(message)
        message = await self.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", _NO_STATUS_RECEIVED), message.get("reason"))
        return message

    def _reject_inbound(self, message: Message) -> None:
        """A connected client sent something other than data: a disconnect, or a protocol error."""
        kind = message["type"]
        if kind == "websocket.disconnect":
            self.client_state = _DISCONNECTED
            raise WebSocketDisconnect(message.get("code", _NO_STATUS_RECEIVED), message.get("reason"))
        raise RuntimeError(f'Expected ASGI message "websocket.receive" or "websocket.disconnect", but got {kind!r}')

    async def receive_text(self) -> str:
        """Receive one text message; raises WebSocketDisconnect when the client closes."""
        if self.application_state is _CONNECTED and self.client_state is _CONNECTED:
            message = await self._receive()
            if message["type"] != "websocket.receive":
                self._reject_inbound(message)
            return cast(str, message["text"])
        return cast(str, (await self._receive_data())["text"])

    async def receive_bytes(self) -> bytes:
        """Receive one binary message; raises WebSocketDisconnect when the client closes."""
        if self.application_state is _CONNECTED and self.client_state is _CONNECTED:
            message = await self._receive()
            if message["type"] != "websocket.receive":
                self._reject_inbound(message)
            return cast(bytes, message["bytes"])
        return cast(bytes, (await self._receive_data())["bytes"])

    async def receive_json(self, mode: str = "text") -> Any:
        """Receive one message and decode it as JSON, from a text frame or (``mode="binary"``) UTF-8 bytes."""
        if mode not in _JSON_MODES:
            raise RuntimeError(_BAD_JSON_MODE)
        message = await self._receive_data()
        if mode == "text":
            return _decode_json(message["text"])
        return _decode_json(message["bytes"].decode("utf-8"))

    async def iter_text(self) -> AsyncIterator[str]:
        """Yield text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield binary messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        """Yield JSON messages (text frames) until the client disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    async def _send_data(self, message: Message) -> None:
        if self.application_state is not _CONNECTED:
            await self.send(message)  # raises the state machine's error
            return
        try:
            await self._send(message)
        except OSError:
            self.application_state = _DISCONNECTED
            raise WebSocketDisconnect(code=_ABNORMAL_CLOSURE) from None

    async def send_text(self, data: str) -> None:
        """Send one text message."""
        if self.application_state is _CONNECTED:
            try:
                await self._send({"type": "websocket.send", "text": data})
            except OSError:
                self.application_state = _DISCONNECTED
                raise WebSocketDisconnect(code=_ABNORMAL_CLOSURE) from None
        else:
            await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send one binary message."""
        if self.application_state is _CONNECTED:
            try:
                await self._send({"type": "websocket.send", "bytes": data})
            except OSError:
                self.application_state = _DISCONNECTED
                raise WebSocketDisconnect(code=_ABNORMAL_CLOSURE) from None
        else:
            await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: str = "text") -> None:
        """Send ``data`` as compact JSON, in a text frame or (``mode="binary"``) as UTF-8 bytes."""
        if mode not in _JSON_MODES:
            raise RuntimeError(_BAD_JSON_MODE)
        text = _encode_json(data)
        if mode == "text":
            await self._send_data({"type": "websocket.send", "text": text})
        else:
            await self._send_data({"type": "websocket.send", "bytes": text.encode("utf-8")})

    async def close(self, code: int = _NORMAL_CLOSURE, reason: str | None = None) -> None:
        """Close the connection (before accepting, this rejects the handshake with HTTP 403)."""
        await self.send({"type": "websocket.close", "code": code, "reason": reason or ""})

    async def send_denial_response(self, response: Response) -> None:
        """Reject the handshake with an HTTP response (needs the server's websocket.http.response extension)."""
        if "websocket.http.response" in (self.scope.get("extensions") or {}):
            await response(self.scope, self.receive, self.send)
        else:
            raise RuntimeError("The server doesn't support the Websocket Denial Response extension.")


class WebSocketClose:
    """An ASGI app that closes the WebSocket with ``code`` and ``reason`` (e.g. for unmatched routes)."""

    def __init__(self, code: int = _NORMAL_CLOSURE, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.close", "code": self.code, "reason": self.reason})
