from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st
from tachyon_http.types import Message, Receive, Scope, Send
from tachyon_ws import websockets as websockets_module
from tachyon_ws.websockets import (
    WebSocket,
    WebSocketClose,
    WebSocketDisconnect,
    WebSocketDisconnected,
    WebSocketState,
)

pytestmark = pytest.mark.anyio

CONNECT: Message = {"type": "websocket.connect"}


def text(data: str) -> Message:
    return {"type": "websocket.receive", "text": data}


def binary(data: bytes) -> Message:
    return {"type": "websocket.receive", "bytes": data}


def disconnect(code: int = 1000, reason: str | None = None) -> Message:
    return {"type": "websocket.disconnect", "code": code, "reason": reason}


@pytest.fixture
def connect(ws_scope: Callable[..., Scope], make_server: Any) -> Callable[..., tuple[WebSocket, Any]]:
    def factory(
        *inbound: Message, send_error: type[BaseException] | None = None, **scope: Any
    ) -> tuple[WebSocket, Any]:
        server = make_server(inbound, send_error=send_error)
        return WebSocket(ws_scope(**scope), server.receive, server.send), server

    return factory


# ---------------------------------------------------------------------------------------------- handshake


async def test_accept_waits_for_the_connect_message_then_sends_accept(connect: Any) -> None:
    websocket, server = connect(CONNECT)
    await websocket.accept(subprotocol="wamp", headers=[(b"x-extra", b"1")])
    assert server.sent == [{"type": "websocket.accept", "subprotocol": "wamp", "headers": [(b"x-extra", b"1")]}]
    assert websocket.client_state is WebSocketState.CONNECTED
    assert websocket.application_state is WebSocketState.CONNECTED


async def test_accept_without_headers_sends_an_empty_header_list(connect: Any) -> None:
    websocket, server = connect(CONNECT)
    await websocket.accept()
    assert server.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]


async def test_accept_after_reading_connect_does_not_receive_again(connect: Any) -> None:
    websocket, server = connect(CONNECT)
    assert await websocket.receive() == CONNECT
    await websocket.accept()  # the scripted server would fail if accept() asked for another message
    assert server.sent[0]["type"] == "websocket.accept"


async def test_first_message_other_than_connect_is_rejected(connect: Any) -> None:
    websocket, _ = connect(text("too early"))
    with pytest.raises(RuntimeError, match="Expected ASGI message \"websocket.connect\", but got 'websocket.receive'"):
        await websocket.receive()


async def test_connected_client_may_only_send_receive_or_disconnect(connect: Any) -> None:
    websocket, _ = connect(CONNECT, CONNECT)
    await websocket.accept()
    with pytest.raises(
        RuntimeError,
        match='Expected ASGI message "websocket.receive" or "websocket.disconnect", but got \'websocket.connect\'',
    ):
        await websocket.receive()


async def test_receive_after_disconnect_raises_websocket_disconnected(connect: Any) -> None:
    websocket, _ = connect(CONNECT, disconnect())
    await websocket.accept()
    assert (await websocket.receive())["type"] == "websocket.disconnect"
    assert websocket.client_state is WebSocketState.DISCONNECTED
    with pytest.raises(WebSocketDisconnected, match='Cannot call "receive" once a disconnect message'):
        await websocket.receive()


def test_websocket_disconnected_is_a_runtime_error() -> None:
    assert issubclass(WebSocketDisconnected, RuntimeError)


# ------------------------------------------------------------------------------------------------ sending


async def test_sending_data_before_accept_is_rejected(connect: Any) -> None:
    websocket, server = connect(CONNECT)
    with pytest.raises(RuntimeError, match='"websocket.accept", "websocket.close" or .* but got \'websocket.send\''):
        await websocket.send_text("hello")
    assert server.sent == []


async def test_second_accept_is_rejected(connect: Any) -> None:
    websocket, _ = connect(CONNECT)
    await websocket.accept()
    with pytest.raises(
        RuntimeError, match='Expected ASGI message "websocket.send" or "websocket.close", but got \'websocket.accept\''
    ):
        await websocket.send({"type": "websocket.accept"})


async def test_send_after_close_raises_websocket_disconnected(connect: Any) -> None:
    websocket, server = connect(CONNECT)
    await websocket.accept()
    await websocket.close()
    assert websocket.application_state is WebSocketState.DISCONNECTED
    with pytest.raises(WebSocketDisconnected, match='Cannot call "send" once a close message has been sent.'):
        await websocket.close()
    assert [message["type"] for message in server.sent] == ["websocket.accept", "websocket.close"]


