"""JSON bodies: Tachyon's encoder must give Starlette's bytes (and exceptions) for every input."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import enum
import json
import math
import random
import struct
import uuid
from typing import Any

import orjson
import pytest
from hypothesis import given, settings, strategies as st
from tachyon_http import _json
from tachyon_http.responses import JSONResponse


def starlette_render(content: Any) -> bytes:
    # What Starlette 1.10's JSONResponse.render does.
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")


def outcome(render: Any, content: Any) -> tuple[str, Any, str]:
    try:
        return ("ok", render(content), "")
    except Exception as exc:  # the exception type and message are part of the contract
        return ("error", type(exc), str(exc))


def assert_same_as_starlette(content: Any) -> None:
    assert outcome(_json.dumps, content) == outcome(starlette_render, content)


class StrSubclass(str):
    pass


class IntSubclass(int):
    def __repr__(self) -> str:
        return "not-used"


class FloatSubclass(float):
    pass


class ListSubclass(list[Any]):
    pass


class ItemsOverridingDict(dict[str, Any]):
    def items(self) -> Any:  # the stdlib encoder calls items() on dict subclasses
        return [("overridden", True)]


class Colour(enum.Enum):
    RED = "red"


class Number(enum.IntEnum):
    ONE = 1


class Shade(enum.StrEnum):
    DARK = "dark"


@dataclasses.dataclass
class Point:
    x: int


Pair = collections.namedtuple("Pair", "left right")


def reordered_ordered_dict() -> collections.OrderedDict[str, int]:
    ordered = collections.OrderedDict(a=1, b=2)
    ordered.move_to_end("a")
    return ordered


PLAIN_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    "",
    "hello",
    "héllo wörld ✓ 😀",
    'quote " backslash \\ slash / controls \x00\x01\x1f\x7f\b\f\n\r\t',
    "\u2028\u2029",
    [],
    {},
    (),
    [1, "two", None, True, [3, [4, {}]]],
    {"nested": {"list": [1, 2, {"deep": "value"}], "tuple": (1, 2)}, "empty": {}},
    (1, (2, (3,))),
    2**63 - 1,
    -(2**63),
    2**64 - 1,
    {'key with "quote"': "v", "ключ": "значение"},
    list(range(100)),
    {f"k{i}": i for i in range(50)},
    [{"id": i, "name": f"item-{i}", "enabled": i % 2 == 0} for i in range(40)],
]


@pytest.mark.parametrize("content", PLAIN_VALUES, ids=repr)
def test_plain_values_are_encoded_byte_for_byte_like_starlette(content: Any) -> None:
    assert _json.dumps(content) == starlette_render(content)


@pytest.mark.parametrize("content", PLAIN_VALUES, ids=repr)
def test_plain_values_never_reach_the_stdlib_encoder(content: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    class Forbidden:
        def encode(self, content: Any) -> str:
            raise AssertionError("the stdlib fallback was used for plain content")

    monkeypatch.setattr(_json, "_STDLIB_ENCODER", Forbidden())
    assert _json.dumps(content) == starlette_render(content)


FLOATS = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.1,
    1 / 3,
    1e-4,
    -1e-4,
    0.00012345,
    9.999999999999999e-05,
    1e-5,
    2.5e-5,
    1e-7,
    1e-300,
    5e-324,
    123456.789,
    1e15,
    9999999999999998.0,
    1e16,
    1.2345678901234568e17,
    1e21,
    1e22,
    1.5e300,
    1.7976931348623157e308,
    -1.7976931348623157e308,
]


@pytest.mark.parametrize("value", FLOATS, ids=repr)
def test_floats_render_like_python_repr_alone_in_a_dict_and_in_a_long_list(value: float) -> None:
    assert_same_as_starlette(value)
    assert_same_as_starlette({"value": value})
    assert_same_as_starlette([value] * 40 + [{"nested": [value] * 20}])


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=repr)
@pytest.mark.parametrize(
    "wrap",
    [
        lambda v: v,
        lambda v: {"x": v},
        lambda v: [1.5] * 40 + [v],
        lambda v: {"rows": [{"v": 1.0} for _ in range(20)] + [{"v": v}]},
    ],
    ids=["bare", "in-dict", "in-long-list", "deep-in-long-list"],
)
def test_non_finite_floats_raise_value_error_like_starlette(value: float, wrap: Any) -> None:
    content = wrap(value)
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        _json.dumps(content)
    assert_same_as_starlette(content)


def test_orjson_float_formatting_probe_passes_with_the_installed_orjson() -> None:
    assert _json.orjson_float_is_exact


def test_orjson_and_repr_agree_on_random_doubles_in_the_fast_range() -> None:
    # The claim the float fast path rests on: for 0 and |x| >= 1e-4 (finite), orjson prints repr(x).
    rnd = random.Random(20250101)
    checked = 0
    for index in range(60_000):
        if index % 2:
            value = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0]
        else:
            value = rnd.uniform(-1, 1) * 10 ** rnd.randint(-6, 30)
        if not math.isfinite(value) or (value != 0 and abs(value) < 1e-4):
            continue
        assert orjson.dumps(value) == repr(value).encode(), value
        checked += 1
    assert checked > 40_000


def test_every_code_point_is_escaped_like_the_stdlib() -> None:
    text = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)
    assert _json.dumps(text) == starlette_render(text)
    assert _json.dumps({text: [text]}) == starlette_render({text: [text]})


ODD_VALUES = [
    StrSubclass("sub"),
    {"k": StrSubclass("v")},
    {StrSubclass("key"): 1},
    IntSubclass(5),
    FloatSubclass(1e-5),
    ListSubclass([1, 2]),
    ItemsOverridingDict(real=1),
    reordered_ordered_dict(),
    Number.ONE,
    Shade.DARK,
    Pair(1, 2),
    {7: "int key", 1.5: "float key", True: "bool key", None: "none key"},
    {1e16: "x", 1e-5: "y", -0.0: "z"},
    2**64,
    -(2**63) - 1,
    10**100,
    [1, 2**70],
    {"big": [2**64] * 40},
]


@pytest.mark.parametrize("content", ODD_VALUES, ids=repr)
def test_values_orjson_would_encode_differently_fall_back_to_starlette_bytes(content: Any) -> None:
    assert _json.dumps(content) == starlette_render(content)


def _cycle() -> list[Any]:
    items: list[Any] = []
    items.append(items)
    return items


REJECTED = [
    (uuid.UUID(int=1), TypeError),
    ({"id": uuid.UUID(int=1)}, TypeError),
    (Colour.RED, TypeError),
    ([Colour.RED], TypeError),
    (orjson.Fragment(b"[1]"), TypeError),
    (Point(1), TypeError),
    (datetime.date(2024, 1, 1), TypeError),
    ([datetime.datetime(2024, 1, 1)], TypeError),
    ({1, 2}, TypeError),
    (b"bytes", TypeError),
    (object(), TypeError),
    ({(1, 2): "tuple key"}, TypeError),
    ([uuid.UUID(int=2)] * 40, TypeError),
    (_cycle(), ValueError),
    ("\ud800", UnicodeEncodeError),
    ({"k": "lone \udfff surrogate"}, UnicodeEncodeError),
]


@pytest.mark.parametrize(("content", "error"), REJECTED, ids=lambda value: type(value).__name__)
def test_rejected_values_raise_starlettes_exception(content: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        _json.dumps(content)
    assert_same_as_starlette(content)


def test_deep_nesting_beyond_orjsons_limit_is_still_encoded() -> None:
    content: list[Any] = []
    node = content
    for _ in range(400):
        child: list[Any] = []
        node.append(child)
        node = child
    assert _json.dumps(content) == starlette_render(content)


def test_exceptions_from_the_fallback_do_not_chain_the_orjson_error() -> None:
    with pytest.raises(TypeError) as info:
        _json.dumps({"id": object()})
    assert info.value.__context__ is None


json_keys = st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(),
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=40),
        st.tuples(children, children),
        st.dictionaries(st.one_of(st.text(), json_keys), children, max_size=12),
    ),
    max_leaves=60,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_random_json_like_data_matches_starlette_including_errors(content: Any) -> None:
    assert_same_as_starlette(content)


def test_json_response_body_uses_the_same_encoder() -> None:
    content = {"value": 1e-5, "items": [1, 2.5, "x"]}
    assert JSONResponse(content).body == starlette_render(content)


def test_a_refused_gc_introspection_falls_back_to_the_stdlib(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*objects: Any) -> list[Any]:
        raise RuntimeError("gc.get_referents is not allowed here")

    monkeypatch.setattr(_json, "get_referents", refuse)
    content = [{"id": index, "tags": ["a", "b"]} for index in range(40)]
    assert _json.dumps(content) == starlette_render(content)
