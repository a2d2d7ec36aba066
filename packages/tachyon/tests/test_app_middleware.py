from __future__ import annotations

from typing import Any

import anyio
import pytest
from tachyon.exceptions import HTTPException, WebSocketException
from tachyon.middleware import Middleware
from tachyon.middleware.errors import ServerErrorMiddleware
from tachyon.middleware.exceptions import ExceptionMiddleware
from tachyon.requests import Request
from tachyon.responses import PlainTextResponse, Response
from tachyon.routing import Route, Router
from tachyon.types import Message, Receive, Scope, Send

pytestmark = pytest.mark.anyio


class Sample:
    def __init__(self, app: Any, foo: str, *, bar: int) -> None:  # pragma: no cover - only declared
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
        await self.app(scope, receive, send)


def test_middleware_declaration_repr_and_unpacking() -> None:
    declared = Middleware(Sample, "foo", bar=123)
    assert repr(declared) == "Middleware(Sample, 'foo', bar=123)"
    cls, args, kwargs = declared
    assert (cls, args, kwargs) == (Sample, ("foo",), {"bar": 123})


async def collect(app: Any, scope: Scope) -> tuple[list[Message], BaseException | None]:
    sent: list[Message] = []
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if requested:
            await anyio.sleep_forever()  # the client stays connected
        requested = True
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
    except Exception as exc:
        return sent, exc
    return sent, None


async def test_server_error_plain_500(asgi: Any) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("bad")

    sent, exc = await collect(ServerErrorMiddleware(broken), asgi.http_scope("/"))
    assert isinstance(exc, RuntimeError)
    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b"Internal Server Error"


@pytest.mark.parametrize(
    ("accept", "content_type", "marker"),
    [
        (b"text/html,*/*", "text/html", b"<h2>RuntimeError: bad &lt;input&gt;</h2>"),
        (b"*/*", "text/plain", b"Traceback"),
    ],
)
async def test_server_error_debug_pages(asgi: Any, accept: bytes, content_type: str, marker: bytes) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("bad <input>")

    scope = asgi.http_scope("/", headers=[(b"accept", accept)])
    sent, _ = await collect(ServerErrorMiddleware(broken, debug=True), scope)
    headers = dict(sent[0]["headers"])
    assert headers[b"content-type"].decode().startswith(content_type)
    assert marker in sent[1]["body"]
    if content_type == "text/html":
        assert b"broken" in sent[1]["body"]  # the frame's function name


async def test_server_error_after_response_started_sends_nothing_more(asgi: Any) -> None:
    async def late(scope: Scope, receive: Receive, send: Send) -> None:
        await Response(b"", status_code=204)(scope, receive, send)
        raise RuntimeError("late")

    sent, exc = await collect(ServerErrorMiddleware(late, debug=True), asgi.http_scope("/"))
    assert isinstance(exc, RuntimeError)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]


async def test_server_error_passes_websockets_through() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("ws")

    with pytest.raises(RuntimeError):
        await ServerErrorMiddleware(broken)({"type": "websocket"}, None, None)  # type: ignore[arg-type]


def raise_status(code: int, **kwargs: Any) -> Any:
    def endpoint(request: Request) -> Response:
        raise HTTPException(status_code=code, **kwargs)

    return endpoint


@pytest.mark.parametrize(
    ("code", "body"),
    [(406, b"Not Acceptable"), (204, b""), (304, b""), (499, b"")],
)
async def test_http_exceptions_become_responses(asgi: Any, code: int, body: bytes) -> None:
    app = ExceptionMiddleware(Router([Route("/", raise_status(code))]))
    result = await asgi.request(app, "/")
    assert (result.status, result.body) == (code, body)
    if code in (204, 304):
        assert "content-length" not in result.headers


async def test_http_exception_headers_are_kept(asgi: Any) -> None:
    app = ExceptionMiddleware(Router([Route("/", raise_status(401, headers={"www-authenticate": "Basic"}))]))
    result = await asgi.request(app, "/")
    assert result.headers["www-authenticate"] == "Basic"


async def test_handler_lookup_follows_the_mro_and_status_first(asgi: Any) -> None:
    class Base(Exception):
        pass

    class Child(Base):
        pass

    def raise_child(request: Request) -> Response:
        raise Child()

    app = ExceptionMiddleware(
        Router([Route("/child", raise_child), Route("/teapot", raise_status(418))]),
        handlers={
            Base: lambda request, exc: PlainTextResponse(f"base handled {type(exc).__name__}", status_code=400),
            418: lambda request, exc: PlainTextResponse("status handler", status_code=418),
        },
    )
    assert (await asgi.request(app, "/child")).text == "base handled Child"
    assert (await asgi.request(app, "/teapot")).text == "status handler"


async def test_handled_exception_after_response_started_is_a_runtime_error(asgi: Any) -> None:
    class SendsThenRaises:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await PlainTextResponse("OK")(scope, receive, send)
            raise HTTPException(status_code=406)

    app = ExceptionMiddleware(Router([Route("/", SendsThenRaises())]))
    sent, exc = await collect(app, asgi.http_scope("/"))
    assert isinstance(exc, RuntimeError)
    assert str(exc) == "Caught handled exception, but response already started."
    assert sent[0]["status"] == 200


async def test_streaming_failure_inside_a_route_is_not_answered_twice(asgi: Any) -> None:
    class Boom(Exception):
        pass

    async def chunks() -> Any:
        yield b"a"
        raise Boom()

    async def endpoint(request: Request) -> Response:
        from tachyon.responses import StreamingResponse

        return StreamingResponse(chunks())

    app = ExceptionMiddleware(
        Router([Route("/", endpoint)]),
        handlers={Boom: lambda request, exc: PlainTextResponse("handled", status_code=500)},
    )
    sent, exc = await collect(app, asgi.http_scope("/"))
    assert isinstance(exc, RuntimeError)
    assert sent[0]["status"] == 200


async def test_reused_exception_instance_does_not_keep_tracebacks(asgi: Any) -> None:
    shared = HTTPException(status_code=401)

    async def endpoint(request: Request) -> Response:
        raise shared

    app = ExceptionMiddleware(Router([Route("/", endpoint)]))
    assert (await asgi.request(app, "/")).status == 401
    assert shared.__traceback__ is None


async def test_websocket_exception_closes_the_socket() -> None:
    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        raise WebSocketException(code=1008, reason="policy")

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    app = ExceptionMiddleware(endpoint)
    await app({"type": "websocket", "path": "/", "headers": []}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "policy"}]
