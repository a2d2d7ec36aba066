"""HTTPException, WebSocketException and the deprecation warning class.

Implemented in ``tachyon_http.exceptions``; re-exported here under Tachyon's (and Starlette's) module name.
"""

from __future__ import annotations

from typing import Any

from tachyon_http import exceptions as _impl
from tachyon_http.exceptions import *  # noqa: F403
from tachyon_http.exceptions import __all__ as __all__


def __getattr__(name: str) -> Any:
    # Private helpers and deprecated aliases that libraries import resolve on the implementing module.
    try:
        return getattr(_impl, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
