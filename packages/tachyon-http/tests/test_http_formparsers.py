from __future__ import annotations

import threading
import warnings
from collections.abc import AsyncGenerator, Sequence
from tempfile import SpooledTemporaryFile
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings, strategies as st
from tachyon_http.datastructures import FormData, Headers, UploadFile
from tachyon_http.exceptions import StarletteDeprecationWarning, TachyonDeprecationWarning
from tachyon_http.formparsers import (
    FormMessage,
    FormParser,
    MultiPartException,
    MultiPartParser,
    parse_options_header,
)

URLENCODED = Headers({"content-type": "application/x-www-form-urlencoded"})


async def _chunks(*chunks: bytes) -> AsyncGenerator[bytes, None]:
    for chunk in chunks:
        yield chunk


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[index : index + size] for index in range(0, len(data), size)]


def _multipart_headers(boundary: str = "B", extra: str = "") -> Headers:
    return Headers({"content-type": f"multipart/form-data; boundary={boundary}{extra}"})


def _part(name: str, body: bytes, filename: str | None = None, headers: Sequence[str] = ()) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    lines = [disposition, *headers]
    return b"--B\r\n" + "\r\n".join(lines).encode() + b"\r\n\r\n" + body + b"\r\n"


END = b"--B--\r\n"


# --- parse_options_header -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, (b"", {})),
        ("", (b"", {})),
        ("Text/HTML", (b"text/html", {})),
        ("multipart/form-data; boundary=abc", (b"multipart/form-data", {b"boundary": b"abc"})),
        (b"A/B; Charset=UTF-8; X", (b"a/b", {b"charset": b"UTF-8", b"X": b""})),
        ('form-data; name="a;b"; filename="c\\"d"', (b"form-data", {b"name": b"a;b", b"filename": b'c"d'})),
        ('form-data; filename="C:\\\\dir\\\\f.txt"', (b"form-data", {b"filename": b"f.txt"})),
        ("form-data; filename*=UTF-8''%E2%82%AC.txt", (b"form-data", {})),  # RFC 7578: extended syntax ignored
        ("form-data; filename=a; filename*=UTF-8''b", (b"form-data", {b"filename": b"a"})),
        ('form-data; ="x"', (b"form-data", {b"": b"x"})),
        ("a/b;;", (b"a/b", {b"": b""})),
    ],
)
def test_parse_options_header(header: Any, expected: tuple[bytes, dict[bytes, bytes]]) -> None:
    assert parse_options_header(header) == expected


# --- urlencoded ---------------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"a=1&b=2", [("a", "1"), ("b", "2")]),
        (b"a=1&&b=2&", [("a", "1"), ("b", "2")]),
        (b"a&b=", [("a", ""), ("b", "")]),
        (b"=", [("", "")]),
        (b"sp+ace=%2B%26%3D", [("sp ace", "+&=")]),
        (b"e=%C3%A9&raw=\xe9", [("e", "é"), ("raw", "é")]),
        (b"eq=a=b", [("eq", "a=b")]),
        (b"", []),
    ],
)
async def test_urlencoded_fields(body: bytes, expected: list[tuple[str, str]]) -> None:
    assert (await FormParser(URLENCODED, _chunks(body)).parse()).multi_items() == expected


@pytest.mark.anyio
@pytest.mark.parametrize("size", [1, 2, 3, 7])
async def test_urlencoded_result_does_not_depend_on_chunking(size: int) -> None:
    body = b"first=one&second=two+words&third&=x&last=%41"
    whole = await FormParser(URLENCODED, _chunks(body)).parse()
    chunked = await FormParser(URLENCODED, _chunks(*_split(body, size))).parse()
    assert chunked == whole


@pytest.mark.anyio
async def test_urlencoded_counts_fields_and_stops_at_the_first_extra_one() -> None:
    parser = FormParser(URLENCODED, _chunks(b"&".join(b"f%d=" % i for i in range(10_000))), max_fields=10)
    with pytest.raises(MultiPartException, match=r"^Too many fields. Maximum number of fields is 10.$"):
        await parser.parse()
    assert parser._current_fields == 11


@pytest.mark.anyio
@pytest.mark.parametrize("body", [b"v=" + b"x" * 5000, b"x" * 5000 + b"=v", b"n" * 600 + b"=" + b"v" * 600])
async def test_urlencoded_field_size_counts_name_and_value(body: bytes) -> None:
    parser = FormParser(URLENCODED, _chunks(body), max_part_size=1024)
    with pytest.raises(MultiPartException, match=r"^Field exceeded maximum size of 1KB.$"):
        await parser.parse()
    assert len(parser._field_value) <= 1024 and len(parser._field_name) <= 1024


