from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from tachyon.templating import Jinja2Templates
from tachyon_http.requests import Request
from tachyon_http.types import Receive, Scope, Send
from tachyon_testclient.testclient import TestClient


def template_dir(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<p>{{ name }} {{ extra }} {{ request.url.path }}</p>")
    return tmp_path


def test_template_response_renders_with_request_and_processors(tmp_path: Path) -> None:
    templates = Jinja2Templates(directory=template_dir(tmp_path), context_processors=[lambda r: {"extra": "X"}])

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = templates.TemplateResponse(request, "index.html", {"name": "<b>"}, status_code=201)
        await response(scope, receive, send)

    response = TestClient(app).get("/page")
    assert response.status_code == 201
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<p>&lt;b&gt; X /page</p>"  # autoescaped HTML
    assert response.template.name == "index.html"  # type: ignore[attr-defined]
    assert response.context["name"] == "<b>"  # type: ignore[attr-defined]


def test_custom_environment_gets_url_for(tmp_path: Path) -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"t.html": "x"}))
    templates = Jinja2Templates(env=env)
    assert templates.env is env
    assert "url_for" in env.globals
    assert templates.get_template("t.html").render() == "x"


def test_directory_and_env_are_mutually_exclusive(tmp_path: Path) -> None:
    with pytest.raises(AssertionError):
        Jinja2Templates(directory=tmp_path, env=jinja2.Environment())  # type: ignore[call-overload]
    with pytest.raises(AssertionError):
        Jinja2Templates()  # type: ignore[call-overload]


def test_url_for_in_templates_uses_the_application_routes(tmp_path: Path) -> None:
    from tachyon.applications import Tachyon
    from tachyon.routing import Route

    (tmp_path / "link.html").write_text("{{ url_for('user', id=7) }}")
    templates = Jinja2Templates(directory=tmp_path)

    def page(request: Request) -> object:
        return templates.TemplateResponse(request, "link.html")

    def user(request: Request) -> None: ...  # pragma: no cover

    app = Tachyon(routes=[Route("/", page), Route("/users/{id:int}", user, name="user")])
    assert TestClient(app).get("/").text == "http://testserver/users/7"


def test_template_context_request_is_not_overridden(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("{{ request }}")
    templates = Jinja2Templates(directory=tmp_path)
    request = Request({"type": "http", "headers": [], "extensions": {}})
    response = templates.TemplateResponse(request, "t.html", {"request": "explicit"})
    assert response.body == b"explicit"
