"""Request bodies as JSON: ``_json.loads`` must be ``json.loads`` (Starlette's decoder) for every input.

Same value (type, sign of zero, integer exactness, key order, lone surrogates), same exception (type, message,
chained context) -- checked differentially against the standard library on generated documents, number literals,
arbitrary bytes and mutated documents.
"""

from __future__ import annotations

import codecs
import json
import math
from typing import Any

import pytest
from hypothesis import example, given, settings, strategies as st
from tachyon_http import _json
from tachyon_http.requests import Request

from .conftest import MakeRequest


def outcome(decode: Any, body: Any) -> tuple[Any, ...]:
    """Everything a caller can observe: the value's repr (types, -0.0, nan, key order) or the exception."""
    try:
        value = decode(body)
    except Exception as exc:  # the exception type, message and chained context are part of the contract
        return ("error", type(exc), str(exc), type(exc.__context__), exc.__cause__, exc.__suppress_context__)
    return ("ok", repr(value))


def assert_same_as_stdlib(body: Any) -> None:
    assert outcome(_json.loads, body) == outcome(json.loads, body)


# Any code point, lone surrogates included (hypothesis leaves category Cs out by default).
any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=[]), max_size=12)
big_integers = st.integers(min_value=-(2**80), max_value=2**80) | st.integers()
edge_integers = st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**18, -(10**19)])
json_values = st.recursive(
    st.none() | st.booleans() | big_integers | edge_integers | st.floats() | any_text,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(any_text, children, max_size=5),
    max_leaves=25,
)


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """A document as a client might send it: any value, ASCII-escaped or not, compact or indented."""
    value = draw(json_values)
    text = json.dumps(
        value,
        ensure_ascii=draw(st.booleans()),
        indent=draw(st.none() | st.integers(0, 2)),
        separators=draw(st.sampled_from([None, (",", ":"), (", ", ": ")])),
    )
    return text.encode("utf-8", "surrogatepass")


# JSON's number grammar with long digit runs and exponents, plus the near misses a client might send.
number_literals = st.from_regex(
    r"\A[-+]?(0|[1-9][0-9]{0,40}|0[0-9]{1,3})(\.[0-9]{0,40})?([eE][-+]?[0-9]{1,6})?\Z", fullmatch=True
)


@settings(max_examples=300, deadline=None)
@given(documents())
@example(b'{"a": 1, "b": 2, "a": 3}')
@example(b"[18446744073709551615, 18446744073709551616, -9223372036854775808, -9223372036854775809]")
@example(b'{"n": 123456789012345678901234567890, "m": -123456789012345678901234567890}')
@example(b"[1e400, -1e400, 1e-400, 123456789012345678e300, 1.5e308]")
@example(b"[NaN, Infinity, -Infinity]")
@example(b'"\\ud800 \\udfff \\udd1e\\ud834"')
@example(b'"\xed\xa0\x80"')
def test_documents_decode_as_the_standard_library_decodes_them(body: bytes) -> None:
    assert_same_as_stdlib(body)


@settings(max_examples=300, deadline=None)
@given(number_literals, st.sampled_from(["{}", "[{}]", '{{"k": {}}}', "[1, {}, 2]"]))
@example("2.4703282292062328e-324", "{}")
@example("2.4703282292062327e-324", "{}")
@example("123456789012345678.123456789012345678", "{}")
@example("9999999999999999999e-3", "[{}]")
@example("1e0000000000000000001", "{}")
@example("-0", "{}")
@example("-0.0e-0", "{}")
def test_number_literals_decode_as_the_standard_library_decodes_them(literal: str, template: str) -> None:
    assert_same_as_stdlib(template.format(literal).encode())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
@example(b"")
@example(b"\xef\xbb\xbf")
@example(b"1\x00")
@example(b"\x00\x00\x001")
@example(b"\xff")
@example(b'"\xc0\x80"')
@example(b'"\xf4\x90\x80\x80"')
def test_arbitrary_bytes_decode_or_fail_as_in_the_standard_library(body: bytes) -> None:
    assert_same_as_stdlib(body)


@settings(max_examples=300, deadline=None)
@given(documents(), st.data())
def test_damaged_documents_decode_or_fail_as_in_the_standard_library(body: bytes, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(body)))
    cut = data.draw(st.integers(0, 3))
    inserted = data.draw(
        st.binary(max_size=3) | st.sampled_from([b"\x00", b"\xef\xbb\xbf", b"\\", b'"', b"1" * 20, b"e9", b","])
    )
    assert_same_as_stdlib(body[:position] + inserted + body[position + cut :])


@settings(max_examples=100, deadline=None)
@given(documents(), st.sampled_from(["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"]))
def test_bom_and_utf16_utf32_bodies_decode_as_in_the_standard_library(body: bytes, encoding: str) -> None:
    text = body.decode("utf-8", "surrogatepass")
    try:
        encoded = text.encode(encoding)
    except UnicodeEncodeError:  # a lone surrogate cannot be written in this encoding at all
        encoded = codecs.BOM_UTF8 + body
    assert_same_as_stdlib(encoded)


