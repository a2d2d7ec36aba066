"""FastAPI's route dispatch answered from Tachyon's route table (installed by the compat switch only).

FastAPI's ``APIRouter.app`` runs its own first-match loop over ``router.routes`` and each included router's
``_IncludedRouter._match`` loops again over that inclusion's routes, calling ``matches()`` on every route in
turn. When FastAPI imports through ``tachyon.compat``, ``install()`` replaces those two loops (and only them):
a ``tachyon_router.RouteTable`` built over the same routes says which entry the loop would stop at, then
FastAPI's own code runs for that one entry (its ``matches()``, scope update, telemetry hook and ``handle()``),
so the scope and everything after the choice are FastAPI's.

The table is rebuilt when the route list changes: the router's list records its mutations, and every change
FastAPI makes to included routers goes through ``APIRouter._mark_routes_changed``, which bumps a generation
counter here. No version is recomputed per request.

FastAPI's own loop still answers, for one request or for a whole router, when the table cannot be exact:
routes whose class overrides ``matches()`` (or with an altered regex, a host pattern...) reached by the
request, a router class that overrides ``matches``/``handle``, an effective route context already in the
scope, websocket scopes at the top level, slash redirects and low-priority (frontend) routes. A FastAPI
version outside ``TESTED_VERSIONS`` is left alone entirely. Each such decision is logged once at debug level
on the ``tachyon.fastapi`` logger.
"""

from __future__ import annotations

import itertools
import logging
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import tachyon_router
from tachyon_http._shared import get_route_path
from tachyon_http.types import Receive, Scope, Send
from tachyon_router import RouteSpec, RouteTable, compile_path

from tachyon import routing as _routing

__all__ = ["TESTED_VERSIONS", "install", "is_installed"]

logger = logging.getLogger("tachyon.fastapi")

#: FastAPI release series whose routing internals this module was written and tested against.
TESTED_VERSIONS = ("0.163.", "0.165.")

_HTTP = tachyon_router.HTTP
_WEBSOCKET = tachyon_router.WEBSOCKET
_SCOPE_TYPES = {"http": _HTTP, "websocket": _WEBSOCKET}
_OPAQUE = RouteSpec(None, None, _HTTP | _WEBSOCKET)

# Bumped by every APIRouter._mark_routes_changed(): the one door through which FastAPI's included-router
# contents change. A table remembers the generation it was built at.
_generation = itertools.count(1)
_current_generation = 0

_installed: types.ModuleType | None = None
_logged: set[tuple[int, str]] = set()


def is_installed() -> bool:
    """Whether FastAPI's dispatch is answered from the route table in this interpreter."""
    return _installed is not None


def _log_once(owner: object, reason: str) -> None:
    key = (id(owner), reason)
    if key not in _logged:
        _logged.add(key)
        logger.debug("FastAPI's own routing loop is used for %r: %s", owner, reason)


def _template_is_exact(path: str, regex: Any) -> bool:
    # A route whose regex was altered after construction is matched by that regex, not by its template.
    return bool(getattr(regex, "pattern", None) == compile_path(path)[0].pattern)


