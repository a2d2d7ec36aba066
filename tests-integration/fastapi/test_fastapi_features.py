"""More of FastAPI's surface on Tachyon: lifespan, middleware, exception handlers, security, mounts, streaming."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from fastapi import (
    Cookie,
    Depends,
    FastAPI,
    File,
    Form,
    Request,
    Response,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials, OAuth2PasswordBearer
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient
from starlette.middleware.gzip import GZipMiddleware

# Any warning (e.g. a deprecation raised by Tachyon but not by Starlette) fails the test.
pytestmark = pytest.mark.filterwarnings("error")

REFERENCE_RUN = os.environ.get("FASTAPI_SMOKE_REFERENCE") == "1"  # see conftest.py
UPLOAD_FILE_CLASS = "starlette.datastructures.UploadFile" if REFERENCE_RUN else "tachyon_http.datastructures.UploadFile"

oauth2 = OAuth2PasswordBearer(tokenUrl="token")
basic = HTTPBasic()


Backend = Literal["asyncio", "trio"]


class TeapotError(Exception):
    def __init__(self, what: str) -> None:
        self.what = what


def current_user(token: Annotated[str, Depends(oauth2)]) -> str:
    return f"user-for-{token}"


def settings() -> dict[str, str]:
    return {"mode": "production"}


def build_app(static_dir: Path, log: list[str]) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        log.append("startup")
        yield {"started": True}
        log.append("shutdown")

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(GZipMiddleware, minimum_size=100)

    @app.middleware("http")
    async def timing_header(request: Request, call_next: Any) -> Response:
        request.state.seen_by_middleware = True
        response: Response = await call_next(request)
        response.headers["X-Middleware"] = "yes"
        return response

    @app.exception_handler(TeapotError)
    async def teapot_handler(request: Request, exc: TeapotError) -> JSONResponse:
        return JSONResponse({"teapot": exc.what}, status_code=418)

    @app.exception_handler(RequestValidationError)
    async def validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"invalid": [list(e["loc"]) for e in exc.errors()]}, status_code=400)

    @app.get("/state")
    async def state(request: Request) -> dict[str, Any]:
        return {"lifespan_state": request.state.started, "middleware": request.state.seen_by_middleware}

    @app.get("/teapot")
    async def teapot() -> None:
        raise TeapotError("earl grey")

    @app.get("/number/{n}")
    async def number(n: int) -> dict[str, int]:
        return {"n": n}

    @app.get("/me")
    async def me(user: Annotated[str, Depends(current_user)]) -> dict[str, str]:
        return {"user": user}

    @app.get("/basic")
    def basic_auth(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> dict[str, str]:
        return {"username": credentials.username, "password": credentials.password}

    @app.get("/settings")
    def read_settings(config: Annotated[dict[str, str], Depends(settings)]) -> dict[str, str]:
        return config

    @app.get("/cookies")
    def cookies(response: Response, session: Annotated[str | None, Cookie()] = None) -> dict[str, str | None]:
        response.set_cookie("visited", "1", httponly=True)
        response.headers["X-Custom"] = "set-by-endpoint"
        return {"session": session}

    @app.get("/stream")
    def stream() -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            for i in range(3):
                yield f"chunk-{i};".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/big")
    def big() -> dict[str, str]:
        return {"data": "x" * 1000}

    @app.post("/login")
    async def login(username: Annotated[str, Form()], remember: Annotated[bool, Form()] = False) -> dict[str, Any]:
        return {"username": username, "remember": remember}

    @app.post("/upload")
    async def upload(
        files: Annotated[list[UploadFile], File()],
        note: Annotated[str, Form()],
    ) -> dict[str, Any]:
        contents = [(f.filename, f.content_type, (await f.read()).decode()) for f in files]
        return {"note": note, "files": contents, "class": f"{type(files[0]).__module__}.{type(files[0]).__name__}"}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, config: Annotated[dict[str, str], Depends(settings)]) -> None:
        await websocket.accept()
        try:
            while True:
                text = await websocket.receive_text()
                await websocket.send_text(f"{config['mode']}:{text}")
        except WebSocketDisconnect as exc:
            log.append(f"ws closed {exc.code}")

    sub = FastAPI()

    @sub.get("/hello")
    def hello(request: Request) -> dict[str, str]:
        return {"root_path": request.scope.get("root_path", ""), "url": str(request.url_for("hello"))}

    app.mount("/sub", sub)
    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    return app


@pytest.fixture
def log() -> list[str]:
    return []


@pytest.fixture
def app(tmp_path: Path, log: list[str]) -> FastAPI:
    (tmp_path / "hello.txt").write_text("static hello\n")
    return build_app(tmp_path, log)


@pytest.fixture
def client(app: FastAPI, backend: Backend) -> Iterator[TestClient]:
    with TestClient(app, backend=backend) as test_client:
        yield test_client


def test_lifespan_state_and_function_middleware(app: FastAPI, log: list[str], backend: Backend) -> None:
    with TestClient(app, backend=backend) as client:
        assert log == ["startup"]
        response = client.get("/state")
        assert response.json() == {"lifespan_state": True, "middleware": True}
        assert response.headers["x-middleware"] == "yes"
    assert log == ["startup", "shutdown"]


def test_custom_exception_handlers(client: TestClient) -> None:
    response = client.get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"teapot": "earl grey"}
    response = client.get("/number/abc")
    assert response.status_code == 400
    assert response.json() == {"invalid": [["path", "n"]]}


def test_oauth2_bearer_dependency(client: TestClient) -> None:
    response = client.get("/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    response = client.get("/me", headers={"Authorization": "Bearer t0k3n"})
    assert response.json() == {"user": "user-for-t0k3n"}


def test_http_basic_dependency(client: TestClient) -> None:
    assert client.get("/basic").status_code == 401
    response = client.get("/basic", auth=("alice", "s3cret"))
    assert response.json() == {"username": "alice", "password": "s3cret"}


def test_dependency_overrides(app: FastAPI, client: TestClient) -> None:
    assert client.get("/settings").json() == {"mode": "production"}
    app.dependency_overrides[settings] = lambda: {"mode": "testing"}
    try:
        assert client.get("/settings").json() == {"mode": "testing"}
    finally:
        app.dependency_overrides.clear()


def test_cookies_and_response_parameter(client: TestClient) -> None:
    client.cookies.set("session", "abc")
    response = client.get("/cookies")
    assert response.json() == {"session": "abc"}
    assert response.headers["x-custom"] == "set-by-endpoint"
    assert "visited=1" in response.headers["set-cookie"]
    assert "HttpOnly" in response.headers["set-cookie"]


def test_streaming_and_gzip(client: TestClient) -> None:
    response = client.get("/stream")
    assert response.text == "chunk-0;chunk-1;chunk-2;"
    response = client.get("/big", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.json() == {"data": "x" * 1000}


def test_websocket_with_dependency_and_disconnect(client: TestClient, log: list[str]) -> None:
    with client.websocket_connect("/ws") as websocket:
        websocket.send_text("one")
        assert websocket.receive_text() == "production:one"
        websocket.send_text("two")
        assert websocket.receive_text() == "production:two"
    assert log[-1] == "ws closed 1000"


def test_mounted_sub_application_and_static_files(client: TestClient) -> None:
    response = client.get("/sub/hello")
    assert response.json() == {"root_path": "/sub", "url": "http://testserver/sub/hello"}
    response = client.get("/static/hello.txt")
    assert response.status_code == 200
    assert response.text == "static hello\n"
    assert client.get("/static/missing.txt").status_code == 404


def test_form_fields_and_their_validation(client: TestClient) -> None:
    response = client.post("/login", data={"username": "alice", "remember": "true"})
    assert response.json() == {"username": "alice", "remember": True}
    response = client.post("/login", data={"remember": "true"})
    assert response.status_code == 400  # the app's RequestValidationError handler
    assert response.json() == {"invalid": [["body", "username"]]}


def test_file_uploads(client: TestClient) -> None:
    response = client.post(
        "/upload",
        data={"note": "two files"},
        files=[
            ("files", ("a.txt", b"first", "text/plain")),
            ("files", ("b.csv", b"x,y\n1,2\n", "text/csv")),
        ],
    )
    assert response.status_code == 200
    assert response.json() == {
        "note": "two files",
        "files": [["a.txt", "text/plain", "first"], ["b.csv", "text/csv", "x,y\n1,2\n"]],
        # The object is the one the form parser made: Tachyon's UploadFile (FastAPI's subclass is for typing).
        "class": UPLOAD_FILE_CLASS,
    }
