"""The lazy flat names of ``tachyon`` (PEP 562), imported only when one of them is first used.

Kept out of ``__init__.py`` so that ``import tachyon`` stays as cheap as it was before flat imports existed
(``__init__.pyi`` gives type checkers the same names).
"""

from __future__ import annotations

import importlib
import sys

#: Flat name -> the module that defines it.
LAZY: dict[str, str] = {
    "Tachyon": "tachyon.applications",
    "Host": "tachyon.routing",
    "Mount": "tachyon.routing",
    "Route": "tachyon.routing",
    "Router": "tachyon.routing",
    "WebSocketRoute": "tachyon.routing",
    "HTTPConnection": "tachyon.requests",
    "Request": "tachyon.requests",
    "FileResponse": "tachyon.responses",
    "HTMLResponse": "tachyon.responses",
    "JSONResponse": "tachyon.responses",
    "PlainTextResponse": "tachyon.responses",
    "RedirectResponse": "tachyon.responses",
    "Response": "tachyon.responses",
    "StreamingResponse": "tachyon.responses",
    "WebSocket": "tachyon.websockets",
    "WebSocketClose": "tachyon.websockets",
    "WebSocketDisconnect": "tachyon.websockets",
    "WebSocketState": "tachyon.websockets",
    "HTTPException": "tachyon.exceptions",
    "WebSocketException": "tachyon.exceptions",
    "Middleware": "tachyon.middleware",
    "BackgroundTask": "tachyon.background",
    "BackgroundTasks": "tachyon.background",
    "HTTPEndpoint": "tachyon.endpoints",
    "WebSocketEndpoint": "tachyon.endpoints",
    "URL": "tachyon.datastructures",
    "FormData": "tachyon.datastructures",
    "Headers": "tachyon.datastructures",
    "MutableHeaders": "tachyon.datastructures",
    "QueryParams": "tachyon.datastructures",
    "State": "tachyon.datastructures",
    "UploadFile": "tachyon.datastructures",
    "Config": "tachyon.config",
    "StaticFiles": "tachyon.staticfiles",
    "Jinja2Templates": "tachyon.templating",
    "TestClient": "tachyon.testclient",
}

__all__ = sorted([*LAZY, "__version__"])


def resolve(name: str) -> object:
    """The value of ``tachyon.<name>`` for a flat name, cached in the package's namespace."""
    package = sys.modules["tachyon"]
    if name == "__all__":
        value: object = list(__all__)
    else:
        module_name = LAZY.get(name)
        if module_name is None:
            raise AttributeError(f"module {package.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name), name)
    setattr(package, name, value)  # later accesses are plain attribute lookups
    return value


def names() -> list[str]:
    return sorted(set(vars(sys.modules["tachyon"])) | set(__all__))
