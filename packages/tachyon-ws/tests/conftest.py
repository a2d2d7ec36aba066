from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from tachyon_http.types import Message, Scope


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class FakeServer:
    """The server side of one WebSocket connection: scripted inbound messages, recorded outbound ones."""

    def __init__(self, inbound: Iterable[Message] = (), *, send_error: type[BaseException] | None = None) -> None:
        self.inbound = list(inbound)
        self.sent: list[Message] = []
        self.send_error = send_error

    async def receive(self) -> Message:
        if not self.inbound:
            raise AssertionError("the application asked for more messages than the test scripted")
        return self.inbound.pop(0)

    async def send(self, message: Message) -> None:
        if self.send_error is not None and message["type"] == "websocket.send":
            raise self.send_error
        self.sent.append(message)


def _ws_scope(**extra: Any) -> Scope:
    scope: Scope = {
        "type": "websocket",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "scheme": "ws",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "subprotocols": [],
        "extensions": {"websocket.http.response": {}},
    }
    scope.update(extra)
    return scope


@pytest.fixture
def ws_scope() -> Callable[..., Scope]:
    """Build an ASGI WebSocket scope; keyword arguments override or extend the defaults."""
    return _ws_scope


@pytest.fixture
def make_server() -> type[FakeServer]:
    return FakeServer