def nesting_depth(value: Any) -> int:
    depth = 0
    while isinstance(value, (list, dict)):
        depth += 1
        value = value[0] if isinstance(value, list) and value else value.get("k") if isinstance(value, dict) else None
    return depth


def test_deep_nesting_fails_or_succeeds_as_in_the_standard_library() -> None:
    # orjson stops at 1024 levels; the standard library goes on until Python's recursion limit (too deep to
    # compare by repr, so the outcome is compared by nesting depth).
    padding = b" " * _json._BRACKET_COUNT_MAX_BYTES  # long bodies take the walk instead of the bracket count
    for depth in (_json._SHALLOW_DEPTH, _json._SHALLOW_DEPTH + 1, 900, 1023, 1024, 1025, 1500, 100_000):
        for body in (
            b"[" * depth + b"]" * depth,
            b'{"k":' * depth + b"1" + b"}" * depth,
            b"[" * depth + padding + b"]" * depth,
            b'{"k":' * depth + b'"' + padding + b'"' + b"}" * depth,
            b'[{"k":' * (depth // 2) + padding + b"1" + b"}]" * (depth // 2),
        ):
            ours = outcome(lambda b: nesting_depth(_json.loads(b)), body)
            theirs = outcome(lambda b: nesting_depth(json.loads(b)), body)
            if ours[:2] == theirs[:2] == ("error", RecursionError):
                # The message names the container (array or object) being entered when the stack ran out, which
                # depends on the caller's own stack depth: only the type is comparable.
                continue
            assert ours == theirs


def test_wide_documents_with_many_brackets_stay_on_the_fast_path() -> None:
    # Many containers but shallow nesting: the walk settles it, no fallback (the value is orjson's own).
    body = json.dumps([{"id": index, "tags": [index], "child": {"a": [1]}} for index in range(1000)]).encode()
    assert len(body) > _json._BRACKET_COUNT_MAX_BYTES
    assert _json._nests_deeper_than_shallow(_json.orjson.loads(body)) is False
    deep = b"[" * 30 + b",".join([b"[1]"] * 100) + b"]" * 30
    assert _json._nests_deeper_than_shallow(json.loads(deep)) is False
    deeper = b"[" * 70 + b"]" * 70
    assert _json._nests_deeper_than_shallow(json.loads(deeper)) is True


@pytest.mark.parametrize("body", [bytearray(b'{"a": 1}'), '{"a": 1}', "\ufeff{}", memoryview(b"[1]")])
def test_bodies_that_are_not_bytes_go_to_the_standard_library(body: Any) -> None:
    # Middleware may store any of these as the body; json.loads rejects a memoryview that orjson would accept.
    assert_same_as_stdlib(body)


def test_integers_beyond_64_bits_stay_exact() -> None:
    value = _json.loads(b'{"big": 18446744073709551616, "neg": -9223372036854775809, "float": 1.5}')
    assert value == {"big": 2**64, "neg": -(2**63) - 1, "float": 1.5}
    assert type(value["big"]) is int and type(value["neg"]) is int


def test_integers_over_the_digit_limit_raise_the_standard_library_error() -> None:
    # Python refuses to convert integers with too many digits (a denial-of-service guard); so must the decoder.
    body = b"1" * 5000
    with pytest.raises(ValueError, match="Exceeds the limit"):
        _json.loads(body)
    assert_same_as_stdlib(body)


def test_nan_and_infinity_are_accepted_like_the_standard_library() -> None:
    value = _json.loads(b"[NaN, Infinity, -Infinity, 1e999]")
    assert math.isnan(value[0]) and value[1:] == [math.inf, -math.inf, math.inf]


@pytest.mark.anyio
async def test_request_json_error_carries_no_trace_of_the_fast_parser(make_request: MakeRequest) -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        await make_request(b'{"a": }').json()
    # The standard library's own (suppressed) context, never orjson's error.
    assert type(caught.value) is json.JSONDecodeError
    assert not isinstance(caught.value.__context__, _json.orjson.JSONDecodeError)
    assert caught.value.__suppress_context__


@pytest.mark.anyio
async def test_request_json_of_invalid_utf8_raises_unicode_decode_error(make_request: MakeRequest) -> None:
    with pytest.raises(UnicodeDecodeError):
        await make_request(b'{"a": "\xff"}').json()


@pytest.mark.anyio
async def test_request_json_keeps_big_integers_exact_across_chunks(make_request: MakeRequest) -> None:
    request: Request = make_request([b'{"id": 1234567890', b"1234567890123}"])
    assert await request.json() == {"id": 12345678901234567890123}
