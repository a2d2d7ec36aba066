"""pytest plugin for the conformance run, loaded with ``-p tachyon_conformance_plugin`` before any conftest.

``TACHYON_CONFORMANCE_SIDE=tachyon`` (the default): installs ``tachyon.compat`` at import time, i.e. before
Starlette's test suite (or anything else) imports ``starlette``, and checks at the start and the end of the
session that every ``starlette`` module in ``sys.modules`` is really a Tachyon module.

``TACHYON_CONFORMANCE_SIDE=starlette``: the reference run; checks that the real Starlette 1.10.0 is the one
imported (and never imports Tachyon).
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from typing import Any

import pytest

SIDE_ENV = "TACHYON_CONFORMANCE_SIDE"
SIDE = os.environ.get(SIDE_ENV, "tachyon")
REFERENCE_VERSION = "1.10.0"

# Tachyon's distributions (import names), whose code stands where Starlette's does in this run.
TACHYON_PACKAGES = ("tachyon", "tachyon_http", "tachyon_ws", "tachyon_testclient", "tachyon_router")


def _adapt_blockbuster() -> None:
    """Point Starlette's blockbuster fixture at Tachyon's code, like the warning filters are adapted.

    Starlette's conftest watches for blocking calls made from the files of the ``starlette`` package and
    allows a few by file name (``/starlette/testclient.py``). On the Tachyon side, the code that runs is in
    Tachyon's packages: scan those, and translate the allowed file names through the compat mapping.
    """
    try:
        import blockbuster
    except ImportError:  # optional in Starlette's dev dependencies; absent on both sides then
        return
    original_init = blockbuster.BlockBuster.__init__
    original_can_block_in = blockbuster.BlockBusterFunction.can_block_in

    def init(self: Any, scanned_modules: Any = None, **kwargs: Any) -> None:
        if scanned_modules == "starlette":
            scanned_modules = list(TACHYON_PACKAGES)
        original_init(self, scanned_modules, **kwargs)

    def can_block_in(self: Any, filename: str, functions: Any) -> Any:
        if filename.startswith("/starlette/") and filename.endswith(".py"):
            module = "starlette." + filename[len("/starlette/") : -len(".py")].replace("/", ".")
            filename = "/" + compat.MODULE_MAP[module].replace(".", "/") + ".py"
        return original_can_block_in(self, filename, functions)

    blockbuster.BlockBuster.__init__ = init  # type: ignore[method-assign]
    blockbuster.BlockBusterFunction.can_block_in = can_block_in  # type: ignore[method-assign]


if SIDE == "tachyon":
    from tachyon import compat

    compat.install()
    _adapt_blockbuster()
elif SIDE != "starlette":
    raise pytest.UsageError(f"{SIDE_ENV} must be 'tachyon' or 'starlette', not {SIDE!r}")


def _check_tachyon_modules() -> list[str]:
    """Names under ``starlette`` whose module is not Tachyon's (must be empty)."""
    wrong = []
    for name, module in list(sys.modules.items()):
        if name != "starlette" and not name.startswith("starlette."):
            continue
        if name == "starlette":
            if not getattr(module, "__tachyon_compat__", False):
                wrong.append(f"{name} (real package at {getattr(module, '__file__', '?')})")
            continue
        if not module.__name__.startswith("tachyon"):
            wrong.append(f"{name} -> {module.__name__} ({getattr(module, '__file__', '?')})")
    # The real package, if installed, must not have been loaded under any name either.
    real = importlib.machinery.PathFinder.find_spec("starlette")
    if real is not None and real.submodule_search_locations:
        real_dirs = tuple(os.path.join(d, "") for d in real.submodule_search_locations)
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None) or ""
            if file.startswith(real_dirs):
                wrong.append(f"{name} loaded from the real Starlette ({file})")
    return wrong


def pytest_sessionstart(session: pytest.Session) -> None:
    import anyio.pytest_plugin
    import starlette

    # Starlette's suite runs every async test on each backend anyio finds; both must be there.
    backends = set(anyio.pytest_plugin.get_available_backends())  # type: ignore[attr-defined]
    assert backends >= {"asyncio", "trio"}, f"anyio backends available: {sorted(backends)} (install trio)"

    if SIDE == "starlette":
        assert "tachyon" not in sys.modules, "the reference run must not import Tachyon"
        assert not getattr(starlette, "__tachyon_compat__", False), "reference run is using tachyon.compat"
        assert starlette.__version__ == REFERENCE_VERSION, starlette.__version__
        return
    assert compat.is_installed()
    assert starlette.__version__ == REFERENCE_VERSION
    try:
        import starlette.routing
    except ModuleNotFoundError as exc:
        # Tachyon's routing may not exist yet while it is written; the per-test results show the rest.
        session.config.stash[_routing_problem] = str(exc)
    else:
        assert starlette.routing.__name__ == "tachyon.routing", starlette.routing.__name__
    wrong = _check_tachyon_modules()
    assert not wrong, f"real Starlette modules imported in the Tachyon run: {wrong}"


_routing_problem = pytest.StashKey[str]()


def pytest_report_header(config: pytest.Config) -> list[str]:
    import anyio.pytest_plugin

    backends = anyio.pytest_plugin.get_available_backends()  # type: ignore[attr-defined]
    lines = [f"conformance side: {SIDE}; anyio backends: {', '.join(backends)}"]
    if SIDE == "tachyon":
        lines.append(f"starlette names served by tachyon.compat ({compat.STARLETTE_VERSION})")
    return lines


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if SIDE != "tachyon":
        return
    wrong = _check_tachyon_modules()
    if wrong:
        # Fail the whole run loudly: results obtained against real Starlette would be meaningless.
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        sys.stderr.write(f"\nCONFORMANCE ERROR: real Starlette modules were imported: {wrong}\n")
    problem = session.config.stash.get(_routing_problem, None)
    if problem:
        sys.stderr.write(f"\nnote: starlette.routing unavailable in this run: {problem}\n")


# One hanging test must not stall the whole run (and the CI budget): SIGALRM interrupts the main thread.
TIMEOUT_ENV = "TACHYON_CONFORMANCE_TEST_TIMEOUT"


class ConformanceTestTimeout(Exception):
    """A test ran longer than the per-test limit."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    import signal

    seconds = int(os.environ.get(TIMEOUT_ENV, "0") or 0)
    if seconds <= 0 or not hasattr(signal, "SIGALRM"):
        return (yield)

    def expire(signum: int, frame: object) -> None:
        raise ConformanceTestTimeout(f"{item.nodeid} ran longer than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        return (yield)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# Tests share the process: code that changes the working directory (and never restores it) breaks later
# tests that use relative paths. Name the culprit so the failure is not blamed on the innocent test.
_START_CWD = os.getcwd()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    before = os.getcwd()
    try:
        return (yield)
    finally:
        after = os.getcwd()
        if after != before:
            sys.stderr.write(f"\nCONFORMANCE NOTE: {item.nodeid} changed the working directory: {before} -> {after}\n")
