"""The FastAPI application of the request-path profile (``bench_fastapi_path.py``): one endpoint per kind of
work on FastAPI's request path. Served on the real Starlette or on Tachyon (the importing process decides).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, Form, HTTPException
from pydantic import BaseModel


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


async def session() -> AsyncIterator[dict[str, int]]:
    state = {"opened": 1}
    try:
        yield state
    finally:
        state["opened"] = 0


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/json")
async def json_dict() -> dict[str, str]:
    return {"message": "Hello, world!"}


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}


@app.post("/model")
async def create(payload: Item) -> Item:
    return payload


@app.post("/form")
async def login(username: Annotated[str, Form()], password: Annotated[str, Form()]) -> dict[str, str]:
    return {"username": username}


@app.get("/sync")
def sync() -> dict[str, bool]:
    return {"sync": True}


@app.get("/raise")
async def raises() -> None:
    raise HTTPException(status_code=404, detail="Item not found")


@app.get("/dep")
async def with_dependency(state: Annotated[dict[str, int], Depends(session)]) -> dict[str, int]:
    return state
