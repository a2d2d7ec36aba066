"""Signed-cookie sessions: ``request.session`` is a dict stored client-side, signed with a secret key."""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from typing import Any, Literal

try:
    import itsdangerous
    from itsdangerous.encoding import want_bytes
    from itsdangerous.exc import BadSignature
except ModuleNotFoundError as _import_error:  # pragma: no cover
    raise ImportError(
        "itsdangerous must be installed to use SessionMiddleware (pip install 'tachyon[full]')"
    ) from _import_error

from tachyon_http.datastructures import MutableHeaders, Secret
from tachyon_http.requests import cookie_parser
from tachyon_http.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Session", "SessionMiddleware"]

_CONNECTION_TYPES = frozenset(("http", "websocket"))
# Two weeks, like the browsers' usual "remember me" horizon.
DEFAULT_MAX_AGE = 14 * 24 * 60 * 60
_EXPIRED = "expires=Thu, 01 Jan 1970 00:00:00 GMT; "
_FORBIDDEN_IN_HEADER = ("\r", "\n", "\x00")


def _header_bytes(text: str) -> bytes:
    """Encode a configured cookie fragment, refusing what would split or corrupt the header."""
    if any(char in text for char in _FORBIDDEN_IN_HEADER):
        raise ValueError(f"Session cookie settings must not contain CR, LF or NUL: {text!r}")
    return text.encode("latin-1")


class _Signer(itsdangerous.TimestampSigner):
    """A TimestampSigner that derives each secret's HMAC key once instead of on every sign/verify.

    Same algorithm and cookie format as itsdangerous' default (so Starlette sessions stay valid).
    """

    def __init__(self, secret_key: str) -> None:
        super().__init__(secret_key)
        self._derived_keys: dict[bytes, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        raw = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        derived = self._derived_keys.get(raw)
        if derived is None:
            derived = self._derived_keys[raw] = super().derive_key(raw)
        return derived


class Session(dict[str, Any]):
    """A dict that remembers whether it was read (``accessed``) or changed (``modified``)."""

    accessed: bool = False
    modified: bool = False

    def mark_accessed(self) -> None:
        self.accessed = True

    def mark_modified(self) -> None:
        self.accessed = True
        self.modified = True

    def __setitem__(self, key: str, value: Any) -> None:
        self.mark_modified()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.mark_modified()
        super().__delitem__(key)

    def clear(self) -> None:
        self.mark_modified()
        super().clear()

    def pop(self, key: str, *args: Any) -> Any:
        if key in self:
            self.mark_modified()
        return super().pop(key, *args)

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self.mark_modified()
        return item

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.mark_modified()
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.mark_modified()
        super().update(*args, **kwargs)

    def __ior__(self, other: Any, /) -> Session:  # type: ignore[override,misc]
        self.mark_modified()
        return super().__ior__(other)


class SessionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | Secret,
        session_cookie: str = "session",
        max_age: int | None = DEFAULT_MAX_AGE,
        path: str = "/",
        same_site: Literal["lax", "strict", "none"] = "lax",
        https_only: bool = False,
        domain: str | None = None,
        partitioned: bool = False,
    ) -> None:
        self.app = app
        self.signer = _Signer(str(secret_key))
        self.session_cookie = session_cookie
        self.max_age = max_age
        self.path = path
        flags = ["httponly", "samesite=" + same_site]
        if https_only:
            flags.append("secure")
        if domain is not None:
            flags.append(f"domain={domain}")
        if partitioned:
            flags.append("partitioned")
        self.security_flags = "; ".join(flags)
        # Everything in the Set-Cookie header except the payload is fixed: build (and check) it once.
        max_age_attr = "" if max_age is None else f"Max-Age={max_age}; "
        self._cookie_prefix = _header_bytes(f"{session_cookie}=")
        self._cookie_suffix = _header_bytes(f"; path={path}; {max_age_attr}{self.security_flags}")
        self._clear_cookie = _header_bytes(f"{session_cookie}=null; path={path}; {_EXPIRED}{self.security_flags}")

    def _load(self, cookie: str) -> Session | None:
        """Return the stored session, or None when the cookie is forged, expired or undecodable."""
        try:
            payload = self.signer.unsign(cookie.encode("utf-8"), max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        try:
            data = json.loads(b64decode(payload))
        except Exception:  # binascii.Error, ValueError, RecursionError (deep nesting), whatever else decoding raises
            # Only reachable with a valid signature over junk: never trust it, start afresh (Starlette answers
            # 500 on a deeply nested payload; an unloadable session is an empty one here).
            return None
        return Session(data) if isinstance(data, dict) else None

    def _dump(self, session: Session) -> bytes:
        # The signed payload is base64 plus "." separators: always a safe header value.
        return (
            self._cookie_prefix + self.signer.sign(b64encode(json.dumps(session).encode("utf-8"))) + self._cookie_suffix
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in _CONNECTION_TYPES:  # pragma: no cover
            await self.app(scope, receive, send)
            return

        # The Cookie headers are read straight from the scope (as HTTPConnection.cookies merges them): most
        # requests without a session carry no cookie at all and cost one scan.
        jar: dict[str, str] | None = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                parsed = cookie_parser(value.decode("latin-1"))
                jar = parsed if jar is None else jar | parsed
        cookie = None if jar is None else jar.get(self.session_cookie)
        loaded = None if cookie is None else self._load(cookie)
        had_session = loaded is not None
        scope["session"] = loaded if loaded is not None else Session()

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                session: Session = scope["session"]
                set_cookie: bytes | None = None
                if session.modified:
                    if session:
                        set_cookie = self._dump(session)
                    elif had_session:
                        set_cookie = self._clear_cookie
                if session.accessed or set_cookie is not None:
                    raw = message["headers"] = list(message.get("headers", ()))
                    if session.accessed:
                        if any(name == b"vary" for name, _ in raw):
                            MutableHeaders(raw=raw).add_vary_header("Cookie")  # fold into the existing Vary
                        else:
                            raw.append((b"vary", b"Cookie"))
                    if set_cookie is not None:
                        raw.append((b"set-cookie", set_cookie))
            await send(message)

        await self.app(scope, receive, send_with_session)
