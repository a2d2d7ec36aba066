"""The built-in middlewares alone: µs each adds around a raw ASGI plaintext endpoint, before and after a change.

Each middleware wraps the same raw endpoint (no framework inside, so the figure is the middleware's own
cost). "before" is the middleware module as it is at a git revision (``--baseline``, default ``main``),
loaded from ``git show`` under another module name; "after" is the working tree. A pure-ASGI no-op wrapper
and the bare endpoint are measured in the same run. Every round visits every case and side in short batches,
orders rotating, and the best batch is kept: only the ratios within one run mean anything.

    python tests-integration/benchmarks/bench_middleware.py [--baseline main] [--rounds 15] [-k cors]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MIDDLEWARE_DIR = "packages/tachyon/src/tachyon/middleware"
MODULES = ("cors", "gzip", "sessions", "trustedhost", "httpsredirect", "authentication")

BROWSER_HEADERS = [
    (b"host", b"example.com"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    (b"accept-language", b"en-GB,en;q=0.5"),
    (b"connection", b"keep-alive"),
]


async def endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"13")],
        }
    )
    await send({"type": "http.response.body", "body": b"Hello, World!"})


class NoOp:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def load_baseline(revision: str, directory: Path) -> dict[str, ModuleType]:
    modules = {}
    for name in MODULES:
        source = subprocess.run(
            ["git", "show", f"{revision}:{MIDDLEWARE_DIR}/{name}.py"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        path = directory / f"baseline_{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(f"_bench_baseline_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        modules[name] = module
    return modules


def load_current() -> dict[str, ModuleType]:
    return {name: importlib.import_module(f"tachyon.middleware.{name}") for name in MODULES}


@dataclass
class Case:
    name: str
    module: str  # "" for the no-op wrapper
    build: Callable[[ModuleType, Any], Any]
    headers: list[tuple[bytes, bytes]]
    scheme: str = "http"
    status: int = 200


def _session_cookie(mod: ModuleType) -> bytes:
    """A valid signed cookie for the session case, made by the module under test."""
    middleware = mod.SessionMiddleware(endpoint, secret_key="bench-secret")
    from base64 import b64encode

    signed = middleware.signer.sign(b64encode(b'{"user": "alice", "n": 1}'))
    return b"session=" + signed


def _auth_backend() -> Any:
    from tachyon.authentication import AuthCredentials, AuthenticationBackend, SimpleUser

    class Backend(AuthenticationBackend):
        async def authenticate(self, conn: Any) -> Any:
            return AuthCredentials(["authenticated"]), SimpleUser("alice")

    return Backend()


def cases() -> list[Case]:
    origin = [(b"origin", b"https://app.example.com")]
    gzip = [(b"accept-encoding", b"gzip, deflate, br, zstd")]
    cors_args = {"allow_origins": ["https://app.example.com"], "allow_methods": ["*"], "allow_credentials": True}
    return [
        Case("bare endpoint", "", lambda m, app: app, BROWSER_HEADERS),
        Case("no-op pure-ASGI wrapper", "", lambda m, app: NoOp(app), BROWSER_HEADERS),
        Case(
            "CORS, allowed Origin", "cors", lambda m, app: m.CORSMiddleware(app, **cors_args), BROWSER_HEADERS + origin
        ),
        Case("CORS, no Origin", "cors", lambda m, app: m.CORSMiddleware(app, **cors_args), BROWSER_HEADERS),
        Case("GZip, accepts gzip, small body", "gzip", lambda m, app: m.GZipMiddleware(app), BROWSER_HEADERS + gzip),
        Case("GZip, no Accept-Encoding", "gzip", lambda m, app: m.GZipMiddleware(app), BROWSER_HEADERS),
        Case(
            "Sessions, no cookie", "sessions", lambda m, app: m.SessionMiddleware(app, "bench-secret"), BROWSER_HEADERS
        ),
        Case("Sessions, valid cookie", "sessions", lambda m, app: m.SessionMiddleware(app, "bench-secret"), []),
        Case(
            "TrustedHost, allowed host",
            "trustedhost",
            lambda m, app: m.TrustedHostMiddleware(app, ["example.com", "*.example.com"]),
            BROWSER_HEADERS,
        ),
        Case(
            "HTTPSRedirect, https request",
            "httpsredirect",
            lambda m, app: m.HTTPSRedirectMiddleware(app),
            BROWSER_HEADERS,
            scheme="https",
        ),
        Case(
            "HTTPSRedirect, http request (307)",
            "httpsredirect",
            lambda m, app: m.HTTPSRedirectMiddleware(app),
            BROWSER_HEADERS,
            status=307,
        ),
        Case(
            "Authentication",
            "authentication",
            lambda m, app: m.AuthenticationMiddleware(app, _auth_backend()),
            BROWSER_HEADERS,
        ),
    ]


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def scope_for(case: Case) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": case.scheme,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": case.headers,
    }


async def batch(app: Any, template: dict[str, Any], n: int) -> float:
    async def send(message: dict[str, Any]) -> None:
        pass

    headers = template["headers"]
    start = time.perf_counter_ns()
    for _ in range(n):
        scope = dict(template)
        scope["headers"] = list(headers)
        await app(scope, receive, send)
    return (time.perf_counter_ns() - start) / n / 1000.0


async def check(app: Any, template: dict[str, Any], status: int, label: str) -> None:
    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(dict(template, headers=list(template["headers"])), receive, send)
    if not messages or messages[0].get("status") != status:
        raise SystemExit(f"{label} answered wrongly: {messages[:2]!r}")


async def run(selected: list[Case], sides: dict[str, dict[str, ModuleType]], rounds: int, target_ms: float) -> None:
    cells: dict[tuple[str, str], tuple[Any, dict[str, Any], int]] = {}
    for case in selected:
        if case.name == "Sessions, valid cookie":
            case.headers = BROWSER_HEADERS + [(b"cookie", _session_cookie(sides["after"]["sessions"]))]
        template = scope_for(case)
        for side, modules in sides.items():
            app = case.build(modules[case.module] if case.module else ModuleType("none"), endpoint)
            await check(app, template, case.status, f"{case.name} ({side})")
            per_call = await batch(app, template, 50)
            cells[(case.name, side)] = (app, template, max(50, int(target_ms * 1000 / max(per_call, 0.01))))
    best = dict.fromkeys(cells, float("inf"))
    keys = list(cells)
    for r in range(rounds):
        shift = (r * 7) % len(keys)
        order = keys[shift:] + keys[:shift]
        if r % 2:
            order.reverse()
        for key in order:
            app, template, n = cells[key]
            best[key] = min(best[key], await batch(app, template, n))
    bare = best[("bare endpoint", "after")]
    header = f"{'case':38s} {'before µs':>10s} {'after µs':>10s} {'before +µs':>11s} {'after +µs':>10s}"
    print(header + "  (+µs: over the bare endpoint)")
    for case in selected:
        before, after = best[(case.name, "before")], best[(case.name, "after")]
        print(f"{case.name:38s} {before:10.2f} {after:10.2f} {before - bare:11.2f} {after - bare:10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="main", help="git revision of the 'before' middleware modules")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--target-ms", type=float, default=10.0, help="duration of one timed batch")
    parser.add_argument("-k", default="", help="only cases whose name contains this (case-insensitive)")
    args = parser.parse_args()
    selected = [c for c in cases() if args.k.lower() in c.name.lower() or c.name == "bare endpoint"]
    with tempfile.TemporaryDirectory() as directory:
        sides = {"before": load_baseline(args.baseline, Path(directory)), "after": load_current()}
        asyncio.run(run(selected, sides, args.rounds, args.target_ms))


if __name__ == "__main__":
    main()
