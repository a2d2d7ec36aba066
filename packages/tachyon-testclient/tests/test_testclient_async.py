from __future__ import annotations

from typing import Any

import anyio
import pytest
import tachyon_testclient
from tachyon_http.types import Receive, Scope, Send
from tachyon_testclient import AsyncTestClient, WebSocketDenialResponse
from tachyon_ws.websockets import WebSocket, WebSocketDisconnect

pytestmark = pytest.mark.anyio


def make_app(events: list[str] | None = None) -> Any:
    events = [] if events is None else events

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            events.append("startup")
            scope["state"]["greeting"] = "hi"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            events.append("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["type"] == "http":
            if scope["path"] == "/stream":
                await send({"type": "http.response.start", "status": 200, "headers": []})
                for chunk in (b"a", b"b", b"c"):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
                return
            if scope["path"] == "/fail":
                raise ValueError("handler failed")
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            greeting = scope.get("state", {}).get("greeting", "-").encode()
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"x-method", scope["method"].encode())]}
            )
            await send({"type": "http.response.body", "body": greeting + b"|" + body})
        else:
            websocket: WebSocket = WebSocket(scope, receive, send)
            if scope["path"] == "/deny":
                await websocket.receive()
                await send({"type": "websocket.http.response.start", "status": 401, "headers": []})
                await send({"type": "websocket.http.response.body", "body": b"login first"})
                return
            await websocket.accept(subprotocol=(scope["subprotocols"] or [None])[0])
            async for text in websocket.iter_text():
                if text == "bye":
                    await websocket.close(code=4000, reason="bye")
                    return
                await websocket.send_text(text.upper())

    app.events = events  # type: ignore[attr-defined]
    return app


async def test_async_with_runs_the_lifespan_on_the_current_loop() -> None:
    app = make_app()
    async with AsyncTestClient(app) as client:
        assert app.events == ["startup"]
        response = await client.post("/", content=b"body")
        assert response.text == "hi|body"
        assert response.headers["x-method"] == "POST"
    assert app.events == ["startup", "shutdown"]


async def test_requests_without_async_with_run_to_completion() -> None:
    app = make_app()
    client = AsyncTestClient(app)
    assert (await client.get("/")).text == "-|"
    assert (await client.get("/stream")).content == b"abc"
    assert (await client.head("/stream")).content == b""
    assert app.events == []


async def test_streamed_responses_arrive_chunk_by_chunk() -> None:
    async with AsyncTestClient(make_app()) as client:
        async with client.stream("GET", "/stream") as response:
            assert [chunk async for chunk in response.aiter_raw()] == [b"a", b"b", b"c"]


async def test_closing_a_stream_early_cancels_the_application(streams_until_cancelled: Any) -> None:
    cancelled = anyio.Event()
    async with AsyncTestClient(streams_until_cancelled(cancelled)) as client:
        async with client.stream("GET", "/") as response:
            async for chunk in response.aiter_raw():
                assert chunk == b"first"
                break
        assert cancelled.is_set()


@pytest.mark.parametrize("enter", [True, False])
async def test_application_errors_are_raised_or_become_500(enter: bool) -> None:
    async def call(client: AsyncTestClient) -> Any:
        if enter:
            async with client:
                return await client.get("/fail")
        return await client.get("/fail")

    with pytest.raises(ValueError, match="handler failed"):
        await call(AsyncTestClient(make_app()))
    response = await call(AsyncTestClient(make_app(), raise_server_exceptions=False))
    assert (response.status_code, response.content) == (500, b"")


async def test_websocket_session() -> None:
    async with AsyncTestClient(make_app()) as client:
        async with client.websocket_connect("/ws", subprotocols=["chat"]) as session:
            assert session.accepted_subprotocol == "chat"
            await session.send_text("hello")
            assert await session.receive_text() == "HELLO"
            await session.send_text("bye")
            with pytest.raises(WebSocketDisconnect) as info:
                await session.receive_text()
            assert (info.value.code, info.value.reason) == (4000, "bye")


async def test_websocket_session_without_async_with_on_the_client() -> None:
    async with AsyncTestClient(make_app()).websocket_connect("/ws") as session:
        await session.send_json({"a": 1})
        assert await session.receive_text() == '{"A":1}'


async def test_websocket_denial_response() -> None:
    with pytest.raises(WebSocketDenialResponse) as info:
        async with AsyncTestClient(make_app()).websocket_connect("/deny"):
            pass  # pragma: no cover
    assert (info.value.status_code, info.value.content) == (401, b"login first")


async def test_websocket_application_error_is_raised_when_the_session_ends() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket: WebSocket = WebSocket(scope, receive, send)
        await websocket.accept()
        await websocket.receive_text()
        raise ValueError("ws handler failed")

    with pytest.raises(ValueError, match="ws handler failed"):
        async with AsyncTestClient(app).websocket_connect("/") as session:
            await session.send_text("go")
            with pytest.raises(WebSocketDisconnect):
                await session.receive_text()


async def test_caller_exceptions_inside_a_session_propagate_unwrapped() -> None:
    with pytest.raises(KeyError):
        async with AsyncTestClient(make_app()).websocket_connect("/ws"):
            raise KeyError("mine")


async def test_startup_failure_is_raised_from_async_with() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no"})
        raise RuntimeError("startup broke")

    with pytest.raises(RuntimeError, match="startup broke"):
        async with AsyncTestClient(app):
            pass  # pragma: no cover


async def test_client_cannot_be_entered_twice_at_once() -> None:
    client = AsyncTestClient(make_app())
    async with client:
        with pytest.raises(RuntimeError, match="already running"):
            await client.__aenter__()


def test_package_exports_the_clients_lazily() -> None:
    from tachyon_testclient import testclient

    for name in tachyon_testclient.__all__:
        assert getattr(tachyon_testclient, name) is getattr(testclient, name)
    with pytest.raises(AttributeError):
        _ = tachyon_testclient.missing  # type: ignore[attr-defined]
