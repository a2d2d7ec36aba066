from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from hypothesis import given, settings, strategies as st
from tachyon_http.datastructures import URL, Address, FormData, QueryParams, State, UploadFile
from tachyon_http.exceptions import HTTPException
from tachyon_http.formparsers import MultiPartException
from tachyon_http.requests import (
    SERVER_PUSH_HEADERS_TO_COPY,
    ClientDisconnect,
    HTTPConnection,
    Request,
    cookie_parser,
    empty_receive,
    empty_send,
)
from tachyon_http.types import Message, Scope

MakeRequest = Callable[..., Request]
MakeScope = Callable[..., Scope]

# --- HTTPConnection -----------------------------------------------------------------------------------------------


def test_connection_is_a_read_only_view_of_the_scope(make_scope: MakeScope) -> None:
    scope = make_scope()
    conn = HTTPConnection(scope)
    assert conn["path"] == "/" and len(conn) == len(scope) and set(conn) == set(scope)


def test_connections_compare_by_identity_and_are_hashable(make_scope: MakeScope) -> None:
    scope = make_scope()
    first, second = HTTPConnection(scope), HTTPConnection(scope)
    assert first != second and first == first
    assert len({first, second}) == 2


def test_connection_rejects_other_scope_types() -> None:
    with pytest.raises(AssertionError):
        HTTPConnection({"type": "lifespan"})
    with pytest.raises(AssertionError):
        Request({"type": "websocket"})


def test_url_is_rebuilt_from_the_scope(make_scope: MakeScope) -> None:
    scope = make_scope(path="/a b", query_string=b"x=1", headers=[(b"host", b"example.org")])
    conn = HTTPConnection(scope)
    assert conn.url == "http://example.org/a b?x=1"
    assert conn.url is conn.url  # cached


def test_url_ignores_a_malformed_host_header(make_scope: MakeScope) -> None:
    scope = make_scope(path="/admin", headers=[(b"host", b"evil.example/?x=")], server=("real.example", 80))
    assert HTTPConnection(scope).url == "http://real.example/admin"


def test_base_url_uses_the_application_root_path(make_scope: MakeScope) -> None:
    scope = make_scope(path="/sub/page", root_path="/sub", app_root_path="/app", query_string=b"q=1")
    assert HTTPConnection(scope).base_url == "http://testserver/app/"
    scope = make_scope(path="/sub/page", root_path="/sub")
    assert HTTPConnection(scope).base_url == "http://testserver/sub/"


def test_headers_query_params_cookies_are_built_lazily_once(make_scope: MakeScope) -> None:
    scope = make_scope(
        query_string=b"a=1&a=2",
        headers=[(b"cookie", b"x=1; y=2"), (b"cookie", b"y=3"), (b"accept", b"*/*")],
    )
    conn = HTTPConnection(scope)
    assert conn.__dict__ == {"scope": scope}  # nothing built yet
    assert conn.headers["accept"] == "*/*" and conn.headers is conn.headers
    assert conn.query_params == QueryParams("a=1&a=2") and conn.query_params is conn.query_params
    assert conn.cookies == {"x": "1", "y": "3"} and conn.cookies is conn.cookies


def test_path_params_client_and_app(make_scope: MakeScope) -> None:
    marker = object()
    conn = HTTPConnection(make_scope(path_params={"id": 3}, app=marker))
    assert conn.path_params == {"id": 3}
    assert conn.client == Address("127.0.0.1", 50000) and isinstance(conn.client, Address)
    assert conn.app is marker
    assert HTTPConnection(make_scope(client=None)).client is None
    assert HTTPConnection({"type": "http"}).path_params == {}


def test_state_writes_through_to_the_scope(make_scope: MakeScope) -> None:
    scope = make_scope()
    conn = HTTPConnection(scope)
    conn.state.user = "ann"
    assert scope["state"] == {"user": "ann"} and isinstance(conn.state, State)
    assert HTTPConnection(scope).state.user == "ann"


