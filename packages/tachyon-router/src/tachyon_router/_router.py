"""A small standalone router on top of RouteTable, for frameworks other than Tachyon.

    router = Router()
    router.add("/users/{id:int}", show_user, methods=["GET"], name="user")
    found = router.match("/users/42", "GET")   # Match(status=FOUND, value=show_user, params={"id": 42})
    router.url_for("user", id=42)              # "/users/42"

Semantics are Starlette's: the first route added wins; a path matched only with another method answers
METHOD_NOT_ALLOWED with the methods of the first such route; GET implies HEAD.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._table import HTTP, WEBSOCKET, Answer, RouteSpec, RouteTable, url_path
from ._template import compile_path, encode_path
from .convertors import Convertor

__all__ = ["Match", "MatchStatus", "NoRouteFound", "Router"]

V = TypeVar("V")


class MatchStatus(enum.Enum):
    FOUND = "found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_FOUND = "not_found"


class NoRouteFound(LookupError):
    """``url_for`` found no route with that name and exactly those parameter names."""


class _MatchType(type):
    """Match's metaclass, for its constructor: ``Match(status, value, params, allowed_methods, name)``.

    The constructor lives here rather than in a ``__new__`` so that Match keeps tuple's C-level ``__new__``:
    the parameter readers build a Match through ``type.__call__`` (the C path, no Python frame), which costs
    about 30 ns less than ``tuple.__new__(Match, fields)`` and is the one allocation of a dynamic hit.
    """

    def __call__(
        cls,
        status: MatchStatus,
        value: Any = None,
        params: dict[str, Any] | None = None,
        allowed_methods: frozenset[str] = frozenset(),
        name: str | None = None,
    ) -> Any:
        match_type = cast("type[Match[Any]]", cls)
        return _tuple_new(match_type, (status, value, {} if params is None else params, allowed_methods, name))


class Match(tuple[Any, ...], Generic[V], metaclass=_MatchType):
    """The outcome of ``Router.match``: a read-only record, and a 5-tuple underneath.

    ``value`` and ``params`` belong to the matched route (None / {} unless FOUND). ``allowed_methods`` is
    the method set of the matched route (FOUND; empty = any method) or of the route that matched the path
    with another method (METHOD_NOT_ALLOWED) — use it for the ``Allow`` header. ``name`` is the route's
    name. A Match is true only when FOUND; it unpacks as ``status, value, params, allowed_methods, name``.

    A tuple rather than a dataclass because ``match`` builds one per call for a route with parameters: a tuple
    subclass built at C level is the cheapest read-only record Python has (see ``_MatchType``).
    """

    __slots__ = ()
    __match_args__ = ("status", "value", "params", "allowed_methods", "name")

    if TYPE_CHECKING:

        def __new__(
            cls,
            status: MatchStatus,
            value: V | None = None,
            params: dict[str, Any] | None = None,
            allowed_methods: frozenset[str] = frozenset(),
            name: str | None = None,
        ) -> Match[V]: ...

        status: MatchStatus
        value: V | None
        params: dict[str, Any]
        allowed_methods: frozenset[str]
        name: str | None
    else:
        status = property(itemgetter(0), doc="FOUND, METHOD_NOT_ALLOWED or NOT_FOUND.")
        value = property(itemgetter(1), doc="The matched route's value (None unless FOUND).")
        params = property(itemgetter(2), doc="The converted path parameters ({} unless FOUND).")
        allowed_methods = property(itemgetter(3), doc="The methods for the ``Allow`` header.")
        name = property(itemgetter(4), doc="The route's name.")

    def __bool__(self) -> bool:
        return self[0] is MatchStatus.FOUND

    def __repr__(self) -> str:
        status, value, params, allowed_methods, name = self
        return (
            f"Match(status={status}, value={value!r}, params={params!r}, "
            f"allowed_methods={allowed_methods!r}, name={name!r})"
        )


_tuple_new = tuple.__new__
# Match(fields) at C level: type.__call__ runs tuple's __new__ on Match (the metaclass's __call__ is not involved).
_make_match: Callable[[tuple[Any, ...]], Match[Any]] = type.__call__.__get__(Match)
_FOUND = MatchStatus.FOUND
_METHOD_NOT_ALLOWED = MatchStatus.METHOD_NOT_ALLOWED
_NOT_FOUND = MatchStatus.NOT_FOUND
_NO_METHODS: frozenset[str] = frozenset()


class _ReadOnlyParams(dict[str, Any]):
    """The empty ``params`` of the shared results: a dict that refuses changes (copy it to change it)."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("the params of a shared Match are read-only; copy them with dict(match.params)")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse


