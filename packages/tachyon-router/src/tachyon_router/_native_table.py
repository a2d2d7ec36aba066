"""The RouteTable of the native backend: ``lookup`` calls the C tree itself.

``RouteTable(specs)`` returns this subclass when the native backend is in use. Its ``lookup`` gives the same
answers as the generic one, but a dynamic path costs one Python frame and one cffi call of ``radix_find``,
whose return value carries the common answers: the full match's index (params already split into spans and
int values in the thread's out buffer) or "nothing matches". Everything else (a 405 partial, opaque
candidates, a declined lookup) takes the generic route through ``_finish``.

Threads: cffi releases the GIL during the call, so each thread has its own out buffer; a parameter reader
copies what it needs out of the buffer before calling any convertor, so even a convertor that looks a path
up on the same thread cannot disturb it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Final

from ._native import Matcher
from ._readers import OutReader, Wrap, out_reader, reader_source
from ._table import HTTP, WEBSOCKET, Answer, RouteSpec, RouteTable
from ._tachyon_router_native import ffi, lib
from ._template import encode_path

__all__ = ["NativeRouteTable"]

_find = lib.radix_find
_NO_MATCH: Final[int] = lib.RADIX_NO_MATCH
_MORE: Final[int] = lib.RADIX_MORE
_OUT_INTS: Final[int] = lib.RADIX_FIND_OUT_INTS
# The selector is method_bit << _SEL_SHIFT | scope type (the HTTP and WEBSOCKET bits fit below the shift).
_SEL_SHIFT: Final[int] = lib.RADIX_SEL_TYPE_BITS
# Slots per parameter in radix_find's out buffer: start, end (code points) and the value of an int parameter.
_SLOTS: Final = 3

SelectorGet = Callable[[str, int], int]
Finder = tuple[
    Any,
    Callable[[Any, bytes, int, int, Any], int],
    tuple[SelectorGet, ...],
    threading.local,
    int,
    Callable[[int, str, str, int], Answer],
]

# Each thread's out buffer for radix_find (a fixed RADIX_FIND_OUT_INTS int32), created on its first lookup.
_local = threading.local()


def _new_buffer() -> tuple[Any, memoryview]:
    buf = ffi.new("int32_t[]", _OUT_INTS)
    state = buf, memoryview(ffi.buffer(buf)).cast("i")
    _local.find = state
    return state


def _general_answer(view: memoryview) -> tuple[int, int, tuple[int, ...], tuple[int, ...]]:
    """Read radix_lookup's layout ``[full, partial, n_opaque, opaque..., n_params, spans...]``."""
    at = 4 + view[2]
    return view[0], view[1], tuple(view[3 : at - 1]), tuple(view[at : at + 2 * view[at - 1]])


def _opaque_reader(path: str, out: memoryview) -> dict[str, Any]:
    # radix_find reports a full match only for entries it matched itself, never for opaque ones.
    raise RuntimeError(f"the native tree answered an opaque route for {path!r}")


