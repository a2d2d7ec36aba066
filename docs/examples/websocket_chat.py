"""A WebSocket chat room: every message a member sends is broadcast to every member.

    WS /chat/{name}   -> joins the room as ``name``; each text message is sent to all members as
                         "name: text"; joining and leaving are announced the same way ("* name joined").
    GET /             -> {"members": [...]} (who is connected)

Run it with ``tachyon run websocket_chat:app``; try it with two ``python -m websockets
ws://127.0.0.1:8000/chat/ann`` sessions.
"""

from __future__ import annotations

from tachyon.applications import Tachyon
from tachyon.requests import Request
from tachyon.responses import JSONResponse, Response
from tachyon.routing import Route, WebSocketRoute
from tachyon.websockets import WebSocket, WebSocketDisconnect

MAX_NAME_LENGTH = 32


class Room:
    def __init__(self) -> None:
        self.members: dict[str, WebSocket] = {}

    async def broadcast(self, text: str) -> None:
        for websocket in list(self.members.values()):
            try:
                await websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError):
                pass  # that member is leaving; its own handler removes it


room = Room()


async def chat(websocket: WebSocket) -> None:
    name = websocket.path_params["name"]
    if len(name) > MAX_NAME_LENGTH or name in room.members:
        await websocket.close(code=1008, reason="name too long or already taken")  # policy violation
        return
    await websocket.accept()
    room.members[name] = websocket
    await room.broadcast(f"* {name} joined")
    try:
        async for text in websocket.iter_text():
            await room.broadcast(f"{name}: {text}")
    finally:
        del room.members[name]
        await room.broadcast(f"* {name} left")


async def members(request: Request) -> Response:
    return JSONResponse({"members": sorted(room.members)})


app = Tachyon(routes=[Route("/", members), WebSocketRoute("/chat/{name}", chat)])
