"""Set-Cookie values: Starlette's exact output for valid input, clear errors for input that would split headers."""

from __future__ import annotations

import datetime as dt
import sys
import time
from http.cookies import CookieError, SimpleCookie
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st
from tachyon_http._cookies import InvalidSameSite, set_cookie_header
from tachyon_http.responses import Response

FROZEN_NOW = dt.datetime(2037, 1, 22, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: FROZEN_NOW.timestamp())


def starlette_set_cookie(
    key: str,
    value: Any = "",
    max_age: Any = None,
    expires: Any = None,
    path: Any = "/",
    domain: Any = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: Any = "lax",
) -> bytes:
    # Starlette 1.10's procedure, through the stdlib cookie jar.
    from email.utils import format_datetime

    cookie: SimpleCookie = SimpleCookie()
    cookie[key] = value
    if max_age is not None:
        cookie[key]["max-age"] = max_age
    if expires is not None:
        cookie[key]["expires"] = format_datetime(expires, usegmt=True) if isinstance(expires, dt.datetime) else expires
    if path is not None:
        cookie[key]["path"] = path
    if domain is not None:
        cookie[key]["domain"] = domain
    if secure:
        cookie[key]["secure"] = True
    if httponly:
        cookie[key]["httponly"] = True
    if samesite is not None:
        assert samesite.lower() in ["strict", "lax", "none"]
        cookie[key]["samesite"] = samesite
    return cookie.output(header="").strip().encode("latin-1")


def tachyon_set_cookie(
    key: str,
    value: Any = "",
    max_age: Any = None,
    expires: Any = None,
    path: Any = "/",
    domain: Any = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: Any = "lax",
    partitioned: bool = False,
) -> bytes:
    response = Response()
    response.set_cookie(key, value, max_age, expires, path, domain, secure, httponly, samesite, partitioned)
    name, header = response.raw_headers[-1]
    assert name == b"set-cookie"
    return header


def test_every_attribute_in_starlettes_order() -> None:
    header = tachyon_set_cookie(
        "mycookie",
        "myvalue",
        max_age=10,
        expires=10,
        path="/",
        domain="localhost",
        secure=True,
        httponly=True,
        samesite="none",
    )
    assert header == (
        b"mycookie=myvalue; Domain=localhost; expires=Thu, 22 Jan 2037 12:00:10 GMT; HttpOnly; Max-Age=10; "
        b"Path=/; SameSite=none; Secure"
    )


def test_defaults_are_path_root_and_samesite_lax() -> None:
    assert tachyon_set_cookie("a", "b") == b"a=b; Path=/; SameSite=lax"


def test_path_none_and_samesite_none_leave_the_attributes_out() -> None:
    assert tachyon_set_cookie("a", "b", path=None) == b"a=b; SameSite=lax"
    assert tachyon_set_cookie("a", "b", samesite=None) == b"a=b; Path=/"


@pytest.mark.parametrize(
    "expires",
    [dt.datetime(2037, 1, 22, 12, 0, 10, tzinfo=dt.UTC), "Thu, 22 Jan 2037 12:00:10 GMT", 10],
    ids=["datetime", "str", "int-seconds-from-now"],
)
def test_expires_accepts_datetime_string_and_seconds(expires: Any) -> None:
    assert b"expires=Thu, 22 Jan 2037 12:00:10 GMT" in tachyon_set_cookie("a", "b", expires=expires)


def test_naive_datetime_expires_is_rejected_like_the_stdlib_formatter() -> None:
    with pytest.raises(ValueError, match="usegmt option requires a UTC datetime"):
        tachyon_set_cookie("a", "b", expires=dt.datetime(2037, 1, 1))


def test_max_age_zero_and_negative_are_written() -> None:
    assert b"Max-Age=0" in tachyon_set_cookie("a", max_age=0)
    assert b"Max-Age=-5" in tachyon_set_cookie("a", max_age=-5)


@pytest.mark.parametrize("samesite", ["strict", "lax", "none", "Strict", "LAX", "None"])
def test_samesite_is_case_insensitive_and_written_as_given(samesite: str) -> None:
    assert tachyon_set_cookie("a", samesite=samesite).endswith(f"SameSite={samesite}".encode())


@pytest.mark.parametrize("samesite", ["", "sometimes", "lax; Domain=evil.example", "strict\r\n"])
def test_invalid_samesite_raises_an_assertion_compatible_value_error(samesite: str) -> None:
    response = Response()
    with pytest.raises(AssertionError, match="samesite must be either 'strict', 'lax' or 'none'"):
        response.set_cookie("a", "b", samesite=samesite)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        response.set_cookie("a", "b", samesite=samesite)  # type: ignore[arg-type]
    assert isinstance(InvalidSameSite("x"), AssertionError)
    assert "set-cookie" not in response.headers


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="partitioned cookies work on Python 3.14+")
def test_partitioned_needs_python_3_14_and_adds_no_header() -> None:
    response = Response()
    with pytest.raises(ValueError, match="Partitioned cookies are only supported in Python 3.14 and above"):
        response.set_cookie("a", "b", partitioned=True)
    with pytest.raises(ValueError, match="Partitioned cookies are only supported"):
        response.delete_cookie("a", secure=True, samesite="none", partitioned=True)
    assert "set-cookie" not in response.headers


