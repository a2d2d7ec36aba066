from __future__ import annotations

import gzip

import anyio
import pytest
from tachyon.middleware.gzip import GZipMiddleware, GZipResponder
from tachyon_http.types import Message, Receive, Scope, Send
from tachyon_testclient.testclient import TestClient


def app_sending(*messages: Message) -> object:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in messages:
            await send(dict(message))

    return app


def start(*headers: tuple[bytes, bytes], status: int = 200) -> Message:
    return {"type": "http.response.start", "status": status, "headers": list(headers)}


def body(data: bytes, more: bool = False) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": more}


def get(app: object, encoding: str = "gzip") -> object:
    return TestClient(GZipMiddleware(app)).get("/", headers={"accept-encoding": encoding})  # type: ignore[arg-type]


def test_large_body_is_compressed_with_length_and_vary() -> None:
    payload = b"x" * 4000
    response = get(app_sending(start((b"content-length", b"4000")), body(payload)))
    assert response.headers["content-encoding"] == "gzip"  # type: ignore[attr-defined]
    assert response.headers["vary"] == "Accept-Encoding"  # type: ignore[attr-defined]
    assert int(response.headers["content-length"]) < 4000  # type: ignore[attr-defined]
    assert response.content == payload  # type: ignore[attr-defined]


def test_existing_vary_values_are_kept() -> None:
    app = app_sending(start((b"vary", b"Origin"), (b"vary", b"Cookie")), body(b"x" * 4000))
    assert get(app).headers["vary"] == "Origin, Cookie, Accept-Encoding"  # type: ignore[attr-defined]


def test_small_body_is_not_compressed_and_not_varied() -> None:
    response = get(app_sending(start(), body(b"small")))
    assert "content-encoding" not in response.headers  # type: ignore[attr-defined]
    assert "vary" not in response.headers  # type: ignore[attr-defined]
    assert response.content == b"small"  # type: ignore[attr-defined]


def test_already_encoded_body_is_left_alone() -> None:
    payload = gzip.compress(b"y" * 4000)
    response = TestClient(
        GZipMiddleware(app_sending(start((b"content-encoding", b"x-custom")), body(payload * 2)))  # type: ignore[arg-type]
    ).get("/", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "x-custom"
    assert "vary" not in response.headers


def test_client_without_gzip_gets_identity_but_vary() -> None:
    response = get(app_sending(start(), body(b"x" * 4000)), encoding="br")
    assert "content-encoding" not in response.headers  # type: ignore[attr-defined]
    assert response.headers["vary"] == "Accept-Encoding"  # type: ignore[attr-defined]


def test_streaming_body_is_compressed_chunk_by_chunk_without_length() -> None:
    chunks = [b"a" * 1000, b"b" * 1000, b""]
    app = app_sending(start((b"content-length", b"2000")), body(chunks[0], True), body(chunks[1], True), body(b""))
    response = get(app)
    assert response.headers["content-encoding"] == "gzip"  # type: ignore[attr-defined]
    assert "content-length" not in response.headers  # type: ignore[attr-defined]
    assert response.content == b"".join(chunks)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "content_type", [b"image/png", b"video/mp4", b"text/event-stream; charset=utf-8", b"application/grpc+proto"]
)
def test_excluded_media_types_are_not_compressed(content_type: bytes) -> None:
    response = get(app_sending(start((b"content-type", content_type)), body(b"x" * 4000)))
    assert "content-encoding" not in response.headers  # type: ignore[attr-defined]


def test_partial_content_is_not_compressed() -> None:
    response = get(app_sending(start(status=206), body(b"x" * 4000)))
    assert "content-encoding" not in response.headers  # type: ignore[attr-defined]


def test_responder_normalises_its_exclusions() -> None:
    responder = GZipResponder(app_sending(), 10, exclude_content_types=("Text/HTML; charset=utf-8",))  # type: ignore[arg-type]
    assert responder.exclude_content_types == frozenset({"text/html"})


def test_each_streamed_chunk_is_decodable_on_arrival() -> None:
    events: list[Message] = []
    inner = GZipMiddleware(
        app_sending(start(), body(b"data: one\n\n" * 100, True), body(b"data: two\n\n" * 100))  # type: ignore[arg-type]
    )

    async def recorder(scope: Scope, receive: Receive, send: Send) -> None:
        async def record(message: Message) -> None:
            events.append(message)
            await send(message)

        await inner(scope, receive, record)

    TestClient(recorder).get("/", headers={"accept-encoding": "gzip"})
    import zlib

    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert decoder.decompress(events[1]["body"]) == b"data: one\n\n" * 100
    assert decoder.decompress(events[2]["body"]) == b"data: two\n\n" * 100


def test_large_bodies_are_compressed_off_the_event_loop() -> None:
    payload = b"z" * 4096
    app = app_sending(start(), body(payload))
    response = TestClient(GZipMiddleware(app, thread_minimum_size=1024)).get(  # type: ignore[arg-type]
        "/", headers={"accept-encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == payload


def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    anyio.run(GZipMiddleware(app), {"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan"]


@pytest.mark.parametrize("level", [-2, 10])
def test_invalid_compression_level_is_refused_at_construction(level: int) -> None:
    with pytest.raises(ValueError, match="compresslevel"):
        GZipMiddleware(app_sending(), compresslevel=level)  # type: ignore[arg-type]


def test_huge_content_types_are_classified_but_not_cached() -> None:
    # A Content-Type may be echoed from a request: one larger than any honest value must not be kept by a cache.
    import gc

    from tachyon.middleware.gzip import _is_excluded

    excluded = frozenset({"text/event-stream"})
    for index in range(8):
        value = b"text/event-stream; x=" + b"y" * 20_000 + b"%d" % index
        referrers = len(gc.get_referrers(value))
        assert _is_excluded(value, excluded)
        assert len(gc.get_referrers(value)) == referrers, "the value is still referenced after the call"
    assert not _is_excluded(b"text/plain", excluded)
