"""Faults: client disconnects mid-body, mid-stream and mid-file; exceptions in handlers, middleware, background
tasks and lifespan; cancellation. After each, nothing leaks: no task left running, no file descriptor left open
(/proc/self/fd), no temporary file left behind (multipart uploads spooled to disk).

Everything runs in process against Tachyon's ASGI app with scripted receive/send (deterministic: the disconnect
happens at an exact message), plus one check of a startup failure under a real uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from tachyon.applications import Tachyon
from tachyon.background import BackgroundTask
from tachyon.middleware import Middleware
from tachyon.middleware.base import BaseHTTPMiddleware
from tachyon.requests import ClientDisconnect, Request
from tachyon.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from tachyon.routing import Route

BOUNDARY = b"B"


def _fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def spool_dir(tmp_path: Path) -> Iterator[Path]:
    """Temporary files (multipart uploads spooled to disk) go here for the test, so they can be counted."""
    directory = tmp_path / "spool"
    directory.mkdir()
    previous = tempfile.tempdir
    tempfile.tempdir = str(directory)
    try:
        yield directory
    finally:
        tempfile.tempdir = previous


def _scope(path: str, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }


class Client:
    """Scripted receive (body chunks, then disconnect) and a send that fails after ``fail_after`` body messages."""

    def __init__(self, chunks: list[bytes], *, complete: bool = True, fail_after: int | None = None) -> None:
        self.messages: list[dict[str, Any]] = [
            {"type": "http.request", "body": chunk, "more_body": not (complete and index == len(chunks) - 1)}
            for index, chunk in enumerate(chunks)
        ]
        self.fail_after = fail_after
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.messages:
            return self.messages.pop(0)
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        bodies = sum(1 for sent in self.sent if sent["type"] == "http.response.body")
        if message["type"] == "http.response.body" and self.fail_after is not None and bodies >= self.fail_after:
            raise OSError("client went away")  # ASGI 2.4: a send to a disconnected client raises OSError
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        return next((m["status"] for m in self.sent if m["type"] == "http.response.start"), None)


@contextlib.asynccontextmanager
async def no_leaks(spool: Path | None = None) -> AsyncIterator[None]:
    tasks_before = asyncio.all_tasks()
    fds_before = _fd_count()
    yield
    await asyncio.sleep(0)  # let finished tasks be collected by the loop (an event-loop turn, not a wall-clock wait)
    leftover = {task for task in asyncio.all_tasks() - tasks_before if not task.done()}
    assert not leftover, f"tasks left running: {leftover}"
    assert _fd_count() == fds_before, "file descriptors left open"
    if spool is not None:
        assert list(spool.iterdir()) == [], "temporary files left behind"


# --- the app -----------------------------------------------------------------------------------------------------

events: list[str] = []


async def upload(request: Request) -> Any:
    try:
        async with request.form() as form:
            files = [value for value in form.values() if not isinstance(value, str)]
            # Whether the upload was spooled to disk (a real temporary file) or stayed in memory.
            events.extend(f"on disk: {upload.file._rolled}" for upload in files)
            return JSONResponse({upload.filename: len(await upload.read()) for upload in files})
    finally:
        events.append("upload handler finished")


async def stream(request: Request) -> Any:
    async def numbers() -> AsyncIterator[bytes]:
        try:
            for index in range(1000):
                yield b"%d\n" % index
        finally:
            events.append("stream closed")

    return StreamingResponse(numbers())


def make_app(big_file: Path) -> Tachyon:
    async def file(request: Request) -> Any:
        return FileResponse(big_file)  # 64 KiB chunks: 16 body messages

    async def boom(request: Request) -> Any:
        raise RuntimeError("handler failed")

    def failing_task() -> None:
        events.append("background ran")
        raise RuntimeError("background failed")

    async def with_task(request: Request) -> Any:
        return PlainTextResponse("ok", background=BackgroundTask(failing_task))

    async def forever(request: Request) -> Any:
        events.append("forever started")
        try:
            await asyncio.Event().wait()
        finally:
            events.append("forever cancelled")

    class Failing(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: Any) -> Any:
            if request.url.path == "/middleware-fails":
                raise RuntimeError("middleware failed")
            return await call_next(request)

    return Tachyon(
        routes=[
            Route("/upload", upload, methods=["POST"]),
            Route("/stream", stream),
            Route("/file", file),
            Route("/boom", boom),
            Route("/task", with_task),
            Route("/forever", forever),
            Route("/middleware-fails", boom),
        ],
        middleware=[Middleware(Failing)],
    )


@pytest.fixture
def app(tmp_path: Path) -> Tachyon:
    events.clear()
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1024 * 1024))
    return make_app(big)


def _multipart_start(size: int) -> bytes:
    return (
        b'--B\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * size
    )


MULTIPART = [(b"content-type", b"multipart/form-data; boundary=B")]


# --- disconnects -------------------------------------------------------------------------------------------------


def test_disconnect_mid_body_leaves_no_spooled_file(app: Tachyon, spool_dir: Path) -> None:
    # 2 MiB of a file part (past the 1 MiB spool limit: on disk), then the client goes away.
    chunks = [_multipart_start(0)] + [b"x" * 65536] * 32

    async def run() -> None:
        async with no_leaks(spool_dir):
            client = Client(chunks, complete=False)
            with pytest.raises(ClientDisconnect):
                await app(_scope("/upload", "POST", MULTIPART), client.receive, client.send)

    asyncio.run(run())
    assert "upload handler finished" in events


def test_complete_upload_spooled_to_disk_leaves_no_file(app: Tachyon, spool_dir: Path) -> None:
    body = _multipart_start(2 * 1024 * 1024) + b"\r\n--B--\r\n"

    async def run() -> None:
        async with no_leaks(spool_dir):
            client = Client([body[i : i + 65536] for i in range(0, len(body), 65536)])
            await app(_scope("/upload", "POST", MULTIPART), client.receive, client.send)
            assert client.status == 200

    asyncio.run(run())
    assert "on disk: True" in events


def test_disconnect_mid_stream_closes_the_generator(app: Tachyon) -> None:
    async def run() -> None:
        async with no_leaks():
            client = Client([b""], fail_after=3)
            with contextlib.suppress(OSError):
                await app(_scope("/stream"), client.receive, client.send)

    asyncio.run(run())
    assert "stream closed" in events


def test_disconnect_mid_file_closes_the_file(app: Tachyon) -> None:
    async def run() -> None:
        async with no_leaks():
            client = Client([b""], fail_after=2)
            with contextlib.suppress(OSError):
                await app(_scope("/file"), client.receive, client.send)
            assert client.status == 200

    asyncio.run(run())


# --- exceptions --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/boom", "/middleware-fails"])
def test_exception_in_handler_or_middleware_is_a_500_and_leaks_nothing(app: Tachyon, path: str) -> None:
    async def run() -> None:
        async with no_leaks():
            client = Client([b""])
            with pytest.raises(RuntimeError):  # re-raised for the server to log, after the 500 was sent
                await app(_scope(path), client.receive, client.send)
            assert client.status == 500

    asyncio.run(run())


def test_exception_in_background_task_after_the_response(app: Tachyon) -> None:
    async def run() -> None:
        async with no_leaks():
            client = Client([b""])
            with pytest.raises(RuntimeError, match="background failed"):
                await app(_scope("/task"), client.receive, client.send)
            assert client.status == 200
            assert any(m.get("body") == b"ok" for m in client.sent)

    asyncio.run(run())
    assert "background ran" in events


def test_cancellation_mid_handler_leaks_nothing(app: Tachyon) -> None:
    async def run() -> None:
        async with no_leaks():
            client = Client([b""])
            task = asyncio.create_task(app(_scope("/forever"), client.receive, client.send))
            while "forever started" not in events:
                await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(run())
    assert "forever cancelled" in events


# --- lifespan ----------------------------------------------------------------------------------------------------


def _lifespan_app() -> tuple[Tachyon, list[str]]:
    log: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        log.append("startup began")
        try:
            raise RuntimeError("database unreachable")
            yield  # pragma: no cover
        finally:
            log.append("cleanup ran")

    return Tachyon(lifespan=lifespan), log


def test_startup_failure_is_reported_and_cleanup_runs() -> None:
    app, log = _lifespan_app()
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "lifespan.startup"}]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        async with no_leaks():
            with pytest.raises(RuntimeError, match="database unreachable"):
                await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)

    asyncio.run(run())
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "database unreachable" in sent[0]["message"]
    assert log == ["startup began", "cleanup ran"]


def test_startup_failure_under_uvicorn_exits_with_the_error(tmp_path: Path) -> None:
    module = tmp_path / "failing_startup.py"
    module.write_text(
        "import contextlib\n"
        "from tachyon.applications import Tachyon\n"
        "@contextlib.asynccontextmanager\n"
        "async def lifespan(app):\n"
        "    try:\n"
        "        raise RuntimeError('database unreachable')\n"
        "        yield\n"
        "    finally:\n"
        "        print('cleanup ran', flush=True)\n"
        "app = Tachyon(lifespan=lifespan)\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "uvicorn", "failing_startup:app", "--app-dir", str(tmp_path), "--port", "0",
         "--host", "127.0.0.1", "--lifespan", "on"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "database unreachable" in output
    assert "cleanup ran" in output