class _Spec:
    """Turns FastAPI and Tachyon route objects into table specs (or opaque entries)."""

    def __init__(self, fastapi_routing: types.ModuleType) -> None:
        self.fr = fastapi_routing
        self.APIRoute = fastapi_routing.APIRoute
        self.APIWebSocketRoute = fastapi_routing.APIWebSocketRoute
        self.IncludedRouter = fastapi_routing._IncludedRouter
        self.EffectiveRouteContext = fastapi_routing._EffectiveRouteContext
        self.APIRouter = fastapi_routing.APIRouter

    def plain(self, route: Any) -> RouteSpec:
        """A Tachyon Route/WebSocketRoute/Mount (or FastAPI's subclasses of them) as FastAPI calls it."""
        cls = type(route)
        if isinstance(route, self.APIRoute):
            if cls.matches is not self.APIRoute.matches or not _template_is_exact(route.path, route.path_regex):
                return _OPAQUE
            return RouteSpec(route.path, frozenset(route.methods) or None, _HTTP, route.param_convertors)
        if isinstance(route, self.APIWebSocketRoute):
            if cls.matches is not self.APIWebSocketRoute.matches:
                return _OPAQUE
            if not _template_is_exact(route.path, route.path_regex):
                return _OPAQUE
            return RouteSpec(route.path, None, _WEBSOCKET, route.param_convertors)
        if isinstance(route, _routing.Route) and cls.matches is _routing.Route.matches:
            if not _template_is_exact(route.path, route.path_regex):
                return _OPAQUE
            return RouteSpec(route.path, frozenset(route.methods) if route.methods else None, _HTTP,
                             route.param_convertors)  # fmt: skip
        if isinstance(route, _routing.WebSocketRoute) and cls.matches is _routing.WebSocketRoute.matches:
            if not _template_is_exact(route.path, route.path_regex):
                return _OPAQUE
            return RouteSpec(route.path, None, _WEBSOCKET, route.param_convertors)
        if isinstance(route, _routing.Mount) and cls.matches is _routing.Mount.matches:
            template = route.path + "/{path:path}"
            if not _template_is_exact(template, route.path_regex):
                return _OPAQUE
            return RouteSpec(template, None, _HTTP | _WEBSOCKET, route.param_convertors)
        return _OPAQUE

    def context(self, context: Any) -> RouteSpec:
        """An included route (``_EffectiveRouteContext``) as ``_IncludedRouter._match`` evaluates it."""
        if type(context).matches is not self.EffectiveRouteContext.matches:
            return _OPAQUE
        original = context.original_route
        if isinstance(original, self.APIRoute):
            if type(original).matches is not self.APIRoute.matches:
                return _OPAQUE
            # APIRoute.matches defers to the context, which matches HTTP only, by its own compiled path.
            if not _template_is_exact(context.path, context.path_regex):
                return _OPAQUE
            return RouteSpec(context.path, frozenset(context.methods) or None, _HTTP, context.param_convertors)
        if context.starlette_route is not None:
            return self.plain(context.starlette_route)
        return _OPAQUE

    def branch_usable(self, included: Any) -> bool:
        router = included.original_router
        return (
            type(included).matches is self.IncludedRouter.matches
            and type(included)._match is _included_match
            and type(router).matches is self.APIRouter.matches
        )

    def leaves(self, entry: Any, seen: frozenset[int] = frozenset()) -> Iterator[RouteSpec]:
        """The specs an entry of a first-match loop stands for, in the order FastAPI would try them."""
        if isinstance(entry, self.IncludedRouter):
            if id(entry.original_router) in seen or not self.branch_usable(entry):
                yield _OPAQUE
                return
            inner = seen | {id(entry.original_router)}
            for candidate in entry.effective_candidates():
                yield from self.leaves(candidate, inner)
        elif isinstance(entry, self.EffectiveRouteContext):
            yield self.context(entry)
        else:
            yield self.plain(entry)


class _Table:
    """A table over the entries of one first-match loop: which entry stops the loop, and how."""

    __slots__ = ("entries", "lookup", "owners", "opaque_count")

    def __init__(self, entries: Sequence[Any], spec: _Spec) -> None:
        specs: list[RouteSpec] = []
        owners: list[int] = []
        for index, entry in enumerate(entries):
            for leaf in spec.leaves(entry):
                specs.append(leaf)
                owners.append(index)
        self.entries = tuple(entries)
        self.owners = tuple(owners)
        self.opaque_count = sum(1 for leaf in specs if leaf.template is None)
        self.lookup = RouteTable(specs).lookup


class _RouterPlan:
    __slots__ = ("routes", "version", "generation", "table", "low_priority", "included_before")

    def __init__(self, router: Any, spec: _Spec, generation: int) -> None:
        routes = router.routes
        self.routes = routes
        self.version = getattr(routes, "_version", None)
        self.generation = generation
        self.table = _Table(routes, spec)
        self.low_priority = any(True for _ in router._iter_low_priority_routes())
        # Whether FastAPI's loop, stopping at entry i, has created scope["fastapi"] on the way (every included
        # router it tries does, even when it does not match).
        seen_included = False
        flags: list[bool] = []
        for route in self.table.entries:
            seen_included = seen_included or isinstance(route, spec.IncludedRouter)
            flags.append(seen_included)
        self.included_before = tuple(flags)
        if self.table.opaque_count:
            _log_once(router, f"{self.table.opaque_count} route(s) the table cannot evaluate; requests that "
                              "reach them are answered by FastAPI's own loop")  # fmt: skip


