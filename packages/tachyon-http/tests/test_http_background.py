from __future__ import annotations

import threading

import pytest
from tachyon_http.background import BackgroundTask, BackgroundTasks


@pytest.mark.anyio
async def test_async_task_runs_on_the_event_loop_with_its_arguments() -> None:
    calls: list[tuple[int, str, int]] = []

    async def record(a: int, b: str, *, c: int) -> None:
        calls.append((a, b, c))
        assert threading.get_ident() == loop_thread

    loop_thread = threading.get_ident()
    task = BackgroundTask(record, 1, "x", c=3)
    assert task.is_async
    await task()
    assert calls == [(1, "x", 3)]


@pytest.mark.anyio
async def test_sync_task_runs_in_a_worker_thread() -> None:
    threads: list[int] = []
    task = BackgroundTask(lambda value: threads.append(threading.get_ident() + value), 0)
    assert not task.is_async
    await task()
    assert threads and threads[0] != threading.get_ident()


@pytest.mark.anyio
async def test_tasks_run_in_order() -> None:
    order: list[str] = []

    async def first() -> None:
        order.append("first")

    tasks = BackgroundTasks([BackgroundTask(first)])
    tasks.add_task(order.append, "second")
    tasks.add_task(order.append, "third")
    await tasks()
    assert order == ["first", "second", "third"]


@pytest.mark.anyio
async def test_a_failing_task_stops_the_rest() -> None:
    order: list[str] = []

    def boom() -> None:
        raise RuntimeError("boom")

    tasks = BackgroundTasks()
    tasks.add_task(boom)
    tasks.add_task(order.append, "never")
    with pytest.raises(RuntimeError, match="boom"):
        await tasks()
    assert order == []


def test_background_tasks_start_empty() -> None:
    assert BackgroundTasks().tasks == []
