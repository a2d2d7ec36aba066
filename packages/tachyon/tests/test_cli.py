from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tachyon import cli


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    return calls


def test_run_passes_an_import_string_and_options(uvicorn_calls: list[Any]) -> None:
    cli.main(["run", "some_module:app", "--host", "0.0.0.0", "--port", "9000", "--workers", "3", "--reload"])
    [(app, options)] = uvicorn_calls
    assert app == "some_module:app"
    assert options["host"] == "0.0.0.0"
    assert options["port"] == 9000
    assert options["workers"] == 3
    assert options["reload"] is True


def test_defaults(uvicorn_calls: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TACHYON_COMPAT", raising=False)
    cli.main(["run", "some_module:app"])
    [(_, options)] = uvicorn_calls
    assert (options["host"], options["port"]) == ("127.0.0.1", 8000)
    assert "workers" not in options and "reload" not in options


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "no_colon"],
        ["run", "mod:"],
        ["run", "mod:app", "--port", "70000"],
        ["run", "mod:app", "--port", "http"],
        ["run", "mod:app", "--workers", "0"],
        [],
    ],
)
def test_bad_arguments_exit_with_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert "usage: tachyon" in capsys.readouterr().err


def test_compat_installs_the_switch_before_importing_the_app(
    uvicorn_calls: list[Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tachyon import compat

    order: list[str] = []
    monkeypatch.setenv("TACHYON_CLI_APP", "")  # restored after the test; the CLI overwrites it
    monkeypatch.setattr(compat, "install", lambda: order.append("install"))
    (tmp_path / "compat_target_app.py").write_text("APP = 'imported'\n")
    monkeypatch.setattr(cli, "_import_app", lambda target: order.append(f"import {target}"))
    cli.main(["run", "compat_target_app:APP", "--compat", "--app-dir", str(tmp_path)])
    assert order == ["install", "import compat_target_app:APP"]
    [(app, options)] = uvicorn_calls
    assert app == "tachyon.cli:_compat_app_factory"
    assert options["factory"] is True
    assert os.environ["TACHYON_CLI_APP"] == "compat_target_app:APP"


def test_compat_factory_needs_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TACHYON_CLI_APP", raising=False)
    with pytest.raises(RuntimeError, match="TACHYON_CLI_APP is not set"):
        cli._compat_app_factory()


def test_missing_attribute_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cli_target_module.py").write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(SystemExit, match="attribute 'nope' not found in module 'cli_target_module'"):
        cli._import_app("cli_target_module:nope")


def test_app_run_hands_itself_to_uvicorn(uvicorn_calls: list[Any]) -> None:
    from tachyon.applications import Tachyon

    app = Tachyon()
    app.run(port=8123, log_level="warning")
    assert uvicorn_calls == [(app, {"host": "127.0.0.1", "port": 8123, "log_level": "warning"})]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Seconds to wait for uvicorn worker processes to come up on a loaded 2-core machine.
SERVER_START_TIMEOUT = 30.0


@pytest.mark.parametrize("extra", [[], ["--workers", "2"]], ids=["single", "two-workers"])
def test_serves_a_real_application_over_tcp(tmp_path: Path, extra: list[str]) -> None:
    (tmp_path / "served_app.py").write_text(
        "from tachyon.applications import Tachyon\n"
        "from tachyon.responses import JSONResponse\n"
        "from tachyon.routing import Route\n"
        "import os\n"
        "async def hello(request):\n"
        "    return JSONResponse({'hello': request.path_params['name'], 'pid': os.getpid()})\n"
        "app = Tachyon(routes=[Route('/hello/{name}', hello)])\n"
    )
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "tachyon.cli",
        "run",
        "served_app:app",
        "--port",
        str(port),
        "--app-dir",
        str(tmp_path),
        "--log-level",
        "warning",
        *extra,
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/hello/world", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    output = server.stdout.read().decode() if server.poll() is not None and server.stdout else ""
                    pytest.fail(f"server did not start: {output}")
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["hello"] == "world"
    finally:
        server.terminate()
        server.wait(timeout=30)
