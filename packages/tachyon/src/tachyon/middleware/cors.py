"""Cross-Origin Resource Sharing: answer preflight requests and decorate simple responses."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Collection

from tachyon_http.datastructures import Headers, MutableHeaders
from tachyon_http.responses import PlainTextResponse, Response
from tachyon_http.types import ASGIApp, Message, Receive, Scope, Send

from tachyon.middleware._raw_headers import add_vary, set_raw

__all__ = ["ALL_METHODS", "SAFELISTED_HEADERS", "CORSMiddleware"]

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
SAFELISTED_HEADERS = {"Accept", "Accept-Language", "Content-Language", "Content-Type"}

_ACAO = "Access-Control-Allow-Origin"
_ACAC = "Access-Control-Allow-Credentials"
_ACAH = "Access-Control-Allow-Headers"
_ACAM = "Access-Control-Allow-Methods"
_ACEH = "Access-Control-Expose-Headers"
_ACMA = "Access-Control-Max-Age"
_ACAPN = "Access-Control-Allow-Private-Network"
_PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
)
_ACAO_RAW = _ACAO.lower().encode("latin-1")


def _policy_headers(
    *,
    wildcard_origin: bool,
    echo_origin_on_preflight: bool,
    credentials: bool,
    methods: Collection[str],
    header_names: list[str],
    any_header: bool,
    expose: Collection[str],
    max_age: int,
) -> tuple[dict[str, str], dict[str, str]]:
    """The fixed parts of (simple responses, preflight responses), built once."""
    credential_pair = {_ACAC: "true"} if credentials else {}
    simple = {_ACAO: "*"} if wildcard_origin else {}
    simple |= credential_pair
    if expose:
        simple[_ACEH] = ", ".join(expose)

    preflight = {"Vary": _PREFLIGHT_VARY}
    if not echo_origin_on_preflight:
        preflight[_ACAO] = "*"
    preflight[_ACAM] = ", ".join(methods)
    preflight[_ACMA] = str(max_age)
    if not any_header:
        preflight[_ACAH] = ", ".join(header_names)
    preflight |= credential_pair
    return simple, preflight


class CORSMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Collection[str] = (),
        max_age: int = 600,
    ) -> None:
        methods = ALL_METHODS if "*" in allow_methods else allow_methods
        wildcard_origin = "*" in allow_origins
        any_header = "*" in allow_headers
        header_names = sorted({*SAFELISTED_HEADERS, *allow_headers})
        # A credentialed request never accepts "*": the preflight must name the requesting origin.
        echo_origin_on_preflight = allow_credentials or not wildcard_origin

        self.app = app
        self.allow_origins = allow_origins
        self.allow_methods = methods
        self.allow_headers = [name.lower() for name in header_names]
        self.allow_all_origins = wildcard_origin
        self.allow_all_headers = any_header
        self.allow_credentials = allow_credentials
        self.preflight_explicit_allow_origin = echo_origin_on_preflight
        self.allow_origin_regex = re.compile(allow_origin_regex) if allow_origin_regex is not None else None
        self.allow_private_network = allow_private_network
        self.simple_headers, self.preflight_headers = _policy_headers(
            wildcard_origin=wildcard_origin,
            echo_origin_on_preflight=echo_origin_on_preflight,
            credentials=allow_credentials,
            methods=methods,
            header_names=header_names,
            any_header=any_header,
            expose=expose_headers,
            max_age=max_age,
        )

        # Origins are compared exactly (scheme, case and port included): "https://a.com" never admits
        # "http://a.com" or "https://A.com". Sets make each check O(1).
        self._origin_set = frozenset(allow_origins)
        self._method_set = frozenset(methods)
        self._header_set = frozenset(self.allow_headers)
        # Encoded once; validated by the latin-1 encoding here rather than on every response.
        self._simple_raw = [
            (key.lower().encode("latin-1"), val.encode("latin-1")) for key, val in self.simple_headers.items()
        ]
        # The raw-header fast path is only taken when no subclass customises how responses are decorated.
        cls = type(self)
        self._fast_path = (
            cls.simple_response is CORSMiddleware.simple_response
            and cls.send is CORSMiddleware.send
            and cls.allow_explicit_origin is CORSMiddleware.allow_explicit_origin
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover
            await self.app(scope, receive, send)
            return

        origin: bytes | None = None
        asks_method = False
        for name, value in scope["headers"]:
            if name == b"origin":
                if origin is None:
                    origin = value
            elif name == b"access-control-request-method":
                asks_method = True

        if origin is not None and asks_method and scope["method"] == "OPTIONS":
            await self.preflight_response(request_headers=Headers(scope=scope))(scope, receive, send)
        elif self._fast_path:
            await self.app(scope, receive, self._wrap_send(send, origin))
        else:
            await self.simple_response(scope, receive, send, request_headers=Headers(scope=scope))

    def _wrap_send(self, send: Send, origin: bytes | None) -> Send:
        # A plain function returning the awaitable of the wrapped send: no coroutine of its own per message.
        def send_with_cors(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                raw = message["headers"] = list(message.get("headers", ()))
                if origin is None:
                    add_vary(raw, b"Origin")  # the answer may differ by Origin even when none was sent
                else:
                    self._decorate(raw, origin)
            return send(message)

        return send_with_cors

    def _decorate(self, raw: list[tuple[bytes, bytes]], origin: bytes) -> None:
        # Most responses carry none of the CORS headers yet: append instead of searching for each one.
        present = {name for name, _ in raw}
        if self.allow_all_origins:
            explicit = self.allow_credentials
        else:
            explicit = self.is_allowed_origin(origin.decode("latin-1"))
        # The request's own Origin bytes are echoed: already a valid header value.
        updates = [*self._simple_raw, (_ACAO_RAW, origin)] if explicit else self._simple_raw
        for name, value in updates:
            if name in present:
                set_raw(raw, name, value)
            else:
                raw.append((name, value))
                present.add(name)
        if b"vary" in present:
            add_vary(raw, b"Origin")
        else:
            raw.append((b"vary", b"Origin"))

    def is_allowed_origin(self, origin: str) -> bool:
        if self.allow_all_origins or origin in self._origin_set:
            return True
        pattern = self.allow_origin_regex
        return pattern is not None and pattern.fullmatch(origin) is not None

    def preflight_response(self, request_headers: Headers) -> Response:
        origin = request_headers["origin"]
        asked_headers = request_headers.get("access-control-request-headers")
        reply = dict(self.preflight_headers)
        refused: list[str] = []

        if not self.is_allowed_origin(origin=origin):
            refused.append("origin")
        elif self.preflight_explicit_allow_origin:
            reply[_ACAO] = origin

        if request_headers["access-control-request-method"] not in self._method_set:
            refused.append("method")

        if asked_headers is not None:
            if self.allow_all_headers:
                # "*" is not honoured for credentialed requests by every browser: mirror what was asked.
                reply[_ACAH] = asked_headers
            elif not all(name.strip().lower() in self._header_set for name in asked_headers.split(",")):
                refused.append("headers")

        if "access-control-request-private-network" in request_headers:
            if self.allow_private_network:
                reply[_ACAPN] = "true"
            else:
                refused.append("private-network")

        # Browsers enforce the policy; the 400 only makes a refusal visible while debugging.
        if refused:
            return PlainTextResponse(f"Disallowed CORS {', '.join(refused)}", status_code=400, headers=reply)
        return PlainTextResponse("OK", headers=reply)

    async def simple_response(self, scope: Scope, receive: Receive, send: Send, request_headers: Headers) -> None:
        async def forward(message: Message) -> None:
            await self.send(message, send, request_headers)

        await self.app(scope, receive, forward)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        """Decorate ``http.response.start`` through ``MutableHeaders`` (the path subclasses can hook into)."""
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])
            headers = MutableHeaders(scope=message)
            origin = request_headers.get("origin")
            if origin is not None:
                headers.update(self.simple_headers)
            wants_echo = origin is not None and (
                self.allow_credentials if self.allow_all_origins else self.is_allowed_origin(origin=origin)
            )
            if wants_echo:
                assert origin is not None
                self.allow_explicit_origin(headers, origin)
            else:
                headers.add_vary_header("Origin")
        await send(message)

    @staticmethod
    def allow_explicit_origin(headers: MutableHeaders, origin: str) -> None:
        headers[_ACAO] = origin
        headers.add_vary_header("Origin")
