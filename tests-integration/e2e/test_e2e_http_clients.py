"""A Tachyon application served by a real uvicorn on 127.0.0.1, driven by httpx over TCP and by ``curl``.

Every scenario is checked against explicit expectations (status, headers, body) and compared across
clients: httpx and curl must observe the same thing; the in-process TestClient (asyncio and trio) must give
identical status, headers (except those a server adds per connection or per moment) and body; and the same
application built on Starlette 1.10, under the same uvicorn, must answer identically over the wire.
Clients that misbehave (vanish mid-body, do not speak HTTP, aim outside the static directory) are handled
as Starlette handles them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import e2e_processes as processes  # apps/e2e_processes.py, registered by conftest.py
import httpx2 as httpx
import pytest
from e2e_processes import APPS_DIR, IO_TIMEOUT, load_app
from tachyon_testclient.testclient import TestClient

APP_MODULE = "e2e_http_app"
ONE_MIB = 1024 * 1024

# Headers a server adds by itself (uvicorn: Date, Server; chunked framing; connection management). They
# depend on the moment or the connection, not on the application, so they are left out of comparisons.
SERVER_HEADERS = frozenset({"date", "server", "connection", "keep-alive", "transfer-encoding"})
_BOUNDARY = re.compile(r"boundary=([0-9A-Za-z'()+_,\-./:=?]+)")


served = load_app(APP_MODULE)
PAYLOAD: bytes = served.PAYLOAD


# -------------------------------------------------------------------------------------------- observations


@dataclass(frozen=True)
class Observation:
    """What a client saw: status, headers (lower-case names, wire order) and body, normalised."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


def observe(status: int, raw_headers: list[tuple[str, str]], body: bytes) -> Observation:
    headers: list[tuple[str, str]] = []
    for name, value in raw_headers:
        key = name.lower()
        if key in SERVER_HEADERS:
            continue
        if key == "allow":
            # Route methods are a set (as in Starlette), so the order varies between processes.
            value = ", ".join(sorted(method.strip() for method in value.split(",")))
        headers.append((key, value))
    # multipart/byteranges bodies use a random boundary per response.
    for _, value in headers:
        match = _BOUNDARY.search(value) if value.startswith("multipart/byteranges") else None
        if match:
            boundary = match.group(1)
            headers = [(key, val.replace(boundary, "BOUNDARY")) for key, val in headers]
            body = body.replace(boundary.encode(), b"BOUNDARY")
            break
    return Observation(status, tuple(headers), body)


# ------------------------------------------------------------------------------------------------ scenarios

