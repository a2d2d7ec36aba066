"""Caches keyed by values a client can choose hold only values of an honest size.

Each cache is bounded in count; these tests check that it is bounded in bytes too: a client sending values far
larger than any honest client sends (a 100 KB Host header, for instance) must not get them pinned in memory.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from tachyon_http import datastructures, responses
from tachyon_http._cache import CacheBound
from tachyon_http.datastructures import URL, Headers
from tachyon_http.responses import Response

# Longest Host header an honest client sends: a 255-character name, a colon and a 5-digit port.
HONEST_HOST_LENGTH = 255 + 1 + 5
HUGE = 20_000


def _bytes_held(entries: Iterable[object]) -> int:
    return sum(len(entry) for entry in entries)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _empty_caches() -> None:
    datastructures._host_header_cache.clear()
    datastructures._header_names.clear()


def _url_with_host(host: bytes) -> URL:
    scope = {"type": "http", "path": "/", "query_string": b"", "headers": [(b"host", host)], "server": ("s", 80)}
    return URL(scope=scope)


def test_huge_host_headers_are_not_kept() -> None:
    # A valid Host: a port may carry any number of leading zeros, so this one passes validation.
    for index in range(2 * datastructures.MAX_CACHED_HOST_HEADERS):
        host = b"127.0.0.1:" + b"0" * HUGE + str(index % 9 + 1).encode()
        assert _url_with_host(host).netloc == host.decode()
    held = _bytes_held(datastructures._host_header_cache) + _bytes_held(
        value for value in datastructures._host_header_cache.values() if value is not None
    )
    assert held <= 2 * HONEST_HOST_LENGTH * datastructures.MAX_CACHED_HOST_HEADERS
    assert all(len(raw) <= HONEST_HOST_LENGTH for raw in datastructures._host_header_cache)


def test_huge_malformed_host_headers_are_not_kept() -> None:
    for index in range(64):
        assert _url_with_host(b"bad host " * HUGE + b"%d" % index).hostname == "s"
    assert all(len(raw) <= HONEST_HOST_LENGTH for raw in datastructures._host_header_cache)


def test_honest_host_headers_are_still_cached() -> None:
    longest = b"a" * 63 + b"." + b"b" * 63 + b"." + b"c" * 63 + b"." + b"d" * 63 + b":65535"
    assert len(longest) == HONEST_HOST_LENGTH
    for host in (b"example.com", b"[::1]:8000", longest):
        first = _url_with_host(host)
        assert host in datastructures._host_header_cache
        assert _url_with_host(host).netloc == first.netloc == host.decode()


def test_huge_header_names_looked_up_are_not_kept() -> None:
    headers = Headers(raw=[(b"x-name", b"v")])
    for index in range(2 * 512):
        assert headers.get("x-" + "n" * HUGE + str(index)) is None
    assert headers.get("X-Name") == "v"
    assert "X-Name" in datastructures._header_names
    assert all(len(key) <= 64 for key in datastructures._header_names)


def _cached_media_types() -> list[str]:
    other_charsets = (media for by_media in responses._content_type_cache.values() for media in by_media)
    return [*responses._utf8_content_types, *other_charsets]


def test_huge_media_types_are_not_kept() -> None:
    before = _bytes_held(_cached_media_types())
    for index in range(2 * 256):
        media_type = "application/x-" + "m" * HUGE + str(index)
        response = Response(b"", media_type=media_type)
        assert response.headers["content-type"] == media_type
    after = _bytes_held(_cached_media_types())
    assert after - before <= 256 * 128


def test_many_charsets_keep_a_bounded_number_of_tables_and_the_default_charset_its_own() -> None:
    assert Response(b"", media_type="text/plain").headers["content-type"] == "text/plain; charset=utf-8"
    for index in range(3 * 8):
        charset = f"x-charset-{index}" if index % 2 else "x-" + "c" * HUGE + str(index)
        response = type("Charset", (Response,), {"charset": charset})(b"", media_type="text/plain")
        assert response.headers["content-type"] == f"text/plain; charset={charset}"
    assert len(responses._content_type_cache) <= 8
    assert all(len(charset) <= 32 for charset in responses._content_type_cache)
    # The default charset's table is not one of them: emptying those leaves it in place.
    assert "text/plain" in responses._utf8_content_types
    assert Response(b"", media_type="text/plain").headers["content-type"] == "text/plain; charset=utf-8"


def test_cache_bound_keeps_short_keys_and_empties_a_full_cache() -> None:
    bound = CacheBound(max_entries=3, max_key_size=4)
    entries: dict[str, int] = {}
    for index, key in enumerate(("a", "bb", "ccc")):
        assert bound.keep(entries, key, index, len(key)) == index
    assert entries == {"a": 0, "bb": 1, "ccc": 2}
    # A key over the size bound is returned, not stored, and leaves the cache as it was.
    assert bound.keep(entries, "eeeee", 9, 5) == 9
    assert entries == {"a": 0, "bb": 1, "ccc": 2}
    # Full: emptied before the new entry goes in, never grown past the bound.
    assert bound.keep(entries, "dddd", 3, 4) == 3
    assert entries == {"dddd": 3}


def test_cache_bound_refuses_empty_bounds() -> None:
    with pytest.raises(ValueError, match="at least one entry"):
        CacheBound(0, 10)


def test_a_cache_cycled_through_keeps_serving_honest_keys() -> None:
    # A client cycling through distinct valid hosts empties the cache now and then; an honest host is kept again
    # on its next request.
    for index in range(3 * datastructures.MAX_CACHED_HOST_HEADERS):
        _url_with_host(b"h%d.example.com" % index)
        assert len(datastructures._host_header_cache) <= datastructures.MAX_CACHED_HOST_HEADERS
    assert _url_with_host(b"example.com").netloc == "example.com"
    assert b"example.com" in datastructures._host_header_cache
