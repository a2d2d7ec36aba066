"""FastAPI on Tachyon: the compat switch must be installed before FastAPI (and so Starlette) is imported.

Run these tests in their own pytest process (`python -m pytest tests-integration/fastapi`): a process that
has already imported the real Starlette cannot switch any more.
"""

from __future__ import annotations

import os
from typing import Literal

import pytest
from tachyon import compat

#: FASTAPI_SMOKE_REFERENCE=1 runs the same tests on the real Starlette (no switch), to tell a wrong test
#: from a Tachyon bug; the assertions about which modules are in use then expect Starlette's.
REFERENCE_RUN = os.environ.get("FASTAPI_SMOKE_REFERENCE") == "1"

if not REFERENCE_RUN:
    try:
        compat.install()
    except compat.CompatInstallError as exc:  # pragma: no cover - depends on how pytest was started
        raise pytest.UsageError(f"run tests-integration/fastapi in its own pytest process: {exc}") from exc


Backend = Literal["asyncio", "trio"]


@pytest.fixture(params=["asyncio", "trio"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """The TestClient's event loop backend: the app must work on both."""
    value: Backend = request.param
    return value
