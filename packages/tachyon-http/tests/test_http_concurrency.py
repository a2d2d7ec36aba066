from __future__ import annotations

import threading
from collections.abc import Iterator
from contextvars import ContextVar

import anyio
import pytest
from tachyon_http.concurrency import iterate_in_threadpool, run_in_threadpool, run_until_first_complete
from tachyon_http.exceptions import TachyonDeprecationWarning

request_id: ContextVar[str] = ContextVar("request_id", default="unset")


@pytest.mark.anyio
async def test_run_in_threadpool_passes_arguments_and_returns_the_result() -> None:
    def work(a: int, b: int, *, scale: int) -> tuple[int, int]:
        return (a + b) * scale, threading.get_ident()

    result, thread = await run_in_threadpool(work, 1, 2, scale=10)
    assert result == 30 and thread != threading.get_ident()


@pytest.mark.anyio
async def test_run_in_threadpool_propagates_context_and_exceptions() -> None:
    request_id.set("abc")
    assert await run_in_threadpool(request_id.get) == "abc"

    def fail() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        await run_in_threadpool(fail)


@pytest.mark.anyio
async def test_iterate_in_threadpool_yields_every_item() -> None:
    threads: set[int] = set()

    def numbers() -> Iterator[int]:
        for number in range(3):
            threads.add(threading.get_ident())
            yield number

    assert [item async for item in iterate_in_threadpool(numbers())] == [0, 1, 2]
    assert threading.get_ident() not in threads
    assert [item async for item in iterate_in_threadpool([])] == []


@pytest.mark.anyio
async def test_run_until_first_complete_is_deprecated_and_cancels_the_rest() -> None:
    finished: list[str] = []

    async def quick() -> None:
        finished.append("quick")

    async def slow(delay: float) -> None:
        await anyio.sleep(delay)
        finished.append("slow")

    with pytest.warns(TachyonDeprecationWarning, match="run_until_first_complete is deprecated"):
        with anyio.fail_after(5):
            await run_until_first_complete((quick, {}), (slow, {"delay": 60}))
    assert finished == ["quick"]
