from __future__ import annotations

import io
import threading
from tempfile import SpooledTemporaryFile
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings, strategies as st
from tachyon_http.datastructures import (
    URL,
    Address,
    CommaSeparatedStrings,
    FormData,
    Headers,
    ImmutableMultiDict,
    MultiDict,
    MutableHeaders,
    QueryParams,
    Secret,
    State,
    UploadFile,
    URLPath,
)

# --- URL ----------------------------------------------------------------------------------------------------------


def test_url_exposes_its_components() -> None:
    url = URL("https://user:pw@example.org:8443/a/b?x=1#frag")
    assert (url.scheme, url.netloc, url.path, url.query, url.fragment) == (
        "https",
        "user:pw@example.org:8443",
        "/a/b",
        "x=1",
        "frag",
    )
    assert (url.username, url.password, url.hostname, url.port) == ("user", "pw", "example.org", 8443)
    assert url.components.geturl() == str(url)


@pytest.mark.parametrize(("scheme", "secure"), [("https", True), ("wss", True), ("http", False), ("ws", False)])
def test_url_is_secure_for_tls_schemes(scheme: str, secure: bool) -> None:
    assert URL(f"{scheme}://example.org/").is_secure is secure


def test_url_equals_its_string_and_is_unhashable() -> None:
    assert URL("http://a/b") == "http://a/b"
    assert URL("http://a/b") == URL("http://a/b")
    assert URL("http://a/b") != "http://a/c"
    with pytest.raises(TypeError):
        hash(URL("http://a/"))


def test_url_replace_scheme_port_hostname_and_credentials() -> None:
    url = URL("https://example.org:123/path?q=1#f")
    assert url.replace(scheme="http") == "http://example.org:123/path?q=1#f"
    assert url.replace(port=None) == "https://example.org/path?q=1#f"
    assert url.replace(hostname="example.com") == "https://example.com:123/path?q=1#f"
    assert url.replace(username="u", password="p") == "https://u:p@example.org:123/path?q=1#f"


def test_url_replace_brackets_a_bare_ipv6_hostname() -> None:
    assert URL("https://example.org:8080").replace(hostname="fe::2") == "https://[fe::2]:8080"
    assert URL("https://[::1]:8443/p").replace(hostname="[::1]") == "https://[::1]:8443/p"
    # Not an IPv6 address: left alone.
    assert URL("https://a:1/").replace(hostname="host:9", port=None) == "https://host:9/"


def test_url_query_param_helpers() -> None:
    url = URL("https://example.org/path/?page=3")
    assert url.include_query_params(page=4) == "https://example.org/path/?page=4"
    assert url.include_query_params(search="a b") == "https://example.org/path/?page=3&search=a+b"
    assert url.replace_query_params(order="name") == "https://example.org/path/?order=name"
    assert url.remove_query_params("page") == "https://example.org/path/"
    assert URL("/p?a=1&b=2&a=3").remove_query_params(["a"]) == "/p?b=2"


def test_url_from_components_builds_the_string() -> None:
    assert URL(scheme="https", netloc="example.org", path="/x", query="a=1") == "https://example.org/x?a=1"


def test_url_repr_masks_the_password() -> None:
    assert repr(URL("https://user:secret@example.org/")) == "URL('https://user:********@example.org/')"
    assert repr(URL("https://user@example.org/")) == "URL('https://user@example.org/')"


def test_url_constructor_rejects_mixed_sources() -> None:
    with pytest.raises(AssertionError):
        URL("http://a/", scope={"path": "/", "headers": []})
    with pytest.raises(AssertionError):
        URL("http://a/", path="/x")


