"""A Tachyon application that tells which process answered, for multi-worker and shutdown tests.

Served as ``e2e_serving_app:app`` (``tachyon run``, ``uvicorn``) or run as a script
(``python e2e_serving_app.py PORT``), which serves it with ``app.run()``.

When ``TACHYON_E2E_MARKER_DIR`` is set, every process writes ``started-<pid>`` there when its lifespan
starts and ``stopped-<pid>`` when it ends, so tests can see each worker start and shut down cleanly.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from tachyon.applications import Tachyon
from tachyon.requests import Request
from tachyon.responses import JSONResponse, PlainTextResponse, Response
from tachyon.routing import Route

__all__ = ["MARKER_DIR_ENV", "app"]

MARKER_DIR_ENV = "TACHYON_E2E_MARKER_DIR"
# Bounds on what a client may ask the app to wait, so that no request can hold a worker for long.
MAX_BLOCK_SECONDS = 0.5
MAX_SLOW_SECONDS = 5.0


def _mark(event: str) -> None:
    directory = os.environ.get(MARKER_DIR_ENV)
    if directory:
        Path(directory, f"{event}-{os.getpid()}").write_text(str(os.getpid()))


@contextlib.asynccontextmanager
async def lifespan(app: Tachyon) -> AsyncIterator[None]:
    _mark("started")
    yield
    _mark("stopped")


async def pid(request: Request) -> Response:
    block = min(float(request.query_params.get("block", "0")), MAX_BLOCK_SECONDS)
    if block:
        # Deliberately blocks this worker's event loop: while it is blocked, the kernel can only hand new
        # connections to another worker, which makes the spreading of load observable.
        time.sleep(block)
    return JSONResponse({"pid": os.getpid(), "n": request.query_params.get("n")})


async def slow(request: Request) -> Response:
    """Answers after ``seconds``; writes the ``marker`` file first, so a test knows the request is in flight."""
    marker = request.query_params.get("marker")
    if marker:
        Path(marker).write_text(str(os.getpid()))
    await anyio.sleep(min(float(request.query_params.get("seconds", "1")), MAX_SLOW_SECONDS))
    return PlainTextResponse(f"finished in {os.getpid()}")


app = Tachyon(routes=[Route("/pid", pid), Route("/slow", slow)], lifespan=lifespan)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
