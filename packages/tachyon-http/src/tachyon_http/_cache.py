"""The one rule by which every bounded cache in tachyon-http and tachyon grows.

A cache is a plain ``dict`` owned by the module (or object) that uses it, so that a hit stays one dict lookup
(``cache.get(key)`` or ``cache[key]``) with no method call. Only a miss goes through ``CacheBound.keep``, which
applies the bounds declared once beside the dict:

- **per-key size**: a value whose key is longer than ``max_key_size`` (characters or bytes, as the caller
  measures it) is returned and never stored. Keys may come from request data (a Host header, a header name, a
  media type echoed from a request); this keeps a client from pinning large values in memory.
- **count**: when the dict already holds ``max_entries``, it is emptied before the new entry goes in. A client
  cycling through distinct keys can only force the cache to be rebuilt, never to grow; an application's honest
  working set (a few hosts, header names, media types) is back after one miss each.

tachyon-router keeps the same rule in ``tachyon_router._template`` (it depends on no other Tachyon package).
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["CacheBound"]

K = TypeVar("K")
V = TypeVar("V")


class CacheBound:
    """The bounds of one cache: at most ``max_entries`` entries, each with a key of at most ``max_key_size``."""

    __slots__ = ("max_entries", "max_key_size")

    def __init__(self, max_entries: int, max_key_size: int) -> None:
        if max_entries < 1 or max_key_size < 0:
            raise ValueError(f"a cache holds at least one entry of size >= 0, not {max_entries} of {max_key_size}")
        self.max_entries = max_entries
        self.max_key_size = max_key_size

    def keep(self, entries: dict[K, V], key: K, value: V, key_size: int = 0) -> V:
        """Store ``value`` under ``key`` in ``entries`` if the bounds allow it; return ``value``.

        ``key_size`` is the key's size as the bound measures it (``len(key)`` for a str or bytes key); keys of a
        fixed, small size (numbers, stat tuples) pass 0.
        """
        if key_size <= self.max_key_size:
            if len(entries) >= self.max_entries:
                entries.clear()
            entries[key] = value
        return value
