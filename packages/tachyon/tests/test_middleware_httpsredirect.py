from __future__ import annotations

import pytest
from tachyon.middleware.httpsredirect import HTTPSRedirectMiddleware
from tachyon_http.types import Receive, Scope, Send
from tachyon_testclient.testclient import TestClient


async def ok_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"OK"})


def test_https_requests_pass_through() -> None:
    client = TestClient(HTTPSRedirectMiddleware(ok_app), base_url="https://testserver")
    assert client.get("/").text == "OK"


@pytest.mark.parametrize(
    ("base_url", "location"),
    [
        ("http://testserver", "https://testserver/a?b=c"),
        ("http://testserver:80", "https://testserver/a?b=c"),
        ("http://testserver:443", "https://testserver/a?b=c"),
        ("http://testserver:8080", "https://testserver:8080/a?b=c"),
    ],
)
def test_http_is_redirected_to_https_with_307(base_url: str, location: str) -> None:
    client = TestClient(HTTPSRedirectMiddleware(ok_app), base_url=base_url, follow_redirects=False)
    response = client.get("/a?b=c")
    assert response.status_code == 307
    assert response.headers["location"] == location


@pytest.mark.parametrize("host", ["evil.com/path", "evil.com@good", "good\\@evil.com", "[:::]", "a b"])
def test_hostile_host_header_never_becomes_the_redirect_target(host: str) -> None:
    # An unparsable Host falls back to the server address; it is never copied into Location verbatim.
    client = TestClient(HTTPSRedirectMiddleware(ok_app), follow_redirects=False)
    response = client.get("/x", headers={"host": host})
    assert response.status_code == 307
    assert response.headers["location"] == "https://testserver/x"


def test_path_cannot_smuggle_another_host_into_location() -> None:
    client = TestClient(HTTPSRedirectMiddleware(ok_app), follow_redirects=False)
    response = client.get("//evil.com/x")
    assert response.status_code == 307
    assert response.headers["location"].startswith("https://testserver/")


def test_unusable_host_without_server_address_is_a_400() -> None:
    middleware = HTTPSRedirectMiddleware(ok_app)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope.pop("server", None)
        await middleware(scope, receive, send)

    response = TestClient(app, follow_redirects=False).get("/", headers={"host": "[:::]"})
    assert response.status_code == 400
    assert response.text == "Invalid host header"


def test_websocket_scheme_is_upgraded_to_wss() -> None:
    import anyio

    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "scheme": "ws",
        "path": "/chat",
        "raw_path": b"/chat",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
        "server": ("example.com", 80),
    }
    anyio.run(HTTPSRedirectMiddleware(ok_app), scope, receive, send)
    start = sent[0]
    assert start["status"] == 307
    assert (b"location", b"wss://example.com/chat") in start["headers"]  # type: ignore[operator]
