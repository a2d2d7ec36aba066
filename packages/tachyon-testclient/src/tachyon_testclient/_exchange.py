"""The exchange machinery both test clients share: ``TestClient`` (testclient.py) and ``AsyncTestClient`` (_async.py).

What does not depend on how the application is run (on a blocking portal's loop in a helper thread, or on the
caller's own loop) lives here, as httpx's ``Client`` and ``AsyncClient`` share ``BaseClient``: the httpx module
in use, the ASGI 2 adapter, the scope built for a request (``_ScopeFactory``), one request/response exchange with
the application (``_Exchange``), the JSON framing and the end of a WebSocket session, and the lifespan driver
(``_Lifespan``). Both client modules import from here; neither imports the other.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard, cast
from urllib.parse import unquote, urljoin

import anyio
import anyio.abc
from tachyon_http._presented import presented_name
from tachyon_http._shared import dumps_text, is_async_callable, loads_text
from tachyon_http.exceptions import TachyonDeprecationWarning
from tachyon_http.types import ASGIApp, Message, Receive, Scope, Send
from tachyon_ws.websockets import WebSocketDisconnect

if TYPE_CHECKING:
    import httpx2 as httpx
else:
    try:
        import httpx2 as httpx
    except ModuleNotFoundError:  # pragma: no cover - depends on what is installed
        try:
            import httpx
        except ModuleNotFoundError:
            raise RuntimeError(
                f"The {presented_name('tachyon.testclient', 'starlette.testclient')} module requires the httpx2 "
                "package.\nInstall it with:\n    $ pip install httpx2\n"
            ) from None
        warnings.warn(
            f"Using `httpx` with `{presented_name('tachyon.testclient', 'starlette.testclient')}` is deprecated; "
            "install `httpx2` instead.",
            TachyonDeprecationWarning,
            stacklevel=2,
        )


ASGIInstance = Callable[[Receive, Send], Awaitable[None]]
ASGI2App = Callable[[Scope], ASGIInstance]
ASGI3App = Callable[[Scope, Receive, Send], Awaitable[None]]


_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}

# RFC 6455 section 7.4.1: 1006 means "the connection was lost without a close frame". The session reports it
# when the application returns (or fails) without closing, which is what a real client sees from uvicorn.
_NORMAL_CLOSURE = 1000
_ABNORMAL_CLOSURE = 1006
_APP_RETURNED = "The application returned without closing the WebSocket."

_encode_json = dumps_text


def _is_asgi3(app: ASGI2App | ASGI3App) -> TypeGuard[ASGI3App]:
    # A class is an ASGI 3 app only if its instances are awaitable (constructing it is the ASGI 2 style call).
    if inspect.isclass(app):
        return hasattr(app, "__await__")
    return is_async_callable(app)


class _ASGI2Adapter:
    """Presents an ASGI 2 (double-callable) application as an ASGI 3 one."""

    def __init__(self, app: ASGI2App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope)(receive, send)


def _as_asgi3(app: ASGIApp | ASGI2App) -> ASGI3App:
    if _is_asgi3(app):
        return app
    return _ASGI2Adapter(cast(ASGI2App, app))


class _AsyncUpgrade(Exception):
    """Raised by the async transport to hand a WebSocket handshake scope back to the session."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope


class WebSocketDenialResponse(  # type: ignore[misc]
    httpx.Response,
    WebSocketDisconnect,
):
    """The application refused the WebSocket handshake with an HTTP response (``send_denial_response``)."""

    # Public as tachyon_testclient.testclient.WebSocketDenialResponse (starlette.testclient's under the switch).
    __module__ = "tachyon_testclient.testclient"


# --------------------------------------------------------------------------------------------------- scopes


