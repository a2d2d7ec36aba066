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
from gc import get_referents, is_tracked
from itertools import compress
from typing import Any

import orjson

__all__ = ["ORJSON_MAX_BYTES", "dumps", "dumps_text", "loads", "loads_text", "orjson_float_is_exact"]

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


# --- decoding ---------------------------------------------------------------------------------------------------
#
# Starlette decodes request bodies with ``json.loads(body)``. orjson.loads agrees with it on every document both
# accept, with two exceptions, and rejects (raises) wherever else they differ (checked by the differential tests):
# NaN/Infinity literals, floats that overflow to infinity, lone surrogates (escaped, or UTF-8 encoded, which
# ``json.loads`` accepts from bytes through ``surrogatepass``), a UTF-8 BOM, UTF-16/32 bodies, invalid UTF-8,
# nesting beyond 1024 levels and invalid documents. The two silent differences:
#
# - an integer literal outside orjson's range (-2**63 .. 2**64-1) comes back as a rounded float, where the
#   standard library keeps it exact;
# - the standard library parses nested containers recursively and raises RecursionError once the nesting and the
#   caller's stack together reach the recursion limit (about 1000 on Python 3.11, so some depth below 1000),
#   where orjson accepts up to 1024 levels.
#
# So the body is looked at before it is parsed, and parsed once: by the standard library alone -- returning
# Starlette's value or raising Starlette's exception -- when it is large, when it may hold an integer orjson would
# round, or when a short body has more than _SHALLOW_DEPTH opening brackets; by orjson otherwise. Only when orjson
# raises, or a longer body's decoded value turns out to nest deeper than _SHALLOW_DEPTH, does the standard library
# parse it again (the orjson value is dropped first).

# Above this size the standard library parses alone, so that a large body costs exactly what it costs Starlette.
# orjson's peak memory is about 2.5 times json.loads's on large documents, whatever their size (measured by
# scripts/json_peak_memory.py, RSS high-water mark in fresh processes: a 50 MiB array of zeros +600 MB against
# +200 MB, 50 MiB of records +483 MB against +336 MB, 8 MiB of zeros +96 MB against +39 MB). Below it the excess
# is at most a few MB per request and orjson's speed pays.
ORJSON_MAX_BYTES = 256 * 1024

# The shortest integer outside orjson's range has 19 digits (9223372036854775808 == 2**63, negated); every literal
# with fewer digits is exact in orjson. JSON forbids leading zeros, so a shorter run cannot have a longer value.
_MIN_INEXACT_DIGITS = 19
_LONG_DIGIT_RUN = b"0" * _MIN_INEXACT_DIGITS

# Documents nested at most this deep are left to orjson: the standard library could only fail on them when the
# caller's own stack is already within this many frames of the recursion limit. Real payloads nest a few levels;
# deeper ones take the standard parser, which then fails (or not) exactly where Starlette's call would.
_SHALLOW_DEPTH = 64

# One translation of the body answers both questions for a short body: every digit becomes "0" (a run of
# _MIN_INEXACT_DIGITS digits becomes a run of zeros, found by a plain substring search), both opening brackets
# become "[" (every container opens with one, so their count bounds the nesting), everything else a space.
# translate + find + count cost about 1 ns per byte, a fraction of orjson's parse; a regular expression for the
# digit run costs more than the parse itself.
_SKELETON = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x5B if byte in (0x5B, 0x7B) else 0x20 for byte in range(256))
# Up to this size a body's brackets are counted; a longer one has its decoded value walked instead (the count
# costs per byte, the walk per container, and long bodies exceed _SHALLOW_DEPTH brackets anyway).
_BRACKET_COUNT_MAX_BYTES = 16 * 1024

_orjson_loads = orjson.loads
_orjson_error = orjson.JSONDecodeError


def _nests_deeper_than_shallow(value: Any) -> bool:
    """Whether ``value`` may nest more than _SHALLOW_DEPTH containers deep (true when unsure).

    Walks one nesting level at a time with C-level calls. Only GC-tracked objects can hold containers: lists
    always are, a dict only once a container was put in it, leaves never are. So a level of flat dicts (the usual
    wide array of records) ends the walk without visiting their values.
    """
    level: Any = (value,)
    for _ in range(_SHALLOW_DEPTH):
        containers = list(filter(is_tracked, level))
        if not containers:
            return False
        try:
            level = get_referents(*containers)
        except Exception:  # an audit hook may forbid gc introspection ("gc.get_referents"): use the stdlib
            return True
    return True


def _orjson_value_stands(body: bytes, value: Any) -> bool:
    """Whether orjson's ``value`` for ``body`` is what ``json.loads`` returns (see the decoding notes above)."""
    size = len(body)
    if size < _MIN_INEXACT_DIGITS:
        return True  # too short for a long digit run, or for more than _SHALLOW_DEPTH brackets
    skeleton = body.translate(_SKELETON)
    # A false positive (a long digit run in a string, a float's many digits) only costs the slower parser.
    return _LONG_DIGIT_RUN not in skeleton and (
        (size <= _BRACKET_COUNT_MAX_BYTES and skeleton.count(b"[") <= _SHALLOW_DEPTH)
        or not _nests_deeper_than_shallow(value)
    )


def _stdlib_decides(body: bytes) -> bool:
    """Whether the standard library must parse ``body`` alone, without orjson (see the decoding notes above)."""
    size = len(body)
    if size > ORJSON_MAX_BYTES:
        return True
    if size < _MIN_INEXACT_DIGITS:
        return False  # too short for a long digit run, or for more than _SHALLOW_DEPTH brackets
    skeleton = body.translate(_SKELETON)
    # A false positive (a long digit run in a string, a float's many digits) only costs the slower parser.
    return _LONG_DIGIT_RUN in skeleton or (size <= _BRACKET_COUNT_MAX_BYTES and skeleton.count(b"[") > _SHALLOW_DEPTH)


def loads(body: bytes) -> Any:
    """Decode a request body exactly as ``json.loads(body)`` does: same value, same exception."""
    if type(body) is not bytes or _stdlib_decides(body):
        # A body replaced by middleware may be a str, bytearray or memoryview: orjson accepts a memoryview that
        # json.loads rejects, and these are rare enough not to need a fast path.
        return json.loads(body)
    try:
        value = _orjson_loads(body)
    except _orjson_error:
        pass  # the standard library raises (or accepts), outside this handler so no chained context shows
    else:
        if len(body) <= _BRACKET_COUNT_MAX_BYTES or not _nests_deeper_than_shallow(value):
            return value
        del value
    return json.loads(body)


def loads_text(text: str) -> Any:
    """Decode a text exactly as ``json.loads(text)`` does (WebSocket messages, the test client's)."""
    if len(text) > ORJSON_MAX_BYTES:
        return json.loads(text)
    try:
        value = _orjson_loads(text)
    except _orjson_error:
        pass
    else:
        # orjson took it, so it holds no lone surrogate and encodes as UTF-8 (what the checks read).
        body = text.encode("utf-8")
        if not _stdlib_decides(body) and (
            len(body) <= _BRACKET_COUNT_MAX_BYTES or not _nests_deeper_than_shallow(value)
        ):
            return value
        del value
    return json.loads(text)


# What Starlette's WebSocket.send_json and its test client send: json.dumps(data, separators=(",", ":"),
# ensure_ascii=False), NaN and Infinity allowed (unlike JSONResponse). Built once: json.dumps would build an encoder
# on every call with these options.
dumps_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
