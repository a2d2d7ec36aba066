"""A plain ASGI application routed by tachyon-router alone (no Tachyon, no Starlette).

Run it with any ASGI server, e.g. ``uvicorn router_only_app:app``:

    GET  /                      -> "home"
    GET  /users/42              -> {"id": 42}
    POST /users/42              -> 405 with "Allow: GET, HEAD"
    GET  /files/docs/readme.txt -> the matched path, and the URL built back with url_for
    GET  /nope                  -> 404
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from tachyon_router import MatchStatus, Router

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Handler = Callable[[Scope, dict[str, Any]], Awaitable[tuple[int, str, bytes]]]


async def home(scope: Scope, params: dict[str, Any]) -> tuple[int, str, bytes]:
    return 200, "text/plain", b"home"


async def show_user(scope: Scope, params: dict[str, Any]) -> tuple[int, str, bytes]:
    return 200, "application/json", json.dumps({"id": params["id"]}).encode()


async def show_file(scope: Scope, params: dict[str, Any]) -> tuple[int, str, bytes]:
    link = router.url_for("file", path=params["path"])
    return 200, "text/plain", f"{params['path']} ({link})".encode()


router: Router[Handler] = Router()
router.add("/", home, methods=["GET"], name="home")
router.add("/users/{id:int}", show_user, methods=["GET"], name="user")
router.add("/files/{path:path}", show_file, methods=["GET"], name="file")


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return  # lifespan and websocket are not used by this example
    found = router.match(scope["path"], scope["method"])
    if found.status is MatchStatus.FOUND:
        assert found.value is not None
        status, content_type, body = await found.value(scope, found.params)
        await _respond(send, status, body, [(b"content-type", content_type.encode())])
    elif found.status is MatchStatus.METHOD_NOT_ALLOWED:
        allow = ", ".join(sorted(found.allowed_methods)).encode()
        await _respond(send, 405, b"Method Not Allowed", [(b"allow", allow), (b"content-type", b"text/plain")])
    else:
        await _respond(send, 404, b"Not Found", [(b"content-type", b"text/plain")])
