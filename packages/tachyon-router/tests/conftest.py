from __future__ import annotations

import importlib
import os

import pytest

BACKENDS = ("python", "native")


def native_available() -> bool:
    try:
        importlib.import_module("tachyon_router._native")
    except ImportError:
        return False
    return True


def require_backend(name: str) -> str:
    """Skip a native parameter when the extension is absent, unless CI demands it (then fail)."""
    if name == "native" and not native_available():
        required = os.environ.get("TACHYON_ROUTER_REQUIRE_NATIVE", "").strip().lower()
        if required not in ("", "0", "false", "no", "off"):
            pytest.fail("TACHYON_ROUTER_REQUIRE_NATIVE is set but tachyon_router._native cannot be imported")
        pytest.skip("native router extension not built")
    return name


@pytest.fixture
def backend_guard() -> object:
    """``backend_guard(name)`` skips (or, under TACHYON_ROUTER_REQUIRE_NATIVE, fails) a missing backend."""
    return require_backend


@pytest.fixture(params=BACKENDS)
def router_backend(request: pytest.FixtureRequest) -> str:
    return require_backend(request.param)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
