"""The Response family: ASGI apps that send one HTTP response (Starlette's ``starlette.responses`` API).

Speed notes. A response renders its header block once, in ``__init__`` (``raw_headers``: the list of byte pairs
that ``http.response.start`` carries), and ``__call__`` is two ``send`` calls when there is no background task.
``JSONResponse`` encodes with orjson where the bytes are provably those of Starlette's ``json.dumps`` call
(``tachyon_http._json``). ``FileResponse`` reads a small file (or a small single range) in one worker-thread
round trip instead of one per ``open``/``read``/``close``, and a large one several chunks per round trip.
"""

from __future__ import annotations

# `json` is part of this module's namespace in Starlette; libraries and their tests reach and patch
# `starlette.responses.json.dumps`, so it must be importable from here even though orjson does the encoding.
import json  # noqa: F401
import os
import stat
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from mimetypes import guess_type
from secrets import token_hex
from typing import Any, Literal
from urllib.parse import quote

import anyio
import anyio.to_thread

from tachyon_http import _json
from tachyon_http._cache import CacheBound
from tachyon_http._cookies import set_cookie_header
from tachyon_http._files import last_modified_and_etag, range_request, read_ranges, read_small, stat_and_read_small
from tachyon_http._header_check import _CR, _LF, _NUL, check_header, refuse_header
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

# Content-Type header pairs by charset and media type. Applications use a handful of media types; the bounds (count,
# and length of each key, tachyon_http._cache) only guard against one built from request data: a longer media type
# or charset is rendered on every response and never kept.
# The default charset has a table of its own, keyed by media type: one lookup with a str key (its hash cached on the
# string) for nearly every response. Other charsets come from code (a class attribute), so a few are kept, each
# with its own bounded table of media types.
_UTF8 = "utf-8"
_utf8_content_types: dict[str, tuple[bytes, bytes]] = {}
_content_type_cache: dict[str, dict[str, tuple[bytes, bytes]]] = {}
_CHARSET_BOUND = CacheBound(8, 32)
_CONTENT_TYPE_BOUND = CacheBound(256, 128)
_NO_CONTENT_TYPES: dict[str, tuple[bytes, bytes]] = {}


# Content-Length values of small bodies, rendered once: indexing costs ~20 ns where ``b"%d" % n`` costs ~140 ns, and
# every response renders one. Most API bodies are below the bound; the table holds ~50 KB.
_PRERENDERED_LENGTHS = 1024
_LENGTH_BYTES = tuple(b"%d" % n for n in range(_PRERENDERED_LENGTHS))
# The whole Content-Length pair for those sizes: header pairs are immutable tuples, so one shared pair per size
# saves building a tuple per response (~100 KB in all).
_LENGTH_HEADERS = tuple((_CONTENT_LENGTH, value) for value in _LENGTH_BYTES)


def _content_type_header(media_type: str, charset: str) -> tuple[bytes, bytes]:
    by_media = _utf8_content_types if charset == _UTF8 else _content_type_cache.get(charset, _NO_CONTENT_TYPES)
    header = by_media.get(media_type)
    if header is None:
        value = media_type
        if value.startswith("text/") and "charset=" not in value.lower():
            value += "; charset=" + charset
        header = (_CONTENT_TYPE, value.encode("latin-1"))
        check_header(*header)
        if by_media is _NO_CONTENT_TYPES:
            by_media = _CHARSET_BOUND.keep(_content_type_cache, charset, {}, len(charset))
        _CONTENT_TYPE_BOUND.keep(by_media, media_type, header, len(media_type))
    return header


def _byte_view(view: memoryview) -> bytes | memoryview:
    # Content-Length counts bytes: a typed view is recast to unsigned bytes, a strided one copied out.
    if not view.c_contiguous:
        return view.tobytes()
    return view.cast("B")


