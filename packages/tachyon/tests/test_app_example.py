from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from tachyon.testclient import TestClient

EXAMPLE = Path(__file__).resolve().parents[3] / "tests-integration" / "examples" / "app.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tachyon_example_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_app_serves_its_documented_routes(example: ModuleType) -> None:
    with TestClient(example.app) as client:
        assert client.get("/").json() == {"hello": "world"}
        assert client.get("/users/42").json() == {"id": 42}
        not_allowed = client.post("/users/42")
        assert not_allowed.status_code == 405
        assert set(not_allowed.headers["allow"].split(", ")) == {"GET", "HEAD"}
        assert client.get("/items?limit=2").json() == [{"item": 0}, {"item": 1}]
        assert client.get(f"/items?limit={example.MAX_ITEMS + 1}").status_code == 400
        assert client.post("/echo", json={"a": [1, 2]}).json() == {"a": [1, 2]}
        assert client.get("/api/status").json() == {"status": "ok"}
        assert client.get("/api/routes/user").text == "http://testserver/users/42"
        assert client.get("/nowhere").status_code == 404
        with client.websocket_connect("/ws") as websocket:
            websocket.send_text("ping")
            assert websocket.receive_text() == "echo: ping"
