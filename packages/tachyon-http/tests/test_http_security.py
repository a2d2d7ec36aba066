"""Regression tests for published attacks on Starlette-style request handling (see SECURITY-REFERENCE.md)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from tempfile import SpooledTemporaryFile
from typing import Any
from unittest import mock

import pytest
from tachyon_http._utils import parse_host_header
from tachyon_http.datastructures import URL, MutableHeaders, QueryParams
from tachyon_http.exceptions import HTTPException
from tachyon_http.formparsers import MultiPartParser, parse_options_header
from tachyon_http.requests import Request, cookie_parser

MakeRequest = Callable[..., Request]

APP = object()  # marks the scope as "inside an application": form errors become HTTP 400


def _multipart(body: bytes | list[bytes], make_request: MakeRequest, content_type: bytes | None = None) -> Request:
    header = content_type if content_type is not None else b"multipart/form-data; boundary=B"
    return make_request(body, headers=[(b"content-type", header)], app=APP)


async def _expect_400(request: Request, detail: str | None = None, **limits: Any) -> None:
    with pytest.raises(HTTPException) as caught:
        await request.form(**limits)
    assert caught.value.status_code == 400
    if detail is not None:
        assert caught.value.detail == detail


def _linear_time(build: Callable[[int], Any], run: Callable[[Any], Any], size: int = 20_000) -> None:
    """Running on an input 8x larger must take well under 64x longer (quadratic) — and finish fast."""

    def measure(n: int) -> float:
        # Best of five, so a busy machine does not make a linear parser look quadratic.
        payload = build(n)
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            run(payload)
            best = min(best, time.perf_counter() - start)
        return best

    # A quadratic algorithm is 64x slower at every attempt; scheduling noise on a shared machine is not, so
    # one good attempt out of three is enough.
    ratios = []
    for _ in range(3):
        small = max(measure(size), 1e-4)
        large = measure(size * 8)
        assert large < 1.0
        ratios.append(large / small)
        if ratios[-1] < 32:
            return
    raise AssertionError(f"time grows faster than linearly: 8x input took {ratios} times longer")


# --- CVE-2024-24762: Content-Type parsing in linear time ----------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda n: "multipart/form-data; " + "a=b; " * n,
        lambda n: 'multipart/form-data; boundary="' + "\\" * n,
        lambda n: "multipart/form-data" + ";" * n + "x",
        lambda n: 'multipart/form-data; a="' + '\\"' * n + '"',
        lambda n: "multipart/form-data; " + " " * n + "=",
    ],
    ids=["many-params", "backslashes", "semicolons", "escaped-quotes", "spaces"],
)
def test_content_type_parsing_is_linear(build: Callable[[int], str]) -> None:
    _linear_time(build, parse_options_header)


@pytest.mark.anyio
async def test_crafted_content_type_header_on_a_request_is_fast(make_request: MakeRequest) -> None:
    header = b"application/x-www-form-urlencoded; " + b'x="\\' * 100_000
    request = make_request(b"a=1", headers=[(b"content-type", header)], app=APP)
    start = time.perf_counter()
    form = await request.form()
    assert time.perf_counter() - start < 1.0
    assert form["a"] == "1"


# --- CVE-2023-30798 / CVE-2026-54283: field and file counts -------------------------------------------------------


@pytest.mark.anyio
async def test_too_many_multipart_fields_is_400(make_request: MakeRequest) -> None:
    body = b"".join(b'--B\r\nContent-Disposition: form-data; name="N%d"\r\n\r\n\r\n' % i for i in range(1001))
    await _expect_400(_multipart(body, make_request), "Too many fields. Maximum number of fields is 1000.")


@pytest.mark.anyio
async def test_too_many_multipart_files_is_400(make_request: MakeRequest) -> None:
    part = b'--B\r\nContent-Disposition: form-data; name="f"; filename="f%d"\r\n\r\n\r\n'
    body = b"".join(part % i for i in range(1001))
    await _expect_400(_multipart(body, make_request), "Too many files. Maximum number of files is 1000.")


@pytest.mark.anyio
async def test_too_many_urlencoded_fields_in_one_chunk_is_400(make_request: MakeRequest) -> None:
    body = b"&".join(b"k%d=" % i for i in range(50_000))
    request = make_request(body, headers=[(b"content-type", b"application/x-www-form-urlencoded")], app=APP)
    await _expect_400(request, "Too many fields. Maximum number of fields is 1000.")


# --- CVE-2024-47874 / CVE-2026-54283: part sizes ------------------------------------------------------------------


@pytest.mark.anyio
async def test_oversized_text_part_is_400_before_it_is_buffered(make_request: MakeRequest) -> None:
    body = b'--B\r\nContent-Disposition: form-data; name="t"\r\n\r\n' + b"x" * (4 * 1024 * 1024) + b"\r\n--B--\r\n"
    await _expect_400(_multipart(body, make_request), "Part exceeded maximum size of 1024KB.")


@pytest.mark.anyio
async def test_oversized_urlencoded_value_is_400(make_request: MakeRequest) -> None:
    body = b"v=" + b"x" * (1024 * 1024 + 1)
    request = make_request(body, headers=[(b"content-type", b"application/x-www-form-urlencoded")], app=APP)
    await _expect_400(request, "Field exceeded maximum size of 1024KB.")


@pytest.mark.anyio
async def test_huge_field_name_in_part_headers_is_400(make_request: MakeRequest) -> None:
    body = b'--B\r\nContent-Disposition: form-data; name="' + b"n" * 100_000 + b'"\r\n\r\nv\r\n--B--\r\n'
    await _expect_400(_multipart(body, make_request), "Invalid multipart data.")


@pytest.mark.anyio
async def test_part_header_line_without_end_is_400_not_buffered_forever(make_request: MakeRequest) -> None:
    chunks = [b"--B\r\nContent-Disposition: form-data; name=x"] + [b"y" * 10_000] * 10
    await _expect_400(_multipart(chunks, make_request), "Invalid multipart data.")


@pytest.mark.anyio
async def test_too_many_part_headers_is_400(make_request: MakeRequest) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(9))
    body = b'--B\r\nContent-Disposition: form-data; name="f"\r\n' + headers + b"\r\nv\r\n--B--\r\n"
    await _expect_400(_multipart(body, make_request), "Invalid multipart data.")


# --- CVE-2025-54121: uploads that reach disk are written off the event loop ---------------------------------------


@pytest.mark.anyio
async def test_upload_rollover_happens_in_a_worker_thread(make_request: MakeRequest) -> None:
    threads: set[int] = set()

    class Tracking(SpooledTemporaryFile):  # type: ignore[type-arg]
        def rollover(self) -> None:
            threads.add(threading.get_ident())
            super().rollover()

    size = MultiPartParser.spool_max_size * 2
    body = b'--B\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\n' + b"\0" * size + b"\r\n--B--\r\n"
    with mock.patch("tachyon_http.formparsers.SpooledTemporaryFile", Tracking):
        request = _multipart([body[i : i + 65536] for i in range(0, len(body), 65536)], make_request)
        async with request.form() as form:
            assert form["f"].size == size  # type: ignore[union-attr]
    assert threads and threading.get_ident() not in threads


# --- broken multipart bodies --------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content_type", "body", "detail"),
    [
        (b"multipart/form-data", b"--B--\r\n", "Missing boundary in multipart."),
        (b"multipart/form-data; boundary=", b"--\r\n", "Invalid multipart data."),
        (b"multipart/form-data; boundary=" + b"X" * 257, b"--" + b"X" * 257 + b"--\r\n", "Invalid multipart data."),
        (None, b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\ntrunc', "Invalid multipart data."),
        (None, b'--B\r\nContent-Disposition: form-data; name="a"\r\n', "Invalid multipart data."),
        (None, b'--B\nContent-Disposition: form-data; name="a"\n\nv\n--B--\n', "Invalid multipart data."),
        (None, b"--B\r\nno colon here\r\n\r\nv\r\n--B--\r\n", "Invalid multipart data."),
        (None, b"--B\r\nContent-Type: text/plain\r\n\r\nv\r\n--B--\r\n", None),
        (None, b"--Bxyz\r\n", "Invalid multipart data."),
        (None, b"garbage before" + b"--B\r\n", "Invalid multipart data."),
        (None, b'--B\r\nContent-Disposition: form-data; name="a"\r\nContent-Length: 9\r\n\r\nv\r\n--B--\r\n', None),
    ],
    ids=[
        "no-boundary",
        "empty-boundary",
        "boundary-too-long",
        "truncated-body",
        "truncated-headers",
        "bare-lf",
        "malformed-header",
        "no-content-disposition",
        "bad-delimiter",
        "preamble-without-crlf",
        "content-length-mismatch",
    ],
)
async def test_broken_multipart_is_400(
    make_request: MakeRequest, content_type: bytes | None, body: bytes, detail: str | None
) -> None:
    await _expect_400(_multipart(body, make_request, content_type), detail)


# --- CVE-2026-48710 / CVE-2026-54282: the request URL -------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        b"evil.com/?",
        b"evil.com#",
        b"evil.com/path",
        b"user@evil.com",
        b"evil\\com",
        b"a b",
        b"h:99999",
        b"[:::]",
        b"h:1:2",
        b"",
        b"[::1",
        b"evil.com\r\nx: y",
        "ü.de".encode(),
    ],
)
def test_malformed_host_headers_are_ignored(host: bytes) -> None:
    scope = {
        "type": "http",
        "scheme": "https",
        "server": ("real.example", 443),
        "path": "/p",
        "query_string": b"",
        "headers": [(b"host", host)],
    }
    url = URL(scope=scope)
    assert url.netloc == "real.example" and url.path == "/p"


@pytest.mark.parametrize(
    ("host", "netloc"),
    [
        (b"Example.COM", "Example.COM"),
        (b"example.com:8080", "example.com:8080"),
        (b"[::1]:80", "[::1]:80"),
        (b"127.0.0.1", "127.0.0.1"),
        (b"[v7.a:b]", "[v7.a:b]"),
    ],
)
def test_valid_host_headers_are_used(host: bytes, netloc: str) -> None:
    scope = {"type": "http", "path": "/", "query_string": b"", "headers": [(b"host", host)], "server": ("s", 80)}
    assert URL(scope=scope).netloc == netloc


def test_host_validation_is_linear() -> None:
    _linear_time(lambda n: "a" * n + "/", parse_host_header)
    _linear_time(lambda n: "[" + "0:" * n, parse_host_header)


@pytest.mark.parametrize(
    ("path", "expected_path"),
    [
        ("/a?b", "/a%3Fb"),
        ("/a#b", "/a%23b"),
        ("/\\evil.com", "/%5Cevil.com"),
        ("//evil.com", "//evil.com"),
        ("@evil.com", "/@evil.com"),
        ("http://evil.com/", "/http://evil.com/"),
    ],
)
def test_path_cannot_change_the_url_structure(path: str, expected_path: str) -> None:
    scope = {"type": "http", "path": path, "query_string": b"q=1", "headers": [(b"host", b"good.example")]}
    url = URL(scope=scope)
    assert (url.hostname, url.path, url.query, url.fragment) == ("good.example", expected_path, "q=1", "")


def test_path_with_leading_double_slash_and_no_host_stays_a_path() -> None:
    url = URL(scope={"type": "http", "path": "//evil.com/x", "query_string": b"", "headers": []})
    assert url.netloc == "" and url.path == "/%2Fevil.com/x"


# --- other hostile input ------------------------------------------------------------------------------------------


def test_query_strings_with_invalid_encoding_do_not_fail() -> None:
    params = QueryParams(b"a=%zz&b=%&c=\xff\xfe&d=%E9")
    assert params["a"] == "%zz" and params["b"] == "%" and params["c"] == "\xff\xfe" and params["d"] == "\ufffd"
    url = URL(scope={"type": "http", "path": "/", "query_string": b"c=\xff", "headers": [(b"host", b"h")]})
    assert url.query == "c=%FF"


@pytest.mark.anyio
async def test_urlencoded_form_with_invalid_percent_encoding(make_request: MakeRequest) -> None:
    request = make_request(b"a=%zz&b=%&%%=x", headers=[(b"content-type", b"application/x-www-form-urlencoded")])
    assert (await request.form()).multi_items() == [("a", "%zz"), ("b", "%"), ("%%", "x")]


@pytest.mark.anyio
@pytest.mark.parametrize("body", [b"{", b"not json", b'{"a": 1,}', b"\xff\xfe\xfd", b"[" * 100_000])
async def test_invalid_json_raises_a_value_error(make_request: MakeRequest, body: bytes) -> None:
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError, RecursionError)):
        await make_request(body).json()


def test_cookie_parsing_of_hostile_values_is_linear() -> None:
    _linear_time(lambda n: 'a="' + "\\" * n + '"', cookie_parser)
    _linear_time(lambda n: "; ".join(f"c{i}=v" for i in range(n // 10)), cookie_parser)


@pytest.mark.parametrize("header", ['a="\\', "=;=;=", '"', "\x00=\x01", "a=\udcff", ";" * 1000])
def test_cookie_parser_never_raises(header: str) -> None:
    assert isinstance(cookie_parser(header), dict)


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\0b"])
def test_mutable_headers_reject_response_splitting(value: str) -> None:
    headers = MutableHeaders()
    with pytest.raises(ValueError, match="forbidden character"):
        headers["x-test"] = value
    with pytest.raises(ValueError, match="forbidden character"):
        headers.append("x-test", value)
    with pytest.raises(ValueError, match="forbidden character"):
        headers.setdefault("x-test", value)
    with pytest.raises(ValueError, match="forbidden character"):
        headers[f"x{value}"] = "v"
    assert headers.raw == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content_type", "outcome"),
    [
        (b"multipart/form-data; boundary", 400),  # empty boundary
        (b'multipart/form-data; boundary="unterminated', 400),  # boundary does not match the body
        (b"multipart/form-data; boundary=a\\b; boundary=", 400),  # the last (empty) boundary wins
        (b"multipart/form-data;;;;", 400),  # no boundary at all
        (b"multipart/form-data; charset=\xff\xfe; boundary=B", "1"),  # unknown charset: latin-1
        (b"multipart/form-data; boundary=B; charset=" + b"x" * 10_000, "1"),
        (b"MULTIPART/FORM-DATA; BOUNDARY=B", "1"),  # names are case-insensitive
    ],
)
async def test_malformed_multipart_content_types_never_crash(
    make_request: MakeRequest, content_type: bytes, outcome: int | str
) -> None:
    body = b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--B--\r\n'
    request = _multipart(body, make_request, content_type)
    if outcome == 400:
        await _expect_400(request)
    else:
        assert (await request.form())["a"] == outcome


@pytest.mark.anyio
@pytest.mark.parametrize(
    "content_type", [b"application/x-www-form-urlencoded;", b"application/x-www-form-urlencoded ; charset=\xff"]
)
async def test_urlencoded_content_type_parameters_are_ignored(make_request: MakeRequest, content_type: bytes) -> None:
    request = make_request(b"a=1", headers=[(b"content-type", content_type)], app=APP)
    assert (await request.form())["a"] == "1"
