"""Compress response bodies with gzip when the client accepts it."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Generator
from typing import NoReturn

import anyio
import anyio.lowlevel
import anyio.to_thread
from tachyon_http._header_check import check_header
from tachyon_http._shared import CacheBound
from tachyon_http.types import ASGIApp, Message, Receive, Scope, Send

from tachyon.middleware._raw_headers import add_vary, delete_raw, set_raw

__all__ = ["DEFAULT_EXCLUDED_CONTENT_TYPES", "GZipMiddleware", "GZipResponder", "IdentityResponder"]

# Media types that are already compressed (or must be delivered unbuffered, like event streams and gRPC):
# gzipping them costs CPU for nothing or breaks the protocol. "type/*" entries match a whole family.
DEFAULT_EXCLUDED_CONTENT_TYPES = (
    "application/grpc",
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "audio/*",
    "font/woff",
    "font/woff2",
    "image/avif",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/event-stream",
    "video/*",
)

# Bodies at least this large are compressed in a worker thread, so a big response does not stall the loop.
DEFAULT_THREAD_MINIMUM_SIZE = 128 * 1024
# Same concurrency as anyio's default thread limiter, but a separate pool: compression must not starve
# run_in_threadpool (and the reverse).
_GZIP_THREAD_LIMIT = 40
# gzip container (wbits offset 16) rather than raw zlib, since the header says "gzip".
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_PARTIAL_CONTENT = 206
# zlib's levels: -1 is its default (6), 0 stores without compressing, 9 is the smallest output.
_MIN_LEVEL, _MAX_LEVEL = -1, 9

_START = "http.response.start"
_BODY = "http.response.body"
_PATHSEND = "http.response.pathsend"
_FORWARDED_AS_IS = frozenset(("http.response.early_hint", "http.response.trailers"))

_thread_limiter: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar("tachyon_gzip_limiter")


def _compression_limiter() -> anyio.CapacityLimiter:
    """One limiter per event loop (a RunVar), created on first use."""
    try:
        return _thread_limiter.get()
    except LookupError:
        created = anyio.CapacityLimiter(_GZIP_THREAD_LIMIT)
        _thread_limiter.set(created)
        return created


class _NormalizedTypes(frozenset[str]):
    """Media types already normalised (parameters dropped, lowered): handed to responders as they are."""


# Normalised exclusion sets by the tuple given: responders built directly (not by the middleware) usually get the
# same tuple each time. The tuples come from code; the size of a key is the number of its characters.
_normalized: dict[tuple[str, ...], frozenset[str]] = {}
_NORMALIZED_BOUND = CacheBound(64, 4096)


def _normalize_content_types(content_types: tuple[str, ...]) -> frozenset[str]:
    normalized = _normalized.get(content_types)
    if normalized is None:
        normalized = _NormalizedTypes(item.partition(";")[0].strip().lower() for item in content_types)
        size = sum(len(item) for item in content_types)
        _NORMALIZED_BOUND.keep(_normalized, content_types, normalized, size)
    return normalized


# Verdicts by (Content-Type value, exclusion set): an application sends few distinct content types. They usually
# come from code, but one may be echoed from a request, so only values of an honest length (128 bytes) are kept.
_verdicts: dict[tuple[bytes, frozenset[str]], bool] = {}
_VERDICT_BOUND = CacheBound(256, 128)


def _is_excluded(content_type: bytes, excluded: frozenset[str]) -> bool:
    verdict = _verdicts.get((content_type, excluded))
    if verdict is None:
        verdict = _classify_content_type(content_type, excluded)
        _VERDICT_BOUND.keep(_verdicts, (content_type, excluded), verdict, len(content_type))
    return verdict


def _classify_content_type(content_type: bytes, excluded: frozenset[str]) -> bool:
    media_type = content_type.decode("latin-1").partition(";")[0].strip().lower()
    family = media_type.partition("/")[0] + "/*"
    if media_type in excluded or family in excluded:
        return True
    # gRPC variants ("application/grpc+proto") are gRPC all the same.
    return media_type.startswith("application/grpc+") and "application/grpc" in excluded


def _encoding_value(content_encoding: str) -> bytes:
    """The responder's ``content_encoding`` as a header value, refused as ``MutableHeaders`` would refuse it."""
    value = content_encoding.encode("latin-1")
    check_header(b"content-encoding", value)
    return value


