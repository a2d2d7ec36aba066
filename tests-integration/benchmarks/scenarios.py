"""The benchmark scenarios, shared by the in-process and the over-HTTP runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import orjson

BOUNDARY = "tachyonbenchboundary7MA4YWxkTrZu0gW"
UPLOAD_SIZE = 1024 * 1024
CHUNK = 64 * 1024  # what uvicorn hands an app per http.request message for large bodies


def _multipart(size: int) -> bytes:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="blob.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + b"x" * size + f"\r\n--{BOUNDARY}--\r\n".encode()


STACK_ORIGIN = "https://app.example.com"
STACK_HEADERS = ((b"origin", STACK_ORIGIN.encode()), (b"accept-encoding", b"gzip, deflate, br"))


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    method: str = "GET"
    query_string: bytes = b""
    body: bytes = b""
    content_type: bytes = b""
    expected_status: int = 200
    websocket: bool = False
    over_http: bool = True  # also measured through uvicorn + wrk
    extra_headers: tuple[tuple[bytes, bytes], ...] = ()
    chunks: tuple[bytes, ...] = field(init=False)

    def __post_init__(self) -> None:
        body = self.body
        parts = tuple(body[i : i + CHUNK] for i in range(0, len(body), CHUNK)) or (b"",)
        object.__setattr__(self, "chunks", parts)

    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"tachyon-bench")]
        if self.body:
            headers.append((b"content-length", str(len(self.body)).encode()))
        if self.content_type:
            headers.append((b"content-type", self.content_type))
        headers.extend(self.extra_headers)
        return headers


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("plaintext", "/"),
    Scenario("json small", "/json"),
    Scenario("json 1 KiB", "/json-1k"),
    Scenario("route: first static of 120", "/resources0"),
    Scenario("route: last param of 120", "/resources29/123/items/first"),
    Scenario("route: 404 miss", "/no/such/path", expected_status=404),
    Scenario("route: 405", "/resources29", method="DELETE", expected_status=405),
    Scenario("query params", "/query", query_string=b"q=search&page=3&tag=a&tag=b"),
    Scenario(
        "json body echo",
        "/echo",
        method="POST",
        body=orjson.dumps({"name": "widget", "price": 12.5, "tags": ["a", "b", "c"], "stock": 7}),
        content_type=b"application/json",
    ),
    Scenario(
        "urlencoded form (10 fields)",
        "/form",
        method="POST",
        body=urlencode({f"field{i}": f"value-{i}" for i in range(10)}).encode(),
        content_type=b"application/x-www-form-urlencoded",
    ),
    Scenario(
        "multipart upload 1 MiB",
        "/upload",
        method="POST",
        body=_multipart(UPLOAD_SIZE),
        content_type=f"multipart/form-data; boundary={BOUNDARY}".encode(),
    ),
    Scenario("websocket echo", "/ws", websocket=True, over_http=False),
    Scenario("3 middlewares", "/mw/"),
    # CORS + GZip + two user pure-ASGI middlewares around plaintext, as a browser calls it (an allowed Origin,
    # gzip accepted; the body is below GZip's minimum size). The floor is the raw endpoint inside the same
    # two user middlewares.
    Scenario("middleware stack", "/stack/", extra_headers=STACK_HEADERS),
    Scenario("middleware stack + BaseHTTPMiddleware", "/stack-base/", extra_headers=STACK_HEADERS),
)
