from __future__ import annotations

import math
import uuid
from typing import Any

import pytest
import starlette.convertors as reference
from tachyon_router import compile_path
from tachyon_router.convertors import (
    CONVERTOR_TYPES,
    Convertor,
    FloatConvertor,
    IntegerConvertor,
    PathConvertor,
    StringConvertor,
    UUIDConvertor,
    register_url_convertor,
)

KEYS = ["str", "path", "int", "float", "uuid"]


@pytest.mark.parametrize("key", KEYS)
def test_builtin_convertor_regexes_equal_starlettes(key: str) -> None:
    assert CONVERTOR_TYPES[key].regex == reference.CONVERTOR_TYPES[key].regex


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("str", "hello"),
        ("str", "héllo wörld"),
        ("path", "a/b/c"),
        ("path", ""),
        ("int", "0042"),
        ("int", "123456789012345678901234567890"),
        ("float", "1.50"),
        ("float", "7"),
        ("uuid", "12345678123456781234567812345678"),
        ("uuid", "ABCDEF01-2345-6789-abcd-ef0123456789"),
    ],
)
def test_convert_gives_starlettes_value_and_type(key: str, text: str) -> None:
    ours = CONVERTOR_TYPES[key].convert(text)
    theirs = reference.CONVERTOR_TYPES[key].convert(text)
    assert ours == theirs
    assert type(ours) is type(theirs)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("str", "abc"),
        ("str", 12),
        ("path", "a/b"),
        ("path", 3),
        ("int", 5),
        ("int", "17"),
        ("int", 3.9),
        ("float", 25.5),
        ("float", 1e-7),
        ("float", 1e22),
        ("float", 3),
        ("float", 0.1),
        ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
    ],
)
def test_to_string_gives_starlettes_text(key: str, value: Any) -> None:
    assert CONVERTOR_TYPES[key].to_string(value) == reference.CONVERTOR_TYPES[key].to_string(value)


@pytest.mark.parametrize(
    ("convertor", "value", "message"),
    [
        (StringConvertor(), "a/b", "May not contain path separators"),
        (StringConvertor(), "", "Must not be empty"),
        (IntegerConvertor(), -1, "Negative integers are not supported"),
        (FloatConvertor(), math.nan, "NaN values are not supported"),
        (FloatConvertor(), math.inf, "Infinite values are not supported"),
        (FloatConvertor(), -0.5, "Negative floats are not supported"),
    ],
)
def test_to_string_rejects_values_with_starlettes_assertion(
    convertor: Convertor[Any], value: Any, message: str
) -> None:
    with pytest.raises(AssertionError, match=message):
        convertor.to_string(value)


def test_to_string_of_non_numbers_raises_the_conversion_error() -> None:
    with pytest.raises(ValueError):
        IntegerConvertor().to_string("x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        FloatConvertor().to_string("x")  # type: ignore[arg-type]


def test_convertor_types_hold_one_instance_per_builtin_kind() -> None:
    assert {key: type(value) for key, value in CONVERTOR_TYPES.items() if key in KEYS} == {
        "str": StringConvertor,
        "path": PathConvertor,
        "int": IntegerConvertor,
        "float": FloatConvertor,
        "uuid": UUIDConvertor,
    }


class _YearConvertor(Convertor[int]):
    regex = "[0-9]{4}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return f"{value:04d}"


def test_registered_convertor_is_used_by_paths_compiled_afterwards() -> None:
    register_url_convertor("year", _YearConvertor())
    try:
        regex, path_format, convertors = compile_path("/archive/{y:year}")
        assert regex.pattern == "^/archive/(?P<y>[0-9]{4})$"
        assert path_format == "/archive/{y}"
        assert isinstance(convertors["y"], _YearConvertor)
    finally:
        del CONVERTOR_TYPES["year"]


def test_reregistering_a_builtin_key_replaces_it_for_later_paths_only() -> None:
    bound_before = compile_path("/{n:int}")[2]["n"]
    original = CONVERTOR_TYPES["int"]
    register_url_convertor("int", _YearConvertor())
    try:
        assert isinstance(compile_path("/{n:int}")[2]["n"], _YearConvertor)
        assert bound_before is original
    finally:
        register_url_convertor("int", original)