def _accepts_gzip(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            # Substring test on the first Accept-Encoding, as in Starlette: "gzip;q=1.0" counts.
            return b"gzip" in value
    return False


class GZipMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 9,
        thread_minimum_size: int = DEFAULT_THREAD_MINIMUM_SIZE,
        *,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        if not _MIN_LEVEL <= compresslevel <= _MAX_LEVEL:
            # zlib would only complain on the first large response; say so at start-up instead.
            raise ValueError(f"compresslevel must be between {_MIN_LEVEL} and {_MAX_LEVEL}, got {compresslevel!r}")
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self.exclude_content_types = tuple(exclude_content_types)
        # Normalised once here; the responders built per request take the set as it is.
        self._excluded = _normalize_content_types(self.exclude_content_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover
            await self.app(scope, receive, send)
            return
        responder = (
            GZipResponder(
                self.app,
                self.minimum_size,
                self.compresslevel,
                thread_minimum_size=self.thread_minimum_size,
                exclude_content_types=self._excluded,
            )
            if _accepts_gzip(scope)
            else IdentityResponder(self.app, self.minimum_size, exclude_content_types=self._excluded)
        )
        await responder(scope, receive, send)


class IdentityResponder:
    """Holds back ``http.response.start`` until the first body chunk shows whether encoding applies.

    The identity variant never changes the body, but still adds ``Vary: Accept-Encoding`` when a
    gzip-capable client would have been answered differently.
    """

    content_encoding: str

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int,
        *,
        exclude_content_types: tuple[str, ...] | frozenset[str] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.exclude_content_types = (
            exclude_content_types
            if type(exclude_content_types) is _NormalizedTypes
            else _normalize_content_types(tuple(exclude_content_types))
        )
        self.send: Send = unattached_send
        self.initial_message: Message = {}
        self.started = False
        self.content_encoding_set = False
        self.content_type_is_excluded = False
        self.partial_response = False
        self._untouched = False  # decided at response start: relay everything unchanged

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.send = send
        await self.app(scope, receive, self.send_with_compression)

    def send_with_compression(self, message: Message) -> Awaitable[None]:
        # A plain method returning the awaitable to await: the start message and what is relayed unchanged cost no
        # coroutine of their own (this sits on every response); a body that is worked on gets one.
        kind = message["type"]
        if kind == _START:
            return self.send(message) if self._hold_start(message) else _SENT
        if kind == _BODY or kind == _PATHSEND:
            return self.send(message) if self._untouched else self._send_body(kind, message)
        if kind in _FORWARDED_AS_IS:
            return self.send(message)
        return _SENT

    def _hold_start(self, message: Message) -> bool:
        """Keep the start message until the first body chunk; whether to relay everything unchanged instead."""
        message["headers"] = raw = list(message.get("headers", ()))
        self.initial_message = message
        content_type = b""
        for name, value in raw:
            if name == b"content-encoding":
                self.content_encoding_set = True
            elif name == b"content-type" and not content_type:
                content_type = value
        self.partial_response = message["status"] == _PARTIAL_CONTENT
        self.content_type_is_excluded = _is_excluded(content_type, self.exclude_content_types)
        self._untouched = self.content_encoding_set or self.partial_response or self.content_type_is_excluded
        return self._untouched

    async def _send_body(self, kind: str, message: Message) -> None:
        if kind == _PATHSEND:
            # A server-side file send cannot be re-encoded here: pass it on untouched.
            await self.send(self.initial_message)
            await self.send(message)
            return
        if self.started:
            more = message.get("more_body", False)
            message["body"] = await self.apply_compression(message.get("body", b""), more_body=more)
            await self.send(message)
            return
        self.started = True
        chunk = message.get("body", b"")
        streaming = message.get("more_body", False)
        if streaming or len(chunk) >= self.minimum_size:
            encoded = await self.apply_compression(chunk, more_body=streaming)
            # The list _hold_start copied: edited in place, as MutableHeaders(raw=...) would.
            raw = self.initial_message["headers"]
            add_vary(raw, b"Accept-Encoding")
            if encoded != chunk:
                set_raw(raw, b"content-encoding", _encoding_value(self.content_encoding))
                if streaming or self.initial_message.get("trailers", False):
                    # The final length is unknown until the stream ends (or trailers follow): chunked instead.
                    delete_raw(raw, b"content-length")
                else:
                    set_raw(raw, b"content-length", b"%d" % len(encoded))
                message["body"] = encoded
        # else: too small to be worth it; Vary is left alone too, as in Starlette.
        await self.send(self.initial_message)
        await self.send(message)

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        """Encode one body chunk; ``more_body=False`` finishes the stream. Identity: unchanged."""
        return body


class GZipResponder(IdentityResponder):
    content_encoding = "gzip"

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int,
        compresslevel: int = 9,
        *,
        thread_minimum_size: int = DEFAULT_THREAD_MINIMUM_SIZE,
        exclude_content_types: tuple[str, ...] | frozenset[str] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        super().__init__(app, minimum_size, exclude_content_types=exclude_content_types)
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self._encoder: zlib._Compress | None = None

    @property
    def compressor(self) -> zlib._Compress:
        # Created lazily: small or excluded responses never pay for a compressor's buffers.
        encoder = self._encoder
        if encoder is None:
            encoder = self._encoder = zlib.compressobj(self.compresslevel, zlib.DEFLATED, _GZIP_WBITS)
        return encoder

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        if len(body) < self.thread_minimum_size:
            return self._encode(body, more_body)
        limiter = _compression_limiter()
        return await anyio.to_thread.run_sync(self._encode, body, more_body, limiter=limiter)

    def _encode(self, body: bytes, more_body: bool) -> bytes:
        encoder = self.compressor
        head = encoder.compress(body) if body else b""
        # A sync flush after each streamed chunk lets the client decode it at once (server-sent data).
        return head + encoder.flush(zlib.Z_SYNC_FLUSH if more_body else zlib.Z_FINISH)


class _Sent:
    """An awaitable that is already done: what awaiting a message this responder holds back (or drops) yields."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        return iter(())  # type: ignore[return-value]


_SENT = _Sent()


async def unattached_send(message: Message) -> NoReturn:
    raise RuntimeError("send awaitable not set")  # pragma: no cover
