"""The async test client: ``AsyncTestClient`` runs the ASGI application on the caller's event loop.

Public through ``tachyon_testclient`` and ``tachyon_testclient.testclient``; it shares the scope building, the
request/response exchange and the lifespan driver with the blocking ``TestClient`` (all in ``_exchange``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Self, cast

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from tachyon_http.types import ASGIApp, Message, Scope
from tachyon_ws.websockets import WebSocketDisconnect

from tachyon_testclient._exchange import (
    _ABNORMAL_CLOSURE,
    _APP_RETURNED,
    _DENIAL_START,
    _NORMAL_CLOSURE,
    _SESSION_ENDING,
    ASGI3App,
    _as_asgi3,
    _AsyncUpgrade,
    _collect_denial_part,
    _Exchange,
    _json_message,
    _json_payload,
    _Lifespan,
    _no_response,
    _ScopeFactory,
    _session_end,
    _warn_timeout,
    _websocket_url_and_kwargs,
    _with_user_agent,
)

if TYPE_CHECKING:
    import httpx2 as httpx
else:
    # The httpx module _exchange chose (httpx2, or the deprecated httpx), as the blocking client does.
    from tachyon_testclient._exchange import httpx

__all__ = ["AsyncTestClient", "AsyncWebSocketTestSession"]


class _AsyncAppStream(httpx.AsyncByteStream):
    """The body of a response whose application is running in the client's task group."""

    def __init__(self, transport: _AsyncTestClientTransport, exchange: _Exchange) -> None:
        self._transport = transport
        self._exchange = exchange
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        exchange = self._exchange
        skip = exchange.head
        while True:
            try:
                chunk = await exchange.next_chunk()
            except anyio.EndOfStream:
                break
            if chunk and not skip:
                yield chunk
        await self.aclose()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        exchange = self._exchange
        await exchange.cancel_if_incomplete()
        await exchange.finished.wait()
        exchange.close_channel()
        self._transport._open_streams.discard(self)
        if self._transport.raise_server_exceptions and exchange.error is not None:
            raise exchange.error

    async def abort(self) -> None:
        await self._exchange.cancel()
        await self.aclose()


class _AsyncTestClientTransport(httpx.AsyncBaseTransport):
    """An async httpx transport that runs the application on the caller's event loop."""

    def __init__(
        self,
        app: ASGI3App,
        raise_server_exceptions: bool,
        root_path: str,
        client: tuple[str, int],
        app_state: dict[str, Any],
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self._scopes = _ScopeFactory(root_path, client, app_state)
        self._open_streams: set[_AsyncAppStream] = set()
        # Set while `async with AsyncTestClient(...)` is active: responses then stream from a task in it.
        self.task_group: anyio.abc.TaskGroup | None = None

    async def aclose(self) -> None:
        errors: list[BaseException] = []
        while self._open_streams:
            try:
                await self._open_streams.pop().abort()
            except Exception as exc:  # keep closing the others; report the first failure
                errors.append(exc)
        if errors:
            raise errors[0]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        scope = self._scopes.build(request)
        if scope["type"] == "websocket":
            raise _AsyncUpgrade(scope)
        task_group = self.task_group
        exchange = _Exchange(self.app, scope, await request.aread(), streaming=task_group is not None)
        if task_group is None:
            # No task group to outlive this call: run the application to completion, then answer.
            await exchange.run()
            if exchange.error is not None and self.raise_server_exceptions:
                raise exchange.error
            if not exchange.started:
                return _no_response(request, self.raise_server_exceptions)
            body = b"" if exchange.head else b"".join(exchange.chunks)
            return exchange.build_response(request, httpx.ByteStream(body))
        stream = _AsyncAppStream(self, exchange)
        # The application's task lives in the client's task group; this request only waits for the start.
        exchange.prepare()
        task_group.start_soon(exchange.run)
        await exchange.available.wait()
        if not exchange.started:
            await stream.aclose()
            return _no_response(request, self.raise_server_exceptions)
        self._open_streams.add(stream)
        return exchange.build_response(request, stream)


class AsyncWebSocketTestSession:
    """An async WebSocket connection: ``async with client.websocket_connect(url) as ws: await ws.send_text(...)``."""

    def __init__(self, client: AsyncTestClient, url: str, kwargs: dict[str, Any]) -> None:
        self._client = client
        self._url = url
        self._kwargs = kwargs
        self.app = client.app
        self.scope: Scope = {}
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] | None = None
        self._error: Exception | None = None

    async def __aenter__(self) -> Self:
        try:
            await self._client.request("GET", self._url, **self._kwargs)
        except _AsyncUpgrade as upgrade:
            self.scope = upgrade.scope
        else:  # pragma: no cover - the transport always upgrades
            raise RuntimeError("Expected WebSocket upgrade")
        # The task group must never see the caller's exceptions (it would wrap them in an ExceptionGroup), so
        # the stack is always closed without one and the caller's exception propagates untouched.
        stack = contextlib.AsyncExitStack()
        to_app, app_inbox = anyio.create_memory_object_stream[Message](math.inf)
        app_outbox, from_app = anyio.create_memory_object_stream[Message](math.inf)
        self._to_app = to_app
        self._from_app = from_app
        for channel in (to_app, app_inbox, app_outbox, from_app):
            stack.callback(channel.close)
        stack.callback(self._raise_app_error)
        try:
            task_group = await stack.enter_async_context(anyio.create_task_group())
            self._app_scope = anyio.CancelScope()
            task_group.start_soon(self._run, app_inbox, app_outbox)
            stack.callback(self._app_scope.cancel)
            await self.send({"type": "websocket.connect"})
            message = await self.receive()
            await _araise_on_close(message, self.receive)
        except BaseException:
            await stack.aclose()
            raise
        self.accepted_subprotocol = message.get("subprotocol")
        self.extra_headers = message.get("headers")
        stack.push_async_callback(self.close, _NORMAL_CLOSURE)
        self._exit_stack = stack
        return self

    async def __aexit__(self, *args: Any) -> None:
        await self._exit_stack.aclose()

    async def _run(
        self,
        inbox: MemoryObjectReceiveStream[Message],
        outbox: MemoryObjectSendStream[Message],
    ) -> None:
        with self._app_scope:
            try:
                with outbox:
                    await self.app(self.scope, inbox.receive, outbox.send)
            except Exception as exc:
                self._error = exc

    def _raise_app_error(self) -> None:
        if self._error is not None:
            raise self._error

    async def send(self, message: Message) -> None:
        await self._to_app.send(message)

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.receive", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        await self.send(_json_message(data, mode))

    async def close(self, code: int = _NORMAL_CLOSURE, reason: str | None = None) -> None:
        await self.send({"type": "websocket.disconnect", "code": code, "reason": reason})

    async def receive(self) -> Message:
        try:
            return await self._from_app.receive()
        except anyio.EndOfStream:
            raise WebSocketDisconnect(_ABNORMAL_CLOSURE, _APP_RETURNED) from None

    async def receive_text(self) -> str:
        message = await self.receive()
        await _araise_on_close(message, self.receive)
        return cast(str, message["text"])

    async def receive_bytes(self) -> bytes:
        message = await self.receive()
        await _araise_on_close(message, self.receive)
        return cast(bytes, message["bytes"])

    async def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        message = await self.receive()
        await _araise_on_close(message, self.receive)
        return _json_payload(message, mode)


