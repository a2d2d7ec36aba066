"""The ``tachyon`` command line, run as a real process serving on 127.0.0.1.

``tachyon run --compat`` serves an unmodified Starlette application file on Tachyon's modules (in every
worker process), the same file without the switch runs on Starlette itself, and ``tachyon run --help``
documents the serving options. Bad command lines fail fast with a clear message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import e2e_processes as processes  # apps/e2e_processes.py, registered by conftest.py
import httpx2 as httpx
import pytest
from e2e_processes import APPS_DIR, IO_TIMEOUT, tachyon_script

COMPAT_APP = "e2e_compat_app:app"
# A command line that is refused (or an app that cannot be imported) ends in well under this.
COMMAND_TIMEOUT = 60.0
WORKERS = 2
SPREAD_BATCH = 8
BLOCK_SECONDS = 0.05

ON_TACHYON = {
    "request": "tachyon_http.requests.Request",
    "application": "tachyon.applications.Tachyon",
    "response": "tachyon_http.responses.JSONResponse",
    "route": "tachyon.routing.Route",
    "starlette_module": "tachyon_http.requests",
    "starlette_version": "1.10.0",
}
ON_STARLETTE = {
    "request": "starlette.requests.Request",
    "application": "starlette.applications.Starlette",
    "response": "starlette.responses.JSONResponse",
    "route": "starlette.routing.Route",
    "starlette_module": "starlette.requests",
    "starlette_version": "1.10.0",
}


def _tachyon_run(app: str, *options: str) -> Any:
    def command(port: int) -> Sequence[str]:
        return [
            tachyon_script(), "run", app, "--host", "127.0.0.1", "--port", str(port),
            "--app-dir", str(APPS_DIR), "--log-level", "warning", *options,
        ]  # fmt: skip

    return command


def _without_compat_env() -> Mapping[str, str]:
    # The switch must come from the command line under test, not from the environment of the test run.
    return {"TACHYON_COMPAT": ""}


@contextlib.contextmanager
def _serve(command: Any, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Iterator[Any]:
    server = processes.ServerProcess.start(command, env={**_without_compat_env(), **(env or {})}, cwd=cwd)
    try:
        yield server
    finally:
        server.stop()


def _whoami(server: Any) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/whoami", timeout=IO_TIMEOUT)
    assert response.status_code == 200, server.log()
    body: dict[str, Any] = response.json()
    return body


def _without_pid(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if key != "pid"}


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tachyon_script(), *args],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
        stdin=subprocess.DEVNULL,
        cwd=APPS_DIR,
    )


async def _spread_whoami(base_url: str) -> list[dict[str, Any]]:
    limits = httpx.Limits(max_connections=SPREAD_BATCH, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=IO_TIMEOUT, limits=limits, headers={"connection": "close"}
    ) as client:
        responses = await asyncio.gather(
            *(client.get("/whoami", params={"block": BLOCK_SECONDS}) for _ in range(SPREAD_BATCH))
        )
    assert [response.status_code for response in responses] == [200] * SPREAD_BATCH
    return [response.json() for response in responses]


# ---------------------------------------------------------------------------------------------------- tests


def test_compat_flag_serves_an_unmodified_starlette_app_on_tachyon() -> None:
    with _serve(_tachyon_run(COMPAT_APP, "--compat")) as server:
        assert _without_pid(_whoami(server)) == ON_TACHYON


def test_compat_flag_switches_every_worker_process() -> None:
    with _serve(_tachyon_run(COMPAT_APP, "--compat", "--workers", str(WORKERS))) as server:
        reports: list[dict[str, Any]] = []

        def every_worker_answered() -> bool:
            reports.extend(asyncio.run(_spread_whoami(server.base_url)))
            return len({report["pid"] for report in reports}) >= WORKERS

        server.wait_for(every_worker_answered, f"answers from all {WORKERS} workers")
        assert len({report["pid"] for report in reports}) == WORKERS
        assert server.pid not in {report["pid"] for report in reports}
        assert all(_without_pid(report) == ON_TACHYON for report in reports)


def test_compat_environment_variable_works_like_the_flag() -> None:
    with _serve(_tachyon_run(COMPAT_APP), env={"TACHYON_COMPAT": "1"}) as server:
        assert _without_pid(_whoami(server)) == ON_TACHYON


def test_without_the_switch_the_same_file_runs_on_starlette() -> None:
    # The control experiment: the application file really is a Starlette application. Without --app-dir the
    # application is found in the working directory.
    def command(port: int) -> Sequence[str]:
        return [
            tachyon_script(),
            "run",
            COMPAT_APP,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]

    with _serve(command, cwd=APPS_DIR) as server:
        assert _without_pid(_whoami(server)) == ON_STARLETTE


RELOAD_APP = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def version(request):
    return PlainTextResponse("version {version} " + type(request).__module__)


app = Starlette(routes=[Route("/version", version)])
"""
# What uvicorn's reloader logs when it restarts the worker for a changed file.
RELOAD_LINE = "detected changes in"


