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
