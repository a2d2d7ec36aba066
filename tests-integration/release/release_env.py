"""Helpers of the release check: fresh virtual environments built from the files in ``dist/``.

Run through ``hatch run release:check`` after ``hatch run release:build``; nothing here imports the source
tree (this folder is not on the default test paths of pytest.ini).
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DIST = Path(os.environ.get("TACHYON_DIST", REPO / "dist"))
PACKAGES = ("tachyon_router", "tachyon_http", "tachyon_ws", "tachyon_testclient", "tachyon")
# Installing into a fresh environment and starting uvicorn on a loaded 2-core machine.
INSTALL_TIMEOUT = 600.0
SERVER_START_TIMEOUT = 60.0
_RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a child process, without anything that would change what it imports or builds."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TACHYON_", "PYTHON", "VIRTUAL_ENV", "PIP_REQUIRE"))
    }
    env.update(extra)
    return env


def dist_files() -> dict[str, Path]:
    """The wheel of every package in ``dist/``, by import name, and the router's sdist as ``"router-sdist"``."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        wheels = sorted(DIST.glob(f"{package}-*.whl"))
        if len(wheels) != 1:
            pytest.fail(f"expected one {package} wheel in {DIST} (run `hatch run release:build`), found {wheels}")
        found[package] = wheels[0]
    sdists = sorted(DIST.glob("tachyon_router-*.tar.gz"))
    if len(sdists) != 1:
        pytest.fail(f"expected one tachyon_router sdist in {DIST}, found {sdists}")
    found["router-sdist"] = sdists[0]
    return found


def interpreter(version: str) -> str:
    """The CPython ``version`` (e.g. "3.12"): this interpreter, pyenv's, or ``python3.12`` on PATH."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(root.glob(f"versions/{version}.*/bin/python{version}"))
    if candidates:
        return str(candidates[-1])
    on_path = shutil.which(f"python{version}")
    if on_path is None:
        pytest.skip(f"no CPython {version}: neither under {root}/versions (pyenv) nor python{version} on PATH")
    return on_path


class Venv:
    def __init__(self, path: Path, base_python: str) -> None:
        self.path = path
        subprocess.run([base_python, "-m", "venv", str(path)], check=True, timeout=INSTALL_TIMEOUT)
        self.python = str(path / "bin" / "python")
        self.bin = path / "bin"

    def pip_install(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [self.python, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", *args],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            env=env if env is not None else clean_env(),
        )
        if result.returncode != 0:
            pytest.fail(f"pip install {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout + result.stderr

    def run(
        self, code: str, *, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.python, "-c", code],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            env=env if env is not None else clean_env(),
            cwd=cwd,
        )


class Server:
    """A ``tachyon run`` process; ``port`` is known once uvicorn says it is listening."""

    def __init__(self, command: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd
        )
        threading.Thread(target=self._pump, daemon=True).start()
        self.port = self._wait_until_listening()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _wait_until_listening(self) -> int:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                line = ""
            if line is None or remaining <= 0:
                self.stop()
                what = "exited" if line is None else f"did not say 'Uvicorn running on' within {SERVER_START_TIMEOUT}s"
                pytest.fail(f"server {what}:\n{''.join(self.output)}")
            self.output.append(line)
            match = _RUNNING.search(line)
            if match:
                return int(match.group(1))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
