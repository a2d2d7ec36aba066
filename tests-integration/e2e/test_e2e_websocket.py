"""A tachyon_ws echo application served by a real uvicorn on 127.0.0.1, driven by real clients.

The WebSocket side is driven by the ``websockets`` client library, the HTTP side by httpx over TCP.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from tachyon_http.types import Receive, Scope, Send
from tachyon_ws.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

# Subprotocols the server supports, in its order of preference.
SUPPORTED_SUBPROTOCOLS = ("chat.v2", "chat.v1")
ONE_MIB = 1024 * 1024
CONCURRENT_CONNECTIONS = 200
# Upper bounds for one test; a loaded 2-core machine finishes each in a few seconds.
TEST_TIMEOUT = 60.0
CLIENT_MAX_SIZE = 4 * ONE_MIB

# What the application saw when clients went away, readable over HTTP at /last-close.
_last_close: dict[str, Any] = {}


async def _http(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["path"] == "/last-close":
        body = json.dumps(_last_close).encode()
        status = 200
    else:
        body, status = b"not found", 404
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def _websocket(scope: Scope, receive: Receive, send: Send) -> None:
    websocket: WebSocket = WebSocket(scope, receive, send)
    path = scope["path"]
    if path == "/reject":
        await websocket.close(code=1008)
        return
    if path == "/deny":
        await websocket.receive()
        await send(
            {"type": "websocket.http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "websocket.http.response.body", "body": b"login first"})
        return
    offered = scope.get("subprotocols", [])
    chosen = next((name for name in SUPPORTED_SUBPROTOCOLS if name in offered), None)
    await websocket.accept(subprotocol=chosen)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                _last_close.update(code=message.get("code"), reason=message.get("reason") or "")
                return
            text = message.get("text")
            if text is not None and text.startswith("close:"):
                _, code, reason = text.split(":", 2)
                await websocket.close(code=int(code), reason=reason)
                return
            if text is not None:
                await websocket.send_text(text)
            else:
                await websocket.send_bytes(message["bytes"])
    except WebSocketDisconnect:  # pragma: no cover - the server reported the peer gone on send
        return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    kind = scope["type"]
    if kind == "websocket":
        await _websocket(scope, receive, send)
    elif kind == "http":
        await _http(scope, receive, send)


@pytest.fixture
def anyio_backend() -> str:
    # The websockets client library runs on asyncio only.
    return "asyncio"


@pytest.fixture(scope="module")
def urls(live_server: Any) -> Iterator[tuple[str, str]]:
    base = live_server("test_e2e_websocket:app")
    yield base, base.replace("http://", "ws://")


pytestmark = pytest.mark.anyio


async def test_text_and_binary_messages_are_echoed(urls: tuple[str, str]) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        async with connect(urls[1] + "/echo") as ws:
            await ws.send("héllo")
            assert await ws.recv() == "héllo"
            await ws.send(b"\x00\x01\xff")
            assert await ws.recv() == b"\x00\x01\xff"


async def test_one_mebibyte_messages_survive_the_round_trip(urls: tuple[str, str]) -> None:
    text = "x" * ONE_MIB
    blob = bytes(range(256)) * (ONE_MIB // 256)
    async with asyncio.timeout(TEST_TIMEOUT):
        async with connect(urls[1] + "/echo", max_size=CLIENT_MAX_SIZE) as ws:
            await ws.send(text)
            assert await ws.recv() == text
            await ws.send(blob)
            assert await ws.recv() == blob


async def test_server_close_code_and_reason_reach_the_client(urls: tuple[str, str]) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        async with connect(urls[1] + "/echo") as ws:
            await ws.send("close:4001:custom reason")
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (4001, "custom reason")


async def test_client_close_code_and_reason_reach_the_application(urls: tuple[str, str]) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        async with connect(urls[1] + "/echo") as ws:
            await ws.send("ping")
            assert await ws.recv() == "ping"
            await ws.close(code=4002, reason="client leaving")
        async with httpx.AsyncClient() as client:
            # The application records the close after the closing handshake completes: poll for it (the
            # surrounding timeout bounds the wait).
            seen = (await client.get(urls[0] + "/last-close")).json()
            while seen != {"code": 4002, "reason": "client leaving"}:
                await asyncio.sleep(0.02)
                seen = (await client.get(urls[0] + "/last-close")).json()


@pytest.mark.parametrize(
    ("offered", "expected"),
    [(["chat.v1", "chat.v2"], "chat.v2"), (["chat.v1"], "chat.v1"), (["other"], None), ([], None)],
)
async def test_subprotocol_negotiation(urls: tuple[str, str], offered: list[str], expected: str | None) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        async with connect(urls[1] + "/echo", subprotocols=offered or None) as ws:  # type: ignore[arg-type]
            assert ws.subprotocol == expected


async def test_closing_before_accept_rejects_the_handshake(urls: tuple[str, str]) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        with pytest.raises(InvalidStatus) as info:
            async with connect(urls[1] + "/reject"):
                pass  # pragma: no cover
    assert info.value.response.status_code == 403


async def test_denial_response_reaches_the_client(urls: tuple[str, str]) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        with pytest.raises(InvalidStatus) as info:
            async with connect(urls[1] + "/deny"):
                pass  # pragma: no cover
    assert info.value.response.status_code == 401
    assert info.value.response.body == b"login first"


async def test_two_hundred_concurrent_connections(urls: tuple[str, str]) -> None:
    async def one_client(index: int) -> str:
        async with connect(urls[1] + "/echo", open_timeout=TEST_TIMEOUT) as ws:
            await ws.send(f"client-{index}")
            return str(await ws.recv())

    async with asyncio.timeout(TEST_TIMEOUT):
        replies = await asyncio.gather(*(one_client(index) for index in range(CONCURRENT_CONNECTIONS)))
    assert replies == [f"client-{index}" for index in range(CONCURRENT_CONNECTIONS)]


async def test_http_requests_over_tcp_share_the_server(urls: tuple[str, str]) -> None:
    async with httpx.AsyncClient(timeout=TEST_TIMEOUT) as client:
        response = await client.get(urls[0] + "/nowhere")
    assert (response.status_code, response.content) == (404, b"not found")