def _router_plan(router: Any) -> _RouterPlan:
    plan: _RouterPlan | None = router.__dict__.get("_tachyon_plan")
    routes = router.routes
    if (
        plan is not None
        and plan.routes is routes
        and plan.version == getattr(routes, "_version", None)
        and plan.generation == _current_generation
    ):
        return plan
    assert _installed is not None
    plan = _RouterPlan(router, _Spec(_installed), _current_generation)
    router.__dict__["_tachyon_plan"] = plan
    return plan


_original_app: Callable[..., Any] | None = None
_original_match: Callable[..., Any] | None = None
_original_mark: Callable[..., Any] | None = None


def _mark_routes_changed(self: Any) -> None:
    global _current_generation
    assert _original_mark is not None
    _original_mark(self)
    _current_generation = next(_generation)


async def _router_app(self: Any, scope: Scope, receive: Receive, send: Send) -> None:
    """``APIRouter.app``: FastAPI's first-match loop, with the entry it stops at found by the table."""
    assert _original_app is not None and _installed is not None
    if scope["type"] != "http" or type(self).app is not _installed.APIRouter.app:
        await _original_app(self, scope, receive, send)
        return
    fastapi_scope = scope.get("fastapi")
    if fastapi_scope and fastapi_scope.get("effective_route_context") is not None:
        # APIRoute.matches would consult that context: leave the decision to the routes themselves.
        await _original_app(self, scope, receive, send)
        return
    plan = _router_plan(self)
    table = plan.table
    route_path = get_route_path(scope)
    full, partial, opaque, _ = table.lookup(route_path, scope["method"], _HTTP)
    if opaque:
        await _original_app(self, scope, receive, send)
        return
    fr = _installed
    if full < 0 and partial < 0:
        if plan.low_priority or (self.redirect_slashes and route_path != "/" and _redirect_found(table, scope)):
            await _original_app(self, scope, receive, send)  # slash redirect or frontend route: FastAPI's code
            return
        _enter_router(fr, self, scope)
        if plan.included_before and plan.included_before[-1]:
            fr._get_fastapi_scope(scope)
        await self.default(scope, receive, send)
        return

    index = table.owners[full if full >= 0 else partial]
    route = table.entries[index]
    _enter_router(fr, self, scope)
    # A partial match does not stop the loop: every entry is tried.
    if plan.included_before[index if full >= 0 else -1]:
        fr._get_fastapi_scope(scope)
    match, child_scope = route.matches(scope)
    if match is not (fr.Match.FULL if full >= 0 else fr.Match.PARTIAL):  # pragma: no cover - a table bug
        logger.warning("route table and %r disagree on %r; using FastAPI's loop", route, route_path)
        await _original_app(self, scope, receive, send)
        return
    _update_scope(fr, scope, child_scope)
    fr._route_selected(scope=scope, path=getattr(route, "path_format", None), mount=isinstance(route, fr.routing.Mount))
    await route.handle(scope, receive, send)


def _enter_router(fr: types.ModuleType, router: Any, scope: Scope) -> None:
    # What APIRouter.app does before its loop.
    apply_form_limits = getattr(fr, "_apply_router_form_limits", None)
    if apply_form_limits is not None:
        apply_form_limits(scope, router.form_limits)
    if "router" not in scope:
        scope["router"] = router


def _update_scope(fr: types.ModuleType, scope: Scope, child_scope: Scope) -> None:
    # FastAPI 0.165 merges the child's "fastapi" entries; 0.163 updates the scope plainly.
    if _uses_update_scope:
        fr._update_scope(scope, child_scope)
    else:
        scope.update(child_scope)


_uses_update_scope = False


def _redirect_found(table: _Table, scope: Scope) -> bool:
    """Whether FastAPI's slash-redirect loop would find a route (or could: an opaque route) for the scope."""
    path = scope["path"]
    redirect_scope = dict(scope)
    redirect_scope["path"] = path.rstrip("/") if path.endswith("/") else path + "/"
    full, partial, opaque, _ = table.lookup(get_route_path(redirect_scope), scope["method"], _HTTP)
    return full >= 0 or partial >= 0 or bool(opaque)


