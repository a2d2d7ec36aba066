"""The native matcher on its own: exactness on raw token sequences, limits, huge inputs, threads, memory.

The three-way comparison (native, pure-Python twin, Starlette) over whole route tables lives in
test_router_differential.py; here the C tree is checked against Python's ``re`` directly, including token
sequences the RouteTable never sends it (adjacent params, params after a catch-all), because the tree
claims exactness for any sequence.
"""

from __future__ import annotations

import gc
import os
import re
import sys
import threading
import time
from collections.abc import Sequence

import pytest
from hypothesis import given, settings, strategies as st

if os.environ.get("TACHYON_ROUTER_REQUIRE_NATIVE", "").strip() not in ("", "0"):
    from tachyon_router import _native
else:
    _native = pytest.importorskip("tachyon_router._native", reason="native router extension not built")

LIT, STR, INT, FLOAT, UUID, PATH = range(6)
KIND_REGEX = {
    STR: "[^/]+",
    INT: "[0-9]+",
    FLOAT: r"[0-9]+(?:\.[0-9]+)?",
    UUID: "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}",
    PATH: ".*",
}
HTTP, WEBSOCKET = 1, 2

Template = Sequence[tuple[int, str]]
# (index, type_mask, method_mask, opaque, template or opaque prefix)
Row = tuple[int, int, int, bool, Template]


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def entries_of(rows: Sequence[Row]) -> list[tuple[int, int, int, bool, list[tuple[int, bytes]]]]:
    return [(i, tm, mm, op, [(k, encode(t)) for k, t in toks]) for i, tm, mm, op, toks in rows]


def template_regex(tokens: Template) -> re.Pattern[str]:
    body = "".join(re.escape(text) if kind == LIT else f"({KIND_REGEX[kind]})" for kind, text in tokens)
    return re.compile(f"^{body}$")


def expected(
    rows: Sequence[Row], path: str, method_bit: int, type_bit: int
) -> tuple[int, int, tuple[int, ...], tuple[int, ...]]:
    """The answer of a first-match-wins regex scan, in the low-level contract's shape."""
    full, partial, spans = -1, -1, ()
    for index, type_mask, method_mask, opaque, tokens in sorted(rows):
        if opaque or not type_mask & type_bit:
            continue
        found = template_regex(tokens).match(path)
        if found is None:
            continue
        if method_mask == 0 or method_mask & method_bit:
            full = index
            spans = tuple(
                offset
                for group in range(1, len(tokens) + 1)
                if group <= found.re.groups
                for offset in found.span(group)
            )
            break
        if partial == -1:
            partial = index
    candidates = tuple(
        index
        for index, type_mask, _, opaque, tokens in sorted(rows)
        if opaque
        and type_mask & type_bit
        and (full == -1 or index < full)
        and path.startswith("".join(t for _, t in tokens))
    )
    return full, partial, candidates, spans


def find_answer(
    matcher: _native.Matcher, rows: Sequence[Row], path: str, method_bit: int, type_bit: int
) -> tuple[int, int, tuple[int, ...], tuple[int, ...]] | None:
    """``radix_find``'s answer decoded into ``Matcher.lookup``'s shape (None where lookup declines), checking
    its own encoding on the way: a plain full match as the return value with (start, end, int value) per
    parameter, RADIX_NO_MATCH for nothing at all, RADIX_MORE with radix_lookup's layout for the rest."""
    lib = _native.lib
    data = encode(path)
    out = _native.ffi.new("int32_t[]", lib.RADIX_FIND_OUT_INTS)
    found = lib.radix_find(matcher.tree, data, len(data), method_bit << lib.RADIX_SEL_TYPE_BITS | type_bit, out)
    if found == lib.RADIX_NO_MATCH:
        return -1, -1, (), ()
    if found == lib.RADIX_MORE:
        at = 4 + out[2]
        answer = out[0], out[1], tuple(out[3 : at - 1]), tuple(out[at : at + 2 * out[at - 1]])
        # MORE is only for what the return value cannot say
        assert (
            answer[1] != -1
            or answer[2]
            or any(
                kind == INT and len(path[s:e]) > lib.RADIX_INT_VALUE_DIGITS
                for kind, s, e in zip(
                    [kind for kind, _ in dict((row[0], row[4]) for row in rows)[answer[0]] if kind != LIT],
                    answer[3][::2],
                    answer[3][1::2],
                    strict=True,
                )
            )
        )
        return answer
    if found < 0:
        assert found in (lib.RADIX_E_BUDGET, lib.RADIX_E_TOO_LONG, lib.RADIX_E_OUT_SMALL)
        return None
    kinds = [kind for kind, _ in dict((row[0], row[4]) for row in rows)[found] if kind != LIT]
    spans: list[int] = []
    for i, kind in enumerate(kinds):
        start, end, value = out[3 * i], out[3 * i + 1], out[3 * i + 2]
        spans += [start, end]
        assert value == (int(path[start:end]) if kind == INT else 0)
    return found, -1, (), tuple(spans)


