"""FastAPI's request path, endpoint by endpoint: instructions per request, and who spends them.

The app (``fastapi_apps/fastapi_path_app.py``) has one endpoint per kind of work on FastAPI's request path: a
dict as JSON, a path parameter, a pydantic-validated JSON body, a form, a sync ``def`` endpoint (threadpool),
an ``HTTPException``, and a dependency with ``yield``. Each side (FastAPI on Starlette 1.10.0, FastAPI on
Tachyon through ``tachyon.compat``) runs in a process of its own, in process (no server).

    python tests-integration/benchmarks/bench_fastapi_path.py                # instructions (callgrind)
    python tests-integration/benchmarks/bench_fastapi_path.py --attribute    # who spends them (cProfile)

Instructions: the side runs under valgrind's callgrind; for each endpoint, after a warm-up, the counters are
zeroed, N requests are made and the counters dumped (callgrind client requests, through a tiny cffi module
built in the benchmark cache), so the figure is instructions per request, deterministic on a loaded machine.
Attribution: cProfile's own time per function, summed by the package that owns the function (C builtins are
charged to the Python function that called them); it says where the time goes, not how much (the profiler
inflates small calls).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
APPS = HERE / "fastapi_apps"
CACHE = HERE / ".cache"
SIDES = ("starlette", "tachyon")

_FORM = b"username=alice&password=secret"
_MODEL = b'{"name": "widget", "price": 9.5, "tags": ["a", "b"]}'
# name -> (method, path, content type, body, expected status)
ENDPOINTS: dict[str, tuple[str, str, bytes | None, bytes, int]] = {
    "GET dict (JSON)": ("GET", "/json", None, b"", 200),
    "GET path param": ("GET", "/items/42", None, b"", 200),
    "POST pydantic body": ("POST", "/model", b"application/json", _MODEL, 200),
    "POST form": ("POST", "/form", b"application/x-www-form-urlencoded", _FORM, 200),
    "GET sync def (threadpool)": ("GET", "/sync", None, b"", 200),
    "GET HTTPException": ("GET", "/raise", None, b"", 404),
    "GET yield dependency": ("GET", "/dep", None, b"", 200),
}

_CLIENT_REQUESTS = """
#include <valgrind/callgrind.h>
static void tachyon_bench_zero(void) { CALLGRIND_ZERO_STATS; }
static void tachyon_bench_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
"""


def _client_requests() -> Any:
    """A cffi module whose two functions zero and dump callgrind's counters (no-ops outside valgrind)."""
    import cffi

    CACHE.mkdir(exist_ok=True)
    name = "_tachyon_bench_callgrind"
    if not list(CACHE.glob(name + ".*.so")) and not list(CACHE.glob(name + ".so")):
        ffi = cffi.FFI()
        ffi.cdef("void tachyon_bench_zero(void); void tachyon_bench_dump(const char *name);")
        ffi.set_source(name, _CLIENT_REQUESTS)
        ffi.compile(tmpdir=str(CACHE))
    sys.path.insert(0, str(CACHE))
    module = __import__(name)
    return module.lib


def _scope(method: str, path: str, content_type: bytes | None, body: bytes) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if content_type is not None:
        headers += [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": headers, "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
        "state": {},
    }  # fmt: skip


async def _requests(app: Any, name: str, count: int) -> None:
    method, path, content_type, body, status = ENDPOINTS[name]
    seen: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen.append(message["status"])

    for _ in range(count):
        await app(_scope(method, path, content_type, body), receive, send)
    if seen != [status] * count:
        raise SystemExit(f"{name}: expected {status}, got {sorted(set(seen))}")


def _load_app(side: str) -> Any:
    if side == "tachyon":
        from tachyon import compat

        compat.install()
    sys.path.insert(0, str(APPS))
    import fastapi_path_app

    return fastapi_path_app.app


def worker(side: str, requests: int, only: str | None) -> None:
    """Under callgrind: warm up, zero, N requests, dump, for each endpoint."""
    app = _load_app(side)
    lib = _client_requests()
    names = [n for n in ENDPOINTS if only is None or only in n]

    async def main() -> None:
        for i, name in enumerate(names):
            await _requests(app, name, 100)
            lib.tachyon_bench_zero()
            await _requests(app, name, requests)
            lib.tachyon_bench_dump(f"endpoint-{i}".encode())

    asyncio.run(main())


