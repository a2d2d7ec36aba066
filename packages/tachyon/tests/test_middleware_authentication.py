from __future__ import annotations

import base64
from typing import Any

import pytest
from tachyon.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    SimpleUser,
    UnauthenticatedUser,
    has_required_scope,
    requires,
)
from tachyon.middleware.authentication import AuthenticationMiddleware
from tachyon_http.requests import HTTPConnection, Request
from tachyon_http.responses import JSONResponse, PlainTextResponse, Response
from tachyon_http.types import Receive, Scope, Send
from tachyon_testclient.testclient import TestClient


class BasicAuth(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if header is None:
            return None
        try:
            username, _, _ = base64.b64decode(header.removeprefix("Basic "), validate=True).decode().partition(":")
        except ValueError:
            raise AuthenticationError("Invalid basic auth credentials") from None
        return AuthCredentials(["authenticated"]), SimpleUser(username)


def basic(user: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:pw".encode()).decode()}


async def who(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    response = JSONResponse(
        {
            "authenticated": request.user.is_authenticated,
            "user": request.user.display_name,
            "scopes": request.auth.scopes,
        }
    )
    await response(scope, receive, send)


def test_anonymous_connection_gets_unauthenticated_user() -> None:
    client = TestClient(AuthenticationMiddleware(who, backend=BasicAuth()))
    assert client.get("/").json() == {"authenticated": False, "user": "", "scopes": []}


def test_authenticated_connection_gets_user_and_scopes() -> None:
    client = TestClient(AuthenticationMiddleware(who, backend=BasicAuth()))
    assert client.get("/", headers=basic("ada")).json() == {
        "authenticated": True,
        "user": "ada",
        "scopes": ["authenticated"],
    }


def test_backend_error_is_a_400_by_default() -> None:
    client = TestClient(AuthenticationMiddleware(who, backend=BasicAuth()))
    response = client.get("/", headers={"authorization": "Basic !!!"})
    assert response.status_code == 400
    assert response.text == "Invalid basic auth credentials"


def test_custom_error_handler() -> None:
    def on_error(conn: HTTPConnection, exc: AuthenticationError) -> Response:
        return PlainTextResponse("nope", status_code=401)

    client = TestClient(AuthenticationMiddleware(who, backend=BasicAuth(), on_error=on_error))
    assert client.get("/", headers={"authorization": "Basic !!!"}).status_code == 401


def test_requires_rejects_missing_scope_with_status() -> None:
    @requires("admin", status_code=404)
    async def endpoint(request: Request) -> Response:
        raise AssertionError("must not run")  # pragma: no cover

    conn_scope = {"type": "http", "auth": AuthCredentials(["authenticated"]), "headers": []}
    import anyio
    from tachyon_http.exceptions import HTTPException

    with pytest.raises(HTTPException) as info:
        anyio.run(endpoint, Request(conn_scope))
    assert info.value.status_code == 404


def test_requires_lets_sync_and_async_endpoints_through_with_scope() -> None:
    @requires(["a", "b"])
    def sync_endpoint(request: Request) -> str:
        return "sync"

    @requires("a")
    async def async_endpoint(*, request: Request) -> str:
        return "async"

    import anyio

    request = Request({"type": "http", "auth": AuthCredentials(["a", "b"]), "headers": []})
    assert sync_endpoint(request) == "sync"
    assert anyio.run(lambda: async_endpoint(request=request)) == "async"


def test_requires_needs_a_request_or_websocket_parameter() -> None:
    with pytest.raises(Exception, match='No "request" or "websocket" argument'):

        @requires("a")
        def endpoint(conn: Any) -> None: ...  # pragma: no cover


def test_requires_checks_the_argument_type() -> None:
    @requires("a")
    def endpoint(request: Any) -> None: ...  # pragma: no cover

    with pytest.raises(AssertionError, match="required to be of type 'Request'"):
        endpoint("not a request")


def test_has_required_scope() -> None:
    conn = HTTPConnection({"type": "http", "auth": AuthCredentials(["x", "y"]), "headers": []})
    assert has_required_scope(conn, ["x"])
    assert has_required_scope(conn, [])
    assert not has_required_scope(conn, ["x", "z"])


def test_user_classes() -> None:
    user = SimpleUser("ada")
    assert (user.is_authenticated, user.display_name, user.identity) == (True, "ada", "ada")
    anon = UnauthenticatedUser()
    assert (anon.is_authenticated, anon.display_name, anon.identity) == (False, "", "")
    assert AuthCredentials().scopes == []


def test_websocket_with_bad_credentials_is_closed_normally() -> None:
    from tachyon_ws.websockets import WebSocketDisconnect

    async def ws_app(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
        raise AssertionError("must not run")

    client = TestClient(AuthenticationMiddleware(ws_app, backend=BasicAuth()))
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/", headers={"authorization": "Basic !!!"}):
            pass  # pragma: no cover
    assert info.value.code == 1000


def test_requires_on_websocket_closes_without_scope() -> None:
    from tachyon_ws.websockets import WebSocket

    @requires("admin")
    async def endpoint(websocket: WebSocket) -> None:  # pragma: no cover
        await websocket.accept()

    async def ws_app(scope: Scope, receive: Receive, send: Send) -> None:
        await endpoint(WebSocket(scope, receive, send))

    from tachyon_ws.websockets import WebSocketDisconnect

    client = TestClient(AuthenticationMiddleware(ws_app, backend=BasicAuth()))
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/", headers=basic("ada")):
            pass  # pragma: no cover
