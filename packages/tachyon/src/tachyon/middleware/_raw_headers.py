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
    first = -1
    for index in range(len(raw) - 1, -1, -1):
        if raw[index][0] == name:
            if first != -1:
                del raw[first]
            first = index
    if first == -1:
        raw.append((name, value))
    else:
        raw[first] = (name, value)


def add_vary(raw: RawHeaders, value: bytes) -> None:
    """``headers.add_vary_header(value)``: fold every Vary, then ``value``, into the first one."""
    values = [existing for name, existing in raw if name == b"vary"]
    if not values:
        raw.append((b"vary", value))
        return
    values.append(value)
    set_raw(raw, b"vary", b", ".join(values))


def delete_raw(raw: RawHeaders, name: bytes) -> None:
    """``del headers[name]``: remove every ``name`` (a missing one is ignored)."""
    for pair in raw:
        if pair[0] == name:
            raw[:] = [pair for pair in raw if pair[0] != name]
            return
