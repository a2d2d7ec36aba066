"""A FastAPI application served by uvicorn in a separate process, started as
`python -m tachyon.compat -m uvicorn served_app:app` (the no-code-change way to run on Tachyon)."""

from __future__ import annotations

import sys

from fastapi import FastAPI, WebSocket
from pydantic import BaseModel

app = FastAPI(title="served")


class Echo(BaseModel):
    text: str
    times: int = 1


@app.get("/modules")
def modules() -> dict[str, str]:
    # Which implementation serves the names FastAPI imported.
    return {name: module.__name__ for name, module in sorted(sys.modules.items()) if name.startswith("starlette.")}


@app.post("/echo")
def echo(body: Echo) -> dict[str, str]:
    return {"echo": body.text * body.times}


@app.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(f"hello {await websocket.receive_text()}")
    await websocket.close()
