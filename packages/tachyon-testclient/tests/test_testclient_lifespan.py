from __future__ import annotations

from typing import Any

import pytest
from tachyon_http.types import Message, Receive, Scope, Send


def lifespan_app(startup: list[Message] | None = None, shutdown: list[Message] | None = None, **kwargs: Any) -> Any:
    """A raw lifespan app that answers each phase with the given messages (then may raise)."""
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": str(scope["state"]).encode()})
            return
        assert (await receive())["type"] == "lifespan.startup"
        events.append("startup")
        scope["state"]["db"] = "connected"
        for message in startup if startup is not None else [{"type": "lifespan.startup.complete"}]:
            await send(message)
        if "startup_error" in kwargs:
            raise kwargs["startup_error"]
        if startup and startup[-1]["type"] == "lifespan.startup.failed":
            return
        assert (await receive())["type"] == "lifespan.shutdown"
        events.append("shutdown")
        for message in shutdown if shutdown is not None else [{"type": "lifespan.shutdown.complete"}]:
            await send(message)
        if "shutdown_error" in kwargs:
            raise kwargs["shutdown_error"]

    app.events = events  # type: ignore[attr-defined]
    return app


def test_with_block_runs_startup_and_shutdown_and_shares_state(client_factory: Any) -> None:
    app = lifespan_app()
    client = client_factory(app)
    with client:
        assert app.events == ["startup"]
        assert client.get("/").text == "{'db': 'connected'}"
    assert app.events == ["startup", "shutdown"]
    # Requests get a shallow copy of the lifespan state: their changes do not leak back.
    assert client.app_state == {"db": "connected"}


def test_client_can_be_entered_again(client_factory: Any) -> None:
    app = lifespan_app()
    client = client_factory(app)
    with client:
        pass
    with client:
        pass
    assert app.events == ["startup", "shutdown", "startup", "shutdown"]


def test_startup_failure_raises_the_application_error(client_factory: Any) -> None:
    app = lifespan_app(
        startup=[{"type": "lifespan.startup.failed", "message": "no db"}], startup_error=RuntimeError("no db")
    )
    with pytest.raises(RuntimeError, match="no db"):
        with client_factory(app):
            pass  # pragma: no cover


def test_startup_failure_reported_without_an_exception_is_still_an_error(client_factory: Any) -> None:
    app = lifespan_app(startup=[{"type": "lifespan.startup.failed", "message": "bad config"}])
    with pytest.raises(RuntimeError, match="Lifespan startup failed: bad config"):
        with client_factory(app):
            pass  # pragma: no cover


def test_exception_during_startup_is_raised(client_factory: Any) -> None:
    app = lifespan_app(startup=[], startup_error=KeyError("missing setting"))
    with pytest.raises(KeyError, match="missing setting"):
        with client_factory(app):
            pass  # pragma: no cover


def test_shutdown_failure_raises_when_leaving(client_factory: Any) -> None:
    app = lifespan_app(
        shutdown=[{"type": "lifespan.shutdown.failed", "message": "x"}], shutdown_error=RuntimeError("flush failed")
    )
    with pytest.raises(RuntimeError, match="flush failed"):
        with client_factory(app):
            pass


def test_unexpected_lifespan_message_is_reported(client_factory: Any) -> None:
    app = lifespan_app(startup=[{"type": "lifespan.shutdown.complete"}])
    with pytest.raises(RuntimeError, match="but got 'lifespan.shutdown.complete'"):
        with client_factory(app):
            pass  # pragma: no cover


def test_app_without_lifespan_support_is_still_usable(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with client_factory(app) as client:
        assert client.get("/").status_code == 204


def test_app_rejecting_lifespan_by_raising_fails_the_with_block(client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"

    with pytest.raises(AssertionError):
        with client_factory(app):
            pass  # pragma: no cover
