"""The names messages give to modules and classes, which depend on the Starlette compatibility switch.

Kept apart (it imports only ``sys``) so that light modules such as ``status`` can use it.
"""

from __future__ import annotations

import sys

__all__ = ["presented_name"]


def presented_name(tachyon_name: str, starlette_name: str) -> str:
    """How a message names a module or class: as Starlette does while the compatibility switch is installed
    (``tachyon.compat.install()``), so warning filters and log matchers written for Starlette keep matching;
    Tachyon's own name otherwise."""
    switch = sys.modules.get("tachyon.compat")
    if switch is not None and switch.is_installed():
        return starlette_name
    return tachyon_name
