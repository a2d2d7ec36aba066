"""OpenTelemetry's Starlette instrumentation on a Tachyon app, in an environment with no real Starlette.

The instrumentation declares ``starlette >= 0.13`` in its package metadata and checks it before instrumenting:
the switch must answer ``importlib.metadata`` for "starlette", or the instrumentation silently skips itself.
"""

from __future__ import annotations

import json
from typing import Any

from release_env import clean_env, dist_files

SCRIPT = """
import importlib.metadata, importlib.util, json
from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

report = {"real_starlette": importlib.util.find_spec("starlette") is not None}
report["conflict_before"] = str(get_dependency_conflicts(["starlette >= 0.13"]) or "")

import tachyon.compat
tachyon.compat.install()
import starlette
from opentelemetry.instrumentation.starlette import StarletteInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

report["conflict_after"] = str(StarletteInstrumentor()._check_dependency_conflicts() or "")
report["versions"] = [starlette.__version__, importlib.metadata.version("starlette")]

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
instrumentor = StarletteInstrumentor()
instrumentor.instrument(tracer_provider=provider)
report["instrumented"] = instrumentor.is_instrumented_by_opentelemetry

from starlette.applications import Starlette
from tachyon import PlainTextResponse, Route, Tachyon, TestClient

async def hello(request):
    return PlainTextResponse("hello " + request.path_params["name"])

app = Starlette(routes=[Route("/hello/{name}", hello)])  # the instrumented class, served by Tachyon
report["app_is_tachyon"] = isinstance(app, Tachyon)
with TestClient(app) as client:
    response = client.get("/hello/otel")
report["response"] = [response.status_code, response.text]
report["spans"] = sorted({span.name for span in exporter.get_finished_spans()})
report["route_attr"] = sorted(
    {str(span.attributes.get("http.route")) for span in exporter.get_finished_spans() if span.attributes}
)
print(json.dumps(report))
"""


def test_opentelemetry_instruments_a_tachyon_app_without_starlette_installed(make_venv: Any) -> None:
    files = dist_files()
    env = make_venv("3.11")
    wheels = [
        str(files[name]) for name in ("tachyon_router", "tachyon_http", "tachyon_ws", "tachyon_testclient", "tachyon")
    ]
    env.pip_install(*wheels, "opentelemetry-instrumentation-starlette", "opentelemetry-sdk")
    result = env.run(SCRIPT, env=clean_env())
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["real_starlette"] is False
    assert "starlette" in report["conflict_before"]  # without the switch the instrumentation would skip itself
    assert report["conflict_after"] == ""
    assert report["versions"] == ["1.10.0", "1.10.0"]
    assert report["instrumented"] is True
    assert report["app_is_tachyon"] is True
    assert report["response"] == [200, "hello otel"]
    assert "GET /hello/{name}" in report["spans"], report
    assert "/hello/{name}" in report["route_attr"], report
