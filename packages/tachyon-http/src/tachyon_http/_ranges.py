"""``Range`` request headers (RFC 9110 §14) for ``FileResponse``, with Starlette 1.10's rules.

Hardened against CVE-2025-62727 (quadratic work on a header listing many ranges): the number of ranges is
counted with one ``str.count`` before anything is parsed, a header listing more than ``max_ranges`` is answered
with the whole file, and the at most ``max_ranges`` survivors are merged after one sort. Each part is parsed once
with ``int()``, whose own digit limit bounds absurdly long numbers (they are ignored like other non-numeric parts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = [
    "MalformedRangeHeader",
    "RangeNotSatisfiable",
    "multipart_byteranges",
    "parse_range_header",
    "parse_range_parts",
]


class MalformedRangeHeader(Exception):
    """The ``Range`` header cannot be honoured as written; ``content`` is the text of the 400 response."""

    def __init__(self, content: str = "Malformed range header.") -> None:
        self.content = content


class RangeNotSatisfiable(Exception):
    """A range starts beyond the end of the file; ``max_size`` is the file size for ``Content-Range``."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size


def parse_range_parts(spec: str, file_size: int) -> list[tuple[int, int]]:
    """Byte ranges as half-open ``(start, end)`` pairs; parts that are empty or not numeric are skipped."""
    ranges: list[tuple[int, int]] = []
    for raw_part in spec.split(","):
        part = raw_part.strip()
        first, dash, last = part.partition("-")
        if not dash or part == "-":
            continue
        first = first.strip()
        last = last.strip()
        try:
            if not first:
                # A suffix range: the last N bytes (all of them when N exceeds the size).
                start = max(file_size - int(last), 0)
                end = file_size
            else:
                start = int(first)
                if last:
                    final = int(last)
                    end = final + 1 if final < file_size else file_size
                else:
                    end = file_size
        except ValueError:
            continue
        ranges.append((start, end))
    return ranges


def parse_range_header(header: str, file_size: int, max_ranges: int) -> list[tuple[int, int]]:
    """The ranges to send, sorted and merged; ``[]`` means "send the whole file".

    Raises ``MalformedRangeHeader`` (answered with 400) or ``RangeNotSatisfiable`` (answered with 416).
    """
    unit, equals, spec = header.partition("=")
    if not equals:
        raise MalformedRangeHeader()
    if unit.strip().lower() != "bytes":
        raise MalformedRangeHeader("Only support bytes range")
    # Too many ranges: serve the whole representation, as RFC 9110 §14.2 allows, before parsing anything.
    if spec.count(",") >= max_ranges:
        return []

    ranges = parse_range_parts(spec, file_size)
    if not ranges:
        raise MalformedRangeHeader("Range header: range must be requested")
    for start, _ in ranges:
        if not 0 <= start < file_size:
            raise RangeNotSatisfiable(file_size)
    for start, end in ranges:
        if start >= end:
            raise MalformedRangeHeader("Range header: start must be less than end")
    if len(ranges) == 1:
        return ranges

    # Overlapping and touching ranges are coalesced into one part.
    ranges.sort()
    merged = [ranges[0]]
    for start, end in ranges[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end:
            if end > last_end:
                merged[-1] = (last_start, end)
        else:
            merged.append((start, end))
    return merged


def multipart_byteranges(
    ranges: Sequence[tuple[int, int]], boundary: str, file_size: int, content_type: str
) -> tuple[int, Callable[[int, int], bytes]]:
    """Total body length of a ``multipart/byteranges`` response and a function giving one part's header block.

    The body is, for each range, ``--boundary CRLF Content-Type: ... CRLF Content-Range: bytes a-b/size CRLF CRLF
    <bytes> CRLF``, then ``--boundary--``.
    """
    prefix = f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes "
    suffix = f"/{file_size}\r\n\r\n"

    def part_header(start: int, end: int) -> bytes:
        return f"{prefix}{start}-{end - 1}{suffix}".encode("latin-1")

    # Per part: its header block, its bytes and the CRLF after them; the closing delimiter at the end.
    fixed_per_part = len(prefix) + 1 + len(suffix) + 2
    total = sum(fixed_per_part + len(str(start)) + len(str(end - 1)) + (end - start) for start, end in ranges)
    return total + len(boundary) + 4, part_header
