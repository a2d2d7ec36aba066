"""``BaseHTTPMiddleware``: write HTTP middleware as ``async def dispatch(request, call_next)``.

How it works: the wrapped application runs in a task of its own and its ASGI messages travel through an
unbuffered in-memory channel. ``call_next`` waits for ``http.response.start`` and returns a response that
replays the rest of the channel. Once the dispatch function's response has been sent, the application is
released (its final ``send`` returns, so its background tasks run after the client has the whole response)
and any later ``receive`` it makes reports a disconnect.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Mapping, MutableMapping
from contextlib import aclosing
from typing import Any, TypeVar

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from tachyon_http._shared import create_collapsing_task_group
from tachyon_http.requests import ClientDisconnect, Request
from tachyon_http.responses import Response
from tachyon_http.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "AsyncContentStream",
    "BaseHTTPMiddleware",
    "BodyStreamGenerator",
    "DispatchFunction",
    "RequestResponseEndpoint",
]

RequestResponseEndpoint = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, RequestResponseEndpoint], Awaitable[Response]]
BodyStreamGenerator = AsyncGenerator[bytes | MutableMapping[str, Any], None]
AsyncContentStream = AsyncIterable[str | bytes | memoryview | MutableMapping[str, Any]]
T = TypeVar("T")

_START = "http.response.start"
_BODY = "http.response.body"
_PATHSEND = "http.response.pathsend"
_DEBUG = "http.response.debug"
_EARLY_HINT = "http.response.early_hint"
_DISCONNECT = "http.disconnect"

# What the wrapped application has been told about the request body so far.
_RELAY_PENDING = 0  # not everything yet
_RELAY_BODY_DONE = 1  # the whole body; a disconnect is all that is left to report
_RELAY_DISCONNECTED = 2  # the disconnect too


def _disconnect_message() -> Message:
    # A fresh dict each time: receivers may mutate what they get.
    return {"type": _DISCONNECT}


def _body_message(chunk: bytes, more: bool) -> Message:
    return {"type": "http.request", "body": chunk, "more_body": more}


def _is_final(message: Message) -> bool:
    kind = message["type"]
    return kind == _PATHSEND or (kind == _BODY and not message.get("more_body", False))


class _CachedRequest(Request):
    """The request given to ``dispatch``; it also feeds the request body to the wrapped application.

    A body already read with ``body()`` is replayed; a stream consumed with ``stream()`` becomes an empty
    body (rather than a hang); otherwise the application pulls chunks through this request's own stream, so
    both sides agree on what was read and on disconnection.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        super().__init__(scope, receive, send)
        self._relay_state = _RELAY_PENDING

    async def wrapped_receive(self) -> Message:
        state = self._relay_state
        if state == _RELAY_DISCONNECTED:
            # No need to wait for the server to say it again.
            return _disconnect_message()
        if state == _RELAY_BODY_DONE:
            return await self._relay_disconnect()

        cached = getattr(self, "_body", None)
        if cached is not None:
            # dispatch awaited body(): hand it over even if the client has gone since.
            self._relay_state = _RELAY_BODY_DONE
            return _body_message(cached, False)
        if self._stream_consumed:
            self._relay_state = _RELAY_BODY_DONE
            return _body_message(b"", False)
        return await self._relay_next_chunk()

    async def _relay_disconnect(self) -> Message:
        self._relay_state = _RELAY_DISCONNECTED
        if self._is_disconnected:
            return _disconnect_message()
        message = await self.receive()
        if message["type"] != _DISCONNECT:  # pragma: no cover
            raise RuntimeError(f"Unexpected message received: {message['type']}")
        return message

    async def _relay_next_chunk(self) -> Message:
        try:
            async with aclosing(self.stream()) as chunks:
                chunk = await chunks.__anext__()
        except ClientDisconnect:
            self._relay_state = _RELAY_DISCONNECTED
            return _disconnect_message()
        finished = self._stream_consumed
        if finished:
            self._relay_state = _RELAY_BODY_DONE
        return _body_message(chunk, not finished)