@pytest.mark.parametrize(
    ("attribute", "message"),
    [
        ("session", "SessionMiddleware must be installed to access request.session"),
        ("auth", "AuthenticationMiddleware must be installed to access request.auth"),
        ("user", "AuthenticationMiddleware must be installed to access request.user"),
    ],
)
def test_middleware_backed_attributes_explain_what_is_missing(
    make_scope: MakeScope, attribute: str, message: str
) -> None:
    with pytest.raises(AssertionError, match=message):
        getattr(HTTPConnection(make_scope()), attribute)


def test_session_marks_tracking_sessions_as_accessed(make_scope: MakeScope) -> None:
    class TrackingSession(dict[str, Any]):
        accessed = False

        def mark_accessed(self) -> None:
            self.accessed = True

    session = TrackingSession(a=1)
    conn = HTTPConnection(make_scope(session=session, auth="token", user="ann"))
    assert conn.session is session and session.accessed
    assert (conn.auth, conn.user) == ("token", "ann")
    assert HTTPConnection(make_scope(session={"plain": True})).session == {"plain": True}


def test_url_for_uses_the_router_and_base_url(make_scope: MakeScope) -> None:
    from tachyon_http.datastructures import URLPath

    class FakeRouter:
        def url_path_for(self, name: str, /, **params: Any) -> URLPath:
            return URLPath(f"/{name}/{params['id']}")

    scope = make_scope(router=FakeRouter(), root_path="/api")
    assert HTTPConnection(scope).url_for("user", id=7) == URL("http://testserver/api/user/7")
    with pytest.raises(RuntimeError, match="`url_for` method can only be used inside"):
        HTTPConnection(make_scope()).url_for("user")


# --- cookies ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("  spaced  =  out  ", {"spaced": "out"}),
        ("novalue", {"": "novalue"}),
        ("a=1;;; b=2;", {"a": "1", "b": "2"}),
        ("a=1; a=2", {"a": "2"}),
        ('q="quoted value"', {"q": "quoted value"}),
        ('o="\\101\\"x"', {"o": 'A"x'}),
        ("eq=a=b", {"eq": "a=b"}),
        ("", {}),
        ('keebler=E=mc2; L="Loves"; fudge=\\012;', {"keebler": "E=mc2", "L": "Loves", "fudge": "\\012"}),
    ],
)
def test_cookie_parser(header: str, expected: dict[str, str]) -> None:
    assert cookie_parser(header) == expected


# --- Request body -------------------------------------------------------------------------------------------------


def test_request_method_and_receive(make_request: MakeRequest) -> None:
    request = make_request(b"", method="PATCH")
    assert request.method == "PATCH"
    assert callable(request.receive)


@pytest.mark.anyio
async def test_body_joins_chunks_and_is_cached(make_request: MakeRequest) -> None:
    request = make_request([b"ab", b"", b"cd"])
    assert await request.body() == b"abcd"
    assert await request.body() == b"abcd"


@pytest.mark.anyio
async def test_stream_yields_chunks_then_an_empty_one(make_request: MakeRequest) -> None:
    request = make_request([b"ab", b"cd"])
    assert [chunk async for chunk in request.stream()] == [b"ab", b"cd", b""]
    with pytest.raises(RuntimeError, match="Stream consumed"):
        async for _ in request.stream():
            pass


@pytest.mark.anyio
async def test_stream_after_body_replays_the_body(make_request: MakeRequest) -> None:
    request = make_request([b"ab", b"cd"])
    await request.body()
    assert [chunk async for chunk in request.stream()] == [b"abcd", b""]


@pytest.mark.anyio
async def test_a_disconnect_during_the_body_raises_client_disconnect(make_scope: MakeScope) -> None:
    async def receive() -> Message:
        return {"type": "http.disconnect"}

    request = Request(make_scope(), receive)
    with pytest.raises(ClientDisconnect):
        await request.body()
    assert await request.is_disconnected()


