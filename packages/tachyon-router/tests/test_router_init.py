from __future__ import annotations

import os
import subprocess
import sys

import pytest
import tachyon_router


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TACHYON_ROUTER_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, env=environment, timeout=60
    )


def test_public_names_are_exported() -> None:
    assert tachyon_router.__version__ == "0.1.0"
    for name in tachyon_router.__all__:
        assert hasattr(tachyon_router, name), name
    assert tachyon_router.HTTP == 1
    assert tachyon_router.WEBSOCKET == 2
    assert tachyon_router.backend in ("native", "python")


def test_env_var_forces_the_python_backend() -> None:
    result = _run("import tachyon_router; print(tachyon_router.backend)", TACHYON_ROUTER_BACKEND="python")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "python"
    assert "RuntimeWarning" not in result.stderr


def test_invalid_backend_name_is_an_import_error() -> None:
    result = _run("import tachyon_router", TACHYON_ROUTER_BACKEND="fortran")
    assert result.returncode != 0
    assert "TACHYON_ROUTER_BACKEND must be 'native' or 'python'" in result.stderr


# Simulates a machine without the compiled extension: a meta-path finder refuses to import it.
_WITHOUT_NATIVE = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'tachyon_router._tachyon_router_native':\n"
    "            raise ImportError('blocked for the test')\n"
    "sys.meta_path.insert(0, Block())\n"
    "import tachyon_router\n"
    "print(tachyon_router.backend)\n"
)


def test_missing_native_extension_warns_once_and_uses_the_twin() -> None:
    result = _run(_WITHOUT_NATIVE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "python"
    assert result.stderr.count("RuntimeWarning") == 1


def test_forcing_python_does_not_load_the_extension() -> None:
    result = _run(_WITHOUT_NATIVE, TACHYON_ROUTER_BACKEND="python")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "python"
    assert "RuntimeWarning" not in result.stderr


@pytest.mark.parametrize("env", [{"TACHYON_ROUTER_REQUIRE_NATIVE": "1"}, {"TACHYON_ROUTER_BACKEND": "native"}])
def test_missing_native_extension_is_an_import_error_when_required(env: dict[str, str]) -> None:
    result = _run(_WITHOUT_NATIVE, **env)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "native matcher is required" in result.stderr
