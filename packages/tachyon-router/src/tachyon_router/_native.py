"""Typed wrapper of the native matcher (``native/radix.c`` through the cffi extension).

Same low-level contract as the pure-Python twin (``_pure``): ``build(entries) -> Matcher`` and
``Matcher.lookup(path, method_bit, type_bit)``.  Importing this module raises ImportError when the compiled
extension ``tachyon_router._tachyon_router_native`` is not installed.

Threads: the C tree is immutable and owned by its ``Matcher`` (freed by the garbage collector through
``ffi.gc``), and cffi releases the GIL during the call, so each thread writes its results into its own
buffer.  A caller that holds a ``Matcher`` can keep using it while another thread builds a replacement.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Final

from ._tachyon_router_native import ffi, lib
from ._template import path_type_error

__all__ = ["MAX_PATH_BYTES", "Matcher", "NativeBuildError", "build"]

Entry = tuple[int, int, int, bool, Sequence[tuple[int, bytes]]]
Answer = tuple[int, int, tuple[int, ...], tuple[int, ...]]

#: Paths whose UTF-8 form is longer are not looked up natively (``lookup`` returns None).
MAX_PATH_BYTES: Final[int] = lib.RADIX_MAX_PATH_BYTES

# Results of up to 60 int32 (a few opaque candidates and params) fit the first buffer of a thread; a table
# that needs more makes lookup() grow that thread's buffer once.
_INITIAL_OUT_INTS: Final = 64

_KINDS: Final = frozenset(
    (lib.RADIX_LIT, lib.RADIX_STR, lib.RADIX_INT, lib.RADIX_FLOAT, lib.RADIX_UUID, lib.RADIX_PATH)
)
_INT32_MAX: Final = 2**31 - 1
_UINT32_MAX: Final = 2**32 - 1
_UINT64_MAX: Final = 2**64 - 1

_BUILD_ERRORS: Final = {
    lib.RADIX_E_NOMEM: "out of memory",
    lib.RADIX_E_INVALID: "malformed entries",
    lib.RADIX_E_TOO_BIG: "table exceeds the native size limits",
}

_EMPTY: Final[tuple[int, ...]] = ()

# Reading the out buffer with one precompiled struct call per result size is ~3x cheaper than indexing it
# item by item or slicing the memoryview (the result is built as a tuple in C).
_UNPACKERS: Final = tuple(struct.Struct(f"={size}i").unpack_from for size in range(_INITIAL_OUT_INTS + 1))


class NativeBuildError(ValueError):
    """The native tree refused the entries (the message says why)."""


def _new_state(size: int) -> tuple[Any, memoryview, int]:
    buf = ffi.new("int32_t[]", size)
    return buf, memoryview(ffi.buffer(buf)).cast("i"), size


# Each thread's out buffer, created on its first lookup (a plain threading.local: an attribute read is the
# cheapest per-thread storage Python offers; a subclass with __init__ costs more per access).
_local = threading.local()
_lookup = lib.radix_lookup
_E_OUT_SMALL: Final[int] = lib.RADIX_E_OUT_SMALL
_E_BUDGET: Final[int] = lib.RADIX_E_BUDGET
_E_TOO_LONG: Final[int] = lib.RADIX_E_TOO_LONG


class Matcher:
    """An immutable native tree; ``lookup`` may be called from any number of threads."""

    __slots__ = ("_tree", "out_size")

    def __init__(self, tree: Any) -> None:
        self._tree = tree
        #: the largest result a lookup can write, in int32 units
        self.out_size: int = lib.radix_out_size(tree)

    @property
    def tree(self) -> Any:
        """The ``radix_tree *`` (cdata), for callers of ``lib.radix_find``; valid while this Matcher lives."""
        return self._tree

    def lookup(self, path: str, method_bit: int, type_bit: int) -> Answer | None:
        """``(full, partial, opaque_candidates, spans)``, or None when the native walk gave up (work budget
        exhausted on a pathological table, or path longer than ``MAX_PATH_BYTES``): the caller then answers
        this lookup with the exact regex loop."""
        try:
            data = path.encode()
        except UnicodeEncodeError:  # lone surrogates (undecodable bytes in the request path)
            data = path.encode("utf-8", "surrogatepass")
        except AttributeError:
            raise path_type_error(path) from None
        try:
            buf, view, cap = _local.state
        except AttributeError:
            buf, view, cap = _local.state = _new_state(_INITIAL_OUT_INTS)
        n = _lookup(self._tree, data, len(data), method_bit, type_bit, buf, cap)
        if n >= 4:
            values = _UNPACKERS[n](view) if n <= _INITIAL_OUT_INTS else tuple(view[:n])
            n_opaque = values[2]
            if n_opaque:
                return values[0], values[1], values[3 : 3 + n_opaque], values[4 + n_opaque :]
            return values[0], values[1], _EMPTY, values[4:]
        if n == _E_OUT_SMALL:
            _local.state = _new_state(max(view[0], self.out_size))
            return self.lookup(path, method_bit, type_bit)
        if n == _E_BUDGET or n == _E_TOO_LONG:
            return None
        raise RuntimeError(f"native lookup failed with code {n}")


def build(entries: Iterable[Entry]) -> Matcher:
    """Build a native matcher from ``(index, type_mask, method_mask, opaque, tokens)`` entries."""
    items = list(entries)
    pool = bytearray()
    flat_tokens: list[tuple[int, int, int]] = []
    c_entries = ffi.new("radix_entry[]", max(len(items), 1))
    for i, (index, type_mask, method_mask, opaque, tokens) in enumerate(items):
        if not 0 <= index < _INT32_MAX:
            raise NativeBuildError(f"entry index {index!r} out of range 0..{_INT32_MAX - 1}")
        if not 0 <= type_mask <= _UINT32_MAX:
            raise NativeBuildError(f"type mask {type_mask!r} of entry {index} does not fit 32 bits")
        if not 0 <= method_mask <= _UINT64_MAX:
            raise NativeBuildError(f"method mask of entry {index} does not fit 64 bits")
        entry = c_entries[i]
        entry.index = index
        entry.type_mask = type_mask
        entry.method_mask = method_mask
        entry.opaque = 1 if opaque else 0
        entry.first_token = len(flat_tokens)
        entry.n_tokens = len(tokens)
        for kind, literal in tokens:
            if kind not in _KINDS:
                raise NativeBuildError(f"unknown token kind {kind!r} in entry {index}")
            if kind == lib.RADIX_LIT:
                flat_tokens.append((kind, len(pool), len(literal)))
                pool += literal
            else:
                if opaque:
                    raise NativeBuildError(f"opaque entry {index} may only carry its literal prefix")
                flat_tokens.append((kind, 0, 0))
    c_tokens = ffi.new("radix_token[]", max(len(flat_tokens), 1))
    for i, (kind, offset, length) in enumerate(flat_tokens):
        token = c_tokens[i]
        token.kind = kind
        token.lit_off = offset
        token.lit_len = length
    c_pool = bytes(pool)
    out = ffi.new("radix_tree **")
    rc = lib.radix_build(c_entries, len(items), c_tokens, len(flat_tokens), c_pool, len(c_pool), out)
    if rc != lib.RADIX_OK:
        raise NativeBuildError(f"native router build failed: {_BUILD_ERRORS.get(rc, f'code {rc}')}")
    return Matcher(ffi.gc(out[0], lib.radix_free))
