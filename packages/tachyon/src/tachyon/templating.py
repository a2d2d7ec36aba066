"""Jinja2 templates rendered into HTML responses."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import TYPE_CHECKING, Any, overload

try:
    import jinja2
except ModuleNotFoundError as _import_error:  # pragma: no cover
    raise ImportError(
        "jinja2 must be installed to use Jinja2Templates (pip install 'tachyon[full]')"
    ) from _import_error

from tachyon_http.background import BackgroundTask
from tachyon_http.datastructures import URL
from tachyon_http.requests import Request
from tachyon_http.responses import HTMLResponse
from tachyon_http.types import Receive, Scope, Send

__all__ = ["Jinja2Templates"]

if TYPE_CHECKING:
    from jinja2 import pass_context
else:
    # jinja2 >= 3.0 spells it pass_context; 2.x called it contextfunction.
    pass_context = getattr(jinja2, "pass_context", None) or jinja2.contextfunction

_DEBUG_EXTENSION = "http.response.debug"


class _TemplateResponse(HTMLResponse):
    def __init__(
        self,
        template: Any,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.template = template
        self.context = context
        super().__init__(template.render(context), status_code, headers, media_type, background)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Test clients that advertise the debug extension get the template and context, for assertions.
        request = self.context.get("request", {})
        if _DEBUG_EXTENSION in request.get("extensions", {}):
            await send({"type": _DEBUG_EXTENSION, "info": {"template": self.template, "context": self.context}})
        await super().__call__(scope, receive, send)


class Jinja2Templates:
    """Render Jinja2 templates as responses.

    ``templates = Jinja2Templates(directory="templates")`` then, in an endpoint,
    ``return templates.TemplateResponse(request, "index.html", {"user": user})``.
    Templates get ``request`` and ``url_for`` in their context.
    """

    @overload
    def __init__(
        self,
        directory: str | PathLike[str] | Sequence[str | PathLike[str]],
        *,
        context_processors: list[Callable[[Request], dict[str, Any]]] | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        *,
        env: jinja2.Environment,
        context_processors: list[Callable[[Request], dict[str, Any]]] | None = None,
    ) -> None: ...

    def __init__(
        self,
        directory: str | PathLike[str] | Sequence[str | PathLike[str]] | None = None,
        *,
        context_processors: list[Callable[[Request], dict[str, Any]]] | None = None,
        env: jinja2.Environment | None = None,
    ) -> None:
        assert bool(directory) ^ bool(env), "either 'directory' or 'env' arguments must be passed"
        self.context_processors = context_processors or []
        if env is None:
            assert directory is not None  # guaranteed by the check above; narrows the type
            env = jinja2.Environment(loader=jinja2.FileSystemLoader(directory), autoescape=jinja2.select_autoescape())
        self.env = env
        self._setup_env_defaults(self.env)

    def _setup_env_defaults(self, env: jinja2.Environment) -> None:
        @pass_context
        def url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> URL:
            request: Request = context["request"]
            return request.url_for(name, **path_params)

        env.globals.setdefault("url_for", url_for)

    def get_template(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)

    def TemplateResponse(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> _TemplateResponse:
        """Render template ``name`` with ``context`` (plus ``request`` and the context processors' output)."""
        context = context or {}
        context.setdefault("request", request)
        for processor in self.context_processors:
            context.update(processor(request))
        return _TemplateResponse(
            self.get_template(name),
            context,
            status_code=status_code,
            headers=headers,
            media_type=media_type,
            background=background,
        )
