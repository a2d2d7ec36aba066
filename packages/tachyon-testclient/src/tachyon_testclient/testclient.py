"""Drive any ASGI application in-process through httpx: ``TestClient`` (blocking) and ``AsyncTestClient``.

Both clients are ordinary httpx clients whose transport calls the application directly. ``TestClient`` is
compatible with Starlette 1.10.0's: it runs the application on an anyio event loop in a helper thread (a
blocking portal), one loop per request, or one shared loop inside ``with client:`` (which also runs the
lifespan). ``AsyncTestClient`` runs the application on the caller's own event loop.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, wait as wait_futures
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypedDict, cast

import anyio
import anyio.from_thread
from tachyon_http.types import ASGIApp, Message, Scope
from tachyon_ws.websockets import WebSocketDisconnect

from tachyon_testclient._async import AsyncTestClient, AsyncWebSocketTestSession
from tachyon_testclient._exchange import (
    _ABNORMAL_CLOSURE,
    _APP_RETURNED,
    _DENIAL_START,
    _NORMAL_CLOSURE,
    _SESSION_ENDING,
    ASGI2App,
    ASGI3App,
    ASGIInstance,
    WebSocketDenialResponse,
    _as_asgi3,
    _ASGI2Adapter,  # noqa: F401  (reachable here as before the split)
    _collect_denial_part,
    _Exchange,
    _is_asgi3,  # noqa: F401  (as in Starlette's module, which libraries import it from)
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
    # The httpx module _exchange chose (httpx2, or the deprecated httpx).
    from tachyon_testclient._exchange import httpx

__all__ = [
    "ASGI2App",
    "ASGI3App",
    "ASGIInstance",
    "AsyncTestClient",
    "AsyncWebSocketTestSession",
    "TestClient",
    "WebSocketDenialResponse",
    "WebSocketTestSession",
]

_PortalFactoryType = Callable[[], AbstractContextManager[anyio.from_thread.BlockingPortal]]
_RequestData = Mapping[str, str | Iterable[str] | bytes]


class _AsyncBackend(TypedDict):
    backend: str
    backend_options: dict[str, Any]


class _Upgrade(Exception):
    """Raised by the blocking transport to hand a WebSocket handshake back to ``websocket_connect``."""

    def __init__(self, session: WebSocketTestSession) -> None:
        self.session = session


# ------------------------------------------------------------------------------------------ blocking side


class _SyncAppStream(httpx.SyncByteStream):
    """The body of a response whose application is still running on a portal's event loop."""

    def __init__(self, transport: _TestClientTransport, portal: anyio.from_thread.BlockingPortal, exchange: _Exchange):
        self._transport = transport
        self._portal = portal
        self._exchange = exchange
        self._future: Future[None] | None = None
        self._exit_stack: contextlib.ExitStack | None = None

    def __iter__(self) -> Iterator[bytes]:
        portal = self._portal
        exchange = self._exchange
        skip = exchange.head
        complete = exchange.complete
        # Once the whole response has arrived there is nothing more to fetch; close() then waits for the
        # application to return (background tasks), as reading on to the end of the channel would.
        while not complete.is_set():
            try:
                chunk = portal.call(exchange.next_chunk)
            except anyio.EndOfStream:
                break
            if chunk and not skip:
                yield chunk
        self.close()

    def close(self) -> None:
        stack, self._exit_stack = self._exit_stack, None
        if stack is not None:
            stack.close()

    def abort(self) -> None:
        self._portal.call(self._exchange.cancel)
        self.close()

    def _end_application(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        exchange = self._exchange
        future = self._future
        if future is None:  # pragma: no cover - only when a signal interrupts start_task()
            # The application may still be starting on a shared (lifespan) loop: stop it there.
            if exchange.cancel_scope is not None:
                self._portal.call(exchange.cancel)
            return
        # complete is only ever set, never cleared: seeing it set here needs no trip to the event loop.
        if not future.done() and not exchange.complete.is_set():
            self._portal.call(exchange.cancel_if_incomplete)
        wait_futures([future])
        exchange.close_channel()
        self._transport._open_streams.discard(self)
        if exc_type is None and self._transport.raise_server_exceptions and exchange.error is not None:
            raise exchange.error


class _TestClientTransport(httpx.BaseTransport):
    """An httpx transport that runs each request through the application on a blocking portal."""

    def __init__(
        self,
        app: ASGI3App,
        portal_factory: _PortalFactoryType,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        *,
        client: tuple[str, int],
        app_state: dict[str, Any],
    ) -> None:
        self.app = app
        self.portal_factory = portal_factory
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.client = client
        self.app_state = app_state
        self._scopes = _ScopeFactory(root_path, client, app_state)
        self._open_streams: set[_SyncAppStream] = set()

    def close(self) -> None:
        # Responses still open when the client closes are abandoned: their applications are cancelled.
        with contextlib.ExitStack() as stack:
            while self._open_streams:
                stack.callback(self._open_streams.pop().abort)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scope = self._scopes.build(request)
        if scope["type"] == "websocket":
            raise _Upgrade(WebSocketTestSession(self.app, scope, self.portal_factory))

        # Read the request body here, in the caller's thread, so file uploads never block the event loop.
        exchange = _Exchange(self.app, scope, request.read(), streaming=True)
        with contextlib.ExitStack() as stack:
            portal = stack.enter_context(self.portal_factory())
            stream = _SyncAppStream(self, portal, exchange)
            stack.push(stream._end_application)
            # One trip to the event loop: start_task returns as soon as the response has started (or the
            # application has ended), the application itself keeps running.
            stream._future, _ = portal.start_task(exchange.run)
            if exchange.started:
                stream._exit_stack = stack.pop_all()
                self._open_streams.add(stream)
                return exchange.build_response(request, stream)
        return _no_response(request, self.raise_server_exceptions)


class WebSocketTestSession:
    """A WebSocket connection to the application, used as ``with client.websocket_connect(url) as ws:``."""

    def __init__(self, app: ASGI3App, scope: Scope, portal_factory: _PortalFactoryType) -> None:
        self.app = app
        self.scope = scope
        self.portal_factory = portal_factory
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] | None = None

    def __enter__(self) -> Self:
        with contextlib.ExitStack() as stack:
            self.portal = portal = stack.enter_context(self.portal_factory())
            stack.callback(portal.call, self._close_channels)
            future, app_scope = portal.start_task(self._run)
            # Whatever happens, the application's own exception is what the caller gets to see.
            stack.callback(future.result)
            stack.callback(portal.call, app_scope.cancel)
            self.send({"type": "websocket.connect"})
            message = self.receive()
            _raise_on_close(message, self.receive)
            self.accepted_subprotocol = message.get("subprotocol")
            self.extra_headers = message.get("headers")
            stack.callback(self.close, _NORMAL_CLOSURE)
            self._exit_stack = stack.pop_all()
        return self

    def __exit__(self, *args: Any) -> bool | None:
        return self._exit_stack.__exit__(*args)

    async def _run(self, *, task_status: anyio.abc.TaskStatus[anyio.CancelScope]) -> None:
        to_app, app_inbox = anyio.create_memory_object_stream[Message](math.inf)
        app_outbox, from_app = anyio.create_memory_object_stream[Message](math.inf)
        self._channels = (to_app, app_inbox, app_outbox, from_app)
        self._to_app = to_app
        self._from_app = from_app
        with anyio.CancelScope() as app_scope:
            task_status.started(app_scope)
            with app_outbox:
                await self.app(self.scope, app_inbox.receive, app_outbox.send)

    async def _close_channels(self) -> None:
        for channel in getattr(self, "_channels", ()):
            channel.close()

    def send(self, message: Message) -> None:
        self.portal.call(self._to_app.send, message)

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        self.send(_json_message(data, mode))

    def close(self, code: int = _NORMAL_CLOSURE, reason: str | None = None) -> None:
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason})

    def receive(self) -> Message:
        try:
            return self.portal.call(self._from_app.receive)
        except anyio.EndOfStream:
            raise WebSocketDisconnect(_ABNORMAL_CLOSURE, _APP_RETURNED) from None

    def receive_text(self) -> str:
        message = self.receive()
        _raise_on_close(message, self.receive)
        return cast(str, message["text"])

    def receive_bytes(self) -> bytes:
        message = self.receive()
        _raise_on_close(message, self.receive)
        return cast(bytes, message["bytes"])

    def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        message = self.receive()
        _raise_on_close(message, self.receive)
        return _json_payload(message, mode)