_NO_PARAMS: dict[str, Any] = _ReadOnlyParams()
_NOT_FOUND_MATCH: Match[Any] = _make_match((_NOT_FOUND, None, _NO_PARAMS, _NO_METHODS, None))


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    template: str
    value: V
    methods: frozenset[str] | None
    name: str | None
    path_format: str
    convertors: dict[str, Convertor[Any]]
    scope_type: int
    allowed_methods: frozenset[str]  # ``methods`` or the empty set (any method), as Match reports it
    found: Match[V]  # the answer when the route matches without parameters
    not_allowed: Match[V]  # the answer when the route matches the path only, with another method


# What match() needs to look a dynamic path up in its own frame on the native backend (None on the pure-Python
# one): NativeRouteTable.finder()'s pieces, then per route a reader that returns the finished Match.
_Native = tuple[
    Any,
    Callable[[Any, bytes, int, int, Any], int],
    tuple[Callable[[str, int], int], ...],
    Any,
    int,
    Callable[[int, str, str, int], Answer],
    tuple[Callable[[str, memoryview], "Match[V]"], ...],
]
# (static answers' probe, method-slot probe, native pieces or None, the table, the entries it was built from)
_Compiled = tuple[
    Callable[[str], "list[Match[V] | None] | None"],
    Callable[[str, int], int],
    "_Native[V] | None",
    RouteTable,
    tuple[_Entry[V], ...],
]


def _shared(result: Match[V]) -> Callable[[str, memoryview], Match[V]]:
    def read(path: str, out: memoryview) -> Match[V]:
        return result

    return read


def _compile(entries: tuple[_Entry[V], ...], backend: str | None) -> _Compiled[V]:
    """Build the table, and the prebuilt result of every static path for every method slot and scope type.

    A static path's answer never depends on anything but the method and scope type, so unless it carries
    parameters (a parameter route registered earlier matches it) its Match is built here once. On the native
    backend, each route also gets a parameter reader that builds its Match itself.
    """
    specs = [RouteSpec(entry.template, entry.methods, entry.scope_type, entry.convertors) for entry in entries]
    table = RouteTable(specs, backend=backend)
    static: dict[str, list[Match[V] | None]] = {}
    for path, answers in table.static_answers.items():
        results: list[Match[V] | None] = []
        for full, partial, _, raw in answers:
            if full >= 0:
                results.append(None if raw else entries[full].found)
            elif partial >= 0:
                results.append(entries[partial].not_allowed)
            else:
                results.append(_NOT_FOUND_MATCH)
        static[path] = results
    native: _Native[V] | None = None
    if table.backend == "native":
        from ._native_table import NativeRouteTable

        assert isinstance(table, NativeRouteTable)
        wraps = [(_make_match, (), (_FOUND, entry.value), (entry.allowed_methods, entry.name)) for entry in entries]
        # A route without parameters answers with its shared result, as everywhere else.
        readers = tuple(
            reader if entry.convertors else _shared(entry.found)
            for reader, entry in zip(table.result_readers(wraps), entries, strict=True)
        )
        native = (*table.finder(), readers)
    return static.get, dict(table.method_slots).get, native, table, entries