def check(rows: Sequence[Row], path: str, method_bit: int = 1, type_bit: int = HTTP) -> None:
    matcher = _native.build(entries_of(rows))
    want = expected(rows, path, method_bit, type_bit)
    assert matcher.lookup(path, method_bit, type_bit) == want
    found = find_answer(matcher, rows, path, method_bit, type_bit)
    # radix_find declines (RADIX_E_OUT_SMALL) only what its fixed buffer cannot hold
    assert found == want or (found is None and 4 + len(want[2]) + len(want[3]) > _native.lib.RADIX_FIND_OUT_INTS)


# ------------------------------------------------------------------------------------------ exactness


def test_the_extension_module_has_the_documented_name() -> None:
    from tachyon_router import _tachyon_router_native

    assert _native.lib is _tachyon_router_native.lib


@pytest.mark.parametrize(
    ("tokens", "path"),
    [
        ([(LIT, "/foo")], "/foo\n"),  # `$` accepts one final newline
        ([(LIT, "/foo")], "/foo\n\n"),
        ([(LIT, "/r/"), (INT, "")], "/r/12\n"),
        ([(LIT, "/u/"), (STR, "")], "/u/ab\n"),  # [^/]+ swallows the newline
        ([(LIT, "/p/"), (PATH, "")], "/p/a/b\n"),  # .* stops before it
        ([(LIT, "/p/"), (PATH, "")], "/p/a\nb"),
        ([(LIT, "/f/"), (STR, ""), (LIT, "."), (STR, "")], "/f/a.b.c"),  # greedy: a.b / c
        ([(LIT, "/f/"), (FLOAT, "")], "/f/1.5"),
        ([(LIT, "/f/"), (FLOAT, "")], "/f/1."),
        ([(LIT, "/f/"), (FLOAT, ""), (LIT, ".5")], "/f/1.5.5"),
        ([(LIT, "/f/"), (FLOAT, ""), (INT, "")], "/f/12.345"),
        ([(LIT, "/u/"), (UUID, "")], "/u/12345678-1234-1234-1234-123456789abc"),
        ([(LIT, "/u/"), (UUID, "")], "/u/123456781234-1234-1234123456789ABC"),
        ([(LIT, "/u/"), (UUID, "")], "/u/12345678--1234-1234-1234-123456789abc"),
        ([(LIT, "/a/"), (PATH, ""), (LIT, "/edit")], "/a/x/edit/y/edit"),  # catch-all mid-template
        ([(LIT, "/a/"), (PATH, ""), (PATH, "")], "/a/xyz"),
        ([(LIT, "/"), (STR, ""), (STR, ""), (STR, "")], "/abcd"),  # adjacent params: re's split
        ([(LIT, "/"), (INT, ""), (STR, "")], "/123"),
        ([(LIT, "/é/"), (STR, ""), (LIT, "ü"), (STR, "")], "/é/日本ü語ü\U0001f600"),  # offsets in code points
        ([(LIT, "/s/"), (STR, "")], "/s/\udc80\udcff"),  # lone surrogates (undecodable bytes)
        ([(LIT, "/n/"), (STR, "")], "/n/a\x00b"),
        ([], ""),
        ([], "\n"),
    ],
)
def test_matches_exactly_like_python_re(tokens: Template, path: str) -> None:
    check([(0, HTTP, 0, False, tokens)], path)


