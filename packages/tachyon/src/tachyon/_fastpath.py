"""The fast path: ExceptionMiddleware, the Router and a plain route's adapter run as one coroutine.

Layer by layer, an HTTP request through the default stack is ServerErrorMiddleware -> (user middleware) ->
ExceptionMiddleware -> Router -> ``request_response(endpoint)`` -> endpoint: a coroutine and often a ``send``
wrapper per layer. The fast path runs the layers below the user middleware in one coroutine, and, when there is
no user middleware (nor a body limit), ServerErrorMiddleware too: ``Tachyon.__call__`` is :func:`serve`.

Whether it applies is decided once, when the application builds its stack (:meth:`FastPath.attach`): only
Tachyon's own layer classes, unsubclassed, around a Router whose dispatch methods are its own. The references
it keeps are compared by identity on every request (:meth:`FastPath.intact`), so that reassigning a layer's
``app`` or the router's ``middleware_stack`` afterwards turns it off and the layers run as built.

Behaviour is the layers': the same messages in the same order, the same handlers with the same "response
started" knowledge, the same exception escaping (``tests/test_app_fastpath.py`` compares them message for
message). The router answers with a small result (``RESOLVED_*``, from ``Router.fast_path_lookup``) and never
calls into the middleware; a 404/405 it refuses is answered here, without raising while only the built-in
HTTPException handler would see it. The lookup carries on through a plain Mount of a Router without middleware
(the mount's child scope, then the inner router's own lookup), so a route below such a mount runs inline too; a
plain Mount of anything else (its middleware, another app) is entered the same way and its app called here
(``RESOLVED_APP``); what the lookup cannot finish goes to the general dispatch of the router that made it.
"""

from __future__ import annotations

from typing import Any

from tachyon_http.exceptions import HTTPException
from tachyon_http.requests import Request
from tachyon_http.types import ASGIApp, Receive, Scope, Send

from tachyon._adapters import _RESPONSE_CALL
from tachyon._exception_handler import HANDLERS_SCOPE_KEY, _StartTracker, handle_exception
from tachyon.middleware.errors import ServerErrorMiddleware
from tachyon.middleware.exceptions import ExceptionMiddleware
from tachyon.routing import (
    RESOLVED_APP,
    RESOLVED_ENDPOINT,
    RESOLVED_REDIRECT,
    RESOLVED_REFUSAL,
    Router,
    _stock_dispatch,
)

__all__ = ["FastPath", "serve"]


async def serve(app: Any, scope: Scope, receive: Receive, send: Send, fast: FastPath | None = None) -> None:
    """``Tachyon.__call__`` (the application's class binds this function as the method) and, given ``fast``,
    ExceptionMiddleware's way into the fast path. One function, so that the application's own coroutine is the
    one that runs the fast path: a coroutine more per request would cost about as much as the whole route lookup.
    """
    if fast is None:
        # The application's entry: Starlette's three lines (the app in the scope, the stack built once, the call),
        # unless the stack is still ServerErrorMiddleware directly around the layers below, all as built.
        scope["app"] = app
        stack = app.middleware_stack
        if stack is None:
            # Built once, on the first event (usually lifespan startup), then reused.
            stack = app.middleware_stack = app.build_middleware_stack()
        fast = app._tachyon_fast_path
        if fast is None or scope["type"] != "http":
            await stack(scope, receive, send)
            return
        # One tuple unpacked, then identity checks on locals (``stack`` is never None here, so a fast path
        # without ServerErrorMiddleware, ``errors`` None, fails the first test).
        errors, handlers, router, router_stack = fast.layers
        if (
            stack is not errors
            or errors.app is not handlers
            or handlers.app is not router
            or router.middleware_stack is not router_stack
        ):
            await stack(scope, receive, send)
            return
    else:
        # Inside ExceptionMiddleware.__call__, below the user middleware: ServerErrorMiddleware runs outside.
        errors = None
        handlers = fast.handlers
        router = fast.router
    scope[HANDLERS_SCOPE_KEY] = handlers._tables
    try:
        kind, target = router.fast_path_lookup(scope)
        if kind == RESOLVED_REFUSAL:
            # The router refused the request (404, or a plain Route's 405): the answer its HTTPException would
            # get from ExceptionMiddleware, rendered; raised when a handler of the application must see it.
            status_code, headers = target
            target = handlers.answer_router_error(status_code, headers)
            if target is None:
                raise HTTPException(status_code=status_code, headers=headers)
    except Exception as exc:
        # Raised while matching (a convertor, a route's matches()) or refused: inside the router, before any
        # send.
        await fast._fail(exc, None, scope, receive, _StartTracker(send), errors)
        return
    if kind == RESOLVED_ENDPOINT:
        call = target
        # A plain route's request_response() adapter, inlined: no send wrapper while the response is a
        # Response (it sends "http.response.start" before anything else can fail).
        request = Request(scope, receive, send)
        started = False
        try:
            response = await call(request)
            if getattr(type(response), "__call__", None) is _RESPONSE_CALL:  # noqa: B004 - identity
                started = True
                # The function itself: what calling the response runs, without making a bound method.
                await _RESPONSE_CALL(response, scope, receive, send)
                return
        except Exception as exc:
            await fast._fail(exc, request, scope, receive, _StartTracker(send, started), errors)
            return
        tracker = _StartTracker(send)
        try:
            await response(scope, receive, tracker)
        except Exception as exc:
            await fast._fail(exc, request, scope, receive, tracker, errors)
        return
    if kind == RESOLVED_REFUSAL or kind == RESOLVED_REDIRECT:
        # A rendered 404/405 or a slash redirect: "http.response.start" goes first.
        try:
            await target(scope, receive, send)
        except Exception as exc:
            await fast._fail(exc, None, scope, receive, _StartTracker(send, True), errors)
        return
    # A plain Mount's app (the scope already entered), or the general dispatch of the router that made the
    # lookup (the application's, or a Router mounted in it that the lookup carried on into), continuing from it.
    tracker = _StartTracker(send)
    try:
        if kind == RESOLVED_APP:
            await target(scope, receive, tracker)
        else:
            router, found = target
            await router.app(scope, receive, tracker, found=found)
    except Exception as exc:
        await fast._fail(exc, None, scope, receive, tracker, errors)


