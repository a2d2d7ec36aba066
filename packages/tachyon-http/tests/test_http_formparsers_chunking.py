"""Form parsing gives the same result (or the same error) however the body is cut into chunks.

The parsers take shortcuts for whole chunks (urlencoded fields completed inside one chunk, multipart body
chunks without any CR); cutting the same body into single bytes takes the general path every time, so
comparing the two pins the shortcuts to it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

import multipart  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings, strategies as st
from tachyon_http.datastructures import Headers, UploadFile
from tachyon_http.formparsers import FormParser, MultiPartException, MultiPartParser

URLENCODED = Headers({"content-type": "application/x-www-form-urlencoded"})
MULTIPART = Headers({"content-type": "multipart/form-data; boundary=xyB"})


async def _chunks(chunks: Sequence[bytes]) -> AsyncGenerator[bytes, None]:
    for chunk in chunks:
        yield chunk


def _cut(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[start:end] for start, end in zip(points, points[1:], strict=False)]


async def _urlencoded(chunks: Sequence[bytes], **limits: Any) -> Any:
    try:
        form = await FormParser(URLENCODED, _chunks(chunks), **limits).parse()
    except MultiPartException as error:
        return ("error", error.message)
    return list(form.multi_items())


async def _multipart(chunks: Sequence[bytes]) -> Any:
    try:
        form = await MultiPartParser(MULTIPART, _chunks(chunks), max_part_size=64).parse()
    except MultiPartException as error:
        return ("error", error.message)
    result = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            result.append((name, value.filename, await value.read()))
            await value.close()
        else:
            result.append((name, value))
    return result


_FIELD_BYTES = st.binary(max_size=12).map(lambda raw: raw.replace(b"&", b"%26"))
_URLENCODED_BODIES = st.lists(
    st.one_of(
        st.tuples(_FIELD_BYTES, _FIELD_BYTES).map(lambda pair: pair[0] + b"=" + pair[1]),
        _FIELD_BYTES,  # a field without "="
        st.sampled_from([b"", b"=", b"a+b=%41%2", b"==", b"k=v=w"]),
    ),
    max_size=8,
).map(b"&".join)


@pytest.mark.anyio
@settings(max_examples=60, deadline=None)
@given(body=_URLENCODED_BODIES, cuts=st.lists(st.integers(min_value=0), max_size=4), limit=st.integers(4, 40))
async def test_urlencoded_any_chunking_matches_byte_by_byte(body: bytes, cuts: list[int], limit: int) -> None:
    limits = {"max_part_size": limit, "max_fields": 5}
    expected = await _urlencoded([body[i : i + 1] for i in range(len(body))], **limits)
    assert await _urlencoded(_cut(body, cuts), **limits) == expected
    assert await _urlencoded([body], **limits) == expected


def _part(name: str, content: bytes, filename: str | None = None) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    return b"--xyB\r\n" + disposition.encode() + b"\r\n\r\n" + content + b"\r\n"


# Contents rich in the delimiter's own bytes, with and without CR, so that chunks often hold a partial delimiter.
_CONTENT = st.lists(
    st.sampled_from([b"x", b"y", b"B", b"-", b"\r", b"\n", b"\r\n--xy", b"--xyB", b"z" * 20]), max_size=12
)


@pytest.mark.anyio
@settings(max_examples=60, deadline=None)
@given(
    contents=st.lists(st.tuples(_CONTENT.map(b"".join), st.booleans()), min_size=1, max_size=3),
    cuts=st.lists(st.integers(min_value=0), max_size=5),
    ending=st.sampled_from([b"--xyB--\r\n", b"--xyB--", b"--xy", b""]),
)
async def test_multipart_any_chunking_matches_byte_by_byte(
    contents: list[tuple[bytes, bool]], cuts: list[int], ending: bytes
) -> None:
    body = b"".join(
        _part(f"f{index}", content, f"n{index}.bin" if is_file else None)
        for index, (content, is_file) in enumerate(contents)
    )
    body += ending
    expected = await _multipart([body[i : i + 1] for i in range(len(body))])
    assert await _multipart(_cut(body, cuts)) == expected
    assert await _multipart([body]) == expected


def test_multipart_body_chunk_without_cr_is_one_payload_event() -> None:
    from tachyon_http.formparsers import _SegmentParser

    class Owner:
        def _on_headers(self, headerlist: list[tuple[str, str]]) -> None:
            pass

    parser = _SegmentParser(b"xyB", Owner())  # type: ignore[arg-type]
    head = list(parser.parse(b'--xyB\r\nContent-Disposition: form-data; name="a"\r\n\r\n'))
    assert len(head) == 1 and isinstance(head[0], multipart.MultipartSegment)
    assert list(parser.parse(b"x" * 1000)) == [b"x" * 1000]
    assert list(parser.parse(b"yy\r\n--xyB--")) == [b"yy", None]
    assert parser.closed is False
    assert list(parser.parse(b"")) == []
    assert parser.closed is True
