"""The FastAPI applications of the FastAPI benchmark (``bench_fastapi.py``): one source, served on the real
Starlette or on Tachyon (the process that imports it decides, by installing ``tachyon.compat`` first or not).

``app``: 126 routes, the benchmark route table of issue 13 (6 scenario routes, then for i in 0..29
``GET/POST /r{i}`` and ``GET/PUT /r{i}/{id}``). ``large``: 300 routes over 10 included routers
(``/g{k}`` prefixes, each router 15 ``GET /r{i}`` and 15 ``GET /r{i}/{id}``). ``floor``: the raw-ASGI floor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import PlainTextResponse

ROUTES_PER_ROUTER = 30
ROUTERS = 10


def _collection(n: int) -> Callable[[], Awaitable[dict[str, int]]]:
    async def collection() -> dict[str, int]:
        return {"n": n}

    return collection


def build_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/", response_class=PlainTextResponse)
    async def plaintext() -> str:
        return "Hello, world!"

    @app.get("/json")
    async def json_small() -> dict[str, str]:
        return {"message": "Hello, world!"}

    @app.get("/query")
    async def query(q: str = "", page: int = 1) -> dict[str, Any]:
        return {"q": q, "page": page}

    @app.post("/echo")
    async def echo(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/health")
    def health() -> str:
        return "ok"

    for i in range(30):
        collection = _collection(i)

        async def create() -> dict[str, bool]:
            return {"created": True}

        async def member(id: int) -> dict[str, int]:
            return {"id": id}

        app.add_api_route(f"/r{i}", collection, methods=["GET"], name=f"list{i}")
        app.add_api_route(f"/r{i}", create, methods=["POST"], name=f"create{i}")
        app.add_api_route(f"/r{i}/{{id}}", member, methods=["GET"], name=f"get{i}")
        app.add_api_route(f"/r{i}/{{id}}", member, methods=["PUT"], name=f"put{i}")
    return app


def build_large() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    for k in range(ROUTERS):
        router = APIRouter()
        for i in range(ROUTES_PER_ROUTER // 2):
            collection = _collection(i)

            async def member(id: int) -> dict[str, int]:
                return {"id": id}

            router.add_api_route(f"/r{i}", collection, methods=["GET"], name=f"g{k}list{i}")
            router.add_api_route(f"/r{i}/{{id}}", member, methods=["GET"], name=f"g{k}get{i}")
        app.include_router(router, prefix=f"/g{k}")
    return app


async def floor(scope: Any, receive: Any, send: Any) -> None:
    """The raw-ASGI floor: a plain-text answer with the least possible work."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"13")]})  # fmt: skip
    await send({"type": "http.response.body", "body": b"Hello, world!"})


app = build_app()
large = build_large()
