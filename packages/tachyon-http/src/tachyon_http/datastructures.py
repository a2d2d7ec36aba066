"""Value types for ASGI HTTP: URL, headers, query strings, multidicts, uploads, state.

Public names and observable behaviour follow ``starlette.datastructures`` (Starlette 1.10.0).
"""

from __future__ import annotations

import ipaddress
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, MutableMapping, Sequence, ValuesView
from operator import itemgetter
from shlex import shlex
from typing import Any, BinaryIO, Literal, NamedTuple, TypeVar
from urllib.parse import SplitResult, quote, unquote, urlencode, urlsplit, urlunsplit

from tachyon_http._cache import CacheBound
from tachyon_http._header_check import check_header
from tachyon_http._utils import parse_host_header
from tachyon_http.concurrency import run_in_threadpool
from tachyon_http.types import Scope

__all__ = [
    "URL",
    "Address",
    "CommaSeparatedStrings",
    "FormData",
    "Headers",
    "ImmutableMultiDict",
    "MultiDict",
    "MutableHeaders",
    "QueryParams",
    "Secret",
    "State",
    "URLPath",
    "UploadFile",
]


class Address(NamedTuple):
    host: str
    port: int


_K = TypeVar("_K")
# Read-only mappings may be covariant in their values (nothing can be written through them).
_V_co = TypeVar("_V_co", covariant=True)

_Pairs = list[tuple[str, str]]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_SECURE_SCHEMES = frozenset(("https", "wss"))
_NETLOC_PARTS = frozenset(("username", "password", "hostname", "port"))
_URL_PATH_PROTOCOLS = ("http", "websocket", "")
_KEY = itemgetter(0)

# Characters of a raw query string kept as they are when it has to be re-encoded because it is not valid
# UTF-8 (everything printable in ASCII; the other bytes become %XX, which keeps their meaning).
_QUERY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def _has_split_sensitive(text: str) -> bool:
    # urlsplit() deletes tab, CR and LF anywhere in a URL; their presence rules out taking the components as
    # they are. (`#` in the path is already escaped; the query is checked for it separately.)
    return "\t" in text or "\r" in text or "\n" in text


def _escape_path(path: str) -> str:
    # An ASGI path is already decoded. `?`, `#` and `\` in it would start the query, the fragment or (for
    # WHATWG parsers) a new authority once the URL is rebuilt as a string, so they are percent-encoded.
    if "?" in path or "#" in path or "\\" in path:
        path = path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    return path


def _decode_query(query_string: bytes) -> str:
    try:
        return query_string.decode()
    except UnicodeDecodeError:
        # Servers pass the raw bytes through; a client may send bytes that are not UTF-8. Percent-encode them
        # instead of failing the whole request.
        return quote(query_string, safe=_QUERY_SAFE)


def _parse_query(query: str) -> list[tuple[str, str]]:
    # Same result as urllib.parse.parse_qsl(query, keep_blank_values=True) (`&`-separated, `+` is a space,
    # percent-decoding as UTF-8 with replacement), minus its generic overhead: unquote() only runs on pieces
    # that contain a `%`.
    pairs: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = unquote(name)
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value)
        pairs.append((name, value))
    return pairs


# Validated Host headers, by raw value (None = malformed). Clients send the same few hosts over and over, so
# validation runs once per distinct value. Bounded in count (a client cycling through random hosts only forces
# the cache to be rebuilt, never to grow) and in entry size: a value longer than any honest client sends (a
# 255-character name, a colon and a 5-digit port) is validated on every request and never kept, so that huge
# Host headers (servers accept MiB of them; a port may carry any number of leading zeros) cannot pin memory.
MAX_CACHED_HOST_HEADERS = 512
MAX_CACHED_HOST_HEADER_LENGTH = 255 + 1 + 5
_host_header_cache: dict[bytes, str | None] = {}
_HOST_HEADER_BOUND = CacheBound(MAX_CACHED_HOST_HEADERS, MAX_CACHED_HOST_HEADER_LENGTH)


