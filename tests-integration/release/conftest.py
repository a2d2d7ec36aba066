"""Fixtures of the release check (``hatch run release:check``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from release_env import Server, Venv, interpreter


@pytest.fixture
def make_venv(tmp_path: Path) -> Iterator[Any]:
    def make(version: str, name: str = "venv") -> Venv:
        return Venv(tmp_path / name, interpreter(version))

    yield make


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[Server] = []

    def start(command: list[str], env: dict[str, str], cwd: Path) -> Server:
        server = Server(command, env, cwd)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
