"""Path templates: Starlette's ``compile_path`` and the token form the matching tree indexes.

A template such as ``/users/{id:int}/files/{name}.{ext}`` is split once into literal text and parameters.
From that split we derive (a) exactly the regex/format/convertors triple Starlette derives, and (b) when the
template only uses the built-in matching rules, a flat token list for the tree (``LIT``/``STR``/``INT``/
``FLOAT``/``UUID``/``PATH``). Templates the tree cannot reproduce exactly are left to their regex.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple, TypeVar

from .convertors import CONVERTOR_TYPES, Convertor

_V = TypeVar("_V")

__all__ = [
    "FLOAT",
    "INT",
    "LIT",
    "PATH",
    "STR",
    "UUID",
    "Param",
    "compile_path",
    "encode_path",
    "parse_template",
    "path_type_error",
    "template_regex",
    "tree_tokens",
]

# Token kinds shared with the native tree (the numbering is part of the low-level contract).
LIT = 0
STR = 1
INT = 2
FLOAT = 3
UUID = 4
PATH = 5

# The tree reproduces a parameter only if its regex is, character for character, one of these: the
# matching rule is then known exactly, whatever convertor class carries it.
_BUILTIN_REGEX_KIND: dict[str, int] = {
    "[^/]+": STR,
    "[0-9]+": INT,
    r"[0-9]+(\.[0-9]+)?": FLOAT,
    "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}": UUID,
    ".*": PATH,
}

# Deep templates are rare and cost stack depth in the tree walk; past this many parameters the route is
# matched by its regex instead (same answer, just not indexed).
MAX_TREE_PARAMS = 64

# `{name}` or `{name:kind}`, names and kinds ASCII identifiers. Any other brace text is literal, as in
# Starlette (so `{1}`, `{a-b}` and a lone `{` are matched literally).
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_][A-Za-z0-9_]*))?\}")


class Param(NamedTuple):
    """One ``{name:kind}`` placeholder: its name, convertor key and where it sits in the template."""

    name: str
    kind: str
    start: int
    end: int


Parsed = tuple[tuple[str, ...], tuple[Param, ...]]

# A route's template is split several times while the route is created and indexed (compile_path, the
# parameter plan, the tree tokens, the literal prefix), and applications often repeat templates across
# routers: splits are kept, immutable, in a bounded cache. Templates come from code, not from requests, but
# the bounds (count, and length of each template) keep a program that generates them endlessly, or builds
# them from request data, from growing it without limit.
_MAX_CACHED_TEMPLATES = 4096
_MAX_CACHED_TEMPLATE_LENGTH = 1024
_parsed: dict[str, Parsed] = {}


def _keep(entries: dict[str, _V], template: str, value: _V) -> None:
    # The one rule of every bounded cache in Tachyon (tachyon_http._cache.CacheBound, restated here because the
    # router depends on no other Tachyon package): a key over the size bound is never kept; a full cache is
    # emptied before the new entry goes in.
    if len(template) <= _MAX_CACHED_TEMPLATE_LENGTH:
        if len(entries) >= _MAX_CACHED_TEMPLATES:
            entries.clear()
        entries[template] = value


def parse_template(template: str) -> Parsed:
    """Split a template into ``len(params) + 1`` literal pieces around its placeholders."""
    cached = _parsed.get(template)
    if cached is not None:
        return cached
    literals: list[str] = []
    params: list[Param] = []
    cursor = 0
    for found in _PLACEHOLDER.finditer(template):
        start, end = found.span()
        literals.append(template[cursor:start])
        params.append(Param(found.group(1), found.group(2) or "str", start, end))
        cursor = end
    literals.append(template[cursor:])
    parsed = (tuple(literals), tuple(params))
    _keep(_parsed, template, parsed)
    return parsed


# compile_path results by path: (regex, path_format, the convertor objects it was built with). Reused only
# while CONVERTOR_TYPES still maps each parameter's kind to the same object (a convertor registered again
# under a name changes the regex); the caller always gets a new param_convertors dict, as it may mutate it.
_compiled: dict[str, tuple[re.Pattern[str], str, tuple[Convertor[Any], ...]]] = {}


def compile_path(path: str) -> tuple[re.Pattern[str], str, dict[str, Convertor[Any]]]:
    """Compile a route path (``/...``) or host pattern exactly as Starlette's ``compile_path`` does.

    Returns ``(regex, path_format, param_convertors)``. Raises ``AssertionError`` for an unknown
    convertor and ``ValueError`` for a repeated parameter name; both messages start with Starlette's
    text and go on to say where in the pattern the problem is.
    """
    literals, params = parse_template(path)
    cached = _compiled.get(path)
    if cached is not None:
        regex, path_format, used = cached
        if all(CONVERTOR_TYPES.get(param.kind) is convertor for param, convertor in zip(params, used, strict=True)):
            return regex, path_format, {param.name: convertor for param, convertor in zip(params, used, strict=True)}
    convertors: dict[str, Convertor[Any]] = {}
    first_repeat: dict[str, int] = {}
    for param in params:
        convertor = CONVERTOR_TYPES.get(param.kind)
        if convertor is None:
            raise AssertionError(
                f"Unknown path convertor '{param.kind}' (in pattern {path!r} at position {param.start})"
            )
        if param.name in convertors:
            first_repeat.setdefault(param.name, param.start)
        convertors[param.name] = convertor

    if first_repeat:
        names = ", ".join(sorted(first_repeat))
        plural = "s" if len(first_repeat) > 1 else ""
        where = ", ".join(f"{name} at position {first_repeat[name]}" for name in sorted(first_repeat))
        raise ValueError(f"Duplicated param name{plural} {names} at path {path} (repeated: {where})")

    path_format = (
        "".join(literal + "{" + param.name + "}" for literal, param in zip(literals, params, strict=False))
        + literals[-1]
    )
    regex = _assemble(path, literals, params, convertors)
    _keep(_compiled, path, (regex, path_format, tuple(convertors[param.name] for param in params)))
    return regex, path_format, convertors


def template_regex(template: str, convertors: Mapping[str, Convertor[Any]]) -> re.Pattern[str]:
    """The regex ``compile_path`` gives ``template`` when its parameters use these bound convertors."""
    literals, params = parse_template(template)
    for param in params:
        if param.name not in convertors:
            raise ValueError(f"No convertor bound for parameter {param.name!r} of path {template!r}")
    return _assemble(template, literals, params, convertors)


def _assemble(
    path: str, literals: tuple[str, ...], params: tuple[Param, ...], convertors: Mapping[str, Convertor[Any]]
) -> re.Pattern[str]:
    is_host = not path.startswith("/")
    parts = ["^"]
    for literal, param in zip(literals, params, strict=False):
        parts.append(re.escape(literal))
        parts.append(f"(?P<{param.name}>{convertors[param.name].regex})")
    tail = literals[-1]
    if is_host and not tail.endswith("]"):
        # A host pattern ignores the port, as Host routing does; a bracketed IPv6 literal keeps its colons.
        tail = tail.rsplit(":", 1)[0]
    parts.append(re.escape(tail))
    parts.append("$")
    # Host names compare case-insensitively (RFC 9110, section 4.2.3).
    return re.compile("".join(parts), re.IGNORECASE if is_host else 0)


def _segment_of(template: str, position: int) -> int:
    return template.count("/", 0, position)


def tree_tokens(template: str, convertors: Mapping[str, Convertor[Any]]) -> tuple[tuple[int, str], ...] | None:
    """The tree's token list for ``template``, or None when only its regex can match it exactly.

    ``convertors`` are the route's bound convertors (name -> object); a parameter's matching rule is its
    convertor's ``regex``. Non-None results satisfy the invariants the tree relies on: the template starts
    with ``/``, literal tokens are non-empty, two parameters are never adjacent, nothing but literals follows
    a ``path`` parameter, and ``float``/``uuid`` parameters do not share a path segment with another
    parameter.
    """
    if not template.startswith("/"):
        return None  # a host pattern: case-insensitive and port-stripping, regex only
    literals, params = parse_template(template)
    if len(params) > MAX_TREE_PARAMS:
        return None
    kinds: list[int] = []
    for param in params:
        convertor = convertors.get(param.name)
        if convertor is None:
            raise ValueError(f"No convertor bound for parameter {param.name!r} of path {template!r}")
        kind = _BUILTIN_REGEX_KIND.get(convertor.regex)
        if kind is None:
            return None
        kinds.append(kind)

    segments = [_segment_of(template, param.start) for param in params]
    for i, kind in enumerate(kinds):
        if i > 0 and not literals[i]:
            return None  # adjacent parameters: the split between them is pure backtracking
        if kind == PATH and i + 1 < len(kinds):
            return None
        if kind in (FLOAT, UUID):
            shared = (i > 0 and segments[i - 1] == segments[i]) or (
                i + 1 < len(kinds) and segments[i + 1] == segments[i]
            )
            if shared:
                return None

    tokens: list[tuple[int, str]] = []
    for literal, kind in zip(literals, kinds, strict=False):
        if literal:
            tokens.append((LIT, literal))
        tokens.append((kind, ""))
    if literals[-1]:
        tokens.append((LIT, literals[-1]))
    return tuple(tokens)


def literal_prefix(template: str) -> str:
    """The fixed text a path must start with to match ``template`` (Starlette path syntax)."""
    if not template.startswith("/"):
        return ""
    literals, _ = parse_template(template)
    return literals[0]


def path_type_error(path: object) -> TypeError:
    """The error for a looked-up path that is not a ``str`` (Starlette's regex loop raises TypeError for one).

    Every ``str`` is a valid path, lone surrogates included (they are encoded with ``surrogatepass`` for the
    native tree, and match like any other code point)."""
    return TypeError(f"a route path must be a str, not {type(path).__name__}")


def encode_path(path: object) -> bytes:
    """The UTF-8 form of a path for the native tree, after ``path.encode()`` refused it: lone surrogates are
    kept (``surrogatepass``); anything but a ``str`` is ``path_type_error``."""
    if isinstance(path, str):
        return path.encode("utf-8", "surrogatepass")
    raise path_type_error(path) from None
