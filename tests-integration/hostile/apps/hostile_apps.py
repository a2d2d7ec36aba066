"""The same application written twice, on Tachyon and on Starlette 1.10.0, for the hostile-input suite.

``build("tachyon")`` and ``build("starlette")`` import the same module names from either package; uvicorn serves
``hostile_apps:tachyon_app`` and ``hostile_apps:starlette_app``. Routes: static, int and path parameters, a URL
echo, a trailing-slash redirect, a form (urlencoded and multipart) summary, ``request.json()``, a session counter,
StaticFiles, a WebSocket echo; middleware: TrustedHost, GZip, Sessions, CORS.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

STATIC_DIR = Path(__file__).resolve().parent / "static"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
SECRET = "hostile-suite-secret"


def build(package: str) -> Any:
    def module(name: str) -> Any:
        return importlib.import_module(f"{package}.{name}")

    applications = module("applications")
    routing = module("routing")
    responses = module("responses")
    middleware = module("middleware")
    Middleware = middleware.Middleware
    PlainTextResponse = responses.PlainTextResponse
    JSONResponse = responses.JSONResponse

    async def health(request: Any) -> Any:
        return PlainTextResponse("ok")

    async def item(request: Any) -> Any:
        return JSONResponse({"digits": len(str(request.path_params["n"]))})

    async def files(request: Any) -> Any:
        return PlainTextResponse(request.path_params["rest"][:100])

    async def url(request: Any) -> Any:
        return PlainTextResponse(str(request.url)[:200])

    async def query(request: Any) -> Any:
        return JSONResponse({"count": len(request.query_params.multi_items())})

    async def headers(request: Any) -> Any:
        return JSONResponse({"count": len(request.headers), "cookies": len(request.cookies)})

    async def form(request: Any) -> Any:
        async with request.form() as data:
            summary = {}
            for key, value in data.multi_items():
                summary[key[:50]] = len(value) if isinstance(value, str) else len(await value.read())
        return JSONResponse(summary)

    async def json_body(request: Any) -> Any:
        value = await request.json()
        return JSONResponse({"type": type(value).__name__})

    async def session(request: Any) -> Any:
        request.session["n"] = request.session.get("n", 0) + 1
        return JSONResponse({"n": request.session["n"]})

    async def echo(websocket: Any) -> None:
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await websocket.send_text(message["text"])
            else:
                await websocket.send_bytes(message["bytes"])

    routes = [
        routing.Route("/health", health),
        routing.Route("/items/{n:int}", item),
        routing.Route("/files/{rest:path}", files),
        routing.Route("/url", url),
        routing.Route("/redirect/", url),
        routing.Route("/query", query),
        routing.Route("/headers", headers),
        routing.Route("/form", form, methods=["POST"]),
        routing.Route("/json", json_body, methods=["POST"]),
        routing.Route("/session", session),
        routing.WebSocketRoute("/ws", echo),
        routing.Mount("/static", module("staticfiles").StaticFiles(directory=STATIC_DIR)),
    ]
    stack = [
        Middleware(module("middleware.trustedhost").TrustedHostMiddleware, allowed_hosts=ALLOWED_HOSTS),
        Middleware(
            module("middleware.cors").CORSMiddleware, allow_origins=["https://ok.example"], allow_methods=["GET"]
        ),
        Middleware(module("middleware.sessions").SessionMiddleware, secret_key=SECRET),
        Middleware(module("middleware.gzip").GZipMiddleware, minimum_size=100),
    ]
    return applications.Starlette(routes=routes, middleware=stack)


tachyon_app = build("tachyon")
starlette_app = build("starlette")
