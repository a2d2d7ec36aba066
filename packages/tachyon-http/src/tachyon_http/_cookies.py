"""The ``Set-Cookie`` header value written by ``Response.set_cookie``.

The output is what Starlette produces through ``http.cookies.SimpleCookie`` (attribute names and order, value
quoting, ``expires`` computed from ``time.time()``), built directly instead of through a cookie jar, with one
addition: attribute values containing CR, LF or NUL are refused, because they would end the header line and let
the value inject headers or a second response (response splitting). The cookie value itself is always quoted
safely; the name must be a cookie token.
"""

from __future__ import annotations

import re
import string
import sys
import time
from datetime import datetime
from email.utils import format_datetime
from http.cookies import CookieError
from typing import Any

__all__ = ["InvalidSameSite", "set_cookie_header"]

# Characters a cookie name or an unquoted value may use (those of RFC 2068 tokens, as the stdlib defines them).
_TOKEN_CHARS = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~:"
_is_token = re.compile(f"[{re.escape(_TOKEN_CHARS)}]+").fullmatch
# Inside double quotes these may also stay as they are; every other Latin-1 character becomes a backslash and
# three octal digits (the stdlib's RFC 2109 quoting, which cookie parsers on the way back understand).
_QUOTED_AS_IS = _TOKEN_CHARS + " ()/<=>?@[]{}"
_QUOTE_TABLE: dict[int, str] = {code: f"\\{code:03o}" for code in range(256) if chr(code) not in _QUOTED_AS_IS}
_QUOTE_TABLE[ord('"')] = '\\"'
_QUOTE_TABLE[ord("\\")] = "\\\\"

# Partitioned cookies (CHIPS) are what Python 3.14's http.cookies added; Starlette refuses them on older Pythons,
# and so does Tachyon, so that the same code behaves the same on both.
_PARTITIONED_SUPPORTED = sys.version_info >= (3, 14)
# Attribute names a cookie may not be called (they would read as attributes), lower-case.
_RESERVED_NAMES = frozenset(
    {"expires", "path", "comment", "domain", "max-age", "secure", "httponly", "version", "samesite"}
    | ({"partitioned"} if _PARTITIONED_SUPPORTED else set())
)
_SAMESITE_VALUES = ("strict", "lax", "none")
_HEADER_BREAKERS = ("\r", "\n", "\x00")

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = (None, "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class InvalidSameSite(ValueError, AssertionError):
    """``samesite`` is not one of "strict", "lax" or "none".

    Also an ``AssertionError``, which is what Starlette raises here (from an ``assert``); unlike an assert it is
    raised under ``python -O`` too.
    """


def _quote_value(value: str) -> str:
    if _is_token(value):
        return value
    return '"' + value.translate(_QUOTE_TABLE) + '"'


def _expires_in(seconds: int) -> str:
    # Looked up on the module at call time so that tests which freeze ``time.time`` see the frozen clock.
    year, month, day, hour, minute, second, weekday, _, _ = time.gmtime(time.time() + seconds)
    return f"{_WEEKDAYS[weekday]}, {day:02d} {_MONTHS[month]:>3} {year:4d} {hour:02d}:{minute:02d}:{second:02d} GMT"


def _attribute(name: str, value: Any) -> str:
    text = f"{name}={value}"
    for breaker in _HEADER_BREAKERS:
        if breaker in text:
            raise ValueError(
                f"Cookie attribute {name} contains a forbidden character {breaker!r} "
                "(CR, LF and NUL would split the Set-Cookie header)"
            )
    return text


def set_cookie_header(
    key: str,
    value: Any,
    max_age: Any,
    expires: datetime | str | int | None,
    path: Any,
    domain: Any,
    secure: bool,
    httponly: bool,
    samesite: str | None,
    partitioned: bool,
) -> bytes:
    """The encoded ``Set-Cookie`` value for ``Response.set_cookie`` (see its documentation for the arguments)."""
    coded_value = _quote_value(str(value))
    if key.lower() in _RESERVED_NAMES:
        raise CookieError(f"Attempt to set a reserved key {key!r}")
    if not _is_token(key):
        raise CookieError(f"Illegal key {key!r}")

    # Attributes in the stdlib's order (sorted by lower-case name); empty strings are left out, as it does.
    parts = [f"{key}={coded_value}"]
    if domain is not None and domain != "":
        parts.append(_attribute("Domain", domain))
    if expires is not None and expires != "":
        if isinstance(expires, datetime):
            parts.append(f"expires={format_datetime(expires, usegmt=True)}")
        elif isinstance(expires, int):
            parts.append(f"expires={_expires_in(expires)}")
        else:
            parts.append(_attribute("expires", expires))
    if httponly:
        parts.append("HttpOnly")
    if max_age is not None and max_age != "":
        parts.append(f"Max-Age={max_age:d}" if isinstance(max_age, int) else _attribute("Max-Age", max_age))
    if partitioned:
        parts.append("Partitioned")
    if path is not None and path != "":
        parts.append(_attribute("Path", path))
    if samesite is not None:
        if samesite.lower() not in _SAMESITE_VALUES:
            raise InvalidSameSite("samesite must be either 'strict', 'lax' or 'none'")
        parts.append(f"SameSite={samesite}")
    if secure:
        parts.append("Secure")
    if partitioned and not _PARTITIONED_SUPPORTED:
        raise ValueError("Partitioned cookies are only supported in Python 3.14 and above.")
    return "; ".join(parts).strip().encode("latin-1")
