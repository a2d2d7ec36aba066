"""Parameter readers: the one generator of the functions that turn a matched path into a route's params.

A route's *plan* lists its parameters in order: name, the function that converts the matched text (None for
the built-in str/path convertors, which return the text unchanged) and where its span sits in the matcher's
answer. From a plan, this module generates one small Python function per route, once, when the table is built:

- ``spans_reader`` for the generic table: ``read(path, spans)``, where ``spans`` holds (start, end) pairs;
- ``out_reader`` for the native table: ``read(path, out)``, where ``out`` is radix_find's out buffer.

A generated function is a dict display with the slices and conversions inlined; it costs about half of a
generic loop over the plan, and it runs on every dynamic hit. Its source is kept: registered with ``linecache``
under a readable name (``<tachyon_router param reader 3 for '/users/{id:int}'>``) so that tracebacks and
``inspect.getsource`` show it, and available as ``reader_source(reader)`` (and ``RouteTable.param_reader_source``).
The linecache entry goes when the function does.

Parameter names are ASCII identifiers (the template syntax guarantees it) and go in as string literals;
convert functions are passed in as globals, never as text.
"""

from __future__ import annotations

import itertools
import linecache
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._template import INT, LIT, STR, parse_template
from .convertors import (
    Convertor,
    FloatConvertor,
    IntegerConvertor,
    PathConvertor,
    StringConvertor,
    UUIDConvertor,
)

__all__ = [
    "Plan",
    "Unmatched",
    "Wrap",
    "convert_int",
    "out_reader",
    "reader_source",
    "reading_plan",
    "spans_reader",
]

# One step per parameter: (name, convert function or None, index of its start in the spans).
Plan = tuple[tuple[str, Callable[[str], Any] | None, int], ...]
SpansReader = Callable[[str, Sequence[int]], dict[str, Any]]
OutReader = Callable[[str, memoryview], Any]
# A reader may return its route's finished result rather than the params: with ``(make, args, head, tail)`` it
# returns ``make(*args, (*head, params, *tail))`` (a caller's record type built in the reader's own frame).
Wrap = tuple[Callable[..., Any], tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]


class Unmatched(Exception):
    """Raised while a matched route's parameters are converted: the route does not match after all."""


def convert_int(text: str) -> int:
    """``int(text)`` for the built-in int convertor's ``[0-9]+`` text; ``Unmatched`` past the int digit limit.

    For such text ``int()`` can only fail on Python's int-digit limit (``sys.set_int_max_str_digits``, 4300 by
    default). Starlette answers that with a 500; the lookup answers "no route matches" (a 404) instead, so an
    absurd number in a path cannot make the server error.
    """
    try:
        return int(text)
    except ValueError:
        raise Unmatched from None


_DIRECT_CONVERT: dict[type, Callable[[str], Any] | None] = {
    StringConvertor: None,
    PathConvertor: None,
    IntegerConvertor: convert_int,
    FloatConvertor: float,
    UUIDConvertor: uuid.UUID,
}


def reading_plan(template: str, convertors: Mapping[str, Convertor[Any]]) -> Plan:
    """The reading plan of a template whose parameters use these convertors."""
    _, params = parse_template(template)
    steps = []
    for position, param in enumerate(params):
        convertor = convertors[param.name]
        # The built-in str/path convertors return the matched text unchanged: skip the call. The other
        # built-ins are exactly int()/float()/UUID() of the text: call those directly.
        convert = _DIRECT_CONVERT.get(type(convertor), convertor.convert)
        steps.append((param.name, convert, 2 * position))
    return tuple(steps)


def spans_reader(template: str, steps: Plan) -> SpansReader:
    """``read(path, spans) -> params`` for one route: each parameter is ``path[spans[i]:spans[i + 1]]``."""
    namespace: dict[str, Any] = {}
    items = []
    for position, (name, convert, at) in enumerate(steps):
        piece = f"path[spans[{at}]:spans[{at + 1}]]"
        if convert is not None:
            namespace[f"convert{position}"] = convert
            piece = f"convert{position}({piece})"
        items.append(f"{name!r}: {piece}")
    reader: SpansReader = _generate("path, spans", [], items, namespace, template)
    return reader