@pytest.mark.anyio
async def test_json_parses_the_body(make_request: MakeRequest) -> None:
    request = make_request(b'{"a": [1, 2.5, null, "\xc3\xa9"]}')
    assert await request.json() == {"a": [1, 2.5, None, "é"]}
    assert await request.json() is await request.json()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[NaN, Infinity]", "[nan, inf]"),
        (b"123456789012345678901234567890", "123456789012345678901234567890"),
        ('{"a": 1}'.encode("utf-16"), "{'a': 1}"),
        (b'"\\ud800"', "'\\ud800'"),
        (b'\xef\xbb\xbf{"bom": true}', "{'bom': True}"),
    ],
)
async def test_json_accepts_what_the_standard_library_accepts(
    make_request: MakeRequest, body: bytes, expected: str
) -> None:
    assert repr(await make_request(body).json()) == expected


@pytest.mark.anyio
@pytest.mark.parametrize("body", [b"", b"{", b"{'a': 1}", b"[1,]", b"\xff"])
async def test_invalid_json_raises_json_decode_error(make_request: MakeRequest, body: bytes) -> None:
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)) as caught:
        await make_request(body).json()
    assert isinstance(caught.value, ValueError)


@pytest.mark.anyio
async def test_invalid_json_error_matches_the_standard_library(make_request: MakeRequest) -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        await make_request(b'{"a": }').json()
    with pytest.raises(json.JSONDecodeError) as reference:
        json.loads(b'{"a": }')
    assert str(caught.value) == str(reference.value)


# --- forms --------------------------------------------------------------------------------------------------------

URLENCODED = [(b"content-type", b"application/x-www-form-urlencoded")]


@pytest.mark.anyio
async def test_form_urlencoded(make_request: MakeRequest) -> None:
    request = make_request(b"a=1&b=two+words&a=%C3%A9", headers=URLENCODED)
    form = await request.form()
    assert form.multi_items() == [("a", "1"), ("b", "two words"), ("a", "é")]
    assert await request.form() is form


@pytest.mark.anyio
async def test_form_multipart_as_context_manager_closes_files(make_request: MakeRequest) -> None:
    body = b'--X\r\nContent-Disposition: form-data; name="doc"; filename="d.txt"\r\n\r\nfile body\r\n--X--\r\n'
    request = make_request(body, headers=[(b"content-type", b"multipart/form-data; boundary=X")])
    async with request.form() as form:
        upload = form["doc"]
        assert isinstance(upload, UploadFile)
        assert await upload.read() == b"file body"
    assert upload.file.closed


@pytest.mark.anyio
@pytest.mark.parametrize("content_type", [None, b"text/plain", b"application/json", b""])
async def test_form_of_other_content_types_is_empty(make_request: MakeRequest, content_type: bytes | None) -> None:
    headers = [] if content_type is None else [(b"content-type", content_type)]
    request = make_request(b"a=1", headers=headers)
    assert await request.form() == FormData()


@pytest.mark.anyio
async def test_form_errors_raise_multipart_exception_without_an_app(make_request: MakeRequest) -> None:
    request = make_request(b"a=1&b=2", headers=URLENCODED)
    with pytest.raises(MultiPartException, match="Too many fields. Maximum number of fields is 1."):
        await request.form(max_fields=1)


@pytest.mark.anyio
async def test_form_errors_become_400_inside_an_app(make_request: MakeRequest) -> None:
    request = make_request(b"a=" + b"x" * 2048, headers=URLENCODED, app=object())
    with pytest.raises(HTTPException) as caught:
        await request.form(max_part_size=1024)
    assert caught.value.status_code == 400
    assert caught.value.detail == "Field exceeded maximum size of 1KB."


