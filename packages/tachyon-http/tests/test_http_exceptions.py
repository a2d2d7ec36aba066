from __future__ import annotations

import pytest
from tachyon_http.exceptions import (
    HTTPException,
    StarletteDeprecationWarning,
    TachyonDeprecationWarning,
    WebSocketException,
)


@pytest.mark.parametrize(
    ("status_code", "detail", "expected_detail"),
    [(404, None, "Not Found"), (418, None, "I'm a Teapot"), (599, None, ""), (400, "bad input", "bad input")],
)
def test_http_exception_detail_defaults_to_the_reason_phrase(
    status_code: int, detail: str | None, expected_detail: str
) -> None:
    exc = HTTPException(status_code, detail)
    assert exc.detail == expected_detail
    assert str(exc) == f"{status_code}: {expected_detail}"
    assert repr(exc) == f"HTTPException(status_code={status_code}, detail={expected_detail!r})"
    assert exc.headers is None


def test_http_exception_keeps_headers_and_subclass_names() -> None:
    class Custom(HTTPException):
        pass

    exc = Custom(401, headers={"WWW-Authenticate": "Basic"})
    assert exc.headers == {"WWW-Authenticate": "Basic"}
    assert repr(exc) == "Custom(status_code=401, detail='Unauthorized')"


def test_websocket_exception() -> None:
    exc = WebSocketException(1008)
    assert (exc.code, exc.reason) == (1008, "")
    assert str(exc) == "1008: "
    assert repr(WebSocketException(1011, "oops")) == "WebSocketException(code=1011, reason='oops')"


def test_deprecation_warning_is_visible_by_default_and_has_the_starlette_alias() -> None:
    assert issubclass(TachyonDeprecationWarning, UserWarning)
    assert not issubclass(TachyonDeprecationWarning, DeprecationWarning)
    assert StarletteDeprecationWarning is TachyonDeprecationWarning