def _included_match(self: Any, scope: Scope) -> tuple[Any, Scope, Any, Any]:
    """``_IncludedRouter._match``: the inclusion's first-match loop, with the candidate found by the table."""
    assert _original_match is not None and _installed is not None
    type_bit = _SCOPE_TYPES.get(scope["type"], 0)
    if not type_bit:
        result: tuple[Any, Scope, Any, Any] = _original_match(self, scope)
        return result
    candidates = self.effective_candidates()
    cached = self.__dict__.get("_tachyon_table")
    if cached is None or cached[0] is not candidates:
        cached = (candidates, _Table(candidates, _Spec(_installed)))
        self.__dict__["_tachyon_table"] = cached
        if cached[1].opaque_count:
            _log_once(self, f"{cached[1].opaque_count} included route(s) the table cannot evaluate")
    table: _Table = cached[1]
    full, partial, opaque, _ = table.lookup(get_route_path(scope), scope.get("method", ""), type_bit)
    if opaque:
        result = _original_match(self, scope)
        return result
    fr = _installed
    if full < 0 and partial < 0:
        return fr.Match.NONE, {}, None, None
    candidate = table.entries[table.owners[full if full >= 0 else partial]]
    if isinstance(candidate, fr._IncludedRouter):
        match, child_scope = candidate.matches(scope)
        route, route_context = candidate, None
    elif isinstance(candidate.original_route, fr.APIRoute):
        route_context = candidate
        fastapi_scope = fr._get_fastapi_scope(scope)
        previous = fastapi_scope.get(fr._FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY, fr._SCOPE_MISSING)
        fastapi_scope[fr._FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY] = route_context
        try:
            match, child_scope = candidate.original_route.matches(scope)
        finally:
            fr._restore_fastapi_scope_key(scope, fr._FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY, previous)
        route = candidate.original_route
    else:
        route_context = candidate
        match, child_scope = candidate.matches(scope)
        route = candidate.starlette_route or candidate.original_route
    if match is not (fr.Match.FULL if full >= 0 else fr.Match.PARTIAL):  # pragma: no cover - a table bug
        logger.warning("route table and %r disagree; using FastAPI's loop", candidate)
        result = _original_match(self, scope)
        return result
    return match, child_scope, route, route_context


_REQUIRED = (
    "APIRouter",
    "APIRoute",
    "APIWebSocketRoute",
    "_IncludedRouter",
    "_EffectiveRouteContext",
    "_get_fastapi_scope",
    "_restore_fastapi_scope_key",
    "_route_selected",
    "_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY",
    "_SCOPE_MISSING",
    "Match",
    "routing",
)


def install(fastapi_routing: types.ModuleType) -> bool:
    """Answer FastAPI's dispatch from route tables; called by the compat switch once ``fastapi.routing`` ran.

    Returns whether it did: a FastAPI version outside ``TESTED_VERSIONS``, or one whose routing module lacks
    the internals this relies on, is left to its own loops (and a debug line says why).
    """
    global _installed, _original_app, _original_match, _original_mark, _uses_update_scope
    if _installed is not None:
        return _installed is fastapi_routing
    import fastapi

    version = getattr(fastapi, "__version__", "?")
    if not version.startswith(TESTED_VERSIONS):
        logger.debug("FastAPI %s is outside the tested range %s: its own routing loops are used", version,
                     ", ".join(v + "x" for v in TESTED_VERSIONS))  # fmt: skip
        return False
    missing = [name for name in _REQUIRED if not hasattr(fastapi_routing, name)]
    router_cls = getattr(fastapi_routing, "APIRouter", None)
    for name in ("app", "_mark_routes_changed", "_iter_low_priority_routes"):
        if router_cls is None or not hasattr(router_cls, name):
            missing.append(f"APIRouter.{name}")
    if missing:
        logger.debug("FastAPI %s lacks %s: its own routing loops are used", version, ", ".join(missing))
        return False
    _installed = fastapi_routing
    _uses_update_scope = hasattr(fastapi_routing, "_update_scope")
    _original_app = fastapi_routing.APIRouter.app
    _original_match = fastapi_routing._IncludedRouter._match
    _original_mark = fastapi_routing.APIRouter._mark_routes_changed
    fastapi_routing.APIRouter.app = _router_app
    fastapi_routing.APIRouter._mark_routes_changed = _mark_routes_changed
    fastapi_routing._IncludedRouter._match = _included_match
    return True
