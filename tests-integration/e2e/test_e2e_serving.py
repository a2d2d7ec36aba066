"""Multi-worker serving with real server processes on 127.0.0.1.

``tachyon run module:app --workers 2`` (the ``tachyon`` console script) and ``uvicorn --workers 2`` must
answer every one of many concurrent requests, spread the answers over more than one worker process, and
shut down gracefully on SIGTERM (in-flight requests finish, every worker runs its lifespan shutdown, the
server exits within a bound). A script that calls ``app.run()`` serves the application too.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import e2e_processes as processes  # apps/e2e_processes.py, registered by conftest.py
import httpx2 as httpx
import pytest
from e2e_processes import APPS_DIR, IO_TIMEOUT, tachyon_script

APP = "e2e_serving_app:app"
MARKER_DIR_ENV = "TACHYON_E2E_MARKER_DIR"
WORKERS = 2
CONCURRENT_REQUESTS = 100
# Every worker has run its lifespan startup within this time on a loaded 2-core machine.
WORKERS_READY_TIMEOUT = processes.STARTUP_TIMEOUT
# From SIGTERM to exit, including an in-flight request that needs SLOW_REQUEST_SECONDS more.
SHUTDOWN_BOUND = 15.0
SLOW_REQUEST_SECONDS = 1.0
# Load spreading is up to the kernel: batches of blocking requests until two workers have answered.
SPREAD_BATCH = 8
BLOCK_SECONDS = 0.05


ServerProcess = processes.ServerProcess


def _tachyon_run(port: int) -> Sequence[str]:
    return [
        tachyon_script(), "run", APP, "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(WORKERS), "--app-dir", str(APPS_DIR), "--log-level", "warning",
    ]  # fmt: skip


def _uvicorn(port: int) -> Sequence[str]:
    return [
        sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(WORKERS), "--app-dir", str(APPS_DIR), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


LAUNCHERS: dict[str, Callable[[int], Sequence[str]]] = {"tachyon-run": _tachyon_run, "uvicorn": _uvicorn}


class Served:
    """A running multi-worker server and the lifespan markers its workers write."""

    def __init__(self, server: Any, marker_dir: Path) -> None:
        self.server = server
        self.marker_dir = marker_dir

    def pids(self, event: str) -> set[int]:
        return {int(path.name.split("-", 1)[1]) for path in self.marker_dir.glob(f"{event}-*")}


def _start(command: Callable[[int], Sequence[str]], marker_dir: Path, workers: int) -> Served:
    server = ServerProcess.start(command, env={MARKER_DIR_ENV: str(marker_dir)})
    served = Served(server, marker_dir)
    try:
        processes.wait_for(
            lambda: len(served.pids("started")) >= workers or server.process.poll() is not None,
            WORKERS_READY_TIMEOUT,
            f"{workers} workers to start",
        )
    except TimeoutError:
        server.stop()
        raise
    assert server.process.poll() is None, server.log()
    return served


@pytest.fixture(scope="module", params=list(LAUNCHERS))
def launcher(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def multi_worker(launcher: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Served]]:
    """Returns the running server for this launcher, starting a new one if a test has shut it down."""
    current: list[Served] = []

    def get() -> Served:
        if not current or current[-1].server.process.poll() is not None:
            marker_dir = tmp_path_factory.mktemp(f"markers-{launcher}")
            current.append(_start(LAUNCHERS[launcher], marker_dir, WORKERS))
        return current[-1]

    try:
        yield get
    finally:
        for served in current:
            served.server.stop()


async def _concurrent_gets(base_url: str, paths: list[str], *, new_connections: bool) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(paths), max_keepalive_connections=0 if new_connections else None)
    headers = {"connection": "close"} if new_connections else {}
    async with httpx.AsyncClient(base_url=base_url, timeout=IO_TIMEOUT, limits=limits, headers=headers) as client:
        return list(await asyncio.gather(*(client.get(path) for path in paths)))


def _slow_request_in_background(base_url: str, marker: Path) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            response = httpx.get(
                f"{base_url}/slow",
                params={"seconds": SLOW_REQUEST_SECONDS, "marker": str(marker)},
                timeout=IO_TIMEOUT,
            )
            outcome["response"] = (response.status_code, response.text)
        except Exception as exc:  # reported by the test's assertion
            outcome["error"] = repr(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _assert_graceful_shutdown(served: Served, tmp_path: Path, exit_code: int) -> None:
    server = served.server
    marker = tmp_path / "in-flight"
    thread, outcome = _slow_request_in_background(server.base_url, marker)
    processes.wait_for(marker.exists, IO_TIMEOUT, "the slow request to reach the application")
    answering_pid = int(marker.read_text())

    started = time.monotonic()
    server.terminate()
    exited_with = server.wait(SHUTDOWN_BOUND)
    elapsed = time.monotonic() - started
    thread.join(IO_TIMEOUT)

    assert exited_with == exit_code, server.log()
    assert elapsed < SHUTDOWN_BOUND
    # The request that was in flight when SIGTERM arrived was finished, not cut off.
    assert outcome == {"response": (200, f"finished in {answering_pid}")}
    # Every worker ran its lifespan shutdown.
    assert served.pids("stopped") == served.pids("started")
    assert not processes.accepts_connections(server.port)


# ---------------------------------------------------------------------------------------------------- tests


def test_concurrent_requests_are_all_answered(multi_worker: Callable[[], Served]) -> None:
    served = multi_worker()
    paths = [f"/pid?n={n}" for n in range(CONCURRENT_REQUESTS)]
    responses = asyncio.run(_concurrent_gets(served.server.base_url, paths, new_connections=False))
    assert [response.status_code for response in responses] == [200] * CONCURRENT_REQUESTS
    bodies = [response.json() for response in responses]
    assert [body["n"] for body in bodies] == [str(n) for n in range(CONCURRENT_REQUESTS)]
    workers = served.pids("started")
    assert {body["pid"] for body in bodies} <= workers


def test_answers_come_from_more_than_one_worker_process(multi_worker: Callable[[], Served]) -> None:
    served = multi_worker()
    workers = served.pids("started")
    assert len(workers) == WORKERS
    assert served.server.pid not in workers  # the main process supervises; the workers answer
    seen: set[int] = set()

    def both_answered() -> bool:
        paths = [f"/pid?block={BLOCK_SECONDS}" for _ in range(SPREAD_BATCH)]
        responses = asyncio.run(_concurrent_gets(served.server.base_url, paths, new_connections=True))
        seen.update(response.json()["pid"] for response in responses)
        return len(seen) > 1

    served.server.wait_for(both_answered, "answers from both workers")
    assert seen == workers


def test_sigterm_finishes_in_flight_requests_and_stops_every_worker(
    multi_worker: Callable[[], Served], tmp_path: Path
) -> None:
    served = multi_worker()
    assert len(served.pids("started")) == WORKERS
    # The supervisor of a multi-worker server exits with 0 once every worker has stopped.
    _assert_graceful_shutdown(served, tmp_path, exit_code=0)


def test_app_run_serves_a_script_and_stops_on_sigterm(tmp_path: Path) -> None:
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    script = APPS_DIR / "e2e_serving_app.py"
    served = _start(lambda port: [sys.executable, str(script), str(port)], marker_dir, 1)
    try:
        response = httpx.get(f"{served.server.base_url}/pid", timeout=IO_TIMEOUT)
        assert response.status_code == 200
        # app.run() serves in the script's own process.
        assert response.json() == {"pid": served.server.pid, "n": None}
        assert served.pids("started") == {served.server.pid}
        # A single uvicorn server re-raises the captured SIGTERM once its graceful shutdown is done, so the
        # exit status reports "terminated by SIGTERM".
        _assert_graceful_shutdown(served, tmp_path, exit_code=-signal.SIGTERM)
    finally:
        served.server.stop()
