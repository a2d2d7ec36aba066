"""Render the latest results (results/*.json) as a Markdown table and a plot.

python tests-integration/benchmarks/report.py   # writes results/latest.md and results/inprocess.png
"""

from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path

PEERS = ("blacksheep", "falcon")  # as in apps/__init__.py; report.py runs without importing the apps

RESULTS = Path(__file__).resolve().parent / "results"


def _load(name: str) -> dict | None:  # type: ignore[type-arg]
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{cpu or platform.processor()}, {cores} cores, {platform.system()} {platform.release()}"


def render() -> str:
    out = [f"Machine: {machine()}  \nPython {platform.python_version()}"]
    inproc = _load("inprocess")
    if inproc:
        meta = inproc["meta"]
        out += [
            "",
            f"### In-process (µs per request, best of {meta['rounds']} interleaved rounds; "
            f"Starlette {meta['starlette']}, router backend: {meta['router_backend']})",
            "",
            "| scenario | raw ASGI | Starlette | Tachyon | Tachyon / raw | Starlette / raw | Tachyon speed-up |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in inproc["rows"]:
            out.append(
                f"| {r['scenario']} | {r['raw_us']:.2f} | {r['starlette_us']:.2f} | {r['tachyon_us']:.2f} "
                f"| {r['tachyon_us'] / r['raw_us']:.2f}× | {r['starlette_us'] / r['raw_us']:.2f}× "
                f"| {r['starlette_us'] / r['tachyon_us']:.2f}× |"
            )
        peers = [peer for peer in PEERS if any(f"{peer}_us" in r for r in inproc["rows"])]
        if peers:
            out += [
                "",
                "The peers in the same run (µs per request, and as a multiple of raw ASGI; n/a: not served):",
                "",
                "| scenario | Tachyon | "
                + " | ".join(peers)
                + " | Tachyon / raw | "
                + " | ".join(f"{peer} / raw" for peer in peers)
                + " |",
                "|---|" + "---:|" * (2 + 2 * len(peers)),
            ]
            for r in inproc["rows"]:
                cells = [f"{r[f'{p}_us']:.2f}" if f"{p}_us" in r else "n/a" for p in peers]
                ratios = [f"{r[f'{p}_us'] / r['raw_us']:.2f}×" if f"{p}_us" in r else "n/a" for p in peers]
                out.append(
                    f"| {r['scenario']} | {r['tachyon_us']:.2f} | "
                    + " | ".join(cells)
                    + f" | {r['tachyon_us'] / r['raw_us']:.2f}× | "
                    + " | ".join(ratios)
                    + " |"
                )
    http = _load("http")
    if http:
        meta = http["meta"]
        out += [
            "",
            f"### Over HTTP (uvicorn + uvloop + httptools, 1 worker; wrk 1 thread, {meta['connections']} "
            f"connections, {meta['duration_s']} s × {meta['rounds']} interleaved rounds, median)",
            "",
            "| scenario | raw req/s | Starlette req/s | Tachyon req/s | Tachyon / raw | Tachyon / Starlette "
            "| p99 raw / Starlette / Tachyon (ms) | server CPU µs/request raw / Starlette / Tachyon "
            "| raw / Tachyon (CPU) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in http["rows"]:
            cpu = (
                f"{r['raw_cpu_us']:.1f} / {r['starlette_cpu_us']:.1f} / {r['tachyon_cpu_us']:.1f} "
                f"| {r['raw_cpu_us'] / r['tachyon_cpu_us']:.2f}"
                if "raw_cpu_us" in r
                else "- | -"
            )
            out.append(
                f"| {r['scenario']} | {r['raw_rps']:.0f} | {r['starlette_rps']:.0f} | {r['tachyon_rps']:.0f} "
                f"| {r['tachyon_rps'] / r['raw_rps']:.2f} | {r['tachyon_rps'] / r['starlette_rps']:.2f} "
                f"| {r['raw_p99_ms']:.2f} / {r['starlette_p99_ms']:.2f} / {r['tachyon_p99_ms']:.2f} | {cpu} |"
            )
        for key, label in (("rss_warm_mib", "after the warm-up"), ("rss_mib", "after the run")):
            if key in http:
                out += ["", f"Server RSS {label}: " + ", ".join(f"{k} {v:.1f} MiB" for k, v in http[key].items())]
    counted = _load("instructions")
    if counted:
        meta = counted["meta"]
        out += [
            "",
            f"### Instructions per request over HTTP (callgrind, uvicorn as above; {meta['requests']} sequential "
            f"keep-alive requests after {meta['warm_up']} of warm-up; deterministic)",
            "",
            "| scenario | raw | Starlette | Tachyon | raw / Tachyon | Starlette / Tachyon |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in counted["rows"]:
            out.append(
                f"| {r['scenario']} | {r['raw_instructions']:,.0f} | {r['starlette_instructions']:,.0f} "
                f"| {r['tachyon_instructions']:,.0f} | {r['raw_instructions'] / r['tachyon_instructions']:.2f} "
                f"| {r['starlette_instructions'] / r['tachyon_instructions']:.2f} |"
            )
    micro = _load("micro")
    if micro:
        rounds = micro.get("meta", {}).get("rounds", "?")
        out += ["", f"### Micro-benchmarks (ops/s, best of {rounds} interleaved batches)", "",
                "| case | Starlette | Tachyon | speed-up |", "|---|---:|---:|---:|"]  # fmt: skip
        for r in micro["rows"]:
            out.append(
                f"| {r['case']} | {r['starlette_ops']:.0f} | {r['tachyon_ops']:.0f} "
                f"| {r['tachyon_ops'] / r['starlette_ops']:.2f}× |"
            )
    out += targets(inproc, http, counted)
    return "\n".join(out) + "\n"


def targets(inproc: dict | None, http: dict | None, counted: dict | None) -> list[str]:  # type: ignore[type-arg]
    """The performance targets, computed from this run's figures (see docs/performance.md)."""
    lines = ["", "### Against the targets (this run)", "", "| target | measured |", "|---|---|"]
    if inproc:
        rows = {r["scenario"]: r for r in inproc["rows"]}

        def rel(name: str) -> float:
            return float(rows[name]["tachyon_us"] / rows[name]["raw_us"])

        def speedup(name: str) -> float:
            return float(rows[name]["starlette_us"] / rows[name]["tachyon_us"])

        if "plaintext" in rows:
            lines.append(f"| in-process plaintext ≤ 3× raw ASGI | {rel('plaintext'):.2f}× |")
        first = "route: first static of 120"
        if first in rows:
            for name in ("route: last param of 120", "route: 404 miss"):
                if name in rows:
                    lines.append(
                        f"| {name.split(': ')[1]} within 1.2× of the first route | "
                        f"{rows[name]['tachyon_us'] / rows[first]['tachyon_us']:.2f}× |"
                    )
        slowest = min(rows, key=speedup)
        lines.append(
            f"| every scenario faster than Starlette (in process) | lowest {speedup(slowest):.2f}× ({slowest}) |"
        )
        routing = [name for name in rows if name.startswith("route: ") and name != first]
        if routing:
            worst = min(routing, key=speedup)
            lines.append(f"| routing scenarios ≥ 20× Starlette | lowest {speedup(worst):.1f}× ({worst}) |")
    if http:
        rows_http = {r["scenario"]: r for r in http["rows"]}
        rows_counted = {r["scenario"]: r for r in counted["rows"]} if counted else {}
        for name, goal in (("plaintext", "0.85"), ("route: last param of 120", "0.8")):
            if name in rows_http:
                r = rows_http[name]
                by_cpu = (
                    f"; by server CPU per request {r['raw_cpu_us'] / r['tachyon_cpu_us']:.2f}×"
                    if "raw_cpu_us" in r
                    else ""
                )
                if name in rows_counted:
                    c = rows_counted[name]
                    by_cpu += f"; by instructions {c['raw_instructions'] / c['tachyon_instructions']:.2f}×"
                lines.append(
                    f"| over HTTP {name} ≥ {goal}× raw req/s | {r['tachyon_rps'] / r['raw_rps']:.2f}×{by_cpu} |"
                )
        for key, label in (("rss_warm_mib", "after the warm-up"), ("rss_mib", "after the run")):
            rss = http.get(key, {})
            if "tachyon" in rss and "starlette" in rss:
                lines.append(
                    f"| server RSS ≤ Starlette's ({label}) | {rss['tachyon']:.1f} vs {rss['starlette']:.1f} MiB |"
                )
    return lines


def plot() -> None:
    inproc = _load("inprocess")
    if not inproc:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = inproc["rows"]
    names = [r["scenario"] for r in rows]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(rows) + 1.5))
    ys = range(len(rows))
    height = 0.38
    ax.barh([y - height / 2 for y in ys], [r["starlette_us"] / r["raw_us"] for r in rows], height, label="Starlette")
    ax.barh([y + height / 2 for y in ys], [r["tachyon_us"] / r["raw_us"] for r in rows], height, label="Tachyon")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(list(ys), names)
    ax.invert_yaxis()
    ax.set_xlabel("time per request relative to raw ASGI (1.0 = the floor; lower is better)")
    ax.set_title("In-process cost per request, same run")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "inprocess.png", dpi=110)


def main() -> None:
    text = render()
    (RESULTS / "latest.md").write_text(text)
    plot()
    print(text)


if __name__ == "__main__":
    main()
