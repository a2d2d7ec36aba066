"""The applications every benchmark compares, side by side in one process or one run.

- ``raw``: a hand-written ASGI callable, the floor.
- ``starlette``: ``starlette_app.py`` on Starlette 1.10.0.
- ``tachyon``: the same source with its imports changed (``starlette`` -> ``tachyon``,
  ``Starlette`` -> ``Tachyon``) and nothing else, which is the whole migration a user makes.
- ``blacksheep`` and ``falcon``: the peers, ``blacksheep_app.py`` and ``falcon_app.py``, the same routes
  written the way each framework's documentation writes them. A scenario a peer's app does not serve is
  listed in its module's ``UNSUPPORTED`` (reported as n/a); ``EXPECTED_STATUS`` holds the statuses a peer
  answers differently by design (BlackSheep has no 405: a path served for other methods is a 404).
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
FRAMEWORKS = ("raw", "starlette", "tachyon", "blacksheep", "falcon")
PEERS = ("blacksheep", "falcon")


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
    if framework in ("starlette", *PEERS):
        return importlib.import_module(f"{__name__}.{framework}_app").app
    if framework == "tachyon":
        path = tachyon_app_path()
        module = types.ModuleType("tachyon_bench_app")
        module.__file__ = str(path)
        sys.modules[module.__name__] = module
        exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
        return module.app
    raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORKS}")


def module(framework: str) -> Any:
    """The module defining ``framework``'s app (the Tachyon app's is the generated one)."""
    if framework == "tachyon":
        return sys.modules.get("tachyon_bench_app")
    return importlib.import_module(f"{__name__}.{framework}_app")


def supports(framework: str, scenario_name: str) -> bool:
    return scenario_name not in getattr(module(framework), "UNSUPPORTED", ())


def expected_status(framework: str, scenario_name: str, default: int) -> int:
    return int(getattr(module(framework), "EXPECTED_STATUS", {}).get(scenario_name, default))


async def start(framework: str, app: Any) -> None:
    """What a server's lifespan startup does for an app that needs it before serving (BlackSheep)."""
    if framework == "blacksheep":
        await app.start()