async def test_close_before_accept_rejects_the_handshake(connect: Any) -> None:
    websocket, server = connect(CONNECT)
    await websocket.receive()
    await websocket.close(code=1008, reason="policy")
    assert server.sent == [{"type": "websocket.close", "code": 1008, "reason": "policy"}]
    assert websocket.application_state is WebSocketState.DISCONNECTED


async def test_close_defaults_to_normal_closure_with_empty_reason(connect: Any) -> None:
    websocket, server = connect(CONNECT)
    await websocket.accept()
    await websocket.close()
    assert server.sent[-1] == {"type": "websocket.close", "code": 1000, "reason": ""}


async def test_os_error_from_the_server_becomes_abnormal_closure(connect: Any) -> None:
    websocket, _ = connect(CONNECT, send_error=OSError)
    await websocket.accept()
    with pytest.raises(WebSocketDisconnect) as info:
        await websocket.send_text("hello")
    assert info.value.code == 1006
    assert websocket.application_state is WebSocketState.DISCONNECTED


async def test_send_text_bytes_and_json_messages(connect: Any) -> None:
    websocket, server = connect(CONNECT)
    await websocket.accept()
    await websocket.send_text("hi")
    await websocket.send_bytes(b"\x00\x01")
    await websocket.send_json({"key": "数据", "list": [1, 2.5, None]})
    await websocket.send_json({"a": 1}, mode="binary")
    assert server.sent[1:] == [
        {"type": "websocket.send", "text": "hi"},
        {"type": "websocket.send", "bytes": b"\x00\x01"},
        {"type": "websocket.send", "text": '{"key":"数据","list":[1,2.5,null]}'},
        {"type": "websocket.send", "bytes": b'{"a":1}'},
    ]


async def test_send_json_matches_the_standard_library_encoding(connect: Any) -> None:
    payload = {"nan": float("nan"), "big": 2**70, 1: "int key", "nested": {"é": [True, False]}}
    websocket, server = connect(CONNECT)
    await websocket.accept()
    await websocket.send_json(payload)
    assert server.sent[-1]["text"] == json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("method", ["send_json", "receive_json"])
async def test_json_mode_must_be_text_or_binary(connect: Any, method: str) -> None:
    websocket, server = connect(CONNECT)
    await websocket.accept()
    arguments: tuple[Any, ...] = ({},) if method == "send_json" else ()
    with pytest.raises(RuntimeError, match='The "mode" argument should be "text" or "binary".'):
        await getattr(websocket, method)(*arguments, mode="invalid")
    assert len(server.sent) == 1


# ---------------------------------------------------------------------------------------------- receiving


async def test_receive_text_bytes_and_json(connect: Any) -> None:
    websocket, _ = connect(CONNECT, text("hello"), binary(b"\xff"), text('{"a": [1]}'), binary('{"é": 1}'.encode()))
    await websocket.accept()
    assert await websocket.receive_text() == "hello"
    assert await websocket.receive_bytes() == b"\xff"
    assert await websocket.receive_json() == {"a": [1]}
    assert await websocket.receive_json(mode="binary") == {"é": 1}


@pytest.mark.parametrize("method", ["receive_text", "receive_bytes", "receive_json"])
async def test_receiving_data_before_accept_raises_websocket_disconnected(connect: Any, method: str) -> None:
    websocket, _ = connect(CONNECT)
    with pytest.raises(WebSocketDisconnected, match='WebSocket is not connected. Need to call "accept" first.'):
        await getattr(websocket, method)()


@pytest.mark.parametrize("method", ["receive_text", "receive_bytes", "receive_json"])
async def test_client_disconnect_raises_with_its_code_and_reason(connect: Any, method: str) -> None:
    websocket, _ = connect(CONNECT, disconnect(1001, "Going Away"))
    await websocket.accept()
    with pytest.raises(WebSocketDisconnect) as info:
        await getattr(websocket, method)()
    assert (info.value.code, info.value.reason) == (1001, "Going Away")


async def test_disconnect_without_a_code_reports_no_status_received(connect: Any) -> None:
    websocket, _ = connect(CONNECT, {"type": "websocket.disconnect"})
    await websocket.accept()
    with pytest.raises(WebSocketDisconnect) as info:
        await websocket.receive_text()
    assert (info.value.code, info.value.reason) == (1005, "")


async def test_iterators_stop_at_disconnect(connect: Any) -> None:
    websocket, _ = connect(CONNECT, text("a"), text("b"), disconnect())
    await websocket.accept()
    assert [item async for item in websocket.iter_text()] == ["a", "b"]

    websocket, _ = connect(CONNECT, binary(b"a"), disconnect())
    await websocket.accept()
    assert [item async for item in websocket.iter_bytes()] == [b"a"]

    websocket, _ = connect(CONNECT, text("[1]"), text('{"b": 2}'), disconnect())
    await websocket.accept()
    assert [item async for item in websocket.iter_json()] == [[1], {"b": 2}]


