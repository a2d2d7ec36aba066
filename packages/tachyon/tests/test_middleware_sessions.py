from __future__ import annotations

import json
import re
import time
from base64 import b64encode
from typing import Any

import itsdangerous
import pytest
from tachyon.middleware.sessions import Session, SessionMiddleware
from tachyon_http.requests import Request
from tachyon_http.types import Receive, Scope, Send
from tachyon_testclient.testclient import TestClient

SECRET = "s3cret"


async def session_app(scope: Scope, receive: Receive, send: Send) -> None:
    """GET shows the session; POST merges the JSON body into it; DELETE clears it."""
    request = Request(scope, receive)
    if request.method == "POST":
        request.session.update(await request.json())
    elif request.method == "DELETE":
        request.session.clear()
    payload = json.dumps(dict(request.session)).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})


def client_for(**options: Any) -> TestClient:
    return TestClient(SessionMiddleware(session_app, secret_key=SECRET, **options))


def signed_cookie(data: Any, secret: str = SECRET) -> str:
    return itsdangerous.TimestampSigner(secret).sign(b64encode(json.dumps(data).encode())).decode()


def test_session_round_trip() -> None:
    client = client_for()
    assert client.get("/").json() == {}
    response = client.post("/", json={"user": "ada"})
    assert response.json() == {"user": "ada"}
    assert client.get("/").json() == {"user": "ada"}


def test_set_cookie_attributes() -> None:
    client = client_for(max_age=60, same_site="strict", https_only=True, domain="example.com", partitioned=True)
    cookie = client.post("/", json={"a": 1}).headers["set-cookie"]
    attributes = cookie.split("; ")
    assert attributes[1:] == [
        "path=/",
        "Max-Age=60",
        "httponly",
        "samesite=strict",
        "secure",
        "domain=example.com",
        "partitioned",
    ]


def test_cookie_only_set_when_modified_and_vary_when_accessed() -> None:
    client = client_for()
    first = client.post("/", json={"a": 1})
    assert "set-cookie" in first.headers
    assert "Cookie" in first.headers["vary"]
    read_only = client.get("/")
    assert "set-cookie" not in read_only.headers
    assert "Cookie" in read_only.headers["vary"]


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        signed_cookie({"admin": True}, secret="wrong-secret"),  # forged with another key
        signed_cookie({"admin": True})[:-2] + "xx",  # signature tampered
        signed_cookie({"user": "x"}).replace(".", "!", 1),
        "a" * 100_000,  # oversized
    ],
)
def test_untrusted_cookie_yields_an_empty_session(cookie: str) -> None:
    client = client_for()
    response = client.get("/", headers={"cookie": f"session={cookie}"})
    assert response.status_code == 200
    assert response.json() == {}


def test_signed_but_undecodable_payload_yields_an_empty_session() -> None:
    junk = itsdangerous.TimestampSigner(SECRET).sign(b"%%%not-base64%%%").decode()
    response = client_for().get("/", headers={"cookie": f"session={junk}"})
    assert response.json() == {}
    not_a_dict = itsdangerous.TimestampSigner(SECRET).sign(b64encode(b"[1, 2]")).decode()
    assert client_for().get("/", headers={"cookie": f"session={not_a_dict}"}).json() == {}


def test_expired_cookie_yields_an_empty_session(monkeypatch: pytest.MonkeyPatch) -> None:
    cookie = signed_cookie({"user": "ada"})
    client = client_for(max_age=10)
    assert client.get("/", headers={"cookie": f"session={cookie}"}).json() == {"user": "ada"}
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 11)
    assert client.get("/", headers={"cookie": f"session={cookie}"}).json() == {}


def test_clearing_a_session_expires_the_cookie() -> None:
    client = client_for()
    client.post("/", json={"a": 1})
    response = client.delete("/")
    cookie = response.headers["set-cookie"]
    assert re.match(r"session=null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; samesite=lax", cookie)


def test_clearing_an_already_empty_session_sets_no_cookie() -> None:
    assert "set-cookie" not in client_for().delete("/").headers


def test_no_max_age_means_a_browser_session_cookie() -> None:
    cookie = client_for(max_age=None).post("/", json={"a": 1}).headers["set-cookie"]
    assert "Max-Age" not in cookie


def test_session_dict_tracks_access_and_modification() -> None:
    session = Session({"a": 1})
    assert not session.accessed and not session.modified
    session.get("a")
    assert not session.modified
    session.pop("missing", None)
    assert not session.modified
    session.setdefault("a", 2)
    assert not session.modified
    session |= {"b": 2}
    assert session.modified and session.accessed
    other = Session()
    other.mark_accessed()
    assert other.accessed and not other.modified


def test_cookies_are_interchangeable_with_starlette_sessions() -> None:
    from starlette.middleware.sessions import SessionMiddleware as ReferenceMiddleware

    reference = TestClient(ReferenceMiddleware(session_app, secret_key=SECRET))
    cookie = reference.post("/", json={"from": "reference"}).cookies["session"]
    assert client_for().get("/", headers={"cookie": f"session={cookie}"}).json() == {"from": "reference"}

    ours = client_for().post("/", json={"from": "tachyon"}).cookies["session"]
    assert reference.get("/", headers={"cookie": f"session={ours}"}).json() == {"from": "tachyon"}


@pytest.mark.parametrize(
    "option", [{"path": "/\r\nSet-Cookie: x=1"}, {"domain": "a.com\nx"}, {"session_cookie": "s\x00"}]
)
def test_header_splitting_settings_are_refused(option: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        SessionMiddleware(session_app, secret_key=SECRET, **option)  # type: ignore[arg-type]


def test_existing_vary_header_is_extended() -> None:
    async def varying(scope: Scope, receive: Receive, send: Send) -> None:
        Request(scope, receive).session.get("x")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"vary", b"Accept")]})
        await send({"type": "http.response.body", "body": b""})

    response = TestClient(SessionMiddleware(varying, secret_key=SECRET)).get("/")
    assert response.headers["vary"] == "Accept, Cookie"


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError in json.loads
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"\xff\xfe\x00",  # not UTF-8
        b"",
    ],
)
def test_signed_payload_that_cannot_be_loaded_yields_an_empty_session(payload: bytes) -> None:
    cookie = itsdangerous.TimestampSigner(SECRET).sign(b64encode(payload)).decode()
    response = client_for().get("/", headers={"cookie": f"session={cookie}"})
    assert response.status_code == 200
    assert response.json() == {}
