"""Request body parsers for HTML forms: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

Multipart framing is done by the ``multipart`` package's sans-IO ``PushMultipartParser``; Tachyon adds the
Starlette-compatible limits and semantics on top. Every limit is checked while the body streams in, as soon
as the part or field that breaks it is seen, so a hostile body never gets buffered whole.
"""

from __future__ import annotations

import codecs
import sys
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, field
from enum import Enum
from tempfile import SpooledTemporaryFile
from typing import Any
from urllib.parse import unquote_plus

import multipart  # type: ignore[import-untyped]

from tachyon_http.datastructures import FormData, Headers, UploadFile
from tachyon_http.exceptions import TachyonDeprecationWarning

if sys.version_info < (3, 13):
    from typing_extensions import deprecated
else:
    from warnings import deprecated

__all__ = [
    "DEFAULT_MAX_FIELDS",
    "DEFAULT_MAX_FILES",
    "DEFAULT_MAX_PART_SIZE",
    "FormMessage",
    "FormParser",
    "MultiPartException",
    "MultiPartParser",
    "MultipartPart",
    "SpooledTemporaryFile",
    "parse_options_header",
]

# CVE-2023-30798: without a cap on the number of parts, a form with millions of tiny fields or files exhausts
# memory (and file descriptors). Starlette's defaults.
DEFAULT_MAX_FILES = 1000
DEFAULT_MAX_FIELDS = 1000
# CVE-2024-47874: text fields are kept in memory, so each one is capped (files go to disk instead).
DEFAULT_MAX_PART_SIZE = 1024 * 1024
# Upload bodies stay in memory up to this size, then roll over to a temporary file on disk.
DEFAULT_SPOOL_MAX_SIZE = 1024 * 1024
# RFC 2046 §5.1.1 allows 70 characters; long boundaries only make the delimiter scan slower. 256 leaves room
# for clients that overshoot the RFC, as Starlette does.
MAX_BOUNDARY_LENGTH = 256
# Per-part header limits (RFC 7578 needs at most three headers per part). A line longer than this, or more
# lines than this, is rejected before it is buffered any further.
MAX_PART_HEADER_SIZE = 4096 + 128
MAX_PART_HEADER_COUNT = 8

_INVALID_MULTIPART = "Invalid multipart data."


