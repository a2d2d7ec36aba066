"""Server processes for the end-to-end tests (a helper module beside the applications, not an application).

``ServerProcess.start(command_for_port, ...)`` runs a server command on a free port of 127.0.0.1 in its own
session and waits until the port accepts connections; ``stop()`` ends it by PID with SIGTERM and a time
bound, then SIGKILLs its whole process group (multi-worker servers have children) if it did not exit.
Every wait here is for an event (a port accepting, a line in a log, a file appearing, a process exiting),
never for a length of time, and has a generous bound (the constants below, which the test modules share)
after which it fails with a message that says what it waited for. ``load_app(name)`` loads a module of this
directory (the one the servers are given as ``--app-dir``) into the test process once; ``tachyon_script()`` is
the ``tachyon`` console script.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType

import pytest

__all__ = [
    "APPS_DIR",
    "HOST",
    "IO_TIMEOUT",
    "STARTUP_TIMEOUT",
    "ServerProcess",
    "free_port",
    "load_app",
    "tachyon_script",
    "wait_for",
]

APPS_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
# The bounds of the waits. Each wait normally ends in well under a second (a server is ready in one to three);
# the bounds are for a heavily loaded machine (CI on two shared cores with a CPU hog beside it) and only decide
# how soon a real failure is reported, so they are generous.
# A server (or a restarted worker) accepting connections and answering.
STARTUP_TIMEOUT = 120.0
# One request, response, message or state change the test waits for.
IO_TIMEOUT = 60.0
# uvicorn's graceful shutdown finishes in-flight requests first; past this the group is killed.
SHUTDOWN_TIMEOUT = 15.0
# A port found free can be taken by someone else before the server binds it: retry a few times.
PORT_ATTEMPTS = 3
POLL_INTERVAL = 0.05


def load_app(name: str) -> ModuleType:
    """The module ``name`` of this directory, loaded once into this process (under its own name)."""
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, APPS_DIR / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def tachyon_script() -> str:
    """The ``tachyon`` console script installed beside this interpreter by the tachyon package."""
    script = Path(sys.executable).parent / "tachyon"
    if not script.exists():
        pytest.fail(f"the 'tachyon' console script is not installed beside {sys.executable}")
    return str(script)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def accepts_connections(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=POLL_INTERVAL):
        return True
    return False


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, details: Callable[[], str] | None = None
) -> None:
    """Polls ``condition`` until it holds; after ``timeout`` seconds, TimeoutError naming ``what`` (and the
    text ``details()`` returns then, e.g. a server's log)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            message = f"timed out after {timeout} s waiting for {what}"
            raise TimeoutError(message + (f"\n{details()}" if details is not None else ""))
        time.sleep(POLL_INTERVAL)


class ServerProcess:
    def __init__(
        self,
        process: subprocess.Popen[bytes],
        port: int,
        log_path: Path,
        shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    ) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self.shutdown_timeout = shutdown_timeout

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def listening_or_exited(self) -> bool:
        return self.process.poll() is not None or accepts_connections(self.port)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "<no log>"

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = IO_TIMEOUT) -> None:
        """``wait_for`` whose timeout message ends with this server's log."""
        wait_for(condition, timeout, what, lambda: f"server log:\n{self.log()}")

    def wait_for_log(self, text: str, what: str, timeout: float = IO_TIMEOUT) -> None:
        """Waits until the server's log contains ``text``."""
        self.wait_for(lambda: text in self.log(), f"{what} (the line {text!r} in the server log)", timeout)

    @classmethod
    def start(
        cls,
        command_for_port: Callable[[int], Sequence[str]],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
        shutdown_timeout: float = SHUTDOWN_TIMEOUT,
        name: str = "the server",
    ) -> ServerProcess:
        failures: list[str] = []
        for _ in range(PORT_ATTEMPTS):
            port = free_port()
            log_fd, log_name = tempfile.mkstemp(prefix="tachyon-e2e-server-", suffix=".log")
            with os.fdopen(log_fd, "wb") as log_file:
                process = subprocess.Popen(
                    list(command_for_port(port)),
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env={**os.environ, **(env or {})},
                    cwd=cwd,
                    # Its own process group, so that workers can be killed with it if it hangs.
                    start_new_session=True,
                )
            server = cls(process, port, Path(log_name), shutdown_timeout)
            try:
                wait_for(server.listening_or_exited, startup_timeout, f"a server on port {port}")
            except TimeoutError:
                pass
            if process.poll() is None and accepts_connections(port):
                return server
            log = server.log()
            server.stop()
            failures.append(f"port {port}: exit code {process.returncode}\n{log}")
            if "address already in use" not in log.lower():
                break
        raise RuntimeError(f"{name} did not start:\n" + "\n".join(failures))

    def terminate(self) -> None:
        """Send SIGTERM (a graceful shutdown request) to the server's main process."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)

    def wait(self, timeout: float = SHUTDOWN_TIMEOUT) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        try:
            if self.process.poll() is None:
                self.terminate()
                try:
                    self.process.wait(timeout=self.shutdown_timeout)
                except subprocess.TimeoutExpired:
                    pass
            # Whatever is left in the server's own process group (stray workers) is killed; the group id is
            # the PID of the process this module started.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=self.shutdown_timeout)
        finally:
            with contextlib.suppress(OSError):
                self.log_path.unlink()