def _netloc_from_host_header(raw: bytes) -> str | None:
    try:
        return _host_header_cache[raw]
    except KeyError:
        pass
    parsed = parse_host_header(raw.decode("latin-1"))
    # A malformed Host header is ignored (it could otherwise rewrite the URL): the caller falls back to the
    # server address.
    netloc = parsed.authority if parsed is not None and parsed.is_valid_port else None
    return _HOST_HEADER_BOUND.keep(_host_header_cache, raw, netloc, len(raw))


def _netloc_from_server(server: tuple[str, int], scheme: str) -> str:
    server_host, server_port = server
    if ":" in server_host and server_host[:1] != "[":
        server_host = "[" + server_host + "]"  # an IPv6 literal
    if server_port == _DEFAULT_PORTS.get(scheme):
        return server_host
    return f"{server_host}:{server_port}"


def _bracket_if_ipv6(host: str) -> str:
    if ":" not in host or host[:1] == "[":
        return host
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return host
    return "[" + host + "]"


def _stringify(pairs: Iterable[tuple[Any, Any]]) -> _Pairs:
    return [(str(name), str(value)) for name, value in pairs]


def _url_from_scope(scope: Scope) -> tuple[str, tuple[str, str, str, str] | None]:
    """The request URL, and its components when they are known without re-parsing the string."""
    scheme: str = scope.get("scheme", "http")
    path = _escape_path(scope["path"])
    query = _decode_query(scope.get("query_string", b""))

    host_header = next((raw for name, raw in scope["headers"] if name == b"host"), None)
    netloc = None if host_header is None else _netloc_from_host_header(host_header)
    from_host_header = netloc is not None
    if netloc is None and scope.get("server") is not None:
        netloc = _netloc_from_server(scope["server"], scheme)

    if netloc is None:
        if path[:2] == "//":
            # With no authority in front, a leading `//` would be read back as one.
            path = "/%2F" + path[2:]
        return (f"{path}?{query}" if query else path), None
    if not (scheme and netloc):
        return SplitResult(scheme, netloc, path, query, "").geturl(), None

    if path and path[0] != "/":
        # Keep a path like `@evil.com` from joining the authority.
        path = "/" + path
    url = f"{scheme}://{netloc}{path}"
    if query:
        url = f"{url}?{query}"
    # urlsplit() of this string would give back exactly these parts when the scheme is a lower-case known one,
    # the authority is a validated (ASCII) Host header, the path starts with "/", and nothing contains a
    # character urlsplit strips or splits on. Then the parse is skipped.
    if (
        from_host_header
        and scheme in _DEFAULT_PORTS
        and (not path or path[0] == "/")
        and not _has_split_sensitive(path)
        and (not query or (not _has_split_sensitive(query) and "#" not in query))
    ):
        return url, (scheme, netloc, path, query)
    return url, None


