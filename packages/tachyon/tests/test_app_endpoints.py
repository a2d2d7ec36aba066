from __future__ import annotations

from typing import Any

import pytest
from tachyon.applications import Tachyon
from tachyon.endpoints import HTTPEndpoint, WebSocketEndpoint
from tachyon.requests import Request
from tachyon.responses import PlainTextResponse, Response
from tachyon.routing import Route, Router
from tachyon.types import Message
from tachyon.websockets import WebSocket

pytestmark = pytest.mark.anyio


class Items(HTTPEndpoint):
    async def get(self, request: Request) -> Response:
        return PlainTextResponse(f"get {request.path_params.get('id', '-')}")

    def post(self, request: Request) -> Response:  # sync handlers run in the thread pool
        return PlainTextResponse("post")

    async def _do_delete(self, request: Request) -> Response:  # pragma: no cover - must never be reachable
        return PlainTextResponse("private helper")


async def test_dispatches_by_verb_sync_and_async(asgi: Any) -> None:
    app = Router([Route("/", Items), Route("/{id}", Items)])
    assert (await asgi.request(app, "/")).text == "get -"
    assert (await asgi.request(app, "/7")).text == "get 7"
    assert (await asgi.request(app, "/", "POST")).text == "post"


async def test_head_falls_back_to_get(asgi: Any) -> None:
    result = await asgi.request(Router([Route("/", Items)]), "/", "HEAD")
    assert result.status == 200


# CVE-2026-48817: a non-standard method name must never reach an arbitrary attribute of the endpoint.
@pytest.mark.parametrize("method", ["PUT", "_DO_DELETE", "__INIT__", "DISPATCH"])
async def test_non_verb_or_undefined_methods_are_405(asgi: Any, method: str) -> None:
    result = await asgi.request(Router([Route("/", Items)]), "/", method)
    assert result.status == 405
    assert result.text == "Method Not Allowed"
    assert result.headers["allow"] == "GET, HEAD, POST"


async def test_405_inside_an_application_goes_through_handlers(asgi: Any) -> None:
    app = Tachyon(
        routes=[Route("/", Items)],
        exception_handlers={405: lambda request, exc: PlainTextResponse("custom", status_code=405)},
    )
    assert (await asgi.request(app, "/", "PATCH")).text == "custom"


async def test_allow_header_without_get_has_no_head(asgi: Any) -> None:
    class PostOnly(HTTPEndpoint):
        async def post(self, request: Request) -> Response:  # pragma: no cover
            return Response("")

    result = await asgi.request(Router([Route("/", PostOnly)]), "/", "HEAD")
    assert result.status == 405
    assert result.headers["allow"] == "POST"


async def drive_websocket(endpoint: type[WebSocketEndpoint], incoming: list[Message]) -> list[Message]:
    queue = [{"type": "websocket.connect"}, *incoming, {"type": "websocket.disconnect", "code": 1001}]
    sent: list[Message] = []

    async def receive() -> Message:
        return queue.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/", "headers": [], "query_string": b"", "subprotocols": []}
    await endpoint(scope, receive, send)
    return sent


@pytest.mark.parametrize(
    ("encoding", "message", "expected"),
    [
        ("text", {"type": "websocket.receive", "text": "hi"}, "hi"),
        ("bytes", {"type": "websocket.receive", "bytes": b"hi"}, b"hi"),
        ("json", {"type": "websocket.receive", "text": '{"a": 1}'}, {"a": 1}),
        ("json", {"type": "websocket.receive", "bytes": b'{"a": 2}'}, {"a": 2}),
        (None, {"type": "websocket.receive", "text": ""}, ""),
        (None, {"type": "websocket.receive", "bytes": b"x"}, b"x"),
    ],
)
async def test_websocket_endpoint_decodes(encoding: Any, message: Message, expected: Any) -> None:
    received: list[Any] = []
    closed: list[int] = []

    class Echo(WebSocketEndpoint):
        async def on_receive(self, websocket: WebSocket, data: Any) -> None:
            received.append(data)

        async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
            closed.append(close_code)

    Echo.encoding = encoding
    sent = await drive_websocket(Echo, [message])
    assert sent[0]["type"] == "websocket.accept"
    assert received == [expected]
    assert closed == [1001]


@pytest.mark.parametrize(
    ("encoding", "message", "error"),
    [
        ("text", {"type": "websocket.receive", "bytes": b"x"}, "Expected text websocket messages, but got bytes"),
        ("bytes", {"type": "websocket.receive", "text": "x"}, "Expected bytes websocket messages, but got text"),
        ("json", {"type": "websocket.receive", "text": "{nope"}, "Malformed JSON data received."),
    ],
)
async def test_websocket_endpoint_rejects_wrong_payload(encoding: Any, message: Message, error: str) -> None:
    closed: list[int] = []

    class Strict(WebSocketEndpoint):
        async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
            closed.append(close_code)

    Strict.encoding = encoding
    sent: list[Message] = []
    queue = [{"type": "websocket.connect"}, message]

    async def receive() -> Message:
        return queue.pop(0)

    async def send(msg: Message) -> None:
        sent.append(msg)

    with pytest.raises(RuntimeError, match=error):
        await Strict({"type": "websocket", "path": "/", "headers": []}, receive, send)
    assert sent[-1] == {"type": "websocket.close", "code": 1003, "reason": ""}
    assert closed == [1011]