@pytest.mark.anyio
async def test_urlencoded_size_limit_applies_across_chunks() -> None:
    parser = FormParser(URLENCODED, _chunks(*_split(b"v=" + b"x" * 3000, 100)), max_part_size=2048)
    with pytest.raises(MultiPartException, match="Field exceeded maximum size of 2KB."):
        await parser.parse()


@pytest.mark.anyio
async def test_urlencoded_limits_are_inclusive() -> None:
    form = await FormParser(URLENCODED, _chunks(b"a=1&b=2"), max_fields=2).parse()
    assert len(form) == 2
    exact = await FormParser(URLENCODED, _chunks(b"k=" + b"v" * 1023), max_part_size=1024).parse()
    assert len(str(exact["k"])) == 1023


# --- multipart ----------------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("chunk_size", [1, 5, 64, 100_000])
async def test_multipart_fields_and_files_for_any_chunking(chunk_size: int) -> None:
    body = (
        _part("text", b"hello")
        + _part("upload", b"line1\r\nline2--B", filename="notes.txt", headers=["Content-Type: text/plain"])
        + _part("text", b"second")
        + END
    )
    parser = MultiPartParser(_multipart_headers(), _chunks(*_split(body, chunk_size)))
    form = await parser.parse()
    assert form.getlist("text") == ["hello", "second"]
    upload = form["upload"]
    assert isinstance(upload, UploadFile)
    assert (upload.filename, upload.size, upload.content_type) == ("notes.txt", 15, "text/plain")
    assert await upload.read() == b"line1\r\nline2--B"
    assert upload.headers.raw == [
        (b"content-disposition", b'form-data; name="upload"; filename="notes.txt"'),
        (b"content-type", b"text/plain"),
    ]
    await form.close()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("charset", "raw", "expected"),
    [
        (None, "é".encode(), "é"),
        ("utf-8", b"\xe9", "é"),  # not UTF-8: decoded as latin-1
        ("latin-1", b"\xe9", "é"),
        ("no-such-charset", b"\xe9", "é"),
    ],
)
async def test_multipart_text_uses_the_declared_charset(charset: str | None, raw: bytes, expected: str) -> None:
    extra = f"; charset={charset}" if charset else ""
    parser = MultiPartParser(_multipart_headers(extra=extra), _chunks(_part("v", raw) + END))
    assert (await parser.parse())["v"] == expected


@pytest.mark.anyio
async def test_multipart_filename_is_decoded_with_the_charset() -> None:
    body = b'--B\r\nContent-Disposition: form-data; name="f"; filename="\xe6\x96\x87.txt"\r\n\r\nx\r\n' + END
    form = await MultiPartParser(_multipart_headers(), _chunks(body)).parse()
    upload = form["f"]
    assert isinstance(upload, UploadFile) and upload.filename == "文.txt"
    await form.close()


@pytest.mark.anyio
async def test_multipart_empty_body_gives_an_empty_form() -> None:
    assert await MultiPartParser(_multipart_headers(), _chunks(b"", b"")).parse() == FormData()


@pytest.mark.anyio
async def test_multipart_missing_boundary() -> None:
    parser = MultiPartParser(Headers({"content-type": "multipart/form-data"}), _chunks(END))
    with pytest.raises(MultiPartException, match="^Missing boundary in multipart.$"):
        await parser.parse()


@pytest.mark.anyio
async def test_multipart_part_without_a_name_is_rejected() -> None:
    body = b'--B\r\nContent-Disposition: form-data; ="x"\r\n\r\nv\r\n' + END
    with pytest.raises(MultiPartException, match='^The Content-Disposition header field "name" must be provided.$'):
        await MultiPartParser(_multipart_headers(), _chunks(body)).parse()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("max_files", "max_fields", "message"),
    [
        (1, 100, "Too many files. Maximum number of files is 1."),
        (100, 1, "Too many fields. Maximum number of fields is 1."),
    ],
)
async def test_multipart_count_limits(max_files: int, max_fields: int, message: str) -> None:
    body = _part("a", b"1") + _part("f", b"x", "f1") + _part("b", b"2") + _part("g", b"y", "f2") + END
    parser = MultiPartParser(_multipart_headers(), _chunks(body), max_files=max_files, max_fields=max_fields)
    with pytest.raises(MultiPartException, match=f"^{message}$"):
        await parser.parse()


