"""Property tests: Tachyon's responses against the real Starlette 1.10.0 (installed in the dev environment).

Range headers, Set-Cookie values, multipart/byteranges framing, JSON bodies and whole ASGI exchanges are
generated at random and must give the same result (or the same exception) on both.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from array import array
from pathlib import Path
from typing import Any

import anyio
import pytest
import starlette
import starlette.responses as reference
from hypothesis import HealthCheck, given, settings, strategies as st
from tachyon_http import responses
from tachyon_http._ranges import MalformedRangeHeader, RangeNotSatisfiable
from tachyon_http.types import Message, Scope


def test_the_reference_is_the_real_starlette() -> None:
    assert starlette.__version__ == "1.10.0"
    assert reference.Response is not responses.Response  # type: ignore[comparison-overlap]
    assert "site-packages" in (reference.__file__ or "")


def range_outcome(parse: Any, header: str, size: int) -> tuple[str, Any]:
    try:
        return ("ranges", parse(header, size))
    except (MalformedRangeHeader, reference.MalformedRangeHeader) as exc:
        return ("400", exc.content)
    except (RangeNotSatisfiable, reference.RangeNotSatisfiable) as exc:
        return ("416", exc.max_size)


range_part = st.one_of(
    st.tuples(st.integers(0, 1200), st.just("-"), st.integers(0, 1200)).map(lambda p: f"{p[0]}-{p[2]}"),
    st.integers(0, 1200).map(lambda n: f"{n}-"),
    st.integers(0, 1200).map(lambda n: f"-{n}"),
    st.text(alphabet="0123456789- _+abc\t", max_size=8),
)
range_header = st.one_of(
    st.builds(
        lambda unit, sep, parts, joiner: unit + sep + joiner.join(parts),
        st.sampled_from(["bytes", "BYTES", " bytes ", "items", ""]),
        st.sampled_from(["=", "= ", ":", ""]),
        st.lists(range_part, max_size=12),
        st.sampled_from([",", ", ", " , "]),
    ),
    st.text(max_size=30),
)


@settings(max_examples=400, deadline=None)
@given(header=range_header, size=st.integers(0, 1100))
def test_range_parsing_matches_starlette(header: str, size: int) -> None:
    ours = range_outcome(responses.FileResponse._parse_range_header, header, size)
    theirs = range_outcome(reference.FileResponse._parse_range_header, header, size)
    assert ours == theirs


@settings(max_examples=50, deadline=None)
@given(count=st.integers(95, 105), size=st.integers(1, 10_000))
def test_the_range_count_limit_matches_starlette(count: int, size: int) -> None:
    header = "bytes=" + ",".join(f"{index * 3}-{index * 3 + 1}" for index in range(count))
    ours = range_outcome(responses.FileResponse._parse_range_header, header, size)
    assert ours == range_outcome(reference.FileResponse._parse_range_header, header, size)


@settings(max_examples=100, deadline=None)
@given(
    ranges=st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 10**6)), min_size=1, max_size=5),
    boundary=st.text(alphabet="0123456789abcdef", min_size=1, max_size=26),
    content_type=st.sampled_from(["text/plain; charset=utf-8", "application/octet-stream", "image/png"]),
)
def test_multipart_framing_matches_starlette(
    tmp_path_factory: pytest.TempPathFactory, ranges: list[tuple[int, int]], boundary: str, content_type: str
) -> None:
    spans = [(start, start + length) for start, length in ranges]
    size = max(end for _, end in spans) + 7
    ours = responses.FileResponse(__file__, stat_result=os.stat(__file__))
    theirs = reference.FileResponse(__file__, stat_result=os.stat(__file__))
    our_length, our_header = ours.generate_multipart(spans, boundary, size, content_type)
    their_length, their_header = theirs.generate_multipart(spans, boundary, size, content_type)
    assert our_length == their_length
    assert [our_header(*span) for span in spans] == [their_header(*span) for span in spans]


FROZEN_NOW = dt.datetime(2037, 1, 22, 12, 0, 0, tzinfo=dt.UTC)
attribute_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=16)


def cookie_outcome(response_class: Any, kwargs: dict[str, Any]) -> tuple[str, Any]:
    response = response_class()
    try:
        response.set_cookie(**kwargs)
    except Exception as exc:  # the type is compared, CR/LF handling aside (see the cookie tests)
        return ("error", type(exc).__name__)
    return ("ok", response.raw_headers[-1])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.one_of(st.text(alphabet="abcXYZ019!#$%&'*+-.^_`|~:", min_size=1, max_size=8), st.text(max_size=4)),
    value=st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=16),
    max_age=st.one_of(st.none(), st.integers(-(10**6), 10**9), attribute_text),
    expires=st.one_of(
        st.none(),
        st.integers(-(10**8), 10**8),
        attribute_text,
        st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)),
    ),
    path=st.one_of(st.none(), attribute_text),
    domain=st.one_of(st.none(), attribute_text),
    secure=st.booleans(),
    httponly=st.booleans(),
    samesite=st.sampled_from([None, "lax", "strict", "none", "Lax", "", "bogus"]),
)
def test_set_cookie_matches_starlette(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> None:
    monkeypatch.setattr(time, "time", lambda: FROZEN_NOW.timestamp())
    ours = cookie_outcome(responses.Response, kwargs)
    theirs = cookie_outcome(reference.Response, kwargs)
    if theirs[0] == "error" and theirs[1] == "AssertionError":
        assert ours == ("error", "InvalidSameSite")  # a ValueError that is also an AssertionError
    else:
        assert ours == theirs


json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**66), max_value=2**66), st.floats(), st.text(max_size=8)
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=12),
        st.dictionaries(st.one_of(st.text(max_size=6), st.integers(), st.booleans(), st.none()), children, max_size=6),
    ),
    max_leaves=40,
)


def json_outcome(response_class: Any, content: Any) -> tuple[str, Any, Any]:
    try:
        response = response_class(content)
    except Exception as exc:
        return ("error", type(exc), str(exc))
    return ("ok", response.body, response.raw_headers)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_json_response_matches_starlette(content: Any) -> None:
    assert json_outcome(responses.JSONResponse, content) == json_outcome(reference.JSONResponse, content)


async def exchange(app: Any, scope: Scope) -> list[Message]:
    messages: list[Message] = []

    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, send)
    return messages


def normalised(messages: list[Message]) -> list[Any]:
    # Multipart boundaries are random: replace the boundary everywhere, compare everything else.
    boundary: bytes | None = None
    for message in messages:
        if message["type"] == "http.response.start":
            content_type = dict(message["headers"]).get(b"content-type", b"")
            if content_type.startswith(b"multipart/byteranges; boundary="):
                boundary = content_type.split(b"=", 1)[1]

    def scrub(data: bytes) -> bytes:
        return data if boundary is None else data.replace(boundary, b"BOUNDARY")

    result: list[Any] = []
    for message in messages:
        if message["type"] == "http.response.start":
            result.append((message["status"], [(name, scrub(value)) for name, value in message["headers"]]))
        else:
            result.append({**message, "body": scrub(message.get("body", b""))})
    return result


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "sample.txt"
    path.write_bytes(bytes(range(256)) * 700)  # 175 KiB: several 64 KiB chunks
    return path


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"range", b"bytes=0-99")],
        [(b"range", b"bytes=-100")],
        [(b"range", b"bytes=100000-")],
        [(b"range", b"bytes=0-9,50-59,55-70")],
        [(b"range", b"bytes=0-70000,100000-170000")],
        [(b"range", b"bytes=999999-")],
        [(b"range", b"bytes=5-1")],
        [(b"range", b"items=0-1")],
        [(b"range", b"bytes=0-1"), (b"if-range", b'"nope"')],
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
@pytest.mark.anyio
async def test_file_exchanges_match_starlette(
    sample_file: Path, headers: list[tuple[bytes, bytes]], method: str, spec_version: str
) -> None:
    scope: Scope = {"type": "http", "method": method, "headers": headers, "asgi": {"spec_version": spec_version}}
    ours = await exchange(responses.FileResponse(sample_file, filename="sample.txt"), dict(scope))
    theirs = await exchange(reference.FileResponse(sample_file, filename="sample.txt"), dict(scope))
    assert normalised(ours) == normalised(theirs)


@pytest.mark.parametrize("chunk_size", [1, 7, 4096])
@pytest.mark.parametrize("range_header", [b"bytes=0-9,50-59,55-70", b"bytes=0-5000,170000-", b"bytes=-3,0-0"])
@pytest.mark.anyio
async def test_multi_range_exchanges_with_small_chunks_match_starlette(
    sample_file: Path, chunk_size: int, range_header: bytes
) -> None:
    # Every range must be cut into the same chunk_size messages, whether read in one round trip or streamed.
    scope: Scope = {"type": "http", "method": "GET", "headers": [(b"range", range_header)], "asgi": {}}
    ours_class = type("SmallChunks", (responses.FileResponse,), {"chunk_size": chunk_size})
    theirs_class = type("SmallChunks", (reference.FileResponse,), {"chunk_size": chunk_size})
    ours = await exchange(ours_class(sample_file), dict(scope))
    theirs = await exchange(theirs_class(sample_file), dict(scope))
    assert normalised(ours) == normalised(theirs)
    assert len(ours) > 3


@pytest.mark.parametrize(
    "build",
    [
        lambda m: m.Response(),
        lambda m: m.Response("text", status_code=404, media_type="text/plain"),
        lambda m: m.Response(b"x", status_code=304, headers={"ETag": '"1"'}),
        lambda m: m.HTMLResponse("<p>hi</p>", headers={"Cache-Control": "no-store"}),
        lambda m: m.PlainTextResponse("hi", media_type="text/plain; charset=latin-1"),
        lambda m: m.JSONResponse({"a": [1, 2.5, None, "é"]}, status_code=201),
        lambda m: m.JSONResponse(None, status_code=204),
        lambda m: m.RedirectResponse("/a b?c=d#e", headers={"Location": "/x", "X": "1"}),
        lambda m: m.StreamingResponse(iter([b"a", "b"]), media_type="text/plain"),
    ],
)
@pytest.mark.anyio
async def test_response_exchanges_match_starlette(build: Any) -> None:
    scope: Scope = {"type": "http", "method": "GET", "headers": [], "asgi": {"spec_version": "2.4"}}
    assert await exchange(build(responses), dict(scope)) == await exchange(build(reference), dict(scope))


# --- construction: body and header block --------------------------------------------------------------------


class TachyonLatin1Text(responses.PlainTextResponse):
    charset = "latin-1"


class StarletteLatin1Text(reference.PlainTextResponse):
    charset = "latin-1"


class TachyonUpperUtf8Text(responses.PlainTextResponse):
    charset = "UTF-8"


class StarletteUpperUtf8Text(reference.PlainTextResponse):
    charset = "UTF-8"


def _render_choosing_the_type(self: Any, content: Any) -> bytes:
    # A render() that decides the media type and charset: the header block must see what it set.
    self.media_type = "text/csv"
    self.charset = "latin-1"
    return bytes(content) if isinstance(content, (bytes, memoryview)) else str(content).encode("latin-1", "replace")


TachyonTypedByRender = type("TachyonTypedByRender", (responses.Response,), {"render": _render_choosing_the_type})
StarletteTypedByRender = type("StarletteTypedByRender", (reference.Response,), {"render": _render_choosing_the_type})


def _init_marking(self: Any, *args: Any) -> None:
    self.marked = True
    super(type(self).__mro__[2], self).__init__(*args)


# JSONResponse first, then another Response subclass with its own __init__: JSONResponse's super() call reaches it.
TachyonMarking = type("TachyonMarking", (responses.Response,), {"__init__": _init_marking})
StarletteMarking = type("StarletteMarking", (reference.Response,), {"__init__": _init_marking})
TachyonJSONDiamond = type("TachyonJSONDiamond", (responses.JSONResponse, TachyonMarking), {})
StarletteJSONDiamond = type("StarletteJSONDiamond", (reference.JSONResponse, StarletteMarking), {})


RESPONSE_CLASS_PAIRS = [
    (responses.Response, reference.Response),
    (responses.PlainTextResponse, reference.PlainTextResponse),
    (responses.HTMLResponse, reference.HTMLResponse),
    (TachyonLatin1Text, StarletteLatin1Text),
    (TachyonUpperUtf8Text, StarletteUpperUtf8Text),
    (TachyonTypedByRender, StarletteTypedByRender),
]

response_content = st.one_of(
    st.none(),
    st.binary(max_size=1100),
    st.text(max_size=40),
    st.binary(max_size=64).map(memoryview),
    st.lists(st.integers(0, 2**31 - 1), max_size=4).map(lambda items: memoryview(array("i", items))),
    st.binary(min_size=4, max_size=64).map(lambda raw: memoryview(raw)[::2]),
    # Lone surrogates: no charset encodes them.
    st.text(st.characters(categories=["Cs", "Ll"]), max_size=4),
)


def construction_outcome(response_class: Any, *args: Any) -> tuple[Any, ...]:
    try:
        response = response_class(*args)
    except Exception as exc:  # the exception type is part of the contract
        return ("error", type(exc).__name__)
    return ("ok", bytes(response.body), response.raw_headers, response.status_code, response.media_type)


@settings(max_examples=400, deadline=None)
@given(
    classes=st.sampled_from(RESPONSE_CLASS_PAIRS),
    content=response_content,
    status_code=st.sampled_from([200, 201, 204, 206, 304, 100, 101, 199, 404, 500, 0, -1]),
    headers=st.none()
    | st.dictionaries(
        st.sampled_from(["X-A", "content-length", "Content-Type", "x-b"]),
        st.text(alphabet="abc 0123456789/;=", max_size=8),
    ),
    media_type=st.sampled_from([None, "text/plain", "text/csv; charset=latin-1", "application/json", "TEXT/HTML"]),
)
def test_response_construction_matches_starlette(
    classes: tuple[Any, Any], content: Any, status_code: int, headers: dict[str, str] | None, media_type: str | None
) -> None:
    ours, theirs = classes
    args = (content, status_code, headers, media_type)
    assert construction_outcome(ours, *args) == construction_outcome(theirs, *args)


@pytest.mark.parametrize("content", [{"a": 1}, None, [1.5, "é"]])
def test_a_json_response_subclass_reaches_the_next_init_in_its_method_order_as_in_starlette(content: Any) -> None:
    ours = TachyonJSONDiamond(content, 201)
    theirs = StarletteJSONDiamond(content, 201)
    assert ours.marked and theirs.marked
    assert construction_outcome(TachyonJSONDiamond, content) == construction_outcome(StarletteJSONDiamond, content)
    assert (ours.body, ours.raw_headers, ours.status_code) == (theirs.body, theirs.raw_headers, theirs.status_code)


def test_small_bodies_share_the_prerendered_content_length_pair_and_large_ones_render_it() -> None:
    for size in (0, 1, 1023, 1024, 70_000):
        raw = responses.Response(b"x" * size).raw_headers
        assert raw == [(b"content-length", str(size).encode())]
        assert raw is not responses.Response(b"x" * size).raw_headers  # every response owns its list
