from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st
from tachyon.middleware.cors import ALL_METHODS, CORSMiddleware
from tachyon_http.types import Receive, Scope, Send
from tachyon_testclient.testclient import TestClient


async def ok_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"vary", b"Accept")]})
    await send({"type": "http.response.body", "body": b"OK"})


def client_for(**options: Any) -> TestClient:
    return TestClient(CORSMiddleware(ok_app, **options))


def preflight(client: TestClient, origin: str, method: str = "GET", headers: str | None = None) -> Any:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options("/", headers=request_headers)


@pytest.mark.parametrize(
    "origin",
    [
        "http://example.org",  # scheme differs
        "https://EXAMPLE.org",  # case differs
        "https://example.org:443",  # explicit port is a different serialisation
        "https://example.org.evil.com",
        "https://evil.com/https://example.org",
        "null",
    ],
)
def test_origin_must_match_exactly(origin: str) -> None:
    client = client_for(allow_origins=["https://example.org"])
    response = client.get("/", headers={"Origin": origin})
    assert "access-control-allow-origin" not in response.headers
    assert preflight(client, origin).status_code == 400


def test_allowed_origin_is_mirrored_with_vary() -> None:
    client = client_for(allow_origins=["https://example.org"])
    response = client.get("/", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["vary"] == "Accept, Origin"


def test_response_without_origin_still_varies_on_origin() -> None:
    response = client_for(allow_origins=["*"]).get("/")
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Accept, Origin"


def test_wildcard_origin_without_credentials_answers_star() -> None:
    response = client_for(allow_origins=["*"]).get("/", headers={"Origin": "https://a.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_wildcard_origin_with_credentials_echoes_the_origin() -> None:
    client = client_for(allow_origins=["*"], allow_credentials=True)
    response = client.get("/", headers={"Origin": "https://a.example"})
    assert response.headers["access-control-allow-origin"] == "https://a.example"
    assert response.headers["access-control-allow-credentials"] == "true"


def test_origin_regex_must_match_the_whole_origin() -> None:
    client = client_for(allow_origin_regex=r"https://.*\.example\.org")
    assert (
        client.get("/", headers={"Origin": "https://a.example.org"}).headers["access-control-allow-origin"]
        == "https://a.example.org"
    )
    response = client.get("/", headers={"Origin": "https://a.example.org.evil.com"})
    assert "access-control-allow-origin" not in response.headers


def test_successful_preflight_lists_policy() -> None:
    client = client_for(
        allow_origins=["https://example.org"],
        allow_methods=["GET", "POST"],
        allow_headers=["X-Token"],
        max_age=60,
    )
    response = preflight(client, "https://example.org", "POST", "x-token, Content-Type")
    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    assert response.headers["access-control-max-age"] == "60"
    assert response.headers["access-control-allow-headers"] == (
        "Accept, Accept-Language, Content-Language, Content-Type, X-Token"
    )


def test_failed_preflight_lists_every_reason() -> None:
    client = client_for(allow_origins=["https://example.org"])
    response = client.options(
        "/",
        headers={
            "Origin": "https://other.org",
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "X-Secret",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin, method, headers, private-network"


def test_method_names_are_case_sensitive() -> None:
    client = client_for(allow_origins=["*"], allow_methods=["GET"])
    assert preflight(client, "https://a.example", "get").status_code == 400


def test_star_methods_mean_all_standard_methods() -> None:
    middleware = CORSMiddleware(ok_app, allow_methods=["*"])
    assert middleware.allow_methods == ALL_METHODS


def test_allow_all_headers_mirrors_requested_headers() -> None:
    client = client_for(allow_origins=["*"], allow_headers=["*"])
    response = preflight(client, "https://a.example", "GET", "X-Anything")
    assert response.status_code == 200
    assert response.headers["access-control-allow-headers"] == "X-Anything"


def test_private_network_access_when_enabled() -> None:
    client = client_for(allow_origins=["*"], allow_private_network=True)
    response = client.options(
        "/",
        headers={
            "Origin": "https://a.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-private-network"] == "true"


def test_options_without_request_method_is_not_a_preflight() -> None:
    response = client_for(allow_origins=["*"]).options("/", headers={"Origin": "https://a.example"})
    assert response.text == "OK"


def test_expose_headers_on_simple_responses() -> None:
    client = client_for(allow_origins=["*"], expose_headers=["X-One", "X-Two"])
    response = client.get("/", headers={"Origin": "https://a.example"})
    assert response.headers["access-control-expose-headers"] == "X-One, X-Two"


async def duplicate_headers_app(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [
        (b"vary", b"Accept"),
        (b"access-control-allow-origin", b"https://stale.example"),
        (b"x-other", b"1"),
        (b"vary", b"Cookie"),
        (b"access-control-allow-origin", b"https://stale2.example"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"OK"})


class ObservingCORS(CORSMiddleware):
    explicit: list[str] = []

    @staticmethod
    def allow_explicit_origin(headers: Any, origin: str) -> None:
        ObservingCORS.explicit.append(origin)
        CORSMiddleware.allow_explicit_origin(headers, origin)


@pytest.mark.parametrize("middleware_class", [CORSMiddleware, ObservingCORS])
def test_existing_headers_are_replaced_and_vary_folded(middleware_class: type[CORSMiddleware]) -> None:
    client = TestClient(middleware_class(duplicate_headers_app, allow_origins=["https://example.org"]))
    response = client.get("/", headers={"Origin": "https://example.org"})
    assert response.headers.get_list("access-control-allow-origin") == ["https://example.org"]
    assert response.headers.get_list("vary") == ["Accept, Cookie, Origin"]
    # Replacement keeps the first position of each header, like MutableHeaders.__setitem__.
    assert [name for name, _ in response.headers.raw][:3] == [b"vary", b"access-control-allow-origin", b"x-other"]


def test_subclass_hooks_are_still_called() -> None:
    ObservingCORS.explicit.clear()
    client = TestClient(ObservingCORS(ok_app, allow_origins=["https://example.org"]))
    client.get("/", headers={"Origin": "https://example.org"})
    assert ObservingCORS.explicit == ["https://example.org"]


_names = st.sampled_from([b"vary", b"access-control-allow-origin", b"content-length", b"x-a", b"x-b"])
_values = st.sampled_from([b"1", b"2", b"Origin", b"Accept", b"Accept-Encoding"])


@settings(max_examples=200, deadline=None)
@given(raw=st.lists(st.tuples(_names, _values), max_size=8), name=_names, value=_values)
def test_raw_header_helpers_match_mutable_headers(raw: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    # The raw-list edits CORS and GZip make on http.response.start are MutableHeaders' own.
    from tachyon.middleware._raw_headers import add_vary, delete_raw, set_raw
    from tachyon_http.datastructures import MutableHeaders

    ours, reference = list(raw), list(raw)
    set_raw(ours, name, value)
    MutableHeaders(raw=reference)[name.decode()] = value.decode()
    assert ours == reference

    ours, reference = list(raw), list(raw)
    add_vary(ours, value)
    MutableHeaders(raw=reference).add_vary_header(value.decode())
    assert ours == reference

    ours, reference = list(raw), list(raw)
    delete_raw(ours, name)
    del MutableHeaders(raw=reference)[name.decode()]
    assert ours == reference
