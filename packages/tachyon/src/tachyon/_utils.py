"""Small helpers shared across the framework.

Implemented in ``tachyon_http._utils``; re-exported here under Tachyon's (and Starlette's) module name.
"""

from __future__ import annotations

from typing import Any

from tachyon_http import _utils as _impl
from tachyon_http._utils import *  # noqa: F403
from tachyon_http._utils import __all__ as __all__


def __getattr__(name: str) -> Any:
    # Private helpers and deprecated aliases that libraries import resolve on the implementing module.
    try:
        return getattr(_impl, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
