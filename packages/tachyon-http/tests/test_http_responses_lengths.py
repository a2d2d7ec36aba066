"""Content-Length is the body's byte count on both sides of the prerendered-length bound."""

from __future__ import annotations

import pytest
from tachyon_http import responses
from tachyon_http.responses import JSONResponse, PlainTextResponse, Response

SIZES = [0, 1, 9, 10, responses._PRERENDERED_LENGTHS - 1, responses._PRERENDERED_LENGTHS, 70_000]


@pytest.mark.parametrize("size", SIZES)
def test_content_length_without_and_with_given_headers(size: int) -> None:
    for response in (Response(b"x" * size), PlainTextResponse("x" * size, headers={"x-a": "b"})):
        assert response.headers["content-length"] == str(size)


@pytest.mark.parametrize("size", SIZES)
def test_json_content_length(size: int) -> None:
    response = JSONResponse("x" * max(size - 2, 0))
    assert response.headers["content-length"] == str(len(response.body))