class FastPath:
    """The layers from ExceptionMiddleware down to a plain route's endpoint, as one coroutine (see the module).

    ``errors`` is the ServerErrorMiddleware when it wraps ``handlers`` directly (no user middleware, no body
    limit): then ``Tachyon.__call__`` (which is :func:`serve`) runs the whole stack while ``errors.app is
    handlers`` and :meth:`intact` hold. Otherwise ExceptionMiddleware runs the part below it through :func:`serve`
    (its ``_fast_path``), inside whatever wraps it.
    """

    __slots__ = ("errors", "handlers", "layers", "router", "router_stack")

    def __init__(
        self, errors: ServerErrorMiddleware | None, handlers: ExceptionMiddleware, router: Router, router_stack: Any
    ) -> None:
        self.errors = errors
        self.handlers = handlers
        self.router = router
        self.router_stack = router_stack
        # The four above in one tuple, for serve()'s per-request check (``errors`` typed loosely: serve reads
        # its ``app`` only after ``stack is errors`` has shown it is the ServerErrorMiddleware).
        self.layers: tuple[Any, ExceptionMiddleware, Router, Any] = (errors, handlers, router, router_stack)

    @classmethod
    def attach(cls, stack: ASGIApp, handlers: ASGIApp, router: Router) -> FastPath | None:
        """Decide, once the application built ``stack`` (``handlers`` being the ExceptionMiddleware layer made
        around ``router``), whether the fast path applies; if so install it in ``handlers`` and return it."""
        if type(handlers) is not ExceptionMiddleware or handlers.app is not router:
            return None
        if not (_stock_dispatch(router) and router.middleware_stack == router.app):
            return None
        errors = stack if type(stack) is ServerErrorMiddleware and stack.app is handlers else None
        fast = cls(errors, handlers, router, router.middleware_stack)
        handlers._fast_path = fast
        return fast

    # The one coroutine of the fast path (the function above), for ExceptionMiddleware: fast.serve(None, ..., fast).
    serve = staticmethod(serve)

    def intact(self) -> bool:
        """Whether the layers below ExceptionMiddleware are still as built (nobody reassigned them)."""
        return self.handlers.app is self.router and self.router.middleware_stack is self.router_stack

    async def _fail(
        self,
        exc: Exception,
        request: Request | None,
        scope: Scope,
        receive: Receive,
        tracker: _StartTracker,
        errors: ServerErrorMiddleware | None,
    ) -> None:
        """What the layers answer to ``exc``, innermost first: the route adapter (the handlers published in the
        scope; skipped when ``request`` is None, for what the router raised or sent itself), ExceptionMiddleware
        (its own tables), then ServerErrorMiddleware (500) if it is part of the run, which re-raises; without it
        the exception escapes to the user middleware. ``tracker`` wraps the server's send and knows whether the
        response has started."""
        try:
            try:
                if request is None:
                    raise exc
                await handle_exception(exc, request, scope, receive, tracker, tracker.started)
            except Exception as unhandled:
                await handle_exception(
                    unhandled,
                    Request(scope, receive, tracker),
                    scope,
                    receive,
                    tracker,
                    tracker.started,
                    self.handlers._tables,
                )
        except Exception as fatal:
            if errors is not None:
                await errors.answer_unhandled(fatal, scope, receive, tracker.send, tracker.started)
            raise
