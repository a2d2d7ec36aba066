"""The benchmark application on Falcon's ASGI ``App``, written the way Falcon's documentation writes one:
resource classes with ``on_<method>`` responders, URI templates with field converters, media handlers.

Falcon answers 405 itself for a resource without a responder for the method, and 404 for no route.
"""

from __future__ import annotations

from typing import Any

import falcon
import falcon.asgi

from .starlette_app import KIB, SMALL


class Plaintext:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, world!"


class JsonSmall:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = SMALL


class JsonKib:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = KIB


class Query:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {
            "q": req.get_param("q", required=True),
            "page": req.get_param_as_int("page", required=True),
            "tags": req.get_param_as_list("tag") or [],
        }


class Echo:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = await req.get_media()


class Form:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await req.get_media()  # URLEncodedFormHandler: a dict of fields
        resp.media = {key: str(value) for key, value in form.items()}


class Upload:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await req.get_media()  # MultipartFormHandler: an async iterator of parts
        size = 0
        async for part in form:
            if part.name == "file":
                while chunk := await part.stream.read(64 * 1024):
                    size += len(chunk)
        resp.media = {"size": size}


class WebSocketEcho:
    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept()
        message = await ws.receive_text()
        await ws.send_text(message)
        await ws.close()


class Resource:
    """One resource per route template; only the methods the Starlette table allows get a responder."""

    def __init__(self, methods: list[str]) -> None:
        for method in methods:
            setattr(self, f"on_{method.lower()}", self._ok)

    async def _ok(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, **params: Any) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "ok"


class AddHeader:
    async def process_response(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: object, req_succeeded: bool
    ) -> None:
        resp.set_header("x-bench", "1")


class CountRequests:
    def __init__(self) -> None:
        self.count = 0

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self.count += 1


class ScopeTag:
    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        req.context.tagged = True


class MiddlewareOnlyUnder:
    """Falcon middleware is application-wide: run ``inner`` only for paths under ``prefix`` (as a Mount)."""

    def __init__(self, prefix: str, inner: list[Any]) -> None:
        self.prefix = prefix
        self.inner = inner

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if req.path.startswith(self.prefix):
            for middleware in self.inner:
                if hasattr(middleware, "process_request"):
                    await middleware.process_request(req, resp)

    async def process_response(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: object, req_succeeded: bool
    ) -> None:
        if req.path.startswith(self.prefix):
            for middleware in reversed(self.inner):
                if hasattr(middleware, "process_response"):
                    await middleware.process_response(req, resp, resource, req_succeeded)


def build() -> falcon.asgi.App:
    app = falcon.asgi.App(
        middleware=[MiddlewareOnlyUnder("/mw/", [AddHeader(), CountRequests(), ScopeTag()])],
    )
    app.add_route("/", Plaintext())
    app.add_route("/json", JsonSmall())
    app.add_route("/json-1k", JsonKib())
    app.add_route("/query", Query())
    app.add_route("/echo", Echo())
    app.add_route("/form", Form())
    app.add_route("/upload", Upload())
    app.add_route("/ws", WebSocketEcho())
    app.add_route("/mw/", Plaintext())
    for i in range(30):
        app.add_route(f"/resources{i}", Resource(["GET", "POST"]))
        app.add_route(f"/resources{i}/{{id:int}}", Resource(["GET", "PUT", "DELETE"]))
        app.add_route(f"/resources{i}/{{id:int}}/items", Resource(["GET", "POST"]))
        app.add_route(f"/resources{i}/{{id:int}}/items/{{item}}", Resource(["GET"]))
    return app


app = build()

# The middleware-stack scenarios are Starlette's CORS + GZip + user middlewares on a mount; not reproduced here.
# In process, Falcon's websocket pumps receive() in a task of its own and, with the scripted client closing
# right after its message, reports the disconnect before the echo: not comparable, so not measured.
UNSUPPORTED = frozenset({"middleware stack", "middleware stack + BaseHTTPMiddleware", "websocket echo"})
