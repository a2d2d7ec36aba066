from __future__ import annotations

import contextlib
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


def test_factory_root_path_and_proxy_options(uvicorn_calls: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TACHYON_COMPAT", raising=False)
    cli.main(["run", "m:make_app", "--factory", "--root-path", "/api", "--forwarded-allow-ips", "10.0.0.1"])
    [(app, options)] = uvicorn_calls
    assert app == "m:make_app"
    assert options["factory"] is True
    assert options["root_path"] == "/api"
    assert options["forwarded_allow_ips"] == "10.0.0.1"


def test_compat_factory_calls_an_app_factory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tachyon import compat

    monkeypatch.setattr(compat, "install", lambda: None)
    (tmp_path / "factory_target_app.py").write_text("def make():\n    return 'built'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TACHYON_CLI_APP", "factory_target_app:make")
    monkeypatch.setenv("TACHYON_CLI_APP_IS_FACTORY", "1")
    assert cli._compat_app_factory() == "built"
    monkeypatch.setenv("TACHYON_CLI_APP_IS_FACTORY", "")
    assert callable(cli._compat_app_factory())


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
    monkeypatch.setenv("TACHYON_CLI_APP_IS_FACTORY", "")
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


# Seconds to wait for the server to accept connections, and for its first answer (a worker process may still
# be starting then), on a heavily loaded 2-core machine; both normally take a second or two.
SERVER_START_TIMEOUT = 120.0
REQUEST_TIMEOUT = 60.0


TACHYON_APP = """
import os
from tachyon.applications import Tachyon
from tachyon.responses import JSONResponse
from tachyon.routing import Route

async def hello(request):
    return JSONResponse({"hello": request.path_params["name"], "app": type(request.app).__module__})

app = Tachyon(routes=[Route("/hello/{name}", hello)])
"""

# Written for Starlette: with --compat it must run on Tachyon, in every worker process.
STARLETTE_APP = TACHYON_APP.replace("tachyon.", "starlette.").replace("Tachyon", "Starlette")


@pytest.mark.parametrize(
    ("source", "extra", "expected_module"),
    [
        (TACHYON_APP, [], "tachyon.applications"),
        (TACHYON_APP, ["--workers", "2"], "tachyon.applications"),
        (STARLETTE_APP, ["--compat", "--workers", "2"], "tachyon.applications"),
    ],
    ids=["single", "two-workers", "compat-two-workers"],
)
def test_serves_a_real_application_over_tcp(
    tmp_path: Path, source: str, extra: list[str], expected_module: str
) -> None:
    (tmp_path / "served_app.py").write_text(source)
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
    env = {key: value for key, value in os.environ.items() if key not in ("TACHYON_COMPAT", "TACHYON_CLI_APP")}
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while server.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1.0):
                break
            if time.monotonic() > deadline:
                server.kill()
                output = server.stdout.read().decode() if server.stdout else ""
                pytest.fail(f"timed out after {SERVER_START_TIMEOUT} s waiting for port {port}: {output}")
            time.sleep(0.05)
        else:
            output = server.stdout.read().decode() if server.stdout else ""
            pytest.fail(f"server exited with {server.returncode}: {output}")
        # Accepted connections wait in the listening socket's queue until a worker takes them.
        response = httpx.get(f"http://127.0.0.1:{port}/hello/world", timeout=REQUEST_TIMEOUT)
        assert response.status_code == 200
        assert response.json() == {"hello": "world", "app": expected_module}
    finally:
        server.terminate()
        server.wait(timeout=30)


ROUTED_APP = """
from tachyon import HTTPEndpoint, Host, Mount, PlainTextResponse, Route, Router, StaticFiles, Tachyon, WebSocketRoute

async def home(request):
    return PlainTextResponse("home")

async def chat(websocket):
    await websocket.close()

class Users(HTTPEndpoint):
    async def get(self, request):
        return PlainTextResponse("users")

app = Tachyon(routes=[
    Route("/", home, name="home"),
    Route("/users/{id:int}", Users),
    WebSocketRoute("/ws", chat),
    Mount("/api", name="api", routes=[
        Route("/items", home, methods=["GET", "POST"], name="items"),
        Mount("/v2", routes=[Route("/deep", home, name="deep")]),
    ]),
    Mount("/static", StaticFiles(directory=%(static)r), name="static"),
    Host("{sub}.example.org", Router(routes=[Route("/", home, name="sub")]), name="subs"),
])

def make():
    return app
"""


