from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, Protocol

import anyio
import pytest
from tachyon_http.types import Receive, Scope, Send
from tachyon_testclient.testclient import TestClient

ClientFactory = Callable[..., TestClient]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client_factory(anyio_backend: str) -> ClientFactory:
    """TestClient bound to the event loop backend under test."""
    return functools.partial(TestClient, backend=anyio_backend)


async def send_json(send: Send, data: Any, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        assert message["type"] == "http.request"
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body


@pytest.fixture
def echo_scope_app() -> Callable[[Scope, Receive, Send], Any]:
    """An app answering with the parts of its scope (and body) a test might check."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = await read_body(receive)
        await send_json(
            send,
            {
                "method": scope["method"],
                "path": scope["path"],
                "raw_path": scope["raw_path"].decode(),
                "root_path": scope["root_path"],
                "query_string": scope["query_string"].decode(),
                "scheme": scope["scheme"],
                "server": scope["server"],
                "client": list(scope["client"]),
                "http_version": scope["http_version"],
                "headers": [[name.decode(), value.decode()] for name, value in scope["headers"]],
                "extensions": sorted(scope["extensions"]),
                "body": body.decode(),
            },
        )

    return app


class Settable(Protocol):
    """What the application needs of an event (``threading.Event`` or ``anyio.Event``)."""

    def set(self) -> None: ...


@pytest.fixture
def streams_until_cancelled() -> Callable[[Settable], Callable[[Scope, Receive, Send], Any]]:
    """``streams_until_cancelled(cancelled)``: an app that sends one chunk of its response body, then waits (at
    most 10 s) and sets ``cancelled`` when it is cancelled. It ignores the lifespan."""

    def make(cancelled: Settable) -> Callable[[Scope, Receive, Send], Any]:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "lifespan":
                return
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"first", "more_body": True})
            try:
                with anyio.fail_after(10):
                    await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                cancelled.set()
                raise

        return app

    return make


class Helpers:
    send_json = staticmethod(send_json)
    read_body = staticmethod(read_body)


@pytest.fixture
def asgi() -> type[Helpers]:
    """Small ASGI helpers for raw test applications (send a JSON response, read a request body)."""
    return Helpers
