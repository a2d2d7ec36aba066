"""``MutableHeaders`` edits done straight on a raw ``[(name, value), ...]`` header list.

The built-in middlewares decorate ``http.response.start`` on every response; these helpers make the same
changes as the ``MutableHeaders`` methods named below without building a view or re-encoding names (``name``
is already lower-case bytes). Values come from the middleware's own configuration or from headers the
application already sent, so they are not checked again for CR, LF and NUL.
"""

from __future__ import annotations

__all__ = ["add_vary", "delete_raw", "set_raw"]

RawHeaders = list[tuple[bytes, bytes]]


def set_raw(raw: RawHeaders, name: bytes, value: bytes) -> None:
    """``headers[name] = value``: replace the first ``name``, drop the others, else append."""
    for first, pair in enumerate(raw):
        if pair[0] == name:
            raw[first] = (name, value)
            raw[first + 1 :] = [pair for pair in raw[first + 1 :] if pair[0] != name]
            return
    raw.append((name, value))


def add_vary(raw: RawHeaders, value: bytes) -> None:
    """``headers.add_vary_header(value)``: fold every Vary, then ``value``, into the first one."""
    found = [index for index, pair in enumerate(raw) if pair[0] == b"vary"]
    if not found:
        raw.append((b"vary", value))
        return
    values = [raw[index][1] for index in found]
    values.append(value)
    raw[found[0]] = (b"vary", b", ".join(values))
    for index in reversed(found[1:]):
        del raw[index]


def delete_raw(raw: RawHeaders, name: bytes) -> None:
    """``del headers[name]``: remove every ``name`` (a missing one is ignored)."""
    for first, pair in enumerate(raw):
        if pair[0] == name:
            raw[first:] = [pair for pair in raw[first + 1 :] if pair[0] != name]
            return
