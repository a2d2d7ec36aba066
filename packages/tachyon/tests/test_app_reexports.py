from __future__ import annotations

import importlib

import pytest

REEXPORTS = {
    "tachyon.requests": "tachyon_http.requests",
    "tachyon.responses": "tachyon_http.responses",
    "tachyon.datastructures": "tachyon_http.datastructures",
    "tachyon.background": "tachyon_http.background",
    "tachyon.concurrency": "tachyon_http.concurrency",
    "tachyon.exceptions": "tachyon_http.exceptions",
    "tachyon.formparsers": "tachyon_http.formparsers",
    "tachyon.status": "tachyon_http.status",
    "tachyon._utils": "tachyon_http._utils",
    "tachyon.websockets": "tachyon_ws.websockets",
    "tachyon.testclient": "tachyon_testclient.testclient",
    "tachyon.convertors": "tachyon_router.convertors",
}


@pytest.mark.parametrize(("public", "implementing"), REEXPORTS.items())
def test_reexport_module_exposes_the_implementing_objects(public: str, implementing: str) -> None:
    module = importlib.import_module(public)
    implementation = importlib.import_module(implementing)
    assert module.__all__ == implementation.__all__
    for name in implementation.__all__:
        assert getattr(module, name) is getattr(implementation, name), name


def test_types_adds_the_exception_handler_aliases_to_the_asgi_ones() -> None:
    import tachyon.types
    import tachyon_http.types

    handler_aliases = {"ExceptionHandler", "HTTPExceptionHandler", "WebSocketExceptionHandler"}
    assert set(tachyon.types.__all__) == set(tachyon_http.types.__all__) | handler_aliases
    assert not handler_aliases & set(tachyon_http.types.__all__)  # tachyon-http names no WebSocket
    for name in tachyon_http.types.__all__:
        assert getattr(tachyon.types, name) is getattr(tachyon_http.types, name), name


def test_private_names_resolve_on_the_implementing_module() -> None:
    import tachyon.formparsers
    import tachyon_http.formparsers

    assert tachyon.formparsers.SpooledTemporaryFile is tachyon_http.formparsers.SpooledTemporaryFile


def test_unknown_names_raise_attribute_error_naming_the_public_module() -> None:
    import tachyon.requests

    with pytest.raises(AttributeError, match="module 'tachyon.requests' has no attribute 'nope'"):
        tachyon.requests.nope  # noqa: B018
