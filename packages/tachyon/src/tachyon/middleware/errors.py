"""ServerErrorMiddleware: the outermost layer, answering unhandled exceptions with a 500.

With ``debug=True`` the answer is a traceback page (HTML when the client accepts it, plain text
otherwise); else the installed 500/Exception handler, or a plain "Internal Server Error". The
exception is always re-raised afterwards, so that servers log it and test clients can surface it.
"""

from __future__ import annotations

import html
import inspect
import sys
import traceback

from tachyon_http._shared import is_async_callable
from tachyon_http.concurrency import run_in_threadpool
from tachyon_http.requests import Request
from tachyon_http.responses import HTMLResponse, PlainTextResponse, Response
from tachyon_http.types import ASGIApp, Receive, Scope, Send

from tachyon._exception_handler import _StartTracker
from tachyon.types import ExceptionHandler

__all__ = ["ServerErrorMiddleware"]

# How many frames of the traceback the HTML page shows (innermost last), with their source context.
DEFAULT_FRAME_LIMIT = 7

STYLES = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #1d2125; }
h1 { margin-bottom: 0.2em; }
.tb { border: 1px solid #6c4ab6; border-radius: 4px; }
.tb-head { margin: 0; padding: 10px 14px; background: #6c4ab6; color: #fff; font-size: 18px; }
.frame-title { margin: 0; padding: 8px 12px; background: #f1edf9; border-top: 1px solid #d9d0ee; }
.frame-filename, .source-code { font-family: ui-monospace, monospace; }
.source-code { padding: 4px 0 8px 0; font-size: small; }
.source-code p { margin: 0; }
.frame-line { padding-left: 12px; white-space: pre; }
.center-line { background: #6c4ab6; color: #fff; }
.lineno { margin-right: 6px; opacity: 0.7; }
.toggle { float: right; padding: 0 6px; border: 1px solid #9b8bc4; cursor: pointer; }
.collapsed { display: none; }
"""

JS = """
<script>
  function toggleFrame(button) {
    const frame = document.getElementById(button.dataset.frameId);
    const hidden = frame.classList.toggle("collapsed");
    button.innerHTML = hidden ? "+" : "&#8210;";
  }
</script>
"""

TEMPLATE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Tachyon Debugger</title>
<style>{styles}</style>
</head>
<body>
<h1>500 Server Error</h1>
<h2>{error}</h2>
<div class="tb">
<p class="tb-head">Traceback</p>
<div>{exc_html}</div>
</div>
{js}
</body>
</html>
"""

FRAME_TEMPLATE = """
<div>
<p class="frame-title">File <span class="frame-filename">{frame_filename}</span>,
line <i>{frame_lineno}</i>, in <b>{frame_name}</b>
<span class="toggle" data-frame-id="{frame_filename}-{frame_lineno}" onclick="toggleFrame(this)">{collapse_button}</span>
</p>
<div id="{frame_filename}-{frame_lineno}" class="source-code {collapsed}">{code_context}</div>
</div>
"""  # noqa: E501

LINE = """<p><span class="frame-line"><span class="lineno">{lineno}.</span> {line}</span></p>
"""

CENTER_LINE = """<p class="center-line"><span class="frame-line"><span class="lineno">{lineno}.</span> {line}</span></p>
"""


class ServerErrorMiddleware:
    """Returns a 500 response for any exception escaping the wrapped app, then re-raises it."""

    def __init__(self, app: ASGIApp, handler: ExceptionHandler | None = None, debug: bool = False) -> None:
        self.app = app
        self.handler = handler
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        tracker = _StartTracker(send)
        try:
            await self.app(scope, receive, tracker)
        except Exception as exc:
            await self.answer_unhandled(exc, scope, receive, send, tracker.started)
            raise exc

    async def answer_unhandled(self, exc: Exception, scope: Scope, receive: Receive, send: Send, started: bool) -> None:
        """Send the 500 answer to ``exc`` unless the response has ``started``; the caller re-raises ``exc``."""
        answer = await self._answer(Request(scope), exc)
        # Once the response has started nothing more can be sent; the error is still re-raised.
        if not started:
            await answer(scope, receive, send)

    async def _answer(self, request: Request, exc: Exception) -> Response:
        if self.debug:
            # Reading source files for the page is blocking I/O: keep it off the event loop.
            return await run_in_threadpool(self.debug_response, request, exc)
        custom = self.handler
        if custom is None:
            return self.error_response(request, exc)
        if is_async_callable(custom):
            return await custom(request, exc)  # type: ignore[arg-type, return-value]
        return await run_in_threadpool(custom, request, exc)  # type: ignore[arg-type]

    def format_line(self, index: int, line: str, frame_lineno: int, frame_index: int) -> str:
        template = CENTER_LINE if index == frame_index else LINE
        # Escaped because source lines may contain markup characters; spaces kept visible.
        text = html.escape(line).replace(" ", "&nbsp")
        return template.format(lineno=frame_lineno - frame_index + index, line=text)

    def generate_frame_html(self, frame: inspect.FrameInfo, is_collapsed: bool) -> str:
        frame_index = frame.index or 0
        code_context = "".join(
            self.format_line(index, line, frame.lineno, frame_index)
            for index, line in enumerate(frame.code_context or ())
        )
        return FRAME_TEMPLATE.format(
            # File and function names can hold "<" and ">" (e.g. "<stdin>", "<lambda>").
            frame_filename=html.escape(frame.filename),
            frame_lineno=frame.lineno,
            frame_name=html.escape(frame.function),
            code_context=code_context,
            collapsed="collapsed" if is_collapsed else "",
            collapse_button="+" if is_collapsed else "&#8210;",
        )

    def generate_html(self, exc: Exception, limit: int = DEFAULT_FRAME_LIMIT) -> str:
        summary = traceback.TracebackException.from_exception(exc, capture_locals=True)
        frames_html: list[str] = []
        if exc.__traceback__ is not None:
            frames = inspect.getinnerframes(exc.__traceback__, limit)
            # Innermost frame first and expanded; the outer ones start collapsed.
            for position, frame in enumerate(reversed(frames)):
                frames_html.append(self.generate_frame_html(frame, is_collapsed=position > 0))

        if sys.version_info >= (3, 13):
            exc_type_name = summary.exc_type_str
        else:
            exc_type_name = summary.exc_type.__name__ if summary.exc_type is not None else ""
        error = f"{html.escape(exc_type_name)}: {html.escape(str(summary))}"
        return TEMPLATE.format(styles=STYLES, js=JS, error=error, exc_html="".join(frames_html))

    def generate_plain_text(self, exc: Exception) -> str:
        return "".join(traceback.format_exception(exc))

    def debug_response(self, request: Request, exc: Exception) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(self.generate_html(exc), status_code=500)
        return PlainTextResponse(self.generate_plain_text(exc), status_code=500)

    def error_response(self, request: Request, exc: Exception) -> Response:
        return PlainTextResponse("Internal Server Error", status_code=500)
