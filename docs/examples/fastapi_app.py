"""A FastAPI application running on Tachyon through the compatibility switch.

``tachyon.compat.install()`` must run before anything imports Starlette (FastAPI imports it): from then on
``import starlette.X`` gives Tachyon's module. Without touching the code, ``tachyon run --compat
fastapi_app:app`` does the same. Run it with ``python fastapi_app.py`` or ``tachyon run fastapi_app:app``.
"""

from __future__ import annotations

import tachyon.compat

tachyon.compat.install()

from fastapi import FastAPI, HTTPException  # noqa: E402  (after the switch, on purpose)
from pydantic import BaseModel, Field  # noqa: E402


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price: float = Field(gt=0)


app = FastAPI(title="Items")
items: dict[int, Item] = {}


@app.post("/items/{item_id}", status_code=201)
async def create_item(item_id: int, item: Item) -> Item:
    if item_id in items:
        raise HTTPException(status_code=409, detail="item exists")
    items[item_id] = item
    return item


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> Item:
    if item_id not in items:
        raise HTTPException(status_code=404, detail="no such item")
    return items[item_id]


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
