from __future__ import annotations

import copy
import importlib.util
import pickle
import threading
from pathlib import Path
from typing import Any

import pytest
from tachyon_router import Match, MatchStatus, NoRouteFound, Router


def test_found_returns_value_params_and_the_routes_methods(router_backend: str) -> None:
    router: Router[str] = Router(backend=router_backend)
    router.add("/users/{id:int}", "user", methods=["get"], name="user")
    found = router.match("/users/42", "GET")
    assert found == Match(MatchStatus.FOUND, "user", {"id": 42}, frozenset({"GET", "HEAD"}), "user")
    assert found
    assert router.backend == router_backend


def test_head_is_implied_by_get(router_backend: str) -> None:
    router: Router[str] = Router(backend=router_backend)
    router.add("/a", "a", methods=["GET"])
    assert router.match("/a", "HEAD").status is MatchStatus.FOUND


def test_method_not_allowed_reports_the_first_partial_routes_methods(router_backend: str) -> None:
    router: Router[str] = Router(backend=router_backend)
    router.add("/a", "post", methods=["POST"])
    router.add("/a", "put", methods=["PUT", "PATCH"])
    result = router.match("/a", "GET")
    assert result.status is MatchStatus.METHOD_NOT_ALLOWED
    assert result.value is None
    assert result.allowed_methods == frozenset({"POST"})
    assert not result


def test_not_found(router_backend: str) -> None:
    router: Router[str] = Router(backend=router_backend)
    router.add("/a", "a")
    assert router.match("/b", "GET") == Match(MatchStatus.NOT_FOUND)


def test_first_added_route_wins(router_backend: str) -> None:
    router: Router[str] = Router(backend=router_backend)
    router.add("/users/{name}", "by-name")
    router.add("/users/me", "me")
    assert router.match("/users/me").value == "by-name"


def test_routes_added_after_a_match_are_seen(router_backend: str) -> None:
    router: Router[str] = Router(backend=router_backend)
    router.add("/a", "a")
    assert router.match("/b").status is MatchStatus.NOT_FOUND
    router.add("/b", "b")
    assert router.match("/b").value == "b"


def test_websocket_routes_only_match_websocket_lookups(router_backend: str) -> None:
    router: Router[str] = Router(backend=router_backend)
    router.add("/ws", "socket", websocket=True)
    assert router.match("/ws", websocket=True).value == "socket"
    assert router.match("/ws").status is MatchStatus.NOT_FOUND


def test_url_for_builds_the_path_with_convertors() -> None:
    router: Router[str] = Router()
    router.add("/users/{id:int}/files/{path:path}", "f", name="file")
    router.add("/users/{id:int}", "u", name="user")
    assert router.url_for("file", id=3, path="a/b") == "/users/3/files/a/b"
    assert router.url_for("user", id=3) == "/users/3"
    with pytest.raises(NoRouteFound, match="'user'"):
        router.url_for("user", id=3, extra=1)
    with pytest.raises(NoRouteFound):
        router.url_for("nope")
    with pytest.raises(AssertionError, match="Negative integers"):
        router.url_for("user", id=-3)


def test_templates_must_be_paths() -> None:
    router: Router[str] = Router()
    with pytest.raises(ValueError, match="must start with '/'"):
        router.add("users", "u")
    with pytest.raises(AssertionError, match="Unknown path convertor"):
        router.add("/{x:nope}", "u")