UPLOAD = (bytes(range(256)) * (ONE_MIB // 256)) + b"tail!!!"  # a little over 1 MiB
NOTES = "first line\nsecond line ü\n".encode()
# ~0.5 M characters that need escaping: ~1.1 MiB once url-encoded.
BIG_FIELD = ("x y&z=ü" * (ONE_MIB // 14)).rstrip()
TOO_BIG_FIELD = "a" * (2 * ONE_MIB + 1)  # above the application's max_part_size
JSON_DOCUMENT = {"name": "数据", "n": [1, 2, {"deep": None}], "flag": False, "ratio": 0.25}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _field(value: str) -> dict[str, Any]:
    return {"kind": "field", "size": len(value), "sha256": _sha(value.encode())}


def _json_bytes(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    status: int
    # Expected values of these headers, in order (a header listed with [] must be absent). "{base}" in a
    # value is replaced by the server's base URL.
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes | Callable[[bytes], None] = b""
    request_headers: tuple[tuple[str, str], ...] = ()
    content: bytes | None = None
    chunked: bool = False  # send ``content`` with Transfer-Encoding: chunked instead of Content-Length
    form: tuple[tuple[str, str], ...] | None = None
    files: tuple[tuple[str, str, bytes, str], ...] | None = None  # field, filename, content, content type
    follow_redirects: bool = False

    def check(self, seen: Observation, base_url: str) -> None:
        assert seen.status == self.status, seen
        for name, expected in self.headers.items():
            assert seen.values(name) == [value.replace("{base}", base_url) for value in expected], (name, seen)
        if callable(self.body):
            self.body(seen.body)
        else:
            assert seen.body == self.body


def _json_body(expected: Any) -> Callable[[bytes], None]:
    def check(body: bytes) -> None:
        assert json.loads(body) == expected

    return check


def _byteranges(body: bytes) -> None:
    parts = body.split(b"--BOUNDARY")
    assert parts[0] == b"" and parts[-1] == b"--"
    payloads = [part.split(b"\r\n\r\n", 1) for part in parts[1:-1]]
    assert [head.strip().split(b"\r\n") for head, _ in payloads] == [
        [b"Content-Type: application/octet-stream", b"Content-Range: bytes 0-1/65536"],
        [b"Content-Type: application/octet-stream", b"Content-Range: bytes 10-12/65536"],
    ]
    assert [data.removesuffix(b"\r\n") for _, data in payloads] == [PAYLOAD[0:2], PAYLOAD[10:13]]


TEXT = "text/plain; charset=utf-8"
JSON = "application/json"
FILE_HEADERS = {
    "content-type": ["application/octet-stream"],
    "accept-ranges": ["bytes"],
    "content-disposition": ['attachment; filename="payload.bin"'],
    "last-modified": ["Tue, 14 Nov 2023 22:13:20 GMT"],
}

CASES = [
    Case("plaintext", "GET", "/plain", 200, {"content-type": [TEXT], "content-length": ["13"]}, b"Hello, world!"),
    Case("head", "HEAD", "/plain", 200, {"content-type": [TEXT], "content-length": ["13"]}, b""),
    Case(
        "json",
        "GET",
        "/json",
        200,
        {"content-type": [JSON]},
        _json_bytes({"message": "héllo wörld", "numbers": [1, 2.5, None], "nested": {"ok": True}}),
    ),
    Case(
        "path-params",
        "GET",
        "/users/42/posts/hello-world",
        200,
        {"content-type": [JSON]},
        b'{"user_id":42,"type":"int","slug":"hello-world"}',
    ),
    Case("path-param-not-int", "GET", "/users/abc/posts/x", 404, {"content-type": [TEXT]}, b"Not Found"),
    Case(
        "query-params",
        "GET",
        "/query?tag=a&tag=b%20c&q=caf%C3%A9&empty=",
        200,
        {"content-type": [JSON]},
        _json_bytes(
            {"items": [["tag", "a"], ["tag", "b c"], ["q", "café"], ["empty", ""]], "tags": ["a", "b c"], "q": "café"}
        ),
    ),
    Case(
        "json-echo",
        "POST",
        "/echo-json",
        200,
        {"content-type": [JSON]},
        _json_bytes({"received": JSON_DOCUMENT}),
        request_headers=(("content-type", JSON),),
        content=_json_bytes(JSON_DOCUMENT),
    ),
    Case(
        "json-invalid-400",
        "POST",
        "/echo-json",
        400,
        {"content-type": [TEXT]},
        b"Body is not valid JSON",
        request_headers=(("content-type", JSON),),
        content=b'{"broken": ',
    ),
    Case(
        "urlencoded-1mib",
        "POST",
        "/form",
        200,
        {"content-type": [JSON]},
        _json_body(
            {
                "content_type": "application/x-www-form-urlencoded",
                "parts": [["big", _field(BIG_FIELD)], ["name", _field("Zoë")], ["name", _field("again")]],
            }
        ),
        form=(("big", BIG_FIELD), ("name", "Zoë"), ("name", "again")),
    ),
    Case(
        "multipart-1mib",
        "POST",
        "/form",
        200,
        {"content-type": [JSON]},
        _json_body(
            {
                "content_type": "multipart/form-data",
                "parts": [
                    ["title", _field("report ü")],
                    [
                        "upload",
                        {
                            "kind": "file",
                            "filename": "data.bin",
                            "content_type": "application/octet-stream",
                            "size": len(UPLOAD),
                            "sha256": _sha(UPLOAD),
                        },
                    ],
                    [
                        "notes",
                        {
                            "kind": "file",
                            "filename": "notes.txt",
                            "content_type": "text/plain",
                            "size": len(NOTES),
                            "sha256": _sha(NOTES),
                        },
                    ],
                ],
            }
        ),
        form=(("title", "report ü"),),
        files=(("upload", "data.bin", UPLOAD, "application/octet-stream"), ("notes", "notes.txt", NOTES, "text/plain")),
    ),
    Case(
        "multipart-malformed-400",
        "POST",
        "/form",
        400,
        {"content-type": [TEXT]},
        b"Invalid multipart data.",
        request_headers=(("content-type", "multipart/form-data; boundary=xyz"),),
        content=b"this is not multipart at all",
    ),
    Case(
        "urlencoded-field-too-large-400",
        "POST",
        "/form",
        400,
        {"content-type": [TEXT]},
        b"Field exceeded maximum size of 2048KB.",
        form=(("big", TOO_BIG_FIELD),),
    ),
    Case(
        "body-within-limit",
        "POST",
        "/limited",
        200,
        {"content-type": [TEXT]},
        b"received 1024 bytes",
        request_headers=(("content-type", "application/octet-stream"),),
        content=b"k" * 1024,
    ),
    Case(
        "body-too-large-413",
        "POST",
        "/limited",
        413,
        {"content-type": [TEXT]},
        b"Content Too Large",
        request_headers=(("content-type", "application/octet-stream"),),
        content=b"k" * 4096,
    ),
    Case(
        "streaming",
        "GET",
        "/stream",
        200,
        {"content-type": [TEXT], "x-stream": ["yes"], "content-length": []},
        b"alpha,beta,gamma",
    ),
    Case(
        "file",
        "GET",
        "/file",
        200,
        {**FILE_HEADERS, "content-length": ["65536"]},
        PAYLOAD,
    ),
    Case(
        "file-range",
        "GET",
        "/file",
        206,
        {**FILE_HEADERS, "content-length": ["100"], "content-range": ["bytes 100-199/65536"]},
        PAYLOAD[100:200],
        request_headers=(("range", "bytes=100-199"),),
    ),
    Case(
        "file-suffix-range",
        "GET",
        "/file",
        206,
        {"content-length": ["10"], "content-range": ["bytes 65526-65535/65536"]},
        PAYLOAD[-10:],
        request_headers=(("range", "bytes=-10"),),
    ),
    Case(
        "file-multi-range",
        "GET",
        "/file",
        206,
        {"content-type": ["multipart/byteranges; boundary=BOUNDARY"]},
        _byteranges,
        request_headers=(("range", "bytes=0-1,10-12"),),
    ),
    Case(
        "file-range-not-satisfiable-416",
        "GET",
        "/file",
        416,
        {"content-range": ["bytes */65536"]},
        b"",
        request_headers=(("range", "bytes=70000-70010"),),
    ),
    Case("redirect", "GET", "/redirect", 307, {"location": ["/plain"], "content-length": ["0"]}, b""),
    Case(
        "redirect-followed", "GET", "/redirect", 200, {"content-type": [TEXT]}, b"Hello, world!", follow_redirects=True
    ),
    Case("redirect-301", "GET", "/redirect/permanent", 301, {"location": ["/json?from=redirect"]}, b""),
    Case("redirect-slashes", "GET", "/plain/", 307, {"location": ["{base}/plain"]}, b""),
    Case("not-found-404", "GET", "/nope", 404, {"content-type": [TEXT]}, b"Not Found"),
    Case(
        "method-not-allowed-405",
        "DELETE",
        "/plain",
        405,
        {"allow": ["GET, HEAD"], "content-type": [TEXT]},
        b"Method Not Allowed",
    ),
    Case("post-to-get-route-405", "POST", "/json", 405, {"allow": ["GET, HEAD"]}, b"Method Not Allowed"),
    Case(
        "cookies-set",
        "GET",
        "/cookies/set",
        200,
        {
            "set-cookie": [
                "session=abc123; HttpOnly; Path=/; SameSite=strict",
                "theme=dark; Path=/cookies; SameSite=lax",
            ]
        },
        b"cookies set",
    ),
    Case(
        "cookies-read",
        "GET",
        "/cookies/read",
        200,
        {"content-type": [JSON]},
        b'{"session":"abc123","theme":"dark"}',
        request_headers=(("cookie", "session=abc123; theme=dark"),),
    ),
    Case(
        "headers",
        "GET",
        "/headers",
        200,
        {"x-multi": ["one", "two"], "cache-control": ["no-store"], "content-length": ["6"]},
        b"secret",
        request_headers=(("x-token", "secret"),),
    ),
    Case(
        "http-exception-418",
        "GET",
        "/teapot",
        418,
        {"x-teapot": ["yes"], "content-type": [TEXT]},
        b"short and stout",
    ),
]
ETAG = '"e8f67edf4d62b9e684170b6757212d14"'
MANY_FIELDS = b"&".join(b"f%d=1" % index for index in range(1001))
URLENCODED = (("content-type", "application/x-www-form-urlencoded"),)

# Edge cases of parsing and protocol handling; the expected answers are Starlette 1.10's.
EDGE_CASES = [
    Case(
        "path-param-percent-encoded",
        "GET",
        "/users/7/posts/caf%C3%A9",
        200,
        {"content-type": [JSON]},
        _json_bytes({"user_id": 7, "type": "int", "slug": "café"}),
    ),
    Case("path-encoded-slash-404", "GET", "/users/7/posts/a%2Fb", 404, {}, b"Not Found"),
    Case(
        "query-blank-pairs",
        "GET",
        "/query?&&=x&a&b=",
        200,
        {},
        _json_bytes({"items": [["", "x"], ["a", ""], ["b", ""]], "tags": [], "q": None}),
    ),
    Case(
        "query-plus-is-space",
        "GET",
        "/query?tag=a+b&q=%2B1",
        200,
        {},
        _json_bytes({"items": [["tag", "a b"], ["q", "+1"]], "tags": ["a b"], "q": "+1"}),
    ),
    Case(
        "cookies-unusual-syntax",
        "GET",
        "/cookies/read",
        200,
        {},
        _json_bytes({"": "c", "a": "1", "d": "q v", "e": "x=y", "f": "%20"}),
        request_headers=(("cookie", 'a=1; b; =c; d="q v"; e=x=y; f=%20'),),
    ),
    Case("head-streaming", "HEAD", "/stream", 200, {"x-stream": ["yes"], "content-type": [TEXT]}, b""),
    Case(
        "query-invalid-escapes-kept",
        "GET",
        "/query?q=%zz&tag=%E9",
        200,
        {},
        _json_bytes({"items": [["q", "%zz"], ["tag", "\ufffd"]], "tags": ["\ufffd"], "q": "%zz"}),
    ),
    Case("options-405", "OPTIONS", "/plain", 405, {"allow": ["GET, HEAD"]}, b"Method Not Allowed"),
    Case(
        "head-file-range",
        "HEAD",
        "/file",
        206,
        {"content-length": ["4"], "content-range": ["bytes 0-3/65536"], "etag": [ETAG]},
        b"",
        request_headers=(("range", "bytes=0-3"),),
    ),
    Case(
        "file-overlapping-ranges-merge",
        "GET",
        "/file",
        206,
        {"content-range": ["bytes 0-20/65536"]},
        PAYLOAD[:21],
        request_headers=(("range", "bytes=0-10,5-20"),),
    ),
    Case(
        "file-open-range",
        "GET",
        "/file",
        206,
        {"content-range": ["bytes 65530-65535/65536"]},
        PAYLOAD[65530:],
        request_headers=(("range", "bytes=65530-"),),
    ),
    Case(
        "file-malformed-range-400",
        "GET",
        "/file",
        400,
        {},
        b"Range header: range must be requested",
        request_headers=(("range", "bytes=abc"),),
    ),
    Case(
        "file-range-unit-400",
        "GET",
        "/file",
        400,
        {},
        b"Only support bytes range",
        request_headers=(("range", "items=0-3"),),
    ),
    Case(
        "file-reversed-range-400",
        "GET",
        "/file",
        400,
        {},
        b"Range header: start must be less than end",
        request_headers=(("range", "bytes=9-3"),),
    ),
    Case(
        "file-if-range-current",
        "GET",
        "/file",
        206,
        {"content-range": ["bytes 0-3/65536"]},
        PAYLOAD[:4],
        request_headers=(("range", "bytes=0-3"), ("if-range", ETAG)),
    ),
    Case(
        "file-if-range-stale",
        "GET",
        "/file",
        200,
        {"content-length": ["65536"], "content-range": []},
        PAYLOAD,
        request_headers=(("range", "bytes=0-3"), ("if-range", '"stale"')),
    ),
    Case(
        "chunked-body-within-limit",
        "POST",
        "/limited",
        200,
        {},
        b"received 1000 bytes",
        request_headers=(("content-type", "application/octet-stream"),),
        content=b"c" * 1000,
        chunked=True,
    ),
    Case(
        "chunked-body-over-limit-413",
        "POST",
        "/limited",
        413,
        {},
        b"Content Too Large",
        request_headers=(("content-type", "application/octet-stream"),),
        content=b"c" * 1025,
        chunked=True,
    ),
    Case(
        "too-many-fields-400",
        "POST",
        "/form",
        400,
        {},
        b"Too many fields. Maximum number of fields is 1000.",
        request_headers=URLENCODED,
        content=MANY_FIELDS,
    ),
    Case(
        "multipart-without-boundary-400",
        "POST",
        "/form",
        400,
        {},
        b"Missing boundary in multipart.",
        request_headers=(("content-type", "multipart/form-data"),),
        content=b"abc",
    ),
    Case(
        "form-of-another-media-type-is-empty",
        "POST",
        "/form",
        200,
        {},
        b'{"content_type":"text/plain","parts":[]}',
        request_headers=(("content-type", "text/plain"),),
        content=b"",
    ),
    Case(
        "json-not-utf8-400",
        "POST",
        "/echo-json",
        400,
        {},
        b"Body is not valid JSON",
        request_headers=(("content-type", JSON),),
        content=b"\xff\xfe\xfd",
    ),
    Case("redirect-slashes-keeps-query", "GET", "/plain/?a=1", 307, {"location": ["{base}/plain?a=1"]}, b""),
]
CASES += EDGE_CASES

INDEX_ETAG = '"68f9c47a22aedcbb4190eb90baab641d"'
CORS_ORIGIN: str = served.CORS_ORIGIN
BIG_TEXT = b"Tachyon " * 1000

# Middleware (GZip, CORS) in a mounted application, and StaticFiles.
MOUNT_CASES = [
    Case(
        "gzip-compressed",
        "GET",
        "/mw/big",
        200,
        {"content-encoding": ["gzip"], "vary": ["Accept-Encoding, Origin"], "content-type": [TEXT]},
        BIG_TEXT,
        request_headers=(("accept-encoding", "gzip"),),
    ),
    Case(
        "gzip-not-accepted",
        "GET",
        "/mw/big",
        200,
        {"content-encoding": [], "content-length": ["8000"]},
        BIG_TEXT,
        request_headers=(("accept-encoding", "identity"),),
    ),
    Case(
        "cors-preflight",
        "OPTIONS",
        "/mw/big",
        200,
        {
            "access-control-allow-origin": [CORS_ORIGIN],
            "access-control-allow-methods": ["GET, POST"],
            "access-control-allow-credentials": ["true"],
            "access-control-max-age": ["60"],
        },
        b"OK",
        request_headers=(
            ("origin", CORS_ORIGIN),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "X-Token"),
        ),
    ),
    Case(
        "cors-preflight-disallowed-400",
        "OPTIONS",
        "/mw/big",
        400,
        {"access-control-allow-origin": []},
        b"Disallowed CORS origin, method, headers",
        request_headers=(
            ("origin", "https://elsewhere.example"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "X-Other"),
        ),
    ),
    Case(
        "cors-simple-request-in-a-mount",
        "GET",
        "/mw/info",
        200,
        {"access-control-allow-origin": [CORS_ORIGIN], "access-control-expose-headers": ["x-exposed"]},
        b'{"root_path":"/mw","path":"/mw/info"}',
        request_headers=(("origin", CORS_ORIGIN),),
    ),
    Case(
        "static-html-index",
        "GET",
        "/static/",
        200,
        {"content-type": ["text/html; charset=utf-8"], "etag": [INDEX_ETAG]},
        b"<h1>Tachyon static</h1>\n",
    ),
    Case(
        "static-file",
        "GET",
        "/static/docs/notes.txt",
        200,
        {"content-type": [TEXT], "content-length": ["2600"]},
        b"static notes\n" * 200,
    ),
    Case(
        "static-not-modified-304",
        "GET",
        "/static/index.html",
        304,
        {"etag": [INDEX_ETAG], "content-length": []},
        b"",
        request_headers=(("if-none-match", INDEX_ETAG),),
    ),
    Case("static-missing-404", "GET", "/static/nothing.txt", 404, {}, b"Not Found"),
    Case("static-mount-without-slash", "GET", "/static", 307, {"location": ["{base}/static/"]}, b""),
    Case("static-post-405", "POST", "/static/index.html", 405, {}, b"Method Not Allowed"),
]
CASES += MOUNT_CASES
CASE_IDS = [case.id for case in CASES]


# ------------------------------------------------------------------------------------------------- drivers


def via_httpx(client: httpx.Client, case: Case) -> Observation:
    """One request with httpx: over TCP, or in process when ``client`` is a TestClient (an httpx.Client)."""
    client.cookies.clear()
    kwargs: dict[str, Any] = {"headers": list(case.request_headers), "follow_redirects": case.follow_redirects}
    if case.content is not None:
        # An iterator has no length, so httpx sends it chunked.
        kwargs["content"] = iter([case.content]) if case.chunked else case.content
    if case.files is not None:
        kwargs["files"] = [(name, (filename, data, ctype)) for name, filename, data, ctype in case.files]
        kwargs["data"] = dict(case.form or ())
    elif case.form is not None:
        # A list of pairs keeps repeated names; httpx encodes it as application/x-www-form-urlencoded.
        kwargs["content"] = str(httpx.QueryParams(list(case.form))).encode()
        kwargs["headers"].append(("content-type", "application/x-www-form-urlencoded"))
    response = client.request(case.method, case.path, **kwargs)
    return observe(response.status_code, response.headers.multi_items(), response.content)


def via_curl(base_url: str, case: Case, scratch: Path) -> Observation:
    curl = shutil.which("curl")
    assert curl is not None
    header_file, body_file = scratch / "headers.txt", scratch / "body.bin"
    command = [curl, "--silent", "--show-error", "--http1.1", "--max-time", str(IO_TIMEOUT)]
    command += ["--dump-header", str(header_file), "--output", str(body_file)]
    command += ["--head"] if case.method == "HEAD" else ["--request", case.method]
    if case.follow_redirects:
        command.append("--location")
    for name, value in case.request_headers:
        command += ["--header", f"{name}: {value}"]
    if case.content is not None:
        (scratch / "content.bin").write_bytes(case.content)
        command += ["--data-binary", f"@{scratch / 'content.bin'}"]
        if case.chunked:
            command += ["--header", "Transfer-Encoding: chunked"]
    if case.files is not None:
        for name, value in case.form or ():
            command += ["--form-string", f"{name}={value}"]
        for index, (name, filename, data, ctype) in enumerate(case.files):
            path = scratch / f"file{index}"
            path.write_bytes(data)
            command += ["--form", f"{name}=@{path};filename={filename};type={ctype}"]
    elif case.form is not None:
        # Large values go through files: a command-line argument is limited to 128 KiB on Linux.
        for index, (name, value) in enumerate(case.form):
            path = scratch / f"field{index}"
            path.write_text(value, encoding="utf-8")
            command += ["--data-urlencode", f"{name}@{path}"]
    command.append(base_url + case.path)
    completed = subprocess.run(command, capture_output=True, timeout=IO_TIMEOUT + 5, check=False)
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    # The dump holds one block per response (100 Continue, redirects); the last one is the answer.
    blocks = [block for block in header_file.read_bytes().decode("latin-1").split("\r\n\r\n") if block.strip()]
    status_line, *header_lines = blocks[-1].split("\r\n")
    headers = [(name, value.strip()) for name, _, value in (line.partition(":") for line in header_lines)]
    # curl creates no output file for an empty body.
    body = body_file.read_bytes() if case.method != "HEAD" and body_file.exists() else b""
    if any(name.lower() == "content-encoding" and value == "gzip" for name, value in headers):
        body = gzip.decompress(body)  # httpx decodes too; the comparison is on content
    return observe(int(status_line.split()[1]), headers, body)


# ------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def base_url(live_server: Callable[..., str]) -> str:
    return live_server(f"{APP_MODULE}:app", app_dir=APPS_DIR)


@pytest.fixture(scope="module")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=IO_TIMEOUT) as client:
        yield client


@pytest.fixture(scope="module")
def over_tcp(http: httpx.Client) -> Callable[[Case], Observation]:
    """httpx observations, made once per case and shared by the comparisons."""
    seen: dict[str, Observation] = {}

    def get(case: Case) -> Observation:
        if case.id not in seen:
            seen[case.id] = via_httpx(http, case)
        return seen[case.id]

    return get


def _uvicorn_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", f"{APP_MODULE}:app", "--host", processes.HOST, "--port", str(port),
        "--app-dir", str(APPS_DIR), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def starlette_server() -> Iterator[Any]:
    """The same application built on Starlette 1.10 itself, under the same uvicorn."""
    server = processes.ServerProcess.start(_uvicorn_command, env={served.FRAMEWORK_ENV: "starlette"})
    try:
        assert httpx.get(f"{server.base_url}/framework", timeout=IO_TIMEOUT).text == "starlette.requests"
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def starlette_over_tcp(starlette_server: Any) -> Iterator[Callable[[Case], Observation]]:
    with httpx.Client(base_url=starlette_server.base_url, timeout=IO_TIMEOUT) as client:
        yield lambda case: _relative(via_httpx(client, case), starlette_server.base_url)


def _relative(seen: Observation, base_url: str) -> Observation:
    # Absolute redirect targets name the server's own port.
    headers = tuple((name, value.replace(base_url, "{base}")) for name, value in seen.headers)
    return Observation(seen.status, headers, seen.body)


@pytest.fixture(scope="module", params=["asyncio", "trio"])
def in_process(request: pytest.FixtureRequest, base_url: str) -> Iterator[TestClient]:
    # The same base URL as the real server, so Host-derived values (redirect_slashes' Location) agree.
    with TestClient(served.app, base_url=base_url, backend=request.param) as client:
        yield client


@pytest.fixture(scope="module")
def require_curl() -> None:
    if shutil.which("curl") is None:
        if os.environ.get("CI"):
            pytest.fail("curl is required in CI (Debian package 'curl')")
        pytest.skip("curl is not installed (Debian package 'curl')")


# ---------------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_httpx_over_tcp_observes_the_expected_response(
    case: Case, over_tcp: Callable[[Case], Observation], base_url: str
) -> None:
    case.check(over_tcp(case), base_url)


@pytest.mark.usefixtures("require_curl")
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_curl_observes_the_same_response_as_httpx(
    case: Case, over_tcp: Callable[[Case], Observation], base_url: str, tmp_path: Path
) -> None:
    seen = via_curl(base_url, case, tmp_path)
    case.check(seen, base_url)
    assert seen == over_tcp(case)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_testclient_observes_the_same_response_as_a_real_server(
    case: Case, over_tcp: Callable[[Case], Observation], in_process: TestClient, base_url: str
) -> None:
    seen = via_httpx(in_process, case)
    case.check(seen, base_url)
    assert seen == over_tcp(case)


def test_the_real_server_runs_tachyon(http: httpx.Client) -> None:
    assert http.get("/framework").text == "tachyon_http.requests"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_tachyon_answers_over_the_wire_like_starlette(
    case: Case,
    over_tcp: Callable[[Case], Observation],
    starlette_over_tcp: Callable[[Case], Observation],
    base_url: str,
) -> None:
    assert _relative(over_tcp(case), base_url) == starlette_over_tcp(case)


def test_streaming_response_reaches_the_client_before_it_is_complete(base_url: str, http: httpx.Client) -> None:
    # The second chunk is only produced after the client has read the first one and released the stream
    # over a second connection: a server or framework buffering the whole body would time out here.
    token = uuid.uuid4().hex
    with httpx.Client(base_url=base_url, timeout=IO_TIMEOUT) as releaser:
        with http.stream("GET", "/stream/gated", params={"token": token}) as response:
            chunks = response.iter_raw()
            assert response.status_code == 200
            assert response.headers["transfer-encoding"] == "chunked"
            assert next(chunks) == b"first;"
            assert releaser.post("/stream/release", params={"token": token}).status_code == 204
            assert b"".join(chunks) == b"released"


# ------------------------------------------------------------------------------------- misbehaving clients


def _raw_connection(server: Any) -> socket.socket:
    return socket.create_connection((processes.HOST, server.port), timeout=IO_TIMEOUT)


def _misbehave(server: Any) -> None:
    """Clients that go away in the middle of things, and one that does not speak HTTP."""
    token = uuid.uuid4().hex
    with _raw_connection(server) as connection:  # leaves a streaming response after its first chunk
        connection.sendall(f"GET /stream/gated?token={token} HTTP/1.1\r\nHost: e2e\r\n\r\n".encode())
        assert connection.recv(64).startswith(b"HTTP/1.1 200 ")
    httpx.post(f"{server.base_url}/stream/release", params={"token": token}, timeout=IO_TIMEOUT)
    cut_off_uploads = [
        b"POST /form HTTP/1.1\r\nHost: e2e\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: 1000000\r\n\r\n--b\r\nContent-Disposition: form-data; name=f; filename=x\r\n\r\n"
        + b"x"
        * 50_000,
        b"POST /form HTTP/1.1\r\nHost: e2e\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 1000\r\n\r\na=1&b=",
        b'POST /echo-json HTTP/1.1\r\nHost: e2e\r\nContent-Length: 1000\r\n\r\n{"a":',
    ]
    for request in cut_off_uploads:
        started = _in_flight(server)["started"]
        with _raw_connection(server) as connection:
            connection.sendall(request)
            # the client vanishes once the application has started handling its request
            server.wait_for(
                lambda before=started: _in_flight(server)["started"] > before, "the application to take the upload"
            )
    with _raw_connection(server) as connection:  # leaves a file download after a few bytes
        connection.sendall(b"GET /file HTTP/1.1\r\nHost: e2e\r\n\r\n")
        assert connection.recv(16)
    with _raw_connection(server) as connection:
        connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert connection.recv(64).startswith(b"HTTP/1.1 400 ")


def _in_flight(server: Any) -> dict[str, int]:
    """The application's request counts (``RequestCounter`` of e2e_http_app)."""
    counts: dict[str, int] = httpx.get(f"{server.base_url}/in-flight", timeout=IO_TIMEOUT).json()
    return counts


def _settled_log(server: Any) -> str:
    """The server's log once every request is over (so every traceback of theirs is in it)."""
    server.wait_for(lambda: _in_flight(server)["active"] == 0, "every request to be over")
    log: str = server.log()
    return log


def _exception_names(log: str) -> list[str]:
    """The exception class of every traceback in a server log (its first unindented line after the frames)."""
    names: list[str] = []
    in_traceback = False
    for line in log.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            # Compare class names only: the module differs (tachyon_http.requests vs starlette.requests).
            names.append(line.split(":", 1)[0].rsplit(".", 1)[-1])
            in_traceback = False
    return sorted(names)


@pytest.fixture(scope="module")
def tachyon_server() -> Iterator[Any]:
    """A Tachyon server of this module's own, whose log the test reads."""
    server = processes.ServerProcess.start(_uvicorn_command)
    try:
        yield server
    finally:
        server.stop()


def test_clients_that_vanish_midway_are_handled_like_starlette(tachyon_server: Any, starlette_server: Any) -> None:
    logs = {}
    for name, server in (("tachyon", tachyon_server), ("starlette", starlette_server)):
        _misbehave(server)
        # The server is unharmed and keeps answering.
        assert httpx.get(f"{server.base_url}/plain", timeout=IO_TIMEOUT).text == "Hello, world!"
        logs[name] = _settled_log(server)
    # Whatever the reference logs for these clients (ClientDisconnect for bodies cut off), Tachyon logs the
    # same kinds of exceptions, the same number of times, and nothing else.
    assert _exception_names(logs["tachyon"]) == _exception_names(logs["starlette"]), logs["tachyon"]


def _raw_get(port: int, target: str) -> tuple[int, bytes]:
    """A request line exactly as given (clients normalise dot segments away), on a fresh connection."""
    with socket.create_connection((processes.HOST, port), timeout=IO_TIMEOUT) as connection:
        connection.sendall(f"GET {target} HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


TRAVERSALS = [
    "/static/../payload.bin",
    "/static/%2e%2e/payload.bin",
    "/static/..%2fpayload.bin",
    "/static/docs/../../payload.bin",
    "/static/docs/%2e%2e/%2e%2e/payload.bin",
    "/static/%2e%2e%2fpayload.bin",
    "/static/..\\payload.bin",
]


def test_static_files_do_not_serve_files_outside_their_directory(base_url: str, starlette_server: Any) -> None:
    # The file these paths aim at exists, one level above the static directory.
    assert (served.STATIC_DIR / ".." / "payload.bin").resolve().read_bytes() == PAYLOAD
    port = int(base_url.rsplit(":", 1)[1])
    answers = [_raw_get(port, target) for target in TRAVERSALS]
    assert all(status == 404 and PAYLOAD[:64] not in body for status, body in answers), answers
    assert answers == [_raw_get(starlette_server.port, target) for target in TRAVERSALS]
    assert _raw_get(port, "/static/docs/../index.html")[0] == 200  # dot segments inside the directory are fine


def test_keep_alive_connection_serves_many_requests_in_order(http: httpx.Client) -> None:
    bodies = [http.get(f"/users/{n}/posts/p{n}").json() for n in range(50)]
    assert bodies == [{"user_id": n, "type": "int", "slug": f"p{n}"} for n in range(50)]