class URL:
    """A URL string with lazily parsed components; compares equal to its string form."""

    __slots__ = ("_components", "_parts", "_url")

    _url: str
    _components: SplitResult | None
    # (scheme, netloc, path, query) when known from the scope; the fragment is then "".
    _parts: tuple[str, str, str, str] | None

    def __init__(self, url: str = "", scope: Scope | None = None, **components: Any) -> None:
        self._components = None
        if scope is not None:
            assert not url, 'Cannot set both "url" and "scope".'
            assert not components, 'Cannot set both "scope" and "**components".'
            self._url, self._parts = _url_from_scope(scope)
            return
        if components:
            assert not url, 'Cannot set both "url" and "**components".'
            # Round-trip through urlsplit so the string is normalised the same way as any parsed URL.
            url = urlunsplit(urlsplit(URL("").replace(**components)._url))
        self._url = url
        self._parts = None

    @property
    def components(self) -> SplitResult:
        components = self._components
        if components is None:
            parts = self._parts
            if parts is None:
                components = urlsplit(self._url)
            else:
                components = SplitResult(*parts, "")
            self._components = components
        return components

    @property
    def scheme(self) -> str:
        parts = self._parts
        return self.components.scheme if parts is None else parts[0]

    @property
    def netloc(self) -> str:
        parts = self._parts
        return self.components.netloc if parts is None else parts[1]

    @property
    def path(self) -> str:
        parts = self._parts
        return self.components.path if parts is None else parts[2]

    @property
    def query(self) -> str:
        parts = self._parts
        return self.components.query if parts is None else parts[3]

    @property
    def fragment(self) -> str:
        return self.components.fragment if self._parts is None else ""

    # userinfo, host and port are rarely needed: they always go through the parsed components.
    @property
    def username(self) -> str | None:
        return self.components.username

    @property
    def password(self) -> str | None:
        return self.components.password

    @property
    def hostname(self) -> str | None:
        return self.components.hostname

    @property
    def port(self) -> int | None:
        return self.components.port

    @property
    def is_secure(self) -> bool:
        return self.scheme in _SECURE_SCHEMES

    def replace(self, **kwargs: Any) -> URL:
        """A copy with some components replaced: any of SplitResult's fields, or hostname/port/username/password."""
        if not _NETLOC_PARTS.isdisjoint(kwargs):
            host: str | None = kwargs.pop("hostname", None)
            port = kwargs.pop("port", self.port)
            user = kwargs.pop("username", self.username)
            secret = kwargs.pop("password", self.password)
            kwargs["netloc"] = self._rebuild_netloc(host, port, user, secret)
        return type(self)(self.components._replace(**kwargs).geturl())

    def _rebuild_netloc(self, host: str | None, port: int | None, user: str | None, secret: str | None) -> str:
        if host is None:
            # Keep the current host exactly as written (brackets included), minus userinfo and port.
            current = self.netloc
            host = current[current.rfind("@") + 1 :]
            if host and host[-1] != "]":
                before, colon, _ = host.rpartition(":")
                if colon:
                    host = before
        else:
            host = _bracket_if_ipv6(host)
        authority = host if port is None else f"{host}:{port}"
        if user is None:
            return authority
        userinfo = user if secret is None else f"{user}:{secret}"
        return f"{userinfo}@{authority}"

    def include_query_params(self, **kwargs: Any) -> URL:
        added = _stringify(kwargs.items())
        replaced = {name for name, _ in added}
        kept = [pair for pair in _parse_query(self.query) if pair[0] not in replaced]
        return self.replace(query=urlencode(kept + added))

    def replace_query_params(self, **kwargs: Any) -> URL:
        return self.replace(query=urlencode(_stringify(kwargs.items())))

    def remove_query_params(self, keys: str | Sequence[str]) -> URL:
        removed = {keys} if isinstance(keys, str) else set(keys)
        kept = [pair for pair in _parse_query(self.query) if pair[0] not in removed]
        return self.replace(query=urlencode(kept))

    def __eq__(self, other: Any) -> bool:
        return self._url == str(other)

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        shown = self.replace(password="********")._url if self.password else self._url
        return f"{type(self).__name__}({shown!r})"


class URLPath(str):
    """A path returned by ``url_path_for``; may carry the protocol and host needed to make it absolute."""

    protocol: Literal["http", "websocket", ""]
    host: str

    def __new__(cls, path: str, protocol: Literal["http", "websocket", ""] = "", host: str = "") -> URLPath:
        assert protocol in _URL_PATH_PROTOCOLS
        escaped = path.replace("\\", "%5C")
        if escaped[:2] == "//":
            # Otherwise the first segment would be taken for a host when the path is used as a URL.
            escaped = "/%2F" + escaped[2:]
        return super().__new__(cls, escaped)

    def __init__(self, path: str, protocol: Literal["http", "websocket", ""] = "", host: str = "") -> None:
        self.protocol = protocol
        self.host = host

    def make_absolute_url(self, base_url: str | URL) -> URL:
        base = URL(base_url) if isinstance(base_url, str) else base_url
        scheme = base.scheme
        if self.protocol:
            secure = base.is_secure
            if self.protocol == "http":
                scheme = "https" if secure else "http"
            else:
                scheme = "wss" if secure else "ws"
        return URL(scheme=scheme, netloc=self.host or base.netloc, path=f"{base.path.rstrip('/')}{self}")


