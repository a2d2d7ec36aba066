"""The names messages give to modules and classes, which depend on the Starlette compatibility switch.

Kept apart (it imports only ``sys``) so that light modules such as ``status`` can use it.
"""

from __future__ import annotations

import sys

__all__ = ["present_classes", "presented_class", "presented_name"]


def presented_name(tachyon_name: str, starlette_name: str) -> str:
    """How a message names a module or class: as Starlette does while the compatibility switch is installed
    (``tachyon.compat.install()``), so warning filters and log matchers written for Starlette keep matching;
    Tachyon's own name otherwise."""
    switch = sys.modules.get("tachyon.compat")
    if switch is not None and switch.is_installed():
        return starlette_name
    return tachyon_name


# Classes whose own name shows in what users match on: a warning is printed with its category's class name
# ("StarletteDeprecationWarning: ..."). Under the switch such a class carries Starlette's module and name
# (it is the very object the Starlette name resolves to, so filters by class work either way).
# class -> ((Tachyon module, name), (Starlette module, name))
_classes: dict[type, tuple[tuple[str, str], tuple[str, str]]] = {}


def _rename(cls: type, module: str, name: str) -> None:
    cls.__module__ = module
    cls.__name__ = cls.__qualname__ = name


def presented_class(cls: type, starlette_module: str, starlette_name: str) -> None:
    """Register ``cls`` as known to Starlette users by another name, and name it as the switch says now."""
    _classes[cls] = ((cls.__module__, cls.__name__), (starlette_module, starlette_name))
    switch = sys.modules.get("tachyon.compat")
    if switch is not None and switch.is_installed():
        _rename(cls, starlette_module, starlette_name)


def present_classes(*, as_starlette: bool) -> None:
    """Name the registered classes as Starlette does (the switch is being installed) or as Tachyon does."""
    for cls, (own, starlette) in _classes.items():
        _rename(cls, *(starlette if as_starlette else own))
