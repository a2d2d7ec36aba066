"""The Response family: ASGI apps that send one HTTP response (Starlette's ``starlette.responses`` API).

Speed notes. A response renders its header block once, in ``__init__`` (``raw_headers``: the list of byte pairs
that ``http.response.start`` carries), and ``__call__`` is two ``send`` calls when there is no background task.
``JSONResponse`` encodes with orjson where the bytes are provably those of Starlette's ``json.dumps`` call
(``tachyon_http._json``). ``FileResponse`` reads a small file (or a small single range) in one worker-thread
round trip instead of one per ``open``/``read``/``close``.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from email.utils import formatdate
from mimetypes import guess_type
from secrets import token_hex
from typing import Any, Literal
from urllib.parse import quote

import anyio
import anyio.to_thread

from tachyon_http import _json
from tachyon_http._cookies import set_cookie_header
from tachyon_http._ranges import (
    MalformedRangeHeader,
    RangeNotSatisfiable,
    multipart_byteranges,
    parse_range_header,
    parse_range_parts,
)
from tachyon_http._utils import create_collapsing_task_group
from tachyon_http.background import BackgroundTask
from tachyon_http.concurrency import iterate_in_threadpool

# Headers is not used here, but Starlette's module provides it and code imports it from there.
from tachyon_http.datastructures import URL, Headers, MutableHeaders  # noqa: F401
from tachyon_http.requests import ClientDisconnect
from tachyon_http.types import Message, Receive, Scope, Send

__all__ = [
    "AsyncContentStream",
    "Content",
    "ContentStream",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "MalformedRangeHeader",
    "PlainTextResponse",
    "RangeNotSatisfiable",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "SyncContentStream",
]

_CONTENT_LENGTH = b"content-length"
_CONTENT_TYPE = b"content-type"
# CR, LF and NUL as byte values: ``int in bytes`` is a plain memchr, ``bytes in bytes`` a much slower buffer search.
_CR, _LF, _NUL = 13, 10, 0

# Content-Type header pairs by (media type, charset). Applications use a handful of media types; the bound only
# guards against one built from request data.
_MAX_CACHED_CONTENT_TYPES = 256
_content_type_cache: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def _check_header_bytes(name: bytes, value: bytes) -> None:
    both = name + value
    if _CR in both or _LF in both or _NUL in both:
        _refuse_header(name, value)


def _refuse_header(name: bytes, value: bytes) -> None:
    for forbidden in (b"\r", b"\n", b"\x00"):
        if forbidden in name or forbidden in value:
            raise ValueError(
                f"Header {name.decode('latin-1')!r} contains a forbidden character {forbidden!r} "
                "(CR, LF and NUL would split the response)"
            )


def _content_type_header(media_type: str, charset: str) -> tuple[bytes, bytes]:
    key = (media_type, charset)
    header = _content_type_cache.get(key)
    if header is None:
        value = media_type
        if value.startswith("text/") and "charset=" not in value.lower():
            value += "; charset=" + charset
        header = (_CONTENT_TYPE, value.encode("latin-1"))
        _check_header_bytes(*header)
        if len(_content_type_cache) < _MAX_CACHED_CONTENT_TYPES:
            _content_type_cache[key] = header
    return header


def _raw_get(raw: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for item_name, item_value in raw:
        if item_name == name:
            return item_value
    return None


def _raw_setdefault(raw: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    if _raw_get(raw, name) is None:
        _check_header_bytes(name, value)
        raw.append((name, value))


def _raw_set(raw: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    """``MutableHeaders.__setitem__`` on a raw list: replace the first entry, drop the others, else append."""
    _check_header_bytes(name, value)
    first = -1
    index = 0
    while index < len(raw):
        if raw[index][0] == name:
            if first >= 0:
                del raw[index]
                continue
            first = index
        index += 1
    if first < 0:
        raw.append((name, value))
    else:
        raw[first] = (name, value)


# ASGI spec versions ("2.0", "2.4", ...) seen so far, mapped to "is it at least 2.4": from 2.4 on, a send to a
# disconnected client raises OSError, so no task needs to listen for http.disconnect.
_MAX_CACHED_SPEC_VERSIONS = 32
_spec_version_cache: dict[str, bool] = {}


def _send_reports_disconnect(scope: Scope) -> bool:
    version: str = scope.get("asgi", {}).get("spec_version", "2.0")
    known = _spec_version_cache.get(version)
    if known is None:
        known = tuple(map(int, version.split("."))) >= (2, 4)
        if len(_spec_version_cache) < _MAX_CACHED_SPEC_VERSIONS:
            _spec_version_cache[version] = known
    return known


class Response:
    """An HTTP response with a body known in advance."""

    media_type: str | None = None
    charset = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        cls = type(self)
        if headers is None and cls.render is _render_of_response and cls.init_headers is _init_headers_of_response:
            # The common case, with render() and init_headers() inlined: same body, same header list.
            content_type = type(content)
            if content_type is bytes:
                body = content
            elif content_type is str:
                body = content.encode(self.charset)
            else:
                body = self.render(content)
            self.body = body
            if status_code >= 200 and status_code != 204 and status_code != 304:
                raw = [(_CONTENT_LENGTH, b"%d" % len(body))]
            else:
                raw = []
            media = self.media_type
            if media is not None:
                raw.append(_content_type_header(media, self.charset))
            self.raw_headers = raw
            return
        self.body = self.render(content)
        self.init_headers(headers)

    def render(self, content: Any) -> bytes | memoryview:
        """The body bytes for ``content``: ``None`` is empty, ``str`` is encoded with ``charset``."""
        if type(content) is str:
            return content.encode(self.charset)
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, memoryview):
            # Lengths must count bytes: a typed or strided view is flattened to unsigned bytes first.
            return content.cast("B") if content.c_contiguous else content.tobytes()
        return content.encode(self.charset)  # type: ignore[no-any-return]

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        """Build ``raw_headers``: the given headers, then Content-Length and Content-Type unless given.

        No Content-Length for informational (1xx), 204 and 304 responses, which have no body, nor when the
        response has no ``body`` attribute (streaming responses).
        """
        if headers is None:
            raw: list[tuple[bytes, bytes]] = []
            add_length = add_type = True
        else:
            # One plain loop (cheaper than comprehensions plus scans for a handful of headers): encode, refuse
            # response-splitting characters, and note whether the length and type were given.
            raw = []
            add_length = add_type = True
            for name, value in headers.items():
                encoded_name = name.lower().encode("latin-1")
                encoded_value = value.encode("latin-1")
                both = encoded_name + encoded_value
                if _CR in both or _LF in both or _NUL in both:
                    _refuse_header(encoded_name, encoded_value)
                raw.append((encoded_name, encoded_value))
                if encoded_name == _CONTENT_LENGTH:
                    add_length = False
                elif encoded_name == _CONTENT_TYPE:
                    add_type = False

        if add_length:
            body = getattr(self, "body", None)
            if body is not None:
                status_code = self.status_code
                if status_code >= 200 and status_code != 204 and status_code != 304:
                    raw.append((_CONTENT_LENGTH, b"%d" % len(body)))

        media_type = self.media_type
        if media_type is not None and add_type:
            raw.append(_content_type_header(media_type, self.charset))

        self.raw_headers = raw

    @property
    def headers(self) -> MutableHeaders:
        """A mutable view of ``raw_headers`` (changes go straight into the list that will be sent)."""
        headers: MutableHeaders | None = self.__dict__.get("_headers")
        if headers is None or headers.raw is not self.raw_headers:
            headers = self._headers = MutableHeaders(raw=self.raw_headers)
        return headers

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header.

        ``expires`` is a UTC ``datetime``, an HTTP date string, or seconds from now. ``samesite`` must be
        "strict", "lax" or "none" (case-insensitive) or ``None`` to leave it out. ``partitioned`` needs Python
        3.14 (``ValueError`` otherwise, as in Starlette). Attribute values containing CR, LF or NUL raise
        ``ValueError``; the value is quoted when it is not a cookie token.
        """
        header = set_cookie_header(key, value, max_age, expires, path, domain, secure, httponly, samesite, partitioned)
        self.raw_headers.append((b"set-cookie", header))

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Expire a cookie: an empty value with ``Max-Age=0`` and an ``expires`` of now (same path/domain)."""
        self.set_cookie(
            key,
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )

    def _wrap_websocket_denial_send(self, send: Send) -> Send:
        # A response sent in a websocket scope is a denial response (the "websocket.http.response" extension).
        async def denial_send(message: Message) -> None:
            message_type = message["type"]
            if message_type == "http.response.start" or message_type == "http.response.body":
                message = {**message, "type": "websocket." + message_type}
            await send(message)

        return denial_send

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            send = self._wrap_websocket_denial_send(send)
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body})
        if self.background is not None:
            await self.background()


class HTMLResponse(Response):
    media_type = "text/html"


class PlainTextResponse(Response):
    media_type = "text/plain"


_render_of_response = Response.render
_init_headers_of_response = Response.init_headers


class JSONResponse(Response):
    """``content`` encoded as compact JSON, byte for byte as Starlette's ``json.dumps`` call would.

    Subclasses may override ``render`` to use another encoder.
    """

    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        cls = type(self)
        if (
            headers is None
            and media_type is None
            and cls.render is _render_of_json
            and cls.init_headers is (_init_headers_of_response)
        ):
            # The common case, without the generic method calls: same attributes, same header list.
            self.status_code = status_code
            self.background = background
            self.body = body = _json.dumps(content)
            if status_code >= 200 and status_code != 204 and status_code != 304:
                raw = [(_CONTENT_LENGTH, b"%d" % len(body))]
            else:
                raw = []
            media_type = cls.media_type
            if media_type is not None:
                raw.append(_content_type_header(media_type, cls.charset))
            self.raw_headers = raw
            return
        super().__init__(content, status_code, headers, media_type, background)

    def render(self, content: Any) -> bytes:
        return _json.dumps(content)


_render_of_json = JSONResponse.render

# Characters left as they are in a redirect's Location (everything else is percent-encoded, CR and LF included).
_LOCATION_SAFE = ":/%#?=@[]!$&'()*+,;"


class RedirectResponse(Response):
    """An empty response with a ``Location`` header (307 by default); the URL is percent-encoded as needed."""

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content=b"", status_code=status_code, headers=headers, background=background)
        # quote() leaves only ASCII letters, digits, "_.-~" and the safe characters: never CR, LF or NUL.
        location = quote(str(url), safe=_LOCATION_SAFE).encode("latin-1")
        if headers is None:
            self.raw_headers.append((b"location", location))
        else:
            _raw_set(self.raw_headers, b"location", location)


Content = str | bytes | memoryview
SyncContentStream = Iterable[Content]
AsyncContentStream = AsyncIterable[Content]
ContentStream = AsyncContentStream | SyncContentStream


class StreamingResponse(Response):
    """A response whose body comes from an (async) iterator of str/bytes chunks; sync iterators run in threads."""

    body_iterator: AsyncContentStream

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if isinstance(content, AsyncIterable):
            self.body_iterator = content
        else:
            self.body_iterator = iterate_in_threadpool(content)
        self.status_code = status_code
        self.media_type = self.media_type if media_type is None else media_type
        self.background = background
        self.init_headers(headers)

    async def listen_for_disconnect(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        charset = self.charset
        async for chunk in self.body_iterator:
            if not isinstance(chunk, (bytes, memoryview)):
                chunk = chunk.encode(charset)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.stream_response(self._wrap_websocket_denial_send(send))
        elif _send_reports_disconnect(scope):
            try:
                await self.stream_response(send)
            except OSError:
                # Raised inside the handler on purpose: the OSError stays attached as the context.
                raise ClientDisconnect()
        else:
            # Before ASGI 2.4 a disconnect is only visible through receive(): stream and listen side by side,
            # whichever finishes first ends the other.
            await _run_until_first_returns(
                lambda: self.stream_response(send), lambda: self.listen_for_disconnect(receive)
            )
        if self.background is not None:
            await self.background()


async def _run_until_first_returns(main: Callable[[], Awaitable[None]], watcher: Callable[[], Awaitable[None]]) -> None:
    async with create_collapsing_task_group() as task_group:

        async def run_then_cancel(func: Callable[[], Awaitable[None]]) -> None:
            await func()
            task_group.cancel_scope.cancel()

        task_group.start_soon(run_then_cancel, main)
        await run_then_cancel(watcher)


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        if (await receive())["type"] == "http.disconnect":
            return


# A whole-file body is read this many bytes per worker-thread round trip (a round trip costs far more than
# copying the bytes) and still sent as ``chunk_size`` messages.
_READ_BATCH_BYTES = 256 * 1024


def _stat_and_read_small(path: str | os.PathLike[str], limit: int) -> tuple[os.stat_result, bytes | None]:
    """In a worker thread: stat the file and, when it is a regular file shorter than ``limit``, read it whole."""
    stat_result = os.stat(path)
    if stat.S_ISREG(stat_result.st_mode) and stat_result.st_size < limit:
        return stat_result, _read_small(path, 0, limit)
    return stat_result, None


def _read_small(path: str | os.PathLike[str], offset: int, limit: int) -> bytes | None:
    """Up to ``limit`` bytes from ``offset``; ``None`` if the file cannot be read (or holds ``limit`` bytes or more
    there, for a whole-file read) so that the streaming path runs and fails or continues exactly as it would."""
    try:
        with open(path, "rb") as file:
            if offset:
                file.seek(offset)
            return file.read(limit)
    except OSError:
        return None


# Last-Modified and ETag header values by (mtime, size): a static file is served many times between changes.
# Bounded (then simply not cached) so that a directory of millions of files cannot grow it without limit.
_MAX_CACHED_VALIDATORS = 4096
_validator_cache: dict[tuple[float, int], tuple[bytes, bytes]] = {}


def _last_modified_and_etag(stat_result: os.stat_result) -> tuple[bytes, bytes]:
    key = (stat_result.st_mtime, stat_result.st_size)
    cached = _validator_cache.get(key)
    if cached is None:
        last_modified = formatdate(stat_result.st_mtime, usegmt=True)
        fingerprint = f"{stat_result.st_mtime}-{stat_result.st_size}".encode()
        etag = f'"{hashlib.md5(fingerprint, usedforsecurity=False).hexdigest()}"'
        cached = (last_modified.encode("latin-1"), etag.encode("latin-1"))
        if len(_validator_cache) < _MAX_CACHED_VALIDATORS:
            _validator_cache[key] = cached
    return cached


class FileResponse(Response):
    """A file sent from disk, with Content-Length, Last-Modified, ETag, Accept-Ranges and range support.

    ``Range`` requests get 206 with one part or ``multipart/byteranges``; a malformed header gets 400, a range
    beyond the end 416, and a header listing more than ``max_ranges`` ranges the whole file. An ``If-Range`` that
    is weak or does not match the ETag/Last-Modified also gets the whole file. With the
    ``http.response.pathsend`` extension the server sends the file itself.
    """

    chunk_size = 64 * 1024
    max_ranges = 100

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = path
        self.status_code = status_code
        self.filename = filename
        if media_type is None:
            media_type = guess_type(filename or path)[0] or "application/octet-stream"
        self.media_type = media_type
        self.background = background
        self.init_headers(headers)
        raw = self.raw_headers
        _raw_setdefault(raw, b"accept-ranges", b"bytes")
        if filename is not None:
            quoted = quote(filename)
            if quoted != filename:
                disposition = f"{content_disposition_type}; filename*=utf-8''{quoted}"
            else:
                disposition = f'{content_disposition_type}; filename="{filename}"'
            _raw_setdefault(raw, b"content-disposition", disposition.encode("latin-1"))
        self.stat_result = stat_result
        if stat_result is not None:
            self.set_stat_headers(stat_result)

    def set_stat_headers(self, stat_result: os.stat_result) -> None:
        """Add Content-Length, Last-Modified and ETag (from size and mtime) unless already present."""
        last_modified, etag = _last_modified_and_etag(stat_result)
        raw = self.raw_headers
        _raw_setdefault(raw, _CONTENT_LENGTH, b"%d" % stat_result.st_size)
        _raw_setdefault(raw, b"last-modified", last_modified)
        _raw_setdefault(raw, b"etag", etag)

    def _check_regular(self, stat_result: os.stat_result) -> None:
        if not stat.S_ISREG(stat_result.st_mode):
            raise RuntimeError(f"File at path {self.path} is not a file.")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        is_http = scope_type == "http"
        method = scope["method"].upper() if is_http else ""
        header_only = method == "HEAD"
        pathsend = is_http and "http.response.pathsend" in scope.get("extensions", {})
        if scope_type == "websocket":
            send = self._wrap_websocket_denial_send(send)

        range_header: str | None = None
        if_range: str | None = None
        for name, value in scope["headers"]:
            if name == b"range":
                if range_header is None:
                    range_header = value.decode("latin-1")
            elif name == b"if-range" and if_range is None:
                if_range = value.decode("latin-1")
        # Whether a Range header can matter at all, before knowing the file.
        may_use_range = (
            range_header is not None and self.status_code == 200 and (not is_http or method in ("GET", "HEAD"))
        )

        small_body: bytes | None = None
        wants_whole_body = not header_only and not pathsend and not may_use_range
        stat_result: os.stat_result
        if self.stat_result is None:
            try:
                if wants_whole_body:
                    stat_result, small_body = await anyio.to_thread.run_sync(
                        _stat_and_read_small, self.path, self.chunk_size
                    )
                else:
                    stat_result = await anyio.to_thread.run_sync(os.stat, self.path)
            except FileNotFoundError:
                raise RuntimeError(f"File at path {self.path} does not exist.")
            self.set_stat_headers(stat_result)
            self._check_regular(stat_result)
        else:
            stat_result = self.stat_result
            if wants_whole_body and stat_result.st_size < self.chunk_size:
                small_body = await anyio.to_thread.run_sync(_read_small, self.path, 0, self.chunk_size)

        if small_body is not None and len(small_body) < self.chunk_size:
            # The whole file is in memory: the same two messages the streaming path would send for it.
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": small_body, "more_body": False})
            if self.background is not None:
                await self.background()
            return

        send_file: Callable[[], Awaitable[None]]
        if not may_use_range or (if_range is not None and not self._should_use_range(if_range)):
            send_file = lambda: self._handle_simple(send, header_only, pathsend)  # noqa: E731
        else:
            assert range_header is not None
            file_size = stat_result.st_size
            try:
                ranges = self._parse_range_header(range_header, file_size)
            except MalformedRangeHeader as exc:
                return await PlainTextResponse(exc.content, status_code=400)(scope, receive, send)
            except RangeNotSatisfiable as exc:
                response = PlainTextResponse(status_code=416, headers={"Content-Range": f"bytes */{exc.max_size}"})
                return await response(scope, receive, send)

            if not ranges:
                send_file = lambda: self._handle_simple(send, header_only, pathsend)  # noqa: E731
            elif len(ranges) == 1:
                start, end = ranges[0]
                pathsend = False
                if not header_only and end - start <= self.chunk_size:
                    chunk = await anyio.to_thread.run_sync(_read_small, self.path, start, end - start)
                    if chunk is not None:
                        await send(self._single_range_start(start, end, file_size))
                        await send({"type": "http.response.body", "body": chunk, "more_body": False})
                        if self.background is not None:
                            await self.background()
                        return
                send_file = lambda: self._handle_single_range(send, start, end, file_size, header_only)  # noqa: E731
            else:
                pathsend = False
                send_file = lambda: self._handle_multiple_ranges(send, ranges, file_size, header_only)  # noqa: E731

        if not is_http or header_only or pathsend or _send_reports_disconnect(scope):
            await send_file()
        else:
            await _run_until_first_returns(send_file, lambda: _wait_for_disconnect(receive))

        if self.background is not None:
            await self.background()

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[anyio.AsyncFile[bytes]]:
        # ``anyio.open_file`` is looked up at call time (tests and instrumentation replace it).
        file = await anyio.open_file(self.path, mode="rb")
        try:
            yield file
        finally:
            # Closing must complete even when the transfer was cancelled, or the descriptor leaks.
            with anyio.CancelScope(shield=True):
                await file.aclose()

    async def _handle_simple(self, send: Send, send_header_only: bool, send_pathsend: bool) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if send_header_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if send_pathsend:
            await send({"type": "http.response.pathsend", "path": str(self.path)})
            return
        chunk_size = self.chunk_size
        batch_size = max(1, _READ_BATCH_BYTES // chunk_size) * chunk_size
        async with self._open_file() as file:
            while True:
                data = await file.read(batch_size)
                # Full chunks first; at the end of the file the rest (possibly empty) closes the body, which is
                # the message sequence a read per chunk produces.
                at_end = len(data) < batch_size
                full = len(data) - len(data) % chunk_size if at_end else batch_size
                for offset in range(0, full, chunk_size):
                    await send(
                        {"type": "http.response.body", "body": data[offset : offset + chunk_size], "more_body": True}
                    )
                if at_end:
                    await send({"type": "http.response.body", "body": data[full:], "more_body": False})
                    return

    def _single_range_start(self, start: int, end: int, file_size: int) -> Message:
        raw = list(self.raw_headers)
        _raw_set(raw, b"content-range", f"bytes {start}-{end - 1}/{file_size}".encode("latin-1"))
        _raw_set(raw, _CONTENT_LENGTH, b"%d" % (end - start))
        return {"type": "http.response.start", "status": 206, "headers": raw}

    async def _handle_single_range(
        self, send: Send, start: int, end: int, file_size: int, send_header_only: bool
    ) -> None:
        await send(self._single_range_start(start, end, file_size))
        if send_header_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        chunk_size = self.chunk_size
        async with self._open_file() as file:
            await file.seek(start)
            more_body = True
            while more_body:
                chunk = await file.read(min(chunk_size, end - start))
                start += len(chunk)
                more_body = len(chunk) == chunk_size and start < end
                await send({"type": "http.response.body", "body": chunk, "more_body": more_body})

    async def _handle_multiple_ranges(
        self,
        send: Send,
        ranges: list[tuple[int, int]],
        file_size: int,
        send_header_only: bool,
    ) -> None:
        # 13 random bytes: about the entropy of the boundaries browsers generate.
        boundary = token_hex(13)
        content_type = _raw_get(self.raw_headers, _CONTENT_TYPE)
        if content_type is None:
            raise KeyError("content-type")
        content_length, part_header = self.generate_multipart(
            ranges, boundary, file_size, content_type.decode("latin-1")
        )
        raw = list(self.raw_headers)
        _raw_set(raw, _CONTENT_TYPE, f"multipart/byteranges; boundary={boundary}".encode("latin-1"))
        _raw_set(raw, _CONTENT_LENGTH, b"%d" % content_length)
        await send({"type": "http.response.start", "status": 206, "headers": raw})
        if send_header_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        chunk_size = self.chunk_size
        async with self._open_file() as file:
            for start, end in ranges:
                await send({"type": "http.response.body", "body": part_header(start, end), "more_body": True})
                await file.seek(start)
                while start < end:
                    chunk = await file.read(min(chunk_size, end - start))
                    if not chunk:
                        raise RuntimeError(f"File at path {self.path} is shorter than expected.")
                    start += len(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"\r\n", "more_body": True})
            await send({"type": "http.response.body", "body": f"--{boundary}--".encode("latin-1"), "more_body": False})

    def _should_use_range(self, http_if_range: str) -> bool:
        # A weak validator never matches for If-Range (RFC 9110 §13.1.5).
        if http_if_range.startswith("W/"):
            return False
        headers = self.headers
        return http_if_range == headers["last-modified"] or http_if_range == headers["etag"]

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        return parse_range_header(http_range, file_size, cls.max_ranges)

    @classmethod
    def _parse_ranges(cls, range_: str, file_size: int) -> list[tuple[int, int]]:
        return parse_range_parts(range_, file_size)

    def generate_multipart(
        self,
        ranges: Sequence[tuple[int, int]],
        boundary: str,
        max_size: int,
        content_type: str,
    ) -> tuple[int, Callable[[int, int], bytes]]:
        """Content length of a ``multipart/byteranges`` body and a function giving each part's header block."""
        return multipart_byteranges(ranges, boundary, max_size, content_type)
