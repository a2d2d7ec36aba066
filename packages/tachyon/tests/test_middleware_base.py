from __future__ import annotations

import contextvars
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path

import anyio
import pytest
from tachyon.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from tachyon_http.background import BackgroundTask
from tachyon_http.requests import ClientDisconnect, Request
from tachyon_http.responses import PlainTextResponse, Response, StreamingResponse
from tachyon_http.types import ASGIApp, Message, Receive, Scope, Send
from tachyon_testclient.testclient import TestClient


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("hello")(scope, receive, send)


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse(await Request(scope, receive).body())(scope, receive, send)


class AddHeader(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["X-Added"] = "yes"
        return response


def http_scope() -> Scope:
    return {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}


def test_dispatch_can_modify_the_response() -> None:
    response = TestClient(AddHeader(hello)).get("/")
    assert response.text == "hello"
    assert response.headers["x-added"] == "yes"


def test_dispatch_function_argument() -> None:
    async def short_circuit(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return PlainTextResponse("blocked", status_code=403)

    response = TestClient(BaseHTTPMiddleware(hello, dispatch=short_circuit)).get("/")
    assert (response.status_code, response.text) == (403, "blocked")


def test_streaming_bodies_are_relayed_in_order() -> None:
    async def stream_app(scope: Scope, receive: Receive, send: Send) -> None:
        async def chunks() -> AsyncGenerator[bytes, None]:
            for part in (b"a", b"b", b"c"):
                yield part

        await StreamingResponse(chunks())(scope, receive, send)

    assert TestClient(AddHeader(stream_app)).get("/").content == b"abc"


def test_app_exception_propagates_and_can_be_caught() -> None:
    async def boom(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        TestClient(AddHeader(boom)).get("/")

    async def catch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        try:
            return await call_next(request)
        except ValueError as exc:
            return PlainTextResponse(str(exc), status_code=500)

    response = TestClient(BaseHTTPMiddleware(boom, dispatch=catch)).get("/")
    assert (response.status_code, response.text) == (500, "boom")


def test_app_exception_context_is_not_polluted() -> None:
    async def boom(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("bare")

    with pytest.raises(ValueError) as info:
        TestClient(AddHeader(boom)).get("/")
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ is True


def test_app_without_response_is_a_runtime_error() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with pytest.raises(RuntimeError, match="No response returned."):
        TestClient(AddHeader(silent)).get("/")


def test_body_read_in_dispatch_is_replayed_to_the_app() -> None:
    async def read_first(request: Request, call_next: RequestResponseEndpoint) -> Response:
        assert await request.body() == b"payload"
        return await call_next(request)

    response = TestClient(BaseHTTPMiddleware(echo, dispatch=read_first)).post("/", content=b"payload")
    assert response.text == "payload"


def test_body_not_read_in_dispatch_reaches_the_app() -> None:
    response = TestClient(AddHeader(echo)).post("/", content=b"payload")
    assert response.text == "payload"


def test_stream_consumed_in_dispatch_gives_the_app_an_empty_body() -> None:
    async def consume(request: Request, call_next: RequestResponseEndpoint) -> Response:
        async for _ in request.stream():
            pass
        return await call_next(request)

    response = TestClient(BaseHTTPMiddleware(echo, dispatch=consume)).post("/", content=b"payload")
    assert response.text == ""


@pytest.mark.anyio
async def test_background_task_runs_after_the_response_is_sent() -> None:
    events: list[str] = []

    async def task() -> None:
        events.append("background")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("hi", background=BackgroundTask(task))(scope, receive, send)

    async def receive() -> Message:  # pragma: no cover
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        events.append(message["type"])

    await AddHeader(app)(http_scope(), receive, send)
    assert events == ["http.response.start", "http.response.body", "http.response.body", "background"]


@pytest.mark.anyio
async def test_app_sees_disconnect_once_response_is_sent() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("x")(scope, receive, send)
        seen.append((await receive())["type"])

    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError  # pragma: no cover

    async def send(message: Message) -> None:
        pass

    await AddHeader(app)(http_scope(), receive, send)
    assert seen == ["http.disconnect"]


@pytest.mark.anyio
async def test_client_disconnect_reaches_both_dispatch_and_app() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        with pytest.raises(ClientDisconnect):
            await Request(scope, receive).body()
        await Response(b"")(scope, receive, send)

    async def check(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        assert await request.is_disconnected()
        return response

    async def messages() -> AsyncGenerator[Message, None]:
        yield {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async with aclosing(messages()) as rcv:
        await BaseHTTPMiddleware(app, dispatch=check)(http_scope(), rcv.__anext__, send)
    assert sent[0]["status"] == 200


def test_non_http_scopes_bypass_dispatch() -> None:
    called: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope["type"])

    anyio.run(AddHeader(app), {"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert called == ["lifespan"]


ctxvar: contextvars.ContextVar[str] = contextvars.ContextVar("ctxvar", default="unset")


def test_context_set_in_dispatch_is_visible_to_the_app() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(ctxvar.get())(scope, receive, send)

    async def setter(request: Request, call_next: RequestResponseEndpoint) -> Response:
        ctxvar.set("from dispatch")
        return await call_next(request)

    assert TestClient(BaseHTTPMiddleware(app, dispatch=setter)).get("/").text == "from dispatch"


def test_stacked_middlewares_run_in_order() -> None:
    order: list[str] = []

    def tagging(tag: str, app: ASGIApp) -> BaseHTTPMiddleware:
        async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
            order.append(f"{tag}:in")
            response = await call_next(request)
            order.append(f"{tag}:out")
            return response

        return BaseHTTPMiddleware(app, dispatch=dispatch)

    TestClient(tagging("outer", tagging("inner", echo))).post("/", content=b"x")
    assert order == ["outer:in", "inner:in", "inner:out", "outer:out"]


@pytest.mark.anyio
async def test_early_hints_and_pathsend_are_relayed(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("content")
    events: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.early_hint", "links": [b"</a.css>; rel=preload"]})
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": str(target)})

    async def receive() -> Message:  # pragma: no cover
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        events.append(message)

    await AddHeader(app)(http_scope(), receive, send)
    assert [event["type"] for event in events] == [
        "http.response.early_hint",
        "http.response.start",
        "http.response.pathsend",
    ]
    assert (b"x-added", b"yes") in events[1]["headers"]


@pytest.mark.anyio
async def test_debug_info_reaches_the_outer_send() -> None:
    events: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.debug", "info": {"template": "t"}})
        await PlainTextResponse("x")(scope, receive, send)

    async def receive() -> Message:  # pragma: no cover
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        events.append(message)

    await AddHeader(app)(http_scope(), receive, send)
    assert events[0] == {"type": "http.response.debug", "info": {"template": "t"}}
    assert events[1]["type"] == "http.response.start"


def test_error_after_response_start_is_raised_after_sending() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        async def chunks() -> AsyncGenerator[bytes, None]:
            yield b"partial"
            raise RuntimeError("mid-stream")

        await StreamingResponse(chunks())(scope, receive, send)

    with pytest.raises(RuntimeError, match="mid-stream"):
        TestClient(AddHeader(app)).get("/")


# -- call_next without a task group: the semantics it has to keep -----------------------------------------------

WAIT = 10  # seconds: an upper bound on waits that end on an event, so that a regression fails rather than hangs


def passthrough_middleware(app: ASGIApp) -> BaseHTTPMiddleware:
    async def passthrough(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)

    return BaseHTTPMiddleware(app, dispatch=passthrough)


def recorder() -> tuple[list[Message], Send]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    return sent, send


async def no_receive() -> Message:  # pragma: no cover - the apps below never read the request
    raise AssertionError("receive() should not be called")


@pytest.mark.anyio
async def test_call_next_returns_while_the_app_is_still_streaming() -> None:
    # The app produces its body only after dispatch has got the response: call_next must not wait for the body.
    go = anyio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await go.wait()
        await send({"type": "http.response.body", "body": b"late", "more_body": False})

    async def release_after_call_next(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        go.set()
        return response

    sent, send = recorder()
    with anyio.fail_after(WAIT):
        await BaseHTTPMiddleware(app, dispatch=release_after_call_next)(http_scope(), no_receive, send)
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"late"


@pytest.mark.anyio
async def test_response_of_several_chunks_is_replayed_whole_and_in_order() -> None:
    chunks = [bytes([65 + i]) * 65536 for i in range(3)]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"1")]})
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    sent, send = recorder()
    await passthrough_middleware(app)(http_scope(), no_receive, send)
    assert sent[0] == {"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"1")]}
    assert [m["body"] for m in sent[1:]] == [*chunks, b""]
    assert [m["more_body"] for m in sent[1:]] == [True, True, True, False]


@pytest.mark.anyio
async def test_client_disconnect_reaches_a_streaming_app() -> None:
    # An endless stream (ASGI < 2.4: StreamingResponse watches receive() in a task group of its own) stops when
    # the client goes away after two chunks.
    client_gone = anyio.Event()
    app_returned = anyio.Event()

    async def endless() -> AsyncGenerator[bytes, None]:
        while True:
            yield b"tick"
            await anyio.lowlevel.checkpoint()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await StreamingResponse(endless())(scope, receive, send)
        app_returned.set()

    async def messages() -> AsyncGenerator[Message, None]:
        yield {"type": "http.request", "body": b"", "more_body": False}
        await client_gone.wait()
        yield {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if sum(1 for m in sent if m.get("body")) == 2:
            client_gone.set()

    with anyio.fail_after(WAIT):
        async with aclosing(messages()) as rcv:
            await passthrough_middleware(app)(http_scope(), rcv.__anext__, send)
    assert app_returned.is_set()
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


# asyncio only: its scheduler runs ready tasks in order, so the order below is what Starlette gives there (trio
# shuffles ready tasks on purpose, and the order is not a guarantee).
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_background_tasks_of_concurrent_requests_wait_for_both_responses() -> None:
    events: list[str] = []

    async def task(name: str) -> None:
        events.append(f"background {name}")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path"]
        await PlainTextResponse(name, background=BackgroundTask(task, name))(scope, receive, send)

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            events.append("response sent")

    middleware = passthrough_middleware(app)
    async with anyio.create_task_group() as tasks:
        for name in ("a", "b"):
            tasks.start_soon(middleware, dict(http_scope(), path=name), no_receive, send)
    assert events == ["response sent", "response sent", "background a", "background b"]


@pytest.mark.anyio
async def test_app_exception_group_reaches_dispatch_unchanged() -> None:
    group = ExceptionGroup("from the app", [ValueError("inner")])
    caught: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise group

    async def catch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        try:
            return await call_next(request)
        except ExceptionGroup as exc:
            caught.append(exc)
            return PlainTextResponse("caught", status_code=500)

    sent, send = recorder()
    await BaseHTTPMiddleware(app, dispatch=catch)(http_scope(), no_receive, send)
    assert caught == [group]
    assert sent[0]["status"] == 500


@pytest.mark.anyio
async def test_dispatch_error_is_raised_and_the_app_is_cancelled() -> None:
    app_cancelled = anyio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            await anyio.sleep_forever()
        finally:
            app_cancelled.set()

    async def fail(request: Request, call_next: RequestResponseEndpoint) -> Response:
        await call_next(request)
        raise KeyError("dispatch")

    with anyio.fail_after(WAIT), pytest.raises(KeyError, match="dispatch"):
        await BaseHTTPMiddleware(app, dispatch=fail)(http_scope(), no_receive, recorder()[1])
    assert app_cancelled.is_set()


@pytest.mark.anyio
async def test_cancelling_the_caller_cancels_the_app() -> None:
    app_cancelled = anyio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            await anyio.sleep_forever()
        finally:
            app_cancelled.set()

    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tasks:

            async def send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    tasks.cancel_scope.cancel()

            tasks.start_soon(passthrough_middleware(app), http_scope(), no_receive, send)
    assert app_cancelled.is_set()


@pytest.mark.anyio
async def test_app_cancel_scopes_do_not_interfere_with_dispatch_scopes() -> None:
    # Dispatch opens a scope around call_next and closes it while the app is still inside scopes of its own
    # (a StreamingResponse below ASGI 2.4 streams inside a task group; a sync endpoint runs in a thread).
    async def chunks() -> AsyncGenerator[bytes, None]:
        for part in (b"a", b"b", b"c"):
            await anyio.lowlevel.checkpoint()
            yield part

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await StreamingResponse(chunks())(scope, receive, send)

    async def guarded(request: Request, call_next: RequestResponseEndpoint) -> Response:
        with anyio.fail_after(WAIT):
            response = await call_next(request)
        return response

    async def messages() -> AsyncGenerator[Message, None]:
        yield {"type": "http.request", "body": b"", "more_body": False}
        await anyio.sleep_forever()
        yield {"type": "http.disconnect"}  # pragma: no cover

    sent, send = recorder()
    with anyio.fail_after(WAIT):
        async with aclosing(messages()) as rcv:
            await BaseHTTPMiddleware(app, dispatch=guarded)(http_scope(), rcv.__anext__, send)
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"abc"


def test_sync_endpoint_behind_a_timeout_in_dispatch() -> None:
    from tachyon.applications import Tachyon
    from tachyon.middleware import Middleware
    from tachyon.routing import Route

    def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse("from a thread")

    async def guarded(request: Request, call_next: RequestResponseEndpoint) -> Response:
        with anyio.fail_after(WAIT):
            response = await call_next(request)
        response.headers["x-guarded"] = "1"
        return response

    app = Tachyon(routes=[Route("/", endpoint)], middleware=[Middleware(BaseHTTPMiddleware, dispatch=guarded)])
    response = TestClient(app).get("/")
    assert (response.text, response.headers["x-guarded"]) == ("from a thread", "1")


@pytest.mark.anyio
async def test_multi_chunk_body_read_in_dispatch_reaches_the_app_and_unread_body_streams() -> None:
    seen: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        seen.extend([chunk async for chunk in request.stream()])
        await Response(b"")(scope, receive, send)

    async def read_first(request: Request, call_next: RequestResponseEndpoint) -> Response:
        assert await request.body() == b"onetwothree"
        return await call_next(request)

    def body_messages() -> Receive:
        parts = iter([b"one", b"two", b"three"])

        async def receive() -> Message:
            part = next(parts)
            return {"type": "http.request", "body": part, "more_body": part != b"three"}

        return receive

    await BaseHTTPMiddleware(app, dispatch=read_first)(http_scope(), body_messages(), recorder()[1])
    assert b"".join(seen) == b"onetwothree"

    seen.clear()
    await passthrough_middleware(app)(http_scope(), body_messages(), recorder()[1])
    assert seen == [b"one", b"two", b"three", b""]


@pytest.mark.anyio
async def test_context_changes_made_by_the_app_stay_in_the_app() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(var.get())
        var.set("app")
        await Response(b"")(scope, receive, send)

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        var.set("dispatch")
        response = await call_next(request)
        seen.append(var.get())
        return response

    await BaseHTTPMiddleware(app, dispatch=dispatch)(http_scope(), no_receive, recorder()[1])
    assert seen == ["dispatch", "dispatch"]


@pytest.mark.anyio
async def test_cancelling_the_caller_during_background_work_cancels_it() -> None:
    background_started = anyio.Event()
    background_cancelled = anyio.Event()

    async def slow() -> None:
        background_started.set()
        try:
            await anyio.sleep_forever()
        finally:
            background_cancelled.set()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("x", background=BackgroundTask(slow))(scope, receive, send)

    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(passthrough_middleware(app), http_scope(), no_receive, recorder()[1])
            await background_started.wait()
            tasks.cancel_scope.cancel()
    assert background_cancelled.is_set()
