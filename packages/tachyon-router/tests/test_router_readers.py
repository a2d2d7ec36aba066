"""The generated parameter readers keep their source: readable in tracebacks, inspect and on the table."""

from __future__ import annotations

import gc
import inspect
import linecache
import traceback
from typing import Any

import pytest
from tachyon_router import _readers
from tachyon_router._table import HTTP, RouteSpec, RouteTable
from tachyon_router._template import tree_tokens
from tachyon_router.convertors import CONVERTOR_TYPES, Convertor, StringConvertor


class ExplodingConvertor(StringConvertor):
    """A str convertor whose convert() fails, to see the reader in a traceback."""

    def convert(self, value: str) -> Any:
        raise LookupError(f"cannot convert {value!r}")


def _table(backend: str, *specs: RouteSpec) -> RouteTable:
    return RouteTable(list(specs), backend=backend)


def test_each_tree_route_has_its_reader_source(router_backend: str) -> None:
    table = _table(
        router_backend,
        RouteSpec("/users/{user_id:int}/posts/{slug}", frozenset({"GET"}), HTTP),
        RouteSpec("/static", frozenset({"GET"}), HTTP),
        RouteSpec(None, prefix="/mounted"),
    )
    source = table.param_reader_source(0)
    assert source is not None
    assert source.startswith("def read(path, ")
    assert "'user_id': " in source and "'slug': " in source
    # The static route reads nothing; the caller-matched route has no reader.
    static_source = table.param_reader_source(1)
    assert static_source is not None and static_source.endswith("    return {}\n")
    assert table.param_reader_source(2) is None
    assert table.lookup("/users/7/posts/hello", "GET", HTTP)[3] == {"user_id": 7, "slug": "hello"}


def test_reader_source_is_in_linecache_and_inspect() -> None:
    steps = _readers.reading_plan("/items/{item_id:int}", {"item_id": CONVERTOR_TYPES["int"]})
    reader = _readers.spans_reader("/items/{item_id:int}", steps)
    filename = reader.__code__.co_filename
    assert "/items/{item_id:int}" in filename
    assert inspect.getsource(reader) == _readers.reader_source(reader)
    assert "".join(linecache.getlines(filename)) == _readers.reader_source(reader)
    assert reader("/items/42", (7, 9)) == {"item_id": 42}
    del reader
    gc.collect()
    assert filename not in linecache.cache  # the entry goes with the function


def test_a_failing_convertor_shows_the_generated_line(router_backend: str) -> None:
    convertors: dict[str, Convertor[Any]] = {"name": ExplodingConvertor()}
    table = _table(router_backend, RouteSpec("/hello/{name}", frozenset({"GET"}), HTTP, convertors))
    with pytest.raises(LookupError) as caught:
        table.lookup("/hello/world", "GET", HTTP)
    rendered = "".join(traceback.format_exception(caught.value))
    assert "param reader" in rendered and "/hello/{name}" in rendered
    assert "'name': convert0(" in rendered  # the generated line itself, read back from linecache


def test_reader_source_of_a_plain_function_is_none() -> None:
    assert _readers.reader_source(len) is None
    assert _readers.reader_source(lambda: None) is None


def test_an_out_reader_can_return_the_finished_result() -> None:
    template = "/users/{user_id:int}/posts/{slug}"
    convertors = {"user_id": CONVERTOR_TYPES["int"], "slug": CONVERTOR_TYPES["str"]}
    steps = _readers.reading_plan(template, convertors)
    tokens = [(kind, text.encode()) for kind, text in tree_tokens(template, convertors) or ()]
    # out: 3 ints per parameter (start, end, the int parsed by C)
    out = [7, 9, 42, 16, 21, 0]
    path = "/users/42/posts/hello"
    plain = _readers.out_reader(template, tokens, steps, 3)
    assert plain(path, out) == {"user_id": 42, "slug": "hello"}

    def record(*fields: Any) -> tuple[Any, ...]:
        return fields

    wrapped = _readers.out_reader(template, tokens, steps, 3, (record, ("first",), ("a", "b"), ("z",)))
    assert wrapped(path, out) == ("first", ("a", "b", {"user_id": 42, "slug": "hello"}, "z"))
    source = _readers.reader_source(wrapped)
    assert source is not None and "return make(arg0, (head0, head1, {" in source
    alone = _readers.out_reader(template, tokens, steps, 3, (record, (), (), ()))
    assert alone(path, out) == (({"user_id": 42, "slug": "hello"},),)
