"""Reverse routing (``url_path_for``): the pieces routes, mounts and hosts share. ``NoMatchFound`` and
``replace_params`` are public under ``tachyon.routing``; ``replace_params`` is tachyon-router's own."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from tachyon_http.datastructures import URLPath
from tachyon_router import replace_params

__all__ = ["PARAM_REGEX", "NoMatchFound", "replace_params"]


class NoMatchFound(Exception):
    """Raised by ``url_path_for`` / ``url_for`` when no route has that name and exactly those params."""

    def __init__(self, name: str, path_params: dict[str, Any]) -> None:
        params = ", ".join(path_params)
        super().__init__(f'No route exists for name "{name}" and params "{params}".')


# A parameter in a route template, "{name}" or "{name:convertor}" (public in Starlette's module too).
PARAM_REGEX = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(:[a-zA-Z_][a-zA-Z0-9_]*)?\}")


def _first_url(routes: Iterable[Any], name: str, params: dict[str, Any]) -> URLPath | None:
    """``url_path_for`` of the first route that knows ``name`` with exactly ``params``, else None."""
    for route in routes:
        try:
            return route.url_path_for(name, **params)  # type: ignore[no-any-return]
        except NoMatchFound:
            continue
    return None


def _endpoint_url(route: Any, name: str, params: dict[str, Any], protocol: Literal["http", "websocket"]) -> URLPath:
    """Reverse a Route/WebSocketRoute: its own name and exactly its parameter names."""
    if name == route.name and params.keys() == route.param_convertors.keys():
        path, leftover = replace_params(route.path_format, route.param_convertors, params)
        assert not leftover
        return URLPath(path=path, protocol=protocol)
    raise NoMatchFound(name, params)


def _child_name(own_name: str | None, name: str) -> str | None:
    """The part of ``name`` meant for the children of a mount/host called ``own_name``, or None."""
    if own_name is None:
        return name
    prefix = own_name + ":"
    return name[len(prefix) :] if name.startswith(prefix) else None
