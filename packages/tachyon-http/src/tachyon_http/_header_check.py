"""The one rule for header names and values written into a response: no CR, LF or NUL.

CR and LF would end the header line (response splitting); NUL truncates it in C servers. ``MutableHeaders``
and every response's header rendering refuse them with the same ``ValueError``.
"""

from __future__ import annotations

__all__ = ["check_header", "refuse_header"]

# CR, LF and NUL as byte values: ``int in bytes`` is a plain memchr, ``bytes in bytes`` a much slower buffer search.
_CR, _LF, _NUL = 13, 10, 0


def check_header(name: bytes, value: bytes) -> None:
    """Raise ``ValueError`` if ``name`` or ``value`` holds CR, LF or NUL."""
    both = name + value
    if _CR in both or _LF in both or _NUL in both:
        refuse_header(name, value)


def refuse_header(name: bytes, value: bytes) -> None:
    """Raise the ``ValueError`` for a header known to hold CR, LF or NUL (callers with their own fast test)."""
    for forbidden in (b"\r", b"\n", b"\x00"):
        if forbidden in name or forbidden in value:
            raise ValueError(
                f"Header {name.decode('latin-1')!r} contains a forbidden character {forbidden!r} "
                "(CR, LF and NUL are not allowed in header names or values: they would split the response)"
            )