def _load_example() -> Any:
    path = Path(__file__).resolve().parents[3] / "tests-integration" / "examples" / "router_only_app.py"
    spec = importlib.util.spec_from_file_location("router_only_app", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _call(app: Any, method: str, path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "method": method, "path": path}, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


@pytest.mark.anyio
async def test_the_router_only_example_app_serves_found_405_and_404() -> None:
    app = _load_example().app
    assert await _call(app, "GET", "/") == (200, {b"content-type": b"text/plain"}, b"home")
    assert (await _call(app, "GET", "/users/42"))[2] == b'{"id": 42}'
    status, headers, _ = await _call(app, "POST", "/users/42")
    assert (status, headers[b"allow"]) == (405, b"GET, HEAD")
    assert (await _call(app, "GET", "/files/docs/readme.txt"))[2] == b"docs/readme.txt (/files/docs/readme.txt)"
    assert (await _call(app, "GET", "/nope"))[0] == 404


def test_match_is_a_typed_record_that_unpacks(router_backend: str) -> None:
    router: Router[str] = Router(backend=router_backend)
    router.add("/users/{id:int}", "user", methods=["GET"], name="user")
    found = router.match("/users/7")
    status, value, params, allowed, name = found
    assert (status, value, params, allowed, name) == (
        MatchStatus.FOUND,
        "user",
        {"id": 7},
        found.allowed_methods,
        "user",
    )
    assert repr(found).startswith("Match(status=MatchStatus.FOUND, value='user', params={'id': 7}")
    match found:
        case Match(status=MatchStatus.FOUND, params={"id": number}):
            assert number == 7
        case _:
            pytest.fail("the match statement did not see the fields")
    assert Match(MatchStatus.NOT_FOUND).params == {}
    assert Match(MatchStatus.NOT_FOUND).params is not Match(MatchStatus.NOT_FOUND).params


def test_results_without_params_are_shared_and_their_params_read_only(router_backend: str) -> None:
    router: Router[str] = Router(backend=router_backend)
    router.add("/a", "a", methods=["GET"])
    router.add("/b/{x}", "b", methods=["POST"])
    for path, method in (("/a", "GET"), ("/a", "POST"), ("/b/1", "GET"), ("/nowhere", "GET")):
        first, second = router.match(path, method), router.match(path, method)
        assert first is second, (path, method)
        assert first.params == {}
        with pytest.raises(TypeError, match="read-only"):
            first.params["x"] = "1"
        with pytest.raises(TypeError, match="read-only"):
            first.params.update(x="1")
        assert dict(first.params) == {}
    found = router.match("/b/1", "POST")
    found.params["extra"] = True  # a result with parameters owns a fresh dict
    assert router.match("/b/1", "POST").params == {"x": "1"}


def test_static_path_taken_by_an_earlier_parameter_route_gets_its_params(router_backend: str) -> None:
    router: Router[str] = Router(backend=router_backend)
    router.add("/users/{name}", "by-name", methods=["GET"])
    router.add("/users/me", "me", methods=["GET", "POST"])
    assert router.match("/users/me") == Match(MatchStatus.FOUND, "by-name", {"name": "me"}, frozenset({"GET", "HEAD"}))
    assert router.match("/users/me", "POST").value == "me"
    assert router.match("/users/me", "PUT").status is MatchStatus.METHOD_NOT_ALLOWED
    assert router.match("/users/me", "PUT").allowed_methods == frozenset({"GET", "HEAD"})
    assert router.match("/users/me", websocket=True).status is MatchStatus.NOT_FOUND


def test_match_survives_copy_and_pickle(router_backend: str) -> None:
    router: Router[str] = Router(backend=router_backend)
    router.add("/users/{id:int}", "user", methods=["GET"], name="user")
    found = router.match("/users/7")
    for clone in (copy.copy(found), copy.deepcopy(found), pickle.loads(pickle.dumps(found))):
        assert type(clone) is Match
        assert clone == found
        assert clone.status is MatchStatus.FOUND and clone.params == {"id": 7}


def test_match_is_built_with_its_fields_by_keyword_and_through_the_generic_alias() -> None:
    built = Match[int](MatchStatus.FOUND, value=3, params={"a": 1}, allowed_methods=frozenset({"GET"}), name="n")
    assert type(built) is Match
    assert tuple(built) == (MatchStatus.FOUND, 3, {"a": 1}, frozenset({"GET"}), "n")
    with pytest.raises(TypeError):
        Match()  # type: ignore[call-arg]


def test_dynamic_paths_answer_the_same_on_every_path_through_match(router_backend: str) -> None:
    """Param hits, a 405 on a parameter route, a miss, a new thread's first lookup, odd and wrong paths."""
    router: Router[str] = Router(backend=router_backend)
    router.add("/users/{id:int}/files/{rest:path}", "files", methods=["GET"], name="files")
    router.add("/users/{name}", "user", methods=["GET"])
    router.add("/plain", "plain")
    expected_hit = Match(MatchStatus.FOUND, "files", {"id": 3, "rest": "a/b"}, frozenset({"GET", "HEAD"}), "files")
    seen: list[Match[str]] = []
    thread = threading.Thread(target=lambda: seen.append(router.match("/users/3/files/a/b")))
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the matching thread did not finish within 30 s"
    assert seen == [expected_hit]
    assert router.match("/users/3/files/a/b") == expected_hit
    assert router.match("/users/3/files/a/b").params is not router.match("/users/3/files/a/b").params
    not_allowed = router.match("/users/bob", "POST")
    assert (not_allowed.status, not_allowed.allowed_methods) == (
        MatchStatus.METHOD_NOT_ALLOWED,
        frozenset({"GET", "HEAD"}),
    )
    assert router.match("/users/\udcff").params == {"name": "\udcff"}  # a lone surrogate is a code point
    assert router.match("/nowhere/at/all") == Match(MatchStatus.NOT_FOUND)
    with pytest.raises(TypeError, match="must be a str, not bytes"):
        router.match(b"/users/3")  # type: ignore[arg-type]
    # Longer than the native tree takes (1 MiB): answered by the exact regex loop instead.
    long_rest = "x" * (1 << 20)
    assert router.match(f"/users/3/files/{long_rest}").params == {"id": 3, "rest": long_rest}
    assert router.match(f"/users/3/files/{long_rest}", "PUT").status is MatchStatus.METHOD_NOT_ALLOWED