def _raw_get(raw: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for item_name, item_value in raw:
        if item_name == name:
            return item_value
    return None


def _raw_setdefault(raw: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    if _raw_get(raw, name) is None:
        check_header(name, value)
        raw.append((name, value))


def _raw_set(raw: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    """``MutableHeaders.__setitem__`` on a raw list: replace the first entry, drop the others, else append."""
    check_header(name, value)
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
# disconnected client raises OSError, so no task needs to listen for http.disconnect. The server, not the client,
# sets the version; the bounds (count, length) only keep an odd server from growing the cache.
_spec_version_cache: dict[str, bool] = {}
_SPEC_VERSION_BOUND = CacheBound(32, 16)


def _send_reports_disconnect(scope: Scope) -> bool:
    version: str = scope.get("asgi", {}).get("spec_version", "2.0")
    known = _spec_version_cache.get(version)
    if known is None:
        known = _SPEC_VERSION_BOUND.keep(
            _spec_version_cache, version, tuple(map(int, version.split("."))) >= (2, 4), len(version)
        )
    return known


_new_object = object.__new__

_DENIAL_MESSAGE_TYPES = {
    "http.response.start": "websocket.http.response.start",
    "http.response.body": "websocket.http.response.body",
}


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
        if headers is None and cls.init_headers is _init_headers_of_response:
            # The common case, with init_headers(None) inlined (Content-Length unless the status has no body, then
            # Content-Type), and render() too for the stock classes: same body, same header list.
            render = cls.render
            if render is _render_of_response:
                charset = self.charset
                kind = type(content)
                if kind is str:
                    # encode() without an argument goes straight to CPython's UTF-8 encoder (no codec lookup).
                    body: bytes | memoryview = content.encode() if charset == _UTF8 else content.encode(charset)
                elif kind is bytes:
                    body = content
                else:
                    body = self.render(content)
            elif render is _render_of_json:
                body = _json.dumps(content)
                charset = self.charset
            else:
                # A render() of the subclass's own may set the media type or the charset: both are read after it,
                # as init_headers() reads them.
                self.body = body = self.render(content)
                if body is None:  # no body, no Content-Length: init_headers() says how
                    self.init_headers(None)
                    return
                charset = self.charset
            self.body = body
            media = self.media_type
            if media is None:
                content_type = None
            else:
                # The cache probe inlined: this runs for every response.
                content_type = (_utf8_content_types.get(media) if charset == _UTF8 else None) or _content_type_header(
                    media, charset
                )
            # 200 first: it settles the "status has a body" test with one comparison for most responses.
            if status_code == 200 or (status_code >= 200 and status_code != 204 and status_code != 304):
                size = len(body)
                length = _LENGTH_HEADERS[size] if size < _PRERENDERED_LENGTHS else (_CONTENT_LENGTH, b"%d" % size)
                # One list display: cheaper than a list grown by append().
                self.raw_headers = [length] if content_type is None else [length, content_type]
            else:
                self.raw_headers = [] if content_type is None else [content_type]
            return
        self.body = self.render(content)
        self.init_headers(headers)

    def render(self, content: Any) -> bytes | memoryview:
        """The body bytes for ``content``: ``None`` is empty, ``str`` is encoded with ``charset``."""
        if content is None:
            return b""
        if isinstance(content, (bytes, memoryview)):
            return content if type(content) is not memoryview else _byte_view(content)
        # str, or anything else with an encode() method (Starlette's duck typing).
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
                    refuse_header(encoded_name, encoded_value)
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
                    size = len(body)
                    raw.append((_CONTENT_LENGTH, _LENGTH_BYTES[size] if size < _PRERENDERED_LENGTHS else b"%d" % size))

        media_type = self.media_type
        if media_type is not None and add_type:
            raw.append(_content_type_header(media_type, self.charset))

        self.raw_headers = raw

    @property
    def headers(self) -> MutableHeaders:
        """A mutable view of ``raw_headers`` (changes go straight into the list that will be sent)."""
        headers: MutableHeaders | None = self.__dict__.get("_headers")
        raw = self.raw_headers
        if headers is None or headers._list is not raw:
            # What MutableHeaders(raw=raw) makes, without __init__'s keyword dispatch: FastAPI reads this property
            # several times per request (its sub-response and the response it returns).
            headers = _new_object(MutableHeaders)
            headers._list = raw
            self._headers = headers
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
        # In a websocket scope a response is a denial response: its messages take the names of the
        # "websocket.http.response" extension; anything else passes through unchanged.
        async def denial_send(message: Message) -> None:
            renamed = _DENIAL_MESSAGE_TYPES.get(message["type"])
            await send(message if renamed is None else {**message, "type": renamed})

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
_response_init = Response.__init__
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
        # Response.__init__ encodes with _json.dumps when render() is this class's own (without calling it). Called
        # directly for this class, whose method resolution order is fixed; through super() for subclasses, whose
        # order may hold another __init__ before Response's.
        if type(self) is JSONResponse:
            _response_init(self, content, status_code, headers, media_type, background)
        else:
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
        self.body_iterator = content if isinstance(content, AsyncIterable) else iterate_in_threadpool(content)
        self.status_code = status_code
        # Always an instance attribute (the class default, or one a subclass set before calling this).
        self.media_type = media_type if media_type is not None else self.media_type
        self.background = background
        self.init_headers(headers)

    async def listen_for_disconnect(self, receive: Receive) -> None:
        await _wait_for_disconnect(receive)

    async def stream_response(self, send: Send) -> None:
        await send(_start(self.status_code, self.raw_headers))
        charset = self.charset
        async for chunk in self.body_iterator:
            await send(
                {
                    "type": "http.response.body",
                    "body": chunk if isinstance(chunk, (bytes, memoryview)) else chunk.encode(charset),
                    "more_body": True,
                }
            )
        await send(_chunk(b"", False))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.stream_response(self._wrap_websocket_denial_send(send))
        elif not _send_reports_disconnect(scope):
            # Before ASGI 2.4 a disconnect is only visible through receive(): stream and listen side by side.
            await _run_until_first_returns(
                lambda: self.stream_response(send), lambda: self.listen_for_disconnect(receive)
            )
        else:
            # From ASGI 2.4 a send to a client that left raises OSError, reported as ClientDisconnect (with the
            # OSError as its context).
            try:
                await self.stream_response(send)
            except OSError:
                raise ClientDisconnect()
        if self.background is not None:
            await self.background()


async def _run_until_first_returns(main: Callable[[], Awaitable[None]], watcher: Callable[[], Awaitable[None]]) -> None:
    """Run ``main`` in a child task and ``watcher`` here; the first one to return cancels the other."""
    async with create_collapsing_task_group() as task_group:
        stop = task_group.cancel_scope.cancel

        async def main_then_stop() -> None:
            await main()
            stop()

        task_group.start_soon(main_then_stop)
        await watcher()
        stop()


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _start(status: int, headers: list[tuple[bytes, bytes]]) -> Message:
    return {"type": "http.response.start", "status": status, "headers": headers}


def _chunk(data: bytes, more: bool) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": more}


# A whole-file body is read this many bytes per worker-thread round trip (a round trip costs far more than
# copying the bytes) and still sent as ``chunk_size`` messages.
_READ_BATCH_BYTES = 256 * 1024
# Ranges are honoured for these methods only (RFC 9110 §14.2); other methods get the whole representation.
_RANGE_METHODS = ("GET", "HEAD")
# A multi-range body whose ranges add up to at most this many bytes is read in one worker-thread round trip (open,
# every seek and read, close) instead of one per operation; larger ones stream.
_MULTI_RANGE_PREFETCH_BYTES = 256 * 1024
# 13 random bytes for a multipart boundary: about the entropy of the boundaries browsers generate.
_BOUNDARY_BYTES = 13


def _range_error_response(error: MalformedRangeHeader | RangeNotSatisfiable) -> Response:
    if isinstance(error, RangeNotSatisfiable):
        return PlainTextResponse(status_code=416, headers={"Content-Range": f"bytes */{error.max_size}"})
    return PlainTextResponse(error.content, status_code=400)


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
        self.filename = filename
        self.stat_result = stat_result
        self.status_code = status_code
        self.background = background
        if media_type is None:
            media_type = guess_type(filename or path)[0] or "application/octet-stream"
        self.media_type = media_type
        self.init_headers(headers)
        raw = self.raw_headers
        _raw_setdefault(raw, b"accept-ranges", b"bytes")
        if filename is not None:
            # A plain quoted filename when it is URL-safe ASCII, else the RFC 6266 / RFC 8187 encoded form.
            encoded = quote(filename)
            disposition = (
                f'{content_disposition_type}; filename="{filename}"'
                if encoded == filename
                else f"{content_disposition_type}; filename*=utf-8''{encoded}"
            )
            _raw_setdefault(raw, b"content-disposition", disposition.encode("latin-1"))
        if stat_result is not None:
            self.set_stat_headers(stat_result)

    def set_stat_headers(self, stat_result: os.stat_result) -> None:
        """Add Content-Length, Last-Modified and ETag (from size and mtime) unless already present."""
        last_modified, etag = last_modified_and_etag(stat_result)
        raw = self.raw_headers
        _raw_setdefault(raw, _CONTENT_LENGTH, b"%d" % stat_result.st_size)
        _raw_setdefault(raw, b"last-modified", last_modified)
        _raw_setdefault(raw, b"etag", etag)

    async def _stat_now(self, prefetch: bool) -> tuple[os.stat_result, bytes | None]:
        """Stat the file in a worker thread (reading it too when ``prefetch`` and it is small) and set the
        stat headers; a missing path or one that is not a regular file is a programming error."""
        try:
            if prefetch:
                info, data = await anyio.to_thread.run_sync(stat_and_read_small, self.path, self.chunk_size)
            else:
                info, data = await anyio.to_thread.run_sync(os.stat, self.path), None
        except FileNotFoundError:
            raise RuntimeError(f"File at path {self.path} does not exist.")
        self.set_stat_headers(info)
        if not stat.S_ISREG(info.st_mode):
            raise RuntimeError(f"File at path {self.path} is not a file.")
        return info, data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        is_http = kind == "http"
        if kind == "websocket":
            send = self._wrap_websocket_denial_send(send)
        verb: str = scope["method"].upper() if is_http else ""
        only_headers = verb == "HEAD"
        server_sends_file = is_http and "http.response.pathsend" in scope.get("extensions", {})
        wanted, validator = range_request(scope["headers"])
        if wanted is not None and (self.status_code != 200 or (is_http and verb not in _RANGE_METHODS)):
            wanted = None
        whole_body = wanted is None and not only_headers and not server_sends_file

        info = self.stat_result
        in_memory: bytes | None = None
        if info is None:
            info, in_memory = await self._stat_now(prefetch=whole_body)
        elif whole_body and info.st_size < self.chunk_size:
            in_memory = await anyio.to_thread.run_sync(read_small, self.path, 0, self.chunk_size)

        # Before ASGI 2.4 only receive() tells that the client left: watch it while a file body streams.
        watch = is_http and not only_headers and not _send_reports_disconnect(scope)
        transfer: Callable[[], Awaitable[None]]
        if in_memory is not None and len(in_memory) < self.chunk_size:
            # The whole file is in memory: the same two messages the streaming path would send for it.
            await send(_start(self.status_code, self.raw_headers))
            await send(_chunk(in_memory, False))
            transfer = _nothing
        else:
            ranges: list[tuple[int, int]] = []
            if wanted is not None and (validator is None or self._should_use_range(validator)):
                try:
                    ranges = self._parse_range_header(wanted, info.st_size)
                except (MalformedRangeHeader, RangeNotSatisfiable) as error:
                    return await _range_error_response(error)(scope, receive, send)
            if len(ranges) == 1:
                transfer = await self._single_range_transfer(send, *ranges[0], info.st_size, only_headers)
            elif ranges:
                transfer = lambda: self._handle_multiple_ranges(send, ranges, info.st_size, only_headers)  # noqa: E731
            else:
                transfer = lambda: self._handle_simple(send, only_headers, server_sends_file)  # noqa: E731
                watch = watch and not server_sends_file

        if watch and transfer is not _nothing:
            await _run_until_first_returns(transfer, lambda: _wait_for_disconnect(receive))
        else:
            await transfer()
        if self.background is not None:
            await self.background()

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[anyio.AsyncFile[bytes]]:
        # ``anyio.open_file`` is looked up at call time (tests and instrumentation replace it).
        handle = await anyio.open_file(self.path, mode="rb")
        try:
            yield handle
        finally:
            # Closing must complete even when the transfer was cancelled, or the descriptor leaks.
            with anyio.CancelScope(shield=True):
                await handle.aclose()

    async def _handle_simple(self, send: Send, send_header_only: bool, send_pathsend: bool) -> None:
        await send(_start(self.status_code, self.raw_headers))
        if send_header_only:
            await send(_chunk(b"", False))
        elif send_pathsend:
            await send({"type": "http.response.pathsend", "path": str(self.path)})
        else:
            await self._stream_to_end(send)

    async def _stream_to_end(self, send: Send) -> None:
        # Chunks of exactly chunk_size with more_body, then the remainder (possibly empty) without: the sequence
        # a read per chunk gives, from a few large reads.
        size = self.chunk_size
        batch = max(1, _READ_BATCH_BYTES // size) * size
        async with self._open_file() as handle:
            while True:
                data = await handle.read(batch)
                last = len(data) < batch
                cut = len(data) - len(data) % size if last else batch
                for offset in range(0, cut, size):
                    await send(_chunk(data[offset : offset + size], True))
                if last:
                    await send(_chunk(data[cut:], False))
                    return

    def _partial_headers(
        self, content_range: bytes | None, content_type: bytes | None, length: int
    ) -> list[tuple[bytes, bytes]]:
        # A copy: the response's own headers stay those of the full representation for the next call.
        raw = list(self.raw_headers)
        if content_range is not None:
            _raw_set(raw, b"content-range", content_range)
        if content_type is not None:
            _raw_set(raw, _CONTENT_TYPE, content_type)
        _raw_set(raw, _CONTENT_LENGTH, b"%d" % length)
        return raw

    async def _single_range_transfer(
        self, send: Send, start: int, end: int, file_size: int, header_only: bool
    ) -> Callable[[], Awaitable[None]]:
        headers = self._partial_headers(f"bytes {start}-{end - 1}/{file_size}".encode("latin-1"), None, end - start)
        if not header_only and end - start <= self.chunk_size:
            # One read covers the range: it is fetched in a single worker-thread round trip.
            data = await anyio.to_thread.run_sync(read_small, self.path, start, end - start)
            if data is not None:
                await send(_start(206, headers))
                await send(_chunk(data, False))
                return _nothing
        return lambda: self._send_span(send, headers, start, end, header_only)

    async def _send_span(
        self, send: Send, headers: list[tuple[bytes, bytes]], start: int, end: int, header_only: bool
    ) -> None:
        await send(_start(206, headers))
        if header_only:
            await send(_chunk(b"", False))
            return
        size = self.chunk_size
        batch = max(1, _READ_BATCH_BYTES // size) * size
        async with self._open_file() as handle:
            await handle.seek(start)
            position = start
            while True:
                data = await handle.read(min(batch, end - position))
                # Sent as reads of min(chunk_size, remaining) would give it: a piece shorter than chunk_size (the
                # file shrank) or reaching the end closes the body.
                offset = 0
                while True:
                    piece = data[offset : offset + size]
                    offset += len(piece)
                    position += len(piece)
                    more = len(piece) == size and position < end
                    await send(_chunk(piece, more))
                    if not more:
                        return
                    if offset >= len(data):
                        break

    async def _handle_multiple_ranges(
        self,
        send: Send,
        ranges: list[tuple[int, int]],
        file_size: int,
        send_header_only: bool,
    ) -> None:
        boundary = token_hex(_BOUNDARY_BYTES)
        own_type = _raw_get(self.raw_headers, _CONTENT_TYPE)
        if own_type is None:
            raise KeyError("content-type")
        length, part_header = self.generate_multipart(ranges, boundary, file_size, own_type.decode("latin-1"))
        multipart_type = f"multipart/byteranges; boundary={boundary}".encode("latin-1")
        await send(_start(206, self._partial_headers(None, multipart_type, length)))
        if send_header_only:
            await send(_chunk(b"", False))
            return
        size = self.chunk_size
        if sum(end - first for first, end in ranges) <= _MULTI_RANGE_PREFETCH_BYTES:
            spans = await anyio.to_thread.run_sync(read_ranges, self.path, ranges, size)
            if spans is not None:
                # The same messages the streaming loop below sends, from bytes already in memory.
                for (first, end), pieces in zip(ranges, spans, strict=True):
                    await send(_chunk(part_header(first, end), True))
                    for piece in pieces:
                        await send(_chunk(piece, True))
                    await send(_chunk(b"\r\n", True))
                await send(_chunk(b"--%s--" % boundary.encode("latin-1"), False))
                return
        async with self._open_file() as handle:
            for first, end in ranges:
                await send(_chunk(part_header(first, end), True))
                await handle.seek(first)
                remaining = end - first
                while remaining > 0:
                    data = await handle.read(min(size, remaining))
                    if not data:
                        raise RuntimeError(f"File at path {self.path} is shorter than expected.")
                    remaining -= len(data)
                    await send(_chunk(data, True))
                await send(_chunk(b"\r\n", True))
            await send(_chunk(b"--%s--" % boundary.encode("latin-1"), False))

    def _should_use_range(self, http_if_range: str) -> bool:
        # A weak validator never matches for If-Range (RFC 9110 §13.1.5); a strong one must be the current ETag
        # or Last-Modified date.
        if http_if_range[:2] == "W/":
            return False
        for name in ("last-modified", "etag"):
            current = _raw_get(self.raw_headers, name.encode("latin-1"))
            if current is None:
                raise KeyError(name)
            if current.decode("latin-1") == http_if_range:
                return True
        return False

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


async def _nothing() -> None:
    """A transfer that is already complete."""
