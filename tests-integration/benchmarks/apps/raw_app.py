"""The floor: a raw ASGI application answering every benchmark scenario with the least possible work.

It is what a hand-written ASGI callable costs; no framework can be faster than this in the same process.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson

from . import starlette_app as reference

Scope = dict[str, Any]

_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON = [(b"content-type", b"application/json")]
_SMALL = orjson.dumps(reference.SMALL)
_KIB = orjson.dumps(reference.KIB)


async def _respond(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def app(scope: Scope, receive: Any, send: Any) -> None:
    kind = scope["type"]
    if kind == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if kind == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": message.get("text")})
        await send({"type": "websocket.close", "code": 1000})
        return
    if path == "/stack/" or path == "/stack-base/":
        await _STACK_FLOOR(scope, receive, send)
    elif path == "/" or path == "/mw/":
        await _respond(send, 200, b"Hello, world!", _TEXT)
    elif path == "/json":
        await _respond(send, 200, _SMALL, _JSON)
    elif path == "/json-1k":
        await _respond(send, 200, _KIB, _JSON)
    elif path == "/query":
        params = parse_qs(scope["query_string"].decode("latin-1"))
        body = {"q": params["q"][0], "page": int(params["page"][0]), "tags": params.get("tag", [])}
        await _respond(send, 200, orjson.dumps(body), _JSON)
    elif path == "/echo":
        await _respond(send, 200, orjson.dumps(orjson.loads(await _read_body(receive))), _JSON)
    elif path == "/form":
        fields = parse_qs((await _read_body(receive)).decode("latin-1"))
        await _respond(send, 200, orjson.dumps({k: v[-1] for k, v in fields.items()}), _JSON)
    elif path == "/upload":
        body = await _read_body(receive)
        # The floor does not parse multipart; it reports the body size, which bounds what a parser must do.
        await _respond(send, 200, orjson.dumps({"size": len(body)}), _JSON)
    elif path.startswith("/resources"):
        if scope["method"] == "DELETE" and path.count("/") == 1:
            await _respond(send, 405, b"Method Not Allowed", _TEXT)
        else:
            await _respond(send, 200, b"ok", _TEXT)
    else:
        await _respond(send, 404, b"Not Found", _TEXT)


async def _plaintext(scope: Scope, receive: Any, send: Any) -> None:
    await _respond(send, 200, b"Hello, world!", _TEXT)


# The middleware-stack floor: the raw endpoint inside the same two user pure-ASGI middlewares.
_STACK_FLOOR = reference.AddHeader(reference.CountRequests(_plaintext))
