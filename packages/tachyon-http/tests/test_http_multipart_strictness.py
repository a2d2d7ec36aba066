"""Multipart bodies Starlette's parser (python-multipart) refuses are refused by Tachyon too, side by side.

A parser differential is a classic filter bypass: a proxy or WAF parsing like one framework and the application
like the other see different fields. Each body is fed whole and in 1-, 2- and 7-byte chunks.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import anyio
import pytest
from tachyon_http.datastructures import Headers
from tachyon_http.formparsers import MultiPartException, MultiPartParser

reference = pytest.importorskip("starlette.formparsers")
reference_datastructures = pytest.importorskip("starlette.datastructures")
if reference.MultiPartParser is MultiPartParser:  # pragma: no cover - under the compatibility switch
    pytest.skip("the real Starlette is not importable in this process", allow_module_level=True)

PART = b'Content-Disposition: form-data; name="a"\r\n\r\nvalue\r\n'
GOOD = b"--B\r\n" + PART + b"--B--\r\n"

REFUSED = {
    "preamble": b"x\r\n" + GOOD,
    "long preamble": b"preamble " * 1000 + b"\r\n" + GOOD,
    "junk after the first delimiter": b"--BX\r\n" + PART + b"--B--\r\n",
    "junk delimiter then a real one": b"--BX\r\n--B\r\n" + PART + b"--B--\r\n",
    "junk around the first delimiter": b"--XBX\r\n" + PART + b"--B--\r\n",
    "header continuation line": b'--B\r\nContent-Disposition: form-data;\r\n name="a"\r\n\r\nvalue\r\n--B--\r\n',
    "tab continuation line": b'--B\r\nContent-Disposition: form-data; name="a"\r\n\tx\r\n\r\nvalue\r\n--B--\r\n',
    "bare CR in a header value": b'--B\r\nContent-Disposition: form-data; name="a\rb"\r\n\r\nvalue\r\n--B--\r\n',
    "bare CR at a header end": b'--B\r\nContent-Disposition: form-data; name="a"\r\r\n\r\nvalue\r\n--B--\r\n',
}
ACCEPTED = {
    "plain": GOOD,
    "two parts": b"--B\r\n" + PART + b"--B\r\n" + PART.replace(b'"a"', b'"b"') + b"--B--\r\n",
    "CR in a value": b"--B\r\n" + PART.replace(b"value", b"va\rlue") + b"--B--\r\n",
}


async def _chunks(data: bytes, size: int) -> AsyncGenerator[bytes, None]:
    for index in range(0, len(data), size):
        yield data[index : index + size]


async def _parse(parser_class: Any, headers: Any, body: bytes, size: int) -> Any:
    try:
        return (await parser_class(headers, _chunks(body, size)).parse()).multi_items()
    except Exception as error:  # both raise their MultiPartException
        return type(error).__name__


def _both(body: bytes, size: int) -> tuple[Any, Any]:
    content_type = {"content-type": "multipart/form-data; boundary=B"}

    async def run() -> tuple[Any, Any]:
        ours = await _parse(MultiPartParser, Headers(content_type), body, size)
        theirs = await _parse(reference.MultiPartParser, reference_datastructures.Headers(content_type), body, size)
        return ours, theirs

    return anyio.run(run)


@pytest.mark.parametrize("size", [1, 2, 7, 1 << 20])
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_like_starlette(name: str, size: int) -> None:
    ours, theirs = _both(REFUSED[name], size)
    assert theirs == "MultiPartException", f"Starlette accepted {name}: {theirs!r}"
    assert ours == MultiPartException.__name__, f"Tachyon accepted {name}: {ours!r}"


@pytest.mark.parametrize("size", [1, 2, 7, 1 << 20])
@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_like_starlette(name: str, size: int) -> None:
    ours, theirs = _both(ACCEPTED[name], size)
    assert ours == theirs
    assert isinstance(ours, list)
