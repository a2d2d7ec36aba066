"""OpenTelemetry server spans for HTTP requests (experimental: emitted telemetry may still change)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

try:
    from opentelemetry import metrics, propagate, trace
    from opentelemetry.trace import Span, SpanKind, Status, StatusCode
except ModuleNotFoundError as _missing:  # pragma: no cover
    raise ImportError(
        "The `opentelemetry-api` package is required to use `OpenTelemetryMiddleware` (pip install 'tachyon[full]')."
    ) from _missing

from tachyon_http.datastructures import URL
from tachyon_http.types import ASGIApp, Message, Receive, Scope, Send

from tachyon import __version__
from tachyon.routing import Mount

__all__ = ["OpenTelemetryMiddleware"]

# Set while a span is open for this request, so stacked (or mounted) instances create only one span.
_ACTIVE_SCOPE_KEY = "tachyon.opentelemetry"
_INSTRUMENTATION_NAME = "tachyon"
# OpenTelemetry HTTP semantic conventions: 5xx marks a server span as failed, 4xx does not.
_SERVER_ERROR_STATUS = 500


def _compile_exclusions(excluded_urls: str | Sequence[str]) -> tuple[re.Pattern[str], ...]:
    if isinstance(excluded_urls, str):
        # The OTEL_PYTHON_*_EXCLUDED_URLS convention: comma-separated regular expressions ("" = none).
        excluded_urls = [part.strip() for part in excluded_urls.split(",")] if excluded_urls else []
    return tuple(map(re.compile, excluded_urls))


def _header_carrier(scope: Scope) -> dict[str, list[str]]:
    """Request headers as the propagator API wants them: lower-case name -> every value."""
    carrier: dict[str, list[str]] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        carrier.setdefault(raw_name.decode("latin-1").lower(), []).append(raw_value.decode("latin-1"))
    return carrier


def _request_attributes(scope: Scope, url: URL, method: str, carrier: dict[str, list[str]]) -> dict[str, Any]:
    """Semantic-convention attributes known before the application runs."""
    sent_method = scope.get("method", "")
    found: dict[str, Any] = {
        "http.request.method": method,
        "url.path": scope.get("path", ""),
        "url.scheme": scope.get("scheme", "http"),
    }
    if sent_method != method:
        found["http.request.method_original"] = sent_method
    query = url.query
    if query:
        found["url.query"] = query
    host = url.hostname
    if host is not None:
        found["server.address"] = host
        port = url.port
        if port is None and scope.get("server") is not None:
            port = scope["server"][1]
        if port is not None:
            found["server.port"] = port
    version = scope.get("http_version")
    if version:
        found["network.protocol.version"] = version
    client = scope.get("client")
    if client is not None:
        found["client.address"] = client[0]
    agents = carrier.get("user-agent")
    if agents:
        found["user_agent.original"] = agents[0]
    return found


def _route_template(scope: Scope) -> str | None:
    """The low-cardinality route (``/users/{id}``) that handled the request, with its mount prefix."""
    matched = scope.get("route")
    if isinstance(matched, Mount):
        return scope.get("root_path") or "/"
    template = getattr(matched, "path_format", None)
    if not isinstance(template, str):
        return None
    return scope.get("root_path", "").rstrip("/") + template or "/"


def _record_status(span: Span, status_code: int) -> None:
    span.set_attribute("http.response.status_code", status_code)
    if status_code >= _SERVER_ERROR_STATUS:
        span.set_attribute("error.type", str(status_code))
        span.set_status(Status(StatusCode.ERROR))


class OpenTelemetryMiddleware:
    """Create OpenTelemetry server spans for incoming HTTP requests.

    Args:
        app: The ASGI application to wrap.
        excluded_urls: Regular expressions searched in the full request URL; a comma-separated string or a
            sequence. Nothing is excluded by default.
        tracer_provider: The tracer provider; the global one when omitted.
        meter_provider: The meter provider; the global one when omitted.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        excluded_urls: str | Sequence[str] = (),
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.app = app
        self._meter_provider = meter_provider
        self._excluded_urls = _compile_exclusions(excluded_urls)
        # Looked up through the module, so a provider installed later behind the global proxy is honoured.
        self._tracer_provider = tracer_provider if tracer_provider else trace.get_tracer_provider()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get(_ACTIVE_SCOPE_KEY):
            scope[_ACTIVE_SCOPE_KEY] = True
            try:
                await self._handle(scope, receive, send)
            finally:
                del scope[_ACTIVE_SCOPE_KEY]
        else:
            await self.app(scope, receive, send)

    def _is_excluded(self, url: URL) -> bool:
        if not self._excluded_urls:
            return False
        text = str(url)
        return any(pattern.search(text) for pattern in self._excluded_urls)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        provider = self._tracer_provider
        if isinstance(provider, trace.NoOpTracerProvider):
            await self.app(scope, receive, send)
            return
        url = URL(scope=scope)
        if self._is_excluded(url):
            await self.app(scope, receive, send)
            return

        method = scope.get("method", "").upper()
        carrier = _header_carrier(scope)
        tracer = provider.get_tracer(_INSTRUMENTATION_NAME, __version__)
        with tracer.start_as_current_span(
            method,
            context=propagate.extract(carrier),
            kind=SpanKind.SERVER,
            attributes=_request_attributes(scope, url, method, carrier),
        ) as span:

            async def send_observed(message: Message) -> None:
                if message["type"] == "http.response.start":
                    _record_status(span, message["status"])
                await send(message)

            try:
                await self.app(scope, receive, send_observed)
            except Exception as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                raise
            finally:
                # The route is only known once routing has run inside the application.
                template = _route_template(scope)
                if template is not None:
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
