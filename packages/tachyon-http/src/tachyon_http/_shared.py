"""What the other Tachyon packages (tachyon-ws, tachyon-testclient, tachyon) use of tachyon-http's internals.

Not public API: applications import the public modules (``tachyon_http.requests`` ...). This module is the one
door through which the sibling packages reach tachyon-http's private helpers, so that what they depend on is
listed in one place and a change to it is visible here. The helpers themselves stay where they are defined
(``_utils`` is also Starlette's ``starlette._utils`` under the compatibility switch, and is patched by name).
"""

from __future__ import annotations

from tachyon_http._cache import CacheBound
from tachyon_http._json import dumps_text, loads_text
from tachyon_http._utils import create_collapsing_task_group, get_route_path, is_async_callable, parse_host_header

__all__ = [
    "CacheBound",  # the bounds of a cache kept in a plain dict, and the one rule by which it grows (_cache.py)
    "create_collapsing_task_group",  # a task group whose lone exception escapes unwrapped (middleware)
    "dumps_text",  # JSON text as Starlette's WebSocket.send_json and its test client write it
    "get_route_path",  # the scope's path below its root_path (routing, static files)
    "is_async_callable",  # async functions, partials of them, and objects with an async __call__
    "loads_text",  # JSON text decoded exactly as json.loads, by orjson when it agrees (WebSocket, test client)
    "parse_host_header",  # the Host header split into host and port, or None when malformed
]
