from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from tachyon_http.requests import Request
from tachyon_http.types import Message, Scope

MakeRequest = Callable[..., Request]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _scope(
    *,
    method: str = "GET",
    path: str = "/",
    query_string: bytes = b"",
    headers: Sequence[tuple[bytes, bytes]] = (),
    **extra: Any,
) -> Scope:
    scope: Scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query_string,
        "headers": list(headers),
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }
    scope.update(extra)
    return scope


@pytest.fixture
def make_scope() -> Callable[..., Scope]:
    """Build an ASGI HTTP scope; keyword arguments override or extend the defaults."""
    return _scope


@pytest.fixture
def make_request() -> MakeRequest:
    """Build a Request whose body arrives as the given chunks (then the receive channel reports a disconnect)."""

    def factory(body: bytes | Sequence[bytes] = b"", **scope_kwargs: Any) -> Request:
        chunks = [body] if isinstance(body, bytes) else list(body)
        messages: list[Message] = [
            {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
            for index, chunk in enumerate(chunks)
        ]
        if not messages:
            messages = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> Message:
            if messages:
                return messages.pop(0)
            return {"type": "http.disconnect"}

        scope_kwargs.setdefault("method", "POST")
        return Request(_scope(**scope_kwargs), receive)

    return factory
