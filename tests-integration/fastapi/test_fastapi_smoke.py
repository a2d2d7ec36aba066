"""A real FastAPI application served by Tachyon through tachyon.compat, driven by FastAPI's TestClient."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import pytest
import tachyon_http.requests
import tachyon_testclient.testclient
import tachyon_ws.websockets
from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Header, HTTPException, Query, Request, WebSocket
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from tachyon.applications import Tachyon

# Any warning (e.g. a deprecation raised by Tachyon but not by Starlette) fails the test.
pytestmark = pytest.mark.filterwarnings("error")

# Where the request/websocket classes FastAPI hands to endpoints must come from (see conftest.py).
REFERENCE_RUN = os.environ.get("FASTAPI_SMOKE_REFERENCE") == "1"
REQUEST_CLASS = "starlette.requests.Request" if REFERENCE_RUN else "tachyon_http.requests.Request"
WEBSOCKET_CLASS = "starlette.websockets.WebSocket" if REFERENCE_RUN else "tachyon_ws.websockets.WebSocket"


Backend = Literal["asyncio", "trio"]


class Item(BaseModel):
    name: str = Field(min_length=1)
    price: float = Field(gt=0)
    tags: list[str] = []


class ItemOut(BaseModel):
    id: int
    name: str


class Events:
    """What the app did outside of responses (background tasks, dependency clean-up), for assertions."""

    def __init__(self) -> None:
        self.log: list[str] = []


# Dependencies live at module level: FastAPI evaluates the (postponed) annotations in the module's globals.
def pagination(skip: int = 0, limit: Annotated[int, Query(le=100)] = 10) -> dict[str, int]:
    return {"skip": skip, "limit": limit}


def database(request: Request) -> Iterator[str]:
    events: Events = request.app.state.events
    events.log.append("db open")
    yield "db-session"
    events.log.append("db closed")


def build_app(events: Events) -> FastAPI:
    app = FastAPI(title="Tachyon smoke", version="1.0")
    app.state.events = events
    app.add_middleware(CORSMiddleware, allow_origins=["https://example.org"], allow_methods=["*"])

    router = APIRouter(prefix="/items", tags=["items"])

    @router.get("/{item_id}", response_model=ItemOut)
    def read_item(
        item_id: int,
        page: Annotated[dict[str, int], Depends(pagination)],
        db: Annotated[str, Depends(database)],
        q: str | None = None,
    ) -> dict[str, Any]:
        if item_id == 404:
            raise HTTPException(status_code=404, detail="Item not found", headers={"X-Error": "missing"})
        # "secret" is filtered out by response_model.
        return {"id": item_id, "name": f"item-{item_id}-{q}-{page['limit']}-{db}", "secret": "s3cr3t"}

    @router.post("/", status_code=201)
    async def create_item(item: Item, background: BackgroundTasks) -> dict[str, Any]:
        background.add_task(events.log.append, f"created {item.name}")
        return {"name": item.name, "price": item.price, "tags": item.tags}

    app.include_router(router)

    @app.get("/whoami")
    async def whoami(request: Request, user_agent: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        return {
            "request_class": f"{type(request).__module__}.{type(request).__qualname__}",
            "user_agent": user_agent,
            "url": str(request.url),
            "path_for": str(request.url_for("read_item", item_id=7)),
        }

    @app.get("/plain", response_class=PlainTextResponse)
    def plain() -> str:
        return "just text"

    @app.websocket("/ws/{room}")
    async def chat(websocket: WebSocket, room: str, token: str | None = None) -> None:
        await websocket.accept()
        message = await websocket.receive_text()
        await websocket.send_json(
            {
                "room": room,
                "token": token,
                "echo": message,
                "class": f"{type(websocket).__module__}.{type(websocket).__qualname__}",
            }
        )
        await websocket.close(code=1000)

    return app


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def client(events: Events, backend: Backend) -> Iterator[TestClient]:
    with TestClient(build_app(events), backend=backend) as test_client:
        yield test_client


@pytest.mark.skipif(REFERENCE_RUN, reason="the reference run uses the real Starlette")
def test_fastapi_runs_on_tachyon_modules() -> None:
    import fastapi.applications
    import starlette.applications

    # The type checker sees the real Starlette's classes here; at run time they are Tachyon's.
    assert starlette.applications.Starlette is Tachyon  # type: ignore[comparison-overlap]
    assert issubclass(fastapi.applications.FastAPI, Tachyon)
    assert TestClient is tachyon_testclient.testclient.TestClient  # type: ignore[comparison-overlap]
    assert fastapi.Request is tachyon_http.requests.Request  # type: ignore[comparison-overlap]
    assert fastapi.WebSocket is tachyon_ws.websockets.WebSocket  # type: ignore[comparison-overlap]
    imported = {name: module.__name__ for name, module in sys.modules.items() if name.startswith("starlette.")}
    assert imported, "FastAPI imported no starlette module at all"
    not_tachyon = {name: real for name, real in imported.items() if not real.startswith("tachyon")}
    assert not not_tachyon


def test_path_query_and_dependency_params(client: TestClient, events: Events) -> None:
    response = client.get("/items/42", params={"q": "blue", "limit": 5})
    assert response.status_code == 200
    assert response.json() == {"id": 42, "name": "item-42-blue-5-db-session"}
    assert events.log == ["db open", "db closed"]


def test_path_param_validation_error(client: TestClient) -> None:
    response = client.get("/items/not-a-number")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["path", "item_id"]
    assert error["type"] == "int_parsing"


def test_query_param_validation_error(client: TestClient) -> None:
    response = client.get("/items/1", params={"limit": 1000})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "limit"]
    assert error["type"] == "less_than_equal"


def test_http_exception_with_headers(client: TestClient) -> None:
    response = client.get("/items/404")
    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}
    assert response.headers["x-error"] == "missing"


def test_json_body_and_background_task(client: TestClient, events: Events) -> None:
    response = client.post("/items/", json={"name": "lamp", "price": 9.5, "tags": ["home"]})
    assert response.status_code == 201
    assert response.json() == {"name": "lamp", "price": 9.5, "tags": ["home"]}
    assert events.log == ["created lamp"]


def test_body_validation_errors(client: TestClient, events: Events) -> None:
    response = client.post("/items/", json={"name": "", "price": -1})
    assert response.status_code == 422
    locations = sorted(tuple(error["loc"]) for error in response.json()["detail"])
    assert locations == [("body", "name"), ("body", "price")]
    response = client.post("/items/", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert events.log == []


def test_request_object_headers_and_url_for(client: TestClient) -> None:
    response = client.get("/whoami", headers={"User-Agent": "smoke/1"})
    assert response.status_code == 200
    assert response.json() == {
        "request_class": REQUEST_CLASS,
        "user_agent": "smoke/1",
        "url": "http://testserver/whoami",
        "path_for": "http://testserver/items/7",
    }


def test_response_class_and_405_and_404(client: TestClient) -> None:
    response = client.get("/plain")
    assert response.text == "just text"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    response = client.delete("/plain")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "GET"
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_cors_middleware(client: TestClient) -> None:
    response = client.options(
        "/items/1",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    response = client.get("/items/1", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "https://example.org"


def test_websocket(client: TestClient) -> None:
    with client.websocket_connect("/ws/lobby?token=abc") as websocket:
        websocket.send_text("hello")
        assert websocket.receive_json() == {
            "room": "lobby",
            "token": "abc",
            "echo": "hello",
            "class": WEBSOCKET_CLASS,
        }


def test_openapi_schema(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"] == {"title": "Tachyon smoke", "version": "1.0"}
    assert set(schema["paths"]) == {"/items/{item_id}", "/items/", "/whoami", "/plain"}
    read_item = schema["paths"]["/items/{item_id}"]["get"]
    assert read_item["tags"] == ["items"]
    assert {p["name"] for p in read_item["parameters"]} == {"item_id", "q", "skip", "limit"}
    assert schema["components"]["schemas"]["Item"]["required"] == ["name", "price"]
    assert "ItemOut" in schema["components"]["schemas"]


def test_docs_pages(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"] == "text/html; charset=utf-8"
    assert "swagger-ui" in docs.text
    assert "/openapi.json" in docs.text
    redoc = client.get("/redoc")
    assert redoc.status_code == 200
    assert "redoc" in redoc.text.lower()
    oauth_redirect = client.get("/docs/oauth2-redirect")
    assert oauth_redirect.status_code == 200