class MultiPartException(Exception):
    """A malformed form body or a broken limit; ``Request.form()`` turns it into a 400 response."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@deprecated(
    "`FormMessage` is deprecated and will be removed in a future version.",
    category=TachyonDeprecationWarning,
    stacklevel=2,
)
class FormMessage(Enum):
    FIELD_START = 1
    FIELD_NAME = 2
    FIELD_DATA = 3
    FIELD_END = 4
    END = 5


@dataclass
class MultipartPart:
    """The part being parsed: its headers, its (bounded) text data, or the file it streams into."""

    content_disposition: bytes | None = None
    field_name: str = ""
    data: bytearray = field(default_factory=bytearray)
    file: UploadFile | None = None
    item_headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def _user_safe_decode(src: bytes | bytearray, codec: str) -> str:
    # Clients lie about charsets; latin-1 never fails and keeps every byte.
    try:
        text = src.decode(codec)
    except (UnicodeDecodeError, LookupError):
        text = src.decode("latin-1")
    return text


def _split_params(value: str) -> list[str]:
    # Split at each `;` preceded (within the current piece) by an even number of unescaped double quotes — the
    # rule of the standard library's email header parser, which python-multipart (Starlette's parser) uses.
    # Each stretch between two `;` is counted once, with str.count: linear time, no regex (CVE-2024-24762
    # was a backtracking regex here).
    pieces: list[str] = []
    start = position = 0
    quotes = 0
    while (semicolon := value.find(";", position)) >= 0:
        # A `"` right after a `;` cannot be escaped, so counting `\"` within the stretch is exact.
        quotes += value.count('"', position, semicolon) - value.count('\\"', position, semicolon)
        if not quotes % 2:
            pieces.append(value[start:semicolon])
            start = semicolon + 1
            quotes = 0
        position = semicolon + 1
    pieces.append(value[start:])
    return pieces


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace("\\\\", "\\").replace('\\"', '"')
    return value


_HEADER_SPACE = " \t"


def parse_options_header(value: str | bytes | None) -> tuple[bytes, dict[bytes, bytes]]:
    """Split a header like ``Content-Type`` into its lower-cased main value and its parameters (as bytes).

    Keys are lower-cased; spaces and tabs around keys and values are dropped; quoted values are unquoted; a
    Windows path in ``filename`` is reduced to its last component. RFC 2231 extended parameters (``key*=``)
    are ignored, as RFC 7578 forbids them in forms (Starlette's parser does the same). Linear time.
    """
    if not value:
        return b"", {}
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if ";" not in value:
        return value.lower().strip(_HEADER_SPACE).encode("latin-1", "replace"), {}
    main, *parameters = _split_params(value)
    if "=" in main:
        before, _, after = main.partition("=")
        main = f"{before.rstrip(_HEADER_SPACE)}={after.lstrip(_HEADER_SPACE)}"
    options: dict[bytes, bytes] = {}
    for parameter in parameters:
        key, equals, raw = parameter.partition("=")
        # Only keys of `key=value` pairs are case-folded; a bare token is kept as written.
        key = key.strip(_HEADER_SPACE).lower() if equals else key.strip(_HEADER_SPACE)
        if "*" in key:
            continue
        decoded = _unquote(raw.strip(_HEADER_SPACE))
        if key == "filename" and (decoded[1:3] == ":\\" or decoded[:2] == "\\\\"):
            # Old Internet Explorer sends the full client-side path.
            decoded = decoded.rsplit("\\", 1)[-1]
        options[key.encode("latin-1", "replace")] = decoded.encode("latin-1", "replace")
    return main.strip(_HEADER_SPACE).lower().encode("latin-1", "replace"), options


def _size_message(kind: str, limit: int) -> str:
    return f"{kind} exceeded maximum size of {int(limit / 1024)}KB."


def _too_many(kind: str, limit: int | float) -> MultiPartException:
    return MultiPartException(f"Too many {kind}. Maximum number of {kind} is {limit}.")


def _codec_name(label: str) -> str:
    # Resolved once per form; an unknown charset falls back to latin-1, which decodes anything.
    try:
        info = codecs.lookup(label)
    except LookupError:
        return "latin-1"
    return info.name


def _form_decode(raw: bytes | bytearray) -> str:
    # Starlette's rule: bytes are read as latin-1, then %XX escapes are decoded as UTF-8 and `+` is a space.
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:
        return unquote_plus(text)
    return text


class FormParser:
    """Streaming parser for ``application/x-www-form-urlencoded`` bodies.

    Fields are separated by ``&``; a field without ``=`` has an empty value. Names and values are
    percent-decoded (``+`` is a space) as UTF-8, raw bytes as latin-1, like Starlette.
    """

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        max_fields: int | float = DEFAULT_MAX_FIELDS,
        max_part_size: int = DEFAULT_MAX_PART_SIZE,
    ) -> None:
        self.headers, self.stream = headers, stream
        self.max_fields, self.max_part_size = max_fields, max_part_size
        # The field being read: its name, its value (once `=` was seen) and their combined size.
        self._field_name, self._field_value = bytearray(), bytearray()
        self._in_value = False
        self._field_size = 0
        self._current_fields = 0
        self._fields: list[tuple[str, str | UploadFile]] = []

    def _take(self, data: bytes, start: int, end: int) -> None:
        if not self._in_value:
            equals = data.find(b"=", start, end)
            if equals < 0:
                self._reserve(end - start)
                self._field_name += data[start:end]
                return
            self._reserve(equals - start)
            self._field_name += data[start:equals]
            self._in_value = True
            start = equals + 1
        self._reserve(end - start)
        self._field_value.extend(data[start:end])

    def _reserve(self, size: int) -> None:
        # Checked before the bytes are copied: a single huge chunk never gets buffered.
        self._field_size += size
        if self._field_size > self.max_part_size:
            raise MultiPartException(_size_message("Field", self.max_part_size))

    def _close_field(self) -> None:
        name, value = self._field_name, self._field_value
        if name or self._in_value:
            self._current_fields += 1
            if self._current_fields > self.max_fields:
                raise _too_many("fields", self.max_fields)
            self._fields.append((_form_decode(name), _form_decode(value)))
        self._field_name, self._field_value = bytearray(), bytearray()
        self._in_value = False
        self._field_size = 0

    def _feed(self, data: bytes) -> None:
        # Every piece but the last ends at an "&" and completes a field; the last one may go on in the next chunk.
        # The chunk is decoded once (latin-1 maps bytes 1:1, so lengths are byte counts) and only fields with an
        # escape go through unquote_plus: the result is _form_decode's, field by field.
        text = data.decode("latin-1")
        *complete, rest = text.split("&")
        escaped = "%" in text or "+" in text
        fields = self._fields
        limit = self.max_part_size
        if complete and (self._field_name or self._in_value):
            # The first piece ends a field that began in an earlier chunk.
            piece = complete.pop(0)
            if piece:
                self._take(piece.encode("latin-1"), 0, len(piece))
            self._close_field()
        for piece in complete:
            # A whole field in this chunk (the common case): the same checks as _take/_close_field, in one step.
            name, equals, value = piece.partition("=")
            if len(name) + len(value) > limit:
                raise MultiPartException(_size_message("Field", limit))
            if name or equals:
                self._current_fields += 1
                if self._current_fields > self.max_fields:
                    raise _too_many("fields", self.max_fields)
                if escaped:
                    if "%" in name or "+" in name:
                        name = unquote_plus(name)
                    if "%" in value or "+" in value:
                        value = unquote_plus(value)
                fields.append((name, value))
        if rest:
            self._take(rest.encode("latin-1"), 0, len(rest))

    def feed(self, data: bytes) -> None:
        """Parse the next chunk of the body (empty chunks are ignored)."""
        if data:
            self._feed(data)

    def finish(self) -> FormData:
        """The form, once the last chunk was fed. The parser hands its fields over (and keeps none)."""
        self._close_field()
        fields, self._fields = self._fields, []
        return FormData._of_pairs(fields)

    async def parse(self) -> FormData:
        async for data in self.stream:
            if data:
                self._feed(data)
        return self.finish()


if not hasattr(multipart.PushMultipartParser, "_create_segment"):  # pragma: no cover - guarded by the dependency pin
    raise ImportError(
        f"tachyon_http needs multipart>=2.0 (found {getattr(multipart, '__version__', 'unknown')} at "
        f"{getattr(multipart, '__file__', '?')}): its PushMultipartParser._create_segment hook is required"
    )


# The base parser's "inside a part body" state (multipart 2.x, pinned in pyproject) and CR as a byte value
# (``int in bytes`` is a memchr).
_BODY_STATE = multipart._BODY
_PREAMBLE_STATE = multipart._PREAMBLE
_CR = 13


class _SegmentParser(multipart.PushMultipartParser):  # type: ignore[misc]
    """``PushMultipartParser`` that hands each part's headers to Tachyon's checks as soon as they are complete,
    so the per-part limits run inside the parser, before any of the part's body is read."""

    def __init__(self, boundary: bytes, owner: MultiPartParser) -> None:
        super().__init__(
            boundary,
            max_header_size=MAX_PART_HEADER_SIZE,
            max_header_count=MAX_PART_HEADER_COUNT,
            # latin-1 maps bytes 1:1; the form's own charset is applied by the owner, like Starlette.
            header_charset="latin-1",
        )
        self._owner = owner
        # The body must start with exactly this, followed by CRLF (or "--": an empty form).
        self._first_delimiter = b"--" + boundary

    def _refuse(self, reason: str) -> None:
        # What the base parser does with an error, so that a later parse() call behaves the same.
        error = multipart.ParserError(reason)
        if not self.error:  # type: ignore[has-type]  # set by the untyped base class
            self.error = error
        self.close(check_complete=False)
        raise error

    def _check_start(self, chunk: bytes) -> None:
        # The base parser skips a preamble before the first delimiter, and so turns a first delimiter followed by
        # junk ("--BX") into preamble. Starlette's parser refuses both; so does Tachyon: a parser differential is
        # a filter bypass. While in the preamble state the base parser keeps every byte seen so far (the start is
        # checked below to be a prefix of the delimiter, so no delimiter has been found yet).
        head = self._buffer + chunk
        expected = self._first_delimiter
        if head[: len(expected)] != expected[: len(head)]:
            self._refuse("Unexpected data before the first boundary")
        tail = head[len(expected) : len(expected) + 2]
        if tail and tail not in (b"\r\n", b"--", b"\r", b"-"):
            self._refuse("Unexpected data after the first boundary")

    def _on_segment_headerline(self, line: bytes) -> None:
        # Starlette's parser refuses a part header continuation line (obsolete line folding) and a CR inside a
        # header line; the base parser would fold the one and keep the other.
        if line[0] in b" \t":
            self._refuse("Part header continuation lines are not accepted")
        if _CR in line:
            self._refuse("Bare CR in a part header")
        super()._on_segment_headerline(line)

    def parse(self, chunk: bytes) -> Iterator[Any]:
        if self._state is _PREAMBLE_STATE and chunk and not self.closed:
            self._check_start(chunk)
        # Inside a part's body with nothing held back, a chunk without any CR holds neither the delimiter
        # ("\r\n--" + boundary) nor the start of one: all of it is payload, exactly what the base parser would
        # emit after its delimiter search. That search costs ~20x a memchr for CR when the data shares many
        # bytes with the boundary, so text-like uploads (no CRLF) skip it.
        if (
            self._state is _BODY_STATE
            and not self._buffer
            and not self.closed
            and self.content_length < 0
            and type(chunk) is bytes
            and chunk
            and _CR not in chunk
        ):
            try:
                payload = self._on_segment_payload(chunk)
            except multipart.MultipartError as error:
                # What the base parser does with an error, so that a later parse() call behaves the same.
                if not self.error:  # set by the untyped base class
                    self.error = error
                self.close(check_complete=False)
                raise
            yield payload
            self._parsed += len(chunk)
            return
        yield from super().parse(chunk)

    def _create_segment(self, headerlist: list[tuple[str, str]]) -> Any:
        self._owner._on_headers(headerlist)
        # The segment only tracks body progress here; its own header parsing is not needed (and not used, so
        # that Starlette's Content-Disposition rules apply).
        segment = multipart.MultipartSegment([])
        segment.headerlist = headerlist
        return segment


class MultiPartParser:
    """Streaming parser for ``multipart/form-data`` bodies.

    Text fields are decoded with the ``charset`` of the Content-Type (UTF-8 by default); files are written
    to ``SpooledTemporaryFile`` objects, off the event loop once they are on disk (CVE-2025-54121).
    """

    spool_max_size = DEFAULT_SPOOL_MAX_SIZE
    """Size above which an uploaded file is moved from memory to a temporary file on disk."""
    max_part_size = DEFAULT_MAX_PART_SIZE
    """Maximum size of a text (non-file) part."""

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        max_files: int | float = DEFAULT_MAX_FILES,
        max_fields: int | float = DEFAULT_MAX_FIELDS,
        max_part_size: int = DEFAULT_MAX_PART_SIZE,
    ) -> None:
        self.headers, self.stream = headers, stream
        self.max_files, self.max_fields, self.max_part_size = max_files, max_fields, max_part_size
        self.items: list[tuple[str, str | UploadFile]] = []
        self._current_files = self._current_fields = 0
        self._current_part = MultipartPart()
        self._charset = ""
        # Every temporary file created so far: all are closed if parsing fails half-way.
        self._spooled: list[SpooledTemporaryFile[bytes]] = []

    def _on_headers(self, headerlist: list[tuple[str, str]]) -> None:
        part = self._current_part = MultipartPart()
        for name, value in headerlist:
            raw_name = name.lower().encode("latin-1")
            raw_value = value.encode("latin-1")
            if raw_name == b"content-disposition":
                part.content_disposition = raw_value
            part.item_headers.append((raw_name, raw_value))

        options = parse_options_header(part.content_disposition)[1]
        raw_field_name = options.get(b"name")
        if raw_field_name is None:
            raise MultiPartException('The Content-Disposition header field "name" must be provided.')
        part.field_name = _user_safe_decode(raw_field_name, self._charset)

        raw_filename = options.get(b"filename")
        if raw_filename is None:
            self._current_fields += 1
            if self._current_fields > self.max_fields:
                raise _too_many("fields", self.max_fields)
            return
        self._current_files += 1
        if self._current_files > self.max_files:
            raise _too_many("files", self.max_files)
        # Looked up in the module namespace on every file so that tests can patch it.
        spooled = SpooledTemporaryFile(max_size=self.spool_max_size)
        self._spooled.append(spooled)
        part.file = UploadFile(
            spooled,  # type: ignore[arg-type]
            size=0,
            filename=_user_safe_decode(raw_filename, self._charset),
            headers=Headers(raw=part.item_headers),
        )

    def _add_text(self, data: bytes) -> None:
        buffer = self._current_part.data
        if len(buffer) + len(data) > self.max_part_size:
            raise MultiPartException(_size_message("Part", self.max_part_size))
        buffer += data

    async def _finish_part(self) -> None:
        part = self._current_part
        if part.file is None:
            self.items.append((part.field_name, _user_safe_decode(part.data, self._charset)))
        else:
            await part.file.seek(0)
            self.items.append((part.field_name, part.file))

    def _discard_files(self) -> None:
        for spooled in self._spooled:
            spooled.close()

    async def parse(self) -> FormData:
        params = parse_options_header(self.headers["Content-Type"])[1]
        self._charset = _codec_name(params.get(b"charset", b"utf-8").decode("latin-1"))
        boundary = params.get(b"boundary")
        if boundary is None:
            raise MultiPartException("Missing boundary in multipart.")
        if not boundary or len(boundary) > MAX_BOUNDARY_LENGTH:
            raise MultiPartException(_INVALID_MULTIPART)

        try:
            try:
                parser = _SegmentParser(boundary, self)
            except multipart.MultipartError as error:
                raise MultiPartException(_INVALID_MULTIPART) from error
            received_any = False
            async for data in self.stream:
                if data:
                    received_any = True
                    await self._consume(parser, data)
            if received_any:
                # An empty chunk tells the parser the input ended; an unterminated body is an error.
                await self._consume(parser, b"")
        except multipart.MultipartError as error:
            self._discard_files()
            raise MultiPartException(_INVALID_MULTIPART) from error
        except BaseException:
            self._discard_files()
            raise
        return FormData(self.items)

    async def _consume(self, parser: _SegmentParser, chunk: bytes) -> None:
        for event in parser.parse(chunk):
            if event is None:
                await self._finish_part()
            elif not isinstance(event, multipart.MultipartSegment):
                # Body data (the segment headers were already handled by _on_headers).
                data = bytes(event)
                file = self._current_part.file
                if file is None:
                    self._add_text(data)
                else:
                    await file.write(data)
