"""A Tachyon application exercising the HTTP features that real clients observe.

Served by a real uvicorn (``uvicorn e2e_http_app:app --app-dir tests-integration/e2e/apps``) and driven in
process by the test client; every response is deterministic, so both sides can be compared byte for byte.
With ``TACHYON_E2E_FRAMEWORK=starlette`` in the environment the identical application is built on
Starlette 1.10 instead, as the reference for over-the-wire comparisons.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

# The same application can be built on Starlette 1.10 itself (TACHYON_E2E_FRAMEWORK=starlette), so that a
# test can compare Tachyon's answers over the wire with the reference's.
FRAMEWORK_ENV = "TACHYON_E2E_FRAMEWORK"
ON_STARLETTE = os.environ.get(FRAMEWORK_ENV) == "starlette"

if TYPE_CHECKING or not ON_STARLETTE:
    from tachyon.applications import Tachyon as Application
    from tachyon.datastructures import UploadFile
    from tachyon.exceptions import HTTPException
    from tachyon.middleware import Middleware
    from tachyon.middleware.cors import CORSMiddleware
    from tachyon.middleware.gzip import GZipMiddleware
    from tachyon.requests import Request
    from tachyon.responses import (
        FileResponse,
        JSONResponse,
        PlainTextResponse,
        RedirectResponse,
        Response,
        StreamingResponse,
    )
    from tachyon.routing import Mount, Route
    from tachyon.staticfiles import StaticFiles
else:
    from starlette.applications import Starlette as Application
    from starlette.datastructures import UploadFile
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.middleware.gzip import GZipMiddleware
    from starlette.requests import Request
    from starlette.responses import (
        FileResponse,
        JSONResponse,
        PlainTextResponse,
        RedirectResponse,
        Response,
        StreamingResponse,
    )
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

__all__ = ["FILE_MTIME", "FRAMEWORK_ENV", "PAYLOAD", "PAYLOAD_PATH", "STREAM_CHUNKS", "app"]

# The downloadable file: 64 KiB of a fixed pattern, so ranges have known contents.
PAYLOAD = bytes(range(256)) * 256
# A fixed modification time makes Last-Modified and ETag identical in every process that serves the file.
FILE_MTIME = 1_700_000_000
PAYLOAD_PATH = Path(tempfile.gettempdir()) / f"tachyon-e2e-{os.getuid()}" / "payload.bin"

STREAM_CHUNKS = (b"alpha,", b"beta,", b"gamma")
# Uploads up to this size per part are accepted (the test sends ~1 MiB files).
MAX_UPLOAD_PART = 2 * 1024 * 1024
# /limited refuses bodies above this many bytes with 413.
LIMITED_BODY_SIZE = 1024
# The static files served under /static (next to the payload, so /static/../payload.bin exists on disk).
STATIC_DIR = PAYLOAD_PATH.parent / "static"
STATIC_FILES = {"index.html": b"<h1>Tachyon static</h1>\n", "docs/notes.txt": b"static notes\n" * 200}
# Responses of the middleware sub-application above this size are compressed.
GZIP_MINIMUM_SIZE = 500
CORS_ORIGIN = "https://example.org"
# A gated stream waits at most this long for its release, so a broken client cannot hang the server.
GATE_TIMEOUT = 10.0

_gates: dict[str, anyio.Event] = {}


def _write_fixed(path: Path, content: bytes) -> None:
    # Several processes (the server, the test process) import this module: write atomically, same bytes.
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != content:
        scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        scratch.write_bytes(content)
        os.replace(scratch, path)
    os.utime(path, (FILE_MTIME, FILE_MTIME))


_write_fixed(PAYLOAD_PATH, PAYLOAD)
for _name, _content in STATIC_FILES.items():
    _write_fixed(STATIC_DIR / _name, _content)


async def plain(request: Request) -> Response:
    return PlainTextResponse("Hello, world!")


async def json_document(request: Request) -> Response:
    return JSONResponse({"message": "héllo wörld", "numbers": [1, 2.5, None], "nested": {"ok": True}})


async def user_post(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    return JSONResponse({"user_id": user_id, "type": type(user_id).__name__, "slug": request.path_params["slug"]})


async def query(request: Request) -> Response:
    params = request.query_params
    return JSONResponse({"items": params.multi_items(), "tags": params.getlist("tag"), "q": params.get("q")})


async def echo_json(request: Request) -> Response:
    try:
        document = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(status_code=400, detail="Body is not valid JSON") from None
    return JSONResponse({"received": document})


async def _describe(value: str | UploadFile) -> dict[str, Any]:
    if isinstance(value, str):
        return {"kind": "field", "size": len(value), "sha256": hashlib.sha256(value.encode()).hexdigest()}
    content = await value.read()
    return {
        "kind": "file",
        "filename": value.filename,
        "content_type": value.content_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }


async def form(request: Request) -> Response:
    async with request.form(max_part_size=MAX_UPLOAD_PART) as data:
        parts = [[name, await _describe(value)] for name, value in data.multi_items()]
    return JSONResponse({"content_type": request.headers.get("content-type", "").split(";")[0], "parts": parts})


async def limited(request: Request) -> Response:
    body = await request.body()
    return PlainTextResponse(f"received {len(body)} bytes")


async def _chunks() -> AsyncIterator[bytes]:
    for chunk in STREAM_CHUNKS:
        yield chunk


async def stream(request: Request) -> Response:
    return StreamingResponse(_chunks(), media_type="text/plain", headers={"X-Stream": "yes"})


async def gated_stream(request: Request) -> Response:
    """Sends one chunk, then waits for ``/stream/release?token=...`` before sending the rest."""
    gate = _gates.setdefault(request.query_params["token"], anyio.Event())

    async def body() -> AsyncIterator[bytes]:
        yield b"first;"
        with anyio.move_on_after(GATE_TIMEOUT) as waited:
            await gate.wait()
        yield b"timed out" if waited.cancelled_caught else b"released"

    return StreamingResponse(body(), media_type="text/plain")


async def release_stream(request: Request) -> Response:
    _gates.setdefault(request.query_params["token"], anyio.Event()).set()
    return Response(status_code=204)


async def download(request: Request) -> Response:
    return FileResponse(PAYLOAD_PATH, media_type="application/octet-stream", filename="payload.bin")


async def redirect(request: Request) -> Response:
    return RedirectResponse("/plain")


async def redirect_permanent(request: Request) -> Response:
    return RedirectResponse("/json?from=redirect", status_code=301)


async def set_cookies(request: Request) -> Response:
    response = PlainTextResponse("cookies set")
    response.set_cookie("session", "abc123", httponly=True, samesite="strict")
    response.set_cookie("theme", "dark", path="/cookies")
    return response


async def read_cookies(request: Request) -> Response:
    return JSONResponse(dict(sorted(request.cookies.items())))


async def headers(request: Request) -> Response:
    response = PlainTextResponse(request.headers.get("x-token", "<none>"))
    response.headers.append("X-Multi", "one")
    response.headers.append("X-Multi", "two")
    response.headers["Cache-Control"] = "no-store"
    return response


async def framework(request: Request) -> Response:
    return PlainTextResponse(type(request).__module__)


async def teapot(request: Request) -> Response:
    raise HTTPException(status_code=418, detail="short and stout", headers={"X-Teapot": "yes"})


async def big_text(request: Request) -> Response:
    return PlainTextResponse("Tachyon " * 1000)


async def mount_info(request: Request) -> Response:
    return JSONResponse({"root_path": request.scope.get("root_path"), "path": request.url.path})


middleware_app = Application(
    routes=[Route("/big", big_text, methods=["GET", "POST"]), Route("/info", mount_info)],
    middleware=[
        Middleware(
            CORSMiddleware,
            allow_origins=[CORS_ORIGIN],
            allow_methods=["GET", "POST"],
            allow_headers=["x-token"],
            expose_headers=["x-exposed"],
            allow_credentials=True,
            max_age=60,
        ),
        Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE),
    ],
)


class RequestCounter:
    """Outermost ASGI wrapper: counts the HTTP requests the application has started and is still handling,
    readable as JSON at ``/in-flight`` (answered here, not counted), so that a test can wait for the events
    "the application is handling my request" and "every request is over" instead of for a length of time.
    Being outermost, a request stays counted until the server has its outcome: uvicorn writes the traceback
    of a failed request in the same step in which the count drops, before any other request is served."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.started = 0
        self.active = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.application(scope, receive, send)
            return
        if scope["path"] == "/in-flight":
            body = json.dumps({"started": self.started, "active": self.active}).encode()
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": body})
            return
        self.started += 1
        self.active += 1
        try:
            await self.application(scope, receive, send)
        finally:
            self.active -= 1


app = RequestCounter(
    Application(
        routes=[
            Route("/plain", plain),
            Route("/json", json_document),
            Route("/users/{user_id:int}/posts/{slug}", user_post),
            Route("/query", query),
            Route("/echo-json", echo_json, methods=["POST"]),
            Route("/form", form, methods=["POST"]),
            Route("/limited", limited, methods=["POST"], max_body_size=LIMITED_BODY_SIZE),
            Route("/stream", stream),
            Route("/stream/gated", gated_stream),
            Route("/stream/release", release_stream, methods=["POST"]),
            Route("/file", download),
            Route("/redirect", redirect),
            Route("/redirect/permanent", redirect_permanent),
            Route("/cookies/set", set_cookies),
            Route("/cookies/read", read_cookies),
            Route("/headers", headers),
            Route("/teapot", teapot),
            Route("/framework", framework),
            Mount("/mw", app=middleware_app),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR, html=True), name="static"),
        ]
    )
)