async def test_invalid_json_raises_the_decoder_error(connect: Any) -> None:
    websocket, _ = connect(CONNECT, text("{nope"))
    await websocket.accept()
    with pytest.raises(json.JSONDecodeError):
        await websocket.receive_json()


# ------------------------------------------------------------------------------------------ denial response


class TinyResponse:
    """A minimal ASGI response, enough to exercise the denial path without an HTTP response class."""

    def __init__(self, status: int, chunks: list[bytes]) -> None:
        self.status = status
        self.chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.http.response.start", "status": self.status, "headers": []})
        for index, chunk in enumerate(self.chunks):
            more = index < len(self.chunks) - 1
            await send({"type": "websocket.http.response.body", "body": chunk, "more_body": more})


async def test_denial_response_is_sent_through_the_extension(connect: Any) -> None:
    websocket, server = connect(CONNECT)
    await websocket.receive()
    await websocket.send_denial_response(TinyResponse(403, [b"no", b"pe"]))  # type: ignore[arg-type]
    assert [message["type"] for message in server.sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
        "websocket.http.response.body",
    ]
    assert websocket.application_state is WebSocketState.DISCONNECTED


async def test_denial_response_without_the_extension_is_an_error(connect: Any) -> None:
    websocket, server = connect(CONNECT, extensions={})
    await websocket.receive()
    with pytest.raises(RuntimeError, match="The server doesn't support the Websocket Denial Response extension."):
        await websocket.send_denial_response(TinyResponse(403, [b""]))  # type: ignore[arg-type]
    assert server.sent == []


async def test_only_body_messages_may_follow_a_denial_start(connect: Any) -> None:
    websocket, _ = connect(CONNECT)
    await websocket.send({"type": "websocket.http.response.start", "status": 404, "headers": []})
    assert websocket.application_state is WebSocketState.RESPONSE
    with pytest.raises(
        RuntimeError,
        match="Expected ASGI message \"websocket.http.response.body\", but got 'websocket.http.response.start'",
    ):
        await websocket.send({"type": "websocket.http.response.start", "status": 404, "headers": []})
    await websocket.send({"type": "websocket.http.response.body", "body": b"a", "more_body": True})
    assert websocket.application_state is WebSocketState.RESPONSE
    await websocket.send({"type": "websocket.http.response.body", "body": b"b"})
    assert websocket.application_state is WebSocketState.DISCONNECTED


# ------------------------------------------------------------------------------------------- connection data


def test_websocket_is_a_read_only_view_of_its_scope(ws_scope: Callable[..., Scope], make_server: Any) -> None:
    server = make_server()
    scope = {"type": "websocket", "path": "/abc/", "headers": []}
    websocket = WebSocket(scope, server.receive, server.send)
    assert websocket["path"] == "/abc/"
    assert dict(websocket) == scope
    assert len(websocket) == 3
    other = WebSocket(dict(scope), server.receive, server.send)
    assert websocket != other
    assert websocket == websocket
    assert {websocket, other} == {other, websocket}


def test_url_headers_and_query_params_come_from_the_scope(ws_scope: Callable[..., Scope], make_server: Any) -> None:
    server = make_server()
    scope = ws_scope(path="/chat", query_string=b"room=1", headers=[(b"host", b"example.com:8080")])
    websocket = WebSocket(scope, server.receive, server.send)
    assert str(websocket.url) == "ws://example.com:8080/chat?room=1"
    assert websocket.query_params["room"] == "1"
    assert websocket.headers["host"] == "example.com:8080"


def test_a_non_websocket_scope_is_refused(ws_scope: Callable[..., Scope], make_server: Any) -> None:
    server = make_server()
    with pytest.raises(AssertionError):
        WebSocket(ws_scope(type="http"), server.receive, server.send)


async def test_websocket_close_app_sends_its_code_and_reason(make_server: Any, ws_scope: Callable[..., Scope]) -> None:
    server = make_server()
    await WebSocketClose(code=1013, reason=None)(ws_scope(), server.receive, server.send)
    assert server.sent == [{"type": "websocket.close", "code": 1013, "reason": ""}]
    assert (WebSocketClose().code, WebSocketClose().reason) == (1000, "")


def test_websocket_disconnect_defaults() -> None:
    exc = WebSocketDisconnect()
    assert (exc.code, exc.reason) == (1000, "")
    assert WebSocketDisconnect(1011, None).reason == ""


