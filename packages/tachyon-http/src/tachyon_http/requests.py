"""The incoming side of an ASGI HTTP connection: ``HTTPConnection`` and ``Request``.

Everything derived from the scope (headers, URL, query parameters, cookies, state) is built on first
access and cached, so a handler that looks at none of it pays nothing for it.
"""

from __future__ import annotations

# `json` stays in this module's namespace as in Starlette's (code reaches `starlette.requests.json`).
import json  # noqa: F401
import re
import sys
from collections.abc import AsyncGenerator, Iterator, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Generic, NoReturn, cast

import anyio

from tachyon_http._json import loads as _json_loads
from tachyon_http._utils import AwaitableOrContextManager, AwaitableOrContextManagerWrapper
from tachyon_http.datastructures import URL, Address, FormData, Headers, QueryParams, State
from tachyon_http.exceptions import HTTPException
from tachyon_http.formparsers import (
    DEFAULT_MAX_FIELDS,
    DEFAULT_MAX_FILES,
    DEFAULT_MAX_PART_SIZE,
    FormParser,
    MultiPartException,
    MultiPartParser,
    parse_options_header,
)
from tachyon_http.types import Message, Receive, Scope, Send

if sys.version_info < (3, 13):
    from typing_extensions import TypeVar
else:
    from typing import TypeVar

if TYPE_CHECKING:
    from tachyon_http.datastructures import URLPath

__all__ = [
    "SERVER_PUSH_HEADERS_TO_COPY",
    "ClientDisconnect",
    "HTTPConnection",
    "Request",
    "cookie_parser",
    "empty_receive",
    "empty_send",
]

# Request headers worth repeating on an HTTP/2 server push (they shape the pushed response).
SERVER_PUSH_HEADERS_TO_COPY = {
    "accept",
    "accept-encoding",
    "accept-language",
    "cache-control",
    "user-agent",
}

# Escapes inside a quoted cookie value: `\ooo` (octal, as Python's http.cookies writes them) or `\x`.
# One regex pass keeps unquoting linear (a loop of str.find calls was quadratic: CVE-2024-7592).
_COOKIE_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))")


def _cookie_unescape(match: re.Match[str]) -> str:
    octal = match.group(1)
    if octal is not None:
        return chr(int(octal, 8))
    return match.group(2)


def _unquote_cookie(value: str) -> str:
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    inner = value[1:-1]
    if "\\" not in inner:
        return inner
    return _COOKIE_ESCAPE.sub(_cookie_unescape, inner)


def cookie_parser(cookie_string: str) -> dict[str, str]:
    """Parse a ``Cookie`` header the way browsers and servers actually behave, not strictly by RFC 6265.

    Pairs are split on ``;``; a chunk without ``=`` is a value with an empty name; surrounding whitespace is
    dropped; double-quoted values are unquoted; a later duplicate name wins. Never raises.
    """
    jar: dict[str, str] = {}
    for piece in cookie_string.split(";"):
        name, equals, value = piece.partition("=")
        if not equals:
            # Browsers treat a bare token as a value with an empty name.
            name, value = "", name
        name = name.strip()
        value = value.strip()
        if name or value:
            jar[name] = _unquote_cookie(value) if value[:1] == '"' else value
    return jar


class ClientDisconnect(Exception):
    """The client went away before the request body was read completely."""


_new_object = object.__new__

StateT = TypeVar("StateT", bound=Mapping[str, Any] | State, default=State)
_CONNECTION_TYPES = ("http", "websocket")


