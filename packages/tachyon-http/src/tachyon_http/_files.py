"""File access for ``FileResponse``: one-round-trip reads of small files, validators, and the range headers."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from email.utils import formatdate

from tachyon_http._cache import CacheBound

__all__ = ["last_modified_and_etag", "range_request", "read_ranges", "read_small", "stat_and_read_small"]


def stat_and_read_small(path: str | os.PathLike[str], limit: int) -> tuple[os.stat_result, bytes | None]:
    """In a worker thread: stat the file and, when it is a regular file shorter than ``limit``, read it whole."""
    info = os.stat(path)
    if stat.S_ISREG(info.st_mode) and info.st_size < limit:
        return info, read_small(path, 0, limit)
    return info, None


def read_small(path: str | os.PathLike[str], offset: int, limit: int) -> bytes | None:
    """Up to ``limit`` bytes from ``offset``, or ``None`` if the file cannot be read, so that the streaming path
    runs and fails (after the response has started) exactly as it would have."""
    try:
        with open(path, "rb") as handle:
            if offset:
                handle.seek(offset)
            return handle.read(limit)
    except OSError:
        return None


def read_ranges(
    path: str | os.PathLike[str], ranges: Iterable[tuple[int, int]], chunk_size: int
) -> list[list[bytes]] | None:
    """In a worker thread: the bytes of every ``[start, end)`` range, cut as reads of ``chunk_size`` would cut
    them; ``None`` when the file cannot be read or is shorter than a range, so that the streaming path runs and
    fails (after the response has started) exactly as it would have."""
    spans: list[list[bytes]] = []
    try:
        with open(path, "rb") as handle:
            for start, end in ranges:
                handle.seek(start)
                pieces: list[bytes] = []
                remaining = end - start
                while remaining > 0:
                    data = handle.read(min(chunk_size, remaining))
                    if not data:
                        return None
                    remaining -= len(data)
                    pieces.append(data)
                spans.append(pieces)
    except OSError:
        return None
    return spans


# Last-Modified and ETag header values by (mtime, size): a static file is served many times between changes.
# Bounded (tachyon_http._cache) so that a directory of millions of files cannot grow it without limit.
_validator_cache: dict[tuple[float, int], tuple[bytes, bytes]] = {}
_VALIDATOR_BOUND = CacheBound(4096, 0)


def last_modified_and_etag(info: os.stat_result) -> tuple[bytes, bytes]:
    key = (info.st_mtime, info.st_size)
    cached = _validator_cache.get(key)
    if cached is None:
        # The ETag is an MD5 of "mtime-size" (Starlette's, so that caches keep validating across the switch).
        digest = hashlib.md5(f"{info.st_mtime}-{info.st_size}".encode(), usedforsecurity=False).hexdigest()
        validators = (formatdate(info.st_mtime, usegmt=True).encode("latin-1"), f'"{digest}"'.encode("latin-1"))
        cached = _VALIDATOR_BOUND.keep(_validator_cache, key, validators)
    return cached


def range_request(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    """The first ``Range`` and ``If-Range`` request headers, decoded."""
    wanted: bytes | None = None
    validator: bytes | None = None
    for name, value in headers:
        if name == b"range":
            if wanted is None:
                wanted = value
        elif name == b"if-range" and validator is None:
            validator = value
    return (
        None if wanted is None else wanted.decode("latin-1"),
        None if validator is None else validator.decode("latin-1"),
    )
