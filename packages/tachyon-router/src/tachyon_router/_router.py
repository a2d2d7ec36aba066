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
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ._table import HTTP, WEBSOCKET, RouteSpec, RouteTable, url_path
from ._template import compile_path
from .convertors import Convertor

__all__ = ["Match", "MatchStatus", "NoRouteFound", "Router"]

V = TypeVar("V")


class MatchStatus(enum.Enum):
    FOUND = "found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_FOUND = "not_found"


class NoRouteFound(LookupError):
    """``url_for`` found no route with that name and exactly those parameter names."""


@dataclass(frozen=True, slots=True)
class Match(Generic[V]):
    """The outcome of ``Router.match``.

    ``value`` and ``params`` belong to the matched route (None / {} unless FOUND). ``allowed_methods`` is
    the method set of the matched route (FOUND; empty = any method) or of the route that matched the path
    with another method (METHOD_NOT_ALLOWED) — use it for the ``Allow`` header.
    """

    status: MatchStatus
    value: V | None = None
    params: dict[str, Any] = field(default_factory=dict)
    allowed_methods: frozenset[str] = frozenset()
    name: str | None = None

    def __bool__(self) -> bool:
        return self.status is MatchStatus.FOUND


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    template: str
    value: V
    methods: frozenset[str] | None
    name: str | None
    path_format: str
    convertors: dict[str, Convertor[Any]]
    scope_type: int


class Router(Generic[V]):
    """Routes added in order; the table is (re)built lazily on the first match after a change."""

    def __init__(self, *, backend: str | None = None) -> None:
        self._backend = backend
        self._entries: list[_Entry[V]] = []
        self._table: RouteTable | None = None
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
        entry = _Entry(template, value, method_set, name, path_format, convertors, WEBSOCKET if websocket else HTTP)
        with self._lock:
            self._entries.append(entry)
            self._table = None

    def _current_table(self) -> RouteTable:
        table = self._table
        if table is None:
            with self._lock:
                table = self._table
                if table is None:
                    specs = [
                        RouteSpec(entry.template, entry.methods, entry.scope_type, entry.convertors)
                        for entry in self._entries
                    ]
                    table = self._table = RouteTable(specs, backend=self._backend)
        return table

    @property
    def backend(self) -> str:
        return self._current_table().backend

    def match(self, path: str, method: str = "GET", *, websocket: bool = False) -> Match[V]:
        """Find the route for ``path`` (already percent-decoded) and ``method``."""
        table = self._current_table()
        entries = self._entries
        full, partial, _, params = table.lookup(path, method, WEBSOCKET if websocket else HTTP)
        if full >= 0:
            entry = entries[full]
            return Match(MatchStatus.FOUND, entry.value, params, entry.methods or frozenset(), entry.name)
        if partial >= 0:
            entry = entries[partial]
            return Match(MatchStatus.METHOD_NOT_ALLOWED, None, {}, entry.methods or frozenset(), entry.name)
        return Match(MatchStatus.NOT_FOUND)

    def url_for(self, name: str, /, **params: Any) -> str:
        """The path of the first route called ``name`` whose parameters are exactly ``params``."""
        wanted = set(params)
        for entry in self._entries:
            if entry.name == name and set(entry.convertors) == wanted:
                return url_path(entry.path_format, entry.convertors, params)
        raise NoRouteFound(f"No route named {name!r} with params {sorted(wanted)}")
