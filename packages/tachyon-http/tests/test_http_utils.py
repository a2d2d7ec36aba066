from __future__ import annotations

import functools
from typing import Any
from unittest.mock import AsyncMock

import pytest
from tachyon_http._utils import (
    AwaitableOrContextManagerWrapper,
    ParsedHost,
    create_collapsing_task_group,
    get_route_path,
    is_async_callable,
    parse_host_header,
)


async def _async_fn() -> None: ...


def _sync_fn() -> None: ...


class _AsyncCallable:
    async def __call__(self) -> None: ...

    async def method(self) -> None: ...


class _SyncCallable:
    def __call__(self) -> None: ...


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_async_fn, True),
        (_sync_fn, False),
        (functools.partial(_async_fn), True),
        (functools.partial(functools.partial(_async_fn)), True),
        (_AsyncCallable(), True),
        (functools.partial(_AsyncCallable()), True),
        (_AsyncCallable().method, True),
        (_SyncCallable(), False),
        (AsyncMock(), True),
        (object(), False),
        (None, False),
    ],
)
def test_is_async_callable(obj: Any, expected: bool) -> None:
    assert is_async_callable(obj) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("example.com", ParsedHost("example.com", None)),
        ("example.com:8080", ParsedHost("example.com", "8080")),
        ("[::1]:443", ParsedHost("[::1]", "443")),
        ("[v1.x:y]", ParsedHost("[v1.x:y]", None)),
        ("127.0.0.1:0", ParsedHost("127.0.0.1", "0")),
        ("", None),
        ("a:b", None),
        ("[::g]", None),
        ("[V1.x]", None),
        ("host:", None),
        ("a/b", None),
    ],
)
def test_parse_host_header(header: str | None, expected: ParsedHost | None) -> None:
    assert parse_host_header(header) == expected


@pytest.mark.parametrize(
    ("port", "valid"), [(None, True), ("80", True), ("0000065535", True), ("65536", False), ("100000", False)]
)
def test_parsed_host_port_validity_and_authority(port: str | None, valid: bool) -> None:
    host = ParsedHost("h", port)
    assert host.is_valid_port is valid
    assert host.authority == ("h" if port is None else f"h:{port}")


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"path": "/api/users", "root_path": "/api"}, "/users"),
        ({"path": "/api", "root_path": "/api"}, ""),
        ({"path": "/apiary", "root_path": "/api"}, "/apiary"),
        ({"path": "/other", "root_path": "/api"}, "/other"),
        ({"path": "/x", "root_path": ""}, "/x"),
        ({"path": "/x"}, "/x"),
    ],
)
def test_get_route_path(scope: dict[str, Any], expected: str) -> None:
    assert get_route_path(scope) == expected


@pytest.mark.anyio
async def test_collapsing_task_group_reraises_a_single_exception_unwrapped() -> None:
    async def fail() -> None:
        raise ValueError("only one")

    with pytest.raises(ValueError, match="only one"):
        async with create_collapsing_task_group() as group:
            group.start_soon(fail)


@pytest.mark.anyio
async def test_collapsing_task_group_keeps_multiple_exceptions_grouped() -> None:
    async def fail(message: str) -> None:
        raise ValueError(message)

    with pytest.raises(ExceptionGroup) as caught:
        async with create_collapsing_task_group() as group:
            group.start_soon(fail, "a")
            group.start_soon(fail, "b")
    assert len(caught.value.exceptions) == 2


class _Closable:
    closed = False

    async def close(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_awaitable_or_context_manager_wrapper() -> None:
    async def make() -> _Closable:
        return _Closable()

    awaited = await AwaitableOrContextManagerWrapper(make())
    assert not awaited.closed
    async with AwaitableOrContextManagerWrapper(make()) as entered:
        assert not entered.closed
    assert entered.closed
