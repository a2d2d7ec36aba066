from __future__ import annotations

import threading
import warnings
from typing import Any

import anyio
import pytest
from tachyon_http.exceptions import TachyonDeprecationWarning
from tachyon_http.types import Message, Receive, Scope, Send
from tachyon_testclient.testclient import TestClient


async def plain(send: Send, body: bytes = b"ok", status: int = 200, headers: list[Any] | None = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


# ------------------------------------------------------------------------------------------------- scope


def test_scope_describes_the_request_like_a_server_would(client_factory: Any, echo_scope_app: Any) -> None:
    client = client_factory(echo_scope_app)
    data = client.post("/a%20b/c?x=1&y=%C3%A9", content=b"payload", headers={"X-Custom": "V"}).json()
    assert data["method"] == "POST"
    assert data["path"] == "/a b/c"
    assert data["raw_path"] == "/a%20b/c"
    assert data["query_string"] == "x=1&y=%C3%A9"
    assert data["scheme"] == "http"
    assert data["server"] == ["testserver", 80]
    assert data["client"] == ["testclient", 50000]
    assert data["http_version"] == "1.1"
    assert data["root_path"] == ""
    assert data["extensions"] == ["http.response.debug", "http.response.trailers"]
    assert data["body"] == "payload"
    headers = dict(data["headers"])
    assert headers["host"] == "testserver"
    assert headers["user-agent"] == "testclient"
    assert headers["x-custom"] == "V"  # names are lower-cased, values kept


def test_base_url_root_path_and_client_address(client_factory: Any, echo_scope_app: Any) -> None:
    client = client_factory(
        echo_scope_app, base_url="https://example.org:8443/api/", root_path="/mounted", client=("10.0.0.1", 1234)
    )
    data = client.get("/items").json()
    assert data["path"] == "/api/items"
    assert data["scheme"] == "https"
    assert data["server"] == ["example.org", 8443]
    assert data["root_path"] == "/mounted"
    assert data["client"] == ["10.0.0.1", 1234]
    assert dict(data["headers"])["host"] == "example.org:8443"


def test_ipv6_base_url_gives_the_bare_address_as_server(client_factory: Any, echo_scope_app: Any) -> None:
    data = client_factory(echo_scope_app, base_url="http://[::1]:8000").get("/").json()
    assert data["server"] == ["::1", 8000]
    assert dict(data["headers"])["host"] == "[::1]:8000"


def test_default_and_custom_headers(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        values = [value for name, value in scope["headers"] if name in (b"user-agent", b"x-token")]
        await plain(send, b"|".join(values))

    assert client_factory(app).get("/").text == "testclient"
    assert client_factory(app, headers={"User-Agent": "mine"}).get("/").text == "mine"
    response = client_factory(app).get("/", headers=[("x-token", "a"), ("x-token", "b")])
    assert response.text == "testclient|a|b"


def test_asgi2_applications_are_adapted(client_factory: Any) -> None:
    class App:
        def __init__(self, scope: Scope) -> None:
            self.scope = scope

        async def __call__(self, receive: Receive, send: Send) -> None:
            await plain(send, self.scope["path"].encode())

    assert client_factory(App).get("/two").text == "/two"


def test_response_status_headers_and_cookies(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        cookie_header = dict(scope["headers"]).get(b"cookie", b"")
        headers = [(b"set-cookie", b"session=abc; Path=/"), (b"x-raw", b"caf\xc3\xa9")]
        await plain(send, cookie_header, status=201, headers=headers)

    client = client_factory(app, cookies={"initial": "1"})
    response = client.get("/")
    assert response.status_code == 201
    assert response.headers["x-raw"] == "café"
    assert response.text == "initial=1"
    assert client.get("/").text in ("initial=1; session=abc", "session=abc; initial=1")


def test_redirects_are_followed_unless_disabled(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/old":
            await plain(send, b"", status=307, headers=[(b"location", b"/new")])
        else:
            await plain(send, scope["path"].encode())

    assert client_factory(app).get("/old").text == "/new"
    response = client_factory(app, follow_redirects=False).get("/old")
    assert response.status_code == 307


def test_request_body_from_form_json_and_files(client_factory: Any, asgi: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        await plain(send, content_type.split(b";")[0] + b"|" + await asgi.read_body(receive))

    client = client_factory(app)
    assert client.post("/", data={"a": "1"}).content == b"application/x-www-form-urlencoded|a=1"
    assert client.post("/", json={"a": 1}).content == b'application/json|{"a":1}'
    uploaded = client.post("/", files={"f": ("x.txt", b"file-data")}).content
    assert uploaded.startswith(b"multipart/form-data|") and b"file-data" in uploaded


def test_receive_reports_disconnect_after_the_response(client_factory: Any) -> None:
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(await receive())
        await plain(send)
        seen.append(await receive())

    client_factory(app).get("/")
    assert seen == [{"type": "http.request", "body": b""}, {"type": "http.disconnect"}]


def test_timeout_argument_warns(client_factory: Any, echo_scope_app: Any) -> None:
    client = client_factory(echo_scope_app)
    with pytest.warns(
        TachyonDeprecationWarning, match="You should not use the 'timeout' argument with the TestClient."
    ):
        client.get("/", timeout=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.get("/")


# ---------------------------------------------------------------------------------------------- failures


def test_application_exceptions_are_raised_by_default(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        client_factory(app).get("/")


def test_application_exceptions_become_500_when_not_raised(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("boom")

    response = client_factory(app, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.content) == (500, b"")


def test_exception_after_the_response_started_is_raised_or_ignored(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await plain(send, b"sent")
        raise ValueError("late")

    with pytest.raises(ValueError, match="late"):
        client_factory(app).get("/")
    assert client_factory(app, raise_server_exceptions=False).get("/").content == b"sent"


def test_an_application_that_never_responds_is_reported(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    with pytest.raises(AssertionError, match="TestClient did not receive any response."):
        client_factory(app).get("/")
    assert client_factory(app, raise_server_exceptions=False).get("/").status_code == 500


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([{"type": "http.response.body", "body": b""}], 'body" without "http.response.start"'),
        ([{"type": "http.response.start", "status": 200}] * 2, 'multiple "http.response.start"'),
        (
            [{"type": "http.response.start", "status": 200}, {"type": "http.response.body"}] * 1
            + [{"type": "http.response.body"}],
            'body" after response completed',
        ),
        ([{"type": "http.response.start", "status": 200}, {"type": "http.response.trailers"}], "without declaring"),
    ],
)
def test_protocol_violations_are_assertion_errors(client_factory: Any, messages: list[Message], error: str) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in messages:
            await send(message)

    with pytest.raises(AssertionError, match=error):
        client_factory(app).get("/")


# ------------------------------------------------------------------------------------------------ streaming


def test_streamed_response_is_available_before_the_body(client_factory: Any) -> None:
    release = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        assert await anyio.to_thread.run_sync(release.wait, 10)
        await send({"type": "http.response.body", "body": b"late"})

    with client_factory(app).stream("GET", "/") as response:
        assert response.status_code == 200
        release.set()
        assert response.read() == b"late"


def test_streaming_applies_back_pressure(client_factory: Any) -> None:
    produced: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for index in range(3):
            await send({"type": "http.response.body", "body": b"%d" % index, "more_body": True})
            produced.append(index)
        await send({"type": "http.response.body", "body": b""})

    with client_factory(app).stream("GET", "/") as response:
        chunks = response.iter_raw()
        assert next(chunks) == b"0"
        # Chunk 1 has been offered but not taken, so the application is still waiting in send().
        assert 1 not in produced
        assert next(chunks) == b"1"
        assert 2 not in produced
        assert list(chunks) == [b"2"]
    assert produced == [0, 1, 2]


def test_head_responses_have_no_body(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await plain(send, b"body", headers=[(b"content-length", b"4")])

    response = client_factory(app).head("/")
    assert response.content == b""
    assert response.headers["content-length"] == "4"


def test_closing_a_stream_early_cancels_the_application(client_factory: Any, streams_until_cancelled: Any) -> None:
    cancelled = threading.Event()
    with client_factory(streams_until_cancelled(cancelled)).stream("GET", "/") as response:
        assert next(response.iter_raw()) == b"first"
    assert cancelled.is_set()


def test_completed_response_waits_for_work_after_the_body(client_factory: Any) -> None:
    finished = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await plain(send, b"done")
        await anyio.sleep(0.05)
        finished.set()

    assert client_factory(app).get("/").content == b"done"
    assert finished.is_set()


def test_memoryview_chunks_are_copied(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        buffer = bytearray(b"one")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": memoryview(buffer), "more_body": True})
        buffer[:] = b"two"
        await send({"type": "http.response.body", "body": memoryview(buffer)})

    assert client_factory(app).get("/").content == b"onetwo"


def test_closing_the_client_cancels_unread_responses(client_factory: Any) -> None:
    cancelled = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
            with anyio.fail_after(10):
                await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.set()
            raise

    client = client_factory(app)
    response = client.send(client.build_request("GET", "/"), stream=True)
    assert response.status_code == 200
    client.close()
    assert cancelled.is_set()


# -------------------------------------------------------------------------------------- trailers and debug


def test_trailers_are_collected_in_the_response_extensions(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.body", "body": b"hello"})
        await send({"type": "http.response.trailers", "headers": [(b"x-a", b"1")], "more_trailers": True})
        await send({"type": "http.response.trailers", "headers": [(b"x-b", b"2")]})

    response = client_factory(app).get("/")
    assert response.content == b"hello"
    assert response.extensions["http.response.trailers"] == [(b"x-a", b"1"), (b"x-b", b"2")]
    assert "x-a" not in response.headers


def test_responses_without_trailers_have_no_trailer_extension(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await plain(send)

    assert "http.response.trailers" not in client_factory(app).get("/").extensions


def test_debug_info_is_exposed(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.debug", "info": {"template": "t.html", "context": {"a": 1}}})
        await send({"type": "http.response.body", "body": b""})

    response = client_factory(app).get("/")
    assert response.extensions["http.response.debug"] == {"template": "t.html", "context": {"a": 1}}
    assert response.template == "t.html"  # type: ignore[attr-defined]
    assert response.context == {"a": 1}  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------- event loops


def test_each_request_outside_a_with_block_gets_its_own_event_loop(client_factory: Any) -> None:
    loops: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # no lifespan support: the client carries on without one
        loops.append(threading.get_ident())
        await plain(send)

    client = client_factory(app)
    client.get("/")
    client.get("/")
    assert loops[0] != threading.get_ident()
    with client:
        client.get("/")
        client.get("/")
    assert loops[2] == loops[3]


def test_the_client_can_be_used_inside_an_application(client_factory: Any, asgi: Any) -> None:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await plain(send, b"inner")

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        def call_inner() -> bytes:
            return TestClient(inner).get("/").content

        await plain(send, await anyio.to_thread.run_sync(call_inner))

    assert client_factory(outer).get("/").content == b"inner"


def test_streaming_body_generator(client_factory: Any, asgi: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await plain(send, await asgi.read_body(receive))

    def chunks() -> Any:
        yield b"a"
        yield b"b"

    assert client_factory(app).post("/", content=chunks()).content == b"ab"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_empty_chunks_and_head_bodies_are_not_handed_to_the_reader(client_factory: Any, method: str) -> None:
    sent = 0

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal sent
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for index in range(300):
            body = b"" if method == "GET" or index % 2 else b"chunk"
            await send({"type": "http.response.body", "body": body, "more_body": True})
            sent += 1
        await send({"type": "http.response.body", "body": b"end" if method == "GET" else b""})

    with client_factory(app).stream(method, "/") as response:
        assert sent == 0  # nothing is produced before the reader asks
        assert list(response.iter_raw()) == ([b"end"] if method == "GET" else [])
    assert sent == 300