class _ScopeFactory:
    """Turns an httpx request into the ASGI scope a server would build for it."""

    __slots__ = ("app_state", "client", "root_path")

    def __init__(self, root_path: str, client: tuple[str, int], app_state: dict[str, Any]) -> None:
        self.root_path = root_path
        self.client = client
        self.app_state = app_state

    def build(self, request: httpx.Request) -> Scope:
        url = request.url
        scheme = url.scheme
        port = url.port
        if port is None:
            port = _DEFAULT_PORTS[scheme]
        # httpx always sends a Host header; a server would see it, so the scope carries it as given.
        headers: list[tuple[bytes, bytes]] = [] if "host" in request.headers else [(b"host", url.netloc)]
        headers += [(name.lower(), value) for name, value in request.headers.raw]
        scope: dict[str, Any] = {
            "type": "http",
            "http_version": "1.1",
            "method": request.method,
            # url.path is already percent-decoded once; Starlette's client decodes it again, and so do we.
            "path": unquote(url.path),
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "root_path": self.root_path,
            "scheme": scheme,
            "query_string": url.query,
            "headers": headers,
            "client": self.client,
            "server": [url.raw_host.decode("ascii"), port],
            "extensions": {"http.response.debug": {}, "http.response.trailers": {}},
            "state": self.app_state.copy(),
        }
        if scheme == "ws" or scheme == "wss":
            del scope["http_version"], scope["method"]
            offered = request.headers.get("sec-websocket-protocol")
            scope["type"] = "websocket"
            scope["subprotocols"] = [] if offered is None else [item.strip() for item in offered.split(",")]
            scope["extensions"] = {"websocket.http.response": {}}
        return scope


