"""Authentication primitives: users, credentials, backends and the ``requires`` decorator."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec
from urllib.parse import urlencode

from tachyon_http._shared import is_async_callable
from tachyon_http.exceptions import HTTPException
from tachyon_http.requests import HTTPConnection, Request
from tachyon_http.responses import RedirectResponse
from tachyon_ws.websockets import WebSocket

__all__ = [
    "AuthCredentials",
    "AuthenticationBackend",
    "AuthenticationError",
    "BaseUser",
    "SimpleUser",
    "UnauthenticatedUser",
    "has_required_scope",
    "requires",
]

_P = ParamSpec("_P")


def has_required_scope(conn: HTTPConnection, scopes: Sequence[str]) -> bool:
    granted = conn.auth.scopes
    return all(scope in granted for scope in scopes)


def _connection_argument(func: Callable[..., Any]) -> tuple[str, int]:
    """Find the ``request``/``websocket`` parameter once, at decoration time."""
    for position, name in enumerate(inspect.signature(func).parameters):
        if name in ("request", "websocket"):
            return name, position
    raise Exception(f'No "request" or "websocket" argument on function "{func}"')


def _pick(name: str, position: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[position] if position < len(args) else None


def requires(
    scopes: str | Sequence[str],
    status_code: int = 403,
    redirect: str | None = None,
) -> Callable[[Callable[_P, Any]], Callable[_P, Any]]:
    """Protect an endpoint: only connections whose credentials hold every scope get through."""
    required = [scopes] if isinstance(scopes, str) else list(scopes)

    def refuse(request: Request) -> RedirectResponse:
        if redirect is None:
            raise HTTPException(status_code=status_code)
        next_query = urlencode({"next": str(request.url)})
        return RedirectResponse(url=f"{request.url_for(redirect)}?{next_query}", status_code=303)

    def checked_request(name: str, position: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Request:
        request = _pick(name, position, args, kwargs)
        assert isinstance(request, Request), (
            f"Parameter with name 'request' is required to be of type 'Request' not '{type(request).__name__}'"
        )
        return request

    def decorator(func: Callable[_P, Any]) -> Callable[_P, Any]:
        kind, position = _connection_argument(func)

        if kind == "websocket":

            @functools.wraps(func)
            async def websocket_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> None:
                websocket = _pick(kind, position, args, kwargs)
                assert isinstance(websocket, WebSocket), (
                    "Parameter with name 'websocket' is required to be of type 'WebSocket'"
                    f" not '{type(websocket).__name__}'"
                )
                if has_required_scope(websocket, required):
                    await func(*args, **kwargs)
                else:
                    await websocket.close()

            return websocket_wrapper

        if is_async_callable(func):

            @functools.wraps(func)
            async def async_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Any:
                request = checked_request(kind, position, args, kwargs)
                if not has_required_scope(request, required):
                    return refuse(request)
                return await func(*args, **kwargs)

            return async_wrapper

        @functools.wraps(func)
        def sync_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Any:
            request = checked_request(kind, position, args, kwargs)
            if not has_required_scope(request, required):
                return refuse(request)
            return func(*args, **kwargs)

        return sync_wrapper

    return decorator


class AuthenticationError(Exception):
    """Raised by a backend when the presented credentials are invalid."""


class AuthenticationBackend:
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        raise NotImplementedError()  # pragma: no cover


class AuthCredentials:
    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = [] if scopes is None else list(scopes)


class BaseUser:
    @property
    def is_authenticated(self) -> bool:
        raise NotImplementedError()  # pragma: no cover

    @property
    def display_name(self) -> str:
        raise NotImplementedError()  # pragma: no cover

    @property
    def identity(self) -> str:
        raise NotImplementedError()  # pragma: no cover


class SimpleUser(BaseUser):
    def __init__(self, username: str) -> None:
        self.username = username

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.username

    @property
    def identity(self) -> str:
        return self.username


class UnauthenticatedUser(BaseUser):
    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def display_name(self) -> str:
        return ""

    @property
    def identity(self) -> str:
        return ""
