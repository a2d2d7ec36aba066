"""Populate ``scope["auth"]`` and ``scope["user"]`` from an authentication backend."""

from __future__ import annotations

from collections.abc import Callable

from tachyon_http.requests import HTTPConnection
from tachyon_http.responses import PlainTextResponse, Response
from tachyon_http.types import ASGIApp, Receive, Scope, Send

from tachyon.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError, UnauthenticatedUser

__all__ = ["AuthenticationMiddleware"]

_CONNECTION_TYPES = frozenset(("http", "websocket"))
# Normal closure: the handshake is refused without claiming a server error.
_WS_CLOSE_ON_AUTH_ERROR = {"type": "websocket.close", "code": 1000}


class AuthenticationMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        backend: AuthenticationBackend,
        on_error: Callable[[HTTPConnection, AuthenticationError], Response] | None = None,
    ) -> None:
        self.app = app
        self.backend = backend
        self.on_error: Callable[[HTTPConnection, AuthenticationError], Response] = (
            self.default_on_error if on_error is None else on_error
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type not in _CONNECTION_TYPES:
            await self.app(scope, receive, send)
            return

        conn = HTTPConnection(scope)
        try:
            result = await self.backend.authenticate(conn)
        except AuthenticationError as exc:
            response = self.on_error(conn, exc)
            if scope_type == "websocket":
                await send(dict(_WS_CLOSE_ON_AUTH_ERROR))
            else:
                await response(scope, receive, send)
            return

        if result is None:
            scope["auth"], scope["user"] = AuthCredentials(), UnauthenticatedUser()
        else:
            scope["auth"], scope["user"] = result
        await self.app(scope, receive, send)

    @staticmethod
    def default_on_error(conn: HTTPConnection, exc: Exception) -> Response:
        return PlainTextResponse(str(exc), status_code=400)
