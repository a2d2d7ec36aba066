"""End-to-end fixtures: a real uvicorn process serving an ASGI app on 127.0.0.1.

Usage in any test of this directory::

    def test_something(live_server):
        base_url = live_server("test_my_module:app")        # "http://127.0.0.1:<port>"
        httpx2.get(base_url + "/")

``live_server(app_import_string, *, app_dir=None, args=())`` starts ``python -m uvicorn <app_import_string>``
in a subprocess (the same interpreter as the tests) on a free port of 127.0.0.1, waits until it accepts
connections and returns its base URL. ``app_dir`` is where the import string is resolved (default: this
directory); ``args`` are extra uvicorn command-line options. One server per distinct (app, app_dir, args) is
started per test session and shared; all are stopped by PID (SIGTERM, then SIGKILL) when the session ends.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

__all__ = ["LiveServers", "live_server"]

E2E_DIR = Path(__file__).resolve().parent
# The server-process helper module of apps/. It is registered in ``sys.modules`` under its own name before
# the test modules of this directory are imported, so they share it with ``import e2e_processes``.
PROCESSES_MODULE = "e2e_processes"
# uvicorn's graceful shutdown waits for open connections; past this it is killed.
SHUTDOWN_TIMEOUT = 10.0


if PROCESSES_MODULE not in sys.modules:
    _spec = importlib.util.spec_from_file_location(PROCESSES_MODULE, E2E_DIR / "apps" / f"{PROCESSES_MODULE}.py")
    assert _spec is not None and _spec.loader is not None
    sys.modules[PROCESSES_MODULE] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules[PROCESSES_MODULE])
processes = sys.modules[PROCESSES_MODULE]


class LiveServers:
    """Starts and remembers uvicorn subprocesses; ``stop_all`` ends every one of them."""

    def __init__(self) -> None:
        self._servers: dict[tuple[str, str, tuple[str, ...]], Any] = {}

    def __call__(self, app_import_string: str, *, app_dir: str | Path | None = None, args: Sequence[str] = ()) -> str:
        directory = str(Path(app_dir).resolve() if app_dir is not None else E2E_DIR)
        key = (app_import_string, directory, tuple(args))
        server = self._servers.get(key)
        if server is None or server.process.poll() is not None:
            server = self._servers[key] = self._start(app_import_string, directory, tuple(args))
        return str(server.base_url)

    def _start(self, app_import_string: str, directory: str, args: tuple[str, ...]) -> Any:
        def command(port: int) -> Sequence[str]:
            return [
                sys.executable, "-m", "uvicorn", app_import_string,
                "--host", processes.HOST, "--port", str(port), "--app-dir", directory,
                "--log-level", "warning", "--no-access-log", *args,
            ]  # fmt: skip

        return processes.ServerProcess.start(
            command,
            startup_timeout=processes.STARTUP_TIMEOUT,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            name=f"uvicorn serving {app_import_string!r}",
        )

    def stop_all(self) -> None:
        servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def live_server() -> Iterator[Callable[..., str]]:
    """``live_server(app_import_string, *, app_dir=None, args=()) -> base_url`` (see the module docstring)."""
    servers = LiveServers()
    try:
        yield servers
    finally:
        servers.stop_all()