@pytest.mark.skipif(sys.version_info < (3, 14), reason="needs Python 3.14")
def test_partitioned_flag_on_python_3_14() -> None:  # pragma: no cover - depends on the interpreter
    header = tachyon_set_cookie("a", "b", secure=True, samesite="none", partitioned=True)
    assert header == b"a=b; Partitioned; Path=/; SameSite=none; Secure"


@pytest.mark.parametrize(
    "value",
    ["with space", 'a"quote', "semi;colon", "comma,", "back\\slash", "é", "", "line\r\nSet-Cookie: evil=1"],
)
def test_values_that_are_not_tokens_are_quoted_like_the_stdlib(value: str) -> None:
    header = tachyon_set_cookie("a", value)
    assert header == starlette_set_cookie("a", value)
    assert b"\r" not in header and b"\n" not in header


def test_non_string_values_are_converted_with_str() -> None:
    assert tachyon_set_cookie("n", 42) == b"n=42; Path=/; SameSite=lax"


@pytest.mark.parametrize("key", ["", "with space", "semi;colon", "new\nline", "é", "a=b"])
def test_illegal_cookie_names_raise_cookie_error(key: str) -> None:
    with pytest.raises(CookieError, match="Illegal key"):
        tachyon_set_cookie(key, "v")


@pytest.mark.parametrize("key", ["path", "Expires", "MAX-AGE", "domain", "secure", "httponly", "samesite"])
def test_attribute_names_cannot_be_cookie_names(key: str) -> None:
    with pytest.raises(CookieError, match="Attempt to set a reserved key"):
        tachyon_set_cookie(key, "v")


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("path", "/\r\nX-Injected: 1"),
        ("path", "/\n"),
        ("domain", "example.com\rX: 1"),
        ("domain", "exa\x00mple.com"),
        ("expires", "Thu, 22 Jan 2037 12:00:10 GMT\r\n\r\n<html>"),
        ("max_age", "10\nSet-Cookie: evil=1"),
    ],
)
def test_cr_lf_nul_in_attributes_are_refused(attribute: str, value: str) -> None:
    response = Response()
    arguments: dict[str, Any] = {attribute: value}
    with pytest.raises(ValueError, match="forbidden character"):
        response.set_cookie("a", "b", **arguments)
    assert "set-cookie" not in response.headers


def test_characters_outside_latin_1_in_attributes_cannot_be_encoded() -> None:
    with pytest.raises(UnicodeEncodeError):
        tachyon_set_cookie("a", "b", path="/☃")


def test_delete_cookie_expires_now_with_max_age_zero() -> None:
    response = Response()
    response.delete_cookie("session", path="/app", domain="example.com", secure=True, httponly=True)
    assert response.headers["set-cookie"] == (
        'session=""; Domain=example.com; expires=Thu, 22 Jan 2037 12:00:00 GMT; HttpOnly; Max-Age=0; '
        "Path=/app; SameSite=lax; Secure"
    )


def test_delete_cookie_goes_through_set_cookie_so_subclasses_see_it() -> None:
    calls: list[dict[str, Any]] = []

    class Recording(Response):
        def set_cookie(self, key: str, value: str = "", **kwargs: Any) -> None:  # type: ignore[override]
            calls.append({"key": key, "value": value, **kwargs})

    Recording().delete_cookie("a")
    assert calls == [
        {
            "key": "a",
            "value": "",
            "max_age": 0,
            "expires": 0,
            "path": "/",
            "domain": None,
            "secure": False,
            "httponly": False,
            "samesite": "lax",
            "partitioned": False,
        }
    ]


def test_set_cookie_appends_one_header_per_cookie() -> None:
    response = Response()
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    assert response.headers.getlist("set-cookie") == ["a=1; Path=/; SameSite=lax", "b=2; Path=/; SameSite=lax"]


def test_header_is_the_same_function_response_uses() -> None:
    direct = set_cookie_header("a", "b", None, None, "/", None, False, False, "lax", False)
    assert direct == tachyon_set_cookie("a", "b")


# Printable Latin-1 without CR/LF/NUL, so both implementations accept the attribute values.
attribute_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=20)


@settings(max_examples=200, deadline=None)
@given(
    key=st.text(alphabet="abcXYZ019!#$%&'*+-.^_`|~:", min_size=1, max_size=10),
    value=st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=20),
    max_age=st.one_of(st.none(), st.integers(-(10**6), 10**9), attribute_text),
    expires=st.one_of(st.none(), st.integers(-(10**8), 10**8), attribute_text),
    path=st.one_of(st.none(), attribute_text),
    domain=st.one_of(st.none(), attribute_text),
    secure=st.booleans(),
    httponly=st.booleans(),
    samesite=st.sampled_from([None, "lax", "strict", "none", "Lax"]),
)
def test_random_valid_cookies_match_starlette_byte_for_byte(**kwargs: Any) -> None:
    if kwargs["key"].lower() in {"expires", "path", "comment", "domain", "max-age", "secure", "httponly", "version"}:
        return
    assert tachyon_set_cookie(**kwargs) == starlette_set_cookie(**kwargs)
