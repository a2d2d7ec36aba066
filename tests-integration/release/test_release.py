"""The files in ``dist/`` install and serve, on every supported CPython, without the source tree."""

from __future__ import annotations

import json
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest
from release_env import clean_env, dist_files

APP = """
from tachyon import JSONResponse, Mount, Route, Router, Tachyon


async def hello(request):
    import sys

    import tachyon_router

    return JSONResponse(
        {
            "hello": request.path_params["name"],
            "backend": tachyon_router.backend,
            "python": "%d.%d" % sys.version_info[:2],
        }
    )


app = Tachyon(routes=[Mount("/api", routes=[Route("/hello/{name}", hello)])])
"""


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_router_wheel_is_one_abi3_manylinux_wheel() -> None:
    wheel = dist_files()["tachyon_router"]
    assert "-cp311-abi3-" in wheel.name and "manylinux" in wheel.name, wheel.name
    with zipfile.ZipFile(wheel) as archive:
        extensions = [name for name in archive.namelist() if name.endswith(".so")]
    assert extensions == ["tachyon_router/_tachyon_router_native.abi3.so"]


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_wheels_install_and_serve(version: str, make_venv: Any, serve: Any, tmp_path: Path) -> None:
    files = dist_files()
    env = make_venv(version)
    env.pip_install(
        *(
            str(files[name])
            for name in ("tachyon_router", "tachyon_http", "tachyon_ws", "tachyon_testclient", "tachyon")
        )
    )
    (tmp_path / "shipped_app.py").write_text(APP)
    # Installed from the wheels, not found on a path into the source tree.
    where = env.run("import tachyon, tachyon_router; print(tachyon.__file__); print(tachyon_router.__file__)")
    assert where.returncode == 0, where.stderr
    assert all(str(env.path) in line for line in where.stdout.split()), where.stdout

    server = serve(
        [str(env.bin / "tachyon"), "run", "shipped_app:app", "--app-dir", str(tmp_path), "--port", "0"],
        env=clean_env(TACHYON_ROUTER_REQUIRE_NATIVE="1"),
        cwd=tmp_path,
    )
    body = _get_json(f"http://127.0.0.1:{server.port}/api/hello/wheel")
    assert body == {"hello": "wheel", "backend": "native", "python": version}


def test_router_sdist_without_a_compiler_gives_the_pure_python_twin(make_venv: Any) -> None:
    files = dist_files()
    env = make_venv("3.11")
    # No C compiler: the build hook's compile step fails and it must fall back to a pure-Python wheel.
    output = env.pip_install(
        "-v", "--no-binary", "tachyon-router", str(files["router-sdist"]), env=clean_env(CC="/bin/false")
    )
    assert "building the native matcher failed" in output
    result = env.run(
        "import warnings; warnings.simplefilter('always')\n"
        "import tachyon_router\n"
        "print(tachyon_router.backend)\n"
        "print(tachyon_router.Router is not None)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["python", "True"]
    assert "RuntimeWarning: tachyon_router: native matcher unavailable" in result.stderr
    assert "using the pure-Python matcher" in result.stderr
