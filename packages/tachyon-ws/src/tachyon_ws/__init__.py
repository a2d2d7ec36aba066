"""ASGI WebSocket primitives with Starlette's API.

The implementation lives in ``tachyon_ws.websockets``; its public names are also reachable from here, imported
on first use so that importing the package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["WebSocket", "WebSocketClose", "WebSocketDisconnect", "WebSocketDisconnected", "WebSocketState"]

if TYPE_CHECKING:
    from tachyon_ws.websockets import (
        WebSocket,
        WebSocketClose,
        WebSocketDisconnect,
        WebSocketDisconnected,
        WebSocketState,
    )


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tachyon_ws import websockets

        return getattr(websockets, name)
    raise AttributeError(f"module 'tachyon_ws' has no attribute {name!r}")
