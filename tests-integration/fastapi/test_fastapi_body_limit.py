"""Request-body limits hit while middleware reads the body answer 413, on Tachyon as on Starlette 1.10.0.

FastAPI 0.165 finds the body limiter's two signals by their (private) Starlette names to turn a limit hit
inside a BaseHTTPMiddleware's task group back into a 413; under another name the internal exception
escaped as a server error. Checked in process (on whichever side this pytest process runs, see conftest.py)
and over HTTP with uvicorn serving the same application on the real Starlette and on Tachyon side by side.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import fastapi
import httpx2
import pytest
from starlette.testclient import TestClient

from .conftest import Backend

APPS = Path(__file__).with_name("apps")
E2E_APPS = Path(__file__).resolve().parents[1] / "e2e" / "apps"

pytestmark = pytest.mark.skipif(
    "max_body_size" not in fastapi.FastAPI.__init__.__code__.co_varnames,
    reason=f"FastAPI {fastapi.__version__} has no max_body_size (added in 0.165)",
)

# (path, body) -> what Starlette 1.10.0 answers: the size read when within the limit, 413 beyond it.
CASES = [
    ("/read", b"x" * 10, 200),
    ("/read", b"x" * 11, 413),
    ("/body", b"x" * 11, 413),
    ("/mounted/read", b"x" * 10, 200),
    ("/mounted/read", b"x" * 11, 413),
    ("/limited/read", b"x" * 11, 413),
]


def _load(name: str, folder: Path) -> ModuleType:
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def _chunks(body: bytes) -> Iterator[bytes]:
    # No Content-Length: the limit is found while the body is read, not from the declared length.
    yield body[:6]
    yield body[6:]


@pytest.mark.parametrize(("path", "body", "status"), CASES)
@pytest.mark.parametrize("streamed", [False, True], ids=["declared", "streamed"])
def test_limit_hit_while_middleware_reads_answers_413_in_process(
    backend: Backend, path: str, body: bytes, status: int, streamed: bool
) -> None:
    app = _load("body_limit_app", APPS).build()
    with TestClient(app, backend=backend) as client:
        response = client.post(path, content=_chunks(body) if streamed else body)
    assert response.status_code == status, response.text
    if status == 413:
        assert "Content Too Large" in response.text
    else:
        assert response.json() == len(body)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, str]]:
    processes = _load("e2e_processes", E2E_APPS)

    def command(switch: bool) -> object:
        def for_port(port: int) -> list[str]:
            prefix = [sys.executable, "-m", "tachyon.compat"] if switch else [sys.executable]
            return [*prefix, "-m", "uvicorn", "body_limit_app:app", "--app-dir", str(APPS), "--host",
                    processes.HOST, "--port", str(port), "--log-level", "warning"]  # fmt: skip

        return for_port

    started = []
    try:
        for side, switch in (("starlette", False), ("tachyon", True)):
            env = {"FASTAPI_SMOKE_REFERENCE": "", "TACHYON_COMPAT": "1" if switch else "0"}
            started.append((side, processes.ServerProcess.start(command(switch), env=env, name=f"uvicorn on {side}")))
        yield {side: server.base_url for side, server in started}
    finally:
        for _, server in started:
            server.stop()


@pytest.mark.parametrize(("path", "body", "status"), CASES)
@pytest.mark.parametrize("streamed", [False, True], ids=["declared", "streamed"])
def test_limit_hit_while_middleware_reads_answers_413_under_uvicorn(
    servers: dict[str, str], path: str, body: bytes, status: int, streamed: bool
) -> None:
    answers = {}
    for side, base in servers.items():
        response = httpx2.post(base + path, content=_chunks(body) if streamed else body, timeout=30)
        answers[side] = (response.status_code, response.text)
    assert answers["tachyon"] == answers["starlette"]
    assert answers["tachyon"][0] == status, answers
