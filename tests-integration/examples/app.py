"""The example application served by ``hatch run serve`` (``tachyon run examples.app:app``).

GET  /                  -> {"hello": "world"}
GET  /users/42          -> {"id": 42}            (an int path parameter)
POST /users/42          -> 405, Allow: GET, HEAD
GET  /items?limit=3     -> a JSON list of 3 items (query parameters)
POST /echo              -> the JSON body sent, echoed back
GET  /api/status        -> {"status": "ok"}      (a mounted sub-router)
GET  /api/routes/user   -> the URL of the "user" route, built with url_for
WS   /ws                -> echoes every text message back, prefixed with "echo: "
"""

from __future__ import annotations

from tachyon.applications import Tachyon
from tachyon.requests import Request
from tachyon.responses import JSONResponse, PlainTextResponse, Response
from tachyon.routing import Mount, Route, Router, WebSocketRoute
from tachyon.websockets import WebSocket, WebSocketDisconnect

# An upper bound so that `?limit=` cannot make the server build an arbitrarily large response.
MAX_ITEMS = 100


async def home(request: Request) -> Response:
    return JSONResponse({"hello": "world"})


async def user(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["id"]})


async def items(request: Request) -> Response:
    raw_limit = request.query_params.get("limit", "10")
    if not raw_limit.isdigit() or not 0 < int(raw_limit) <= MAX_ITEMS:
        return PlainTextResponse(f"limit must be an integer between 1 and {MAX_ITEMS}", status_code=400)
    return JSONResponse([{"item": index} for index in range(int(raw_limit))])


async def echo(request: Request) -> Response:
    return JSONResponse(await request.json())


async def status(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def user_url(request: Request) -> Response:
    return PlainTextResponse(str(request.url_for("user", id=42)))


async def websocket_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive_text()
            await websocket.send_text(f"echo: {message}")
    except WebSocketDisconnect:
        pass


api = Router(
    routes=[
        Route("/status", status),
        Route("/routes/user", user_url),
    ]
)

app = Tachyon(
    routes=[
        Route("/", home),
        Route("/users/{id:int}", user, name="user"),
        Route("/items", items),
        Route("/echo", echo, methods=["POST"]),
        Mount("/api", app=api),
        WebSocketRoute("/ws", websocket_echo),
    ]
)
