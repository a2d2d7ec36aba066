"""Path parameter convertors, behaviour-compatible with ``starlette.convertors``.

A convertor pairs a regular expression (the text a parameter may match inside a path) with the two
conversions between that text and a Python value. Routes bind the convertor *object* when their path is
compiled, so re-registering a key later only affects routes compiled afterwards.
"""

from __future__ import annotations

import math
import uuid
from typing import Any, ClassVar, Generic, TypeVar

__all__ = [
    "CONVERTOR_TYPES",
    "Convertor",
    "FloatConvertor",
    "IntegerConvertor",
    "PathConvertor",
    "StringConvertor",
    "UUIDConvertor",
    "register_url_convertor",
]

T = TypeVar("T")


class Convertor(Generic[T]):
    """Base class: subclasses set ``regex`` and implement both conversions."""

    regex: ClassVar[str] = ""

    def convert(self, value: str) -> T:
        raise NotImplementedError()  # pragma: no cover

    def to_string(self, value: T) -> str:
        raise NotImplementedError()  # pragma: no cover


def _require(condition: bool, message: str) -> None:
    # Starlette validates with `assert`; raising explicitly keeps the same exception type and message
    # while still validating when Python runs with -O.
    if not condition:
        raise AssertionError(message)


class StringConvertor(Convertor[str]):
    """One non-empty path segment (no ``/``)."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        text = str(value)
        _require("/" not in text, "May not contain path separators")
        _require(bool(text), "Must not be empty")
        return text


class PathConvertor(Convertor[str]):
    """Any run of characters except a newline, possibly empty, ``/`` included."""

    regex = ".*"

    def convert(self, value: str) -> str:
        return str(value)

    def to_string(self, value: str) -> str:
        return str(value)


class IntegerConvertor(Convertor[int]):
    """ASCII decimal digits, converted to a non-negative ``int``."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        number = int(value)
        _require(number >= 0, "Negative integers are not supported")
        return str(number)


class FloatConvertor(Convertor[float]):
    """Digits with an optional fractional part, converted to a non-negative ``float``."""

    regex = r"[0-9]+(\.[0-9]+)?"

    def convert(self, value: str) -> float:
        return float(value)

    def to_string(self, value: float) -> str:
        number = float(value)
        _require(not math.isnan(number), "NaN values are not supported")
        _require(not math.isinf(number), "Infinite values are not supported")
        _require(number >= 0.0, "Negative floats are not supported")
        # Fixed-point with 20 decimals, then trimmed: never scientific notation, which the regex rejects.
        return f"{number:.20f}".rstrip("0").rstrip(".")


class UUIDConvertor(Convertor[uuid.UUID]):
    """A UUID written as 32 hex digits, the usual hyphens optional."""

    regex = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: uuid.UUID) -> str:
        return str(value)


CONVERTOR_TYPES: dict[str, Convertor[Any]] = {
    "str": StringConvertor(),
    "path": PathConvertor(),
    "int": IntegerConvertor(),
    "float": FloatConvertor(),
    "uuid": UUIDConvertor(),
}


def register_url_convertor(key: str, convertor: Convertor[Any]) -> None:
    """Make ``{name:key}`` available in paths compiled from now on."""
    CONVERTOR_TYPES[key] = convertor
