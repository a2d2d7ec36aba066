"""OpenAPI schema generation from route docstrings (YAML after a ``---`` line)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from tachyon_http.requests import Request
from tachyon_http.responses import Response

from tachyon.routing import BaseRoute, Host, Mount, Route

try:
    import yaml
except ModuleNotFoundError:  # pragma: no cover
    # Only rendering and docstring parsing need it; they say so with a clear assertion.
    yaml = None  # type: ignore[assignment]

__all__ = ["BaseSchemaGenerator", "EndpointInfo", "OpenAPIResponse", "SchemaGenerator"]

# "{id:int}" is documented as "{id}": OpenAPI path templates have no convertors.
_CONVERTOR_SUFFIX = re.compile(r":\w+}")
_OPENAPI_VERSION = re.compile(r"^(\d+)\.(\d+)")
# The QUERY method first appears in OpenAPI 3.2.
_QUERY_SINCE = (3, 2)
_ENDPOINT_METHODS = ("get", "post", "put", "patch", "delete", "options", "query")


class OpenAPIResponse(Response):
    media_type = "application/vnd.oai.openapi"

    def render(self, content: Any) -> bytes:
        assert yaml is not None, "`pyyaml` must be installed to use OpenAPIResponse."
        assert isinstance(content, dict), "The schema passed to OpenAPIResponse should be a dictionary."
        text: str = yaml.dump(content, default_flow_style=False)
        return text.encode("utf-8")


class EndpointInfo(NamedTuple):
    path: str
    http_method: str
    func: Callable[..., Any]


class BaseSchemaGenerator:
    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        raise NotImplementedError()  # pragma: no cover

    def get_endpoints(self, routes: list[BaseRoute]) -> list[EndpointInfo]:
        """List (path, lower-case method, function) for every documented endpoint, Mounts and Hosts included."""
        found: list[EndpointInfo] = []
        for route in routes:
            if isinstance(route, Mount | Host):
                prefix = self._remove_converter(route.path) if isinstance(route, Mount) else ""
                found.extend(
                    EndpointInfo(prefix + child.path, child.http_method, child.func)
                    for child in self.get_endpoints(route.routes or [])
                )
            elif not isinstance(route, Route) or not route.include_in_schema:
                continue
            elif inspect.isfunction(route.endpoint) or inspect.ismethod(route.endpoint):
                path = self._remove_converter(route.path)
                # HEAD is implied by GET and not documented separately.
                found.extend(
                    EndpointInfo(path, method.lower(), route.endpoint)
                    for method in route.methods or ["GET"]
                    if method != "HEAD"
                )
            else:
                # A class endpoint: one entry per handler method it defines.
                path = self._remove_converter(route.path)
                found.extend(
                    EndpointInfo(path, method, getattr(route.endpoint, method))
                    for method in _ENDPOINT_METHODS
                    if hasattr(route.endpoint, method)
                )
        return found

    def _remove_converter(self, path: str) -> str:
        """``/users/{id:int}`` becomes ``/users/{id}``."""
        return _CONVERTOR_SUFFIX.sub("}", path)

    def parse_docstring(self, func_or_method: Callable[..., Any]) -> dict[str, Any]:
        """The YAML mapping after the last ``---`` of the docstring, or {} when there is none."""
        docstring = func_or_method.__doc__
        if not docstring:
            return {}
        assert yaml is not None, "`pyyaml` must be installed to use parse_docstring."
        parsed = yaml.safe_load(docstring.split("---")[-1])
        # Plain prose parses as a YAML string: not a schema.
        return parsed if isinstance(parsed, dict) else {}

    def OpenAPIResponse(self, request: Request) -> Response:
        return OpenAPIResponse(self.get_schema(routes=request.app.routes))


class SchemaGenerator(BaseSchemaGenerator):
    def __init__(self, base_schema: dict[str, Any]) -> None:
        self.base_schema = base_schema

    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        schema = dict(self.base_schema)
        paths = schema.setdefault("paths", {})
        version = _OPENAPI_VERSION.match(str(schema.get("openapi", "")))
        supports_query = version is not None and (int(version[1]), int(version[2])) >= _QUERY_SINCE

        for endpoint in self.get_endpoints(routes):
            if endpoint.http_method == "query" and not supports_query:
                continue
            parsed = self.parse_docstring(endpoint.func)
            if parsed:
                paths.setdefault(endpoint.path, {})[endpoint.http_method] = parsed
        return schema
