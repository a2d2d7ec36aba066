"""Long containers decide whether their floats need checking from the bytes orjson wrote; whatever the bytes
hold, the body must be exactly the standard library's (or its exception)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tachyon_http import _json


def _starlette_bytes(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


LONG = 20  # above the size where containers are checked level by level


@pytest.mark.parametrize(
    "floats",
    [
        [1.5, 0.0, -0.0, 1e16, 123.456],  # all written like repr: decided from the bytes alone
        [1.5, 1e-5],  # positional in orjson ("0.00001"), exponent in repr
        [1.5, 1e-7],  # exponent in both, but written differently ("1e-7" / "1e-07")
        [1.5, 9.99e-5],
    ],
)
@pytest.mark.parametrize("text", ["plain", "null", "e-", "0.0000", "1e-05"])
def test_long_lists_with_floats_and_strings_match_the_standard_library(floats: list[float], text: str) -> None:
    content = {"items": [{"price": value, "note": text} for value in floats] * (LONG // len(floats) + 1)}
    assert _json.dumps(content) == _starlette_bytes(content)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_floats_in_long_lists_still_raise(bad: float) -> None:
    content = [1.5] * LONG + [bad]
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        _json.dumps(content)