@pytest.mark.anyio
async def test_multipart_text_part_size_limit_but_not_for_files() -> None:
    big = b"x" * 2048
    form = await MultiPartParser(
        _multipart_headers(), _chunks(_part("f", big, filename="big.bin") + END), max_part_size=1024
    ).parse()
    upload = form["f"]
    assert isinstance(upload, UploadFile) and upload.size == 2048
    await form.close()
    parser = MultiPartParser(_multipart_headers(), _chunks(*_split(_part("t", big) + END, 100)), max_part_size=1024)
    with pytest.raises(MultiPartException, match="^Part exceeded maximum size of 1KB.$"):
        await parser.parse()


class _ThreadTrackingFile(SpooledTemporaryFile):  # type: ignore[type-arg]
    rollover_threads: set[int] = set()

    def rollover(self) -> None:
        _ThreadTrackingFile.rollover_threads.add(threading.get_ident())
        super().rollover()


@pytest.mark.anyio
async def test_multipart_large_files_roll_over_to_disk_off_the_event_loop() -> None:
    _ThreadTrackingFile.rollover_threads.clear()
    body = _part("f", b"z" * (MultiPartParser.spool_max_size + 10), filename="big") + END
    with mock.patch("tachyon_http.formparsers.SpooledTemporaryFile", _ThreadTrackingFile):
        form = await MultiPartParser(_multipart_headers(), _chunks(*_split(body, 256 * 1024))).parse()
    assert _ThreadTrackingFile.rollover_threads
    assert threading.get_ident() not in _ThreadTrackingFile.rollover_threads
    upload = form["f"]
    assert isinstance(upload, UploadFile) and upload.size == MultiPartParser.spool_max_size + 10
    await form.close()


@pytest.mark.anyio
async def test_multipart_closes_temporary_files_when_the_stream_fails() -> None:
    async def failing() -> AsyncGenerator[bytes, None]:
        yield b'--B\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\npartial'
        raise RuntimeError("stream failed")

    spooled = SpooledTemporaryFile[bytes]()
    with mock.patch("tachyon_http.formparsers.SpooledTemporaryFile", return_value=spooled):
        with pytest.raises(RuntimeError, match="stream failed"):
            await MultiPartParser(_multipart_headers(), failing()).parse()
    assert spooled.closed


@pytest.mark.anyio
async def test_multipart_closes_temporary_files_on_disk_errors() -> None:
    closed: list[bool] = []

    class DiskFull(SpooledTemporaryFile):  # type: ignore[type-arg]
        def write(self, s: Any) -> int:
            raise OSError("disk full")

        def close(self) -> None:
            closed.append(True)
            super().close()

    with mock.patch("tachyon_http.formparsers.SpooledTemporaryFile", DiskFull):
        with pytest.raises(OSError, match="disk full"):
            await MultiPartParser(_multipart_headers(), _chunks(_part("f", b"data", "a") + END)).parse()
    assert closed


def test_form_message_is_deprecated() -> None:
    with pytest.warns(TachyonDeprecationWarning, match="`FormMessage` is deprecated"):
        FormMessage(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StarletteDeprecationWarning)
        with pytest.raises(StarletteDeprecationWarning):
            FormMessage(2)


# --- differential: same results as Starlette 1.10's parsers (python-multipart) ------------------------------------

try:
    import starlette.datastructures as _reference_datastructures
    import starlette.formparsers as _reference
except ImportError:  # pragma: no cover - the reference is a development dependency only
    _is_reference_real = False
else:
    # Under Tachyon's compatibility switch `starlette` would be Tachyon itself: nothing to compare then.
    _is_reference_real = _reference.FormParser is not FormParser


async def _reference_urlencoded(chunks: list[bytes]) -> list[tuple[str, Any]]:
    headers = _reference_datastructures.Headers({"content-type": "application/x-www-form-urlencoded"})
    return list((await _reference.FormParser(headers, _chunks(*chunks)).parse()).multi_items())


@pytest.mark.skipif(not _is_reference_real, reason="the real Starlette is not importable in this process")
@settings(max_examples=150, deadline=None)
@given(
    body=st.lists(
        st.sampled_from([b"a", b"b=", b"=", b"&", b"%41", b"%zz", b"+", b"\xc3\xa9", b"\xff", b";"]), max_size=12
    ),
    cut=st.integers(min_value=1, max_value=8),
)
def test_urlencoded_matches_starlette(body: list[bytes], cut: int) -> None:
    import anyio

    data = b"".join(body)

    async def both() -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        ours = (await FormParser(URLENCODED, _chunks(*_split(data, cut))).parse()).multi_items()
        return ours, await _reference_urlencoded(_split(data, cut))

    ours, theirs = anyio.run(both)
    assert ours == theirs