class Router(Generic[V]):
    """Routes added in order; the table is (re)built lazily on the first match after a change."""

    def __init__(self, *, backend: str | None = None) -> None:
        self._backend = backend
        self._entries: list[_Entry[V]] = []
        # Published in one assignment so that a concurrent match() never sees a table and entries that differ.
        self._state: _Compiled[V] | None = None
        self._lock = threading.Lock()

    def add(
        self,
        template: str,
        value: V,
        methods: Collection[str] | None = None,
        *,
        name: str | None = None,
        websocket: bool = False,
    ) -> None:
        """Register ``template`` (Starlette syntax, must start with "/") answering with ``value``.

        ``methods`` None accepts any method. ``websocket=True`` makes it match websocket lookups instead
        of HTTP ones.
        """
        if not template.startswith("/"):
            raise ValueError(f"Route templates must start with '/': {template!r}")
        _, path_format, convertors = compile_path(template)
        method_set: frozenset[str] | None = None
        if methods is not None and not websocket:
            upper = {method.upper() for method in methods}
            if "GET" in upper:
                upper.add("HEAD")
            method_set = frozenset(upper)
        entry = _Entry(
            template,
            value,
            method_set,
            name,
            path_format,
            convertors,
            WEBSOCKET if websocket else HTTP,
            method_set or _NO_METHODS,
            _make_match((_FOUND, value, _NO_PARAMS, method_set or _NO_METHODS, name)),
            _make_match((_METHOD_NOT_ALLOWED, None, _NO_PARAMS, method_set or _NO_METHODS, name)),
        )
        with self._lock:
            self._entries.append(entry)
            self._state = None

    def _compiled(self) -> _Compiled[V]:
        compiled = self._state
        if compiled is None:
            with self._lock:
                compiled = self._state
                if compiled is None:
                    compiled = self._state = _compile(tuple(self._entries), self._backend)
        return compiled

    def _current_table(self) -> RouteTable:
        return self._compiled()[3]

    @property
    def backend(self) -> str:
        return self._current_table().backend

    def match(self, path: str, method: str = "GET", *, websocket: bool = False) -> Match[V]:
        """Find the route for ``path`` (already percent-decoded) and ``method``.

        A result without parameters (a route without parameters found, METHOD_NOT_ALLOWED, NOT_FOUND) is
        built once and shared: its ``params`` is a read-only empty dict.
        """
        # Hot path, kept flat: a static path is one dict probe returning a prebuilt Match. On the native backend
        # the rest is NativeRouteTable.lookup inlined (one Python frame less), with a reader that builds the
        # Match itself; anything else is one table lookup and, for a route with parameters, one tuple.
        compiled = self._state
        if compiled is None:
            compiled = self._compiled()
        static_get, slot_get, native, table, entries = compiled
        scope_type = WEBSOCKET if websocket else HTTP
        answers = static_get(path)
        if answers is not None:
            found = answers[slot_get(method, 0) + scope_type - 1]
            if found is not None:
                return found
        elif native is not None:
            tree, find, sel_gets, local, no_match, resume, readers = native
            try:
                data = path.encode()
            except (UnicodeEncodeError, AttributeError):
                data = encode_path(path)
            try:
                buf, out = local.find
            except AttributeError:  # this thread's first lookup: the table creates its out buffer
                return self._wrap(table.lookup(path, method, scope_type), entries)
            index = find(tree, data, len(data), sel_gets[scope_type](method, scope_type), buf)
            if index >= 0:
                return readers[index](path, out)
            if index == no_match:
                return _NOT_FOUND_MATCH
            return self._wrap(resume(index, path, method, scope_type), entries)
        return self._wrap(table.lookup(path, method, scope_type), entries)

    @staticmethod
    def _wrap(answer: Answer, entries: tuple[_Entry[V], ...]) -> Match[V]:
        full, partial, _, params = answer
        if full >= 0:
            entry = entries[full]
            if params:
                return _make_match((_FOUND, entry.value, params, entry.allowed_methods, entry.name))
            return entry.found
        if partial >= 0:
            return entries[partial].not_allowed
        return _NOT_FOUND_MATCH

    def url_for(self, name: str, /, **params: Any) -> str:
        """The path of the first route called ``name`` whose parameters are exactly ``params``."""
        wanted = set(params)
        for entry in self._entries:
            if entry.name == name and set(entry.convertors) == wanted:
                return url_path(entry.path_format, entry.convertors, params)
        raise NoRouteFound(f"No route named {name!r} with params {sorted(wanted)}")