class _Exchange:
    """Per-request plumbing between one dispatch call and the wrapped application."""

    __slots__ = (
        "app",
        "channel_in",
        "channel_out",
        "client_receive",
        "client_send",
        "delivered",
        "error",
        "error_reraised",
        "scope",
        "tasks",
    )

    def __init__(self, app: ASGIApp, scope: Scope, client_receive: Receive, client_send: Send) -> None:
        self.app = app
        self.scope = scope
        self.client_receive = client_receive
        self.client_send = client_send
        self.delivered = anyio.Event()  # set once the dispatch function's response has been sent
        self.error: Exception | None = None
        self.error_reraised = False
        self.tasks: TaskGroup | None = None
        # Unbuffered: the application advances only as fast as its response is replayed to the client.
        channel: tuple[MemoryObjectSendStream[Message], MemoryObjectReceiveStream[Message]]
        channel = anyio.create_memory_object_stream[Message]()
        self.channel_in, self.channel_out = channel

    async def app_receive(self) -> Message:
        if self.delivered.is_set():
            return _disconnect_message()
        received: Message | None = None
        async with anyio.create_task_group() as race:

            async def cancel_once_delivered() -> None:
                await self.delivered.wait()
                race.cancel_scope.cancel()

            race.start_soon(cancel_once_delivered)
            try:
                received = await self.client_receive()
            finally:
                race.cancel_scope.cancel()
        # Lost the race (or finished it too late): from the application's view the client is gone.
        if received is None or self.delivered.is_set():
            return _disconnect_message()
        return received

    async def app_send(self, message: Message) -> None:
        try:
            await self.channel_in.send(message)
        except anyio.BrokenResourceError:
            return  # the replay is over and the channel closed: nobody is listening
        if _is_final(message):
            # Park the application until the client has everything, so its background work runs afterwards.
            await self.delivered.wait()

    async def run_app(self) -> None:
        with self.channel_in:
            try:
                await self.app(self.scope, self.app_receive, self.app_send)
            except Exception as exc:
                self.error = exc

    async def call_next(self, request: Request) -> Response:
        assert self.tasks is not None
        self.tasks.start_soon(self.run_app)
        debug_info: Any = None
        try:
            while True:
                first = await self.channel_out.receive()
                kind = first["type"]
                if kind == _DEBUG:
                    debug_info = first["info"]
                elif kind == _EARLY_HINT:
                    await self.client_send(first)  # hints go straight out; they do not start the response
                else:
                    break
        except anyio.EndOfStream:
            raise self._failure()

        assert kind == _START
        replay = _StreamingResponse(status_code=first["status"], content=self.replay_body(), info=debug_info)
        replay.raw_headers = first.get("headers", [])
        return replay

    def _failure(self) -> BaseException:
        """What to raise when the application ended without starting a response."""
        error = self.error
        if error is None:
            return RuntimeError("No response returned.")
        self.error_reraised = True
        # Keep an explicit cause; promote an implicit context to the cause; with neither, suppress the
        # context. Either way the internal EndOfStream never shows up in the application's traceback.
        error.__cause__ = error.__cause__ or error.__context__
        error.__suppress_context__ = True
        return error

    async def replay_body(self) -> BodyStreamGenerator:
        async for message in self.channel_out:
            if message["type"] == _PATHSEND:
                yield message
                return
            assert message["type"] == _BODY, f"Unexpected message: {message}"
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return


class BaseHTTPMiddleware:
    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func = self.dispatch if dispatch is None else dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request = _CachedRequest(scope, receive, send)
        relay_receive = request.wrapped_receive
        exchange = _Exchange(self.app, scope, relay_receive, send)
        with exchange.channel_out, exchange.channel_in:
            async with create_collapsing_task_group() as tasks:
                exchange.tasks = tasks
                response = await self.dispatch_func(request, exchange.call_next)
                await response(scope, relay_receive, send)
                exchange.delivered.set()
                exchange.channel_out.close()
        # The application failed after its response had started: dispatch never saw it, so raise it now.
        if exchange.error is not None and not exchange.error_reraised:
            raise exchange.error

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        raise NotImplementedError()  # pragma: no cover


class _StreamingResponse(Response):
    """Replays the wrapped application's response; items that are whole ASGI messages pass unchanged."""

    def __init__(
        self,
        content: AsyncContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.info = info
        self.body_iterator = content
        self.status_code = status_code
        self.media_type = media_type
        self.init_headers(headers)
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.info is not None:
            await send({"type": _DEBUG, "info": self.info})
        await send({"type": _START, "status": self.status_code, "headers": self.raw_headers})

        ended_by_message = False
        async for item in self.body_iterator:
            if isinstance(item, dict):
                # A complete message (pathsend) ends the response on its own.
                ended_by_message = True
                await send(item)
            else:
                await send({"type": _BODY, "body": item, "more_body": True})
        if not ended_by_message:
            await send({"type": _BODY, "body": b"", "more_body": False})

        if self.background:
            await self.background()
