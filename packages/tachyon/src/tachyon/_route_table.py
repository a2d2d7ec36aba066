"""The Router's route list and its compiled table.

``Router.routes`` is a :class:`_RouteList`: a plain list that records every mutation in a version number. The
Router compiles it into a :class:`_Compiled` snapshot (a ``tachyon_router.RouteTable`` plus, per route index, how
to finish a match) on the first request after a change, and compares one int per request otherwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, SupportsIndex

from tachyon_router import RouteSpec, RouteTable

from tachyon._adapters import _ENDPOINT_CALL

# Which tachyon_router backend new route tables use; None = the package default. Tests switch it.
_table_backend: str | None = None


# Versions come from one global counter, so a replaced list can never look unchanged.
_versions = itertools.count(1)


class _RouteList(list):  # type: ignore[type-arg]
    """``Router.routes``: a plain list that records every mutation in ``_version``.

    The Router compares one int per request and rebuilds its table only when routes changed (e.g.
    FastAPI's ``include_router`` appending after start-up).
    """

    # Unchanged since it was made (the Router drops its compiled table whenever it is given another list, so
    # two lists never need to be told apart); list's own constructor then does all the work, in C.
    _version = 0

    def _touch(self) -> None:
        self._version = next(_versions)

    def append(self, item: Any) -> None:
        super().append(item)
        self._touch()

    def insert(self, index: SupportsIndex, item: Any) -> None:
        super().insert(index, item)
        self._touch()

    def extend(self, items: Iterable[Any]) -> None:
        super().extend(items)
        self._touch()

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self._touch()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._touch()

    def pop(self, index: SupportsIndex = -1) -> Any:
        item = super().pop(index)
        self._touch()
        return item

    def remove(self, item: Any) -> None:
        super().remove(item)
        self._touch()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._touch()

    def reverse(self) -> None:
        super().reverse()
        self._touch()

    def clear(self) -> None:
        super().clear()
        self._touch()

    def __iadd__(self, items: Iterable[Any]) -> _RouteList:  # type: ignore[misc]
        super().__iadd__(items)
        self._touch()
        return self

    def __imul__(self, count: SupportsIndex) -> _RouteList:
        super().__imul__(count)
        self._touch()
        return self


# How the Router finishes a match the table found, per route index.
_OPAQUE = 0  # matches() is called (Host, classes overriding matches, foreign objects)
_ROUTE = 1  # a Route whose handle() is Route.handle: a full match calls route.app directly
_ROUTE_HANDLE = 2  # a Route subclass with its own handle()
_WEBSOCKET = 3
_WEBSOCKET_HANDLE = 4
_MOUNT = 5
_MOUNT_HANDLE = 6


class _Compiled:
    """One immutable snapshot of a route list: the table plus what each index dispatches to."""

    __slots__ = ("version", "lookup", "routes", "kinds", "first_segments", "endpoints", "mounted_routers")

    def __init__(
        self,
        routes: _RouteList,
        classify: Callable[[Any], tuple[int, RouteSpec]],
        mounted_router: Callable[[Any], Any],
    ) -> None:
        self.version = routes._version
        snapshot = tuple(routes)
        kinds: list[int] = []
        specs: list[RouteSpec] = []
        for route in snapshot:
            kind, spec = classify(route)
            kinds.append(kind)
            specs.append(spec)
        self.routes = snapshot
        self.kinds = tuple(kinds)
        # For plain Routes whose app is request_response(endpoint): (that app, its endpoint call), which the
        # fast path (tachyon/_fastpath.py) runs inline while route.app is still that app (Router.fast_path_lookup).
        self.endpoints = tuple(
            (route.app, getattr(route.app, _ENDPOINT_CALL))
            if kind == _ROUTE and hasattr(route.app, _ENDPOINT_CALL)
            else None
            for route, kind in zip(snapshot, kinds, strict=True)
        )
        # For plain Mounts whose app is a Router the fast path can carry on into (``mounted_router`` decides):
        # that Router, used while mount.app is still it (Router.fast_path_lookup).
        self.mounted_routers = tuple(
            mounted_router(route) if kind == _MOUNT else None for route, kind in zip(snapshot, kinds, strict=True)
        )
        self.lookup = RouteTable(specs, backend=_table_backend).lookup
        self.first_segments = _literal_first_segments(specs)


def _literal_first_segments(specs: Sequence[RouteSpec]) -> frozenset[str] | None:
    """The first path segments of all templates, when every one is a plain literal; else None.

    A path whose first segment is not among them matches no route (each template's regex starts with
    "/" + that literal, then "/" or the end). The redirect_slashes retry uses it to skip its lookup.
    """
    segments = set()
    for spec in specs:
        if spec.template is None:
            return None
        first = spec.template[1:].split("/", 1)[0]
        if "{" in first:
            return None
        segments.add(first)
    return frozenset(segments)


# A lookup handed from Router.fast_path_lookup() to Router.app() (of the router that made it, which the fast path
# gets beside it): (snapshot, route path, table answer, whether the slash-redirect rule was already found not to
# apply).
_Found = tuple[_Compiled, str, tuple[int, int, tuple[int, ...], dict[str, Any]], bool] | None
