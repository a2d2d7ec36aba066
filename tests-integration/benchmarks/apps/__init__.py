"""The three applications every benchmark compares, side by side in one process or one run.

- ``raw``: a hand-written ASGI callable, the floor.
- ``starlette``: ``starlette_app.py`` on Starlette 1.10.0.
- ``tachyon``: the same source with its imports changed (``starlette`` -> ``tachyon``,
  ``Starlette`` -> ``Tachyon``) and nothing else, which is the whole migration a user makes.
"""

from __future__ import annotations

import importlib
import re
import sys
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / ".cache"
FRAMEWORKS = ("raw", "starlette", "tachyon")


def migrate_source(source: str) -> str:
    """The import change a user makes to move from Starlette to Tachyon."""
    return re.sub(r"\bStarlette\b", "Tachyon", re.sub(r"\bstarlette\b", "tachyon", source))


def tachyon_app_path() -> Path:
    """Write the migrated app as an importable module (for servers that import by name) and return it."""
    CACHE.mkdir(exist_ok=True)
    target = CACHE / "tachyon_bench_app.py"
    source = migrate_source((HERE / "starlette_app.py").read_text())
    if not target.exists() or target.read_text() != source:
        target.write_text(source)
    return target


def load(framework: str) -> Any:
    if framework == "raw":
        return importlib.import_module(f"{__name__}.raw_app").app
    if framework == "starlette":
        return importlib.import_module(f"{__name__}.starlette_app").app
    if framework == "tachyon":
        path = tachyon_app_path()
        module = types.ModuleType("tachyon_bench_app")
        module.__file__ = str(path)
        sys.modules[module.__name__] = module
        exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
        return module.app
    raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORKS}")