def _raise_on_close(message: Message, receive: Callable[[], Message]) -> None:
    # One set lookup for the data messages that pass; the decoding of the rest is shared with the async session.
    if message["type"] in _SESSION_ENDING:
        body: list[bytes] = []
        more = message["type"] == _DENIAL_START
        while more:
            more = _collect_denial_part(receive(), body)
        raise _session_end(message, body)


class TestClient(httpx.Client):
    """A blocking httpx client whose requests go straight to an ASGI application (Starlette-compatible)."""

    __test__ = False
    task: Future[None]
    portal: anyio.from_thread.BlockingPortal | None = None

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: Literal["asyncio", "trio"] = "asyncio",
        backend_options: dict[str, Any] | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.async_backend = _AsyncBackend(backend=backend, backend_options=backend_options or {})
        self.app = _as_asgi3(app)
        self.app_state: dict[str, Any] = {}
        transport = _TestClientTransport(
            self.app,
            portal_factory=self._portal_factory,
            raise_server_exceptions=raise_server_exceptions,
            root_path=root_path,
            app_state=self.app_state,
            client=client,
        )
        super().__init__(
            base_url=base_url,
            headers=_with_user_agent(headers),
            transport=transport,
            follow_redirects=follow_redirects,
            cookies=cookies,
        )

    @contextlib.contextmanager
    def _portal_factory(self) -> Generator[anyio.from_thread.BlockingPortal, None, None]:
        # Inside `with client:` everything shares the lifespan's loop; otherwise each use gets a fresh one.
        if self.portal is not None:
            yield self.portal
        else:
            with anyio.from_thread.start_blocking_portal(**self.async_backend) as portal:
                yield portal

    def request(  # type: ignore[override]
        self,
        method: str,
        url: httpx._types.URLTypes,
        *,
        content: httpx._types.RequestContent | None = None,
        data: _RequestData | None = None,
        files: httpx._types.RequestFiles | None = None,
        json: Any = None,
        params: httpx._types.QueryParamTypes | None = None,
        headers: httpx._types.HeaderTypes | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        auth: httpx._types.AuthTypes | httpx._client.UseClientDefault = httpx._client.USE_CLIENT_DEFAULT,
        follow_redirects: bool | httpx._client.UseClientDefault = httpx._client.USE_CLIENT_DEFAULT,
        timeout: httpx._types.TimeoutTypes | httpx._client.UseClientDefault = httpx._client.USE_CLIENT_DEFAULT,
        extensions: dict[str, Any] | None = None,
    ) -> httpx.Response:
        if timeout is not httpx.USE_CLIENT_DEFAULT:
            _warn_timeout()
        return super().request(
            method,
            self._merge_url(url),
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            auth=auth,
            follow_redirects=follow_redirects,
            timeout=timeout,
            extensions=extensions,
        )

    def websocket_connect(
        self, url: str, subprotocols: Sequence[str] | None = None, **kwargs: Any
    ) -> WebSocketTestSession:
        """Start a WebSocket handshake; use the result as a context manager to run the session."""
        ws_url, kwargs = _websocket_url_and_kwargs(url, subprotocols, kwargs)
        try:
            super().request("GET", ws_url, **kwargs)
        except _Upgrade as upgrade:
            return upgrade.session
        raise RuntimeError("Expected WebSocket upgrade")  # pragma: no cover - the transport always upgrades

    def __enter__(self) -> Self:
        with contextlib.ExitStack() as stack:
            portal = stack.enter_context(anyio.from_thread.start_blocking_portal(**self.async_backend))
            self.portal = portal
            stack.callback(self._forget_portal)
            lifespan = _Lifespan(self.app, self.app_state)
            portal.call(lifespan.prepare)
            stack.callback(portal.call, lifespan.close)
            self.task = portal.start_task_soon(lifespan.run)
            portal.call(lifespan.startup)
            if lifespan.supported:
                stack.callback(portal.call, lifespan.shutdown)
            stack.callback(self._transport.close)
            self._exit_stack = stack.pop_all()
        return self

    def __exit__(self, *args: Any) -> None:
        self._exit_stack.close()

    def _forget_portal(self) -> None:
        self.portal = None
