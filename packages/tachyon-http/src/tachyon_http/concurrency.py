"""Run blocking code off the event loop (anyio's worker threads), with Starlette's helper names."""

from __future__ import annotations

import functools
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar

import anyio
import anyio.to_thread

from tachyon_http.exceptions import TachyonDeprecationWarning

__all__ = ["iterate_in_threadpool", "run_in_threadpool", "run_until_first_complete"]

P = ParamSpec("P")
T = TypeVar("T")


async def run_until_first_complete(*args: tuple[Callable[..., Coroutine[Any, Any, Any]], dict[str, Any]]) -> None:
    """Deprecated: run each ``(func, kwargs)`` concurrently and cancel the rest when the first one returns."""
    warnings.warn(
        "run_until_first_complete is deprecated and will be removed in a future version.",
        TachyonDeprecationWarning,
        stacklevel=2,
    )
    async with anyio.create_task_group() as task_group:

        async def _run_then_cancel(func: Callable[..., Coroutine[Any, Any, Any]], kwargs: dict[str, Any]) -> None:
            await func(**kwargs)
            task_group.cancel_scope.cancel()

        for func, kwargs in args:
            task_group.start_soon(_run_then_cancel, func, kwargs)


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call a blocking function in a worker thread and await its result (context variables are copied)."""
    if kwargs:
        # anyio's run_sync takes positional arguments only.
        return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))
    return await anyio.to_thread.run_sync(func, *args)


class _Exhausted(Exception):
    """Stands in for StopIteration, which cannot cross a thread/await boundary (PEP 479 turns it into
    RuntimeError inside a coroutine)."""


def _advance(iterator: Iterator[T]) -> T:
    try:
        return next(iterator)
    except StopIteration:
        raise _Exhausted from None


async def iterate_in_threadpool(iterator: Iterable[T]) -> AsyncIterator[T]:
    """Turn a blocking iterable into an async iterator, each ``next()`` running in a worker thread."""
    source = iter(iterator)
    while True:
        try:
            item = await anyio.to_thread.run_sync(_advance, source)
        except _Exhausted:
            return
        yield item