def test_package_exports_the_public_names_lazily() -> None:
    import tachyon_ws

    for name in websockets_module.__all__:
        assert getattr(tachyon_ws, name) is getattr(websockets_module, name)
    with pytest.raises(AttributeError):
        _ = tachyon_ws.missing  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------- JSON decoding parity

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    # json.dumps with allow_nan treats NaN as equal to itself in the comparison below; repr keeps -0.0 apart.
    return repr(a) == repr(b) and type(a) is type(b)


@settings(max_examples=300, deadline=None)
@given(_json_values, st.sampled_from([None, 2]))
def test_decoding_matches_the_standard_library_on_valid_documents(value: Any, indent: int | None) -> None:
    document = json.dumps(value, ensure_ascii=bool(indent), indent=indent)
    assert _same(websockets_module._decode_json(document), json.loads(document))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('{}[]":,.-+eE0123456789 \\nultrsfaNIy\ud800u00'), max_size=24))
def test_decoding_matches_the_standard_library_on_arbitrary_text(text_document: str) -> None:
    try:
        expected: Any = json.loads(text_document)
    except json.JSONDecodeError as exc:
        with pytest.raises(json.JSONDecodeError) as info:
            websockets_module._decode_json(text_document)
        assert str(info.value) == str(exc)
    else:
        assert _same(websockets_module._decode_json(text_document), expected)


@pytest.mark.parametrize(
    "document",
    ["NaN", "[Infinity, -Infinity]", str(2**70), '"\\ud800"', '{"a": 1, "a": 2}', "1e400", "-0", "-0.0", "[" * 2000],
)
def test_decoding_edge_cases_follow_the_standard_library(document: str) -> None:
    try:
        expected: Any = json.loads(document)
    except (RecursionError, ValueError) as exc:
        # The standard library's limits differ between Pythons: "[" * 2000 exceeds the recursion limit on
        # 3.11 and 3.12, while 3.13's decoder nests deeper and finds an unterminated document
        # (JSONDecodeError). Either way the WebSocket decoder must fail the same way.
        with pytest.raises(type(exc)):
            websockets_module._decode_json(document)
        return
    assert _same(websockets_module._decode_json(document), expected)


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


# Documents where orjson alone would disagree with json.loads, and ordinary ones around them.
_STARLETTE_JSON_DOCUMENTS = [
    '{"a": [1, 2.5, null, true], "b": "\\u00e9"}',
    "12345678901234567890",
    '{"big": -98765432109876543210123}',
    "[1e400, -1e400]",
    "NaN",
    '"\\ud800"',
    "\ufeff{}",
    "{",
    "",
    _nested(60),
    _nested(200),
    _nested(2000),
]


async def _receive_json_with(websocket_class: Any, document: str, mode: str, headroom: int | None) -> Any:
    """What ``receive_json`` of ``websocket_class`` returns for ``document`` (or the exception's type and text),
    called with at most ``headroom`` frames left below the recursion limit (None: as it is)."""
    inbound = [CONNECT, text(document) if mode == "text" else binary(document.encode("utf-8", "surrogatepass"))]

    async def receive() -> Message:
        return inbound.pop(0)

    async def send(message: Message) -> None:
        pass

    scope = {"type": "websocket", "path": "/", "headers": [], "query_string": b""}
    websocket = websocket_class(scope, receive, send)
    await websocket.accept()
    coroutine = websocket.receive_json(mode=mode)
    limit = sys.getrecursionlimit()
    if headroom is not None:
        sys.setrecursionlimit(len(inspect.stack(0)) + headroom)
    try:
        return ("value", coroutine.send(None))
    except StopIteration as done:
        return ("value", done.value)
    except (ValueError, RecursionError) as exc:
        return (type(exc).__name__, str(exc))
    finally:
        sys.setrecursionlimit(limit)
        coroutine.close()


@pytest.mark.parametrize("headroom", [None, 120])
@pytest.mark.parametrize("mode", ["text", "binary"])
@pytest.mark.parametrize("document", _STARLETTE_JSON_DOCUMENTS, ids=range(len(_STARLETTE_JSON_DOCUMENTS)))
async def test_receive_json_equals_starlettes(document: str, mode: str, headroom: int | None) -> None:
    starlette_websockets = pytest.importorskip("starlette.websockets")
    expected = await _receive_json_with(starlette_websockets.WebSocket, document, mode, headroom)
    ours = await _receive_json_with(WebSocket, document, mode, headroom)
    assert _same(ours[1], expected[1]) and ours[0] == expected[0]
    if document == _nested(200) and headroom == 120 and sys.version_info < (3, 12):
        # The case orjson alone gets wrong: the standard library runs out of stack (as Starlette's call does).
        # From Python 3.12 on, json's C scanner counts its nesting against the C recursion limit, not
        # sys.getrecursionlimit(), so there both sides return the value (the comparison above still holds).
        assert expected[0] == "RecursionError"
