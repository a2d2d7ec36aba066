"""A test client for any ASGI application, built on httpx: ``TestClient`` (blocking) and ``AsyncTestClient``.

The implementation lives in ``tachyon_testclient.testclient``; the names below are imported on first use so
that importing the package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "AsyncTestClient",
    "AsyncWebSocketTestSession",
    "TestClient",
    "WebSocketDenialResponse",
    "WebSocketTestSession",
]

if TYPE_CHECKING:
    from tachyon_testclient.testclient import (
        AsyncTestClient,
        AsyncWebSocketTestSession,
        TestClient,
        WebSocketDenialResponse,
        WebSocketTestSession,
    )


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tachyon_testclient import testclient

        return getattr(testclient, name)
    raise AttributeError(f"module 'tachyon_testclient' has no attribute {name!r}")