def _scope(path: str = "/p", headers: list[tuple[bytes, bytes]] | None = None, **extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {"type": "http", "path": path, "query_string": b"", "headers": headers or []}
    scope.update(extra)
    return scope


def test_url_from_scope_prefers_a_valid_host_header() -> None:
    scope = _scope(headers=[(b"host", b"example.com:8000")], server=("10.0.0.1", 80), query_string=b"a=1")
    assert URL(scope=scope) == "http://example.com:8000/p?a=1"


def test_url_from_scope_falls_back_to_the_server_and_hides_default_ports() -> None:
    assert URL(scope=_scope(scheme="https", server=("example.org", 443))) == "https://example.org/p"
    assert URL(scope=_scope(scheme="http", server=("example.org", 8080))) == "http://example.org:8080/p"
    assert URL(scope=_scope(server=("::1", 8000))).netloc == "[::1]:8000"


def test_url_from_scope_without_host_or_server_is_relative() -> None:
    assert URL(scope=_scope(query_string=b"x=1")) == "/p?x=1"


def test_url_from_scope_percent_encodes_delimiters_in_the_path() -> None:
    url = URL(scope=_scope(path="/a?b#c\\d", headers=[(b"host", b"h")], query_string=b"q=1"))
    assert url == "http://h/a%3Fb%23c%5Cd?q=1"
    assert url.query == "q=1"


def test_url_from_scope_keeps_a_path_from_becoming_the_authority() -> None:
    assert URL(scope=_scope(path="//evil.example/x")) == "/%2Fevil.example/x"
    with_host = URL(scope=_scope(path="@evil.example", headers=[(b"host", b"good")]))
    assert with_host.hostname == "good"
    assert with_host.path == "/@evil.example"


def test_url_from_scope_encodes_a_query_string_that_is_not_utf8() -> None:
    url = URL(scope=_scope(headers=[(b"host", b"h")], query_string=b"a=\xff&b=\xc3\xa9"))
    assert url == "http://h/p?a=%FF&b=%C3%A9"


def test_url_from_scope_with_ipvfuture_host() -> None:
    url = URL(scope=_scope(headers=[(b"host", b"[v1.foo]")]))
    assert url.netloc == "[v1.foo]"


def test_url_from_scope_accepts_zero_padded_ports() -> None:
    url = URL(scope=_scope(headers=[(b"host", b"example.com:000080")]))
    assert url.port == 80


def test_url_path_escapes_backslash_and_leading_double_slash() -> None:
    assert URLPath("/a\\b") == "/a%5Cb"
    assert URLPath("//evil/x") == "/%2Fevil/x"


def test_url_path_make_absolute_url() -> None:
    assert URLPath("/users/1").make_absolute_url("https://example.org/root/") == "https://example.org/root/users/1"
    assert URLPath("/ws", protocol="websocket").make_absolute_url("https://e.org") == "wss://e.org/ws"
    assert URLPath("/x", protocol="http").make_absolute_url(URL("ws://e.org")) == "http://e.org/x"
    assert URLPath("/x", host="other.org").make_absolute_url("http://e.org") == "http://other.org/x"
    with pytest.raises(AssertionError):
        URLPath("/x", protocol="ftp")  # type: ignore[arg-type]


# --- small value types --------------------------------------------------------------------------------------------


def test_secret_hides_its_value_in_repr() -> None:
    secret = Secret("hunter2")
    assert repr(secret) == "Secret('**********')"
    assert str(secret) == "hunter2"
    assert bool(secret) and not bool(Secret(""))


@pytest.mark.parametrize("value", ["a, b,c", "'a', \"b\", c", ["a", "b", "c"]])
def test_comma_separated_strings(value: Any) -> None:
    csv = CommaSeparatedStrings(value)
    assert list(csv) == ["a", "b", "c"]
    assert len(csv) == 3 and csv[1] == "b"
    assert repr(csv) == "CommaSeparatedStrings(['a', 'b', 'c'])"
    assert str(csv) == "'a', 'b', 'c'"


def test_address_is_a_named_tuple() -> None:
    address = Address("1.2.3.4", 80)
    assert address.host == "1.2.3.4" and address.port == 80
    assert address == ("1.2.3.4", 80)


def test_state_is_attribute_and_item_access_to_a_shared_dict() -> None:
    backing: dict[str, Any] = {}
    state = State(backing)
    state.user = "ann"
    state["role"] = "admin"
    assert backing == {"user": "ann", "role": "admin"}
    assert state.role == "admin" and state["user"] == "ann"
    assert sorted(state) == ["role", "user"] and len(state) == 2
    del state.user
    del state["role"]
    assert backing == {}
    with pytest.raises(AttributeError, match="'State' object has no attribute 'missing'"):
        state.missing  # noqa: B018


# --- multidicts ---------------------------------------------------------------------------------------------------


def test_immutable_multidict_reads_last_value_and_keeps_all() -> None:
    md = ImmutableMultiDict([("a", "1"), ("a", "2"), ("b", "3")])
    assert md["a"] == "2" and md.getlist("a") == ["1", "2"]
    assert list(md.keys()) == ["a", "b"] and list(md.values()) == ["2", "3"]
    assert md.multi_items() == [("a", "1"), ("a", "2"), ("b", "3")]
    assert len(md) == 2 and "b" in md and "c" not in md
    assert repr(md) == "ImmutableMultiDict([('a', '1'), ('a', '2'), ('b', '3')])"
    assert ImmutableMultiDict({"x": 1}, y=2).multi_items() == [("x", 1), ("y", 2)]
    with pytest.raises(AssertionError, match="Too many arguments."):
        ImmutableMultiDict([], [])  # type: ignore[call-arg]


def test_multidict_equality_ignores_key_interleaving_but_not_value_order() -> None:
    assert MultiDict([("a", "1"), ("b", "2"), ("a", "3")]) == MultiDict([("b", "2"), ("a", "1"), ("a", "3")])
    assert MultiDict([("a", "1"), ("a", "3")]) != MultiDict([("a", "3"), ("a", "1")])
    assert MultiDict({"a": "1"}) != {"a": "1"}
    # A multidict only equals instances of its own class (Python asks the subclass first, in both orders).
    assert ImmutableMultiDict([("a", "1")]) == ImmutableMultiDict([("a", "1")])
    assert ImmutableMultiDict([("a", "1")]) != MultiDict([("a", "1")])
    assert MultiDict([("a", "1")]) != ImmutableMultiDict([("a", "1")])


def test_multidict_mutation() -> None:
    md = MultiDict([("a", "1"), ("a", "2"), ("b", "3")])
    md["a"] = "9"
    assert md.getlist("a") == ["9"]
    md.append("a", "10")
    assert md.multi_items() == [("b", "3"), ("a", "9"), ("a", "10")]
    assert md.poplist("a") == ["9", "10"] and "a" not in md
    assert md.setdefault("c", "4") == "4" and md.setdefault("c", "5") == "4"
    md.setlist("d", ["x", "y"])
    md.setlist("d", [])
    assert "d" not in md
    del md["b"]
    assert md.multi_items() == [("c", "4")]
    assert md.pop("missing", "default") == "default"
    assert md.popitem() == ("c", "4") and len(md) == 0
    md.update([("a", "1"), ("a", "2")], b="3")
    md.update({"a": "x"})
    assert md.multi_items() == [("b", "3"), ("a", "x")]
    md.clear()
    assert md.multi_items() == []


def test_query_params_parse_strings_and_bytes() -> None:
    qp = QueryParams("a=1&a=2&b=&c")
    assert qp.getlist("a") == ["1", "2"] and qp["b"] == "" and qp["c"] == ""
    assert str(qp) == "a=1&a=2&b=&c="
    assert repr(QueryParams("x=%20y")) == "QueryParams('x=+y')"
    assert QueryParams(b"k=caf\xe9")["k"] == "caf\xe9"  # raw bytes are latin-1
    assert QueryParams({"n": 1}) == QueryParams("n=1")  # values become strings
    assert QueryParams([("a", "1")], b="2") == QueryParams("a=1&b=2")


def test_form_data_holds_strings_and_uploads() -> None:
    upload = UploadFile(io.BytesIO(b"x"), filename="f.txt")
    form = FormData([("a", "1"), ("f", upload)])
    assert form["f"] is upload
    assert repr(form) == f"FormData([('a', '1'), ('f', {upload!r})])"


@pytest.mark.anyio
async def test_form_data_close_closes_every_upload() -> None:
    first, second = io.BytesIO(b"1"), io.BytesIO(b"2")
    form = FormData([("f", UploadFile(first)), ("f", UploadFile(second)), ("t", "text")])
    await form.close()
    assert first.closed and second.closed


# --- headers ------------------------------------------------------------------------------------------------------


def test_headers_are_case_insensitive_and_keep_duplicates() -> None:
    headers = Headers(raw=[(b"a", b"1"), (b"a", b"2"), (b"b", b"3")])
    assert headers["A"] == "1" and headers.get("B") == "3" and headers.get("c") is None
    assert headers.getlist("a") == ["1", "2"]
    assert headers.keys() == ["a", "a", "b"] and headers.values() == ["1", "2", "3"]
    assert headers.items() == [("a", "1"), ("a", "2"), ("b", "3")]
    assert "A" in headers and "z" not in headers and len(headers) == 3
    assert repr(headers) == "Headers(raw=[(b'a', b'1'), (b'a', b'2'), (b'b', b'3')])"
    with pytest.raises(KeyError):
        headers["missing"]


def test_headers_from_mapping_lowercase_names() -> None:
    headers = Headers({"Content-Type": "text/plain"})
    assert headers.raw == [(b"content-type", b"text/plain")]
    assert repr(headers) == "Headers({'content-type': 'text/plain'})"


def test_headers_equality_is_order_insensitive() -> None:
    assert Headers(raw=[(b"a", b"1"), (b"b", b"2")]) == Headers(raw=[(b"b", b"2"), (b"a", b"1")])
    assert Headers(raw=[(b"a", b"1")]) != [(b"a", b"1")]


def test_headers_from_scope_store_a_list_back() -> None:
    scope: dict[str, Any] = {"headers": ((b"a", b"1"),)}
    headers = Headers(scope=scope)
    assert isinstance(scope["headers"], list) and headers["a"] == "1"


def test_mutable_headers_from_scope_do_not_leak_into_a_shared_list() -> None:
    original = [(b"a", b"1")]
    outer = {"headers": original}
    inner = dict(outer)
    MutableHeaders(scope=inner)["b"] = "2"
    assert original == [(b"a", b"1")]
    assert inner["headers"] == [(b"a", b"1"), (b"b", b"2")]


def test_headers_constructor_rejects_mixed_sources() -> None:
    with pytest.raises(AssertionError):
        Headers({"a": "1"}, raw=[])
    with pytest.raises(AssertionError):
        Headers(raw=[], scope={"headers": []})


def test_mutable_headers_set_replaces_first_and_drops_duplicates() -> None:
    headers = MutableHeaders(raw=[(b"x", b"1"), (b"y", b"2"), (b"x", b"3")])
    headers["X"] = "new"
    assert headers.raw == [(b"x", b"new"), (b"y", b"2")]
    headers.append("y", "4")
    assert headers.getlist("y") == ["2", "4"]
    del headers["y"]
    assert headers.raw == [(b"x", b"new")]
    assert headers.setdefault("x", "other") == "new"
    assert headers.setdefault("z", "5") == "5"
    headers.update({"x": "u"})
    assert headers.raw == [(b"x", b"u"), (b"z", b"5")]


def test_mutable_headers_raw_is_the_live_list() -> None:
    raw: list[tuple[bytes, bytes]] = []
    headers = MutableHeaders(raw=raw)
    headers["a"] = "1"
    assert raw == [(b"a", b"1")] and headers.raw is raw


def test_mutable_headers_merge_operators() -> None:
    headers = MutableHeaders({"a": "1"})
    merged = headers | {"b": "2"}
    assert isinstance(merged, MutableHeaders) and dict(merged) == {"a": "1", "b": "2"}
    assert dict(headers) == {"a": "1"}
    headers |= Headers({"a": "3"})
    assert dict(headers) == {"a": "3"}
    with pytest.raises(TypeError, match="Expected a mapping but got set"):
        headers |= {"x"}  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        headers | {"x"}  # type: ignore[operator]


def test_mutable_headers_add_vary_header() -> None:
    headers = MutableHeaders()
    headers.add_vary_header("Accept")
    headers.add_vary_header("Cookie")
    assert headers["vary"] == "Accept, Cookie"


def test_headers_mutablecopy_is_independent() -> None:
    headers = Headers(raw=[(b"a", b"1")])
    copy = headers.mutablecopy()
    copy["a"] = "2"
    assert headers["a"] == "1" and copy["a"] == "2"


# --- UploadFile ---------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_upload_file_read_write_seek_and_size() -> None:
    upload = UploadFile(io.BytesIO(b"data"), filename="f", size=4, headers=Headers({"content-type": "text/plain"}))
    assert upload.content_type == "text/plain"
    assert await upload.read() == b"data"
    await upload.write(b"++")
    assert upload.size == 6
    await upload.seek(0)
    assert await upload.read(2) == b"da"
    await upload.close()
    assert upload.file.closed
    assert repr(upload) == "UploadFile(filename='f', size=6, headers=Headers({'content-type': 'text/plain'}))"


@pytest.mark.anyio
async def test_upload_file_without_size_does_not_count() -> None:
    upload = UploadFile(io.BytesIO())
    await upload.write(b"abc")
    assert upload.size is None and upload.content_type is None


class _ThreadRecordingFile(SpooledTemporaryFile):  # type: ignore[type-arg]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.write_threads: list[int] = []

    def write(self, s: Any) -> int:
        self.write_threads.append(threading.get_ident())
        return super().write(s)


@pytest.mark.anyio
async def test_upload_file_writes_that_reach_disk_run_off_the_event_loop() -> None:
    spooled = _ThreadRecordingFile(max_size=8)
    upload = UploadFile(spooled, size=0)  # type: ignore[arg-type]
    loop_thread = threading.get_ident()
    await upload.write(b"1234")  # stays in memory: written inline
    await upload.write(b"56789")  # crosses max_size: the rollover happens in a worker thread
    await upload.write(b"more")  # already on disk: worker thread
    assert spooled.write_threads[0] == loop_thread
    assert loop_thread not in spooled.write_threads[1:]
    await upload.seek(0)
    assert await upload.read() == b"123456789more"
    assert upload.size == 13
    await upload.close()


# --- URL components built from the scope agree with parsing the URL string ----------------------------------------

_path_chars = st.sampled_from(list("/abc?#\\@:%. \t\r\n\x00é~+;=&[]") + ["//"])
_hosts = st.sampled_from(
    [b"example.com", b"EXAMPLE.com:8080", b"[::1]", b"[::1]:443", b"[v1.a:b]", b"127.0.0.1:0", b"bad/host", b"a b"]
)


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "ws", "wss", "HTTP", "custom"]),
    path=st.lists(_path_chars, max_size=12).map("".join),
    query=st.binary(max_size=12) | st.sampled_from([b"a=1#frag", b"x=\t1", b"q=%20?&r"]),
    host=st.none() | _hosts,
)
def test_url_components_from_scope_match_urlsplit(scheme: str, path: str, query: bytes, host: bytes | None) -> None:
    headers = [] if host is None else [(b"host", host)]
    scope = {"scheme": scheme, "path": path, "query_string": query, "headers": headers, "server": ("srv", 8000)}
    url = URL(scope=scope)
    try:
        expected = urlsplit(str(url))
    except ValueError:
        return
    assert url.components == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("ab=&+%2041é;") + ["%C3%A9", "%zz", "%", "&&"]), max_size=16).map("".join))
