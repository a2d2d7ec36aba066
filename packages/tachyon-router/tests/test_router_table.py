from __future__ import annotations

import copy
import threading
import uuid
from typing import Any

import pytest
import starlette.routing as reference
from tachyon_router import HTTP, WEBSOCKET, RouteSpec, RouteTable, _pure, compile_path, replace_params, url_path
from tachyon_router.convertors import CONVERTOR_TYPES, Convertor

GET = frozenset({"GET", "HEAD"})
POST = frozenset({"POST"})


def table(backend: str, *specs: RouteSpec) -> RouteTable:
    return RouteTable(list(specs), backend=backend)


def test_unknown_backend_is_rejected() -> None:
    with pytest.raises(ValueError, match="Unknown router backend 'rust'"):
        RouteTable([], backend="rust")


def test_table_reports_its_backend(router_backend: str) -> None:
    assert table(router_backend).backend == router_backend


def test_empty_table_matches_nothing(router_backend: str) -> None:
    assert table(router_backend).lookup("/", "GET", HTTP) == (-1, -1, (), {})


def test_first_registered_route_wins_over_a_later_static_one(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/users/{id}", GET, HTTP), RouteSpec("/users/me", GET, HTTP))
    assert routes.lookup("/users/me", "GET", HTTP) == (0, -1, (), {"id": "me"})


def test_static_route_registered_first_wins_over_a_later_param_route(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/users/me", GET, HTTP), RouteSpec("/users/{id}", GET, HTTP))
    assert routes.lookup("/users/me", "GET", HTTP) == (0, -1, (), {})
    assert routes.lookup("/users/you", "GET", HTTP) == (1, -1, (), {"id": "you"})


def test_catch_all_registered_first_still_wins(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/{rest:path}", None), RouteSpec("/users/me", GET, HTTP))
    assert routes.lookup("/users/me", "GET", HTTP) == (0, -1, (), {"rest": "users/me"})


def test_wrong_method_gives_the_first_partial_route(router_backend: str) -> None:
    routes = table(
        router_backend,
        RouteSpec("/items/{id}", POST, HTTP),
        RouteSpec("/items/{id:int}", frozenset({"PUT"}), HTTP),
    )
    assert routes.lookup("/items/3", "GET", HTTP) == (-1, 0, (), {})


def test_a_later_full_match_beats_an_earlier_partial(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/items", POST, HTTP), RouteSpec("/items", GET, HTTP))
    full, partial, _, _ = routes.lookup("/items", "GET", HTTP)
    assert (full, partial) == (1, 0)
    assert routes.lookup("/items", "DELETE", HTTP)[:2] == (-1, 0)


def test_partial_route_gives_its_own_methods_for_the_allow_header(router_backend: str) -> None:
    specs = [RouteSpec("/a", POST, HTTP), RouteSpec("/a", frozenset({"PUT", "PATCH"}), HTTP)]
    _, partial, _, _ = table(router_backend, *specs).lookup("/a", "GET", HTTP)
    assert specs[partial].methods == POST


def test_methods_none_or_empty_accept_any_method(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/any", None, HTTP), RouteSpec("/empty", frozenset(), HTTP))
    assert routes.lookup("/any", "BREW", HTTP)[0] == 0
    assert routes.lookup("/empty", "BREW", HTTP)[0] == 1


def test_unknown_request_method_is_only_accepted_by_any_method_routes(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/x", GET, HTTP), RouteSpec("/x", None, HTTP))
    assert routes.lookup("/x", "BREW", HTTP)[:2] == (1, 0)


def test_custom_methods_are_matched(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/c/{x}", frozenset({"PURGE"}), HTTP))
    assert routes.lookup("/c/1", "PURGE", HTTP) == (0, -1, (), {"x": "1"})
    assert routes.lookup("/c/1", "GET", HTTP) == (-1, 0, (), {})


def test_more_distinct_methods_than_bits_still_match_exactly(router_backend: str) -> None:
    specs = [RouteSpec(f"/m{i}/{{x}}", frozenset({f"M{i}"}), HTTP) for i in range(40)]
    routes = table(router_backend, *specs)
    for i in (0, 30, 35, 39):
        assert routes.lookup(f"/m{i}/v", f"M{i}", HTTP) == (i, -1, (), {"x": "v"})
        assert routes.lookup(f"/m{i}/v", "GET", HTTP) == (-1, i, (), {})


def test_scope_types_select_http_or_websocket_routes(router_backend: str) -> None:
    routes = table(
        router_backend,
        RouteSpec("/ws", None, WEBSOCKET),
        RouteSpec("/ws", GET, HTTP),
        RouteSpec("/both/{x}", None, HTTP | WEBSOCKET),
    )
    assert routes.lookup("/ws", "GET", WEBSOCKET)[0] == 0
    assert routes.lookup("/ws", "GET", HTTP)[0] == 1
    assert routes.lookup("/both/1", "GET", WEBSOCKET)[0] == 2
    assert routes.lookup("/both/1", "GET", HTTP)[0] == 2
    assert routes.lookup("/ws", "POST", HTTP) == (-1, 1, (), {})
    assert routes.lookup("/ws", "GET", 4) == (-1, -1, (), {})


@pytest.mark.parametrize(
    ("template", "path", "params"),
    [
        ("/i/{n:int}", "/i/0042", {"n": 42}),
        ("/f/{x:float}", "/f/2.50", {"x": 2.5}),
        ("/f/{x:float}", "/f/7", {"x": 7.0}),
        (
            "/u/{u:uuid}",
            "/u/12345678123456781234567812345678",
            {"u": uuid.UUID(int=0x12345678123456781234567812345678)},
        ),
        ("/p/{p:path}", "/p/a/b/", {"p": "a/b/"}),
        ("/p/{p:path}", "/p/", {"p": ""}),
        ("/s/{s}", "/s/%2F", {"s": "%2F"}),
    ],
)
def test_params_have_starlettes_types_and_values(
    router_backend: str, template: str, path: str, params: dict[str, Any]
) -> None:
    got = table(router_backend, RouteSpec(template, None)).lookup(path, "GET", HTTP)[3]
    assert got == params
    assert [type(v) for v in got.values()] == [type(v) for v in params.values()]


def test_int_param_rejects_non_ascii_digits(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/i/{n:int}", None))
    assert routes.lookup("/i/١٢", "GET", HTTP)[0] == -1
    assert routes.lookup("/i/-1", "GET", HTTP)[0] == -1


@pytest.mark.parametrize("digits", ["7", "999999999", "1000000000", "0" * 30 + "12", "9" * 40])
def test_int_params_of_any_length_convert_like_int(router_backend: str, digits: str) -> None:
    routes = table(router_backend, RouteSpec("/i/{n:int}/{m:int}", None))
    assert routes.lookup(f"/i/{digits}/{digits}", "GET", HTTP) == (0, -1, (), {"n": int(digits), "m": int(digits)})


def test_params_after_non_ascii_literals_and_before_a_final_newline(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/日本/{n:int}/ü/{s}", None), RouteSpec("/é{a}/{b:int}", None))
    assert routes.lookup("/日本/12/ü/ß\n", "GET", HTTP) == (0, -1, (), {"n": 12, "s": "ß\n"})
    assert routes.lookup("/éx😀/5\n", "GET", HTTP) == (1, -1, (), {"a": "x😀", "b": 5})


def test_more_params_than_the_native_fast_answer_holds(router_backend: str) -> None:
    template = "".join(f"/{{p{i}:int}}" for i in range(40))
    routes = table(router_backend, RouteSpec(template, None))
    path = "".join(f"/{i}" for i in range(40))
    assert routes.lookup(path, "GET", HTTP) == (0, -1, (), {f"p{i}": i for i in range(40)})


def test_a_convertor_that_looks_paths_up_itself_does_not_disturb_the_answer(router_backend: str) -> None:
    # Conversions run after the tree answered; a nested lookup on the same thread must not clobber the
    # outer lookup's spans before they are read.
    inner: list[RouteTable] = []

    class Resolving(Convertor[str]):
        regex = "[^/]+"

        def convert(self, value: str) -> str:
            inner[0].lookup("/other/123456/abcdef", "GET", HTTP)
            return value.upper()

        def to_string(self, value: str) -> str:
            return value.lower()

    routes = table(
        router_backend, RouteSpec("/r/{a}/{b}/{c}", None, HTTP, {"a": Resolving(), "b": Resolving(), "c": Resolving()})
    )
    inner.append(table(router_backend, RouteSpec("/other/{x}/{y}", None)))
    assert routes.lookup("/r/x/yy/zzz", "GET", HTTP) == (0, -1, (), {"a": "X", "b": "YY", "c": "ZZZ"})


def test_tables_of_either_backend_are_route_tables(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/a/{x}", None))
    assert isinstance(routes, RouteTable)
    assert routes.lookup("/a/b", "GET", HTTP) == (0, -1, (), {"x": "b"})
    assert RouteTable((), backend=router_backend).backend == router_backend


def test_tables_are_immutable_so_copies_share_them(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/a/{x:int}", None))
    assert copy.copy(routes) is routes
    assert copy.deepcopy({"table": routes})["table"] is routes


def test_uuid_hyphens_are_optional_only_at_their_places(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/u/{u:uuid}", None))
    assert routes.lookup("/u/12345678-1234-5678-1234-567812345678", "GET", HTTP)[0] == 0
    assert routes.lookup("/u/12345678-12345678-1234-567812345678", "GET", HTTP)[0] == 0
    assert routes.lookup("/u/1234567-81234-5678-1234-567812345678", "GET", HTTP)[0] == -1


def test_params_inside_a_segment_split_greedily(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/f/{name}.{ext}", None), RouteSpec("/v/{a:int}-{b}", None))
    assert routes.lookup("/f/a.b.c", "GET", HTTP)[3] == {"name": "a.b", "ext": "c"}
    assert routes.lookup("/f/.c", "GET", HTTP)[0] == -1
    assert routes.lookup("/v/12-3-4", "GET", HTTP)[3] == {"a": 12, "b": "3-4"}


def test_path_param_in_the_middle_of_a_template(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/repo/{rest:path}/edit", None))
    assert routes.lookup("/repo/a/b/edit", "GET", HTTP)[3] == {"rest": "a/b"}
    assert routes.lookup("/repo/a/edit/edit", "GET", HTTP)[3] == {"rest": "a/edit"}
    assert routes.lookup("/repo//edit", "GET", HTTP)[3] == {"rest": ""}
    assert routes.lookup("/repo/edit", "GET", HTTP)[0] == -1


@pytest.mark.parametrize(
    ("template", "path", "params"),
    [
        ("/foo", "/foo\n", {}),
        ("/r/{id:int}", "/r/12\n", {"id": 12}),
        ("/u/{x}", "/u/ab\n", {"x": "ab\n"}),
        ("/p/{p:path}", "/p/a\n", {"p": "a"}),
    ],
)
def test_end_anchor_also_matches_before_one_final_newline(
    router_backend: str, template: str, path: str, params: dict[str, Any]
) -> None:
    assert reference.compile_path(template)[0].match(path)
    assert table(router_backend, RouteSpec(template, None)).lookup(path, "GET", HTTP) == (0, -1, (), params)


def test_only_one_final_newline_is_forgiven(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/foo", None), RouteSpec("/p/{p:path}", None))
    assert routes.lookup("/foo\n\n", "GET", HTTP)[0] == -1
    assert routes.lookup("/p/a\nb", "GET", HTTP)[0] == -1


def test_unicode_paths_give_code_point_params(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/é/{name}/{rest:path}", None), RouteSpec("/日本/{n:int}", None))
    assert routes.lookup("/é/ünï😀/a/ß", "GET", HTTP)[3] == {"name": "ünï😀", "rest": "a/ß"}
    assert routes.lookup("/日本/7", "GET", HTTP)[3] == {"n": 7}
    assert routes.lookup("/e/x/y", "GET", HTTP)[0] == -1


def test_lone_surrogates_in_the_path_do_not_break_matching(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/s/{x}", None))
    assert routes.lookup("/s/\udcff\ud800", "GET", HTTP)[3] == {"x": "\udcff\ud800"}


# A str path can hold lone surrogates (a server decoding undecodable bytes with "surrogateescape" makes them):
# each is one code point, matched as Starlette's regex loop matches it (the native tree sees it encoded with
# "surrogatepass", three bytes of UTF-8 shape). Every answer is checked against that loop.
SURROGATE_SPECS = [
    RouteSpec("/\udcff", None),
    RouteSpec("/n/{n:int}", None),
    RouteSpec("/f/{x:float}", None),
    RouteSpec("/s/{a}\udcff{b}", None),
    RouteSpec("/p/{rest:path}", None),
    RouteSpec("/{any}", None),
]
SURROGATE_PATHS = [
    "/\udcff",
    "/\udcff\n",
    "/\ud800",
    "/\udcff\udcff",
    "/n/12\udcff",
    "/n/\udcff12",
    "/f/1.\udcff",
    "/s/x\udcffy\udcffz",
    "/s/\udcff\udcff",
    "/p/\udcff/\ud800\udc00",
    "/é\udcff日",
]


@pytest.mark.parametrize("path", SURROGATE_PATHS)
def test_lone_surrogate_paths_match_like_starlettes_loop(router_backend: str, path: str) -> None:
    expected = (-1, {})
    for index, spec in enumerate(SURROGATE_SPECS):
        assert spec.template is not None
        regex, _, convertors = reference.compile_path(spec.template)
        found = regex.match(path)
        if found is not None:
            expected = (index, {key: convertors[key].convert(value) for key, value in found.groupdict().items()})
            break
    answer = table(router_backend, *SURROGATE_SPECS).lookup(path, "GET", HTTP)
    assert (answer[0], answer[3]) == expected


@pytest.mark.parametrize("path", [b"/s/x", b"/s/\xff", b"/static", None, 7])
def test_a_path_that_is_not_a_str_is_a_type_error(router_backend: str, path: Any) -> None:
    # Starlette's regex loop raises TypeError for a bytes path too; no backend may answer "no match" for it.
    routes = table(router_backend, RouteSpec("/static", None), RouteSpec("/s/{x}", None))
    with pytest.raises(TypeError, match="a route path must be a str"):
        routes.lookup(path, "GET", HTTP)


def test_caller_opaque_routes_are_candidates_below_the_full_match(router_backend: str) -> None:
    routes = table(
        router_backend,
        RouteSpec(None, prefix="/api"),
        RouteSpec("/api/{x}", None, HTTP),
        RouteSpec(None, prefix=""),
        RouteSpec(None, prefix="/other"),
    )
    assert routes.lookup("/api/1", "GET", HTTP) == (1, -1, (0,), {"x": "1"})
    assert routes.lookup("/nothing", "GET", HTTP) == (-1, -1, (2,), {})
    assert routes.lookup("/api", "GET", HTTP) == (-1, -1, (0, 2), {})
    assert routes.lookup("/other/x", "GET", WEBSOCKET) == (-1, -1, (2, 3), {})


def test_caller_opaque_candidates_respect_their_scope_types(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec(None, None, WEBSOCKET), RouteSpec(None, None, HTTP))
    assert routes.lookup("/x", "GET", HTTP)[2] == (1,)
    assert routes.lookup("/x", "GET", WEBSOCKET)[2] == (0,)


class _Hex(Convertor[int]):
    regex = "[0-9a-f]+"

    def convert(self, value: str) -> int:
        return int(value, 16)

    def to_string(self, value: int) -> str:
        return format(value, "x")


def test_custom_convertor_routes_keep_their_place_in_the_order(router_backend: str) -> None:
    hexed = {"h": _Hex()}
    routes = table(
        router_backend,
        RouteSpec("/c/{h}", GET, HTTP, hexed),
        RouteSpec("/c/{s}", None, HTTP),
        RouteSpec("/d/{s}", None, HTTP),
        RouteSpec("/d/{h}", None, HTTP, hexed),
    )
    assert routes.lookup("/c/ff", "GET", HTTP) == (0, -1, (), {"h": 255})
    assert routes.lookup("/c/zz", "GET", HTTP) == (1, -1, (), {"s": "zz"})
    assert routes.lookup("/c/ff", "POST", HTTP) == (1, 0, (), {"s": "ff"})
    assert routes.lookup("/d/ff", "GET", HTTP) == (2, -1, (), {"s": "ff"})


def test_custom_convertor_route_gives_a_partial(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/c/{h}", POST, HTTP, {"h": _Hex()}), RouteSpec("/c/x", POST, HTTP))
    assert routes.lookup("/c/ab", "GET", HTTP) == (-1, 0, (), {})
    assert routes.lookup("/c/x", "GET", HTTP) == (-1, 1, (), {})


def test_reregistered_builtin_key_with_the_same_regex_uses_the_bound_convert(router_backend: str) -> None:
    class Doubled(Convertor[int]):
        regex = "[0-9]+"

        def convert(self, value: str) -> int:
            return int(value) * 2

        def to_string(self, value: int) -> str:
            return str(value // 2)

    routes = table(router_backend, RouteSpec("/d/{n:int}", None, HTTP, {"n": Doubled()}))
    assert routes.lookup("/d/21", "GET", HTTP)[3] == {"n": 42}


def test_convertors_default_to_the_registered_ones_at_build_time(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/n/{n:int}", None))
    assert routes.lookup("/n/5", "GET", HTTP)[3] == {"n": 5}


def test_host_templates_are_matched_case_insensitively_by_regex(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("{sub}.example.org", None))
    assert routes.lookup("API.Example.org", "GET", HTTP) == (0, -1, (), {"sub": "API"})


def test_static_fast_path_is_exact_with_earlier_dynamic_routes(router_backend: str) -> None:
    routes = table(
        router_backend,
        RouteSpec("/files/{name}", POST, HTTP),
        RouteSpec("/files/{n:int}", GET, HTTP),
        RouteSpec("/files/readme", GET, HTTP),
        RouteSpec("/files/12", None, WEBSOCKET),
    )
    assert routes.lookup("/files/readme", "GET", HTTP) == (2, 0, (), {})
    assert routes.lookup("/files/readme", "POST", HTTP) == (0, -1, (), {"name": "readme"})
    assert routes.lookup("/files/readme", "DELETE", HTTP) == (-1, 0, (), {})
    assert routes.lookup("/files/12", "GET", HTTP) == (1, 0, (), {"n": 12})
    assert routes.lookup("/files/12", "GET", WEBSOCKET) == (3, -1, (), {})


def test_static_answers_give_a_fresh_params_dict_every_time(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/users/{id}", None), RouteSpec("/users/me", None))
    first = routes.lookup("/users/me", "GET", HTTP)[3]
    first["id"] = "changed"
    assert routes.lookup("/users/me", "GET", HTTP)[3] == {"id": "me"}
    empty = table(router_backend, RouteSpec("/a", None)).lookup("/a", "GET", HTTP)[3]
    empty["x"] = 1
    assert table(router_backend, RouteSpec("/a", None)).lookup("/a", "GET", HTTP)[3] == {}


def test_duplicate_templates_resolve_to_the_first_that_accepts_the_method(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/d", POST, HTTP), RouteSpec("/d", GET, HTTP), RouteSpec("/d", None, HTTP))
    assert routes.lookup("/d", "GET", HTTP)[:2] == (1, 0)
    assert routes.lookup("/d", "PUT", HTTP)[:2] == (2, 0)


def test_mount_style_catch_all_needs_the_slash(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/static/{path:path}", None), RouteSpec("/{path:path}", None))
    assert routes.lookup("/static", "GET", HTTP) == (1, -1, (), {"path": "static"})
    assert routes.lookup("/static/", "GET", HTTP) == (0, -1, (), {"path": ""})
    assert routes.lookup("", "GET", HTTP) == (-1, -1, (), {})


HUGE = 64 * 1024


def test_huge_path_of_64_kib(router_backend: str) -> None:
    routes = table(
        router_backend,
        RouteSpec("/a/{x}", None),
        RouteSpec("/a/{rest:path}/edit", None),
        RouteSpec("/a/{rest:path}", None),
    )
    long_segment = "/a/" + "x" * HUGE
    assert routes.lookup(long_segment, "GET", HTTP) == (0, -1, (), {"x": "x" * HUGE})
    deep = "/a/" + "b/" * (HUGE // 2)
    assert routes.lookup(deep, "GET", HTTP) == (2, -1, (), {"rest": "b/" * (HUGE // 2)})
    assert routes.lookup(deep + "edit", "GET", HTTP)[3] == {"rest": ("b/" * (HUGE // 2))[:-1]}


def test_ten_thousand_segments(router_backend: str) -> None:
    routes = table(router_backend, RouteSpec("/{a}/{b}/{c}", None), RouteSpec("/{rest:path}/x", None))
    path = "/s" * 10_000
    assert routes.lookup(path, "GET", HTTP) == (-1, -1, (), {})
    assert routes.lookup(path + "/x", "GET", HTTP)[3] == {"rest": path[1:]}


def test_pathological_in_segment_params_stay_exact(router_backend: str) -> None:
    template = "/" + "-".join(f"{{p{i}}}" for i in range(8))
    routes = table(router_backend, RouteSpec(template, None), RouteSpec("/{x}", None))
    path = "/" + "-" * 40
    expected = reference.compile_path(template)[0].match(path)
    assert expected is not None
    full, _, _, params = routes.lookup(path, "GET", HTTP)
    assert full == 0
    assert params == expected.groupdict()


def test_twin_declines_when_over_its_work_budget_and_the_table_stays_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pure, "WORK_BUDGET", 5)
    routes = RouteTable([RouteSpec("/a/{x}-{y}", None), RouteSpec("/a/{z}", None)], backend="python")
    assert routes._matcher.lookup("/a/b-c-d-e-f", 0, HTTP) is None
    assert routes.lookup("/a/b-c-d-e-f", "GET", HTTP) == (0, -1, (), {"x": "b-c-d-e", "y": "f"})


def test_rebuilding_gives_a_new_independent_table(router_backend: str) -> None:
    specs = [RouteSpec("/a", None)]
    first = RouteTable(specs, backend=router_backend)
    specs.append(RouteSpec("/b", None))
    second = RouteTable(specs, backend=router_backend)
    assert first.lookup("/b", "GET", HTTP)[0] == -1
    assert second.lookup("/b", "GET", HTTP)[0] == 1
    assert len(first) == 1
    assert len(second) == 2


def test_concurrent_lookups_from_threads_agree(router_backend: str) -> None:
    routes = table(router_backend, *[RouteSpec(f"/r{i}/{{id:int}}", None) for i in range(50)])
    errors: list[str] = []

    def worker(offset: int) -> None:
        for n in range(300):
            i = (n + offset) % 50
            got = routes.lookup(f"/r{i}/{n}", "GET", HTTP)
            if got != (i, -1, (), {"id": n}):
                errors.append(repr(got))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_replace_params_behaves_like_starlettes() -> None:
    _, path_format, convertors = compile_path("/u/{id:int}/f/{name}")
    ours: dict[str, Any] = {"id": 3, "extra": 1}
    theirs: dict[str, Any] = dict(ours)
    assert replace_params(path_format, convertors, ours) == reference.replace_params(
        path_format, reference.compile_path("/u/{id:int}/f/{name}")[2], theirs
    )
    assert ours == theirs == {"extra": 1}
    assert replace_params(path_format, convertors, {}) == (path_format, {})


def test_url_path_requires_exactly_the_template_params() -> None:
    _, path_format, convertors = compile_path("/u/{id:int}/{rest:path}")
    assert url_path(path_format, convertors, {"id": 7, "rest": "a/b"}) == "/u/7/a/b"
    with pytest.raises(LookupError, match="missing rest; unexpected x"):
        url_path(path_format, convertors, {"id": 7, "x": 1})
    with pytest.raises(AssertionError, match="Negative integers are not supported"):
        url_path(path_format, convertors, {"id": -1, "rest": ""})


def test_builtin_convertor_instances_are_shared_with_compile_path() -> None:
    assert compile_path("/{x}")[2]["x"] is CONVERTOR_TYPES["str"]


@pytest.mark.parametrize("template", ["/items/{n:int}", "/items/{n:int}/x", "/{a}/{n:int}"])
def test_an_int_parameter_past_the_digit_limit_does_not_match(router_backend: str, template: str) -> None:
    # int() refuses more than sys.get_int_max_str_digits() (4300) digits: Starlette answers 500, the table
    # answers "no match" (a deliberate difference, docs/security.md).
    routes = table(router_backend, RouteSpec(template, GET, HTTP))
    concrete = template.replace("{a}", "items")
    assert routes.lookup(concrete.replace("{n:int}", "1" * 4300), "GET", HTTP)[3] == {"n": int("1" * 4300)} | (
        {"a": "items"} if "{a}" in template else {}
    )
    for digits in ("1" * 4301, "0" * 5000 + "1", "9" * 100_000):
        assert routes.lookup(concrete.replace("{n:int}", digits), "GET", HTTP) == (-1, -1, (), {})
        # A method mismatch converts nothing: the partial match (405) stands.
        assert routes.lookup(concrete.replace("{n:int}", digits), "POST", HTTP)[0] == -1
