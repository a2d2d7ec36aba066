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

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

__all__ = ["LiveServers", "live_server"]

E2E_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
# uvicorn is ready in well under a second; the budget is for shared, heavily loaded CI machines.
STARTUP_TIMEOUT = 30.0
# uvicorn's graceful shutdown waits for open connections; past this it is killed.
SHUTDOWN_TIMEOUT = 10.0
# A free port found by binding port 0 can be taken by someone else before uvicorn binds it: retry that.
PORT_ATTEMPTS = 3
# How often readiness is polled while the server starts.
POLL_INTERVAL = 0.05


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _accepts_connections(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=POLL_INTERVAL):
        return True
    return False


class _Server:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "<no log>"

    def stop(self) -> None:
        process = self.process
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=SHUTDOWN_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=SHUTDOWN_TIMEOUT)
        with contextlib.suppress(OSError):
            self.log_path.unlink()


class LiveServers:
    """Starts and remembers uvicorn subprocesses; ``stop_all`` ends every one of them."""

    def __init__(self) -> None:
        self._servers: dict[tuple[str, str, tuple[str, ...]], _Server] = {}

    def __call__(self, app_import_string: str, *, app_dir: str | Path | None = None, args: Sequence[str] = ()) -> str:
        directory = str(Path(app_dir).resolve() if app_dir is not None else E2E_DIR)
        key = (app_import_string, directory, tuple(args))
        server = self._servers.get(key)
        if server is None or server.process.poll() is not None:
            server = self._servers[key] = self._start(app_import_string, directory, tuple(args))
        return server.base_url

    def _start(self, app_import_string: str, directory: str, args: tuple[str, ...]) -> _Server:
        failures: list[str] = []
        for _ in range(PORT_ATTEMPTS):
            port = _free_port()
            log_fd, log_name = tempfile.mkstemp(prefix="tachyon-e2e-uvicorn-", suffix=".log")
            command = [
                sys.executable, "-m", "uvicorn", app_import_string,
                "--host", HOST, "--port", str(port), "--app-dir", directory,
                "--log-level", "warning", "--no-access-log", *args,
            ]  # fmt: skip
            with os.fdopen(log_fd, "wb") as log_file:
                process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            server = _Server(process, port, Path(log_name))
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    break
                if _accepts_connections(port):
                    return server
                time.sleep(POLL_INTERVAL)
            log = server.log()
            server.stop()
            failures.append(f"port {port}: exit code {process.returncode}\n{log}")
            if "address already in use" not in log.lower():
                break
        raise RuntimeError(f"uvicorn did not start serving {app_import_string!r}:\n" + "\n".join(failures))

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
