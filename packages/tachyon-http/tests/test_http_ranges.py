"""Range header parsing (Starlette 1.10 rules) and its bounds against hostile headers (CVE-2025-62727)."""

from __future__ import annotations

import time

import pytest
from tachyon_http._ranges import MalformedRangeHeader, RangeNotSatisfiable, multipart_byteranges, parse_range_header
from tachyon_http.responses import FileResponse

SIZE = 1000
LIMIT = FileResponse.max_ranges


def parse(header: str, size: int = SIZE, limit: int = LIMIT) -> list[tuple[int, int]]:
    return parse_range_header(header, size, limit)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", [(0, 1)]),
        ("bytes=0-99", [(0, 100)]),
        ("bytes=100-", [(100, SIZE)]),
        ("bytes=-100", [(SIZE - 100, SIZE)]),
        ("bytes=-5000", [(0, SIZE)]),
        ("bytes=0-5000", [(0, SIZE)]),
        ("bytes=999-999", [(999, SIZE)]),
        ("BYTES = 1-2", [(1, 3)]),
        ("bytes= 1 - 2 ", [(1, 3)]),
        ("bytes=1_0-2_0", [(10, 21)]),  # int() syntax, as in Starlette
        ("bytes=+1-2", [(1, 3)]),
    ],
)
def test_single_ranges_are_half_open_and_clamped_to_the_file(header: str, expected: list[tuple[int, int]]) -> None:
    assert parse(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-10, 20-30", [(0, 11), (20, 31)]),
        ("bytes=20-30, 0-10", [(0, 11), (20, 31)]),
        ("bytes=0-100, 50-200", [(0, 201)]),
        ("bytes=0-10, 11-20", [(0, 21)]),  # touching ranges merge too
        ("bytes=0-10, 12-20", [(0, 11), (12, 21)]),
        ("bytes=0-15,20-35,35-50", [(0, 16), (20, 51)]),
        ("bytes=0-10, 0-10", [(0, 11)]),
        ("bytes=0-100, 10-20", [(0, 101)]),
        ("bytes=-10, 0-5", [(0, 6), (990, SIZE)]),
    ],
)
def test_multiple_ranges_are_sorted_and_overlapping_or_touching_ones_merged(
    header: str, expected: list[tuple[int, int]]
) -> None:
    assert parse(header) == expected


@pytest.mark.parametrize(
    "header", ["bytes=100, 0-50", "bytes= - , 0-50", "bytes=abc-def, 0-50", "bytes=,,0-50,,", "bytes=1-2-3, 0-50"]
)
def test_parts_that_are_empty_or_not_numeric_are_ignored(header: str) -> None:
    assert parse(header) == [(0, 51)]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("bytes 0-10", "Malformed range header."),
        ("", "Malformed range header."),
        ("items=0-10", "Only support bytes range"),
        ("bytes=", "Range header: range must be requested"),
        ("bytes=abc", "Range header: range must be requested"),
        ("bytes=100-0", "Range header: start must be less than end"),
        ("bytes=5-4", "Range header: start must be less than end"),
        ("bytes=5--3", "Range header: start must be less than end"),
    ],
)
def test_malformed_headers_raise_with_the_400_text(header: str, message: str) -> None:
    with pytest.raises(MalformedRangeHeader) as info:
        parse(header)
    assert info.value.content == message


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=0-10, 1000-1001", "bytes=--5"])
def test_ranges_starting_past_the_end_are_not_satisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as info:
        parse(header)
    assert info.value.max_size == SIZE


def test_any_range_of_an_empty_file_is_not_satisfiable() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse("bytes=0-", size=0)


def test_up_to_max_ranges_ranges_are_honoured() -> None:
    header = "bytes=" + ",".join(f"{index}-{index}" for index in range(0, 2 * LIMIT, 2))
    assert len(parse(header)) == LIMIT


def test_more_than_max_ranges_means_the_whole_file() -> None:
    header = "bytes=" + ",".join(f"{index}-{index}" for index in range(0, 2 * LIMIT + 2, 2))
    assert parse(header) == []


def test_the_limit_counts_listed_parts_even_when_they_are_empty() -> None:
    assert parse("bytes=0-1" + "," * LIMIT) == []


def test_a_subclass_can_change_max_ranges() -> None:
    class Strict(FileResponse):
        max_ranges = 2

    assert Strict._parse_range_header("bytes=0-1,5-6", SIZE) == [(0, 2), (5, 7)]
    assert Strict._parse_range_header("bytes=0-1,5-6,9-10", SIZE) == []


def _elapsed(header: str, size: int = 10**12) -> float:
    started = time.perf_counter()
    try:
        parse(header, size=size)
    except (MalformedRangeHeader, RangeNotSatisfiable):
        pass
    return time.perf_counter() - started


def test_a_header_with_a_million_ranges_is_rejected_in_linear_time() -> None:
    header = "bytes=" + ",".join(f"{index}-{index}" for index in range(0, 2_000_000, 2))
    assert parse(header, size=10**12) == []
    assert _elapsed(header) < 0.5


def test_overlapping_ranges_at_the_limit_merge_quickly() -> None:
    header = "bytes=" + ",".join(f"{index}-{10**9 - index}" for index in range(LIMIT))
    assert parse(header, size=10**12) == [(0, 10**9 + 1)]
    assert _elapsed(header) < 0.05


def test_huge_numbers_are_ignored_not_converted_forever() -> None:
    digits = "9" * 100_000
    header = f"bytes={digits}-{digits}, 0-1"
    assert parse(header) == [(0, 2)]
    assert _elapsed(header) < 0.5


def test_megabytes_of_whitespace_are_handled_in_linear_time() -> None:
    header = "bytes=" + " " * 2_000_000 + "0-1" + " " * 2_000_000
    assert parse(header) == [(0, 2)]
    assert _elapsed(header) < 0.5


@pytest.mark.parametrize("ranges", [[(0, 1)], [(0, 16), (20, 51)], [(5, 10), (100, 1000), (999_999, 1_000_000)]])
def test_multipart_length_is_the_length_of_the_body_it_describes(ranges: list[tuple[int, int]]) -> None:
    boundary = "0123456789abcdef0123456789"
    content_type = "text/plain; charset=utf-8"
    length, part_header = multipart_byteranges(ranges, boundary, 1_000_000, content_type)
    body = b"".join(part_header(start, end) + b"x" * (end - start) + b"\r\n" for start, end in ranges)
    body += f"--{boundary}--".encode()
    assert length == len(body)
    assert (
        part_header(*ranges[0])
        == (
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: bytes {ranges[0][0]}-{ranges[0][1] - 1}/1000000\r\n\r\n"
        ).encode()
    )
