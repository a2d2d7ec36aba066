"""The Response family, driven through raw ASGI: the messages sent are the specification (Starlette 1.10's)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import anyio
import pytest
from tachyon_http.background import BackgroundTask, BackgroundTasks
from tachyon_http.datastructures import URL, Headers, MutableHeaders
from tachyon_http.requests import ClientDisconnect
from tachyon_http.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    MalformedRangeHeader,
    PlainTextResponse,
    RangeNotSatisfiable,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from tachyon_http.types import ASGIApp, Message, Receive, Scope

pytestmark = pytest.mark.anyio


def http_scope(method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None, **extra: Any) -> Scope:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "path": "/",
        "headers": headers or [],
    }
    scope.update(extra)
    return scope


async def unreadable_receive() -> Message:
    raise AssertionError("the response must not read from the client")


async def run(app: ASGIApp, scope: Scope | None = None, receive: Receive = unreadable_receive) -> list[Message]:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    await app(http_scope() if scope is None else scope, receive, send)
    return messages


def start_headers(messages: list[Message]) -> Headers:
    assert messages[0]["type"] == "http.response.start"
    return Headers(raw=messages[0]["headers"])


def body_of(messages: list[Message]) -> bytes:
    return b"".join(message.get("body", b"") for message in messages[1:])


# --- Response -----------------------------------------------------------------------------------------------


async def test_response_sends_exactly_two_messages() -> None:
    assert await run(Response(b"ok")) == [
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]},
        {"type": "http.response.body", "body": b"ok"},
    ]


async def test_a_response_can_be_sent_many_times_with_fresh_messages() -> None:
    response = PlainTextResponse("hi")
    first = await run(response)
    second = await run(response)
    assert first == second
    assert first[0] is not second[0]


@pytest.mark.parametrize(
    ("content", "body"),
    [
        (None, b""),
        (b"bytes", b"bytes"),
        ("text ✓", "text ✓".encode()),
        (memoryview(b"\xc0\xff"), b"\xc0\xff"),
        (memoryview(b"01234567").cast("I"), b"01234567"),
        (memoryview(b"01234567")[::2], b"0246"),
    ],
    ids=["none", "bytes", "str", "memoryview", "typed-memoryview", "strided-memoryview"],
)
async def test_content_is_rendered_to_bytes_with_a_byte_length(content: Any, body: bytes) -> None:
    response = Response(content)
    assert bytes(response.body) == body
    messages = await run(response)
    assert bytes(messages[1]["body"]) == body
    assert start_headers(messages)["content-length"] == str(len(body))


async def test_str_content_uses_the_class_charset() -> None:
    class Latin1Response(Response):
        charset = "latin-1"
        media_type = "text/plain"

    response = Latin1Response("é")
    assert response.body == b"\xe9"
    assert response.headers["content-type"] == "text/plain; charset=latin-1"


async def test_unencodable_content_raises() -> None:
    with pytest.raises(AttributeError):
        Response(12345)


@pytest.mark.parametrize(
    ("media_type", "content_type"),
    [
        ("text/plain", "text/plain; charset=utf-8"),
        ("text/html", "text/html; charset=utf-8"),
        ("text/plain; charset=latin-1", "text/plain; charset=latin-1"),
        ("text/plain; Charset=UTF-8", "text/plain; Charset=UTF-8"),
        ("application/json", "application/json"),
        ("image/png", "image/png"),
    ],
)
async def test_text_media_types_get_a_charset_unless_they_have_one(media_type: str, content_type: str) -> None:
    messages = await run(Response("x", media_type=media_type))
    assert start_headers(messages)["content-type"] == content_type


async def test_no_media_type_means_no_content_type() -> None:
    headers = start_headers(await run(Response(b"x")))
    assert "content-type" not in headers


@pytest.mark.parametrize("status_code", [100, 101, 199, 204, 304])
async def test_no_content_length_for_responses_without_a_body(status_code: int) -> None:
    headers = start_headers(await run(Response(status_code=status_code)))
    assert "content-length" not in headers


@pytest.mark.parametrize("status_code", [200, 201, 205, 301, 400, 404, 500])
async def test_content_length_for_every_other_status(status_code: int) -> None:
    headers = start_headers(await run(Response(b"abc", status_code=status_code)))
    assert headers["content-length"] == "3"


async def test_empty_response_has_content_length_zero_and_no_content_type() -> None:
    headers = start_headers(await run(Response()))
    assert headers["content-length"] == "0"
    assert "content-type" not in headers


async def test_head_requests_get_the_same_headers_and_the_server_drops_the_body() -> None:
    messages = await run(Response("hello", media_type="text/plain"), http_scope("HEAD"))
    assert start_headers(messages)["content-length"] == "5"


async def test_given_headers_come_first_lowercased_then_computed_ones() -> None:
    response = Response("hi", media_type="text/plain", headers={"X-One": "1", "X-Two": "2"})
    assert response.raw_headers == [
        (b"x-one", b"1"),
        (b"x-two", b"2"),
        (b"content-length", b"2"),
        (b"content-type", b"text/plain; charset=utf-8"),
    ]


async def test_given_content_length_and_content_type_are_kept() -> None:
    response = Response("hi", media_type="text/plain", headers={"Content-Length": "99", "Content-Type": "x/y"})
    assert response.raw_headers == [(b"content-length", b"99"), (b"content-type", b"x/y")]


async def test_an_empty_headers_mapping_still_populates_headers() -> None:
    response = Response("hi", headers={}, media_type="text/html")
    assert response.raw_headers == [(b"content-length", b"2"), (b"content-type", b"text/html; charset=utf-8")]


@pytest.mark.parametrize(
    "headers",
    [
        {"x-evil": "1\r\nSet-Cookie: a=b"},
        {"x-evil": "1\nX: 2"},
        {"x-evil": "1\r"},
        {"x-evil": "nul\x00byte"},
        {"x-evil\r\nx-other": "1"},
    ],
)
async def test_header_values_and_names_with_cr_lf_nul_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="forbidden character"):
        Response("x", headers=headers)


async def test_a_media_type_with_cr_lf_is_refused() -> None:
    with pytest.raises(ValueError, match="forbidden character"):
        Response("x", media_type="text/plain\r\nX-Injected: 1")


async def test_header_values_must_be_latin_1() -> None:
    with pytest.raises(UnicodeEncodeError):
        Response("x", headers={"x-snowman": "☃"})


async def test_headers_property_edits_the_list_that_is_sent() -> None:
    response = Response("hello", media_type="text/plain", headers={"x-header-1": "123", "x-header-2": "456"})
    response.headers["x-header-2"] = "789"
    del response.headers["x-header-1"]
    response.headers.append("x-multi", "a")
    response.headers.append("x-multi", "b")
    headers = start_headers(await run(response))
    assert "x-header-1" not in headers
    assert headers["x-header-2"] == "789"
    assert headers.getlist("x-multi") == ["a", "b"]
    assert isinstance(response.headers, MutableHeaders)
    assert response.headers is response.headers


async def test_headers_property_follows_a_replaced_raw_headers_list() -> None:
    response = Response(b"x")
    assert response.headers["content-length"] == "1"
    response.raw_headers = [(b"x-new", b"1")]
    assert response.headers["x-new"] == "1"
    response.headers["x-added"] = "2"
    assert response.raw_headers == [(b"x-new", b"1"), (b"x-added", b"2")]


async def test_subclass_render_and_init_headers_overrides_are_used() -> None:
    class Upper(Response):
        media_type = "text/plain"

        def render(self, content: Any) -> bytes:
            return str(content).upper().encode()

        def init_headers(self, headers: Any = None) -> None:
            super().init_headers(headers)
            self.raw_headers.append((b"x-rendered", b"yes"))

    messages = await run(Upper("abc"))
    assert messages[1]["body"] == b"ABC"
    assert start_headers(messages)["x-rendered"] == "yes"


async def test_a_render_override_returning_none_gives_no_content_length() -> None:
    class NoBody(Response):
        def render(self, content: Any) -> Any:
            return None

    assert NoBody("ignored", media_type="text/plain").raw_headers == [(b"content-type", b"text/plain; charset=utf-8")]


async def test_background_task_runs_after_the_body_is_sent() -> None:
    events: list[str] = []

    async def send(message: Message) -> None:
        events.append(message["type"])

    async def task(name: str) -> None:
        events.append(name)

    response = Response(b"x", background=BackgroundTask(task, "background"))
    await response(http_scope(), unreadable_receive, send)
    assert events == ["http.response.start", "http.response.body", "background"]


async def test_background_tasks_run_in_order() -> None:
    done: list[int] = []
    tasks = BackgroundTasks()
    tasks.add_task(done.append, 1)
    tasks.add_task(done.append, 2)
    await run(Response(b"x", background=tasks))
    assert done == [1, 2]


async def test_websocket_scope_sends_a_denial_response() -> None:
    messages = await run(PlainTextResponse("denied", status_code=403), {"type": "websocket", "headers": []})
    assert [message["type"] for message in messages] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert messages[0]["status"] == 403
    assert messages[1]["body"] == b"denied"


async def test_status_code_and_media_type_are_attributes() -> None:
    response = HTMLResponse("<p>", status_code=418)
    assert response.status_code == 418
    assert response.media_type == "text/html"
    assert response.charset == "utf-8"
    assert response.background is None
    assert PlainTextResponse.media_type == "text/plain"
    assert Response.media_type is None


# --- JSONResponse -------------------------------------------------------------------------------------------


async def test_json_response_messages() -> None:
    assert await run(JSONResponse({"hello": "wörld", "n": [1, 2.5, None]})) == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", b"35"), (b"content-type", b"application/json")],
        },
        {"type": "http.response.body", "body": '{"hello":"wörld","n":[1,2.5,null]}'.encode()},
    ]


async def test_json_none_is_null() -> None:
    assert JSONResponse(None).body == b"null"


async def test_json_response_requires_content() -> None:
    with pytest.raises(TypeError):
        JSONResponse()  # type: ignore[call-arg]


async def test_json_response_status_204_has_no_content_length() -> None:
    assert JSONResponse(None, status_code=204).raw_headers == [(b"content-type", b"application/json")]


async def test_json_response_with_headers_and_media_type() -> None:
    response = JSONResponse([1], status_code=201, headers={"x-id": "7"}, media_type="application/vnd.api+json")
    assert response.status_code == 201
    assert response.raw_headers == [
        (b"x-id", b"7"),
        (b"content-length", b"3"),
        (b"content-type", b"application/vnd.api+json"),
    ]


async def test_json_response_rejects_nan_and_unserializable_objects_like_starlette() -> None:
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        JSONResponse({"x": float("nan")})
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        JSONResponse({"x": object()})


async def test_json_response_subclass_render_override_is_used() -> None:
    class Pretty(JSONResponse):
        def render(self, content: Any) -> bytes:
            return b"custom:" + super().render(content)

    response = Pretty({"a": 1})
    assert response.body == b'custom:{"a":1}'
    assert response.headers["content-length"] == str(len(response.body))


async def test_json_response_subclass_media_type_and_charset_are_used() -> None:
    class Problem(JSONResponse):
        media_type = "application/problem+json"

    class NoType(JSONResponse):
        media_type = None  # type: ignore[assignment]

    assert Problem({}).raw_headers == [(b"content-length", b"2"), (b"content-type", b"application/problem+json")]
    assert NoType({}).raw_headers == [(b"content-length", b"2")]


async def test_json_response_background_and_set_cookie() -> None:
    done: list[bool] = []
    response = JSONResponse({"ok": True}, background=BackgroundTask(done.append, True))
    response.set_cookie("session", "abc")
    headers = start_headers(await run(response))
    assert headers["set-cookie"] == "session=abc; Path=/; SameSite=lax"
    assert done == [True]


# --- RedirectResponse ---------------------------------------------------------------------------------------


async def test_redirect_is_307_with_an_empty_body() -> None:
    assert await run(RedirectResponse("/target")) == [
        {
            "type": "http.response.start",
            "status": 307,
            "headers": [(b"content-length", b"0"), (b"location", b"/target")],
        },
        {"type": "http.response.body", "body": b""},
    ]


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/I ♥ Starlette/", "/I%20%E2%99%A5%20Starlette/"),
        ("https://example.com/a?b=c&d=e#frag", "https://example.com/a?b=c&d=e#frag"),
        ("/already%20quoted", "/already%20quoted"),
        ("/keep:@[]!$&'()*+,;=", "/keep:@[]!$&'()*+,;="),
        ('/quote"<>`{}|\\^', "/quote%22%3C%3E%60%7B%7D%7C%5C%5E"),
    ],
)
async def test_redirect_location_is_percent_encoded_like_starlette(url: str, location: str) -> None:
    assert RedirectResponse(url).headers["location"] == location


@pytest.mark.parametrize("url", ["/a\r\nSet-Cookie: evil=1", "/a\nX: 1", "/a\r", "/a\x00b"])
async def test_redirect_location_cannot_split_the_response(url: str) -> None:
    location = RedirectResponse(url).headers["location"]
    assert "\r" not in location and "\n" not in location and "\x00" not in location
    assert "%0D" in location or "%0A" in location or "%00" in location


async def test_redirect_accepts_url_objects_status_headers_and_background() -> None:
    done: list[bool] = []
    response = RedirectResponse(
        URL("https://example.com/x"),
        status_code=303,
        headers={"Location": "/old", "x-extra": "1"},
        background=BackgroundTask(done.append, True),
    )
    messages = await run(response)
    assert messages[0]["status"] == 303
    assert messages[0]["headers"] == [
        (b"location", b"https://example.com/x"),
        (b"x-extra", b"1"),
        (b"content-length", b"0"),
    ]
    assert done == [True]


# --- StreamingResponse --------------------------------------------------------------------------------------


async def numbers(count: int) -> AsyncIterator[str]:
    for number in range(count):
        yield str(number)
        await anyio.sleep(0)


async def test_streaming_response_messages() -> None:
    assert await run(StreamingResponse(numbers(3), media_type="text/plain")) == [
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain; charset=utf-8")]},
        {"type": "http.response.body", "body": b"0", "more_body": True},
        {"type": "http.response.body", "body": b"1", "more_body": True},
        {"type": "http.response.body", "body": b"2", "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]


async def test_streaming_response_from_a_sync_iterator_runs_it_in_threads() -> None:
    import threading

    main_thread = threading.get_ident()
    threads: list[int] = []

    def chunks() -> Iterator[bytes]:
        for chunk in (b"a", b"b"):
            threads.append(threading.get_ident())
            yield chunk

    messages = await run(StreamingResponse(chunks()))
    assert body_of(messages) == b"ab"
    assert threads and all(thread != main_thread for thread in threads)


async def test_streaming_response_accepts_async_iterables_and_memoryviews() -> None:
    class Chunks:
        async def __aiter__(self) -> AsyncIterator[bytes | memoryview | str]:
            yield memoryview(b"\xc0")
            yield b"\xf5"
            yield "é"

    messages = await run(StreamingResponse(Chunks()))
    assert body_of(messages) == b"\xc0\xf5\xc3\xa9"


async def test_streaming_str_chunks_use_the_charset() -> None:
    class Latin1Stream(StreamingResponse):
        charset = "latin-1"

    messages = await run(Latin1Stream(iter(["é"])))
    assert body_of(messages) == b"\xe9"


async def test_streaming_response_has_no_content_length_unless_given() -> None:
    assert "content-length" not in start_headers(await run(StreamingResponse(iter([b"x"]))))
    given = await run(StreamingResponse(iter([b"x"]), headers={"content-length": "1"}))
    assert start_headers(given)["content-length"] == "1"


async def test_streaming_response_runs_background_after_the_stream() -> None:
    events: list[str] = []

    async def record() -> AsyncIterator[bytes]:
        events.append("chunk")
        yield b"x"

    await run(StreamingResponse(record(), background=BackgroundTask(events.append, "background")))
    assert events == ["chunk", "background"]


async def test_streaming_on_asgi_2_4_turns_a_send_oserror_into_client_disconnect() -> None:
    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            raise OSError("connection reset")

    response = StreamingResponse(numbers(10), background=BackgroundTask(pytest.fail, "must not run"))
    with pytest.raises(ClientDisconnect) as info:
        await response(http_scope(), unreadable_receive, send)
    assert isinstance(info.value.__context__, OSError)


async def test_streaming_before_asgi_2_4_stops_when_the_client_disconnects() -> None:
    disconnected = anyio.Event()
    sent: list[Message] = []
    done: list[bool] = []

    async def receive() -> Message:
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if len(sent) == 3:
            disconnected.set()

    async def forever() -> AsyncIterator[bytes]:
        while True:
            yield b"chunk"
            await anyio.sleep(0)

    response = StreamingResponse(forever(), background=BackgroundTask(done.append, True))
    with anyio.fail_after(5):
        await response(http_scope(asgi={"version": "3.0", "spec_version": "2.3"}), receive, send)
    assert done == [True]


async def test_streaming_without_an_asgi_key_listens_for_disconnect_and_stops_listening_when_done() -> None:
    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    scope = http_scope()
    del scope["asgi"]
    with anyio.fail_after(5):
        messages = await run(StreamingResponse(numbers(2)), scope, receive)
    assert body_of(messages) == b"01"


async def test_streaming_in_a_websocket_scope_is_a_denial_response_and_runs_background() -> None:
    done: list[bool] = []
    messages = await run(
        StreamingResponse(numbers(1), background=BackgroundTask(done.append, True)), {"type": "websocket"}
    )
    assert [message["type"] for message in messages] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
        "websocket.http.response.body",
    ]
    assert done == [True]


async def test_malformed_asgi_spec_version_is_an_error() -> None:
    with pytest.raises(ValueError):
        await run(StreamingResponse(numbers(1)), http_scope(asgi={"spec_version": "two"}))


# --- FileResponse -------------------------------------------------------------------------------------------

README = ("# BáiZé\n\nPowerful and exquisite WSGI/ASGI framework/toolkit.\n" * 12).encode()


@pytest.fixture
def readme(tmp_path: Path) -> Path:
    path = tmp_path / "README.txt"
    path.write_bytes(README)
    return path


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * (3 * FileResponse.chunk_size // 256) + b"tail")
    return path


def expected_validators(path: Path) -> tuple[str, str]:
    result = os.stat(path)
    digest = hashlib.md5(f"{result.st_mtime}-{result.st_size}".encode(), usedforsecurity=False).hexdigest()
    return formatdate(result.st_mtime, usegmt=True), f'"{digest}"'


async def test_file_response_sends_the_file_with_its_validators(readme: Path) -> None:
    messages = await run(FileResponse(readme))
    last_modified, etag = expected_validators(readme)
    assert messages[0]["status"] == 200
    assert messages[0]["headers"] == [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"accept-ranges", b"bytes"),
        (b"content-length", str(len(README)).encode()),
        (b"last-modified", last_modified.encode()),
        (b"etag", etag.encode()),
    ]
    assert messages[1:] == [{"type": "http.response.body", "body": README, "more_body": False}]


async def test_file_response_with_a_given_stat_result_sets_headers_at_once(readme: Path) -> None:
    response = FileResponse(readme, stat_result=os.stat(readme))
    last_modified, etag = expected_validators(readme)
    assert response.headers["etag"] == etag
    assert response.headers["last-modified"] == last_modified
    assert response.headers["content-length"] == str(len(README))
    assert body_of(await run(response)) == README


async def test_file_response_streams_large_files_in_chunks(big_file: Path) -> None:
    messages = await run(FileResponse(big_file))
    content = big_file.read_bytes()
    sizes = [len(message["body"]) for message in messages[1:]]
    assert sizes == [FileResponse.chunk_size] * 3 + [4]
    assert [message["more_body"] for message in messages[1:]] == [True, True, True, False]
    assert body_of(messages) == content


def one_read_per_chunk(content: bytes, chunk_size: int) -> list[Message]:
    # The message sequence of reading the file chunk by chunk until a short read (Starlette's loop).
    messages: list[Message] = []
    offset = 0
    while True:
        chunk = content[offset : offset + chunk_size]
        offset += len(chunk)
        messages.append({"type": "http.response.body", "body": chunk, "more_body": len(chunk) == chunk_size})
        if len(chunk) < chunk_size:
            return messages


@pytest.mark.parametrize("chunks", [0, 0.5, 1, 3.5, 4, 8, 9.25], ids=lambda n: f"{n}-chunks")
async def test_file_bodies_are_sent_as_if_read_one_chunk_at_a_time(tmp_path: Path, chunks: float) -> None:
    chunk_size = FileResponse.chunk_size
    content = bytes(range(256)) * int(chunks * chunk_size / 256)
    path = tmp_path / "file.bin"
    path.write_bytes(content)
    messages = await run(FileResponse(path))
    assert messages[1:] == one_read_per_chunk(content, chunk_size)


def one_read_per_range_chunk(content: bytes, start: int, end: int, chunk_size: int) -> list[Message]:
    # Reading min(chunk_size, remaining) per message until the range ends or a read comes back short.
    messages: list[Message] = []
    position = start
    while True:
        chunk = content[position : position + min(chunk_size, end - position)]
        position += len(chunk)
        more = len(chunk) == chunk_size and position < end
        messages.append({"type": "http.response.body", "body": chunk, "more_body": more})
        if not more:
            return messages


@pytest.mark.parametrize(("start", "length"), [(0, 1.5), (10, 4), (0, 4), (5, 8), (100, 9.25)], ids=lambda n: f"{n}")
async def test_large_single_ranges_are_sent_as_if_read_one_chunk_at_a_time(
    tmp_path: Path, start: int, length: float
) -> None:
    chunk_size = FileResponse.chunk_size
    content = bytes(range(256)) * (12 * chunk_size // 256)
    path = tmp_path / "file.bin"
    path.write_bytes(content)
    end = start + int(length * chunk_size)
    scope = http_scope(headers=[(b"range", f"bytes={start}-{end - 1}".encode())])
    messages = await run(FileResponse(path), scope)
    assert messages[0]["status"] == 206
    assert messages[1:] == one_read_per_range_chunk(content, start, end, chunk_size)


@pytest.mark.parametrize("remaining_chunks", [0, 2, 2.5, 7])
async def test_a_range_of_a_file_that_shrank_ends_where_the_file_ends(tmp_path: Path, remaining_chunks: float) -> None:
    chunk_size = FileResponse.chunk_size
    path = tmp_path / "file.bin"
    path.write_bytes(b"a" * (10 * chunk_size))
    response = FileResponse(path, stat_result=os.stat(path))
    shrunk = b"b" * int(remaining_chunks * chunk_size)
    path.write_bytes(shrunk)
    scope = http_scope(headers=[(b"range", f"bytes=0-{9 * chunk_size}".encode())])
    messages = await run(response, scope)
    assert messages[1:] == one_read_per_range_chunk(shrunk, 0, 9 * chunk_size + 1, chunk_size)


async def test_a_file_of_exactly_chunk_size_ends_with_an_empty_chunk(tmp_path: Path) -> None:
    path = tmp_path / "exact"
    path.write_bytes(b"x" * 10)

    class Small(FileResponse):
        chunk_size = 10

    messages = await run(Small(path))
    assert messages[1:] == [
        {"type": "http.response.body", "body": b"x" * 10, "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]


async def test_file_response_head_sends_headers_only(readme: Path) -> None:
    messages = await run(FileResponse(readme, filename="example.png"), http_scope("head"))
    headers = start_headers(messages)
    assert headers["content-type"] == "image/png"
    assert headers["content-length"] == str(len(README))
    assert messages[1:] == [{"type": "http.response.body", "body": b"", "more_body": False}]


async def test_file_response_uses_pathsend_when_the_server_offers_it(readme: Path) -> None:
    messages = await run(FileResponse(readme), http_scope(extensions={"http.response.pathsend": {}}))
    assert messages[1:] == [{"type": "http.response.pathsend", "path": str(readme)}]


@pytest.mark.parametrize(
    ("filename", "disposition_type", "expected"),
    [
        ("example.png", "attachment", 'attachment; filename="example.png"'),
        ("hello.txt", "inline", 'inline; filename="hello.txt"'),
        ("你好.txt", "attachment", "attachment; filename*=utf-8''%E4%BD%A0%E5%A5%BD.txt"),
        ('quote".txt', "attachment", "attachment; filename*=utf-8''quote%22.txt"),
        ("new\r\nline.txt", "attachment", "attachment; filename*=utf-8''new%0D%0Aline.txt"),
    ],
)
async def test_content_disposition_quotes_or_encodes_the_filename(
    readme: Path, filename: str, disposition_type: str, expected: str
) -> None:
    response = FileResponse(readme, filename=filename, content_disposition_type=disposition_type)
    assert response.headers["content-disposition"] == expected


async def test_a_content_disposition_type_with_cr_lf_is_refused(readme: Path) -> None:
    with pytest.raises(ValueError, match="forbidden character"):
        FileResponse(readme, filename="a.txt", content_disposition_type="attachment\r\nX-Evil: 1")


async def test_given_headers_win_over_computed_file_headers(readme: Path) -> None:
    response = FileResponse(
        readme,
        headers={"etag": '"mine"', "content-disposition": "inline", "accept-ranges": "none"},
        filename="x.txt",
        stat_result=os.stat(readme),
    )
    assert response.headers["etag"] == '"mine"'
    assert response.headers["content-disposition"] == "inline"
    assert response.headers["accept-ranges"] == "none"


@pytest.mark.parametrize(
    ("path_name", "media_type", "expected"),
    [
        ("file.unknownext", None, "application/octet-stream"),
        ("page.html", None, "text/html; charset=utf-8"),
        ("image.png", "image/jpeg", "image/jpeg"),
    ],
)
async def test_media_type_is_guessed_from_the_name(
    tmp_path: Path, path_name: str, media_type: str | None, expected: str
) -> None:
    path = tmp_path / path_name
    path.write_bytes(b"x")
    assert FileResponse(path, media_type=media_type).headers["content-type"] == expected


async def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        await run(FileResponse(tmp_path / "missing.txt"))


async def test_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="is not a file"):
        await run(FileResponse(tmp_path))


async def test_a_file_deleted_after_stat_fails_while_streaming_like_starlette(readme: Path) -> None:
    response = FileResponse(readme, stat_result=os.stat(readme))
    readme.unlink()
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(FileNotFoundError):
        await response(http_scope(), unreadable_receive, send)
    assert [message["type"] for message in sent] == ["http.response.start"]


async def test_a_file_that_grew_after_stat_is_streamed_to_its_end(tmp_path: Path) -> None:
    path = tmp_path / "growing"
    path.write_bytes(b"ab")
    response = FileResponse(path, stat_result=os.stat(path))
    path.write_bytes(b"x" * (FileResponse.chunk_size + 5))
    messages = await run(response)
    assert body_of(messages) == b"x" * (FileResponse.chunk_size + 5)


async def test_single_range(readme: Path) -> None:
    messages = await run(FileResponse(readme), http_scope(headers=[(b"range", b"bytes=0-9")]))
    headers = start_headers(messages)
    assert messages[0]["status"] == 206
    assert headers["content-range"] == f"bytes 0-9/{len(README)}"
    assert headers["content-length"] == "10"
    assert messages[1:] == [{"type": "http.response.body", "body": README[:10], "more_body": False}]


async def test_single_range_larger_than_a_chunk_is_streamed(big_file: Path) -> None:
    scope = http_scope(headers=[(b"range", b"bytes=5-")])
    messages = await run(FileResponse(big_file), scope)
    content = big_file.read_bytes()
    assert body_of(messages) == content[5:]
    assert start_headers(messages)["content-length"] == str(len(content) - 5)
    assert messages[-1]["more_body"] is False


async def test_single_range_head(readme: Path) -> None:
    messages = await run(FileResponse(readme), http_scope("HEAD", headers=[(b"range", b"bytes=-5")]))
    assert messages[0]["status"] == 206
    assert start_headers(messages)["content-range"] == f"bytes {len(README) - 5}-{len(README) - 1}/{len(README)}"
    assert messages[1:] == [{"type": "http.response.body", "body": b"", "more_body": False}]


async def test_range_responses_do_not_change_the_response_headers(readme: Path) -> None:
    response = FileResponse(readme)
    await run(response, http_scope(headers=[(b"range", b"bytes=0-1")]))
    await run(response, http_scope(headers=[(b"range", b"bytes=0-1,5-6")]))
    messages = await run(response)
    assert messages[0]["status"] == 200
    assert "content-range" not in start_headers(messages)
    assert start_headers(messages)["content-type"] == "text/plain; charset=utf-8"


async def test_multiple_ranges_are_sent_as_multipart_byteranges(readme: Path) -> None:
    class Small(FileResponse):
        chunk_size = 10

    scope = http_scope(headers=[(b"range", b"bytes=0-15,20-35,35-50")])
    messages = await run(Small(readme), scope)
    headers = start_headers(messages)
    assert messages[0]["status"] == 206
    assert "content-range" not in headers
    boundary = headers["content-type"].removeprefix("multipart/byteranges; boundary=")
    assert len(boundary) == 26
    chunks = [message["body"] for message in messages[1:]]
    size = len(README)

    def part(first: int, last: int) -> bytes:
        return (
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Range: bytes {first}-{last}/{size}\r\n\r\n"
        ).encode()

    assert chunks == [
        part(0, 15),
        README[0:10],
        README[10:16],
        b"\r\n",
        part(20, 50),
        README[20:30],
        README[30:40],
        README[40:50],
        README[50:51],
        b"\r\n",
        f"--{boundary}--".encode(),
    ]
    assert int(headers["content-length"]) == len(b"".join(chunks))
    assert [message["more_body"] for message in messages[1:]] == [True] * 10 + [False]


async def test_multiple_ranges_head(readme: Path) -> None:
    messages = await run(FileResponse(readme), http_scope("HEAD", headers=[(b"range", b"bytes=0-1,5-6")]))
    assert messages[0]["status"] == 206
    assert start_headers(messages)["content-type"].startswith("multipart/byteranges; boundary=")
    assert messages[1:] == [{"type": "http.response.body", "body": b"", "more_body": False}]


async def test_multi_range_on_a_file_that_shrank_raises(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_bytes(b"0123456789")
    response = FileResponse(path, stat_result=path.stat())
    path.write_bytes(b"012")
    with pytest.raises(RuntimeError, match="is shorter than expected"):
        await run(response, http_scope(headers=[(b"range", b"bytes=0-2,5-7")]))


@pytest.mark.parametrize(
    ("range_header", "text"),
    [
        (b"bytes: 0-10", "Malformed range header."),
        (b"items=0-10", "Only support bytes range"),
        (b"bytes=", "Range header: range must be requested"),
        (b"bytes=100-0", "Range header: start must be less than end"),
    ],
)
async def test_malformed_range_gets_400_with_a_reason(readme: Path, range_header: bytes, text: str) -> None:
    done: list[bool] = []
    response = FileResponse(readme, background=BackgroundTask(done.append, True))
    messages = await run(response, http_scope(headers=[(b"range", range_header)]))
    assert messages[0]["status"] == 400
    assert body_of(messages) == text.encode()
    assert start_headers(messages)["content-type"] == "text/plain; charset=utf-8"
    assert done == []


async def test_unsatisfiable_range_gets_416_with_the_size(readme: Path) -> None:
    messages = await run(FileResponse(readme), http_scope(headers=[(b"range", f"bytes={len(README)}-".encode())]))
    assert messages[0]["status"] == 416
    assert start_headers(messages)["content-range"] == f"bytes */{len(README)}"
    assert body_of(messages) == b""


@pytest.mark.parametrize(
    "range_header",
    [
        b"bytes=" + b",".join(b"%d-%d" % (index, index) for index in range(0, 202, 2)),
        b"bytes=0-0" + b"," * 100_000,
        b"bytes=" + b",".join(b"%d-%d" % (index, 10**6 - index) for index in range(5000)),
    ],
    ids=["101-ranges", "100k-commas", "5000-overlapping"],
)
async def test_absurd_range_headers_get_the_whole_file(readme: Path, range_header: bytes) -> None:
    with anyio.fail_after(2):
        messages = await run(FileResponse(readme), http_scope(headers=[(b"range", range_header)]))
    assert messages[0]["status"] == 200
    assert body_of(messages) == README


@pytest.mark.parametrize(
    "range_header",
    [b"bytes=" + b"9" * 10_000 + b"-", b"bytes=-" + b"9" * 10_000, b"bytes=" + b" " * 1_000_000 + b"abc"],
    ids=["huge-start", "huge-suffix", "megabyte-of-spaces"],
)
async def test_absurd_range_values_get_a_quick_4xx(readme: Path, range_header: bytes) -> None:
    with anyio.fail_after(2):
        messages = await run(FileResponse(readme), http_scope(headers=[(b"range", range_header)]))
    assert messages[0]["status"] in (400, 416)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_range_is_ignored_for_other_methods(readme: Path, method: str) -> None:
    messages = await run(FileResponse(readme), http_scope(method, headers=[(b"range", b"bytes=0-1")]))
    assert messages[0]["status"] == 200
    assert body_of(messages) == README


async def test_range_is_ignored_for_a_non_200_response(readme: Path) -> None:
    messages = await run(FileResponse(readme, status_code=404), http_scope(headers=[(b"range", b"bytes=0-1")]))
    assert messages[0]["status"] == 404
    assert body_of(messages) == README


async def test_if_range_matching_the_etag_or_date_allows_the_range(readme: Path) -> None:
    last_modified, etag = expected_validators(readme)
    for validator in (etag, last_modified):
        scope = http_scope(headers=[(b"range", b"bytes=0-1"), (b"if-range", validator.encode())])
        messages = await run(FileResponse(readme), scope)
        assert messages[0]["status"] == 206


@pytest.mark.parametrize("validator", [b'"stale"', b'W/"weak"', b"Thu, 01 Jan 1970 00:00:00 GMT"])
async def test_if_range_that_is_weak_or_stale_gets_the_whole_file(readme: Path, validator: bytes) -> None:
    scope = http_scope(headers=[(b"range", b"bytes=0-1"), (b"if-range", validator)])
    messages = await run(FileResponse(readme), scope)
    assert messages[0]["status"] == 200
    assert body_of(messages) == README


async def test_a_weak_etag_given_as_header_never_matches_if_range(readme: Path) -> None:
    scope = http_scope(headers=[(b"range", b"bytes=0-1"), (b"if-range", b'W/"weak"')])
    messages = await run(FileResponse(readme, headers={"etag": 'W/"weak"'}), scope)
    assert messages[0]["status"] == 200


async def test_the_first_range_header_is_used(readme: Path) -> None:
    scope = http_scope(headers=[(b"range", b"bytes=0-1"), (b"range", b"bytes=2-3")])
    messages = await run(FileResponse(readme), scope)
    assert body_of(messages) == README[:2]


async def test_file_response_before_asgi_2_4_stops_when_the_client_disconnects(big_file: Path) -> None:
    disconnected = anyio.Event()
    done: list[bool] = []

    async def receive() -> Message:
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            disconnected.set()
            await anyio.sleep_forever()

    response = FileResponse(big_file, background=BackgroundTask(done.append, True))
    with anyio.fail_after(5):
        await response(http_scope(asgi={"spec_version": "2.3"}), receive, send)
    assert done == [True]


async def test_file_response_in_a_websocket_scope_is_a_denial_response(readme: Path) -> None:
    messages = await run(FileResponse(readme), {"type": "websocket", "headers": []})
    assert [message["type"] for message in messages] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]


async def test_file_response_background_runs_after_the_file(readme: Path) -> None:
    done: list[bool] = []
    await run(FileResponse(readme, background=BackgroundTask(done.append, True)))
    assert done == [True]


async def test_range_exceptions_are_importable_from_responses() -> None:
    assert MalformedRangeHeader().content == "Malformed range header."
    assert RangeNotSatisfiable(10).max_size == 10
