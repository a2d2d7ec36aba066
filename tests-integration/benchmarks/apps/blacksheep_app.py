"""The benchmark application on BlackSheep, written the way BlackSheep's documentation writes one: an
``Application``, handlers registered on its router with typed route parameters, response helpers.
"""

from __future__ import annotations

from typing import Any

from blacksheep import Application, Request, Response, WebSocket, json, text

from .starlette_app import KIB, SMALL

app = Application()
router = app.router


@router.get("/")
async def plaintext() -> Response:
    return text("Hello, world!")


@router.get("/json")
async def json_small() -> Response:
    return json(SMALL)


@router.get("/json-1k")
async def json_kib() -> Response:
    return json(KIB)


@router.get("/query")
async def query(request: Request) -> Response:
    params = request.query
    return json({"q": params["q"][0], "page": int(params["page"][0]), "tags": params.get("tag", [])})


@router.post("/echo")
async def echo(request: Request) -> Response:
    return json(await request.json())


@router.post("/form")
async def form(request: Request) -> Response:
    data = await request.form()
    return json({key: str(value) for key, value in (data or {}).items()})


@router.post("/upload")
async def upload(request: Request) -> Response:
    files = await request.files("file")
    return json({"size": sum(len(part.data) for part in files)})


@router.ws("/ws")
async def ws_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    message = await websocket.receive_text()
    await websocket.send_text(message)
    await websocket.close()


async def resource(request: Request) -> Response:
    return text("ok")


for i in range(30):
    router.add_get(f"/resources{i}", resource)
    router.add_post(f"/resources{i}", resource)
    for method in ("GET", "PUT", "DELETE"):
        router.add(method, f"/resources{i}/{{int:id}}", resource)
    for method in ("GET", "POST"):
        router.add(method, f"/resources{i}/{{int:id}}/items", resource)
    router.add_get(f"/resources{i}/{{int:id}}/items/{{item}}", resource)


@router.get("/mw/")
async def mw_plaintext() -> Response:
    return text("Hello, world!")


async def middlewares_under_mw(request: Request, handler: Any) -> Response:
    """BlackSheep middleware is application-wide: do the three middlewares' work only under /mw/."""
    if not request.path.startswith("/mw/"):
        return await handler(request)
    middlewares_under_mw.count += 1  # type: ignore[attr-defined]
    request.scope.setdefault("state", {})["tagged"] = True
    response = await handler(request)
    response.add_header(b"x-bench", b"1")
    return response


middlewares_under_mw.count = 0  # type: ignore[attr-defined]
app.middlewares.append(middlewares_under_mw)

# The middleware-stack scenarios are Starlette's CORS + GZip + user middlewares on a mount; not reproduced here.
UNSUPPORTED = frozenset({"middleware stack", "middleware stack + BaseHTTPMiddleware"})
EXPECTED_STATUS = {"route: 405": 404}  # BlackSheep does not answer 405