_part_names = st.sampled_from(["a", "b", "é", "x y", "n;1"])
_part_bodies = st.sampled_from([b"", b"v", b"line\r\nbreak", b"--B", b"\xc3\xa9", b"\xff\xfe", b"x" * 100])


@pytest.mark.skipif(not _is_reference_real, reason="the real Starlette is not importable in this process")
@settings(max_examples=100, deadline=None)
@given(
    parts=st.lists(st.tuples(_part_names, _part_bodies, st.none() | st.sampled_from(["f.txt", "é.bin"])), max_size=4),
    charset=st.sampled_from(["", "; charset=utf-8", "; charset=latin-1", "; charset=bogus"]),
    cut=st.sampled_from([1, 3, 17, 10_000]),
)
def test_multipart_matches_starlette(parts: list[tuple[str, bytes, str | None]], charset: str, cut: int) -> None:
    import anyio

    body = (
        b"".join(
            b'--B\r\nContent-Disposition: form-data; name="'
            + name.encode()
            + b'"'
            + (b'; filename="' + filename.encode() + b'"' if filename else b"")
            + b"\r\n\r\n"
            + payload
            + b"\r\n"
            for name, payload, filename in parts
        )
        + END
    )
    content_type = f"multipart/form-data; boundary=B{charset}"

    async def flatten(form: Any) -> list[tuple[str, Any]]:
        result = []
        for key, value in form.multi_items():
            if isinstance(value, str):
                result.append((key, value))
            else:
                result.append((key, (value.filename, value.size, await value.read())))
                await value.close()
        return result

    async def both() -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        ours = await MultiPartParser(Headers({"content-type": content_type}), _chunks(*_split(body, cut))).parse()
        reference_headers = _reference_datastructures.Headers({"content-type": content_type})
        theirs = await _reference.MultiPartParser(reference_headers, _chunks(*_split(body, cut))).parse()
        return await flatten(ours), await flatten(theirs)

    ours, theirs = anyio.run(both)
    assert ours == theirs


try:
    from python_multipart.multipart import parse_options_header as _reference_parse_options_header
except ImportError:  # pragma: no cover - the reference is a development dependency only
    _reference_parse_options_header = None

_header_pieces = st.sampled_from(
    [
        "multipart/form-data",
        "Text/Plain",
        ";",
        "; ",
        " ",
        "\t",
        "=",
        "a",
        "B",
        "name",
        "filename",
        "*",
        '"',
        "\\",
        "x;y",
        "c:\\dir\\f",
        "é",
        "boundary",
        "charset=utf-8",
    ]
)


@pytest.mark.skipif(_reference_parse_options_header is None, reason="python-multipart is not installed")
@settings(max_examples=500, deadline=None)
@given(st.lists(_header_pieces, max_size=14).map("".join))
def test_parse_options_header_matches_python_multipart(header: str) -> None:
    assert _reference_parse_options_header is not None
    assert parse_options_header(header) == _reference_parse_options_header(header)


def test_finish_hands_its_fields_over_to_a_form_nothing_else_changes() -> None:
    parser = FormParser(URLENCODED, _chunks())
    parser.feed(b"a=1&b=2&b=3")
    form = parser.finish()
    assert form.multi_items() == [("a", "1"), ("b", "2"), ("b", "3")]
    assert form == FormData([("a", "1"), ("b", "2"), ("b", "3")])
    assert (form["b"], form.getlist("b")) == ("3", ["2", "3"])
    # The parser keeps none of them: feeding it again cannot reach the form it handed over.
    parser.feed(b"c=4&")
    assert form.multi_items() == [("a", "1"), ("b", "2"), ("b", "3")]
    assert parser.finish().multi_items() == [("c", "4")]


@pytest.mark.parametrize("container", [list, tuple])
def test_a_form_from_a_list_or_tuple_of_pairs_copies_them(container: Any) -> None:
    pairs = [("a", "1"), ("a", "2")]
    form = FormData(container(pairs))
    pairs.append(("b", "3"))
    assert form.multi_items() == [("a", "1"), ("a", "2")]
    assert dict(form) == {"a": "2"}
