"""Cap the total size of an HTTP request body (413 Content Too Large beyond it)."""

from __future__ import annotations

from tachyon_http.exceptions import HTTPException
from tachyon_http.responses import PlainTextResponse
from tachyon_http.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_BODY_SIZE_SCOPE_KEY", "RequestBodyLimitMiddleware", "RequestBodyLimitResponder"]

# Scope keys keep Starlette's spelling so code written for Starlette that reads the limit keeps working.
MAX_BODY_SIZE_SCOPE_KEY = "starlette.max_body_size"
_COUNTER_SCOPE_KEY = "starlette._body_limit_responder"

_TOO_LARGE = "Content Too Large"
_MISSING = object()


# The two signals keep Starlette's private class names: libraries written for Starlette find them by name
# (FastAPI 0.165 looks both up with getattr to turn a limit hit inside a task group back into a 413), and an
# unknown name would let the internal exception escape as an error instead.
class _RequestBodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413, detail=_TOO_LARGE)


class _RequestBodyLimitResponseSent(Exception):
    """Unwinds the application once the 413 has been sent in place of its response."""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestBodyLimitMiddleware:
    """Limit the total size of an HTTP request body.

    Nested limits (application, mount, route) share one counter: the innermost limit in force when a chunk
    is received applies, so a route may raise or lower its application's limit.
    """

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await RequestBodyLimitResponder(self.app, self.max_body_size)(scope, receive, send)


class RequestBodyLimitResponder:
    """One request's counter. The outermost responder owns ``receive``; nested ones only retarget its limit."""

    scope: Scope
    receive: Receive
    send: Send

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size
        self.content_length: int | None = None
        self.total_size = 0
        self.response_started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        outer_limit = scope.get(MAX_BODY_SIZE_SCOPE_KEY, _MISSING)
        scope[MAX_BODY_SIZE_SCOPE_KEY] = self.max_body_size

        owner = scope.get(_COUNTER_SCOPE_KEY)
        if isinstance(owner, RequestBodyLimitResponder):
            # An enclosing limit already counts this body: the innermost limit replaces it (until the owner
            # finishes, as in Starlette), and bytes already read are judged by the new limit straight away.
            owner.max_body_size = self.max_body_size
            if owner.total_size > owner.max_body_size:
                raise _RequestBodyTooLarge
            await self.app(scope, receive, send)
            return

        try:
            await self._own(scope, receive, send)
        finally:
            if outer_limit is _MISSING:
                scope.pop(MAX_BODY_SIZE_SCOPE_KEY, None)
            else:
                scope[MAX_BODY_SIZE_SCOPE_KEY] = outer_limit

    async def _own(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope, self.receive, self.send = scope, receive, send
        self.content_length = _content_length(scope)
        scope[_COUNTER_SCOPE_KEY] = self
        try:
            await self.app(scope, self.receive_with_limit, self.send_with_limit)
        except _RequestBodyTooLarge:
            if self.response_started:
                raise  # too late for a 413: let the error handling layer deal with it
            await _too_large(scope, receive, send)
        except _RequestBodyLimitResponseSent:
            pass
        finally:
            scope.pop(_COUNTER_SCOPE_KEY, None)

    def _declared_too_large(self) -> bool:
        return self.content_length is not None and self.content_length > self.max_body_size

    async def receive_with_limit(self) -> Message:
        # A declared Content-Length over the limit is refused before a single byte is read.
        if self._declared_too_large():
            raise _RequestBodyTooLarge
        incoming = await self.receive()
        if incoming["type"] == "http.request":
            # Counted as received: Content-Length may lie, the bytes cannot.
            self.total_size += len(incoming.get("body", b""))
            if self.total_size > self.max_body_size:
                raise _RequestBodyTooLarge
        return incoming

    async def send_with_limit(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.response_started = True
            if self._declared_too_large():
                # The application answered without reading the body; still refuse the oversized request.
                await _too_large(self.scope, self.receive, self.send)
                raise _RequestBodyLimitResponseSent
        await self.send(message)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse(_TOO_LARGE, status_code=413)(scope, receive, send)
