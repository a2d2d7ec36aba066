"""Serve a WSGI application from an ASGI server (deprecated: prefer a2wsgi)."""

from __future__ import annotations

import io
import math
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, MutableMapping
from typing import IO, Any

import anyio.from_thread
import anyio.to_thread
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from tachyon_http._presented import presented_name
from tachyon_http._shared import create_collapsing_task_group
from tachyon_http.exceptions import TachyonDeprecationWarning
from tachyon_http.types import Receive, Scope, Send

__all__ = ["WSGIMiddleware", "WSGIResponder", "build_environ"]

warnings.warn(
    f"{presented_name('tachyon.middleware.wsgi', 'starlette.middleware.wsgi')} is deprecated and will be removed "
    "in a future release. "
    "Please refer to https://github.com/abersheeran/a2wsgi as a replacement.",
    TachyonDeprecationWarning,
    stacklevel=2,
)

# Headers that PEP 3333 names without the HTTP_ prefix.
_UNPREFIXED = {"content-length": "CONTENT_LENGTH", "content-type": "CONTENT_TYPE"}
# Request bodies up to this size are kept in memory for wsgi.input; larger ones are spooled to a temporary
# file (the same threshold as the form parser's in-memory part limit).
WSGI_INPUT_MEMORY_LIMIT = 1024 * 1024
# WSGI requires a server address; ASGI does not always give one.
_FALLBACK_SERVER = ("localhost", 80)
# Constant for every request (PEP 3333 §"environ Variables").
_WSGI_FLAGS: dict[str, Any] = {
    "wsgi.version": (1, 0),
    "wsgi.multithread": True,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
}


def _native(text: str) -> str:
    # PEP 3333 "native strings": the UTF-8 bytes of the path, each seen as one latin-1 character.
    return text.encode("utf8").decode("latin1")


def _split_script_name(scope: Scope) -> tuple[str, str]:
    """(SCRIPT_NAME, PATH_INFO): the mount point is removed from the path only on a segment boundary."""
    mount = _native(scope.get("root_path", ""))
    path = _native(scope["path"])
    if path == mount or path.startswith(mount.rstrip("/") + "/"):
        return mount, path[len(mount) :]
    return mount, path


def _header_environ(headers: Iterable[tuple[bytes, bytes]], environ: dict[str, Any]) -> None:
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin1")
        key = _UNPREFIXED.get(name) or "HTTP_" + name.upper().replace("-", "_")
        value = raw_value.decode("latin1")
        earlier = environ.get(key)
        # Repeated headers are folded into one comma-separated value (RFC 9110 §5.3).
        environ[key] = value if earlier is None else f"{earlier},{value}"


def build_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """Translate an ASGI HTTP scope and its complete body into a WSGI environ."""
    return _environ(scope, io.BytesIO(body))


def _environ(scope: Scope, body: IO[bytes]) -> dict[str, Any]:
    script_name, path_info = _split_script_name(scope)
    host, port = scope.get("server") or _FALLBACK_SERVER
    environ: dict[str, Any] = {
        **_WSGI_FLAGS,
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": scope["query_string"].decode("ascii"),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stdout,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
    _header_environ(scope.get("headers", ()), environ)
    return environ


async def _spool_body(receive: Receive) -> IO[bytes]:
    """Collect the request body into a readable file for ``wsgi.input``.

    WSGI applications read the body as a file, so all of it is received before the application starts.
    Small bodies stay in memory; a large one goes to a temporary file (written from a worker thread, so the
    event loop never waits on the disk) rather than growing memory without bound.
    """
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=WSGI_INPUT_MEMORY_LIMIT)
    try:
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > WSGI_INPUT_MEMORY_LIMIT:
                    await anyio.to_thread.run_sync(spool.write, chunk)
                else:
                    spool.write(chunk)
            if not message.get("more_body", False):
                break
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


class WSGIMiddleware:
    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http", "WSGIMiddleware only serves HTTP"
        await WSGIResponder(self.app, scope)(receive, send)


class WSGIResponder:
    """Runs the WSGI callable in a worker thread; its output reaches the event loop through a channel."""

    stream_send: ObjectSendStream[MutableMapping[str, Any]]
    stream_receive: ObjectReceiveStream[MutableMapping[str, Any]]

    def __init__(self, app: Callable[..., Any], scope: Scope) -> None:
        self.app = app
        self.scope = scope
        self.status = None
        self.response_headers = None
        # Unbounded: the worker thread must never block on a slow client while it holds the WSGI app.
        self.stream_send, self.stream_receive = anyio.create_memory_object_stream(math.inf)
        self.response_started = False
        self.exc_info: Any = None

    async def __call__(self, receive: Receive, send: Send) -> None:
        body = await _spool_body(receive)
        environ = _environ(self.scope, body)
        try:
            async with create_collapsing_task_group() as relay:
                relay.start_soon(self.sender, send)
                async with self.stream_send:  # closing it ends the sender once the thread is done
                    await anyio.to_thread.run_sync(self.wsgi, environ, self.start_response)
        finally:
            body.close()
        failure = self.exc_info
        if failure is not None:
            # exc_info given to start_response: the application reports an error it caught itself.
            raise failure[0].with_traceback(failure[1], failure[2])

    async def sender(self, send: Send) -> None:
        async with self.stream_receive:
            async for message in self.stream_receive:
                await send(message)

    def _emit(self, message: MutableMapping[str, Any]) -> None:
        # Called from the worker thread: hand the message to the event loop and wait until it is queued.
        anyio.from_thread.run(self.stream_send.send, message)

    def start_response(self, status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        self.exc_info = exc_info
        if self.response_started:  # pragma: no cover
            return
        self.response_started = True
        code = int(status.split(" ", 1)[0])
        raw = [(key.strip().encode("ascii").lower(), val.strip().encode("ascii")) for key, val in response_headers]
        self._emit({"type": "http.response.start", "status": code, "headers": raw})

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> None:
        for chunk in self.app(environ, start_response):
            self._emit({"type": "http.response.body", "body": chunk, "more_body": True})
        self._emit({"type": "http.response.body", "body": b""})
