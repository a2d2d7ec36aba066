"""FastAPI on Tachyon over a real socket: uvicorn started through `python -m tachyon.compat`."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

pytestmark = pytest.mark.filterwarnings("error")

APPS = Path(__file__).with_name("apps")
# How long the server may take to start accepting connections, and a request to be answered, on a heavily
# loaded 2-core machine before the test gives up (both normally take well under a second).
STARTUP_TIMEOUT_S = 120.0
IO_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.05


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _serve(*uvicorn_args: str) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "FASTAPI_SMOKE_REFERENCE"}
    cmd = [sys.executable, "-m", "tachyon.compat", "-m", "uvicorn", "served_app:app", *uvicorn_args]
    cmd += ["--app-dir", str(APPS), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    # The server's output goes to a file: an unread pipe could fill up and block the server.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")

    try:
        # uvicorn binds its socket once the application is imported: wait for the port to accept connections.
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited with {proc.returncode}:\n{output()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1.0):
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"timed out after {STARTUP_TIMEOUT_S} s waiting for the server to accept connections:\n{output()}"
                )
            time.sleep(POLL_INTERVAL_S)
        assert httpx2.get(f"{base}/openapi.json", timeout=IO_TIMEOUT_S).status_code == 200, output()
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with _serve() as base:
        yield base


def test_the_served_app_runs_on_tachyon_modules(server: str) -> None:
    modules = httpx2.get(f"{server}/modules").json()
    assert modules["starlette.routing"] == "tachyon.routing"
    assert modules["starlette.requests"] == "tachyon_http.requests"
    assert all(real.startswith("tachyon") for real in modules.values()), modules


def test_body_validation_and_openapi_over_http(server: str) -> None:
    response = httpx2.post(f"{server}/echo", json={"text": "ab", "times": 3})
    assert response.status_code == 200
    assert response.json() == {"echo": "ababab"}
    response = httpx2.post(f"{server}/echo", json={"times": "x"})
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {("body", "text"), ("body", "times")}
    schema = httpx2.get(f"{server}/openapi.json").json()
    assert set(schema["paths"]) == {"/modules", "/echo"}


def test_websocket_over_a_real_socket(server: str) -> None:
    websockets_sync = pytest.importorskip("websockets.sync.client")
    with websockets_sync.connect(server.replace("http://", "ws://") + "/ws") as ws:
        ws.send("tachyon")
        assert ws.recv() == "hello tachyon"


def test_uvicorn_worker_processes_are_switched_too() -> None:
    # Workers are fresh interpreters that import the app by name; each must serve Tachyon, never Starlette.
    with _serve("--workers", "2") as base:
        for _ in range(6):
            modules = httpx2.get(f"{base}/modules", headers={"Connection": "close"}).json()
            assert modules["starlette.requests"] == "tachyon_http.requests"
            assert modules["starlette.routing"] == "tachyon.routing"
