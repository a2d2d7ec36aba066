"""Tachyon: a Starlette-compatible ASGI framework.

The everyday names import flat, ``from tachyon import Tachyon, Route, JSONResponse``; the Starlette-style
module paths (``tachyon.applications.Tachyon``, ``tachyon.routing.Route``...) are where they live, and
both give the same objects. The flat names load lazily (``_lazy.py``; ``__init__.pyi`` lists them for
type checkers): ``import tachyon`` imports nothing else.
"""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # Flat names are capitalised; lowercase ones are submodules that ``from tachyon import compat`` probes
    # for before importing them, which must not load the flat-name table.
    if not name[:1].isupper() and name != "__all__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from tachyon._lazy import resolve

    return resolve(name)


def __dir__() -> list[str]:
    from tachyon._lazy import names

    return names()
