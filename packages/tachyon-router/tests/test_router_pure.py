"""The low-level matcher contract, shared by the pure-Python twin and the native tree."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
from tachyon_router._template import FLOAT, INT, LIT, PATH, STR, UUID

HTTP, WS = 1, 2
GET, POST = 1, 4


def _build(backend: str, entries: list[tuple[int, int, int, bool, list[tuple[int, bytes]]]]) -> Any:
    module = importlib.import_module("tachyon_router._pure" if backend == "python" else "tachyon_router._native")
    return module.build(entries)


@pytest.fixture(params=["python", "native"])
def matcher_backend(request: pytest.FixtureRequest, backend_guard: Callable[[str], str]) -> str:
    return backend_guard(request.param)


def lit(text: str) -> tuple[int, bytes]:
    return (LIT, text.encode("utf-8", "surrogatepass"))


def test_lowest_index_wins_whatever_the_specificity(matcher_backend: str) -> None:
    matcher = _build(
        matcher_backend,
        [
            (0, HTTP, 0, False, [lit("/u/"), (STR, b"")]),
            (1, HTTP, 0, False, [lit("/u/me")]),
        ],
    )
    assert matcher.lookup("/u/me", GET, HTTP) == (0, -1, (), (3, 5))


def test_partial_is_reported_only_below_full(matcher_backend: str) -> None:
    matcher = _build(
        matcher_backend,
        [
            (0, HTTP, POST, False, [lit("/a")]),
            (1, HTTP, GET, False, [lit("/a")]),
            (2, HTTP, POST, False, [lit("/b")]),
            (3, HTTP, GET, False, [lit("/"), (STR, b"")]),
        ],
    )
    assert matcher.lookup("/a", GET, HTTP) == (1, 0, (), ())
    assert matcher.lookup("/a", 0, HTTP) == (-1, 0, (), ())
    assert matcher.lookup("/b", GET, HTTP) == (3, 2, (), (1, 2))
    assert matcher.lookup("/b", POST, HTTP) == (2, -1, (), ())


def test_method_bit_zero_matches_only_any_method_entries(matcher_backend: str) -> None:
    matcher = _build(matcher_backend, [(0, HTTP, GET, False, [lit("/x")]), (1, HTTP, 0, False, [lit("/x")])])
    assert matcher.lookup("/x", 0, HTTP) == (1, 0, (), ())


def test_type_bits_hide_entries_entirely(matcher_backend: str) -> None:
    matcher = _build(matcher_backend, [(0, WS, GET, False, [lit("/x")]), (1, HTTP, GET, False, [lit("/x")])])
    assert matcher.lookup("/x", POST, HTTP) == (-1, 1, (), ())
    assert matcher.lookup("/x", POST, WS) == (-1, 0, (), ())


def test_opaque_candidates_by_prefix_type_and_index(matcher_backend: str) -> None:
    matcher = _build(
        matcher_backend,
        [
            (0, HTTP | WS, 0, True, [lit("/api")]),
            (1, WS, 0, True, []),
            (2, HTTP, 0, False, [lit("/api/"), (INT, b"")]),
            (3, HTTP, 0, True, []),
        ],
    )
    assert matcher.lookup("/api/7", GET, HTTP) == (2, -1, (0,), (5, 6))
    assert matcher.lookup("/api/x", GET, HTTP) == (-1, -1, (0, 3), ())
    assert matcher.lookup("/other", GET, WS) == (-1, -1, (1,), ())


def test_spans_are_code_point_offsets(matcher_backend: str) -> None:
    matcher = _build(matcher_backend, [(0, HTTP, 0, False, [lit("/é/"), (STR, b""), lit("/"), (PATH, b"")])])
    path = "/é/日本😀/ß/x"
    full, _, _, spans = matcher.lookup(path, GET, HTTP)
    assert full == 0
    assert [path[spans[0] : spans[1]], path[spans[2] : spans[3]]] == ["日本😀", "ß/x"]


@pytest.mark.parametrize(
    ("tokens", "path", "expected"),
    [
        ([lit("/"), (STR, b""), lit("."), (STR, b"")], "/a.b.c", ["a.b", "c"]),
        ([lit("/"), (INT, b""), lit("-"), (STR, b"")], "/12-3-4", ["12", "3-4"]),
        ([lit("/"), (FLOAT, b"")], "/1.50", ["1.50"]),
        ([lit("/"), (FLOAT, b""), lit(".5")], "/1.5.5", ["1.5"]),
        ([lit("/"), (UUID, b"")], "/12345678-1234-5678-1234-567812345678", ["12345678-1234-5678-1234-567812345678"]),
        ([lit("/"), (PATH, b""), lit("/e")], "/a/e/e", ["a/e"]),
        ([lit("/"), (STR, b"")], "/ab\n", ["ab\n"]),
        ([lit("/"), (INT, b"")], "/12\n", ["12"]),
        ([lit("/"), (PATH, b"")], "/a\n", ["a"]),
    ],
)
def test_params_are_the_spans_python_re_would_give(
    matcher_backend: str, tokens: list[tuple[int, bytes]], path: str, expected: list[str]
) -> None:
    full, _, _, spans = _build(matcher_backend, [(0, HTTP, 0, False, tokens)]).lookup(path, GET, HTTP)
    assert full == 0
    assert [path[spans[i] : spans[i + 1]] for i in range(0, len(spans), 2)] == expected


def test_twin_returns_none_past_its_work_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from tachyon_router import _pure

    monkeypatch.setattr(_pure, "WORK_BUDGET", 3)
    matcher = _pure.build([(0, HTTP, 0, False, [lit("/"), (STR, b""), lit("-"), (STR, b"")])])
    assert matcher.lookup("/a-b-c-d-e", GET, HTTP) is None


def test_twin_survives_very_deep_trees() -> None:
    from tachyon_router import _pure

    # Every prefix of a long literal is its own route, so no edge compresses: a 5,000-node chain.
    entries = [(i, HTTP, 0, False, [lit("/" + "a" * i)]) for i in range(1, 5000)]
    matcher = _pure.build(entries)
    assert matcher.lookup("/" + "a" * 4000, GET, HTTP) == (4000, -1, (), ())
