"""FastAPI's dispatch answered from Tachyon's route table gives what FastAPI's own loops give.

Differential: generated FastAPI applications (routes with path/int/str/uuid parameters, overlapping
templates, several methods, nested ``include_router`` with prefixes, mounts, opaque routes) and generated
requests; each request runs once through the table dispatch and once through FastAPI's own
``APIRouter.app`` / ``_IncludedRouter._match`` (swapped back in for the call), and the status, body, route,
endpoint, path parameters, scope keys and FastAPI's scope entries must be the same.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import fastapi
import fastapi.routing
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse
from hypothesis import HealthCheck, given, settings, strategies as st
from starlette.routing import Mount, Route
from starlette.testclient import TestClient
from tachyon import _fastapi

from .conftest import REFERENCE_RUN

pytestmark = pytest.mark.skipif(REFERENCE_RUN, reason="compares Tachyon's dispatch with FastAPI's on Tachyon")

LITERALS = ("a", "b", "items")
PARAMS = ("{p}", "{p:int}", "{p:str}", "{p:uuid}")
METHODS = ("GET", "POST", "PUT")
UUID = "5f0c6b2e-7d5c-4b8e-9a3b-1c2d3e4f5a6b"


def test_the_switch_installs_the_table_dispatch() -> None:
    assert _fastapi.is_installed()
    assert fastapi.__version__.startswith(_fastapi.TESTED_VERSIONS)
    assert fastapi.routing.APIRouter.app is _fastapi._router_app
    # Patched in memory by the switch's loader; the module still comes from FastAPI's own file.
    assert type(fastapi.routing.__loader__).__name__ == "_FastAPIRoutingLoader"
    assert fastapi.routing.__file__ is not None and fastapi.routing.__file__.endswith("fastapi/routing.py")


@st.composite
def templates(draw: st.DrawFn) -> str:
    segments = draw(st.lists(st.sampled_from(LITERALS + PARAMS), min_size=1, max_size=3))
    names = iter(f"p{i}" for i in range(10))
    return "/" + "/".join(s.replace("{p", "{" + next(names)) if s.startswith("{") else s for s in segments)


def _endpoint(label: str) -> Any:
    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{label} {sorted(request.path_params.items())!r}")

    endpoint.__name__ = f"ep_{label}"
    return endpoint


@st.composite
def route_lists(draw: st.DrawFn, depth: int, counter: list[int]) -> list[tuple[str, Any]]:
    kinds = ["api", "api", "api"] + (["include"] if depth < 2 else []) + ["mount", "plain"]
    entries: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(kinds))
        counter[0] += 1
        label = f"r{counter[0]}"
        if kind == "include":
            prefix = draw(st.sampled_from(("", "/a", "/items", "/b/a")))
            entries.append(("include", (prefix, draw(route_lists(depth + 1, counter)))))
        elif kind == "mount":
            entries.append(("mount", (draw(st.sampled_from(("/a", "/m"))), label)))
        else:
            methods = draw(st.lists(st.sampled_from(METHODS), min_size=1, max_size=2, unique=True))
            entries.append((kind, (draw(templates()), methods, label)))
    return entries


def _fill(router: APIRouter, entries: list[tuple[str, Any]]) -> None:
    for kind, data in entries:
        if kind == "include":
            prefix, inner = data
            child = APIRouter()
            _fill(child, inner)
            router.include_router(child, prefix=prefix)
        elif kind == "mount":
            path, label = data
            router.routes.append(Mount(path, routes=[Route("/{rest:path}", _endpoint(label))]))
        elif kind == "plain":
            path, methods, label = data
            router.add_route(path, _endpoint(label), methods=methods)
        else:
            path, methods, label = data
            router.add_api_route(path, _endpoint(label), methods=methods, name=label)


@st.composite
def apps(draw: st.DrawFn) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    _fill(app.router, draw(route_lists(0, [0])))
    return app


request_paths = st.lists(st.sampled_from(LITERALS + ("m", "7", "x", UUID, "")), min_size=0, max_size=4).map(
    lambda parts: "/" + "/".join(parts)
)


@contextlib.contextmanager
def fastapi_own_loops() -> Iterator[None]:
    routing = fastapi.routing
    routing.APIRouter.app = _fastapi._original_app
    routing._IncludedRouter._match = _fastapi._original_match
    try:
        yield
    finally:
        routing.APIRouter.app = _fastapi._router_app
        routing._IncludedRouter._match = _fastapi._included_match


def _describe(value: Any) -> Any:
    # Objects compare by identity (both runs use the same application); dicts and lists by content.
    if isinstance(value, dict):
        return {k: _describe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_describe(v) for v in value]
    if isinstance(value, (str, int, float, bytes, type(None), uuid.UUID)):
        return value
    return ("object", id(value))


def _run(app: FastAPI, method: str, path: str) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": [],
        "server": ("testserver", 80), "client": ("testclient", 1), "state": {}, "app": app,
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def main() -> None:
        await app.router.app(scope, receive, send)

    error = None
    try:
        anyio.run(main)
    except Exception as exc:  # a route's HTTPException (405 inside an app) travels up as in FastAPI
        error = (type(exc).__name__, getattr(exc, "status_code", None), getattr(exc, "headers", None))
    start = next((m for m in sent if m["type"] == "http.response.start"), {})
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return {
        "error": error,
        "status": start.get("status"),
        "headers": sorted(start.get("headers", [])),
        "body": body,
        "scope_keys": sorted(scope),
        "route": _describe(scope.get("route")),
        "endpoint": _describe(scope.get("endpoint")),
        "path_params": _describe(scope.get("path_params")),
        "fastapi": _describe(scope.get("fastapi")),
        "router": _describe(scope.get("router")),
    }


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(app=apps(), requests=st.lists(st.tuples(st.sampled_from(METHODS + ("DELETE",)), request_paths), max_size=8))
def test_table_dispatch_matches_fastapis_loops(app: FastAPI, requests: list[tuple[str, str]]) -> None:
    requests = [*requests, ("GET", "/a/7"), ("POST", "/items/" + UUID), ("GET", "/a/"), ("PUT", "/b/a/x")]
    for method, path in requests:
        ours = _run(app, method, path)
        with fastapi_own_loops():
            theirs = _run(app, method, path)
        assert ours == theirs, (method, path)


def test_routes_added_after_the_first_request_are_seen() -> None:
    app = FastAPI()
    child = APIRouter()
    child.add_api_route("/one", _endpoint("one"))
    app.include_router(child, prefix="/c")
    client = TestClient(app)
    assert client.get("/c/one").status_code == 200
    assert client.get("/c/two").status_code == 404
    child.add_api_route("/two", _endpoint("two"))  # FastAPI's lazy include picks it up; so must the table
    assert client.get("/c/two").text.startswith("two")
    app.add_api_route("/top", _endpoint("top"))
    assert client.get("/top").text.startswith("top")


def test_customised_routes_fall_back_to_fastapis_loop(caplog: pytest.LogCaptureFixture) -> None:
    class Custom(fastapi.routing.APIRoute):
        def matches(self, scope: Any) -> Any:
            return super().matches(scope)

    router = APIRouter(route_class=Custom)
    router.add_api_route("/x", _endpoint("x"))
    app = FastAPI()
    app.include_router(router)
    app.add_api_route("/after", _endpoint("after"))
    client = TestClient(app)
    with caplog.at_level(logging.DEBUG, logger="tachyon.fastapi"):
        assert client.get("/after").text.startswith("after")
        assert client.get("/x").text.startswith("x")
    assert "cannot evaluate" in caplog.text
