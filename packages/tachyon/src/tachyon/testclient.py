"""The in-process test client.

Implemented in ``tachyon_testclient.testclient``; re-exported here under Tachyon's (and Starlette's) module name.
"""

from __future__ import annotations

from typing import Any

from tachyon_testclient import testclient as _impl
from tachyon_testclient.testclient import *  # noqa: F403
from tachyon_testclient.testclient import __all__ as __all__


def __getattr__(name: str) -> Any:
    # Private helpers and deprecated aliases that libraries import resolve on the implementing module.
    try:
        return getattr(_impl, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
