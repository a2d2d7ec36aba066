"""The same scenarios against a real uvicorn (httpx over TCP, the ``websockets`` client) and through the
in-process TestClient must give identical results.

The application is raw ASGI (no framework), so the comparison checks the test client's transport and
WebSocket session against a real server, nothing else. Each scenario returns a transcript of what a client
observed; the transcripts from both sides must be equal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol
from urllib.parse import parse_qsl

import httpx2 as httpx
import pytest
from tachyon_http.types import Message, Receive, Scope, Send
from tachyon_testclient.testclient import TestClient, WebSocketDenialResponse, WebSocketTestSession
from tachyon_ws.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

ONE_MIB = 1024 * 1024
# Per-operation bound for the real clients (e2e_IO_TIMEOUT; this module is also the application
# module the server imports, where the helper module is not importable). Every scenario finishes in well
# under a second; the bound is for a heavily loaded machine.
IO_TIMEOUT = 60.0
SUPPORTED_SUBPROTOCOLS = ("chat.v2", "chat.v1")

_last_close: dict[str, Any] = {}

# ------------------------------------------------------------------------------------------- application


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _http(scope: Scope, receive: Receive, send: Send) -> None:
    path = scope["path"]
    request_headers = dict(scope["headers"])
    body = await _read_body(receive)
    if path == "/hello":
        await _respond(send, 200, b"Hello, world!", [(b"content-type", b"text/plain; charset=utf-8")])
    elif path == "/echo":
        content_type = request_headers.get(b"content-type", b"application/octet-stream")
        await _respond(send, 200, body, [(b"content-type", content_type)])
    elif path == "/query":
        pairs = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
        await _respond(send, 200, json.dumps(pairs).encode(), [(b"content-type", b"application/json")])
    elif path == "/headers":
        token = request_headers.get(b"x-token", b"")
        await _respond(send, 200, token, [(b"content-type", b"text/plain")])
    elif path == "/cookie":
        await _respond(send, 204, b"", [(b"set-cookie", b"flavour=oat; Path=/; HttpOnly")])
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for chunk in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/reset-close":
        _last_close.clear()
        await _respond(send, 204, b"", [])
    elif path == "/last-close":
        await _respond(send, 200, json.dumps(_last_close).encode(), [(b"content-type", b"application/json")])
    else:
        await _respond(send, 404, b"missing", [(b"content-type", b"text/plain")])


async def _websocket(scope: Scope, receive: Receive, send: Send) -> None:
    message = await receive()
    assert message["type"] == "websocket.connect"
    path = scope["path"]
    if path == "/reject":
        await send({"type": "websocket.close", "code": 1008, "reason": ""})
        return
    if path == "/deny":
        await send({"type": "websocket.http.response.start", "status": 401, "headers": [(b"x-reason", b"auth")]})
        await send({"type": "websocket.http.response.body", "body": b"login ", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"first"})
        return
    offered = scope.get("subprotocols", [])
    chosen = next((name for name in SUPPORTED_SUBPROTOCOLS if name in offered), None)
    await send({"type": "websocket.accept", "subprotocol": chosen})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            _last_close.update(code=message.get("code"), reason=message.get("reason") or "")
            return
        text = message.get("text")
        if text is not None and text.startswith("close:"):
            _, code, reason = text.split(":", 2)
            await send({"type": "websocket.close", "code": int(code), "reason": reason})
            return
        if text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "websocket":
        await _websocket(scope, receive, send)


# ---------------------------------------------------------------------------------------------- drivers


class Connection(Protocol):
    subprotocol: str | None

    def send(self, data: str | bytes) -> None: ...
    def recv(self) -> tuple[Any, ...]: ...
    def close(self, code: int, reason: str) -> None: ...


class Driver(Protocol):
    http: httpx.Client

    def websocket(self, path: str, subprotocols: list[str] | None = None) -> Iterator[Connection]: ...


class RealConnection:
    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection
        self.subprotocol = connection.subprotocol

    def send(self, data: str | bytes) -> None:
        self._connection.send(data)

    def recv(self) -> tuple[Any, ...]:
        try:
            data = self._connection.recv(timeout=IO_TIMEOUT)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return ("closed", closed.rcvd.code, closed.rcvd.reason)
        return ("text", data) if isinstance(data, str) else ("bytes", data)

    def close(self, code: int, reason: str) -> None:
        self._connection.close(code=code, reason=reason)


class InProcessConnection:
    def __init__(self, session: WebSocketTestSession) -> None:
        self._session = session
        self.subprotocol = session.accepted_subprotocol

    def send(self, data: str | bytes) -> None:
        if isinstance(data, str):
            self._session.send_text(data)
        else:
            self._session.send_bytes(data)

    def recv(self) -> tuple[Any, ...]:
        try:
            message: Message = self._session.receive()
        except WebSocketDisconnect as exc:
            return ("closed", exc.code, exc.reason)
        if message["type"] == "websocket.close":
            return ("closed", message.get("code", 1000), message.get("reason") or "")
        text = message.get("text")
        return ("text", text) if text is not None else ("bytes", message["bytes"])

    def close(self, code: int, reason: str) -> None:
        self._session.close(code=code, reason=reason)


class Rejected(Exception):
    """The handshake was refused; ``outcome`` is what a client can observe of it."""

    def __init__(self, outcome: tuple[Any, ...]) -> None:
        self.outcome = outcome


class RealDriver:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=IO_TIMEOUT)
        self._ws_base = base_url.replace("http://", "ws://")

    def websocket(self, path: str, subprotocols: list[str] | None = None) -> Iterator[Connection]:
        try:
            connection = connect(
                self._ws_base + path,
                subprotocols=subprotocols,
                max_size=4 * ONE_MIB,
                open_timeout=IO_TIMEOUT,  # type: ignore[arg-type]
            )
        except InvalidStatus as refused:
            response = refused.response
            if response.status_code == 403:
                # A close before accept: uvicorn answers 403 (the ASGI spec's choice) and the code is not sent.
                raise Rejected(("rejected",)) from None
            raise Rejected(("denied", response.status_code, response.headers.get("x-reason"), response.body)) from None
        with connection:
            yield RealConnection(connection)


class InProcessDriver:
    def __init__(self, client: TestClient) -> None:
        self.http = client

    def websocket(self, path: str, subprotocols: list[str] | None = None) -> Iterator[Connection]:
        try:
            session = self.http.websocket_connect(path, subprotocols=subprotocols)  # type: ignore[attr-defined]
            session.__enter__()
        except WebSocketDenialResponse as denied:
            raise Rejected(("denied", denied.status_code, denied.headers.get("x-reason"), denied.content)) from None
        except WebSocketDisconnect:
            raise Rejected(("rejected",)) from None
        try:
            yield InProcessConnection(session)
        finally:
            session.__exit__(None, None, None)


# -------------------------------------------------------------------------------------------- scenarios


def http_basics(driver: Driver) -> list[Any]:
    client = driver.http
    transcript: list[Any] = []
    for method, path, kwargs in [
        ("GET", "/hello", {}),
        ("HEAD", "/hello", {}),
        ("POST", "/echo", {"content": b"\x00binary\xff", "headers": {"content-type": "application/x-raw"}}),
        ("POST", "/echo", {"json": {"name": "数据", "n": [1, 2]}}),
        ("POST", "/echo", {"data": {"a": "1", "b": "two words"}}),
        ("GET", "/query", {"params": [("x", "1"), ("x", "2"), ("é", "ü"), ("empty", "")]}),
        ("GET", "/headers", {"headers": {"X-Token": "secret"}}),
        ("GET", "/cookie", {}),
        ("GET", "/stream", {}),
        ("GET", "/missing", {}),
    ]:
        response = client.request(method, path, **kwargs)
        transcript.append(
            (
                method,
                path,
                response.status_code,
                response.headers.get("content-type"),
                response.headers.get("set-cookie"),
                response.content,
            )
        )
    return transcript


def websocket_echo(driver: Driver) -> list[Any]:
    transcript: list[Any] = []
    for connection in driver.websocket("/echo"):
        transcript.append(("subprotocol", connection.subprotocol))
        for data in ("hello", "ünïcödé", b"\x00\x01\xff", "", b"", json.dumps({"k": [1, None]})):
            connection.send(data)
            transcript.append(connection.recv())
        connection.send("close:4001:custom reason")
        transcript.append(connection.recv())
    return transcript


def websocket_large_messages(driver: Driver) -> list[Any]:
    transcript: list[Any] = []
    text = "ab" * (ONE_MIB // 2)
    blob = bytes(range(256)) * (ONE_MIB // 256)
    for connection in driver.websocket("/echo"):
        connection.send(text)
        transcript.append(connection.recv() == ("text", text))
        connection.send(blob)
        transcript.append(connection.recv() == ("bytes", blob))
    return transcript


def websocket_subprotocols(driver: Driver) -> list[Any]:
    transcript: list[Any] = []
    for offered in (["chat.v1", "chat.v2"], ["chat.v1"], ["unknown"], None):
        for connection in driver.websocket("/echo", subprotocols=offered):
            transcript.append((offered, connection.subprotocol))
    return transcript


def websocket_client_close(driver: Driver) -> list[Any]:
    driver.http.post("/reset-close")
    for connection in driver.websocket("/echo"):
        connection.send("ping")
        assert connection.recv() == ("text", "ping")
        connection.close(4002, "client leaving")
    # The application records the close code and reason it received; read them back over HTTP.
    deadline = time.monotonic() + IO_TIMEOUT
    while not (seen := driver.http.get("/last-close").json()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {IO_TIMEOUT} s waiting for the application to record the close")
        time.sleep(0.02)
    return [seen]


def websocket_refusals(driver: Driver) -> list[Any]:
    transcript: list[Any] = []
    for path in ("/reject", "/deny"):
        try:
            for _ in driver.websocket(path):
                transcript.append(("accepted", path))  # pragma: no cover - a refusal is expected
        except Rejected as rejected:
            transcript.append(rejected.outcome)
    return transcript


SCENARIOS: list[Callable[[Driver], list[Any]]] = [
    http_basics,
    websocket_echo,
    websocket_large_messages,
    websocket_subprotocols,
    websocket_client_close,
    websocket_refusals,
]


# ------------------------------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def real_driver(live_server: Any) -> Iterator[RealDriver]:
    driver = RealDriver(live_server("test_e2e_testclient_parity:app"))
    try:
        yield driver
    finally:
        driver.http.close()


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_testclient_matches_a_real_server(
    real_driver: RealDriver, scenario: Callable[[Driver], list[Any]], backend: str
) -> None:
    real = scenario(real_driver)
    with TestClient(app, backend=backend) as client:  # type: ignore[arg-type]
        in_process = scenario(InProcessDriver(client))  # type: ignore[arg-type]
    assert in_process == real
    assert real  # a scenario that observed nothing would compare equal trivially


def test_scenarios_observe_what_they_should(real_driver: RealDriver) -> None:
    # Spot checks that the shared transcripts are the expected ones, not merely equal.
    assert websocket_echo(real_driver)[-1] == ("closed", 4001, "custom reason")  # type: ignore[arg-type]
    assert websocket_subprotocols(real_driver)[0] == (["chat.v1", "chat.v2"], "chat.v2")  # type: ignore[arg-type]
    assert websocket_client_close(real_driver) == [{"code": 4002, "reason": "client leaving"}]  # type: ignore[arg-type]
    assert websocket_refusals(real_driver) == [("rejected",), ("denied", 401, "auth", b"login first")]  # type: ignore[arg-type]
    assert websocket_large_messages(real_driver) == [True, True]  # type: ignore[arg-type]