def test_the_lowest_index_wins_over_specificity() -> None:
    rows: list[Row] = [
        (0, HTTP, 0, False, [(LIT, "/users/"), (STR, "")]),
        (1, HTTP, 0, False, [(LIT, "/users/me")]),
        (2, HTTP, 0, False, [(PATH, "")]),
    ]
    for path in ("/users/me", "/users/x", "/other"):
        check(rows, path)


def test_method_and_type_masks_decide_full_partial_and_visibility() -> None:
    rows: list[Row] = [
        (0, WEBSOCKET, 0, False, [(LIT, "/x")]),
        (1, HTTP, 0b10, False, [(LIT, "/x")]),
        (2, HTTP, 0b100, False, [(LIT, "/x")]),
        (3, HTTP | WEBSOCKET, 0, False, [(LIT, "/"), (STR, "")]),
    ]
    for method_bit in (0, 0b1, 0b10, 0b100):
        for type_bit in (HTTP, WEBSOCKET):
            check(rows, "/x", method_bit, type_bit)


def test_opaque_candidates_are_prefix_filtered_and_stop_at_full() -> None:
    rows: list[Row] = [
        (0, HTTP, 0, True, [(LIT, "/api")]),
        (1, HTTP, 0, True, [(LIT, "/other")]),
        (2, WEBSOCKET, 0, True, []),
        (3, HTTP, 0, False, [(LIT, "/api/"), (INT, "")]),
        (4, HTTP, 0, True, []),
    ]
    for path in ("/api/1", "/api/x", "/other", ""):
        for type_bit in (HTTP, WEBSOCKET):
            check(rows, path, 1, type_bit)


@pytest.mark.parametrize(
    ("tokens", "path"),
    [
        ([(LIT, "/i/"), (INT, "")], "/i/999999999"),  # the largest value radix_find converts
        ([(LIT, "/i/"), (INT, "")], "/i/1000000000"),  # ten digits: the general answer instead
        ([(LIT, "/i/"), (INT, "")], "/i/000000000000000000042"),
        ([(LIT, "/é/"), (INT, ""), (LIT, "/"), (STR, "")], "/é/0042/ü\n"),
        ([(LIT, "/f/"), (FLOAT, ""), (LIT, "/"), (INT, "")], "/f/1.5/7"),
    ],
)
def test_find_converts_short_int_params_and_defers_long_ones(tokens: Template, path: str) -> None:
    check([(0, HTTP, 0, False, tokens)], path)


def test_find_has_a_distinct_answer_for_no_match_at_all() -> None:
    lib = _native.lib
    matcher = _native.build(entries_of([(0, HTTP, 1, False, [(LIT, "/a")])]))
    out = _native.ffi.new("int32_t[]", lib.RADIX_FIND_OUT_INTS)
    sel = 1 << lib.RADIX_SEL_TYPE_BITS | HTTP
    assert lib.radix_find(matcher.tree, b"/b", 2, sel, out) == lib.RADIX_NO_MATCH
    assert lib.radix_find(matcher.tree, b"/a", 2, sel, out) == 0
    # a method mismatch is a partial, which only the general layout can carry
    assert lib.radix_find(matcher.tree, b"/a", 2, 2 << lib.RADIX_SEL_TYPE_BITS | HTTP, out) == lib.RADIX_MORE
    assert list(out[0:4]) == [-1, 0, 0, 0]


def test_find_reports_results_larger_than_its_buffer() -> None:
    lib = _native.lib
    n = lib.RADIX_FIND_OUT_INTS // 2  # 2 span slots per param in the general layout: cannot fit
    tokens: list[tuple[int, str]] = []
    for _ in range(n):
        tokens += [(LIT, "/"), (STR, "")]
    rows: list[Row] = [(0, HTTP, 0, False, tokens)]
    matcher = _native.build(entries_of(rows))
    path = "/x" * n
    out = _native.ffi.new("int32_t[]", lib.RADIX_FIND_OUT_INTS)
    data = path.encode()
    assert lib.radix_find(matcher.tree, data, len(data), 1 << lib.RADIX_SEL_TYPE_BITS | HTTP, out) == (
        lib.RADIX_E_OUT_SMALL
    )
    assert matcher.lookup(path, 1, HTTP) == expected(rows, path, 1, HTTP)


