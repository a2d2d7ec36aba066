"""RouteTable: an ordered list of route specs answered as Starlette's first-match loop would answer it.

The table turns each spec into a matcher entry once (methods interned to bits, template to tokens), builds
the chosen backend's tree, and precomputes the complete answer for every fully static template. A lookup is
then a dict hit (static paths) or one tree walk plus the parameter conversions of the winning route.

Routes the tree cannot reproduce exactly (custom convertor regexes, host patterns, unusual parameter
layouts, more distinct methods than bits) stay in the tree as *opaque* entries at their literal prefix: the
tree reports them as candidates in index order and the table matches them with their compiled regex, so the
registration order is kept. Specs without a template (``template=None``) are opaque for the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from . import _pure
from ._readers import Plan, Unmatched, reader_source, reading_plan, spans_reader
from ._template import LIT, compile_path, literal_prefix, template_regex, tree_tokens
from .convertors import Convertor

__all__ = ["HTTP", "WEBSOCKET", "RouteSpec", "RouteTable", "replace_params", "url_path"]

HTTP = 1
WEBSOCKET = 2

# Method bits are 1 << k with k below this, so a method mask fits a signed 32-bit integer on either backend.
# Routes that use a method beyond the first 31 distinct ones are matched by regex (exact, just not indexed).
MAX_METHOD_BITS = 31

# Interned first so that the common methods get the same bits in every table.
_STANDARD_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")

# Route kinds inside the table.
_TREE = 0  # matched by the tree
_REGEX = 1  # opaque in the tree, matched here by its regex
_CALLER = 2  # template None: the caller matches it

Answer = tuple[int, int, tuple[int, ...], dict[str, Any]]
# A resolved answer before parameter conversion: spans (tree) or a regex match (regex-matched route).
_Raw = tuple[int, int, tuple[int, ...], "tuple[int, ...] | re.Match[str] | None"]


class _Matcher(Protocol):
    def lookup(
        self, path: str, method_bit: int, type_bit: int
    ) -> tuple[int, int, tuple[int, ...], tuple[int, ...]] | None: ...


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """What the table needs to know about one route.

    ``template``: Starlette path syntax, or None for a route the caller matches itself. ``methods``: the
    accepted methods (None or empty = any; add HEAD for GET before). ``scope_types``: HTTP and/or WEBSOCKET
    bits. ``convertors``: the route's bound parameter convertors (None = look them up at build time).
    ``prefix``: for a caller-matched route, a literal prefix the path must start with to be a candidate.
    """

    template: str | None
    methods: frozenset[str] | None = None
    scope_types: int = HTTP | WEBSOCKET
    convertors: Mapping[str, Convertor[Any]] | None = None
    prefix: str = ""


@dataclass(slots=True)
class _Route:
    kind: int
    type_mask: int
    methods: frozenset[str] | None
    template: str | None
    # Compiled at build time for regex-matched routes; for tree routes only when a lookup falls back to the
    # regex loop (rare), which keeps building a large table cheap.
    regex: re.Pattern[str] | None
    # How its params are read (tachyon_router._readers)
    plan: Plan
    convertors: Mapping[str, Convertor[Any]]


_NO_MATCH_ANSWER: Answer = (-1, -1, (), {})


def _resolve_backend(backend: str | None) -> str:
    if backend is None:
        from . import backend as default_backend

        return default_backend
    return backend


def _default_matcher_factory(backend: str) -> Callable[[list[Any]], _Matcher]:
    if backend == "python":
        return _pure.build
    if backend == "native":
        from . import _native

        return _native.build
    raise ValueError(f"Unknown router backend {backend!r}: expected 'native' or 'python'")


class RouteTable:
    """An immutable, thread-safe index over ``specs`` (build a new table to change routes)."""

    __slots__ = (
        "_backend",
        "_entries",
        "_matcher",
        "_matcher_lookup",
        "_bit_get",
        "_builders",
        "_slot_get",
        "_static_get",
        "_method_bits",
        "_method_slots",
        "_routes",
        "_specs",
        "_static",
        "_has_regex_routes",
    )

    def __new__(cls, specs: Sequence[RouteSpec], *, backend: str | None = None) -> RouteTable:
        # The native backend gets a subclass whose lookup() calls the C tree directly: choosing the class
        # once here keeps a backend test (and a second Python call) off every lookup.
        if cls is RouteTable and _resolve_backend(backend) == "native":
            from ._native_table import NativeRouteTable

            cls = NativeRouteTable
        return object.__new__(cls)

    def __init__(self, specs: Sequence[RouteSpec], *, backend: str | None = None) -> None:
        backend = _resolve_backend(backend)
        build = _default_matcher_factory(backend)
        self._backend = backend
        self._specs = tuple(specs)

        seen: dict[str, None] = dict.fromkeys(_STANDARD_METHODS)
        for spec in self._specs:
            for method in sorted(spec.methods or ()):
                seen.setdefault(method, None)
        names = list(seen)
        self._method_bits = {name: 1 << k for k, name in enumerate(names[:MAX_METHOD_BITS])}
        # Slot 0 stands for every method no route mentions.
        self._method_slots = {name: 2 * (k + 1) for k, name in enumerate(names)}

        routes: list[_Route] = []
        entries: list[tuple[int, int, int, bool, list[tuple[int, bytes]]]] = []
        static_templates: list[str] = []
        for index, spec in enumerate(self._specs):
            route, tokens = self._prepare(spec)
            routes.append(route)
            method_mask = 0
            if route.kind == _TREE and spec.methods:
                for method in spec.methods:
                    method_mask |= self._method_bits[method]
            if tokens is None:
                prefix = spec.prefix if spec.template is None else literal_prefix(spec.template)
                opaque_tokens = [(LIT, prefix.encode("utf-8", "surrogatepass"))] if prefix else []
                entries.append((index, route.type_mask, 0, True, opaque_tokens))
            else:
                entries.append(
                    (
                        index,
                        route.type_mask,
                        method_mask,
                        False,
                        [(k, t.encode("utf-8", "surrogatepass")) for k, t in tokens],
                    )
                )
                if len(tokens) == 1 and tokens[0][0] == LIT:
                    static_templates.append(tokens[0][1])
        self._routes = routes
        self._has_regex_routes = any(route.kind == _REGEX for route in routes)
        self._entries = tuple(entries)
        self._matcher: _Matcher = build(entries)
        self._matcher_lookup = self._matcher.lookup
        self._builders = tuple(spans_reader(route.template or "", route.plan) for route in routes)
        self._bit_get = self._method_bits.get
        self._slot_get = self._method_slots.get
        self._static: dict[str, list[_Raw]] = {}
        self._static_get = self._static.get
        slot_names: list[str | None] = [None, *names]
        for template in static_templates:
            if template in self._static:
                continue
            self._static[template] = [
                self._resolve(template, name, type_bit) for name in slot_names for type_bit in (HTTP, WEBSOCKET)
            ]

    def _prepare(self, spec: RouteSpec) -> tuple[_Route, tuple[tuple[int, str], ...] | None]:
        if spec.template is None:
            return _Route(_CALLER, spec.scope_types, spec.methods, None, None, (), {}), None
        template = spec.template
        convertors = spec.convertors if spec.convertors is not None else compile_path(template)[2]
        plan = reading_plan(template, convertors)
        methods = frozenset(spec.methods) if spec.methods else None
        tokens = tree_tokens(template, convertors)
        if tokens is not None and methods and any(method not in self._method_bits for method in methods):
            tokens = None
        if tokens is not None:
            return _Route(_TREE, spec.scope_types, methods, template, None, plan, convertors), tokens
        regex = template_regex(template, convertors)
        return _Route(_REGEX, spec.scope_types, methods, template, regex, plan, convertors), None

    def __copy__(self) -> RouteTable:
        return self  # immutable: a copy may share everything, including the native tree

    def __deepcopy__(self, memo: dict[int, Any]) -> RouteTable:
        return self

    @property
    def backend(self) -> str:
        """The matcher backend this table was built with ("native" or "python")."""
        return self._backend

    @property
    def entries(self) -> tuple[tuple[int, int, int, bool, list[tuple[int, bytes]]], ...]:
        """The low-level ``(index, type_mask, method_mask, opaque, tokens)`` entries given to the matcher."""
        return self._entries

    @property
    def specs(self) -> tuple[RouteSpec, ...]:
        return self._specs

    def __len__(self) -> int:
        return len(self._specs)

    def param_reader_source(self, index: int) -> str | None:
        """The generated source of the function that reads route ``index``'s params on a hit (for debugging).

        None for a route whose params are not read by a generated function: one the caller matches, or one
        matched by its regex (the params are then the regex's groups, converted).
        """
        if self._routes[index].kind != _TREE:
            return None
        return reader_source(self._builders[index])

    @property
    def static_answers(self) -> Mapping[str, Sequence[tuple[int, int, tuple[int, ...], object]]]:
        """The precomputed answer for every fully static template, for callers that cache results.

        ``answers[path][method_slots.get(method, 0) + scope_type - 1]`` is ``(full, partial, candidates,
        raw)`` as ``lookup`` would find it; a true ``raw`` means the winner has parameters to convert
        (``lookup`` converts them).
        """
        return MappingProxyType(self._static)

    @property
    def method_slots(self) -> Mapping[str, int]:
        """Method name to its slot in ``static_answers`` (0 for a method no route mentions)."""
        return MappingProxyType(self._method_slots)

    def lookup(self, route_path: str, method: str, scope_type: int) -> Answer:
        """``(full, partial, candidates, params)`` for a request; see the package documentation."""
        # Hot path, kept flat on purpose: one dict probe for static paths, else one tree walk and the
        # winning route's conversions; bound methods are cached on the instance to save attribute lookups.
        if 0 < scope_type < 3:
            answers = self._static_get(route_path)
            if answers is not None:
                full, partial, candidates, raw = answers[self._slot_get(method, 0) + scope_type - 1]
                if raw:
                    try:
                        return full, partial, candidates, self._params(full, route_path, raw)
                    except Unmatched:
                        return _NO_MATCH_ANSWER
                return full, partial, candidates, {}
        return self._finish(
            self._matcher_lookup(route_path, self._bit_get(method, 0), scope_type), route_path, method, scope_type
        )

    def _finish(
        self,
        answer: tuple[int, int, tuple[int, ...], tuple[int, ...]] | None,
        route_path: str,
        method: str,
        scope_type: int,
    ) -> Answer:
        # A matcher answer (None: the tree declined) made into the public answer.
        try:
            if answer is None or (answer[2] and self._has_regex_routes):
                full, partial, candidates, raw = self._complete(answer, route_path, method, scope_type)
                if full < 0:
                    return full, partial, candidates, {}
                return full, partial, candidates, self._params(full, route_path, raw)
            full = answer[0]
            if full < 0:
                return full, answer[1], answer[2], {}
            return full, answer[1], answer[2], self._builders[full](route_path, answer[3])
        except Unmatched:  # an int parameter past the int digit limit (see convert_int)
            return _NO_MATCH_ANSWER

    def _params(self, full: int, route_path: str, raw: tuple[int, ...] | re.Match[str] | None) -> dict[str, Any]:
        route = self._routes[full]
        if isinstance(raw, tuple):
            return self._builders[full](route_path, raw)
        if raw is None:
            return {}
        matched = raw.groupdict()
        convertors = route.convertors
        return {name: convertors[name].convert(value) for name, value in matched.items()}

    def _resolve(self, route_path: str, method: str | None, scope_type: int) -> _Raw:
        method_bit = self._method_bits.get(method, 0) if method is not None else 0
        return self._complete(self._matcher.lookup(route_path, method_bit, scope_type), route_path, method, scope_type)

    def _complete(
        self,
        answer: tuple[int, int, tuple[int, ...], tuple[int, ...]] | None,
        route_path: str,
        method: str | None,
        scope_type: int,
    ) -> _Raw:
        # Finish a tree answer: regex-match the opaque routes it reports, or scan when the tree declined.
        if answer is None:
            return self._scan(route_path, method, scope_type)
        full, partial, candidates, spans = answer
        if not candidates or not self._has_regex_routes:
            return full, partial, candidates, spans
        routes = self._routes
        kept: list[int] = []
        raw: tuple[int, ...] | re.Match[str] = spans
        for index in candidates:
            route = routes[index]
            if route.kind == _CALLER:
                kept.append(index)
                continue
            if not route.type_mask & scope_type:
                continue
            assert route.regex is not None
            matched = route.regex.match(route_path)
            if matched is None:
                continue
            if route.methods is None or method in route.methods:
                full = index
                raw = matched
                break
            if partial < 0 or index < partial:
                partial = index
        if full >= 0 and partial > full:
            partial = -1
        return full, partial, tuple(kept), raw

    def _scan(self, route_path: str, method: str | None, scope_type: int) -> _Raw:
        # The exact first-match loop, for lookups the tree declines (over its work budget or path-length cap).
        full = partial = -1
        candidates: list[int] = []
        raw: re.Match[str] | None = None
        for index, (route, spec) in enumerate(zip(self._routes, self._specs, strict=True)):
            if not route.type_mask & scope_type:
                continue
            if route.kind == _CALLER:
                if route_path.startswith(spec.prefix):
                    candidates.append(index)
                continue
            regex = route.regex
            if regex is None:
                assert route.template is not None
                regex = route.regex = template_regex(route.template, route.convertors)
            matched = regex.match(route_path)
            if matched is None:
                continue
            if route.methods is None or method in route.methods:
                full, raw = index, matched
                break
            if partial < 0:
                partial = index
        return full, partial, tuple(candidates), raw


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def replace_params(
    path_format: str, param_convertors: Mapping[str, Convertor[Any]], path_params: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Fill ``{name}`` placeholders of a path format like Starlette's ``replace_params``.

    Each placeholder whose name is in ``path_params`` is replaced by its convertor's ``to_string`` and the
    name is removed from ``path_params`` (mutated in place, as Starlette does); other placeholders are left
    as they are. Returns ``(path, path_params)`` — what is left are the unused params.
    """
    if not path_params:
        return path_format, path_params
    pieces = _PLACEHOLDER.split(path_format)
    for i in range(1, len(pieces), 2):
        name = pieces[i]
        if name in path_params:
            pieces[i] = param_convertors[name].to_string(path_params.pop(name))
        else:
            pieces[i] = "{" + name + "}"
    return "".join(pieces), path_params


def url_path(path_format: str, param_convertors: Mapping[str, Convertor[Any]], params: Mapping[str, Any]) -> str:
    """Build a concrete path from a path format, like a route's ``url_path_for``.

    ``params`` must name exactly the format's parameters (else ``LookupError`` listing the difference);
    each value goes through its convertor's ``to_string`` (whose ``AssertionError`` propagates).
    """
    expected = set(param_convertors)
    given = set(params)
    if expected != given:
        missing = ", ".join(sorted(expected - given)) or "-"
        unexpected = ", ".join(sorted(given - expected)) or "-"
        raise LookupError(f"Params do not fit path {path_format!r}: missing {missing}; unexpected {unexpected}")
    path, remaining = replace_params(path_format, param_convertors, dict(params))
    if remaining:
        raise LookupError(f"Params not used by path {path_format!r}: {', '.join(sorted(remaining))}")
    return path
