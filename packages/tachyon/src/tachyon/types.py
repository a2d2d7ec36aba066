"""ASGI type aliases, under Tachyon's (and, through the switch, Starlette's) module name.

The ASGI aliases are implemented in ``tachyon_http.types`` and re-exported here. The exception-handler aliases
are defined here: they name tachyon-http's ``Request``/``Response`` and tachyon-ws's ``WebSocket``, and only
this package sits above both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tachyon_http import types as _impl
from tachyon_http.types import *  # noqa: F403
from tachyon_http.types import __all__ as _asgi_names

if TYPE_CHECKING:
    from tachyon_http.requests import Request
    from tachyon_http.responses import Response
    from tachyon_ws.websockets import WebSocket

__all__ = sorted([*_asgi_names, "ExceptionHandler", "HTTPExceptionHandler", "WebSocketExceptionHandler"])

HTTPExceptionHandler = Callable[["Request", Exception], "Response | Awaitable[Response]"]
WebSocketExceptionHandler = Callable[["WebSocket", Exception], Awaitable[None]]
ExceptionHandler = HTTPExceptionHandler | WebSocketExceptionHandler


def __getattr__(name: str) -> Any:
    # Private helpers and deprecated aliases that libraries import resolve on the implementing module.
    try:
        return getattr(_impl, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
