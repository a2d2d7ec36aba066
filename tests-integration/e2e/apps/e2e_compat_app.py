"""A plain Starlette application (it imports ``starlette`` only), for serving through the compat switch.

``/whoami`` reports which modules actually implement the objects the application uses, so a client can
tell whether Starlette or Tachyon answered.
"""

from __future__ import annotations

import os
import sys
import time

import starlette
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["app"]

# Bound on what a client may ask the app to block (see /whoami).
MAX_BLOCK_SECONDS = 0.5


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


async def whoami(request: Request) -> Response:
    block = min(float(request.query_params.get("block", "0")), MAX_BLOCK_SECONDS)
    if block:
        # Blocks this worker's event loop on purpose, so that other connections go to another worker.
        time.sleep(block)
    return JSONResponse(
        {
            "request": _qualified(type(request)),
            "application": _qualified(type(request.app)),
            "response": _qualified(JSONResponse),
            "route": _qualified(Route),
            "starlette_module": sys.modules["starlette.requests"].__name__,
            "starlette_version": starlette.__version__,
            "pid": os.getpid(),
        }
    )


app = Starlette(routes=[Route("/whoami", whoami)])
