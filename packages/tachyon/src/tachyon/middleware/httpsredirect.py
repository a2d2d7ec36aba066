"""Redirect plain ``http``/``ws`` requests to ``https``/``wss`` on the same host."""

from __future__ import annotations

from tachyon_http.datastructures import URL
from tachyon_http.responses import PlainTextResponse, RedirectResponse
from tachyon_http.types import ASGIApp, Receive, Scope, Send

__all__ = ["HTTPSRedirectMiddleware"]

_SECURE_SCHEME = {"http": "https", "ws": "wss"}
# Ports that name the default of either scheme: dropped, so http://host:80/ goes to https://host/.
_DEFAULT_PORTS = (80, 443)


class HTTPSRedirectMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["scheme"] not in _SECURE_SCHEME:
            await self.app(scope, receive, send)
            return

        # The target is rebuilt from the validated host (or the server address), never from raw header text,
        # so a hostile Host header cannot turn this into an open redirect.
        url = URL(scope=scope)
        if not url.netloc:
            await PlainTextResponse("Invalid host header", status_code=400)(scope, receive, send)
            return
        netloc = url.hostname if url.port in _DEFAULT_PORTS else url.netloc
        target = url.replace(scheme=_SECURE_SCHEME[url.scheme], netloc=netloc)
        await RedirectResponse(target, status_code=307)(scope, receive, send)