async def _araise_on_close(message: Message, receive: Callable[[], Awaitable[Message]]) -> None:
    # The same decoding as the blocking session's ``_raise_on_close``; only the receiving is awaited.
    if message["type"] in _SESSION_ENDING:
        body: list[bytes] = []
        more = message["type"] == _DENIAL_START
        while more:
            more = _collect_denial_part(await receive(), body)
        raise _session_end(message, body)


class AsyncTestClient(httpx.AsyncClient):
    """An async httpx client whose requests run the ASGI application on the current event loop.

    ``async with AsyncTestClient(app) as client:`` runs the lifespan and lets responses stream; without the
    ``async with``, each request runs the application to completion before returning.
    """

    __test__ = False

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: httpx._types.CookieTypes | None = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.app = _as_asgi3(app)
        self.app_state: dict[str, Any] = {}
        transport = _AsyncTestClientTransport(
            self.app, raise_server_exceptions, root_path, client=client, app_state=self.app_state
        )
        self._test_transport = transport
        super().__init__(
            base_url=base_url,
            headers=_with_user_agent(headers),
            transport=transport,
            follow_redirects=follow_redirects,
            cookies=cookies,
        )

    async def request(self, method: str, url: httpx._types.URLTypes, **kwargs: Any) -> httpx.Response:
        if kwargs.get("timeout", httpx.USE_CLIENT_DEFAULT) is not httpx.USE_CLIENT_DEFAULT:
            _warn_timeout()
        return await super().request(method, self._merge_url(url), **kwargs)

    def websocket_connect(
        self, url: str, subprotocols: Sequence[str] | None = None, **kwargs: Any
    ) -> AsyncWebSocketTestSession:
        """A WebSocket session to use as ``async with client.websocket_connect(url) as ws:``."""
        ws_url, kwargs = _websocket_url_and_kwargs(url, subprotocols, kwargs)
        return AsyncWebSocketTestSession(self, ws_url, kwargs)

    async def __aenter__(self) -> Self:
        transport = self._test_transport
        if transport.task_group is not None:
            raise RuntimeError("This AsyncTestClient is already running; it cannot be entered twice at once.")
        # As in the WebSocket session: the task group is always exited without the caller's exception.
        stack = contextlib.AsyncExitStack()
        try:
            task_group = await stack.enter_async_context(anyio.create_task_group())
            transport.task_group = task_group
            stack.callback(self._forget_task_group)
            lifespan = _Lifespan(self.app, self.app_state)
            await lifespan.prepare()
            stack.push_async_callback(lifespan.close)
            task_group.start_soon(lifespan.run)
            await lifespan.startup()
        except BaseException:
            await stack.aclose()
            raise
        if lifespan.supported:
            stack.push_async_callback(lifespan.shutdown)
        stack.push_async_callback(transport.aclose)
        self._exit_stack = stack
        return self

    async def __aexit__(self, *args: Any) -> None:
        await self._exit_stack.aclose()

    def _forget_task_group(self) -> None:
        self._test_transport.task_group = None
