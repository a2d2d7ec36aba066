"""Property tests: Tachyon's Request against the real Starlette 1.10.0 (installed in the dev environment).

Random sequences of ASGI receive messages (body chunks, empty chunks, unknown message types, disconnects) and
random header lists must give the same body, the same flags, the same header lookups and the same exceptions.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
import starlette.requests as reference
from hypothesis import example, given, settings, strategies as st
from tachyon_http import requests
from tachyon_http.types import Message, Scope


def http_scope(headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {"type": "http", "method": "POST", "path": "/", "query_string": b"", "headers": headers or []}


receive_message = st.one_of(
    st.builds(
        lambda body, more: {"type": "http.request", "body": body, "more_body": more},
        st.binary(max_size=8),
        st.booleans(),
    ),
    st.just({"type": "http.request"}),  # no body, no more_body: the end of an empty body
    st.binary(max_size=4).map(lambda body: {"type": "http.request", "body": body}),
    st.just({"type": "http.disconnect"}),
    st.just({"type": "lifespan.startup"}),  # ignored by both
)


def scripted_receive(messages: list[Message]) -> tuple[list[Message], Any]:
    """``(pending, receive)``: ``receive`` hands out ``messages`` in order, then fails like a broken channel."""
    pending = list(messages)

    async def receive() -> Message:
        if not pending:
            raise LookupError("no more messages")  # stands for a receive channel that fails
        return pending.pop(0)

    return pending, receive


def body_outcome(request_module: Any, messages: list[Message], reads: int) -> list[Any]:
    pending, receive = scripted_receive(messages)
    request = request_module.Request(http_scope(), receive)
    seen: list[Any] = []

    async def run() -> None:
        for _ in range(reads):
            try:
                seen.append(("body", await request.body()))
            except Exception as exc:  # the exception type is part of the contract
                seen.append(("error", type(exc).__name__, str(exc)))
        seen.append(("flags", request._stream_consumed, request._is_disconnected, len(pending)))

    anyio.run(run)
    return seen


@settings(max_examples=300, deadline=None)
@given(st.lists(receive_message, max_size=6), st.integers(1, 2))
def test_body_matches_starlette_for_any_message_sequence(messages: list[Message], reads: int) -> None:
    assert body_outcome(requests, messages, reads) == body_outcome(reference, messages, reads)


def stream_outcome(request_module: Any, messages: list[Message]) -> list[Any]:
    pending, receive = scripted_receive(messages)
    request = request_module.Request(http_scope(), receive)
    seen: list[Any] = []

    async def run() -> None:
        for _ in range(2):  # a second pass replays nothing: it must fail the same way
            try:
                async for chunk in request.stream():
                    seen.append(chunk)
            except Exception as exc:  # the exception type is part of the contract
                seen.append(("error", type(exc).__name__, str(exc)))
        seen.append(("flags", request._stream_consumed, request._is_disconnected, len(pending)))

    anyio.run(run)
    return seen


@settings(max_examples=200, deadline=None)
@given(st.lists(receive_message, max_size=6))
def test_stream_matches_starlette_for_any_message_sequence(messages: list[Message]) -> None:
    assert stream_outcome(requests, messages) == stream_outcome(reference, messages)


form_chunk = st.text(alphabet="ab=&%+2C\xe9", max_size=8).map(lambda text: text.encode("utf-8"))
form_message = st.one_of(
    st.builds(lambda body, more: {"type": "http.request", "body": body, "more_body": more}, form_chunk, st.booleans()),
    st.just({"type": "http.request"}),
    st.just({"type": "http.disconnect"}),
)


def form_outcome(request_module: Any, messages: list[Message], body_first: bool, max_fields: int) -> list[Any]:
    pending, receive = scripted_receive(messages)
    scope = http_scope([(b"content-type", b"application/x-www-form-urlencoded")])
    request = request_module.Request(scope, receive)
    seen: list[Any] = []

    async def attempt(name: str, read: Any) -> None:
        try:
            result = await read()
            seen.append((name, result.multi_items() if name == "form" else result))
        except Exception as exc:  # the exception type and message are part of the contract
            seen.append((name, "error", type(exc).__name__, str(exc)))

    async def run() -> None:
        if body_first:
            await attempt("body", request.body)
        await attempt("form", lambda: request.form(max_fields=max_fields))
        await attempt("body", request.body)
        seen.append(("flags", request._stream_consumed, request._is_disconnected, len(pending)))

    anyio.run(run)
    return seen


@settings(max_examples=300, deadline=None)
@given(st.lists(form_message, max_size=6), st.booleans(), st.integers(1, 4))
@example([{"type": "http.request", "body": b"a&b&c", "more_body": False}], False, 1)  # fails in the last chunk
@example([{"type": "http.request", "body": b"a=%2C", "more_body": True}, {"type": "http.disconnect"}], True, 2)
def test_urlencoded_form_matches_starlette_for_any_message_sequence(
    messages: list[Message], body_first: bool, max_fields: int
) -> None:
    # Tachyon feeds the form parser from the receive loop itself (no stream() generator): the same messages must
    # be read, with the same flags, fields and errors, whether or not the body was read first.
    assert form_outcome(requests, messages, body_first, max_fields) == form_outcome(
        reference, messages, body_first, max_fields
    )


def test_body_uses_a_subclass_stream_override() -> None:
    class Shouting(requests.Request):
        async def stream(self) -> Any:
            async for chunk in super().stream():
                yield chunk.upper()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"quiet", "more_body": False}

    assert anyio.run(Shouting(http_scope(), receive).body) == b"QUIET"


def test_a_single_message_body_is_the_message_bytes() -> None:
    chunk = b"x" * 100_000

    async def receive() -> Message:
        return {"type": "http.request", "body": chunk, "more_body": False}

    assert anyio.run(requests.Request(http_scope(), receive).body) is chunk


header_name = st.sampled_from([b"host", b"x", b"X", b"content-type", b"x-a", b"cookie", b"\xe9"])
header_key = st.sampled_from(["host", "X", "x", "Content-Type", "x-a", "missing", "\xe9", "é"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(header_name, st.binary(max_size=4)), max_size=8), header_key)
def test_header_lookups_match_starlette(raw: list[tuple[bytes, bytes]], key: str) -> None:
    def lookups(module: Any) -> tuple[Any, ...]:
        headers = module.Request(http_scope(list(raw))).headers
        try:
            item: Any = headers[key]
        except KeyError:
            item = KeyError
        return item, headers.get(key), headers.getlist(key), key in headers, headers.raw, list(headers.items())

    assert lookups(requests) == lookups(reference)


@pytest.mark.parametrize("key", [b"x", 1, None, ["x"]])
def test_header_lookups_with_non_str_keys_fail_like_starlette(key: Any) -> None:
    def failure(module: Any) -> tuple[str, str] | None:
        try:
            module.Request(http_scope([(b"x", b"1")])).headers[key]
        except Exception as exc:  # the exception type is part of the contract
            return type(exc).__name__, str(exc)
        return None

    assert failure(requests) == failure(reference) is not None


def test_headers_of_a_tuple_scope_list_are_stored_back_as_a_list() -> None:
    scope = http_scope()
    scope["headers"] = ((b"a", b"1"),)
    assert requests.Request(scope).headers["a"] == "1"
    assert scope["headers"] == [(b"a", b"1")]