@pytest.fixture
def routed_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TACHYON_COMPAT", raising=False)
    (tmp_path / "routed_app_module.py").write_text(ROUTED_APP % {"static": str(tmp_path)})
    yield tmp_path
    sys.modules.pop("routed_app_module", None)


EXPECTED_ROWS = [
    {"methods": ["GET", "HEAD"], "path": "/", "name": "home", "endpoint": "routed_app_module.home", "host": None},
    {"methods": ["*"], "path": "/users/{id:int}", "name": "Users", "endpoint": "routed_app_module.Users", "host": None},
    {"methods": ["WEBSOCKET"], "path": "/ws", "name": "chat", "endpoint": "routed_app_module.chat", "host": None},
    {
        "methods": ["GET", "HEAD", "POST"],
        "path": "/api/items",
        "name": "api:items",
        "endpoint": "routed_app_module.home",
        "host": None,
    },
    {
        "methods": ["GET", "HEAD"],
        "path": "/api/v2/deep",
        "name": "api:deep",
        "endpoint": "routed_app_module.home",
        "host": None,
    },
    {
        "methods": ["*"],
        "path": "/static/",
        "name": "static",
        "endpoint": "tachyon.staticfiles.StaticFiles",
        "host": None,
    },
    {
        "methods": ["GET", "HEAD"],
        "path": "/",
        "name": "subs:sub",
        "endpoint": "routed_app_module.home",
        "host": "{sub}.example.org",
    },
]


def test_routes_json_lists_mounts_and_hosts_with_full_paths(
    routed_app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    cli.main(["routes", "routed_app_module:app", "--app-dir", str(routed_app), "--json"])
    assert json.loads(capsys.readouterr().out) == EXPECTED_ROWS


def test_routes_names_reverse_with_url_path_for(routed_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    cli.main(["routes", "routed_app_module:make", "--factory", "--app-dir", str(routed_app), "--json"])
    rows = json.loads(capsys.readouterr().out)
    app = sys.modules["routed_app_module"].app
    assert app.url_path_for("api:deep") == "/api/v2/deep"
    assert [row["name"] for row in rows if row["name"] == "api:deep"] == ["api:deep"]


def test_routes_table_is_aligned(routed_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["routes", "routed_app_module:app", "--app-dir", str(routed_app)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "NAME", "ENDPOINT", "HOST"]
    assert len(lines) == 1 + len(EXPECTED_ROWS)
    assert lines[4].split() == ["GET,HEAD,POST", "/api/items", "api:items", "routed_app_module.home", "-"]
    assert lines[-1].split() == ["GET,HEAD", "/", "subs:sub", "routed_app_module.home", "{sub}.example.org"]
    columns = [lines[0].index(title) for title in ("PATH", "NAME", "ENDPOINT", "HOST")]
    for line in lines[1:]:
        for column in columns:
            assert line[column - 2 : column] == "  " and line[column] != " ", (line, column)


def test_routes_of_something_without_a_route_table_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plain_asgi_module.py").write_text("async def app(scope, receive, send):\n    pass\n")
    with pytest.raises(SystemExit, match="plain_asgi_module:app .function. has no route table"):
        cli.main(["routes", "plain_asgi_module:app", "--app-dir", str(tmp_path)])


def test_routes_with_compat_lists_a_starlette_app(tmp_path: Path) -> None:
    # A fresh process: the switch cannot be installed where the reference Starlette is already imported.
    (tmp_path / "starlette_routes_app.py").write_text(
        "from starlette.applications import Starlette\nfrom starlette.routing import Route\n"
        "async def ping(request): ...\napp = Starlette(routes=[Route('/ping', ping)])\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "TACHYON_COMPAT"}
    command = [sys.executable, "-m", "tachyon.cli", "routes", "starlette_routes_app:app", "--compat", "--json"]
    result = subprocess.run([*command, "--app-dir", str(tmp_path)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert '"endpoint": "starlette_routes_app.ping"' in result.stdout
    assert '"path": "/ping"' in result.stdout
