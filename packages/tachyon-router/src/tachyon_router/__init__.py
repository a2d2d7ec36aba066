"""tachyon-router: Starlette-compatible path routing on a min-index radix tree.

The tree answers "which route would Starlette's first-match loop pick?" for a whole route table in one walk,
natively (cffi extension) or in pure Python (same algorithm, same answers). ``backend`` says which one is in
use; set ``TACHYON_ROUTER_BACKEND=python`` to force the pure-Python matcher, and
``TACHYON_ROUTER_REQUIRE_NATIVE=1`` to make a missing native extension an ImportError instead of a warning.
"""

from __future__ import annotations

import importlib
import os
import warnings

from ._router import Match, MatchStatus, NoRouteFound, Router
from ._table import HTTP, WEBSOCKET, RouteSpec, RouteTable, replace_params, url_path
from ._template import compile_path
from .convertors import CONVERTOR_TYPES, Convertor, register_url_convertor

__version__ = "0.1.0"

__all__ = [
    "CONVERTOR_TYPES",
    "HTTP",
    "WEBSOCKET",
    "Convertor",
    "Match",
    "MatchStatus",
    "NoRouteFound",
    "RouteSpec",
    "RouteTable",
    "Router",
    "__version__",
    "backend",
    "compile_path",
    "register_url_convertor",
    "replace_params",
    "url_path",
]


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in ("", "0", "false", "no", "off")


def _choose_backend() -> str:
    forced = os.environ.get("TACHYON_ROUTER_BACKEND", "").strip().lower()
    require_native = _truthy(os.environ.get("TACHYON_ROUTER_REQUIRE_NATIVE"))
    if forced not in ("", "native", "python"):
        raise ImportError(f"TACHYON_ROUTER_BACKEND must be 'native' or 'python', not {forced!r}")
    if forced == "python" and not require_native:
        return "python"  # do not even load the extension
    try:
        importlib.import_module(__name__ + "._native")  # optional compiled extension
    except Exception as exc:  # a missing extension (ImportError) or a broken one (OSError, AttributeError...)
        if require_native or forced == "native":
            raise ImportError(
                "tachyon_router: the native matcher is required (TACHYON_ROUTER_REQUIRE_NATIVE or "
                f"TACHYON_ROUTER_BACKEND=native) but cannot be loaded: {exc}"
            ) from exc
        warnings.warn(
            f"tachyon_router: native matcher unavailable ({exc}); using the pure-Python matcher",
            RuntimeWarning,
            stacklevel=2,
        )
        return "python"
    return "python" if forced == "python" else "native"


backend: str = _choose_backend()
