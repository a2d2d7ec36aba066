"""JSON bodies with Starlette's exact bytes, encoded by orjson whenever its output is provably the same.

Starlette renders ``json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))``.
orjson agrees with that byte for byte on the plain JSON data model -- exact ``dict`` (str keys), ``list``, ``tuple``,
``str``, ``int`` within 64 bits, ``bool``, ``None`` -- and on finite floats whose ``repr`` is not in exponent form
below 1e-4 (it writes ``0.00001`` where ``repr`` writes ``1e-05``). Everything else goes to the stdlib encoder, which
then produces Starlette's output or raises Starlette's exception (``ValueError`` for NaN/Infinity and circular
references, ``TypeError`` for objects JSON cannot represent, ``UnicodeEncodeError`` for lone surrogates).

Order of work: orjson first, because it rejects cycles and absurd nesting quickly (depth-first, recursion limit);
only after it succeeded is the content walked to prove that it held nothing orjson would encode differently
(it silently serializes ``uuid.UUID``, ``enum.Enum``, ``orjson.Fragment`` and writes NaN as ``null``). The walk goes
one nesting level at a time with C-level loops (``gc.get_referents``, ``map``, ``set``), so its cost per value is a
few tens of nanoseconds -- still several times cheaper than the stdlib encoder.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from gc import get_referents
from itertools import compress
from typing import Any

import orjson

__all__ = ["dumps", "orjson_float_is_exact"]

# The exact output contract (Starlette's JSONResponse.render), built once: json.dumps would build an encoder on
# every call with these options.
_STDLIB_ENCODER = json.JSONEncoder(
    skipkeys=False,
    ensure_ascii=False,
    check_circular=True,
    allow_nan=False,
    indent=None,
    separators=(",", ":"),
    default=None,
    sort_keys=False,
)

# Subclasses (str/int/float/dict/list), dataclasses and datetimes make orjson raise at once instead of encoding
# them in its own way; the stdlib then decides (it may call a subclass's ``items()`` or reject the object).
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME

_NONE_TYPE = type(None)
_LEAF_TYPES = frozenset({str, int, bool, _NONE_TYPE})
_CONTAINER_TYPES = frozenset({dict, list, tuple})
_PLAIN_TYPES = _LEAF_TYPES | _CONTAINER_TYPES
_PLAIN_TYPES_WITH_FLOAT = _PLAIN_TYPES | {float}
_is_float_type = frozenset({float}).__contains__

# Below this magnitude ``repr`` switches to exponent notation ("1e-05") while orjson keeps positional notation
# ("0.00001"); at and above it both print the shortest round-trip digits in the same layout (checked on millions
# of random doubles by the test-suite, and re-checked below at import time).
_SMALLEST_EXACT_FLOAT = 1e-4

# Floats whose rendering must agree for the float fast path to be enabled: both notations, both signs, the edges
# of the positional range and numbers needing all 17 significant digits.
_FLOAT_PROBES = (
    0.0,
    -0.0,
    1.0,
    -1.5,
    0.1,
    1e-4,
    0.00012345678901234567,
    123456.789,
    1e15,
    9999999999999998.0,
    1e16,
    1.2345678901234567e17,
    1e22,
    -1.7976931348623157e308,
    2.0**53 + 2,
    1 / 3,
)


def _probe_float_formatting() -> bool:
    return all(orjson.dumps(value) == repr(value).encode() for value in _FLOAT_PROBES)


# Decided once per process: should a future orjson format floats differently, floats simply take the stdlib path.
orjson_float_is_exact = _probe_float_formatting()


# A container with more values than this is checked level by level with C-level loops; smaller ones are cheaper
# to check with a plain Python loop (each C-level pass has a fixed cost of a few builtin calls).
_BULK_CHECK_THRESHOLD = 8

_INFINITY = math.inf


def _float_is_exact(value: float) -> bool:
    # NaN fails both comparisons; infinities fail the upper bound.
    return orjson_float_is_exact and (value == 0.0 or _SMALLEST_EXACT_FLOAT <= abs(value) < _INFINITY)


def _floats_are_exact(floats: Iterable[float]) -> bool:
    values = list(floats)
    if not all(map(math.isfinite, values)):
        return False
    # Zeros (dropped by filter) print identically; any other value must not be in the exponent-notation range.
    return min(map(abs, filter(None, values)), default=_SMALLEST_EXACT_FLOAT) >= _SMALLEST_EXACT_FLOAT


def _bulk_values_are_plain(children: Iterable[Any], body: bytes) -> bool:
    # One nesting level per iteration. orjson succeeded, so every dict key is an exact str and only values
    # matter: get_referents yields a dict's values (its keys too only when they are not all exact str --
    # impossible here) and a list's or tuple's items, and nothing for the leaf types (they are not tracked by
    # the garbage collector), so a whole level can be passed to it without filtering out the leaves.
    floats_exact: bool | None = None  # decided from the body once, when the first float shows up
    while True:
        kinds = set(map(type, children))
        if not kinds <= _PLAIN_TYPES:
            if not (orjson_float_is_exact and kinds <= _PLAIN_TYPES_WITH_FLOAT):
                return False
            if floats_exact is None:
                floats_exact = _body_floats_are_exact(body)
            if not floats_exact and not _floats_are_exact(compress(children, map(_is_float_type, map(type, children)))):
                return False
        if kinds.isdisjoint(_CONTAINER_TYPES):
            return True
        try:
            children = get_referents(*children)
        except Exception:  # an audit hook may forbid gc introspection ("gc.get_referents"): use the stdlib
            return False


def _container_is_plain(container: dict[Any, Any] | list[Any] | tuple[Any, ...], body: bytes) -> bool:
    values: Any = container.values() if type(container) is dict else container
    if len(values) > _BULK_CHECK_THRESHOLD:
        return _bulk_values_are_plain(values, body)
    for value in values:
        kind = type(value)
        if kind in _LEAF_TYPES:
            continue
        if kind in _CONTAINER_TYPES:
            if not _container_is_plain(value, body):
                return False
        elif kind is not float or not _float_is_exact(value):
            return False
    return True


def _body_floats_are_exact(body: bytes) -> bool:
    """Whether every float orjson wrote into ``body`` is written as ``repr`` would write it.

    orjson writes NaN and the infinities as ``null``, and a float of magnitude below 1e-4 either positionally
    (``0.0000...``) or with a negative exponent (``1e-7``); every other float is written like ``repr`` (when
    ``orjson_float_is_exact``). So when none of those three byte strings occurs, no float needs checking one by
    one. An occurrence inside a string only sends the content to the per-float check.
    """
    return orjson_float_is_exact and b"null" not in body and b"e-" not in body and b"0.0000" not in body


def dumps(content: Any) -> bytes:
    """Encode ``content`` exactly as Starlette's ``JSONResponse.render`` does (same bytes, same exceptions)."""
    try:
        body = orjson.dumps(content, None, _ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: let the stdlib decide, outside this handler (no chained context)
        pass
    else:
        # orjson succeeded, so the content is acyclic; its bytes stand if it holds plain JSON values only.
        kind = type(content)
        if kind in _CONTAINER_TYPES:
            if _container_is_plain(content, body):
                return body
        elif kind in _LEAF_TYPES or (kind is float and _float_is_exact(content)):
            return body
    return _STDLIB_ENCODER.encode(content).encode("utf-8")