class Secret:
    """A string kept out of reprs and tracebacks; call ``str()`` on it where the value is needed."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}('**********')"

    def __str__(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)


def _split_commas(text: str) -> list[str]:
    # shlex gives shell-style quoting; commas are the only separators, surrounding spaces are dropped.
    lexer = shlex(text, posix=True)
    lexer.whitespace = ","
    lexer.whitespace_split = True
    return [token.strip() for token in lexer]


class CommaSeparatedStrings(Sequence[str]):
    """A sequence parsed from ``"a, b, 'c d'"`` (shell-style quoting, commas as separators)."""

    def __init__(self, value: str | Sequence[str]) -> None:
        self._items: list[str] = _split_commas(value) if isinstance(value, str) else [*value]

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int | slice) -> Any:
        return self._items[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"

    def __str__(self) -> str:
        return ", ".join(map(repr, self._items))


def _pairs_of(source: Any) -> list[tuple[Any, Any]]:
    """Every (key, value) pair of a multidict, a mapping or an iterable of pairs, as a new list."""
    if not source:
        return []
    if type(source) is list or type(source) is tuple:
        # Pairs given as such (the form parsers, most callers): no attribute probes, each of which raises and
        # catches an AttributeError inside getattr/hasattr on a list.
        return list(source)
    multi_items = getattr(source, "multi_items", None)
    if multi_items is not None:
        return list(multi_items())
    if hasattr(source, "items"):
        return list(source.items())
    return list(source)


def _without(pairs: list[tuple[Any, Any]], key: Any) -> list[tuple[Any, Any]]:
    return [pair for pair in pairs if pair[0] != key]


class ImmutableMultiDict(Mapping[_K, _V_co]):
    """A read-only mapping that keeps every (key, value) pair; plain lookups return the last value.

    ``_list`` holds all pairs in order, ``_dict`` the last value of each key (in first-seen key order).
    """

    _dict: dict[_K, _V_co]
    _list: list[tuple[_K, _V_co]]

    def __init__(
        self,
        *args: ImmutableMultiDict[_K, _V_co] | Mapping[_K, _V_co] | Iterable[tuple[_K, _V_co]],
        **kwargs: Any,
    ) -> None:
        if len(args) > 1:
            raise AssertionError("Too many arguments.")
        pairs = _pairs_of(args[0]) if args else []
        if kwargs:
            pairs.extend(kwargs.items())
        self._list = pairs
        self._dict = dict(pairs)

    def getlist(self, key: Any) -> list[_V_co]:
        return [value for name, value in self._list if name == key]

    def keys(self) -> KeysView[_K]:
        return self._dict.keys()

    def values(self) -> ValuesView[_V_co]:
        return self._dict.values()

    def items(self) -> ItemsView[_K, _V_co]:
        return self._dict.items()

    def multi_items(self) -> list[tuple[_K, _V_co]]:
        return self._list.copy()

    def __getitem__(self, key: _K) -> _V_co:
        return self._dict[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[_K]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: Any) -> bool:
        # Only instances of this class (or subclasses) compare equal: same pairs regardless of how different
        # keys interleave, but the values of one key must come in the same order (a stable sort by key).
        if isinstance(other, type(self)):
            return sorted(self._list, key=_KEY) == sorted(other._list, key=_KEY)
        return False

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class MultiDict(ImmutableMultiDict[Any, Any]):
    """A mutable multidict."""

    def __setitem__(self, key: Any, value: Any) -> None:
        remaining = _without(self._list, key)
        remaining.append((key, value))
        self._list = remaining
        self._dict[key] = value

    def __delitem__(self, key: Any) -> None:
        self._list = _without(self._list, key)
        del self._dict[key]

    def pop(self, key: Any, default: Any = None) -> Any:
        self._list = _without(self._list, key)
        return self._dict.pop(key, default)

    def popitem(self) -> tuple[Any, Any]:
        last = self._dict.popitem()
        self._list = _without(self._list, last[0])
        return last

    def poplist(self, key: Any) -> list[Any]:
        removed = self.getlist(key)
        self.pop(key)
        return removed

    def clear(self) -> None:
        self._list.clear()
        self._dict.clear()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        try:
            return self._dict[key]
        except KeyError:
            self.append(key, default)
            return default

    def setlist(self, key: Any, values: list[Any]) -> None:
        if values:
            self._list = _without(self._list, key) + [(key, value) for value in values]
            self._dict[key] = values[-1]
        else:
            self.pop(key, None)

    def append(self, key: Any, value: Any) -> None:
        self._dict[key] = value
        self._list.append((key, value))

    def update(self, *args: MultiDict | Mapping[Any, Any] | list[tuple[Any, Any]], **kwargs: Any) -> None:
        """Replace every key present in the arguments (with all of their values); keep the other keys."""
        incoming = MultiDict(*args, **kwargs)
        replaced = incoming._dict
        self._list = [pair for pair in self._list if pair[0] not in replaced] + incoming._list
        self._dict.update(replaced)


class QueryParams(ImmutableMultiDict[str, str]):
    """An immutable multidict of query parameters; accepts a query string (str or bytes) too."""

    def __init__(
        self,
        *args: ImmutableMultiDict[Any, Any] | Mapping[Any, Any] | list[tuple[Any, Any]] | str | bytes,
        **kwargs: Any,
    ) -> None:
        source = args[0] if len(args) == 1 else None
        if isinstance(source, (str, bytes)):
            # The common case (a request's query string): parsed pairs are already strings.
            pairs = _parse_query(source.decode("latin-1") if isinstance(source, bytes) else source)
            if kwargs:
                pairs += _stringify(kwargs.items())
            self._list = pairs
            self._dict = dict(pairs)
            return
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._list = _stringify(self._list)
        self._dict = dict(_stringify(self._dict.items()))

    def __str__(self) -> str:
        return urlencode(self._list)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({str(self)!r})"


class UploadFile:
    """A file from a multipart form. Methods are async; once the file is on disk they run in a thread."""

    def __init__(
        self,
        file: BinaryIO,
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.filename = filename
        self.file = file
        self.size = size
        self.headers = headers if headers else Headers()
        # SpooledTemporaryFile's memory threshold (0 means it never rolls over), read once.
        self._max_mem_size: int = getattr(self.file, "_max_size", 0)

    @property
    def content_type(self) -> str | None:
        content_type: str | None = self.headers.get("content-type", None)
        return content_type

    @property
    def _in_memory(self) -> bool:
        # Only a SpooledTemporaryFile that has not rolled over is known to be in memory; any other file
        # object is treated as (possibly blocking) disk I/O.
        return not getattr(self.file, "_rolled", True)

    def _will_roll(self, size_to_add: int) -> bool:
        if not self._in_memory:
            return True
        if not self._max_mem_size:
            return False
        return self.file.tell() + size_to_add > self._max_mem_size

    async def write(self, data: bytes) -> None:
        added = len(data)
        if self.size is not None:
            self.size += added
        # Writing to disk (or the write that rolls the file over to disk) would block the event loop.
        if self._will_roll(added):
            await run_in_threadpool(self.file.write, data)
        else:
            self.file.write(data)

    async def read(self, size: int = -1) -> bytes:
        file = self.file
        return file.read(size) if self._in_memory else await run_in_threadpool(file.read, size)

    async def seek(self, offset: int) -> None:
        file = self.file
        if not self._in_memory:
            await run_in_threadpool(file.seek, offset)
            return
        file.seek(offset)

    async def close(self) -> None:
        file = self.file
        if not self._in_memory:
            await run_in_threadpool(file.close)
            return
        file.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(filename={self.filename!r}, size={self.size!r}, headers={self.headers!r})"


class FormData(ImmutableMultiDict[str, "UploadFile | str"]):
    """An immutable multidict of form fields: strings and uploaded files."""

    def __init__(
        self,
        *args: FormData | Mapping[str, str | UploadFile] | list[tuple[str, str | UploadFile]],
        **kwargs: str | UploadFile,
    ) -> None:
        super().__init__(*args, **kwargs)

    @classmethod
    def _of_pairs(cls, pairs: list[tuple[str, UploadFile | str]]) -> FormData:
        """What ``FormData(pairs)`` builds, taking ``pairs`` as its own list (the form parsers hand over a list
        nobody else keeps): no copy, none of the constructor's argument handling."""
        form = cls.__new__(cls)
        form._list = pairs
        form._dict = dict(pairs)
        return form

    async def close(self) -> None:
        uploads = [value for _, value in self._list if isinstance(value, UploadFile)]
        for upload in uploads:
            await upload.close()


