from __future__ import annotations

import pytest
from tachyon.middleware.trustedhost import TrustedHostMiddleware
from tachyon_http.types import Receive, Scope, Send
from tachyon_testclient.testclient import TestClient


async def ok_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"OK"})


def client_for(allowed: list[str], **kwargs: bool) -> TestClient:
    return TestClient(TrustedHostMiddleware(ok_app, allowed_hosts=allowed, **kwargs), follow_redirects=False)


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("example.com", 200),
        ("EXAMPLE.COM", 200),  # host names are case-insensitive
        ("example.com:8000", 200),  # the port is not part of the host name
        ("sub.example.com", 200),
        ("a.b.example.com", 200),
        ("evil-example.com", 400),  # wildcard matches whole labels only
        ("example.com.evil.net", 400),
        ("example.com@evil.net", 400),  # garbage, not a host
        ("example.com/evil", 400),
        ("", 400),
        ("exa mple.com", 400),
        ("example.com:abc", 400),
        ("[::1]", 200),
        ("[::1]:8080", 200),
        ("[::2]", 400),
        ("[:::]", 400),  # invalid IPv6 literal
        ("::1", 400),  # IPv6 without brackets is not a valid Host
    ],
)
def test_host_header_is_matched_exactly_after_parsing(host: str, status: int) -> None:
    client = client_for(["example.com", "*.example.com", "[::1]"])
    response = client.get("/", headers={"host": host})
    assert response.status_code == status
    if status == 400:
        assert response.text == "Invalid host header"


def test_missing_host_header_is_rejected() -> None:
    middleware = TrustedHostMiddleware(ok_app, allowed_hosts=["example.com"])
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    import anyio

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b"", "scheme": "http"}
    anyio.run(middleware, scope, receive, send)
    assert sent[0]["status"] == 400


def test_configured_patterns_are_lowercased() -> None:
    client = client_for(["Example.COM"])
    assert client.get("/", headers={"host": "example.com"}).status_code == 200
    assert client.get("/", headers={"host": "EXAMPLE.com"}).status_code == 200


def test_www_redirect_goes_to_the_configured_www_host() -> None:
    client = client_for(["www.example.com"])
    response = client.get("/path?q=1", headers={"host": "example.com"})
    assert response.status_code == 307
    assert response.headers["location"] == "http://www.example.com/path?q=1"


def test_www_redirect_can_be_disabled() -> None:
    client = client_for(["www.example.com"], www_redirect=False)
    assert client.get("/", headers={"host": "example.com"}).status_code == 400


def test_wildcard_does_not_admit_the_bare_domain() -> None:
    client = client_for(["*.example.com"])
    assert client.get("/", headers={"host": "example.com"}).status_code == 400


def test_allow_any_skips_validation() -> None:
    middleware = TrustedHostMiddleware(ok_app)
    assert middleware.allowed_hosts == ["*"]
    assert TestClient(middleware).get("/", headers={"host": "whatever..invalid"}).status_code == 200


@pytest.mark.parametrize("pattern", ["example.*", "*example.com", "ex*ample.com", "*.*.example.com"])
def test_malformed_wildcards_are_refused_at_construction(pattern: str) -> None:
    with pytest.raises(AssertionError, match="Domain wildcard patterns"):
        TrustedHostMiddleware(ok_app, allowed_hosts=[pattern])


def test_remembered_hosts_do_not_admit_others_and_stay_bounded() -> None:
    middleware = TrustedHostMiddleware(ok_app, allowed_hosts=["example.com", "*.example.com"])
    client = TestClient(middleware, follow_redirects=False)
    for _ in range(2):  # the second pass answers from the remembered values
        assert client.get("/", headers={"host": "example.com"}).status_code == 200
        assert client.get("/", headers={"host": "evil.net"}).status_code == 400
    for port in range(300):
        assert client.get("/", headers={"host": f"a.example.com:{port}"}).status_code == 200
    assert 0 < len(middleware._allowed_seen) <= 256
    assert client.get("/", headers={"host": "evil.net"}).status_code == 400


def test_huge_allowed_hosts_are_answered_but_not_remembered() -> None:
    # A port may carry any number of leading zeros: such a Host is valid and allowed, but far longer than any
    # honest client sends, so it is checked on every request and never kept.
    middleware = TrustedHostMiddleware(ok_app, allowed_hosts=["example.com"])
    client = TestClient(middleware, follow_redirects=False)
    for port in range(1, 10):
        assert client.get("/", headers={"host": "example.com:" + "0" * 20_000 + str(port)}).status_code == 200
    assert client.get("/", headers={"host": "example.com"}).status_code == 200
    assert all(len(raw) <= 255 + 1 + 5 for raw in middleware._allowed_seen)
    assert b"example.com" in middleware._allowed_seen
