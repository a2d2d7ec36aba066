from __future__ import annotations

import http
import importlib

import pytest
from tachyon_http import status
from tachyon_http.exceptions import TachyonDeprecationWarning


def test_every_public_name_is_its_code() -> None:
    assert len(status.__all__) == 78
    for name in status.__all__:
        assert name.split("_")[1] == str(getattr(status, name))


def test_http_codes_cover_the_standard_library_list() -> None:
    codes = {getattr(status, name) for name in status.__all__ if name.startswith("HTTP_")}
    assert {code.value for code in http.HTTPStatus} <= codes


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("HTTP_413_REQUEST_ENTITY_TOO_LARGE", "HTTP_413_CONTENT_TOO_LARGE"),
        ("HTTP_414_REQUEST_URI_TOO_LONG", "HTTP_414_URI_TOO_LONG"),
        ("HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE", "HTTP_416_RANGE_NOT_SATISFIABLE"),
        ("HTTP_422_UNPROCESSABLE_ENTITY", "HTTP_422_UNPROCESSABLE_CONTENT"),
    ],
)
def test_renamed_codes_still_work_with_a_warning(old: str, new: str) -> None:
    with pytest.warns(TachyonDeprecationWarning) as record:
        value = getattr(importlib.import_module("tachyon_http.status"), old)
    assert value == getattr(status, new)
    assert len(record) == 1
    assert f"'{old}' is deprecated. Use '{new}' instead." in str(record[0].message)


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'tachyon_http.status' has no attribute 'HTTP_999_NOPE'"):
        status.HTTP_999_NOPE  # noqa: B018


def test_dir_lists_current_and_renamed_names() -> None:
    names = dir(status)
    assert "HTTP_200_OK" in names and "HTTP_422_UNPROCESSABLE_ENTITY" in names