def _current_version(server: Any) -> str:
    try:
        return httpx.get(f"{server.base_url}/version", timeout=IO_TIMEOUT).text
    except httpx.TransportError:  # the worker is being replaced
        return ""


def test_reload_restarts_on_a_source_change_and_keeps_the_compat_switch(tmp_path: Path) -> None:
    source = tmp_path / "e2e_reload_app.py"
    source.write_text(RELOAD_APP.format(version=1))

    def command(port: int) -> Sequence[str]:
        return [
            tachyon_script(), "run", "e2e_reload_app:app", "--host", "127.0.0.1", "--port", str(port),
            "--app-dir", str(tmp_path), "--reload", "--compat",
        ]  # fmt: skip

    # The reloader watches the working directory: the temporary one, not the repository.
    server = processes.ServerProcess.start(command, env=_without_compat_env(), cwd=tmp_path)
    try:
        assert _current_version(server) == "version 1 tachyon_http.requests", server.log()
        source.write_text(RELOAD_APP.format(version=2))
        # uvicorn's poller (StatReload) takes a file's first modification time as its baseline and restarts
        # on a later one. When its first scan comes is not observable, and on a busy machine it can come after
        # the change above (which it then never reports), so the file's time is moved one second further on
        # every poll until the server logs the restart. Times ahead of the clock also beat any file-system
        # time resolution.
        mtime = source.stat().st_mtime

        def restart_logged() -> bool:
            nonlocal mtime
            if RELOAD_LINE in server.log():
                return True
            mtime += 1
            os.utime(source, (mtime, mtime))
            return False

        server.wait_for(restart_logged, "the reloader to restart the worker for the changed source")
        server.wait_for(
            lambda: _current_version(server).startswith("version 2"),
            "the restarted worker to serve the changed source",
            processes.STARTUP_TIMEOUT,
        )
        assert _current_version(server) == "version 2 tachyon_http.requests"
    finally:
        server.stop()


def test_run_help_documents_the_serving_options() -> None:
    completed = _run_cli("run", "--help")
    assert completed.returncode == 0, completed.stderr
    usage = completed.stdout
    for option in ("--host", "--port", "--workers", "--reload", "--compat", "--app-dir"):
        assert option in usage, option
    assert "module:attribute" in usage
    assert "starlette" in usage.lower()  # --compat says what it does


def test_top_level_help_lists_the_run_command() -> None:
    completed = _run_cli("--help")
    assert completed.returncode == 0, completed.stderr
    assert "run" in completed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "no_colon_here"], "expected 'module:attribute'"),
        (["run", "e2e_compat_app:app", "--port", "70000"], "port must be between 0 and 65535"),
        (["run", "e2e_compat_app:app", "--port", "eighty"], "port must be an integer"),
        (["run", "e2e_compat_app:app", "--workers", "0"], "expected a positive integer"),
        ([], "required: command"),
    ],
    ids=["app-target", "port-range", "port-type", "workers", "no-command"],
)
def test_bad_command_lines_are_refused_with_a_clear_message(args: list[str], message: str) -> None:
    completed = _run_cli(*args)
    assert completed.returncode == 2
    assert message in completed.stderr


def test_an_app_that_cannot_be_imported_fails_fast_instead_of_serving() -> None:
    completed = _run_cli("run", "e2e_no_such_module:app", "--port", str(processes.free_port()))
    assert completed.returncode != 0
    assert "e2e_no_such_module" in completed.stdout + completed.stderr


def test_compat_with_an_app_that_cannot_be_imported_fails_fast() -> None:
    completed = _run_cli("run", "e2e_no_such_module:app", "--compat", "--port", str(processes.free_port()))
    assert completed.returncode != 0
    assert "e2e_no_such_module" in completed.stdout + completed.stderr
