"""``BaseHTTPMiddleware``: write HTTP middleware as ``async def dispatch(request, call_next)``.

How it works: the wrapped application runs as a task of its own and its ASGI messages travel through an
unbuffered channel. ``call_next`` waits for ``http.response.start`` and returns a response that replays the
rest of the channel. Once the dispatch function's response has been sent, the application is released (its
final ``send`` returns, so its background tasks run after the client has the whole response) and any later
``receive`` it makes reports a disconnect.

On asyncio (``_InlineExchange``) the application's task is created but its coroutine is first stepped in
place, with that task installed as the current one, until it suspends on something not ready; a plain
endpoint therefore answers without a trip through the event loop, and one loop turn lets it finish after the
response went out. On other backends (trio) a task group and an anyio memory stream do the same
(``_TaskGroupExchange``).
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Generator, Mapping, MutableMapping
from contextlib import aclosing
from typing import Any, NoReturn, TypeVar

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from tachyon_http._shared import create_collapsing_task_group
from tachyon_http.requests import ClientDisconnect, Request
from tachyon_http.responses import Response
from tachyon_http.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "AsyncContentStream",
    "BaseHTTPMiddleware",
    "BodyStreamGenerator",
    "DispatchFunction",
    "RequestResponseEndpoint",
]

RequestResponseEndpoint = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, RequestResponseEndpoint], Awaitable[Response]]
BodyStreamGenerator = AsyncGenerator[bytes | MutableMapping[str, Any], None]
AsyncContentStream = AsyncIterable[str | bytes | memoryview | MutableMapping[str, Any]]
T = TypeVar("T")
_new_response = object.__new__

_START = "http.response.start"
_BODY = "http.response.body"
_PATHSEND = "http.response.pathsend"
_DEBUG = "http.response.debug"
_EARLY_HINT = "http.response.early_hint"
_DISCONNECT = "http.disconnect"

# What the wrapped application has been told about the request body so far.
_RELAY_PENDING = 0  # not everything yet
_RELAY_BODY_DONE = 1  # the whole body; a disconnect is all that is left to report
_RELAY_DISCONNECTED = 2  # the disconnect too


def _disconnect_message() -> Message:
    # A fresh dict each time: receivers may mutate what they get.
    return {"type": _DISCONNECT}


def _body_message(chunk: bytes, more: bool) -> Message:
    return {"type": "http.request", "body": chunk, "more_body": more}


def _as_call_next_error(error: Exception) -> Exception:
    """The application's exception as call_next raises it.

    Keep an explicit cause; promote an implicit context to the cause; with neither, suppress the context.
    Either way the middleware's own plumbing never shows up in the application's traceback.
    """
    error.__cause__ = error.__cause__ or error.__context__
    error.__suppress_context__ = True
    return error


def _is_final(message: Message) -> bool:
    kind = message["type"]
    return kind == _PATHSEND or (kind == _BODY and not message.get("more_body", False))


def _failure(exchange: _TaskGroupExchange | _InlineExchange) -> BaseException:
    """What ``call_next`` raises when the application ended without starting a response."""
    error = exchange.error
    if error is None:
        return RuntimeError("No response returned.")
    exchange.error_reraised = True
    return _as_call_next_error(error)


def _replay(start: Message, body: BodyStreamGenerator, debug_info: Any) -> Response:
    """The response ``call_next`` returns: the application's start message, its body replayed from ``body``.

    What ``_StreamingResponse(content=body, status_code=..., info=...)`` builds, with the start message's header
    list as ``raw_headers`` rather than the default headers ``init_headers`` would make and this would replace.
    """
    replay = _new_response(_StreamingResponse)
    replay.info = debug_info
    replay.body_iterator = body
    replay.status_code = start["status"]
    replay.media_type = None
    replay.background = None
    replay.raw_headers = start.get("headers", [])
    return replay


class _CachedRequest(Request):
    """The request given to ``dispatch``; it also feeds the request body to the wrapped application.

    A body already read with ``body()`` is replayed; a stream consumed with ``stream()`` becomes an empty
    body (rather than a hang); otherwise the application pulls chunks through this request's own stream, so
    both sides agree on what was read and on disconnection.
    """

    # A class default, as Request keeps its own: no __init__ of its own to run per request.
    _relay_state = _RELAY_PENDING

    async def wrapped_receive(self) -> Message:
        state = self._relay_state
        if state == _RELAY_DISCONNECTED:
            # No need to wait for the server to say it again.
            return _disconnect_message()
        if state == _RELAY_BODY_DONE:
            return await self._relay_disconnect()

        cached = getattr(self, "_body", None)
        if cached is not None:
            # dispatch awaited body(): hand it over even if the client has gone since.
            self._relay_state = _RELAY_BODY_DONE
            return _body_message(cached, False)
        if self._stream_consumed:
            self._relay_state = _RELAY_BODY_DONE
            return _body_message(b"", False)
        return await self._relay_next_chunk()

    async def _relay_disconnect(self) -> Message:
        self._relay_state = _RELAY_DISCONNECTED
        if self._is_disconnected:
            return _disconnect_message()
        message = await self.receive()
        if message["type"] != _DISCONNECT:  # pragma: no cover
            raise RuntimeError(f"Unexpected message received: {message['type']}")
        return message

    async def _relay_next_chunk(self) -> Message:
        try:
            async with aclosing(self.stream()) as chunks:
                chunk = await chunks.__anext__()
        except ClientDisconnect:
            self._relay_state = _RELAY_DISCONNECTED
            return _disconnect_message()
        finished = self._stream_consumed
        if finished:
            self._relay_state = _RELAY_BODY_DONE
        return _body_message(chunk, not finished)


class _TaskGroupExchange:
    """Per-request plumbing between one dispatch call and the wrapped application, on any anyio backend.

    The application runs in a task of a task group opened around dispatch; its messages travel through an
    unbuffered anyio memory stream. Used where the asyncio fast path (``_InlineExchange``) is unavailable.
    """

    __slots__ = (
        "app",
        "channel_in",
        "channel_out",
        "client_receive",
        "client_send",
        "delivered",
        "error",
        "error_reraised",
        "scope",
        "tasks",
    )

    def __init__(self, app: ASGIApp, scope: Scope, client_receive: Receive, client_send: Send) -> None:
        self.app = app
        self.scope = scope
        self.client_receive = client_receive
        self.client_send = client_send
        self.delivered = anyio.Event()  # set once the dispatch function's response has been sent
        self.error: Exception | None = None
        self.error_reraised = False
        self.tasks: TaskGroup | None = None
        # Unbuffered: the application advances only as fast as its response is replayed to the client.
        channel: tuple[MemoryObjectSendStream[Message], MemoryObjectReceiveStream[Message]]
        channel = anyio.create_memory_object_stream[Message]()
        self.channel_in, self.channel_out = channel

    async def app_receive(self) -> Message:
        if self.delivered.is_set():
            return _disconnect_message()
        received: Message | None = None
        async with anyio.create_task_group() as race:

            async def cancel_once_delivered() -> None:
                await self.delivered.wait()
                race.cancel_scope.cancel()

            race.start_soon(cancel_once_delivered)
            try:
                received = await self.client_receive()
            finally:
                race.cancel_scope.cancel()
        # Lost the race (or finished it too late): from the application's view the client is gone.
        if received is None or self.delivered.is_set():
            return _disconnect_message()
        return received

    async def app_send(self, message: Message) -> None:
        try:
            await self.channel_in.send(message)
        except anyio.BrokenResourceError:
            return  # the replay is over and the channel closed: nobody is listening
        if _is_final(message):
            # Park the application until the client has everything, so its background work runs afterwards.
            await self.delivered.wait()

    async def run_app(self) -> None:
        with self.channel_in:
            try:
                await self.app(self.scope, self.app_receive, self.app_send)
            except Exception as exc:
                self.error = exc

    async def call_next(self, request: Request) -> Response:
        assert self.tasks is not None
        self.tasks.start_soon(self.run_app)
        debug_info: Any = None
        try:
            while True:
                first = await self.channel_out.receive()
                kind = first["type"]
                if kind == _DEBUG:
                    debug_info = first["info"]
                elif kind == _EARLY_HINT:
                    await self.client_send(first)  # hints go straight out; they do not start the response
                else:
                    break
        except anyio.EndOfStream:
            raise _failure(self)

        assert kind == _START
        return _replay(first, self.replay_body(), debug_info)

    async def replay_body(self) -> BodyStreamGenerator:
        async for message in self.channel_out:
            if message["type"] == _PATHSEND:
                yield message
                return
            assert message["type"] == _BODY, f"Unexpected message: {message}"
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return


# ---------------------------------------------------------------------------------------------------------
# asyncio fast path
#
# The application runs in an asyncio task of its own, as with the task group, but that task is only created,
# not waited for: the application's coroutine is first stepped right here, in the caller's thread of
# control, with the new task installed as the current task (so cancel scopes, timeouts and
# ``current_task()`` inside the application belong to it, and context variables are the task's copy). A
# plain endpoint answers without ever suspending, so ``call_next`` has the whole response without a trip
# through the event loop. As soon as the application suspends on something that is not ready, that
# suspension is handed to the task, which carries on as an ordinary task from then on.
#
# The hand-over between the application and the dispatch side follows an unbuffered channel: a send
# completes when the other side takes the message (at once when it is already waiting for one), and the
# final one waits until the dispatch function's response has been sent.

_NOTHING: Any = object()  # no suspension waiting to be handed to the task
_PRIMED: Any = object()  # what the task's coroutine yields when it is primed

try:
    from asyncio.tasks import _enter_task, _leave_task

    _CAN_SWITCH_TASKS = True
except ImportError:  # pragma: no cover - an interpreter without them takes the task-group path
    _CAN_SWITCH_TASKS = False


@types.coroutine
def _next_turn() -> Generator[None, None, None]:
    """``await asyncio.sleep(0)`` without its extra coroutine: a bare yield lets the loop run everything ready."""
    yield


def _raise_collapsed(exc: Exception) -> NoReturn:
    """Raise ``exc`` as a task group that re-raises its lone exception would (see ``create_collapsing_task_group``):
    its context is promoted to its cause, and the group it travelled in becomes its context."""
    try:
        raise BaseExceptionGroup("unhandled errors in a TaskGroup", [exc])
    except BaseExceptionGroup:
        context = None if exc.__suppress_context__ else exc.__context__
        raise exc from exc.__cause__ or context


class _TaskSteps:
    """The application task's coroutine body: hands over a pending suspension, then relays to the app."""

    __slots__ = ("exchange", "primed")

    def __init__(self, exchange: _InlineExchange) -> None:
        self.exchange = exchange
        self.primed = False

    def __await__(self) -> _TaskSteps:
        return self

    def __iter__(self) -> _TaskSteps:
        return self

    def __next__(self) -> Any:
        return self.send(None)

    def send(self, value: Any) -> Any:
        if not self.primed:
            self.primed = True
            return _PRIMED
        exchange = self.exchange
        if not exchange.taken_over:
            exchange.taken_over = True
            if exchange.finished:
                raise StopIteration
            pending = exchange.pending
            if pending is not _NOTHING:
                exchange.pending = _NOTHING
                if not (isinstance(pending, asyncio.Future) and pending.done()):
                    return pending
                # Already resolved: resume the application now rather than after another loop turn.
                pending._asyncio_future_blocking = False
        return exchange.step(exchange.coro.send, value)

    def throw(self, exc: Any, value: Any = None, traceback: Any = None) -> Any:
        if value is not None:
            exc = value  # the (type, value, traceback) form
        elif isinstance(exc, type):
            exc = exc()
        exchange = self.exchange
        if not exchange.taken_over:
            exchange.taken_over = True
            pending, exchange.pending = exchange.pending, _NOTHING
            if exchange.finished:
                raise exc
            if isinstance(pending, asyncio.Future):
                pending.cancel()  # what cancelling a task does to the future it waits on
        return exchange.step(exchange.coro.throw, exc)

    def close(self) -> None:
        exchange = self.exchange
        if not exchange.finished:
            exchange.finished = True
            exchange.coro.close()


