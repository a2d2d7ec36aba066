"""The example application (tests-integration/examples/app.py) under uvicorn, hypercorn, granian and gunicorn.

Each server runs as a real process on 127.0.0.1 (started by e2e_processes.ServerProcess, ready when its port
accepts connections) and answers the same HTTP and WebSocket requests the same way; gunicorn manages two
uvicorn workers (the ``uvicorn-worker`` package), the multi-process set-up the docs describe. HTTP/2 is tested with
an HTTP/2 client (httpx with h2): under hypercorn in clear text with prior knowledge (h2c) and over TLS
negotiated with ALPN, and under granian over TLS; the certificates are made in the test by trustme.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import e2e_processes as processes  # apps/e2e_processes.py, registered by conftest.py
import httpx  # the HTTP/2 client (httpx2 speaks HTTP/1.1 only)
import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from websockets.asyncio.client import connect

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
APP = "app:app"
IO_TIMEOUT = 30.0

Command = Callable[[int], Sequence[str]]


def _uvicorn(port: int) -> Sequence[str]:
    return [
        sys.executable, "-m", "uvicorn", APP, "--host", processes.HOST, "--port", str(port),
        "--app-dir", str(EXAMPLES_DIR), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


def _hypercorn(port: int, *tls: str) -> Sequence[str]:
    # hypercorn imports the app from its working directory (started in EXAMPLES_DIR).
    return [
        sys.executable,
        "-m",
        "hypercorn",
        APP,
        "--bind",
        f"{processes.HOST}:{port}",
        "--log-level",
        "warning",
        *tls,
    ]


def _granian(port: int, *tls: str) -> Sequence[str]:
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", APP, "--host", processes.HOST, "--port", str(port),
        "--working-dir", str(EXAMPLES_DIR), "--log-level", "warning", "--no-access-log", *tls,
    ]  # fmt: skip


GUNICORN_WORKERS = 2


def _gunicorn(port: int) -> Sequence[str]:
    return [
        sys.executable, "-m", "gunicorn", APP, "--worker-class", "uvicorn_worker.UvicornWorker",
        "--workers", str(GUNICORN_WORKERS), "--bind", f"{processes.HOST}:{port}", "--chdir", str(EXAMPLES_DIR),
        "--log-level", "warning",
    ]  # fmt: skip


SERVERS: dict[str, Command] = {
    "uvicorn": _uvicorn,
    "hypercorn": _hypercorn,
    "granian": _granian,
    "gunicorn": _gunicorn,
}


def _start(command: Command, name: str) -> processes.ServerProcess:
    return processes.ServerProcess.start(command, cwd=EXAMPLES_DIR, name=name)


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[processes.ServerProcess]:
    started = _start(SERVERS[request.param], f"{request.param} serving the example app")
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path, Path]:
    """A CA made for this test run, and a certificate + PKCS#8 key for 127.0.0.1 signed by it."""
    ca = trustme.CA()
    leaf = ca.issue_cert(processes.HOST)
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    for extra in leaf.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    # granian reads PKCS#8 keys only; trustme writes the traditional form.
    private_key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    key.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca, cert, key


def _client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


def _allowed(response: httpx.Response) -> set[str]:
    # The order of the methods in Allow is not specified (Starlette's follows a set's iteration order).
    return {method.strip() for method in response.headers["allow"].split(",")}


def test_http_routes(server: processes.ServerProcess) -> None:
    with httpx.Client(base_url=server.base_url, timeout=IO_TIMEOUT) as client:
        assert client.get("/").json() == {"hello": "world"}
        assert client.get("/users/42").json() == {"id": 42}
        refused = client.post("/users/42")
        assert refused.status_code == 405
        assert _allowed(refused) == {"GET", "HEAD"}
        assert client.get("/items", params={"limit": 3}).json() == [{"item": 0}, {"item": 1}, {"item": 2}]
        assert client.get("/items", params={"limit": "lots"}).status_code == 400
        payload = {"text": "héllo", "numbers": list(range(1000))}
        assert client.post("/echo", json=payload).json() == payload
        assert client.get("/api/status").json() == {"status": "ok"}
        assert client.get("/api/routes/user").text == f"{server.base_url}/users/42"
        assert client.get("/nowhere").status_code == 404
        head = client.head("/")
        assert head.status_code == 200 and head.content == b""


def test_websocket_echo(server: processes.ServerProcess) -> None:
    async def exchange() -> list[str]:
        url = server.base_url.replace("http://", "ws://") + "/ws"
        async with connect(url, open_timeout=IO_TIMEOUT, close_timeout=IO_TIMEOUT) as websocket:
            answers = []
            for message in ("one", "two", "ünïcode"):
                await websocket.send(message)
                answers.append(str(await asyncio.wait_for(websocket.recv(), IO_TIMEOUT)))
            return answers

    assert asyncio.run(exchange()) == ["echo: one", "echo: two", "echo: ünïcode"]


def _http2_requests(base_url: str, verify: ssl.SSLContext | bool) -> None:
    # http1=False: the client speaks HTTP/2 only (prior knowledge in clear text, ALPN "h2" over TLS).
    with httpx.Client(base_url=base_url, http1=False, http2=True, verify=verify, timeout=IO_TIMEOUT) as client:
        response = client.get("/users/7")
        assert response.http_version == "HTTP/2"
        assert response.json() == {"id": 7}
        payload = {"body": "x" * 100_000}  # larger than one HTTP/2 frame and the initial window
        echoed = client.post("/echo", content=json.dumps(payload), headers={"content-type": "application/json"})
        assert echoed.http_version == "HTTP/2"
        assert echoed.json() == payload
        refused = client.delete("/users/7")
        assert refused.status_code == 405 and _allowed(refused) == {"GET", "HEAD"}


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def test_gunicorn_runs_uvicorn_workers() -> None:
    gunicorn = _start(_gunicorn, "gunicorn with uvicorn workers")
    try:
        processes.wait_for(
            lambda: len(_children(gunicorn.pid)) == GUNICORN_WORKERS,
            processes.STARTUP_TIMEOUT,
            f"gunicorn (pid {gunicorn.pid}) to have {GUNICORN_WORKERS} worker processes",
        )
        with httpx.Client(base_url=gunicorn.base_url, timeout=IO_TIMEOUT) as client:
            assert [client.get(f"/users/{n}").json() for n in range(20)] == [{"id": n} for n in range(20)]
    finally:
        gunicorn.stop()


def test_hypercorn_http2_cleartext() -> None:
    hypercorn = _start(_hypercorn, "hypercorn (h2c)")
    try:
        _http2_requests(hypercorn.base_url, verify=False)
    finally:
        hypercorn.stop()


def test_hypercorn_http2_tls(certificates: tuple[trustme.CA, Path, Path]) -> None:
    ca, cert, key = certificates
    hypercorn = _start(lambda port: _hypercorn(port, "--certfile", str(cert), "--keyfile", str(key)), "hypercorn (TLS)")
    try:
        _http2_requests(f"https://{processes.HOST}:{hypercorn.port}", verify=_client_context(ca))
    finally:
        hypercorn.stop()


def test_granian_http2_tls(certificates: tuple[trustme.CA, Path, Path]) -> None:
    ca, cert, key = certificates
    tls = ("--http", "auto", "--ssl-certificate", str(cert), "--ssl-keyfile", str(key))
    granian = _start(lambda port: _granian(port, *tls), "granian (TLS)")
    try:
        _http2_requests(f"https://{processes.HOST}:{granian.port}", verify=_client_context(ca))
    finally:
        granian.stop()
