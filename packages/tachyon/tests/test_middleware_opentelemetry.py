from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from tachyon.middleware.opentelemetry import OpenTelemetryMiddleware
from tachyon_http.responses import PlainTextResponse
from tachyon_http.types import Receive, Scope, Send
from tachyon_testclient.testclient import TestClient


@pytest.fixture
def exporter() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    yield provider, memory
    provider.shutdown()


def make_app(status: int = 200) -> object:
    class FakeRoute:
        path_format = "/items/{id}"

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = FakeRoute()
        await PlainTextResponse("x", status_code=status)(scope, receive, send)

    return app


def test_server_span_has_http_attributes_and_route_name(exporter: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, memory = exporter
    client = TestClient(OpenTelemetryMiddleware(make_app(), tracer_provider=provider))  # type: ignore[arg-type]
    client.get("/items/7?q=1", headers={"user-agent": "ua/1"})
    (span,) = memory.get_finished_spans()
    assert span.name == "GET /items/{id}"
    assert span.kind == SpanKind.SERVER
    attributes = dict(span.attributes or {})
    assert attributes["http.request.method"] == "GET"
    assert attributes["url.path"] == "/items/7"
    assert attributes["url.query"] == "q=1"
    assert attributes["http.route"] == "/items/{id}"
    assert attributes["http.response.status_code"] == 200
    assert attributes["user_agent.original"] == "ua/1"
    assert attributes["server.address"] == "testserver"


def test_server_errors_mark_the_span(exporter: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, memory = exporter
    TestClient(OpenTelemetryMiddleware(make_app(503), tracer_provider=provider)).get("/")  # type: ignore[arg-type]
    (span,) = memory.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == "503"


def test_excluded_urls_and_nesting_create_no_extra_spans(
    exporter: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, memory = exporter
    inner = OpenTelemetryMiddleware(make_app(), tracer_provider=provider)  # type: ignore[arg-type]
    outer = OpenTelemetryMiddleware(inner, excluded_urls="/health$", tracer_provider=provider)
    client = TestClient(outer)
    client.get("/health")
    assert memory.get_finished_spans() == ()
    client.get("/other")
    assert len(memory.get_finished_spans()) == 1


def test_exceptions_are_recorded_and_reraised(exporter: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, memory = exporter

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        TestClient(OpenTelemetryMiddleware(broken, tracer_provider=provider)).get("/")
    (span,) = memory.get_finished_spans()
    assert dict(span.attributes or {})["error.type"] == "KeyError"


def test_incoming_trace_context_becomes_the_parent(exporter: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, memory = exporter
    trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    client = TestClient(OpenTelemetryMiddleware(make_app(), tracer_provider=provider))  # type: ignore[arg-type]
    client.get("/", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
    (span,) = memory.get_finished_spans()
    assert span.parent is not None
    assert format(span.context.trace_id, "032x") == trace_id
    assert format(span.parent.span_id, "016x") == parent_id


def test_noop_provider_creates_nothing() -> None:
    from opentelemetry import trace

    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])
        await PlainTextResponse("x")(scope, receive, send)

    client = TestClient(OpenTelemetryMiddleware(app, tracer_provider=trace.NoOpTracerProvider()))
    assert client.get("/").status_code == 200
    assert seen == ["http"]
