"""Tachyon: a Starlette-compatible ASGI framework.

The everyday names import flat, ``from tachyon import Tachyon, Route, JSONResponse``; the Starlette-style
module paths (``tachyon.applications.Tachyon``, ``tachyon.routing.Route``...) are where they live, and
both give the same objects. The flat names load lazily (``_lazy.py``; ``__init__.pyi`` lists them for
type checkers): ``import tachyon`` imports nothing else.
"""

import importlib
import sys

__version__ = "0.1.0"


# ``from tachyon import _lazy`` would ask this very __getattr__ for "_lazy" first: import it by name.
def __getattr__(name: str) -> object:
    # Every flat name is a class (capitalised); lowercase names are submodules that ``from tachyon import
    # compat`` probes for before importing them, which must not cost the flat-name table.
    if not name[:1].isupper() and name != "__all__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module("tachyon._lazy").resolve(sys.modules[__name__], name)  # type: ignore[no-any-return]


def __dir__() -> list[str]:
    return importlib.import_module("tachyon._lazy").names(sys.modules[__name__])  # type: ignore[no-any-return]
