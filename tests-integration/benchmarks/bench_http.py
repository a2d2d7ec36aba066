"""Over-HTTP benchmark: each app served by uvicorn (uvloop, httptools, one worker) on 127.0.0.1, loaded by
wrk for a bounded duration; requests/s, p99 latency and the server's CPU time per request, interleaved rounds,
median reported; server RSS after the warm-up and after the run.

    python tests-integration/benchmarks/bench_http.py [--duration 3] [--rounds 3] [--connections 64] [-k S]

Needs `wrk` (Debian package `wrk`; installed with apt-get when missing and running as root).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from apps import CACHE, FRAMEWORKS, supports, tachyon_app_path  # noqa: E402
from scenarios import SCENARIOS, Scenario  # noqa: E402

RESULTS = HERE / "results"
STARTUP_TIMEOUT = 20.0  # seconds a server gets to accept connections before the run is abandoned


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=False, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is required: apt-get install wrk")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(framework: str, port: int) -> list[str]:
    if framework == "tachyon":
        app_dir, target = tachyon_app_path().parent, "tachyon_bench_app:app"
    else:
        app_dir, target = HERE, f"apps.{framework}_app:app"
    return [
        sys.executable, "-m", "uvicorn", target, "--app-dir", str(app_dir), "--host", "127.0.0.1",
        "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--workers", "1",
        "--no-access-log", "--log-level", "warning",
        # BlackSheep configures itself in its lifespan startup; the others need none.
        "--lifespan", "on" if framework == "blacksheep" else "off",
    ]  # fmt: skip


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start within {STARTUP_TIMEOUT}s")


def lua_script(scenario: Scenario, workdir: Path) -> Path | None:
    if scenario.method == "GET" and not scenario.body and not scenario.extra_headers:
        return None
    body_file = workdir / f"{abs(hash(scenario.name))}.body"
    body_file.write_bytes(scenario.body)
    script = workdir / f"{abs(hash(scenario.name))}.lua"
    lines = [f'wrk.method = "{scenario.method}"']
    if scenario.body:
        lines += [f'local f = io.open("{body_file}", "rb")', 'wrk.body = f:read("*a")', "f:close()"]
    if scenario.content_type:
        lines.append(f'wrk.headers["Content-Type"] = "{scenario.content_type.decode()}"')
    for name, value in scenario.extra_headers:
        lines.append(f'wrk.headers["{name.decode()}"] = "{value.decode()}"')
    script.write_text("\n".join(lines) + "\n")
    return script


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def run_wrk(
    wrk: str, url: str, duration: float, connections: int, script: Path | None
) -> tuple[float, float, int, int]:
    """``(requests/s, p99 ms, non-2xx/3xx responses, requests completed)`` of one wrk run."""
    # wrk parses whole time units only ("-d1.0s" is a usage error): round to seconds, at least one.
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", str(script)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99_value, p99_unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rps, float(p99_value) * _UNITS[p99_unit], int(non_2xx.group(1)) if non_2xx else 0, total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used. Unlike requests/s it does not count the time the server
    waited for a core, so it stays steady on a busy machine; with the server saturated (one worker, wrk on the
    other core) requests/s is about the inverse of CPU time per request."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("-k", default="", help="only scenarios whose name contains this")
    args = parser.parse_args()
    wrk = ensure_wrk()
    scenarios = [s for s in SCENARIOS if s.over_http and args.k in s.name]
    CACHE.mkdir(exist_ok=True)

    with ExitStack() as stack, tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
        for framework in FRAMEWORKS:
            port = free_port()
            proc = subprocess.Popen(server_command(framework, port), start_new_session=True)
            stack.callback(lambda p=proc: (os.killpg(p.pid, signal.SIGTERM), p.wait(timeout=10)))
            wait_ready(port, proc)
            servers[framework] = (proc, port)
        scripts = {s.name: lua_script(s, Path(tmp)) for s in scenarios}
        samples: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        for scenario in scenarios:  # warm-up and a correctness check of every status code
            for framework, (_, port) in servers.items():
                if not supports(framework, scenario.name):
                    continue
                url = f"http://127.0.0.1:{port}{scenario.path}" + (
                    f"?{scenario.query_string.decode()}" if scenario.query_string else ""
                )
                _, _, bad, _ = run_wrk(wrk, url, 1.0, 4, scripts[scenario.name])
                if bad and scenario.expected_status < 300:
                    raise SystemExit(f"{framework} answered {scenario.name!r} with {bad} non-2xx responses")
        rss_warm = {framework: rss_mib(proc.pid) for framework, (proc, _) in servers.items()}
        for r in range(args.rounds):
            for scenario in scenarios:
                shift = r % len(servers)
                order = list(servers)[shift:] + list(servers)[:shift]
                for framework in order:
                    if not supports(framework, scenario.name):
                        continue
                    port = servers[framework][1]
                    url = f"http://127.0.0.1:{port}{scenario.path}" + (
                        f"?{scenario.query_string.decode()}" if scenario.query_string else ""
                    )
                    pid = servers[framework][0].pid
                    cpu_before = cpu_seconds(pid)
                    rps, p99, _, total = run_wrk(wrk, url, args.duration, args.connections, scripts[scenario.name])
                    cpu_us = (cpu_seconds(pid) - cpu_before) / max(total, 1) * 1e6
                    samples.setdefault((scenario.name, framework), []).append((rps, p99, cpu_us))
        rows = []
        for scenario in scenarios:
            row: dict[str, object] = {"scenario": scenario.name}
            for framework in servers:
                if (scenario.name, framework) not in samples:
                    continue
                values = samples[(scenario.name, framework)]
                row[f"{framework}_rps"] = statistics.median(v[0] for v in values)
                row[f"{framework}_p99_ms"] = statistics.median(v[1] for v in values)
                row[f"{framework}_cpu_us"] = statistics.median(v[2] for v in values)
            rows.append(row)
            print(
                f"{scenario.name:30s} "
                + "  ".join(
                    f"{fw} {row[f'{fw}_rps']:9.0f} req/s p99 {row[f'{fw}_p99_ms']:6.2f} ms"
                    for fw in servers
                    if f"{fw}_rps" in row
                )
                + f"   tachyon/raw {row['tachyon_rps'] / row['raw_rps']:4.2f}"  # type: ignore[operator]
                + f"   tachyon/starlette {row['tachyon_rps'] / row['starlette_rps']:4.2f}"  # type: ignore[operator]
                + "   server CPU µs/req "
                + " / ".join(f"{fw} {row[f'{fw}_cpu_us']:.1f}" for fw in servers if f"{fw}_cpu_us" in row),
                flush=True,
            )
        rss = {framework: rss_mib(proc.pid) for framework, (proc, _) in servers.items()}
        print("server RSS after warm-up: " + ", ".join(f"{k} {v:.1f} MiB" for k, v in rss_warm.items()))
        print("server RSS after the run: " + ", ".join(f"{k} {v:.1f} MiB" for k, v in rss.items()))
    RESULTS.mkdir(exist_ok=True)
    meta = {"duration_s": args.duration, "rounds": args.rounds, "connections": args.connections}
    result = {"meta": meta, "rows": rows, "rss_mib": rss, "rss_warm_mib": rss_warm}
    (RESULTS / "http.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
