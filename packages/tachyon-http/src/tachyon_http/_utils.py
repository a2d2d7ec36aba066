"""Small helpers shared across Tachyon (the names match ``starlette._utils``, which libraries import)."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv6Address
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

import anyio
import anyio.abc

from tachyon_http.types import Scope

if sys.version_info < (3, 13):
    # On these versions only asyncio's variant recognises AsyncMock objects (and inspect's is not deprecated
    # in favour of it yet).
    from asyncio import iscoroutinefunction
else:
    from inspect import iscoroutinefunction

if TYPE_CHECKING:
    from typing_extensions import TypeIs

__all__ = [
    "AwaitableCallable",
    "AwaitableOrContextManager",
    "AwaitableOrContextManagerWrapper",
    "ParsedHost",
    "SupportsAsyncClose",
    "SupportsAsyncCloseType",
    "create_collapsing_task_group",
    "get_route_path",
    "is_async_callable",
    "parse_host_header",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
AwaitableCallable = Callable[..., Awaitable[T]]

# A Host header is `host [":" port]` (RFC 9110 §7.2, RFC 3986 §3.2.2). Anything else — slashes, `?`, `#`, `@`,
# whitespace, a second colon outside brackets — could change the path or authority of a rebuilt URL, so such
# a header is rejected. Every branch is a single character class or a fixed literal, so matching is linear.
_HOST_PATTERN = re.compile(
    r"(?P<host>"
    r"[A-Za-z0-9._~%!$&'()*+,;=-]+"  # reg-name / IPv4 (unreserved, pct-encoded, sub-delims)
    r"|\[(?:(?P<ipv6>[A-Fa-f0-9]*:[A-Fa-f0-9.:]+)"  # IPv6 literal, checked by ipaddress below
    r"|v[A-Fa-f0-9]+\.[A-Za-z0-9._~!$&'()*+,;=:-]+)\]"  # IPvFuture
    r")(?::(?P<port>[0-9]+))?"
)

# Ports are 16-bit; more than five significant digits can never be valid.
_MAX_PORT = 65535
_MAX_PORT_DIGITS = 5


@dataclass(frozen=True, slots=True)
class ParsedHost:
    """A syntactically valid Host header: ``host`` keeps the brackets of IP literals; ``port`` is the digits."""

    host: str
    port: str | None

    @property
    def authority(self) -> str:
        if self.port is None:
            return self.host
        return f"{self.host}:{self.port}"

    @property
    def is_valid_port(self) -> bool:
        if self.port is None:
            return True
        digits = self.port.lstrip("0")
        return len(digits) <= _MAX_PORT_DIGITS and int(digits or "0") <= _MAX_PORT


def parse_host_header(host_header: str | None) -> ParsedHost | None:
    """Split a Host header into host and port; ``None`` when absent or malformed."""
    if host_header is None:
        return None
    match = _HOST_PATTERN.fullmatch(host_header)
    if match is None:
        return None
    ipv6 = match.group("ipv6")
    if ipv6 is not None:
        try:
            IPv6Address(ipv6)
        except AddressValueError:  # e.g. "[:::]" or an IPv4 tail out of range
            return None
    return ParsedHost(match.group("host"), match.group("port"))


@overload
def is_async_callable(obj: AwaitableCallable[T]) -> TypeIs[AwaitableCallable[T]]: ...


@overload
def is_async_callable(obj: Any) -> TypeIs[AwaitableCallable[Any]]: ...


def is_async_callable(obj: Any) -> Any:
    """True for coroutine functions, partials of them, and objects whose ``__call__`` is one."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    if iscoroutinefunction(obj):
        return True
    return callable(obj) and iscoroutinefunction(obj.__call__)


class AwaitableOrContextManager(Awaitable[T_co], AbstractAsyncContextManager[T_co], Protocol[T_co]):
    """Something you can either ``await`` or use with ``async with`` (e.g. ``request.form()``)."""


class SupportsAsyncClose(Protocol):
    async def close(self) -> None: ...  # pragma: no cover


SupportsAsyncCloseType = TypeVar("SupportsAsyncCloseType", bound=SupportsAsyncClose, covariant=False)


class AwaitableOrContextManagerWrapper(Generic[SupportsAsyncCloseType]):
    """Wraps an awaitable so it can also be used as an async context manager that closes its result."""

    __slots__ = ("aw", "entered")

    def __init__(self, aw: Awaitable[SupportsAsyncCloseType]) -> None:
        self.aw = aw

    def __await__(self) -> Generator[Any, None, SupportsAsyncCloseType]:
        return self.aw.__await__()

    async def __aenter__(self) -> SupportsAsyncCloseType:
        self.entered = await self.aw
        return self.entered

    async def __aexit__(self, *args: Any) -> bool | None:
        await self.entered.close()
        return None


@asynccontextmanager
async def create_collapsing_task_group() -> AsyncGenerator[anyio.abc.TaskGroup, None]:
    """A task group that re-raises a lone child exception as itself rather than inside an ExceptionGroup."""
    try:
        async with anyio.create_task_group() as task_group:
            yield task_group
    except BaseExceptionGroup as group:
        if len(group.exceptions) != 1:
            raise
        only = group.exceptions[0]
        context = None if only.__suppress_context__ else only.__context__
        raise only from only.__cause__ or context


def get_route_path(scope: Scope) -> str:
    """The part of ``scope["path"]`` below ``scope["root_path"]`` (the mount point), on a segment boundary."""
    path: str = scope["path"]
    root_path = scope.get("root_path", "")
    if not root_path or not path.startswith(root_path):
        return path
    if len(path) == len(root_path):
        return ""
    if path[len(root_path)] == "/":
        return path[len(root_path) :]
    return path