def _websocket_url_and_kwargs(
    url: str, subprotocols: Sequence[str] | None, kwargs: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    # WebSocket URLs resolve against ws://testserver, not the client's base_url (as in Starlette).
    headers = httpx.Headers(kwargs.get("headers"))
    for name, value in (
        ("connection", "upgrade"),
        ("sec-websocket-key", "testserver=="),
        ("sec-websocket-version", "13"),
    ):
        if name not in headers:
            headers[name] = value
    if subprotocols is not None and "sec-websocket-protocol" not in headers:
        headers["sec-websocket-protocol"] = ", ".join(subprotocols)
    kwargs["headers"] = headers
    return urljoin("ws://testserver", url), kwargs


# ------------------------------------------------------------------------------------------------ exchanges


class _Exchange:
    """One HTTP request/response cycle through the application, on its event loop.

    In streaming mode the body travels through a zero-capacity channel, so the application runs no further
    ahead than the reader (back-pressure) and the response is available as soon as it has started. In
    buffered mode (no long-lived task group to run the application in), the body is collected in a list.
    """

    def __init__(self, app: ASGI3App, scope: Scope, body: bytes, *, streaming: bool) -> None:
        self.app = app
        self.scope = scope
        self.head = scope["method"] == "HEAD"
        self.streaming = streaming
        self._request_body: bytes | None = body
        self.started = False
        self.status_code = 500
        self.headers: Any = []
        self.trailers_expected = False
        self.trailers: list[tuple[bytes, bytes]] = []
        self.body_done = False
        self.debug_info: dict[str, Any] | None = None
        self.chunks: list[bytes] = []
        self.error: Exception | None = None
        self.cancel_scope: anyio.CancelScope | None = None
        self._prepared = False

    def prepare(self) -> None:
        """Create the event loop objects; on the loop (trio checks it), before run() or at its start."""
        if self._prepared:
            return
        self._prepared = True
        self.available = anyio.Event()  # the response has started, or the application has ended
        self.complete = anyio.Event()  # the whole response (body and trailers) has been delivered
        self.finished = anyio.Event()
        if self.streaming:
            self._tx, self._rx = anyio.create_memory_object_stream[tuple[bytes, bool]](0)

    def _announce(self) -> None:
        # The response is available (started, or the application ended without one).
        if not self.available.is_set():
            self.available.set()
            self._task_status.started()

    async def receive(self) -> Message:
        body = self._request_body
        if body is not None:
            self._request_body = None
            return {"type": "http.request", "body": body}
        # A client stays connected until it has the whole response.
        if not self.complete.is_set():
            await self.complete.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.body":
            if not self.started:
                raise AssertionError('Received "http.response.body" without "http.response.start".')
            if self.complete.is_set():
                raise AssertionError('Received "http.response.body" after response completed.')
            if self.body_done:
                raise AssertionError('Received "http.response.body" after body completed.')
            last = not message.get("more_body", False)
            done = last and not self.trailers_expected
            # bytes() copies memoryviews/bytearrays the application may reuse for its next chunk.
            chunk = bytes(message.get("body", b""))
            if self.streaming:
                await self._tx.send((chunk, done))
            else:
                self.chunks.append(chunk)
                if done:
                    self.complete.set()
            if last:
                self.body_done = True
        elif kind == "http.response.start":
            if self.started:
                raise AssertionError('Received multiple "http.response.start" messages.')
            self.status_code = message["status"]
            self.headers = message.get("headers", [])
            self.trailers_expected = bool(message.get("trailers", False))
            self.started = True
            self._announce()
        elif kind == "http.response.trailers":
            if not self.trailers_expected:
                raise AssertionError('Received "http.response.trailers" without declaring trailers.')
            if not self.body_done:
                raise AssertionError('Received "http.response.trailers" before body completed.')
            if self.complete.is_set():
                raise AssertionError('Received "http.response.trailers" after response completed.')
            self.trailers.extend(message.get("headers", []))
            if not message.get("more_trailers", False):
                self.complete.set()
        elif kind == "http.response.debug":
            self.debug_info = message["info"]

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run the application; with a blocking portal's start_task, returns to the caller once available."""
        self._task_status = task_status
        self.prepare()
        cancel_scope = self.cancel_scope = anyio.CancelScope()
        try:
            with cancel_scope:
                try:
                    await self.app(self.scope, self.receive, self.send)
                finally:
                    if self.streaming:
                        self._tx.close()
        except Exception as exc:
            self.error = exc
        finally:
            self.finished.set()
            self._announce()

    async def next_chunk(self) -> bytes:
        """The next body chunk to hand out; raises anyio.EndOfStream once the application has ended.

        Empty chunks (and every chunk of a HEAD response) are consumed here, on the loop, rather than costing
        the reader a round trip each; the final chunk is returned even if empty, to mark completion.
        """
        receive = self._rx.receive
        head = self.head
        while True:
            chunk, done = await receive()
            if done:
                self.complete.set()
                return b"" if head else chunk
            if chunk and not head:
                return chunk

    async def cancel_if_incomplete(self) -> None:
        # A reader that stops before the end cancels the application; after the end (background tasks,
        # trailers already sent) the application is left to finish.
        if not self.complete.is_set() and self.cancel_scope is not None:
            self.cancel_scope.cancel()

    async def cancel(self) -> None:
        if self.cancel_scope is not None:
            self.cancel_scope.cancel()

    def close_channel(self) -> None:
        if self.streaming:
            self._rx.close()

    def build_response(
        self, request: httpx.Request, stream: httpx.SyncByteStream | httpx.AsyncByteStream
    ) -> httpx.Response:
        response = httpx.Response(self.status_code, headers=self.headers, stream=stream, request=request)
        if self.trailers_expected:
            # The same list keeps filling while a streamed body is read.
            response.extensions["http.response.trailers"] = self.trailers
        info = self.debug_info
        if info is not None:
            response.extensions["http.response.debug"] = info
            if "template" in info:
                response.template = info["template"]  # type: ignore[attr-defined]
            if "context" in info:
                response.context = info["context"]  # type: ignore[attr-defined]
        return response


def _no_response(request: httpx.Request, raise_server_exceptions: bool) -> httpx.Response:
    if raise_server_exceptions:
        raise AssertionError("TestClient did not receive any response.")
    return httpx.Response(500, headers=[], stream=httpx.ByteStream(b""), request=request)


def _json_message(data: Any, mode: str) -> Message:
    text = _encode_json(data)
    if mode == "text":
        return {"type": "websocket.receive", "text": text}
    return {"type": "websocket.receive", "bytes": text.encode("utf-8")}


def _json_payload(message: Message, mode: str) -> Any:
    if mode == "text":
        return loads_text(message["text"])
    return loads_text(message["bytes"].decode("utf-8"))


# The messages after which a session receives no data: a close, or the start of an HTTP denial response.
_DENIAL_START = "websocket.http.response.start"
_SESSION_ENDING = frozenset({"websocket.close", _DENIAL_START})


def _collect_denial_part(part: Message, body: list[bytes]) -> bool:
    """Add one body message of a denial response to ``body``; return whether more of them follow."""
    if part["type"] != "websocket.http.response.body":
        raise AssertionError(f'Expected "websocket.http.response.body", got {part["type"]!r}')
    body.append(part["body"])
    return bool(part.get("more_body", False))


def _session_end(message: Message, body: list[bytes]) -> WebSocketDisconnect | WebSocketDenialResponse:
    """The exception for a message of ``_SESSION_ENDING`` (``body``: the denial's collected body parts)."""
    if message["type"] == "websocket.close":
        return WebSocketDisconnect(code=message.get("code", _NORMAL_CLOSURE), reason=message.get("reason", ""))
    return WebSocketDenialResponse(status_code=message["status"], headers=message["headers"], content=b"".join(body))


def _with_user_agent(headers: Mapping[str, str] | None) -> httpx.Headers:
    merged = httpx.Headers(headers)
    if "user-agent" not in merged:
        merged["user-agent"] = "testclient"
    return merged


def _warn_timeout() -> None:
    warnings.warn(
        "You should not use the 'timeout' argument with the TestClient. "
        "The application runs in-process, so a timeout cannot interrupt it.",
        TachyonDeprecationWarning,
        stacklevel=3,
    )


# ------------------------------------------------------------------------------------------------ lifespan


class _Lifespan:
    """Runs the ASGI lifespan protocol in one task, so startup and shutdown share it (task groups need that)."""

    def __init__(self, app: ASGI3App, state: dict[str, Any]) -> None:
        self.app = app
        self.scope: Scope = {"type": "lifespan", "state": state}
        self.error: Exception | None = None
        # An application that returns without answering startup does not speak the lifespan protocol; like
        # uvicorn's "auto" mode, carry on without one.
        self.supported = True

    async def prepare(self) -> None:
        self._to_app, self._app_inbox = anyio.create_memory_object_stream[Message](math.inf)
        self._app_outbox, self._from_app = anyio.create_memory_object_stream[Message](math.inf)

    async def run(self) -> None:
        try:
            with self._app_outbox:
                await self.app(self.scope, self._app_inbox.receive, self._app_outbox.send)
        except Exception as exc:
            self.error = exc

    async def close(self) -> None:
        for channel in (self._to_app, self._app_inbox, self._app_outbox, self._from_app):
            channel.close()

    async def startup(self) -> None:
        if not await self._exchange("startup"):
            self.supported = False

    async def shutdown(self) -> None:
        await self._exchange("shutdown")

    async def _exchange(self, phase: str) -> bool:
        """Send one lifespan event; False if the application returned without answering it."""
        await self._to_app.send({"type": f"lifespan.{phase}"})
        message = await self._answer()
        if message is None:
            return False
        kind = message["type"]
        if kind == f"lifespan.{phase}.complete":
            return True
        if kind != f"lifespan.{phase}.failed":
            raise RuntimeError(
                f'Expected ASGI message "lifespan.{phase}.complete" or "lifespan.{phase}.failed", but got {kind!r}'
            )
        # The application reports the failure and then raises; that exception is the one to surface.
        while await self._answer() is not None:
            pass
        raise RuntimeError(f"Lifespan {phase} failed: {message.get('message', '')}")

    async def _answer(self) -> Message | None:
        try:
            return await self._from_app.receive()
        except anyio.EndOfStream:
            if self.error is not None:
                raise self.error from None
            return None
