"""Path parameter convertors (implemented in tachyon_router, shared with the route table)."""

from __future__ import annotations

from tachyon_router.convertors import *  # noqa: F403
from tachyon_router.convertors import __all__ as __all__
