from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import tachyon._route_table
import tachyon_router


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _available_backends() -> list[Any]:
    backends: list[Any] = ["python"]
    try:
        tachyon_router.RouteTable([], backend="native")
    except Exception as exc:  # the extension is optional in development builds
        backends.append(pytest.param("native", marks=pytest.mark.skip(reason=f"native backend unavailable: {exc}")))
    else:
        backends.append("native")
    return backends


@pytest.fixture(params=_available_backends())
def router_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Route tables built during the test use this tachyon_router backend."""
    monkeypatch.setattr(tachyon._route_table, "_table_backend", request.param)
    yield str(request.param)


# --- a minimal ASGI driver, so unit tests do not depend on the test client package -------------

Message = dict[str, Any]


@dataclass
class Result:
    messages: list[Message] = field(default_factory=list)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode().lower(): v.decode() for k, v in self.messages[0].get("headers", [])}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")

    @property
    def text(self) -> str:
        return self.body.decode()


def http_scope(
    path: str,
    method: str = "GET",
    *,
    root_path: str = "",
    headers: list[tuple[bytes, bytes]] | None = None,
    query_string: bytes = b"",
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": root_path + path,
        "raw_path": (root_path + path).encode(),
        "root_path": root_path,
        "query_string": query_string,
        "headers": headers if headers is not None else [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "extensions": {},
    }


async def call(app: Any, scope: dict[str, Any], body: bytes = b"") -> Result:
    result = Result()
    sent_body = False

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        result.messages.append(message)

    await app(scope, receive, send)
    return result


async def request(app: Any, path: str, method: str = "GET", **kwargs: Any) -> Result:
    body = kwargs.pop("body", b"")
    return await call(app, http_scope(path, method, **kwargs), body)


@pytest.fixture
def asgi() -> types.SimpleNamespace:
    """Helpers to drive an ASGI app directly: asgi.request(app, path, method), asgi.call(app, scope)."""
    return types.SimpleNamespace(request=request, call=call, http_scope=http_scope, Result=Result)
