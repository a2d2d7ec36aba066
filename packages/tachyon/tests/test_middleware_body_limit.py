from __future__ import annotations

from collections.abc import AsyncGenerator

import anyio
import pytest
from tachyon.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY, RequestBodyLimitMiddleware
from tachyon_http.requests import Request
from tachyon_http.responses import PlainTextResponse
from tachyon_http.types import Message, Receive, Scope, Send
from tachyon_testclient.testclient import TestClient


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    body = await Request(scope, receive).body()
    await PlainTextResponse(f"{len(body)}:{scope[MAX_BODY_SIZE_SCOPE_KEY]}")(scope, receive, send)


def test_body_within_limit_is_accepted() -> None:
    response = TestClient(RequestBodyLimitMiddleware(echo, max_body_size=10)).post("/", content=b"x" * 10)
    assert response.text == "10:10"


def test_declared_length_over_limit_is_413() -> None:
    response = TestClient(RequestBodyLimitMiddleware(echo, max_body_size=10)).post("/", content=b"x" * 11)
    assert response.status_code == 413
    assert response.text == "Content Too Large"


def test_streamed_body_over_limit_is_413_even_without_length() -> None:
    def chunks() -> object:
        yield b"x" * 6
        yield b"x" * 6

    response = TestClient(RequestBodyLimitMiddleware(echo, max_body_size=10)).post("/", content=chunks())  # type: ignore[arg-type]
    assert response.status_code == 413


@pytest.mark.anyio
async def test_lying_content_length_does_not_bypass_the_limit() -> None:
    scope: Scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", b"1")]}
    sent: list[Message] = []

    async def messages() -> AsyncGenerator[Message, None]:
        yield {"type": "http.request", "body": b"x" * 50, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    gen = messages()
    await RequestBodyLimitMiddleware(echo, max_body_size=10)(scope, gen.__anext__, send)
    await gen.aclose()
    assert sent[0]["status"] == 413


def test_app_that_ignores_the_body_still_gets_413_for_declared_oversize() -> None:
    async def ignore(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("ignored")(scope, receive, send)

    response = TestClient(RequestBodyLimitMiddleware(ignore, max_body_size=3)).post("/", content=b"abcd")
    assert response.status_code == 413


def test_inner_limit_overrides_outer_limit() -> None:
    app = RequestBodyLimitMiddleware(RequestBodyLimitMiddleware(echo, max_body_size=100), max_body_size=10)
    response = TestClient(app).post("/", content=b"x" * 50)
    assert response.text == "50:100"


def test_previous_scope_limit_is_restored() -> None:
    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": [], MAX_BODY_SIZE_SCOPE_KEY: 7}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope[MAX_BODY_SIZE_SCOPE_KEY] == 3

    anyio.run(RequestBodyLimitMiddleware(app, max_body_size=3), scope, None, None)  # type: ignore[arg-type]
    assert scope[MAX_BODY_SIZE_SCOPE_KEY] == 7


def test_internal_signals_keep_starlettes_names() -> None:
    # FastAPI 0.165 looks both up by these names to turn a limit hit inside a task group back into a 413.
    from tachyon.middleware import body_limit
    from tachyon_http.exceptions import HTTPException

    too_large = body_limit._RequestBodyTooLarge()
    assert isinstance(too_large, HTTPException)
    assert (too_large.status_code, too_large.detail) == (413, "Content Too Large")
    assert issubclass(body_limit._RequestBodyLimitResponseSent, Exception)