async def _run_steps(steps: _TaskSteps) -> None:
    await steps


class _InlineExchange:
    """Per-request plumbing of the asyncio fast path (see the comment above)."""

    __slots__ = (
        "app",
        "app_waiters",
        "client_receive",
        "client_send",
        "consumer_waiting",
        "consumer_wakeup",
        "context",
        "coro",
        "delivered",
        "error",
        "error_reraised",
        "finished",
        "loop",
        "messages",
        "pending",
        "queued",
        "receivers",
        "released",
        "scope",
        "taken",
        "taken_over",
        "task",
    )

    def __init__(
        self, app: ASGIApp, scope: Scope, client_receive: Receive, client_send: Send, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.app = app
        self.scope = scope
        self.client_receive = client_receive
        self.client_send = client_send
        self.loop = loop
        self.task: asyncio.Task[None] | None = None
        self.coro: Any = None
        self.context: contextvars.Context | None = None
        self.pending: Any = _NOTHING  # the application's suspension not yet handed to its task
        self.taken_over = False  # the task has stepped the application itself
        self.finished = False
        self.error: Exception | None = None
        self.error_reraised = False
        self.delivered = False  # the dispatch function's response has been sent
        self.messages: deque[Message] = deque()  # sent by the application, not yet taken
        self.queued = 0  # messages ever sent
        self.taken = 0  # messages ever taken by the dispatch side
        self.released = 0  # sends allowed to complete (taken, or handed to a waiting taker)
        self.consumer_waiting = False
        self.consumer_wakeup: asyncio.Future[None] | None = None
        self.app_waiters: list[asyncio.Future[None]] = []
        self.receivers: list[list[Any]] = []  # [task, interrupted] for each receive in progress

    # -- running the application ---------------------------------------------------------------------------

    def start(self) -> None:
        self.context = contextvars.copy_context()
        self.coro = self.app(self.scope, self.app_receive, self.app_send)
        body = _run_steps(_TaskSteps(self))
        body.send(None)  # primed: a cancellation before the task's first step still reaches the application
        loop = self.loop
        if loop.get_task_factory() is None:
            self.task = asyncio.Task(body, loop=loop, context=self.context)  # what create_task does then
        else:
            self.task = loop.create_task(body, context=self.context)

    def step(self, method: Callable[[Any], Any], argument: Any) -> Any:
        """Advance the application once; return what it suspended on. StopIteration once it has ended."""
        try:
            return method(argument)
        except StopIteration:
            self.end(None)
            raise
        except Exception as exc:
            self.end(exc)
            raise StopIteration from None
        except BaseException:
            self.end(None)
            raise

    def end(self, error: Exception | None) -> None:
        self.finished = True
        self.error = error
        self.wake_consumer()

    def can_step_here(self) -> bool:
        if self.taken_over or self.finished:
            return False
        pending = self.pending
        return pending is _NOTHING or (isinstance(pending, asyncio.Future) and pending.done())

    def step_here(self) -> None:
        """Advance the application in the caller's thread of control, as its own task, until it suspends."""
        pending = self.pending
        if pending is not _NOTHING:
            pending._asyncio_future_blocking = False
            self.pending = _NOTHING
        loop = self.loop
        task = self.task
        caller = asyncio.current_task(loop)
        assert task is not None and caller is not None  # __call__ checked that it runs in a task
        _leave_task(loop, caller)
        _enter_task(loop, task)
        try:
            assert self.context is not None
            self.pending = self.context.run(self.step, self.coro.send, None)
        except StopIteration:
            pass
        finally:
            _leave_task(loop, task)
            _enter_task(loop, caller)

    # -- the application's side of the channel ---------------------------------------------------------------

    async def app_send(self, message: Message) -> None:
        if self.delivered:
            await _next_turn()  # the replay is over: nobody listens (but let others run)
            return
        index = self.queued
        self.queued = index + 1
        self.messages.append(message)
        if self.consumer_waiting:
            self.consumer_waiting = False
            self.released = index + 1
            self.wake_consumer()
        kind = message["type"]
        if kind == _PATHSEND or (kind == _BODY and not message.get("more_body", False)):  # _is_final, inlined
            # Park the application until the client has everything, so its background work runs afterwards
            # (being taken is part of that: the response is sent after its last message was taken).
            while not self.delivered:
                await self.wait_as_app()
            return
        while self.released <= index and not self.delivered:
            await self.wait_as_app()

    async def wait_as_app(self) -> None:
        waiter = self.loop.create_future()
        self.app_waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self.app_waiters:
                self.app_waiters.remove(waiter)

    def wake_app(self) -> None:
        waiters = self.app_waiters
        if waiters:
            self.app_waiters = []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def app_receive(self) -> Message:
        if self.delivered:
            return _disconnect_message()
        task = asyncio.current_task()
        entry: list[Any] = [task, False]
        self.receivers.append(entry)
        try:
            received = await self.client_receive()
        except asyncio.CancelledError:
            if not entry[1]:
                raise
            # Interrupted because the response has been sent: from the application's view the client is gone.
            assert task is not None
            task.uncancel()
            return _disconnect_message()
        finally:
            self.receivers.remove(entry)
        if self.delivered:
            return _disconnect_message()
        return received

    # -- the dispatch side -------------------------------------------------------------------------------

    def wake_consumer(self) -> None:
        wakeup = self.consumer_wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    def take_ready(self) -> Message:
        """Take the oldest message waiting (there is one), releasing the send that is waiting on it."""
        taken = self.taken + 1
        self.taken = taken
        if self.released < taken:
            self.released = taken
            self.wake_app()
        return self.messages.popleft()

    async def take(self) -> Message | None:
        """The application's next message; None once it has ended without sending more."""
        while True:
            messages = self.messages
            if messages:
                return self.take_ready()
            if self.finished:
                return None
            self.consumer_waiting = True
            if self.can_step_here():
                self.step_here()
                continue
            wakeup = self.loop.create_future()
            self.consumer_wakeup = wakeup
            try:
                await wakeup
            finally:
                self.consumer_wakeup = None
                self.consumer_waiting = False

    async def call_next(self, request: Request) -> Response:
        if self.task is not None:
            raise RuntimeError("call_next() can be awaited only once per request.")
        self.start()
        # What take() would do first: wait for a message by stepping the application in place (nothing to
        # wait for yet). A plain endpoint has then sent its start message, taken without another coroutine.
        self.consumer_waiting = True
        self.step_here()
        debug_info: Any = None
        while True:
            first = self.take_ready() if self.messages else await self.take()
            if first is None:
                raise _failure(self)
            kind = first["type"]
            if kind == _DEBUG:
                debug_info = first["info"]
            elif kind == _EARLY_HINT:
                await self.client_send(first)  # hints go straight out; they do not start the response
            else:
                break
        assert kind == _START
        return _replay(first, self.replay_body(), debug_info)

    async def replay_body(self) -> BodyStreamGenerator:
        messages = self.messages
        while True:
            # A message already waiting is taken without a coroutine call (the common case: a whole body).
            message = self.take_ready() if messages else await self.take()
            if message is None:
                return
            if message["type"] == _PATHSEND:
                yield message
                return
            assert message["type"] == _BODY, f"Unexpected message: {message}"
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    def deliver(self) -> None:
        self.delivered = True
        self.messages.clear()
        self.wake_app()
        for entry in self.receivers:
            if not entry[1]:
                entry[1] = True
                entry[0].cancel()

    async def finish(self) -> None:
        """After the response went out: let the application finish (in its task, as it would have)."""
        self.deliver()
        task = self.task
        if task is None or task.done():
            return
        if self.finished and not self.taken_over:
            return  # it ended while stepped in place; its task's first step only notes that
        # One turn of the loop: the task's first step (scheduled when it was created, so ahead of us) takes
        # the application over and, for a plain endpoint, runs it to its end.
        try:
            await _next_turn()
            if not task.done():
                await task
        except BaseException:
            await self.abandon()  # cancelled while waiting: the application goes too
            raise

    async def abandon(self) -> None:
        """dispatch failed: cancel the application and wait for it to end."""
        self.deliver()
        task = self.task
        if task is None:
            return
        task.cancel()
        while not task.done():
            try:
                await asyncio.wait((task,))
            except asyncio.CancelledError:
                task.cancel()
        if not task.cancelled():
            task.exception()  # retrieved: it is reported through dispatch's own exception


class BaseHTTPMiddleware:
    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func = self.dispatch if dispatch is None else dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request = _CachedRequest(scope, receive, send)
        relay_receive = request.wrapped_receive
        loop = asyncio._get_running_loop()
        if loop is None or not _CAN_SWITCH_TASKS or asyncio.current_task(loop) is None:
            await self._call_with_task_group(request, scope, relay_receive, send)
            return

        exchange = _InlineExchange(self.app, scope, relay_receive, send, loop)
        try:
            response = await self.dispatch_func(request, exchange.call_next)
            await response(scope, relay_receive, send)
        except Exception as exc:
            await exchange.abandon()
            _raise_collapsed(exc)
        except BaseException:
            await exchange.abandon()
            raise
        await exchange.finish()
        # The application failed after its response had started: dispatch never saw it, so raise it now.
        if exchange.error is not None and not exchange.error_reraised:
            raise exchange.error

    async def _call_with_task_group(
        self, request: _CachedRequest, scope: Scope, relay_receive: Receive, send: Send
    ) -> None:
        exchange = _TaskGroupExchange(self.app, scope, relay_receive, send)
        with exchange.channel_out, exchange.channel_in:
            async with create_collapsing_task_group() as tasks:
                exchange.tasks = tasks
                response = await self.dispatch_func(request, exchange.call_next)
                await response(scope, relay_receive, send)
                exchange.delivered.set()
                exchange.channel_out.close()
        if exchange.error is not None and not exchange.error_reraised:
            raise exchange.error

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        raise NotImplementedError()  # pragma: no cover


class _StreamingResponse(Response):
    """Replays the wrapped application's response; items that are whole ASGI messages pass unchanged."""

    def __init__(
        self,
        content: AsyncContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.info = info
        self.body_iterator = content
        self.status_code = status_code
        self.media_type = media_type
        self.init_headers(headers)
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.info is not None:
            await send({"type": _DEBUG, "info": self.info})
        await send({"type": _START, "status": self.status_code, "headers": self.raw_headers})

        ended_by_message = False
        async for item in self.body_iterator:
            if isinstance(item, dict):
                # A complete message (pathsend) ends the response on its own.
                ended_by_message = True
                await send(item)
            else:
                await send({"type": _BODY, "body": item, "more_body": True})
        if not ended_by_message:
            await send({"type": _BODY, "body": b"", "more_body": False})

        if self.background:
            await self.background()