# A strategy for raw token sequences, including shapes the RouteTable never sends to the tree.
_literals = st.sampled_from(["/", "a", "ab", ".", "-", "/a/", "1", "é", "\n", "x.y", "\udc80", "日"])
_token = st.one_of(
    st.tuples(st.just(LIT), _literals), st.tuples(st.sampled_from([STR, STR, INT, FLOAT, UUID, PATH]), st.just(""))
)
_template = st.lists(_token, max_size=4)
_path_chars = st.sampled_from(["/", "a", "b", ".", "-", "1", "2", "0", "é", "\n", "F", "日", "\udc80", "\U0001f600"])


@st.composite
def _table_and_paths(draw: st.DrawFn) -> tuple[list[Row], list[str]]:
    templates = draw(st.lists(_template, min_size=1, max_size=6))
    rows: list[Row] = []
    for index, tokens in enumerate(templates):
        opaque = draw(st.integers(0, 9)) == 0
        if opaque:
            tokens = [(LIT, text) for kind, text in tokens[:1] if kind == LIT]
        rows.append((index, draw(st.sampled_from([1, 2, 3])), draw(st.sampled_from([0, 1, 2, 3])), opaque, tokens))
    paths = []
    for _ in range(4):
        tokens = draw(st.sampled_from(templates))
        parts = []
        for kind, text in tokens:
            if kind == LIT:
                parts.append(text)
            elif kind == UUID:
                parts.append(
                    draw(st.sampled_from(["12345678-1234-1234-1234-123456789abc", "0123456789abcdefABCDEF0123456789"]))
                )
            else:
                parts.append(draw(st.text(_path_chars, min_size=kind != PATH, max_size=5)))
        paths.append("".join(parts))
        paths.append(draw(st.text(_path_chars, max_size=8)))
    return rows, paths


@settings(max_examples=150, deadline=None)
@given(_table_and_paths(), st.sampled_from([0, 1, 2]), st.sampled_from([HTTP, WEBSOCKET]))
def test_any_token_sequence_matches_like_a_regex_scan(
    table: tuple[list[Row], list[str]], method_bit: int, type_bit: int
) -> None:
    rows, paths = table
    matcher = _native.build(entries_of(rows))
    for path in paths:
        got = matcher.lookup(path, method_bit, type_bit)
        assert find_answer(matcher, rows, path, method_bit, type_bit) == got, path
        if got is None:  # only a budget overrun may decline, never a wrong answer
            continue
        assert got == expected(rows, path, method_bit, type_bit), path


# ------------------------------------------------------------------------------------------ limits and inputs


def _api_table(n: int) -> list[Row]:
    rows: list[Row] = []
    for i in range(n):
        shape = i % 4
        base = f"/api/v1/res{i}"
        if shape == 0:
            rows.append((i, HTTP, 1, False, [(LIT, base)]))
        elif shape == 1:
            rows.append((i, HTTP, 1, False, [(LIT, base + "/"), (INT, "")]))
        elif shape == 2:
            rows.append((i, HTTP, 1, False, [(LIT, base + "/"), (STR, ""), (LIT, "/items/"), (INT, "")]))
        else:
            rows.append((i, HTTP, 1, False, [(LIT, base + "/files/"), (PATH, "")]))
    return rows


def test_a_64_kib_path_with_thousands_of_segments_is_answered_quickly() -> None:
    rows = _api_table(200) + [
        (200, HTTP, 0, False, [(LIT, "/deep/"), (STR, ""), (LIT, "/"), (STR, "")]),
        (201, HTTP, 0, False, [(LIT, "/deep/"), (PATH, "")]),
    ]
    matcher = _native.build(entries_of(rows))
    path = "/deep" + "/seg" * 16_500 + "\n"
    assert len(path) > 64 * 1024
    started = time.perf_counter()
    for _ in range(10):
        answer = matcher.lookup(path, 1, HTTP)
    elapsed = (time.perf_counter() - started) / 10
    assert answer == expected(rows, path, 1, HTTP)
    assert answer[0] == 201
    assert elapsed < 0.05, f"{elapsed * 1e3:.1f} ms for one 64 KiB lookup"