def test_query_params_parse_like_parse_qsl(query: str) -> None:
    expected = parse_qsl(query, keep_blank_values=True)
    assert QueryParams(query).multi_items() == expected
    assert QueryParams(query.encode()).multi_items() == parse_qsl(
        query.encode().decode("latin-1"), keep_blank_values=True
    )


# --- differential: same results as Starlette 1.10 -----------------------------------------------------------------

try:
    import starlette.datastructures as _reference
except ImportError:  # pragma: no cover - the reference is a development dependency only
    _reference = None
# Under Tachyon's compatibility switch `starlette` would be Tachyon itself: nothing to compare then.
_has_reference = _reference is not None and _reference.URL is not URL


@pytest.mark.skipif(not _has_reference, reason="the real Starlette is not importable in this process")
@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "ws", "wss"]),
    path=st.lists(_path_chars, max_size=12).map("".join),
    query=st.text(alphabet="ab=&%2é#?", max_size=8).map(str.encode),
    host=st.none() | _hosts | st.sampled_from([b"h:000080", b"[::ffff:1.2.3.4]", b"[V1.x]", b"h:65536"]),
    server=st.none() | st.sampled_from([("srv", 80), ("srv", 443), ("::1", 8000), ("10.0.0.1", 8080)]),
    root_path=st.sampled_from(["", "/app"]),
)
def test_url_from_scope_matches_starlette(
    scheme: str, path: str, query: bytes, host: bytes | None, server: tuple[str, int] | None, root_path: str
) -> None:
    assert _reference is not None
    headers = [] if host is None else [(b"host", host)]
    scope = {
        "scheme": scheme,
        "path": path,
        "query_string": query,
        "headers": headers,
        "server": server,
        "root_path": root_path,
    }
    ours, theirs = URL(scope=scope), _reference.URL(scope=dict(scope))
    assert str(ours) == str(theirs)
    try:
        expected = theirs.components
    except ValueError:
        return
    assert ours.components == expected
    assert (ours.path, ours.query, ours.netloc, ours.hostname) == (
        theirs.path,
        theirs.query,
        theirs.netloc,
        theirs.hostname,
    )


