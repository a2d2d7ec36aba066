"""Reject requests whose ``Host`` header is not one of the configured host names."""

from __future__ import annotations

from collections.abc import Sequence

from tachyon_http._shared import CacheBound, parse_host_header
from tachyon_http.datastructures import URL
from tachyon_http.responses import PlainTextResponse, RedirectResponse, Response
from tachyon_http.types import ASGIApp, Receive, Scope, Send

__all__ = ["ENFORCE_DOMAIN_WILDCARD", "TrustedHostMiddleware"]

ENFORCE_DOMAIN_WILDCARD = "Domain wildcard patterns must be like '*.example.com'."

_CONNECTION_TYPES = frozenset(("http", "websocket"))
_INVALID_HOST = "Invalid host header"


# Bounds of the per-middleware cache of Host values already allowed: clients choose the header, so the cache is
# bounded in count and keeps no value longer than an honest Host header (a 255-character name, ":", a 5-digit port).
_ALLOWED_BOUND = CacheBound(256, 255 + 1 + 5)


def _host_header(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"host":
            return value  # type: ignore[no-any-return]
    return None


class TrustedHostMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str] | None = None,
        www_redirect: bool = True,
    ) -> None:
        if allowed_hosts is None:
            allowed_hosts = ["*"]
        for pattern in allowed_hosts:
            # A wildcard is only meaningful as a whole leading label: "*.example.com".
            assert "*" not in pattern[1:], ENFORCE_DOMAIN_WILDCARD
            if pattern.startswith("*") and pattern != "*":
                assert pattern.startswith("*."), ENFORCE_DOMAIN_WILDCARD

        self.app = app
        self.allowed_hosts = [pattern.lower() for pattern in allowed_hosts]
        self.allow_any = "*" in allowed_hosts
        self.www_redirect = www_redirect
        # Host names are case-insensitive; everything is lowered once here and the request's host once
        # per request, so matching is a set lookup plus one ``endswith``.
        self._exact_hosts = frozenset(self.allowed_hosts)
        self._wildcard_suffixes = tuple(pattern[1:] for pattern in self.allowed_hosts if pattern.startswith("*"))
        # Raw Host values already found allowed (the verdict depends on nothing else; a site sees few values).
        self._allowed_seen: dict[bytes, bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in _CONNECTION_TYPES:
            await self.app(scope, receive, send)
            return

        raw_host = _host_header(scope)
        if raw_host is not None and raw_host in self._allowed_seen:
            await self.app(scope, receive, send)
            return

        parsed = None if raw_host is None else parse_host_header(raw_host.decode("latin-1"))
        if parsed is None or raw_host is None:
            await PlainTextResponse(_INVALID_HOST, status_code=400)(scope, receive, send)
            return

        host = parsed.host.lower()
        if host in self._exact_hosts or (self._wildcard_suffixes and host.endswith(self._wildcard_suffixes)):
            _ALLOWED_BOUND.keep(self._allowed_seen, raw_host, True, len(raw_host))
            await self.app(scope, receive, send)
            return

        response: Response
        if self.www_redirect and "www." + host in self._exact_hosts:
            url = URL(scope=scope)
            response = RedirectResponse(url=str(url.replace(netloc="www." + url.netloc)))
        else:
            response = PlainTextResponse(_INVALID_HOST, status_code=400)
        await response(scope, receive, send)
