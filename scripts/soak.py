"""Soak: a bounded mixed load on one Tachyon server on 127.0.0.1, twice, then the figures.

    hatch run soak [--duration 60] [--connections 32] [--ws-clients 8]

Serves tests-integration/hostile/apps (hostile_apps:tachyon_app: GZip, Sessions, CORS, TrustedHost, StaticFiles)
under uvicorn. Each run: wrk (installed with apt-get when missing and running as root) rotating over a plain
route, an int parameter, a static file, a URL echo, a session and a JSON POST, while WebSocket clients echo
messages. Passes when both runs have zero socket errors, zero non-2xx answers, zero WebSocket failures, and the
server's RSS grows by less than 5% over the second run (the first warms caches and allocator pools up).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APPS_DIR = ROOT / "tests-integration" / "hostile" / "apps"
RSS_GROWTH_LIMIT = 0.05

WRK_SCRIPT = r"""
local requests = {}
local paths = {"/health", "/items/42", "/static/a.txt", "/url", "/session", "/query?a=1&b=2"}
local i = 0
init = function(args)
  for _, p in ipairs(paths) do
    requests[#requests + 1] = wrk.format("GET", p, {["Host"] = "127.0.0.1", ["Accept-Encoding"] = "gzip"})
  end
  requests[#requests + 1] = wrk.format("POST", "/json",
    {["Host"] = "127.0.0.1", ["Content-Type"] = "application/json"}, '{"a": [1, 2, 3], "b": {"c": "d"}}')
end
request = function()
  i = i + 1
  return requests[(i % #requests) + 1]
end
"""


def _processes() -> Any:
    spec = importlib.util.spec_from_file_location("e2e_processes", ROOT / "tests-integration/e2e/apps/e2e_processes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["e2e_processes"] = module
    spec.loader.exec_module(module)
    return module


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is not installed; install it (apt-get install wrk) or run this as root")
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("apt-get did not install wrk")
    return found


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


async def ws_client(port: int, stop: asyncio.Event, counts: dict[str, int]) -> None:
    import websockets

    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as socket:
            index = 0
            while not stop.is_set():
                message = f"message {index}" * (1 + index % 20)
                await socket.send(message)
                if await socket.recv() != message:
                    counts["ws_mismatches"] += 1
                counts["ws_messages"] += 1
                index += 1
    except Exception as error:  # every failure is counted and reported, none is fatal to the run
        counts["ws_errors"] += 1
        print(f"websocket client failed: {error!r}", file=sys.stderr)


async def one_run(wrk: str, script: str, port: int, args: argparse.Namespace) -> dict[str, Any]:
    counts = {"ws_messages": 0, "ws_mismatches": 0, "ws_errors": 0}
    stop = asyncio.Event()
    clients = [asyncio.create_task(ws_client(port, stop, counts)) for _ in range(args.ws_clients)]
    load = await asyncio.create_subprocess_exec(
        wrk, "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s", "-s", script,
        f"http://127.0.0.1:{port}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await load.communicate())[0].decode()
    stop.set()
    await asyncio.gather(*clients)
    requests = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return {
        "requests": int(requests.group(1)) if requests else 0,
        "rate": float(rate.group(1)) if rate else 0.0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
        "wrk_exit": load.returncode,
        **counts,
        "wrk_output": output,
    }


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--duration", type=int, default=60, help="seconds per run (default 60)")
    options.add_argument("--connections", type=int, default=32)
    options.add_argument("--ws-clients", type=int, default=8)
    args = options.parse_args()
    wrk = ensure_wrk()
    processes = _processes()
    server = processes.ServerProcess.start(
        lambda port: (
            [sys.executable, "-m", "uvicorn", "hostile_apps:tachyon_app", "--app-dir", str(APPS_DIR)]
            + ["--host", processes.HOST, "--port", str(port), "--log-level", "warning", "--no-access-log"]
        ),
        name="the soak server",
    )
    failures: list[str] = []
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT)
        script.flush()
        try:
            print(f"load average before: {os.getloadavg()}")
            for run in (1, 2):
                before = rss_mb(server.pid)
                started = time.monotonic()
                result = asyncio.run(one_run(wrk, script.name, server.port, args))
                after = rss_mb(server.pid)
                growth = (after - before) / before
                print(
                    f"run {run}: {result['requests']} requests ({result['rate']:.0f}/s), non-2xx {result['non_2xx']}, "
                    f"socket errors {result['socket_errors']}, websocket messages {result['ws_messages']} "
                    f"(errors {result['ws_errors']}, mismatches {result['ws_mismatches']}), "
                    f"RSS {before:.1f} -> {after:.1f} MB ({growth:+.1%}), {time.monotonic() - started:.0f} s, "
                    f"load average {os.getloadavg()[0]:.2f}"
                )
                if result["requests"] == 0 or result["wrk_exit"] != 0:
                    failures.append(f"run {run}: wrk failed:\n{result['wrk_output']}")
                for key in ("non_2xx", "socket_errors", "ws_errors", "ws_mismatches"):
                    if result[key]:
                        failures.append(f"run {run}: {key} = {result[key]}")
                if result["ws_messages"] == 0:
                    failures.append(f"run {run}: no WebSocket message was echoed")
                if run == 2 and growth >= RSS_GROWTH_LIMIT:
                    failures.append(f"run 2: RSS grew by {growth:.1%} (limit {RSS_GROWTH_LIMIT:.0%})")
                if server.process.poll() is not None:
                    failures.append(f"the server exited:\n{server.log()}")
                    break
        finally:
            server.stop()
    for failure in failures:
        print("FAIL:", failure)
    print("soak: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
