from __future__ import annotations

from typing import Any

import yaml
from tachyon.routing import Host, Mount, Route, Router
from tachyon.schemas import OpenAPIResponse, SchemaGenerator
from tachyon_http.requests import Request


def list_users(request: Request) -> None:
    """
    Lists users.
    ---
    responses:
      200:
        description: A list of users.
    """


def get_user(request: Request) -> None:
    """
    responses:
      200:
        description: One user.
    """


def undocumented(request: Request) -> None:
    """Plain prose, not YAML mapping."""


class Items:
    def get(self, request: Request) -> None:
        """
        responses:
          200:
            description: Items.
        """

    def query(self, request: Request) -> None:
        """
        responses:
          200:
            description: Query items.
        """


def routes() -> list[Any]:
    return [
        Route("/users", list_users, methods=["GET", "HEAD"]),
        Route("/users/{id:int}", get_user),
        Route("/plain", undocumented),
        Route("/hidden", get_user, include_in_schema=False),
        Mount("/api/{version}", routes=[Route("/items", Items())]),
        Host("api.example.com", app=Router(routes=[Route("/host", get_user)])),
    ]


def test_schema_collects_documented_endpoints() -> None:
    schema = SchemaGenerator({"openapi": "3.0.0", "info": {"title": "T", "version": "1"}}).get_schema(routes())
    assert schema["paths"] == {
        "/users": {"get": {"responses": {200: {"description": "A list of users."}}}},
        "/users/{id}": {"get": {"responses": {200: {"description": "One user."}}}},
        "/api/{version}/items": {"get": {"responses": {200: {"description": "Items."}}}},
        "/host": {"get": {"responses": {200: {"description": "One user."}}}},
    }


def test_query_method_needs_openapi_3_2() -> None:
    schema = SchemaGenerator({"openapi": "3.2.0"}).get_schema(routes())
    assert "query" in schema["paths"]["/api/{version}/items"]


def test_openapi_response_is_yaml() -> None:
    response = OpenAPIResponse({"openapi": "3.0.0"})
    assert response.media_type == "application/vnd.oai.openapi"
    assert yaml.safe_load(response.body) == {"openapi": "3.0.0"}


def test_parse_docstring_ignores_prose_and_missing_docstrings() -> None:
    generator = SchemaGenerator({})
    assert generator.parse_docstring(undocumented) == {}
    assert generator.parse_docstring(lambda request: None) == {}
    assert generator.parse_docstring(list_users) == {"responses": {200: {"description": "A list of users."}}}


def test_schema_endpoint_serves_the_application_schema() -> None:
    from tachyon.applications import Tachyon
    from tachyon_testclient.testclient import TestClient

    generator = SchemaGenerator({"openapi": "3.0.0", "info": {"title": "T", "version": "1"}})

    def schema(request: Request) -> Any:
        return generator.OpenAPIResponse(request)

    app = Tachyon(routes=[Route("/users", list_users), Route("/schema", schema, include_in_schema=False)])
    response = TestClient(app).get("/schema")
    assert response.headers["content-type"] == "application/vnd.oai.openapi"
    assert yaml.safe_load(response.text)["paths"] == {
        "/users": {"get": {"responses": {200: {"description": "A list of users."}}}}
    }