def out_reader(
    template: str, tokens: Sequence[tuple[int, bytes]], steps: Plan, slots: int, wrap: Wrap | None = None
) -> OutReader:
    """``read(path, out) -> params`` for one native tree route; ``out`` holds ``slots`` ints per parameter.

    With ``wrap``, the reader returns the params wrapped as ``Wrap`` says, in the same frame.

    The slots of a parameter are its start, its end (code points) and the value C parsed for an int parameter.
    Shortcuts, each exact for a path this route matched: an int parameter with the built-in ``int`` convert
    takes the value C parsed (no slice, no ``convert_int()``); the first parameter starts where the literal
    prefix ends; a ``str`` parameter that ends the template runs to the end of the path (``[^/]+`` is greedy and
    may keep a final newline, so ``$`` never makes it stop earlier).
    """
    kinds = [kind for kind, _ in tokens if kind != LIT]
    prefix = b""
    for kind, literal in tokens:
        if kind != LIT:
            break
        prefix += literal
    first_start = len(prefix.decode("utf-8", "surrogatepass"))
    ends_with_param = bool(tokens) and tokens[-1][0] != LIT
    namespace: dict[str, Any] = {}
    reads: list[str] = []
    items: list[str] = []
    for position, (name, convert, _) in enumerate(steps):
        base = slots * position
        if kinds[position] == INT and convert is convert_int:
            reads.append(f"p{position} = out[{base + 2}]")
            items.append(f"{name!r}: p{position}")
            continue
        if position == 0:
            start = str(first_start)
        else:
            reads.append(f"s{position} = out[{base}]")
            start = f"s{position}"
        if position == len(steps) - 1 and ends_with_param and kinds[position] == STR:
            piece = f"path[{start}:]"
        else:
            reads.append(f"e{position} = out[{base + 1}]")
            piece = f"path[{start}:e{position}]"
        if convert is not None:
            namespace[f"convert{position}"] = convert
            piece = f"convert{position}({piece})"
        items.append(f"{name!r}: {piece}")
    reader: OutReader = _generate("path, out", reads, items, namespace, template, wrap)
    return reader


def reader_source(reader: Callable[..., Any]) -> str | None:
    """The source this module generated for ``reader``; None for a function it did not generate."""
    source = getattr(reader, "__dict__", {}).get("source")
    return source if isinstance(source, str) else None


_serial = itertools.count(1)
# Templates longer than this are shortened in the reader's file name (the whole template is in its route).
_NAME_TEMPLATE_LENGTH = 120


def _generate(
    signature: str,
    reads: list[str],
    items: list[str],
    namespace: dict[str, Any],
    template: str,
    wrap: Wrap | None = None,
) -> Callable[..., Any]:
    body = "".join(f"    {read}\n" for read in reads)
    result = f"{{{', '.join(items)}}}"
    if wrap is not None:
        make, args, head, tail = wrap
        namespace["make"] = make
        namespace.update({f"arg{i}": value for i, value in enumerate(args)})
        namespace.update({f"head{i}": value for i, value in enumerate(head)})
        namespace.update({f"tail{i}": value for i, value in enumerate(tail)})
        fields = [f"head{i}" for i in range(len(head))] + [result] + [f"tail{i}" for i in range(len(tail))]
        record = f"({', '.join(fields)},)" if len(fields) == 1 else f"({', '.join(fields)})"
        result = f"make({', '.join([*(f'arg{i}' for i in range(len(args))), record])})"
    source = f"def read({signature}):\n{body}    return {result}\n"
    shown = template if len(template) <= _NAME_TEMPLATE_LENGTH else template[:_NAME_TEMPLATE_LENGTH] + "..."
    filename = f"<tachyon_router param reader {next(_serial)} for {shown!r}>"
    namespace["__name__"] = __name__
    exec(compile(source, filename, "exec"), namespace)
    # Taken out of its globals: a function held by its own namespace would be freed only by the cycle collector.
    reader: Callable[..., Any] = namespace.pop("read")
    reader.__dict__["source"] = source
    # An mtime of None marks an entry with no file behind it: linecache.checkcache leaves it alone.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(reader, linecache.cache.pop, filename, None)
    return reader