class HTTPConnection(Mapping[str, Any], Generic[StateT]):
    """What HTTP requests and WebSocket connections have in common; also a read-only view of the scope."""

    # Caches, filled on first access. Class-level defaults so that creating a connection costs no attribute
    # writes for properties the handler never reads.
    _url: URL | None = None
    _base_url: URL | None = None
    _headers: Headers | None = None
    _query_params: QueryParams | None = None
    _cookies: dict[str, str] | None = None
    _state: State | None = None

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        assert scope["type"] in _CONNECTION_TYPES
        self.scope = scope

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)

    # Two connections are never equal unless they are the same object (Mapping's __eq__ would compare
    # scopes), and connections stay hashable.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def app(self) -> Any:
        return self.scope["app"]

    @property
    def url(self) -> URL:
        url = self._url
        if url is None:
            url = self._url = URL(scope=self.scope)
        return url

    @property
    def base_url(self) -> URL:
        base_url = self._base_url
        if base_url is None:
            scope = self.scope
            # url_for must resolve from the application's root even inside a Mount, whose child scope has its
            # own root_path.
            app_root_path = scope.get("app_root_path", scope.get("root_path", ""))
            path = app_root_path if app_root_path.endswith("/") else app_root_path + "/"
            base_scope = dict(scope)
            base_scope["path"] = path
            base_scope["query_string"] = b""
            base_scope["root_path"] = app_root_path
            base_url = self._base_url = URL(scope=base_scope)
        return base_url

    @property
    def headers(self) -> Headers:
        headers = self._headers
        if headers is None:
            raw = self.scope["headers"]
            if type(raw) is list:
                # What Headers(scope=...) does for a list (a read-only view over it, no copy), without the
                # keyword-argument dispatch of __init__: this runs on most requests.
                headers = _new_object(Headers)
                headers._list = raw
            else:
                headers = Headers(scope=self.scope)
            self._headers = headers
        return headers

    @property
    def query_params(self) -> QueryParams:
        params = self._query_params
        if params is None:
            query_string = self.scope["query_string"]
            if query_string:
                params = QueryParams(query_string)
            else:
                # What QueryParams(b"") makes; FastAPI reads the query parameters of every request, most have none.
                params = _new_object(QueryParams)
                params._list = []
                params._dict = {}
            self._query_params = params
        return params

    @property
    def path_params(self) -> dict[str, Any]:
        params: dict[str, Any] = self.scope.get("path_params", {})
        return params

    @property
    def cookies(self) -> dict[str, str]:
        cookies = self._cookies
        if cookies is None:
            # Several Cookie headers (HTTP/2 allows it) are merged; later ones win.
            cookies = {}
            # The raw pairs scanned directly (what headers.getlist("cookie") reads): FastAPI asks every request.
            for name, value in self.headers._list:
                if name == b"cookie":
                    cookies |= cookie_parser(value.decode("latin-1"))
            self._cookies = cookies
        return cookies

    @property
    def client(self) -> Address | None:
        client = self.scope.get("client")
        if client is None:
            return None
        return Address(*client)

    def _installed_by(self, key: str, middleware: str) -> Any:
        # The key is put in the scope by a middleware; without it, say which one is missing.
        try:
            return self.scope[key]
        except KeyError:
            raise AssertionError(f"{middleware} must be installed to access request.{key}") from None

    @property
    def session(self) -> dict[str, Any]:
        session: dict[str, Any] = self._installed_by("session", "SessionMiddleware")
        # Sessions that track reads (to add `Vary: Cookie`) are told about this one; other session
        # implementations are used as plain dicts.
        mark_accessed = getattr(session, "mark_accessed", None)
        if mark_accessed is not None:
            mark_accessed()
        return session

    @property
    def auth(self) -> Any:
        return self._installed_by("auth", "AuthenticationMiddleware")

    @property
    def user(self) -> Any:
        return self._installed_by("user", "AuthenticationMiddleware")

    @property
    def state(self) -> StateT:
        state = self._state
        if state is None:
            # The State object writes through to the scope's dict, so middleware and the handler share it.
            state = self._state = State(self.scope.setdefault("state", {}))
        return cast(StateT, state)

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        provider = self.scope.get("router") or self.scope.get("app")
        if provider is None:
            raise RuntimeError("The `url_for` method can only be used inside a Starlette application or with a router.")
        path: URLPath = provider.url_path_for(name, **path_params)
        return path.make_absolute_url(self.base_url)


async def empty_receive() -> NoReturn:
    raise RuntimeError("Receive channel has not been made available")


