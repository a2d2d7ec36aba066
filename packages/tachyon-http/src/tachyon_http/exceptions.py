"""Exceptions raised by request handlers, and Tachyon's deprecation warning category."""

from __future__ import annotations

import http.client
from collections.abc import Mapping

from tachyon_http._presented import presented_class

__all__ = ["HTTPException", "StarletteDeprecationWarning", "TachyonDeprecationWarning", "WebSocketException"]


class HTTPException(Exception):
    """Raise to end a request with an HTTP error status (handled by the exception middleware)."""

    def __init__(self, status_code: int, detail: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        self.status_code = status_code
        # The reason phrase is the default detail; unknown codes get an empty one.
        self.detail = http.client.responses.get(status_code, "") if detail is None else detail
        self.headers = headers

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class WebSocketException(Exception):
    """Raise inside a WebSocket endpoint to close the connection with ``code``."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


class TachyonDeprecationWarning(UserWarning):
    """Warning category for deprecated Tachyon (and Starlette-compatible) APIs.

    It derives from ``UserWarning`` rather than ``DeprecationWarning`` because Python hides the latter by
    default outside ``__main__``, so library users would never see it.
    """


# Code written for Starlette catches or filters this name; under the compatibility switch the class is also
# named so (a printed warning shows "StarletteDeprecationWarning: ...", as with Starlette).
StarletteDeprecationWarning = TachyonDeprecationWarning
presented_class(TachyonDeprecationWarning, "starlette.exceptions", "StarletteDeprecationWarning")
