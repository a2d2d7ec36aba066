"""Fixtures of the hostile-input suite: the same app served by uvicorn twice (Tachyon, Starlette) on 127.0.0.1.

The servers are started once per session by the e2e suite's server-process helper (waits until the port accepts
connections) and stopped by PID. The heavy attacks (MiB-sized inputs, many requests) are marked
``hostile_heavy`` and run only with ``TACHYON_HOSTILE_FULL=1`` (``hatch run hostile``).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HOSTILE_DIR = Path(__file__).resolve().parent
APPS_DIR = HOSTILE_DIR / "apps"
PROCESSES_MODULE = "e2e_processes"
FULL = os.environ.get("TACHYON_HOSTILE_FULL") == "1"

if PROCESSES_MODULE not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        PROCESSES_MODULE, HOSTILE_DIR.parent / "e2e" / "apps" / f"{PROCESSES_MODULE}.py"
    )
    assert _spec is not None and _spec.loader is not None
    sys.modules[PROCESSES_MODULE] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules[PROCESSES_MODULE])
processes = sys.modules[PROCESSES_MODULE]

# WebSocket messages above this size are refused by both servers (close code 1009).
WS_MAX_SIZE = 65536
# Largest request head the servers accept, so that MiB-sized Host headers reach the frameworks.
HEAD_LIMIT = 4 * 1024 * 1024


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if FULL:
        return
    skip = pytest.mark.skip(reason="heavy hostile input: run with TACHYON_HOSTILE_FULL=1 (hatch run hostile)")
    for item in items:
        if "hostile_heavy" in item.keywords and str(item.path).startswith(str(HOSTILE_DIR)):
            item.add_marker(skip)


def _start(app: str) -> Any:
    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", app, "--host", processes.HOST, "--port", str(port),
            "--app-dir", str(APPS_DIR), "--log-level", "warning", "--no-access-log",
            "--ws-max-size", str(WS_MAX_SIZE), "--http", "h11", "--ws", "websockets",
            # h11 caps a request head at 16 KiB by default; other servers (httptools) accept MiB of headers.
            "--h11-max-incomplete-event-size", str(HEAD_LIMIT),
        ]  # fmt: skip

    return processes.ServerProcess.start(command, name=f"uvicorn serving {app}")


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, Any]]:
    """{"tachyon": ServerProcess, "starlette": ServerProcess}, both serving hostile_apps."""
    started: dict[str, Any] = {}
    try:
        for name in ("tachyon", "starlette"):
            started[name] = _start(f"hostile_apps:{name}_app")
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="session")
def apps() -> dict[str, Any]:
    """The two ASGI apps, imported into this process for the in-process runs."""
    if str(APPS_DIR) not in sys.path:
        sys.path.insert(0, str(APPS_DIR))
    import hostile_apps

    if type(hostile_apps.starlette_app) is type(hostile_apps.tachyon_app):
        pytest.skip("`starlette` resolves to Tachyon in this process (compatibility switch): nothing to compare")
    return {"tachyon": hostile_apps.tachyon_app, "starlette": hostile_apps.starlette_app}