def _header_name(key: str) -> bytes:
    return key.lower().encode("latin-1")


# Lookup keys already lowered and encoded: applications read the same few header names on every request, and a dict
# hit (~25 ns) replaces ``lower().encode()`` (~100 ns). Bounded in count and in key length because a key may come
# from request data: a name longer than any real header name is converted on every call and never kept.
_header_names: dict[str, bytes] = {}
_HEADER_NAME_BOUND = CacheBound(512, 64)


def _lookup_name(key: str) -> bytes:
    """``_header_name(key)``, cached; a key that is not a str raises what ``key.lower()`` raises, as in Starlette."""
    try:
        return _header_names[key]
    except (KeyError, TypeError):  # TypeError: an unhashable key, which lower() will reject below
        pass
    name = key.lower().encode("latin-1")
    if type(key) is not str:  # a str subclass may hash and compare as it likes: not kept
        return name
    return _HEADER_NAME_BOUND.keep(_header_names, key, name, len(key))


def _latin1(raw: bytes) -> str:
    return raw.decode("latin-1")


def _require_mapping(other: object) -> None:
    if not isinstance(other, Mapping):
        raise TypeError(f"Expected a mapping but got {type(other).__name__}")


class Headers(Mapping[str, str]):
    """An immutable, case-insensitive multidict over raw ``(name, value)`` byte pairs (names lower-case)."""

    __slots__ = ("_list",)

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: list[tuple[bytes, bytes]] | None = None,
        scope: MutableMapping[str, Any] | None = None,
    ) -> None:
        self._list: list[tuple[bytes, bytes]]
        if headers is not None:
            assert raw is None, 'Cannot set both "headers" and "raw".'
            assert scope is None, 'Cannot set both "headers" and "scope".'
            self._list = [(_header_name(name), text.encode("latin-1")) for name, text in headers.items()]
        elif raw is not None:
            assert scope is None, 'Cannot set both "raw" and "scope".'
            self._list = raw
        else:
            self._list = [] if scope is None else self._list_from_scope(scope)

    @staticmethod
    def _list_from_scope(scope: MutableMapping[str, Any]) -> list[tuple[bytes, bytes]]:
        # scope["headers"] may be any iterable; a list is stored back so later readers share it. A read-only
        # view needs no copy of a list that is already there.
        current = scope["headers"]
        if type(current) is not list:
            current = scope["headers"] = list(current)
        return current

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        return self._list.copy()

    def keys(self) -> list[str]:  # type: ignore[override]
        return [_latin1(name) for name, _ in self._list]

    def values(self) -> list[str]:  # type: ignore[override]
        return [_latin1(raw) for _, raw in self._list]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(_latin1(name), _latin1(raw)) for name, raw in self._list]

    def getlist(self, key: str) -> list[str]:
        wanted = _lookup_name(key)
        return [_latin1(raw) for name, raw in self._list if name == wanted]

    def get(self, key: str, default: Any = None) -> Any:
        try:  # the name cache probed inline: lookups run on nearly every request
            wanted = _header_names[key]
        except (KeyError, TypeError):
            wanted = _lookup_name(key)
        for name, raw in self._list:
            if name == wanted:
                return _latin1(raw)
        return default

    def mutablecopy(self) -> MutableHeaders:
        return MutableHeaders(raw=self._list.copy())

    def __getitem__(self, key: str) -> str:
        try:  # the name cache probed inline: lookups run on nearly every request
            wanted = _header_names[key]
        except (KeyError, TypeError):
            wanted = _lookup_name(key)
        for name, raw in self._list:
            if name == wanted:
                return _latin1(raw)
        raise KeyError(key)

    def __contains__(self, key: Any) -> bool:
        try:  # the name cache probed inline: lookups run on nearly every request
            wanted = _header_names[key]
        except (KeyError, TypeError):
            wanted = _lookup_name(key)
        return any(name == wanted for name, _ in self._list)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._list)

    def __eq__(self, other: Any) -> bool:
        # Order-insensitive, duplicates included.
        return isinstance(other, Headers) and sorted(self._list) == sorted(other._list)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        name = type(self).__name__
        unique = dict(self.items())
        # Duplicated names cannot be shown as a dict without losing some.
        return f"{name}({unique!r})" if len(unique) == len(self._list) else f"{name}(raw={self.raw!r})"


