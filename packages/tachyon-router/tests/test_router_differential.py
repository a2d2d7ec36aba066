"""Property tests: the native tree, the pure-Python twin and Starlette's own regex loop must agree.

Random route tables (static routes, typed params, params inside a segment, catch-alls, mounts written as
``prefix/{path:path}``, duplicates, overlaps, method sets, both scope types, custom convertors, opaque
routes) are matched against random paths biased to hit them. The reference answer is Starlette 1.10.0's
``compile_path`` regexes scanned in registration order, exactly as its Router does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import starlette.convertors as ref_convertors
import starlette.routing as reference
from hypothesis import HealthCheck, given, settings, strategies as st
from tachyon_router import HTTP, WEBSOCKET, RouteSpec, RouteTable, _pure, compile_path
from tachyon_router.convertors import CONVERTOR_TYPES, Convertor

# A convertor whose regex the tree cannot reproduce: its routes are matched by regex, in order.
CUSTOM_KEY = "twodigits"


class _TwoDigits(Convertor[int]):
    regex = "[0-9]{2}"

    def convert(self, value: str) -> int:
        return int(value) * 10

    def to_string(self, value: int) -> str:
        return f"{value // 10:02d}"


class _RefTwoDigits(ref_convertors.Convertor[int]):
    regex = "[0-9]{2}"

    def convert(self, value: str) -> int:
        return int(value) * 10

    def to_string(self, value: int) -> str:
        return f"{value // 10:02d}"


# "\udcff" is a lone surrogate, which a str path holds for an undecodable byte: any str is a path.
LITERAL_WORDS = ["a", "b", "ab", "users", "é", "日本", "1", "12", "x.y", "-", ".", "me", "v1.0", "a b", "%", "\udcff"]
KINDS = ["str", "int", "float", "uuid", "path", CUSTOM_KEY]
METHOD_SETS: list[frozenset[str] | None] = [
    None,
    frozenset({"GET", "HEAD"}),
    frozenset({"POST"}),
    frozenset({"GET", "HEAD", "POST"}),
    frozenset({"PUT", "DELETE"}),
    frozenset({"PURGE"}),
]
REQUEST_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PURGE", "BREW"]


@st.composite
def segment(draw: st.DrawFn, names: list[str]) -> str:
    def param(kind: str | None = None) -> str:
        name = f"p{len(names)}"
        names.append(name)
        chosen = kind if kind is not None else draw(st.sampled_from(KINDS))
        return "{" + name + "}" if chosen == "str" and draw(st.booleans()) else "{" + name + ":" + chosen + "}"

    shape = draw(st.integers(0, 6))
    if shape <= 1:
        return draw(st.sampled_from(LITERAL_WORDS))
    if shape == 2:
        return param()
    if shape == 3:  # params inside one segment
        sep = draw(st.sampled_from([".", "-", "_", "x", "1"]))
        return param(draw(st.sampled_from(["str", "int"]))) + sep + param(draw(st.sampled_from(["str", "int"])))
    if shape == 4:  # literal prefix/suffix around a param
        return (
            draw(st.sampled_from(["v", "item-", ""]))
            + param()
            + draw(st.sampled_from([".json", "", "s", ".5", "0", "-"]))
        )
    if shape == 5:
        return param("int")
    return param("str")


@st.composite
def template(draw: st.DrawFn) -> str:
    names: list[str] = []
    count = draw(st.integers(0, 4))
    parts = [draw(segment(names)) for _ in range(count)]
    text = "/" + "/".join(parts)
    ending = draw(st.integers(0, 6))
    if ending == 0:
        text += "/"
    elif ending == 1:  # mount-like catch-all
        text = text.rstrip("/") + "/{rest:path}"
    elif ending == 2:  # catch-all followed by a literal
        text = text.rstrip("/") + "/{rest:path}" + draw(st.sampled_from(["/edit", ".txt", "/"]))
    return text


@st.composite
def spec(draw: st.DrawFn, earlier: list[RouteSpec]) -> RouteSpec:
    if earlier and draw(st.integers(0, 7)) == 0:  # exact duplicate of an earlier template
        base = draw(st.sampled_from(earlier))
        if base.template is not None:
            return RouteSpec(base.template, draw(st.sampled_from(METHOD_SETS)), draw(st.sampled_from([1, 2, 3])))
    if draw(st.integers(0, 15)) == 0:  # matched by the caller itself
        return RouteSpec(
            None, None, draw(st.sampled_from([1, 2, 3])), None, draw(st.sampled_from(["", "/a", "/users/"]))
        )
    return RouteSpec(draw(template()), draw(st.sampled_from(METHOD_SETS)), draw(st.sampled_from([1, 2, 3])))


@st.composite
def route_table(draw: st.DrawFn) -> list[RouteSpec]:
    specs: list[RouteSpec] = []
    for _ in range(draw(st.integers(1, 10))):
        specs.append(draw(spec(specs)))
    return specs


PARAM_VALUES = {
    "str": ["a", "me", "x.y.z", "é", "12", "a\n", "1.5", "a-b", "%2F", "日本語", "\udcff", "a\ud800b"],
    "int": ["0", "7", "0042", "12", "123456789012345678901234567890", "1.5", "12\udcff"],
    "float": ["1", "1.5", "0.25", "12.", "1.2.3", "3.14159", "1.5.5", "10", "2.50"],
    "uuid": [
        "12345678-1234-5678-1234-567812345678",
        "12345678123456781234567812345678",
        "ABCDEF01-2345-6789-ABCD-EF0123456789",
        "12345678-12345678-1234-567812345678",
    ],
    "path": ["", "a", "a/b", "a/b/", "é/日本", "x\ny", "edit", "a/edit", "\udcff/\udcfe"],
    CUSTOM_KEY: ["12", "1", "123", "00"],
}


@st.composite
def path_for(draw: st.DrawFn, specs: list[RouteSpec]) -> str:
    choice = draw(st.integers(0, 9))
    templates = [s.template for s in specs if s.template is not None]
    if choice <= 6 and templates:
        chosen = draw(st.sampled_from(templates))
        from tachyon_router._template import parse_template

        literals, params = parse_template(chosen)
        out = [literals[0]]
        for param, literal in zip(params, literals[1:], strict=True):
            values = PARAM_VALUES.get(param.kind, PARAM_VALUES["str"])
            out.append(draw(st.sampled_from(values)))
            out.append(literal)
        text = "".join(out)
        tweak = draw(st.integers(0, 9))
        if tweak == 0:
            text += "\n"
        elif tweak == 1:
            text += "/"
        elif tweak == 2 and text.endswith("/"):
            text = text[:-1]
        elif tweak == 3:
            text += draw(st.sampled_from(["x", "/x", "\n\n", ".json", "1"]))
        return text
    return draw(st.text(alphabet=st.sampled_from([*"/ab.1-é\nx", "\udcff"]), max_size=14).map(lambda s: "/" + s))


def starlette_loop(
    specs: list[RouteSpec], path: str, method: str, type_bit: int
) -> tuple[int, int, tuple[int, ...], dict[str, Any]]:
    full = partial = -1
    candidates: list[int] = []
    params: dict[str, Any] = {}
    for index, item in enumerate(specs):
        if not item.scope_types & type_bit:
            continue
        if item.template is None:
            if path.startswith(item.prefix):
                candidates.append(index)
            continue
        regex, _, convertors = reference.compile_path(item.template)
        matched = regex.match(path)
        if matched is None:
            continue
        if item.methods and method not in item.methods:
            if partial < 0:
                partial = index
            continue
        full = index
        params = {key: convertors[key].convert(value) for key, value in matched.groupdict().items()}
        break
    return full, partial, tuple(candidates), params


def _typed(params: Mapping[str, Any]) -> dict[str, tuple[type, Any]]:
    return {key: (type(value), value) for key, value in params.items()}


def _with_custom_convertor(test: Callable[[], None]) -> None:
    CONVERTOR_TYPES[CUSTOM_KEY] = _TwoDigits()
    ref_convertors.CONVERTOR_TYPES[CUSTOM_KEY] = _RefTwoDigits()
    try:
        test()
    finally:
        del CONVERTOR_TYPES[CUSTOM_KEY]
        del ref_convertors.CONVERTOR_TYPES[CUSTOM_KEY]


def _check_table(backend: str, specs: list[RouteSpec], probes: list[tuple[str, str, int]]) -> None:
    def run() -> None:
        table = RouteTable(specs, backend=backend)
        for path, method, type_bit in probes:
            expected = starlette_loop(specs, path, method, type_bit)
            got = table.lookup(path, method, type_bit)
            assert got[:3] == expected[:3], (path, method, type_bit)
            assert _typed(got[3]) == _typed(expected[3]), (path, method, type_bit)

    _with_custom_convertor(run)


_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]

# Each example builds up to three tables and probes them many times: under hypothesis' default profile run
# a moderate number; a profile asking for more (`--hypothesis-profile=ci`) gets exactly what it asks for.
_DEFAULT_EXAMPLES = settings.default.max_examples
_EXAMPLES = 50 if _DEFAULT_EXAMPLES <= 100 else _DEFAULT_EXAMPLES
# An app-like table is ~10x the work of a small random one; a tenth of the examples keeps the ci profile's
# total (several thousand tables across these tests) inside CI's time budget.
_LARGE_EXAMPLES = 20 if _DEFAULT_EXAMPLES <= 100 else max(100, _DEFAULT_EXAMPLES // 10)

probe = st.tuples(st.sampled_from(REQUEST_METHODS), st.sampled_from([HTTP, WEBSOCKET]))


@pytest.mark.parametrize("backend", ["python", "native"])
@settings(suppress_health_check=_SUPPRESS, deadline=None, max_examples=_EXAMPLES)
@given(data=st.data())
def test_table_agrees_with_starlettes_first_match_loop(
    backend: str, backend_guard: Callable[[str], str], data: st.DataObject
) -> None:
    backend_guard(backend)
    specs = data.draw(route_table())
    probes = [(data.draw(path_for(specs)), *data.draw(probe)) for _ in range(8)]
    _check_table(backend, specs, probes)


@settings(suppress_health_check=_SUPPRESS, deadline=None, max_examples=_EXAMPLES)
@given(data=st.data())
def test_native_and_twin_matchers_return_identical_low_level_answers(
    backend_guard: Callable[[str], str], data: st.DataObject
) -> None:
    backend_guard("native")
    from tachyon_router import _native

    def run() -> None:
        specs = data.draw(route_table())
        table = RouteTable(specs, backend="python")
        entries = table.entries
        twin = _pure.build(entries)
        native = _native.build(entries)
        for _ in range(8):
            path = data.draw(path_for(specs))
            method_bit = data.draw(st.sampled_from([0, 1, 2, 4, 8, 16, 1 << 9]))
            type_bit = data.draw(st.sampled_from([HTTP, WEBSOCKET]))
            expected = twin.lookup(path, method_bit, type_bit)
            got = native.lookup(path, method_bit, type_bit)
            if expected is None or got is None:
                continue  # one side declined (budget / length cap): the table then answers by regex
            assert got == expected, (path, method_bit, type_bit)

    _with_custom_convertor(run)


def test_reference_loop_sanity() -> None:
    # The oracle itself: first full wins, first partial kept, Allow comes from that partial's route.
    specs = [
        RouteSpec("/users/{id}", frozenset({"GET", "HEAD"}), HTTP),
        RouteSpec("/users/me", frozenset({"POST"}), HTTP),
        RouteSpec("/users/me", None, HTTP),
    ]
    assert starlette_loop(specs, "/users/me", "POST", HTTP) == (1, 0, (), {})
    assert starlette_loop(specs, "/users/me", "PUT", HTTP) == (2, 0, (), {})
    assert starlette_loop(specs, "/users/7", "PUT", HTTP) == (-1, 0, (), {})
    assert compile_path("/x/{u:uuid}")[2]["u"].convert("12345678123456781234567812345678") == uuid.UUID(
        int=0x12345678123456781234567812345678
    )


FAMILY_SHAPES = [
    "{base}",
    "{base}/",
    "{base}/{{id:int}}",
    "{base}/{{id}}",
    "{base}/{{id:int}}/items",
    "{base}/{{id:int}}/items/{{item}}",
    "{base}/{{slug}}.{{fmt}}",
    "{base}/{{u:uuid}}",
    "{base}/{{x:float}}",
    "{base}/files/{{p:path}}",
    "{base}/{{p:path}}/edit",
    "{base}/{{code:twodigits}}",
]


@st.composite
def family_table(draw: st.DrawFn) -> list[RouteSpec]:
    """Larger, app-like tables: resource families sharing prefixes, so pruning and ordering both matter."""
    specs: list[RouteSpec] = []
    for _ in range(draw(st.integers(10, 60))):
        base = draw(st.sampled_from(["", "/api", "/v1"])) + "/res" + str(draw(st.integers(0, 6)))
        shape = draw(st.sampled_from(FAMILY_SHAPES))
        specs.append(
            RouteSpec(
                shape.format(base=base),
                draw(st.sampled_from(METHOD_SETS)),
                draw(st.sampled_from([HTTP, HTTP, WEBSOCKET, HTTP | WEBSOCKET])),
            )
        )
    if draw(st.booleans()):
        specs.insert(
            draw(st.integers(0, len(specs))), RouteSpec(draw(st.sampled_from(["/{path:path}", "/api/{path:path}"])))
        )
    return specs


@pytest.mark.parametrize("backend", ["python", "native"])
@settings(suppress_health_check=_SUPPRESS, deadline=None, max_examples=_LARGE_EXAMPLES)
@given(data=st.data())
def test_larger_app_like_tables_agree_with_starlette(
    backend: str, backend_guard: Callable[[str], str], data: st.DataObject
) -> None:
    backend_guard(backend)
    specs = data.draw(family_table())
    probes = [(data.draw(path_for(specs)), *data.draw(probe)) for _ in range(12)]
    _check_table(backend, specs, probes)


@pytest.mark.parametrize("backend", ["python", "native"])
@settings(suppress_health_check=_SUPPRESS, deadline=None, max_examples=_EXAMPLES)
@given(data=st.data())
def test_router_match_agrees_with_its_tables_lookup(
    backend: str, backend_guard: Callable[[str], str], data: st.DataObject
) -> None:
    """Router.match answers static paths from results prebuilt with the table: they must be lookup's answers."""
    backend_guard(backend)
    from tachyon_router import MatchStatus, Router

    def run() -> None:
        specs = [spec for spec in data.draw(route_table()) if spec.template is not None]
        if not specs:
            return
        router: Router[int] = Router(backend=backend)
        for index, spec in enumerate(specs):
            assert spec.template is not None
            router.add(spec.template, index, spec.methods, websocket=spec.scope_types == WEBSOCKET)
        table = router._current_table()
        static_paths = list(table.static_answers)
        for _ in range(8):
            path = data.draw(st.one_of(path_for(specs), st.sampled_from(static_paths or ["/"])))
            method, type_bit = data.draw(probe)
            websocket = type_bit == WEBSOCKET
            full, partial, _, params = table.lookup(path, method, type_bit)
            found = router.match(path, method, websocket=websocket)
            if full >= 0:
                assert (found.status, found.value) == (MatchStatus.FOUND, full), (path, method, type_bit)
                assert _typed(found.params) == _typed(params), (path, method, type_bit)
            elif partial >= 0:
                assert (found.status, found.value) == (MatchStatus.METHOD_NOT_ALLOWED, None), (path, method)
                assert found.allowed_methods == (router._entries[partial].methods or frozenset()), path
            else:
                assert found.status is MatchStatus.NOT_FOUND, (path, method, type_bit)
            assert found == router.match(path, method, websocket=websocket), (path, method, type_bit)

    _with_custom_convertor(run)