async def empty_send(message: Message) -> NoReturn:
    raise RuntimeError("Send channel has not been made available")


_MISSING: Any = object()
_FORM_URLENCODED = b"application/x-www-form-urlencoded"
_FORM_MULTIPART = b"multipart/form-data"


class Request(HTTPConnection[StateT]):
    """An HTTP request: the scope plus the body, read through ``receive``."""

    # Set once read; absent before (middleware checks `getattr(request, "_body", None)`).
    _body: bytes
    _json: Any

    # Defaults live on the class: a request that never touches its body costs no writes for them.
    _stream_consumed = False
    _is_disconnected = False
    _form: FormData | None = None

    def __init__(self, scope: Scope, receive: Receive = empty_receive, send: Send = empty_send) -> None:
        assert scope["type"] == "http"
        self.scope = scope
        self._receive = receive
        self._send = send

    @property
    def method(self) -> str:
        method: str = self.scope["method"]
        return method

    @property
    def receive(self) -> Receive:
        return self._receive

    async def stream(self) -> AsyncGenerator[bytes, None]:
        """Yield the body as it arrives (then one final ``b""``); raise ClientDisconnect if the client leaves."""
        cached = getattr(self, "_body", _MISSING)
        if cached is not _MISSING:
            yield cached
        else:
            if self._stream_consumed:
                raise RuntimeError("Stream consumed")
            receive = self._receive
            # The flag, not a local, ends the loop: several stream() generators may share one request, and
            # whichever reads the last message ends all of them.
            while not self._stream_consumed:
                message = await receive()
                kind = message["type"]
                if kind == "http.request":  # tested first: all but the last message of a request are bodies
                    if not message.get("more_body", False):
                        self._stream_consumed = True
                    chunk = message.get("body", b"")
                    if chunk:
                        yield chunk
                elif kind == "http.disconnect":
                    self._is_disconnected = True
                    raise ClientDisconnect()
        yield b""

    async def body(self) -> bytes:
        # getattr with a default, not try/except: a miss (every first call) then raises no AttributeError, whose
        # creation would cost more than reading a small body.
        cached: bytes = getattr(self, "_body", _MISSING)
        if cached is not _MISSING:
            return cached
        if type(self).stream is not _stream_of_request:
            # A subclass that reshapes the stream must see its stream() used, as Starlette's body() does.
            async with aclosing(self.stream()) as chunks:
                received = [chunk async for chunk in chunks]
            self._body = body = b"".join(received)
            return body
        # stream()'s loop without the async generator (its creation, one resumption per chunk and the aclosing
        # context cost more than receiving a small body): same messages read, same flags set, same errors.
        if self._stream_consumed:
            raise RuntimeError("Stream consumed")
        receive = self._receive
        pieces: list[bytes] = []
        # The flag ends the loop, as in stream(): a stream() running alongside may read the last message.
        while not self._stream_consumed:
            message = await receive()
            kind = message["type"]
            if kind == "http.request":
                chunk = message.get("body", b"")
                if chunk:
                    pieces.append(chunk)
                if not message.get("more_body", False):
                    self._stream_consumed = True
            elif kind == "http.disconnect":
                self._is_disconnected = True
                raise ClientDisconnect()
        # One exact-bytes piece is returned as it is by join (no copy of a large single-message body).
        self._body = body = b"".join(pieces)
        return body

    async def json(self) -> Any:
        cached = getattr(self, "_json", _MISSING)
        if cached is not _MISSING:
            return cached
        value = _json_loads(await self.body())
        self._json = value
        return value

    async def _get_form(
        self,
        *,
        max_files: int | float = DEFAULT_MAX_FILES,
        max_fields: int | float = DEFAULT_MAX_FIELDS,
        max_part_size: int = DEFAULT_MAX_PART_SIZE,
    ) -> FormData:
        if self._form is not None:
            return self._form
        content_type, _ = parse_options_header(self.headers.get("content-type"))
        if content_type != _FORM_MULTIPART and content_type != _FORM_URLENCODED:
            self._form = FormData()
            return self._form
        try:
            if content_type == _FORM_URLENCODED and type(self).stream is _stream_of_request:
                self._form = await self._parse_urlencoded(max_fields, max_part_size)
                return self._form
            async with aclosing(self.stream()) as stream:
                parser: FormParser | MultiPartParser
                if content_type == _FORM_MULTIPART:
                    parser = MultiPartParser(
                        self.headers, stream, max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
                    )
                else:
                    parser = FormParser(self.headers, stream, max_fields=max_fields, max_part_size=max_part_size)
                self._form = await parser.parse()
        except MultiPartException as error:
            # Inside an application the client gets a 400 with the reason; a bare Request (no app in the
            # scope) lets the caller handle the exception.
            if "app" not in self.scope:
                raise
            raise HTTPException(status_code=400, detail=error.message) from error
        return self._form

    async def _parse_urlencoded(self, max_fields: int | float, max_part_size: int) -> FormData:
        # FormParser fed by stream()'s loop without the async generator (its creation, a resumption per chunk and
        # the aclosing context cost more than parsing a small form): the same messages read, the same flags set
        # (before the chunk is parsed, as stream() sets them before yielding it), the same errors, chunk by chunk.
        parser = FormParser(self.headers, _NO_STREAM, max_fields=max_fields, max_part_size=max_part_size)
        cached = getattr(self, "_body", _MISSING)
        if cached is not _MISSING:
            parser.feed(cached)
            return parser.finish()
        if self._stream_consumed:
            raise RuntimeError("Stream consumed")
        receive = self._receive
        while not self._stream_consumed:
            message = await receive()
            kind = message["type"]
            if kind == "http.request":
                if not message.get("more_body", False):
                    self._stream_consumed = True
                parser.feed(message.get("body", b""))
            elif kind == "http.disconnect":
                self._is_disconnected = True
                raise ClientDisconnect()
        return parser.finish()

    def form(
        self,
        *,
        max_files: int | float = DEFAULT_MAX_FILES,
        max_fields: int | float = DEFAULT_MAX_FIELDS,
        max_part_size: int = DEFAULT_MAX_PART_SIZE,
    ) -> AwaitableOrContextManager[FormData]:
        """Parse the body as a form; await it, or use ``async with`` to close uploaded files afterwards."""
        parsing = self._get_form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)
        return AwaitableOrContextManagerWrapper(parsing)

    async def close(self) -> None:
        if self._form is not None:
            await self._form.close()

    async def is_disconnected(self) -> bool:
        """Whether a disconnect message is waiting (or was seen); never blocks."""
        if self._is_disconnected:
            return True
        polled: Message = {}
        # A cancelled scope turns the receive into a poll: it returns only if a message is ready.
        with anyio.CancelScope() as poll:
            poll.cancel()
            polled = await self._receive()
        if polled.get("type") == "http.disconnect":
            self._is_disconnected = True
        return self._is_disconnected

    async def send_push_promise(self, path: str) -> None:
        """Ask the server to push ``path`` (HTTP/2 server push), if it supports the extension."""
        if "http.response.push" not in self.scope.get("extensions", {}):
            return
        headers = self.headers
        copied = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name in SERVER_PUSH_HEADERS_TO_COPY
            for value in headers.getlist(name)
        ]
        await self._send({"type": "http.response.push", "path": path, "headers": copied})

    async def send_early_hints(self, link: str, /, *additional_links: str) -> None:
        """Send a 103 Early Hints response with ``Link`` values, if the server supports the extension."""
        if "http.response.early_hint" not in self.scope.get("extensions", {}):
            return
        links = [value.encode("latin-1") for value in (link, *additional_links)]
        await self._send({"type": "http.response.early_hint", "links": links})


_stream_of_request = Request.stream


async def _no_stream() -> AsyncGenerator[bytes, None]:  # pragma: no cover - never iterated
    yield b""


# The stream argument of a FormParser that is fed chunk by chunk (Request._parse_urlencoded), never iterated.
_NO_STREAM = _no_stream()
