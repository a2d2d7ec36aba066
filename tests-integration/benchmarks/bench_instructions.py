"""Instructions per request over HTTP: each app served by uvicorn (uvloop, httptools, one worker) under
valgrind's callgrind, driven by a sequential keep-alive client; the count is deterministic, so it holds on a
machine too busy for steady timings.

For every (scenario, framework) the server runs twice, with a warm-up of W requests and then with W + N
requests; the difference divided by N is the server's instructions per request (start-up and warm-up cancel).
Time is not proportional to instructions (cache misses and syscalls weigh differently), so this complements
requests/s, it does not replace it.

    python tests-integration/benchmarks/bench_instructions.py [--requests 2000] [-k SUBSTRING]

Needs valgrind (Debian package `valgrind`; installed with apt-get when missing and running as root).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from apps import CACHE, FRAMEWORKS  # noqa: E402
from bench_http import free_port, server_command  # noqa: E402
from scenarios import SCENARIOS, Scenario  # noqa: E402

RESULTS = HERE / "results"
WARM_UP = 200
# Scenarios with a short GET request and a small answer: the client's own work then stays negligible.
DEFAULT_SCENARIOS = ("plaintext", "route: last param of 120")
STARTUP_TIMEOUT = 300.0  # seconds: a server under valgrind starts some 50x slower


def ensure_valgrind() -> str:
    found = shutil.which("valgrind")
    if not found and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind"], check=True, stdout=subprocess.DEVNULL)
        found = shutil.which("valgrind")
    if not found:
        raise SystemExit("valgrind is required: apt-get install valgrind")
    return found


def drive(port: int, scenario: Scenario, count: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.connect()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"server on port {port} did not start within {STARTUP_TIMEOUT}s") from None
            time.sleep(0.2)
    target = scenario.path + (f"?{scenario.query_string.decode()}" if scenario.query_string else "")
    for _ in range(count):
        connection.request(scenario.method, target)
        response = connection.getresponse()
        response.read()
        if response.status != scenario.expected_status:
            raise SystemExit(f"{scenario.name!r} answered {response.status}")
    connection.close()


def count_instructions(valgrind: str, framework: str, scenario: Scenario, requests: int, workdir: Path) -> int:
    port = free_port()
    out = workdir / f"callgrind.{framework}.{port}"
    command = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", *server_command(framework, port)]
    proc = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        drive(port, scenario, requests)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=STARTUP_TIMEOUT)
    found = re.search(rb"I\s+refs:\s+([\d,]+)", err)
    if found is None:
        raise SystemExit(f"no instruction count from valgrind for {framework}: {err[-400:]!r}")
    return int(found.group(1).replace(b",", b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="measured requests (after the warm-up)")
    parser.add_argument("-k", default="", help="only scenarios whose name contains this (default: a short list)")
    args = parser.parse_args()
    valgrind = ensure_valgrind()
    chosen = [s for s in SCENARIOS if (args.k in s.name if args.k else s.name in DEFAULT_SCENARIOS)]
    chosen = [s for s in chosen if not s.body and not s.websocket]
    CACHE.mkdir(exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp, ThreadPoolExecutor(max_workers=2) as pool:
        for scenario in chosen:
            row: dict[str, object] = {"scenario": scenario.name}
            for framework in FRAMEWORKS:
                base = pool.submit(count_instructions, valgrind, framework, scenario, WARM_UP, Path(tmp))
                full = pool.submit(
                    count_instructions, valgrind, framework, scenario, WARM_UP + args.requests, Path(tmp)
                )
                row[f"{framework}_instructions"] = (full.result() - base.result()) / args.requests
            rows.append(row)
            print(
                f"{scenario.name:30s} "
                + "  ".join(f"{fw} {row[f'{fw}_instructions']:9.0f}" for fw in FRAMEWORKS)
                + f"   raw/tachyon {row['raw_instructions'] / row['tachyon_instructions']:.2f}"  # type: ignore[operator]
                + f"   starlette/tachyon {row['starlette_instructions'] / row['tachyon_instructions']:.2f}",  # type: ignore[operator]
                flush=True,
            )
    RESULTS.mkdir(exist_ok=True)
    meta = {"requests": args.requests, "warm_up": WARM_UP}
    (RESULTS / "instructions.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
