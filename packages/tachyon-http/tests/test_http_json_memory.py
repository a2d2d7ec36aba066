"""request.json() on large bodies: peak memory no worse than Starlette's json.loads, and one parse per body."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from tachyon_http import _json

_SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "json_peak_memory.py"


def _load_script() -> Any:
    spec = importlib.util.spec_from_file_location("json_peak_memory", _SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("shape", ["zeros", "records"])
def test_peak_memory_of_a_large_body_is_no_worse_than_json_loads(shape: str) -> None:
    script = _load_script()
    size = 8 * 1024 * 1024
    starlette, _ = script.measure(shape, size, "starlette")
    tachyon, _ = script.measure(shape, size, "tachyon")
    # orjson peaked at ~2.5x json.loads here (+96 MB against +39 MB for zeros).
    assert tachyon <= starlette * 1.1 + 4, (shape, tachyon, starlette)


@pytest.mark.parametrize(
    "body",
    [
        b"[" + b"1234567890123456789," * 1000 + b"1]",  # long digit runs: may not fit orjson's integers
        b"[" * 100 + b"]" * 100,  # deeper than the shallow depth
        b"[" + b"0," * (1024 * 1024) + b"0]",  # large (2 MiB)
        b'{"a": [1, 2, {"b": null}]}',
    ],
)
def test_a_body_is_parsed_once(body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_orjson, real_json = _json._orjson_loads, json.loads

    def counting_orjson(data: bytes) -> Any:
        calls.append("orjson")
        return real_orjson(data)

    def counting_json(data: Any, **kwargs: Any) -> Any:
        calls.append("json")
        return real_json(data, **kwargs)

    monkeypatch.setattr(_json, "_orjson_loads", counting_orjson)
    monkeypatch.setattr(_json.json, "loads", counting_json)
    expected = real_json(body)
    assert _json.loads(body) == expected
    assert len(calls) == 1, calls