def test_a_huge_single_segment_is_linear_not_quadratic() -> None:
    rows: list[Row] = [
        (0, HTTP, 0, False, [(LIT, "/f/"), (STR, ""), (LIT, ".json")]),
        (1, HTTP, 0, False, [(LIT, "/f/"), (INT, ""), (LIT, "/x")]),
        (2, HTTP, 0, False, [(LIT, "/g/"), (PATH, ""), (LIT, "/end")]),
    ]
    matcher = _native.build(entries_of(rows))
    for path in ("/f/" + "a" * 200_000, "/f/" + "1" * 200_000, "/g/" + "/x" * 100_000):
        started = time.perf_counter()
        answer = matcher.lookup(path, 1, HTTP)
        assert time.perf_counter() - started < 0.5
        assert answer == expected(rows, path, 1, HTTP)


def test_paths_beyond_the_native_cap_are_declined() -> None:
    matcher = _native.build(entries_of([(0, HTTP, 0, False, [(PATH, "")])]))
    assert matcher.lookup("a" * _native.MAX_PATH_BYTES, 1, HTTP) == (0, -1, (), (0, _native.MAX_PATH_BYTES))
    # the cap counts UTF-8 bytes, not characters
    assert matcher.lookup("é" * (_native.MAX_PATH_BYTES // 2 + 1), 1, HTTP) is None
    assert matcher.lookup("a" * (_native.MAX_PATH_BYTES + 1), 1, HTTP) is None


def test_params_sharing_a_segment_backtrack_in_linear_time() -> None:
    # `re` needs polynomial time here; the tree remembers explored capture ends and stays linear.
    rows: list[Row] = [
        (
            0,
            HTTP,
            0,
            False,
            [(LIT, "/"), (STR, ""), (LIT, "-"), (STR, ""), (LIT, "-"), (STR, ""), (LIT, "-"), (STR, ""), (LIT, "!")],
        )
    ]
    matcher = _native.build(entries_of(rows))
    for path in ("/" + "-" * 150, "/" + "-" * 150 + "!", "/a-" + "-" * 100 + "b-c-d!"):
        check(rows, path)
    started = time.perf_counter()
    assert matcher.lookup("/" + "-" * 60_000, 1, HTTP) == (-1, -1, (), ())
    assert matcher.lookup("/" + "-" * 60_000 + "!", 1, HTTP) == (
        0,
        -1,
        (),
        (1, 59_995, 59_996, 59_997, 59_998, 59_999, 60_000, 60_001),
    )
    assert time.perf_counter() - started < 1.0


def test_a_table_beyond_the_work_budget_is_declined_quickly() -> None:
    # 64 params in one segment: linear per parameter is still too much work for one lookup, so the tree
    # declines (None) and the table answers that lookup with its regex loop instead.
    tokens: list[tuple[int, str]] = [(LIT, "/"), (STR, "")]
    for _ in range(63):
        tokens += [(LIT, "."), (STR, "")]
    matcher = _native.build(entries_of([(0, HTTP, 0, False, tokens)]))
    started = time.perf_counter()
    assert matcher.lookup("/" + "." * 60_000 + "/", 1, HTTP) is None
    assert time.perf_counter() - started < 1.0
    assert matcher.lookup("/" + ".".join("x" * 64), 1, HTTP) == (
        0,
        -1,
        (),
        tuple(v for k in range(64) for v in (1 + 2 * k, 2 + 2 * k)),
    )


def test_results_larger_than_the_thread_buffer_grow_it() -> None:
    rows: list[Row] = [(i, HTTP, 0, True, [(LIT, "/")]) for i in range(300)]
    rows.append((300, HTTP, 0, False, [(LIT, "/x")]))
    matcher = _native.build(entries_of(rows))
    assert matcher.lookup("/x", 1, HTTP) == (300, -1, tuple(range(300)), ())
    assert matcher.lookup("/x", 1, HTTP) == (300, -1, tuple(range(300)), ())


def test_templates_deeper_than_the_stack_frames_on_the_c_stack() -> None:
    tokens: list[tuple[int, str]] = []
    for _ in range(100):
        tokens += [(LIT, "/"), (INT, "")]
    rows: list[Row] = [(0, HTTP, 0, False, tokens)]
    path = "".join(f"/{i}" for i in range(100))
    check(rows, path)
    assert _native.build(entries_of(rows)).lookup(path, 1, HTTP) is not None


def test_duplicates_and_empty_tables_are_accepted() -> None:
    rows: list[Row] = [
        (0, HTTP, 2, False, [(LIT, "/a")]),
        (1, HTTP, 1, False, [(LIT, "/a")]),
        (2, HTTP, 1, False, [(LIT, "/a")]),
    ]
    check(rows, "/a")
    assert _native.build([]).lookup("/a", 1, HTTP) == (-1, -1, (), ())


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ((-1, HTTP, 0, False, []), "index"),
        ((2**31 - 1, HTTP, 0, False, []), "index"),
        ((0, 2**32, 0, False, []), "type mask"),
        ((0, HTTP, 2**64, False, []), "method mask"),
        ((0, HTTP, 0, False, [(9, b"")]), "kind"),
        ((0, HTTP, 0, True, [(STR, b"")]), "opaque"),
    ],
)
def test_malformed_entries_are_refused_with_a_precise_error(
    entry: tuple[int, int, int, bool, list[tuple[int, bytes]]], message: str
) -> None:
    with pytest.raises(_native.NativeBuildError, match=message):
        _native.build([entry])