class NativeRouteTable(RouteTable):
    """A RouteTable on the native tree (see the module docstring); build it through ``RouteTable(...)``."""

    __slots__ = ("_readers", "_sel_gets", "_tree")

    def __init__(self, specs: Sequence[RouteSpec], *, backend: str | None = None) -> None:
        super().__init__(specs, backend=backend)
        matcher = self._matcher
        if not isinstance(matcher, Matcher):
            raise TypeError(f"NativeRouteTable needs the native matcher, not {type(matcher).__name__}")
        # The matcher owns the tree (freed with it); the table holds both.
        self._tree = matcher.tree
        # The selector of every (method, scope type) is precomputed: a stored int costs less than shifting and
        # or-ing (and allocating) one per lookup. Indexed by scope type (1 or 2; slot 0 is never read).
        by_type = [
            {name: bit << _SEL_SHIFT | scope_type for name, bit in self._method_bits.items()}
            for scope_type in (HTTP, WEBSOCKET)
        ]
        self._sel_gets = (by_type[0].get, by_type[0].get, by_type[1].get)
        self._readers: tuple[OutReader, ...] = tuple(
            _opaque_reader if opaque else out_reader(route.template or "", tokens, route.plan, _SLOTS)
            for route, (_, _, _, opaque, tokens) in zip(self._routes, self._entries, strict=True)
        )

    def param_reader_source(self, index: int) -> str | None:
        return reader_source(self._readers[index])

    def lookup(self, route_path: str, method: str, scope_type: int) -> Answer:
        """``(full, partial, candidates, params)`` for a request; see the package documentation."""
        # The hot path, flat on purpose (every attribute read and call is measurable at this scale). The static
        # probe is RouteTable.lookup's, repeated rather than called: a Python call costs more than the probe.
        if 0 < scope_type < 3:
            answers = self._static_get(route_path)
            if answers is not None:
                full, partial, candidates, raw = answers[self._slot_get(method, 0) + scope_type - 1]
                if raw:
                    return full, partial, candidates, self._params(full, route_path, raw)
                return full, partial, candidates, {}
            try:
                data = route_path.encode()
            except (UnicodeEncodeError, AttributeError):
                data = encode_path(route_path)
            try:
                buf, out = _local.find
            except AttributeError:
                buf, out = _new_buffer()
            # an unknown method has bit 0: only routes accepting any method can match it
            found = _find(self._tree, data, len(data), self._sel_gets[scope_type](method, scope_type), buf)
            if found >= 0:
                return found, -1, (), self._readers[found](route_path, out)
            if found == _NO_MATCH:
                return -1, -1, (), {}
            if found == _MORE:
                return self._finish(_general_answer(out), route_path, method, scope_type)
        # Declined by radix_find (work budget, path length, a result larger than its buffer) or another scope
        # type: the generic lookup answers, exactly.
        return RouteTable.lookup(self, route_path, method, scope_type)

    def resume(self, found: int, route_path: str, method: str, scope_type: int) -> Answer:
        """The answer of a lookup whose ``radix_find`` call, on this thread, returned ``found`` (neither a full
        match nor "nothing matches"): the general layout in the out buffer, or declined."""
        if found == _MORE:
            return self._finish(_general_answer(_local.find[1]), route_path, method, scope_type)
        # Declined by radix_find (work budget, path length, a result larger than its buffer): the generic
        # lookup answers, exactly.
        return RouteTable.lookup(self, route_path, method, scope_type)

    def finder(self) -> Finder:
        """What a caller needs to inline this table's lookup of a dynamic path in its own frame:
        ``(tree, radix_find, selector getters by scope type, thread-local out buffers, NO_MATCH, resume)``.

        Read ``buf, out = local.find`` (AttributeError: no buffer yet on this thread; call ``lookup`` once), then
        ``found = radix_find(tree, data, len(data), sel_gets[scope_type](method, scope_type), buf)`` with ``data``
        the UTF-8 path (``_template.encode_path``). ``found >= 0`` is the index of the full match (read its params
        from ``out`` with its reader), ``NO_MATCH`` means nothing matches, and any other value is answered by
        ``resume(found, path, method, scope_type)``."""
        return self._tree, _find, self._sel_gets, _local, _NO_MATCH, self.resume

    def result_readers(self, wraps: Sequence[Wrap | None]) -> tuple[OutReader, ...]:
        """Per route, a reader ``read(path, out)`` that returns the route's result as ``wraps[index]`` makes it
        from the params (see ``_readers.Wrap``; None: this table's own reader, returning the params)."""
        readers = []
        for own, wrap, route, (_, _, _, opaque, tokens) in zip(
            self._readers, wraps, self._routes, self._entries, strict=True
        ):
            wrapped = wrap is not None and not opaque
            readers.append(out_reader(route.template or "", tokens, route.plan, _SLOTS, wrap) if wrapped else own)
        return tuple(readers)