class MutableHeaders(Headers):
    """Headers that can be changed in place (e.g. a response's headers).

    Names and values containing CR, LF or NUL are rejected with ``ValueError``: written into a response they
    would let the caller inject headers or a second response (response splitting).
    """

    __slots__ = ()

    @staticmethod
    def _list_from_scope(scope: MutableMapping[str, Any]) -> list[tuple[bytes, bytes]]:
        # A private copy, stored back: edits must not reach a list that a copy of the scope still shares.
        copied = scope["headers"] = list(scope["headers"])
        return copied

    def __setitem__(self, key: str, value: str) -> None:
        """Set ``key`` to ``value``: the first existing entry is replaced in place, later duplicates removed."""
        name = _lookup_name(key)
        encoded = value.encode("latin-1")
        check_header(name, encoded)
        headers = self._list
        for first, pair in enumerate(headers):
            if pair[0] == name:
                headers[first] = (name, encoded)
                # Later duplicates go, from the end so that the indexes still to visit do not move.
                for index in range(len(headers) - 1, first, -1):
                    if headers[index][0] == name:
                        del headers[index]
                return
        headers.append((name, encoded))  # the common case: a header the response does not have yet

    def __delitem__(self, key: str) -> None:
        """Remove every entry for ``key`` (missing keys are ignored)."""
        name = _lookup_name(key)
        headers = self._list
        for pair in headers:
            if pair[0] == name:
                headers[:] = [pair for pair in headers if pair[0] != name]
                return

    def __ior__(self, other: Mapping[str, str]) -> MutableHeaders:
        _require_mapping(other)
        self.update(other)
        return self

    def __or__(self, other: Mapping[str, str]) -> MutableHeaders:
        _require_mapping(other)
        merged = self.mutablecopy()
        merged.update(other)
        return merged

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        return self._list

    def setdefault(self, key: str, value: str) -> str:
        """Return the header's value, setting it to ``value`` first if it is missing."""
        existing = self.get(key)
        if existing is None:
            self.append(key, value)
            return value
        return str(existing)

    def update(self, other: Mapping[str, str]) -> None:
        for key, value in other.items():
            self[key] = value

    def append(self, key: str, value: str) -> None:
        """Add an entry, keeping existing entries with the same name."""
        name = _header_name(key)
        encoded = value.encode("latin-1")
        check_header(name, encoded)
        self._list.append((name, encoded))

    def add_vary_header(self, vary: str) -> None:
        values = self.getlist("vary")
        values.append(vary)
        self["vary"] = ", ".join(values)


class State:
    """Attribute (and item) access to a dict: ``request.state``, ``app.state``."""

    _state: dict[str, Any]

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_state", {} if state is None else state)

    def __setattr__(self, key: Any, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: Any) -> Any:
        try:
            return self._state[key]
        except KeyError:
            raise AttributeError(f"'{self.__class__.__name__}' object has no attribute '{key}'") from None

    def __delattr__(self, key: Any) -> None:
        del self._state[key]

    def __getitem__(self, key: str) -> Any:
        return self._state[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __delitem__(self, key: str) -> None:
        del self._state[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._state)

    def __len__(self) -> int:
        return len(self._state)
