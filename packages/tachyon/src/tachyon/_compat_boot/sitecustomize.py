"""Start-up hook that carries ``python -m tachyon.compat`` into child Python processes.

``python -m tachyon.compat`` puts this folder first on ``PYTHONPATH`` (and sets ``TACHYON_COMPAT=1``) for
the processes the program starts, e.g. uvicorn's ``--workers`` and ``--reload`` children, which import the
application afresh. Python imports ``sitecustomize`` at start-up, so the switch is installed in the child
before anything can import ``starlette``. The folder holds nothing else; no ``.pth`` file is involved.
"""

from __future__ import annotations

import importlib
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _install_switch() -> None:
    from tachyon import compat

    compat.install_from_env()


def _chain_to_the_next_sitecustomize() -> None:
    # Another sitecustomize (e.g. the distribution's) would have run without this folder on the path.
    saved_path = list(sys.path)
    this_module = sys.modules.pop(__name__, None)
    try:
        sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != _HERE]
        try:
            importlib.import_module("sitecustomize")
        except ModuleNotFoundError as exc:
            if exc.name != "sitecustomize":
                raise
    finally:
        sys.path[:] = saved_path
        if this_module is not None:
            sys.modules[__name__] = this_module


_install_switch()
_chain_to_the_next_sitecustomize()