@pytest.mark.skipif(not _has_reference, reason="the real Starlette is not importable in this process")
@settings(max_examples=200, deadline=None)
@given(
    url=st.sampled_from(["http://u:p@h:1/p?a=1&b=2#f", "https://[::1]:8/x", "/rel?q=1", "//h/p", "ws://h"]),
    change=st.fixed_dictionaries(
        {},
        optional={
            "scheme": st.sampled_from(["http", "wss", ""]),
            "path": st.sampled_from(["/x", "", "y", "//z"]),
            "query": st.sampled_from(["a=1", ""]),
            "fragment": st.sampled_from(["f", ""]),
            "hostname": st.sampled_from(["x", "fe::1", "[::2]", "h:9", ""]),
            "port": st.none() | st.integers(0, 70000),
            "username": st.none() | st.sampled_from(["u", ""]),
            "password": st.none() | st.sampled_from(["p", ""]),
        },
    ),
)
def test_url_replace_matches_starlette(url: str, change: dict[str, Any]) -> None:
    assert _reference is not None
    try:
        expected = str(_reference.URL(url).replace(**change))
    except (TypeError, ValueError, AttributeError) as error:
        with pytest.raises(type(error)):
            URL(url).replace(**change)
        return
    assert str(URL(url).replace(**change)) == expected