def callgrind_per_request(worker: list[str], names: list[str], requests: int) -> dict[str, float]:
    """Run ``worker`` (a Python command line) under callgrind and return instructions per request by name.

    The worker zeroes the counters before the ``requests`` requests of ``names[i]`` and dumps them after, as
    "endpoint-<i>" (``_client_requests()``); a missing dump is an error. Shared with the other in-process
    benchmarks (``bench_inprocess.py --instructions``, ``bench_basehttp.py --layers --instructions``).
    """
    _client_requests()  # built outside valgrind
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no", *worker]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        result: dict[str, float] = {}
        for dump in Path(tmp).glob("callgrind.out*"):
            text = dump.read_text(errors="replace")
            trigger = re.search(r"^desc: Trigger: Client Request: endpoint-(\d+)", text, re.M)
            totals = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
            if trigger and totals:
                result[names[int(trigger.group(1))]] = int(totals.group(1)) / requests
    if len(result) != len(names):
        raise SystemExit(f"{' '.join(worker[-6:])}: dumps for {sorted(result)} only")
    return result


def instructions(side: str, requests: int, only: str | None) -> dict[str, float]:
    names = [n for n in ENDPOINTS if only is None or only in n]
    cmd = [sys.executable, __file__, "--worker", side, "--requests", str(requests)]
    if only:
        cmd += ["-k", only]
    return callgrind_per_request(cmd, names, requests)


def _owner(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "builtin"
    parts = Path(filename).parts
    if "tachyon_http" in parts or "tachyon" in parts or "tachyon_router" in parts:
        return "Tachyon"
    if "starlette" in parts:
        return "Starlette"
    if "fastapi" in parts:
        return "FastAPI"
    if "pydantic" in parts or "pydantic_core" in parts:
        return "pydantic"
    if "anyio" in parts:
        return "anyio"
    if "multipart" in parts or "python_multipart" in parts:
        return "multipart parser"
    if "site-packages" in parts:
        return "other packages"
    return "stdlib (asyncio, contextlib...)"


def attribute(side: str, requests: int, only: str | None) -> dict[str, dict[str, float]]:
    """cProfile's own time per owner, in % of the endpoint's total, builtins charged to their callers."""
    import cProfile
    import pstats

    app = _load_app(side)
    names = [n for n in ENDPOINTS if only is None or only in n]
    shares: dict[str, dict[str, float]] = {}
    for name in names:
        asyncio.run(_requests(app, name, 200))
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(_requests(app, name, requests))
        profiler.disable()
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        by_owner: dict[str, float] = {}
        for (filename, _, _), (_, _, own, _, callers) in stats.items():
            owner = _owner(filename)
            if owner == "builtin":
                for (caller_file, _, _), caller_entry in callers.items():
                    caller_owner = _owner(caller_file)
                    if caller_owner == "builtin":
                        caller_owner = "stdlib (asyncio, contextlib...)"
                    by_owner[caller_owner] = by_owner.get(caller_owner, 0.0) + caller_entry[2]
            else:
                by_owner[owner] = by_owner.get(owner, 0.0) + own
        total = sum(by_owner.values())
        shares[name] = {owner: 100 * value / total for owner, value in by_owner.items()}
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=300, help="measured requests per endpoint")
    parser.add_argument("-k", dest="only", help="only endpoints whose name contains this")
    parser.add_argument("--side", choices=SIDES, action="append", help="only this side (repeatable)")
    parser.add_argument("--attribute", action="store_true", help="cProfile shares by owner instead")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.worker and args.attribute:
        print(json.dumps(attribute(args.worker, args.requests, args.only)))
        return
    if args.worker:
        worker(args.worker, args.requests, args.only)
        return
    sides = args.side or list(SIDES)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if os.path.exists("/proc/loadavg") else "?"
    if args.attribute:
        figures: dict[str, Any] = {}
        for side in sides:  # a process per side: the switch must come before any import of Starlette
            cmd = [sys.executable, __file__, "--worker", side, "--attribute", "--requests", str(args.requests)]
            if args.only:
                cmd += ["-k", args.only]
            figures[side] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        print(f"cProfile own time by owner, % of each endpoint (load {load})")
        for side in sides:
            print(f"\nFastAPI on {side}:")
            for name, shares in figures[side].items():
                parts = ", ".join(f"{k} {v:.0f}%" for k, v in sorted(shares.items(), key=lambda kv: -kv[1]))
                print(f"  {name:28s} {parts}")
    else:
        figures = {side: instructions(side, args.requests, args.only) for side in sides}
        print("| endpoint | " + " | ".join(f"FastAPI on {s}, instructions/request" for s in sides) + " |")
        print("|---|" + "---|" * len(sides))
        for name in (n for n in ENDPOINTS if n in figures[sides[0]]):
            print(f"| {name} | " + " | ".join(f"{figures[s][name]:,.0f}" for s in sides) + " |")
    if args.json:
        args.json.write_text(json.dumps({"load": load, "figures": figures}, indent=2) + "\n")


if __name__ == "__main__":
    main()
