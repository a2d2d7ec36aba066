# The flat names of ``tachyon`` for type checkers and editors; at run time __init__.py loads them lazily.

from tachyon.applications import Tachyon as Tachyon
from tachyon.background import BackgroundTask as BackgroundTask, BackgroundTasks as BackgroundTasks
from tachyon.config import Config as Config
from tachyon.datastructures import (
    URL as URL,
    FormData as FormData,
    Headers as Headers,
    MutableHeaders as MutableHeaders,
    QueryParams as QueryParams,
    State as State,
    UploadFile as UploadFile,
)
from tachyon.endpoints import HTTPEndpoint as HTTPEndpoint, WebSocketEndpoint as WebSocketEndpoint
from tachyon.exceptions import HTTPException as HTTPException, WebSocketException as WebSocketException
from tachyon.middleware import Middleware as Middleware
from tachyon.requests import HTTPConnection as HTTPConnection, Request as Request
from tachyon.responses import (
    FileResponse as FileResponse,
    HTMLResponse as HTMLResponse,
    JSONResponse as JSONResponse,
    PlainTextResponse as PlainTextResponse,
    RedirectResponse as RedirectResponse,
    Response as Response,
    StreamingResponse as StreamingResponse,
)
from tachyon.routing import (
    Host as Host,
    Mount as Mount,
    Route as Route,
    Router as Router,
    WebSocketRoute as WebSocketRoute,
)
from tachyon.staticfiles import StaticFiles as StaticFiles
from tachyon.templating import Jinja2Templates as Jinja2Templates
from tachyon.testclient import TestClient as TestClient
from tachyon.websockets import (
    WebSocket as WebSocket,
    WebSocketClose as WebSocketClose,
    WebSocketDisconnect as WebSocketDisconnect,
    WebSocketState as WebSocketState,
)

__version__: str

__all__ = [
    "BackgroundTask",
    "BackgroundTasks",
    "Config",
    "FileResponse",
    "FormData",
    "HTMLResponse",
    "HTTPConnection",
    "HTTPEndpoint",
    "HTTPException",
    "Headers",
    "Host",
    "JSONResponse",
    "Jinja2Templates",
    "Middleware",
    "Mount",
    "MutableHeaders",
    "PlainTextResponse",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "Response",
    "Route",
    "Router",
    "State",
    "StaticFiles",
    "StreamingResponse",
    "Tachyon",
    "TestClient",
    "URL",
    "UploadFile",
    "WebSocket",
    "WebSocketClose",
    "WebSocketDisconnect",
    "WebSocketEndpoint",
    "WebSocketException",
    "WebSocketRoute",
    "WebSocketState",
    "__version__",
]
