from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from tachyon_testclient.testclient import TestClient

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from tachyon.middleware.wsgi import WSGIMiddleware, build_environ


def echo_environ(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    start_response("201 Created", [("Content-Type", "text/plain"), ("X-Path", environ["PATH_INFO"])])
    return [b"got:", body]


def test_importing_the_module_warns_about_deprecation() -> None:
    import importlib

    import tachyon.middleware.wsgi as module
    from tachyon_http.exceptions import TachyonDeprecationWarning

    with pytest.warns(TachyonDeprecationWarning, match="deprecated"):
        importlib.reload(module)


def test_wsgi_app_receives_body_and_returns_status_and_headers() -> None:
    response = TestClient(WSGIMiddleware(echo_environ)).post("/some/path", content=b"data")
    assert response.status_code == 201
    assert response.headers["x-path"] == "/some/path"
    assert response.text == "got:data"


def test_wsgi_exception_propagates() -> None:
    def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raise RuntimeError("wsgi failed")

    with pytest.raises(RuntimeError, match="wsgi failed"):
        TestClient(WSGIMiddleware(broken)).get("/")


def test_build_environ_follows_pep_3333() -> None:
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/sub/caf\u00e9",
        "root_path": "/sub",
        "query_string": b"a=1",
        "headers": [
            (b"host", b"example.org"),
            (b"content-type", b"text/plain"),
            (b"content-length", b"0"),
            (b"x-multi", b"1"),
            (b"x-multi", b"2"),
        ],
        "client": ("10.0.0.1", 1234),
        "server": ("example.org", 443),
    }
    environ = build_environ(scope, b"")
    assert environ["SCRIPT_NAME"] == "/sub"
    assert environ["PATH_INFO"] == "/caf\u00c3\u00a9"  # UTF-8 bytes seen as latin-1
    assert environ["QUERY_STRING"] == "a=1"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "0"
    assert environ["HTTP_HOST"] == "example.org"
    assert environ["HTTP_X_MULTI"] == "1,2"
    assert environ["REMOTE_ADDR"] == "10.0.0.1"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.org", 443)
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["wsgi.errors"] is sys.stdout


def test_build_environ_defaults_server_address() -> None:
    scope = {"http_version": "1.1", "method": "GET", "path": "/", "query_string": b"", "headers": []}
    environ = build_environ(scope, b"")
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("localhost", 80)
    assert "REMOTE_ADDR" not in environ


def test_exc_info_given_to_start_response_is_raised_after_the_response() -> None:
    def reports_error(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            raise ValueError("caught by the app")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"error page"]

    with pytest.raises(ValueError, match="caught by the app"):
        TestClient(WSGIMiddleware(reports_error)).get("/")
    response = TestClient(WSGIMiddleware(reports_error), raise_server_exceptions=False).get("/")
    assert response.status_code == 500


def test_mounted_wsgi_app_sees_script_name() -> None:
    from tachyon.applications import Tachyon
    from tachyon.routing import Mount

    def where(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [])
        return [f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()]

    app = Tachyon(routes=[Mount("/legacy", app=WSGIMiddleware(where))])
    assert TestClient(app).get("/legacy/page").text == "/legacy|/page"


def test_large_bodies_are_spooled_and_read_back_intact() -> None:
    from tachyon.middleware.wsgi import WSGI_INPUT_MEMORY_LIMIT

    seen: dict[str, Any] = {}

    def digest(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        stream = environ["wsgi.input"]
        seen["rolled_to_disk"] = getattr(stream, "_rolled", None)
        data = stream.read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(len(data)).encode(), b":", data[-3:]]

    payload = b"a" * (2 * WSGI_INPUT_MEMORY_LIMIT) + b"end"

    def chunks() -> Iterable[bytes]:
        for start in range(0, len(payload), 65536):
            yield payload[start : start + 65536]

    response = TestClient(WSGIMiddleware(digest)).post("/", content=chunks())
    assert response.text == f"{len(payload)}:end"
    assert seen["rolled_to_disk"] is True