@pytest.mark.anyio
async def test_close_closes_the_parsed_form(make_request: MakeRequest) -> None:
    body = b'--X\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\nx\r\n--X--\r\n'
    request = make_request(body, headers=[(b"content-type", b"multipart/form-data; boundary=X")])
    form = await request.form()
    await request.close()
    upload = form["f"]
    assert isinstance(upload, UploadFile) and upload.file.closed
    await make_request(b"").close()  # no form: nothing to do


# --- disconnects, push, early hints -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_is_disconnected_polls_without_blocking(make_scope: MakeScope) -> None:
    async def never() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    request = Request(make_scope(), never)
    with anyio.fail_after(1):
        assert await request.is_disconnected() is False


@pytest.mark.anyio
async def test_is_disconnected_sees_a_pending_disconnect(make_scope: MakeScope) -> None:
    async def receive() -> Message:
        return {"type": "http.disconnect"}

    request = Request(make_scope(), receive)
    assert await request.is_disconnected() is True
    assert await request.is_disconnected() is True


@pytest.mark.anyio
async def test_send_push_promise_copies_selected_headers(make_scope: MakeScope) -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [(b"accept", b"text/html"), (b"cookie", b"secret"), (b"user-agent", b"ua")]
    request = Request(make_scope(headers=headers, extensions={"http.response.push": {}}), empty_receive, send)
    await request.send_push_promise("/style.css")
    assert sent[0]["type"] == "http.response.push" and sent[0]["path"] == "/style.css"
    assert sorted(sent[0]["headers"]) == [(b"accept", b"text/html"), (b"user-agent", b"ua")]
    assert "cookie" not in SERVER_PUSH_HEADERS_TO_COPY

    silent = Request(make_scope(), empty_receive, send)
    await silent.send_push_promise("/x")
    assert len(sent) == 1


@pytest.mark.anyio
async def test_send_early_hints_when_the_server_supports_them(make_scope: MakeScope) -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = make_scope(extensions={"http.response.early_hint": {}})
    await Request(scope, empty_receive, send).send_early_hints("</a.css>; rel=preload", "</b.js>; rel=preload")
    assert sent == [{"type": "http.response.early_hint", "links": [b"</a.css>; rel=preload", b"</b.js>; rel=preload"]}]
    await Request(make_scope(), empty_receive, send).send_early_hints("</c>")
    assert len(sent) == 1


@pytest.mark.anyio
async def test_empty_channels_raise() -> None:
    with pytest.raises(RuntimeError, match="Receive channel has not been made available"):
        await empty_receive()
    with pytest.raises(RuntimeError, match="Send channel has not been made available"):
        await empty_send({})


@pytest.mark.anyio
async def test_two_streams_share_one_body(make_request: MakeRequest) -> None:
    request = make_request([b"1", b"2", b"3"])
    first, second = request.stream(), request.stream()
    assert await first.__anext__() == b"1"
    assert await second.__anext__() == b"2"
    assert await first.__anext__() == b"3"
    # The body is fully read: neither generator waits for more.
    assert await first.__anext__() == b""
    assert await second.__anext__() == b""
    with pytest.raises(StopAsyncIteration):
        await second.__anext__()


try:
    from starlette.requests import cookie_parser as _reference_cookie_parser
except ImportError:  # pragma: no cover - the reference is a development dependency only
    _reference_cookie_parser = None


@pytest.mark.skipif(
    _reference_cookie_parser is None or _reference_cookie_parser is cookie_parser,
    reason="the real Starlette is not importable in this process",
)
@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "=", ";", " ", '"', "\\", "\\0", "\\12", "\\101", "é", "\t", "\n", "x=y"]), max_size=14
    )
)
def test_cookie_parser_matches_starlette(pieces: list[str]) -> None:
    header = "".join(pieces)
    assert _reference_cookie_parser is not None
    assert cookie_parser(header) == _reference_cookie_parser(header)
