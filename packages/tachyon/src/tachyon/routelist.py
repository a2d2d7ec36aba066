"""The route table of an application, flattened: what ``tachyon routes module:app`` prints.

Mounts are followed into the routers they mount (paths joined, names joined with ``:`` as ``url_path_for``
expects them); a mount of another kind of ASGI app (``StaticFiles``, a sub-application without routes) is
one row. Hosts are followed too, and their pattern is kept in ``host``. Anything that has a ``routes``
list of Starlette-style routes works, so FastAPI applications under the compatibility switch too.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tachyon.routing import BaseRoute, Host, Mount, Route, WebSocketRoute

__all__ = ["RouteRow", "collect_routes", "format_json", "format_table"]

#: What ``methods`` says of a route that accepts any method (an ``HTTPEndpoint`` class or a mounted app).
ANY_METHOD = "*"
WEBSOCKET = "WEBSOCKET"


@dataclass(frozen=True)
class RouteRow:
    methods: tuple[str, ...]
    path: str
    name: str | None
    endpoint: str
    host: str | None = None


def qualified_name(obj: Any) -> str:
    """``module.QualName`` of an endpoint or app (its class for an instance, the function of a partial)."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    if not hasattr(obj, "__qualname__"):
        obj = type(obj)
    module = getattr(obj, "__module__", None)
    return f"{module}.{obj.__qualname__}" if module else str(obj.__qualname__)


def _join_name(prefix: str | None, name: str | None) -> str | None:
    if name is None:
        return None
    return f"{prefix}:{name}" if prefix else name


def collect_routes(
    routes: Iterable[BaseRoute], prefix: str = "", name_prefix: str | None = None, host: str | None = None
) -> list[RouteRow]:
    """One row per endpoint reachable through ``routes``, in matching order."""
    rows: list[RouteRow] = []
    for route in routes:
        if isinstance(route, Host | Mount):
            child_name = _join_name(name_prefix, route.name) if route.name else name_prefix
            path = prefix if isinstance(route, Host) else prefix + route.path
            child_host = route.host if isinstance(route, Host) else host
            if route.routes:
                rows.extend(collect_routes(route.routes, path, child_name, child_host))
            else:  # an ASGI app of another kind: one row for everything under the prefix
                app = route._base_app if isinstance(route, Mount) else route.app
                rows.append(RouteRow((ANY_METHOD,), path + "/", child_name, qualified_name(app), child_host))
        elif isinstance(route, Route | WebSocketRoute):
            if isinstance(route, WebSocketRoute):
                methods: tuple[str, ...] = (WEBSOCKET,)
            else:
                methods = tuple(sorted(route.methods)) if route.methods else (ANY_METHOD,)
            name = _join_name(name_prefix, route.name)
            rows.append(RouteRow(methods, prefix + route.path, name, qualified_name(route.endpoint), host))
        else:  # a custom BaseRoute: all that is known is what it is
            rows.append(RouteRow((ANY_METHOD,), prefix or "/", None, qualified_name(route), host))
    return rows


def format_table(rows: Sequence[RouteRow]) -> str:
    """Aligned columns: methods, path, name, endpoint, and host when any route has one."""
    with_host = any(row.host is not None for row in rows)
    header = ["METHODS", "PATH", "NAME", "ENDPOINT"] + (["HOST"] if with_host else [])
    lines = [header]
    for row in rows:
        cells = [",".join(row.methods), row.path, row.name or "-", row.endpoint]
        if with_host:
            cells.append(row.host or "-")
        lines.append(cells)
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def format_json(rows: Sequence[RouteRow]) -> str:
    return json.dumps([{**asdict(row), "methods": list(row.methods)} for row in rows], indent=2)