def test_dropped_trees_are_freed() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc/self/statm")
    if "ASAN_OPTIONS" in os.environ:
        pytest.skip("AddressSanitizer quarantines freed memory; the LeakSanitizer fuzz run checks leaks instead")
    entries = entries_of(_api_table(500))

    def rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    for _ in range(20):  # warm up allocator pools
        _native.build(entries)
    gc.collect()
    before = rss()
    for _ in range(300):
        matcher = _native.build(entries)
        matcher.lookup("/api/v1/res1/2", 1, HTTP)
    del matcher
    gc.collect()
    # a 500-route tree is ~200 KB: 300 leaked trees would add ~60 MB
    assert rss() - before < 20 * 1024 * 1024


# ------------------------------------------------------------------------------------------ threads


def test_concurrent_lookups_on_one_tree_agree_with_a_single_thread() -> None:
    rows = _api_table(400)
    matcher = _native.build(entries_of(rows))
    paths = [f"/api/v1/res{i}/{i}" for i in range(1, 400, 4)] + [
        f"/api/v1/res{i}/a/items/{i}" for i in range(2, 400, 4)
    ]
    paths += [f"/api/v1/res{i}/files/{'x' * i}" for i in range(3, 400, 4)] + ["/nope", "/api/v1/res7/files"]
    want = {path: matcher.lookup(path, 1, HTTP) for path in paths}
    errors: list[str] = []

    def reader(offset: int) -> None:
        for round_ in range(30):
            for path in paths[offset:] + paths[:offset]:
                got = matcher.lookup(path, 1, HTTP)
                if got != want[path]:
                    errors.append(f"{path}: {got} != {want[path]} (round {round_})")
                    return

    threads = [threading.Thread(target=reader, args=(k * 37,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_rebuilding_while_other_threads_read_is_safe() -> None:
    # Version v of the table serves every path from index v: a reader holding any version sees its answer.
    versions = 40

    def build(version: int) -> _native.Matcher:
        rows: list[Row] = [(version + k, HTTP, 0, False, [(LIT, f"/r{k}/"), (STR, "")]) for k in range(50)]
        return _native.build(entries_of(rows))

    shared = {"matcher": build(0), "version": 0}
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            with lock:
                matcher, version = shared["matcher"], shared["version"]
            for k in range(0, 50, 7):
                got = matcher.lookup(f"/r{k}/value{k}", 1, HTTP)
                if got != (version + k, -1, (), (len(f"/r{k}/"), len(f"/r{k}/value{k}"))):
                    errors.append(f"version {version}: {got}")
                    return

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in readers:
        thread.start()
    try:
        for version in range(1, versions):
            replacement = build(version)
            with lock:
                shared["matcher"], shared["version"] = replacement, version
            del replacement
            gc.collect()  # old trees die while readers may still be inside them
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert errors == []
