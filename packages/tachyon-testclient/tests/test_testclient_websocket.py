from __future__ import annotations

from typing import Any

import anyio
import pytest
from tachyon_http.types import Receive, Scope, Send
from tachyon_testclient.testclient import WebSocketDenialResponse
from tachyon_ws.websockets import WebSocket, WebSocketDisconnect


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Echoes text, bytes and JSON ({"echo": ...}) until the client leaves; "close" closes with 4001."""
    websocket: WebSocket = WebSocket(scope, receive, send)
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") == "close":
            await websocket.close(code=4001, reason="asked to")
            return
        if message.get("text") is not None:
            await websocket.send_text(message["text"])
        else:
            await websocket.send_bytes(message["bytes"])


def test_text_bytes_and_json_round_trip(client_factory: Any) -> None:
    with client_factory(echo).websocket_connect("/ws") as session:
        session.send_text("hello")
        assert session.receive_text() == "hello"
        session.send_bytes(b"\x00\xff")
        assert session.receive_bytes() == b"\x00\xff"
        session.send_json({"k": "数据"})
        assert session.receive_text() == '{"k":"数据"}'
        session.send_json([1, 2], mode="binary")
        assert session.receive_json(mode="binary") == [1, 2]


def test_application_close_raises_with_code_and_reason(client_factory: Any) -> None:
    with client_factory(echo).websocket_connect("/ws") as session:
        session.send_text("close")
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (4001, "asked to")


def test_scope_of_a_websocket_handshake(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket: WebSocket = WebSocket(scope, receive, send)
        await websocket.accept(subprotocol=scope["subprotocols"][-1], headers=[(b"x-accepted", b"1")])
        await websocket.send_json(
            {
                "url": str(websocket.url),
                "path": scope["path"],
                "raw_path": scope["raw_path"].decode(),
                "root_path": scope["root_path"],
                "subprotocols": scope["subprotocols"],
                "extensions": sorted(scope["extensions"]),
                "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
                "client": list(scope["client"]),
            }
        )
        await websocket.close()

    client = client_factory(app, root_path="/root", base_url="http://ignored/prefix")
    with client.websocket_connect("/a%20b?x=1", subprotocols=["one", "two"]) as session:
        data = session.receive_json()
        assert session.accepted_subprotocol == "two"
        assert session.extra_headers == [(b"x-accepted", b"1")]
    # WebSocket URLs resolve against ws://testserver, whatever the client's base URL.
    assert data["url"].startswith("ws://testserver/")
    assert data["path"] == "/a b"
    assert data["raw_path"] == "/a%20b"
    assert data["root_path"] == "/root"
    assert data["subprotocols"] == ["one", "two"]
    assert data["extensions"] == ["websocket.http.response"]
    assert data["client"] == ["testclient", 50000]
    headers = data["headers"]
    assert headers["connection"] == "upgrade"
    assert headers["sec-websocket-key"] == "testserver=="
    assert headers["sec-websocket-version"] == "13"
    assert headers["sec-websocket-protocol"] == "one, two"


def test_rejected_handshake_raises_websocket_disconnect(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 1008, "reason": "nope"})

    with pytest.raises(WebSocketDisconnect) as info:
        with client_factory(app).websocket_connect("/"):
            pass  # pragma: no cover
    assert (info.value.code, info.value.reason) == (1008, "nope")


def test_denial_response_is_raised_as_an_http_response(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 403, "headers": [(b"x-why", b"auth")]})
        await send({"type": "websocket.http.response.body", "body": b"for", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"bidden"})

    with pytest.raises(WebSocketDenialResponse) as info:
        with client_factory(app).websocket_connect("/"):
            pass  # pragma: no cover
    assert info.value.status_code == 403
    assert info.value.content == b"forbidden"
    assert info.value.headers["x-why"] == "auth"
    assert isinstance(info.value, WebSocketDisconnect)


def test_client_close_reaches_the_application(client_factory: Any) -> None:
    seen: list[tuple[int, str]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket: WebSocket = WebSocket(scope, receive, send)
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            seen.append((exc.code, exc.reason))

    with client_factory(app).websocket_connect("/") as session:
        session.close(code=1001, reason="Going Away")
    assert seen == [(1001, "Going Away")]


def test_leaving_the_session_cancels_a_waiting_application(client_factory: Any) -> None:
    cancelled = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket: WebSocket = WebSocket(scope, receive, send)
        await websocket.accept()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise

    with client_factory(app).websocket_connect("/"):
        pass
    assert cancelled == [True]


def test_application_errors_are_raised_when_the_session_ends(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket: WebSocket = WebSocket(scope, receive, send)
        await websocket.accept()
        await websocket.receive_text()
        raise ValueError("handler failed")

    with pytest.raises(ValueError, match="handler failed"):
        with client_factory(app).websocket_connect("/") as session:
            session.send_text("go")
            # The application is gone without a close frame: the client sees an abnormal closure.
            with pytest.raises(WebSocketDisconnect) as info:
                session.receive_text()
            assert info.value.code == 1006


def test_failure_before_accept_is_raised_from_connect(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise LookupError("no route")

    with pytest.raises(LookupError, match="no route"):
        with client_factory(app).websocket_connect("/"):
            pass  # pragma: no cover


def test_application_returning_without_close_is_an_abnormal_closure(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket: WebSocket = WebSocket(scope, receive, send)
        await websocket.accept()
        await websocket.send_text("bye")

    with client_factory(app).websocket_connect("/") as session:
        assert session.receive_text() == "bye"
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1006


def test_sessions_share_the_lifespan_loop_inside_a_with_block(client_factory: Any) -> None:
    started = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            started.append(scope["state"])
            scope["state"]["ready"] = True
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        websocket: WebSocket = WebSocket(scope, receive, send)
        await websocket.accept()
        await websocket.send_json(scope["state"])
        await websocket.close()

    with client_factory(app) as client, client.websocket_connect("/") as session:
        assert session.receive_json() == {"ready": True}
    assert started == [{"ready": True}]
