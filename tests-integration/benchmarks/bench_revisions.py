"""Tachyon at two git revisions, side by side, on the suite's in-process scenarios.

Each revision is checked out into a temporary ``git worktree`` (removed afterwards, also on an error or
Ctrl-C) and its C router is built there (``python packages/tachyon-router/src/tachyon_router/_build.py``, run
from that checkout). ``--after WORKTREE`` (or ``--before WORKTREE``) takes this working tree as it is instead.
Both sides run the *current* tree's scenarios (``scenarios.py``) and Tachyon app (``apps/``), so only the
framework's code differs. Each side runs in child processes whose ``PYTHONPATH`` puts that checkout's
``packages/*/src`` first; the child checks that every loaded ``tachyon*`` module and the router's native
extension come from that checkout (and that the native backend is in use), and stops with an error otherwise.

Timed (default): both children stay up; every round visits every scenario (order rotating) and both sides
(order alternating) in short batches, the best batch is kept, as in ``bench_inprocess.py``. Only one child
runs at a time.
``--instructions``: each side runs once under valgrind's callgrind, counted the way ``bench_inprocess.py
--instructions`` counts (its worker: for each scenario, after a warm-up, the counters are zeroed, N requests made
and the counters dumped): instructions per request, deterministic on a loaded machine (the 1 MiB upload moves by
a few % between runs of the same code).
``--profile``: for each selected scenario and function, per request, the Python bytecodes executed and the
calls made (both deterministic) and cProfile's own time, before against after: where a difference comes from.

    python tests-integration/benchmarks/bench_revisions.py [--before 79b7f39] [--after HEAD] [--rounds 15]
    python tests-integration/benchmarks/bench_revisions.py --instructions [--requests 300] [-k SUBSTRING]
    python tests-integration/benchmarks/bench_revisions.py --profile -k "route: 404" [--requests 5000]

``--before HEAD --after HEAD`` measures the same code twice: the noise of the method on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORKTREE = "WORKTREE"
PACKAGES = ("tachyon", "tachyon_http", "tachyon_router", "tachyon_ws", "tachyon_testclient")
NATIVE = "tachyon_router._tachyon_router_native"
WARM_UP = 100
sys.path.insert(0, str(HERE))

from scenarios import SCENARIOS, Scenario  # noqa: E402


@dataclass
class Side:
    label: str  # "before" / "after"
    rev: str  # as given on the command line
    commit: str  # full hash (of HEAD for the working tree)
    path: Path  # the checkout whose packages/*/src the children import

    @property
    def title(self) -> str:
        return f"{self.label} ({self.rev}, {self.commit[:9]})"


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def resolve(rev: str) -> str:
    try:
        return git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"not a git revision of {ROOT}: {rev!r}") from None


@contextlib.contextmanager
def checkouts(revisions: dict[str, str]) -> Iterator[list[Side]]:
    """A built checkout per side (label -> revision), removed on the way out whatever happens."""
    tmp = Path(tempfile.mkdtemp(prefix="tachyon-bench-revisions-"))
    added: list[Path] = []
    try:
        sides = []
        for label, rev in revisions.items():
            if rev == WORKTREE:
                side = Side(label, "working tree", resolve("HEAD"), ROOT)
            else:
                path = tmp / label
                git("worktree", "add", "--detach", str(path), resolve(rev))
                added.append(path)
                side = Side(label, rev, resolve(rev), path)
            print(f"building the C router of {side.title} in {side.path}", file=sys.stderr, flush=True)
            built = subprocess.run(
                [sys.executable, "packages/tachyon-router/src/tachyon_router/_build.py"],
                cwd=side.path,
                capture_output=True,
                text=True,
            )
            if built.returncode != 0:
                raise SystemExit(f"building the C router of {side.title} failed:\n{built.stdout}{built.stderr}")
            sides.append(side)
        yield sides
    finally:
        for path in added:
            removed = subprocess.run(
                ["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True, text=True
            )
            if removed.returncode != 0:
                print(f"git worktree remove {path}: {removed.stderr.strip()}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False)


def child_env(side: Side) -> dict[str, str]:
    sources = sorted(str(src) for src in side.path.glob("packages/*/src"))
    if not sources:
        raise SystemExit(f"{side.title}: no packages/*/src in {side.path}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*sources, *filter(None, [env.get("PYTHONPATH")])])
    env["TACHYON_ROUTER_BACKEND"] = "native"
    env["TACHYON_ROUTER_REQUIRE_NATIVE"] = "1"
    env["PYTHONHASHSEED"] = "0"  # the same string hashes on both sides and in every run
    return env


def child_command(side: Side, mode: str, *extra: str) -> list[str]:
    return [sys.executable, __file__, "--child", mode, "--checkout", str(side.path), *extra]


def load_avg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


# --- in the child ----------------------------------------------------------------------------------------


def verify(checkout: Path) -> dict[str, str]:
    """Fail unless every loaded Tachyon module and the native router come from ``checkout``."""
    import tachyon
    import tachyon_router

    root = checkout.resolve()
    wrong = []
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in PACKAGES:
            continue
        if name in (f"{NATIVE}.lib", f"{NATIVE}.ffi") and module is getattr(sys.modules[NATIVE], name[-3:]):
            continue  # cffi registers the extension's `lib` and `ffi` objects in sys.modules too
        file = getattr(module, "__file__", None)
        if file is None or not Path(file).resolve().is_relative_to(root):
            wrong.append(f"{name} from {file}")
    native = sys.modules.get(NATIVE)
    if tachyon_router.backend != "native" or native is None:
        wrong.append(f"router backend {tachyon_router.backend!r}, native extension loaded: {native is not None}")
    if wrong:
        raise SystemExit(f"not the code of {root}:\n  " + "\n  ".join(wrong))
    return {"tachyon": str(tachyon.__file__), "native": str(native.__file__ if native else None)}


def load_app(checkout: Path) -> Any:
    from apps import load

    app = load("tachyon")
    verify(checkout)
    return app


def scenario_named(name: str) -> Scenario:
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise SystemExit(f"no scenario {name!r}")


async def warm(app: Any, scenario: Scenario, target_ms: float) -> int:
    """Check the answer, warm up, and size a batch of about ``target_ms``."""
    from bench_inprocess import batch, calibrate

    size = (await calibrate({"tachyon": app}, scenario, target_ms))["tachyon"]
    await batch(app, scenario, WARM_UP)
    return size


async def serve(checkout: Path, protocol: IO[str]) -> None:
    """Timed side: answer the parent's requests (JSON lines on stdin) until stdin closes."""
    from bench_inprocess import batch

    app = load_app(checkout)
    for line in sys.stdin:
        request = json.loads(line)
        scenario = scenario_named(request["scenario"]) if "scenario" in request else None
        if request["do"] == "verify":
            answer: Any = verify(checkout)
        elif request["do"] == "warm" and scenario is not None:
            answer = await warm(app, scenario, request["target_ms"])
        elif request["do"] == "batch" and scenario is not None:
            answer = await batch(app, scenario, request["n"])
        else:
            raise SystemExit(f"unknown request {request!r}")
        protocol.write(json.dumps(answer) + "\n")
        protocol.flush()


def count(checkout: Path, names: list[str], requests: int) -> None:
    """Under callgrind: ``bench_inprocess.py --instructions``' worker on the Tachyon app, then the check that it
    ran this checkout's code (an error exit otherwise, which fails the run)."""
    from bench_inprocess import instructions_worker

    instructions_worker("tachyon", names, requests)
    verify(checkout)


def where(filename: str, checkout: Path) -> str:
    path = Path(filename)
    if not path.is_absolute():
        return filename  # built-ins: "~"
    resolved = path.resolve()
    if resolved.is_relative_to(checkout):
        return str(resolved.relative_to(checkout))
    if resolved.is_relative_to(HERE):
        return "benchmarks/" + str(resolved.relative_to(HERE))
    return path.name  # the standard library, site-packages


BYTECODE_REQUESTS = 20  # requests traced opcode by opcode (the count per request is deterministic)


async def bytecodes(app: Any, scenario: Scenario, requests: int) -> dict[Any, int]:
    """Bytecode instructions executed per code object over ``requests`` requests."""
    from bench_inprocess import batch

    counts: dict[Any, int] = {}

    def trace(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            counts[frame.f_code] = counts.get(frame.f_code, 0) + 1
        return trace

    sys.settrace(trace)
    try:
        await batch(app, scenario, requests)
    finally:
        sys.settrace(None)
    return counts


async def profile(checkout: Path, names: list[str], requests: int, report: Path) -> None:
    """Per scenario and function, per request: calls and own µs (cProfile over ``requests`` requests), and
    bytecode instructions executed (``sys.settrace`` with opcode events, over a few requests)."""
    import cProfile
    import pstats

    from bench_inprocess import batch

    app = load_app(checkout)
    root = checkout.resolve()
    found: dict[str, dict[str, list[float]]] = {}
    for name in names:
        scenario = scenario_named(name)
        await warm(app, scenario, 1.0)
        opcodes = await bytecodes(app, scenario, BYTECODE_REQUESTS)
        # Functions are named by file and qualified name, without line numbers, so that a function that kept its
        # name and file lines up on both sides (cProfile knows the plain name only: mapped through the traced code).
        qualnames = {(code.co_filename, code.co_firstlineno, code.co_name): code.co_qualname for code in opcodes}
        rows: dict[str, list[float]] = {}
        for code, executed in opcodes.items():
            key = f"{where(code.co_filename, root)}:{code.co_qualname}"
            rows.setdefault(key, [0.0, 0.0, 0.0])[2] += executed / BYTECODE_REQUESTS
        profiler = cProfile.Profile()
        profiler.enable()
        await batch(app, scenario, requests)
        profiler.disable()
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        for (filename, line, function), (_, calls, own, _, _) in stats.items():
            qualname = qualnames.get((filename, line, function), function if line == 0 else f"{function}@{line}")
            row = rows.setdefault(f"{where(filename, root)}:{qualname}", [0.0, 0.0, 0.0])
            row[0] += calls / requests
            row[1] += own * 1e6 / requests
        found[name] = rows
    verify(checkout)
    report.write_text(json.dumps(found))


def child(mode: str, checkout: Path, names: list[str], requests: int, report: Path | None) -> None:
    if mode == "serve":
        protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w")
        sys.stdout = sys.stderr  # anything the app prints must not break the protocol
        asyncio.run(serve(checkout, protocol))
    elif mode == "verify" and report is not None:
        load_app(checkout)
        report.write_text(json.dumps(verify(checkout)))
    elif mode == "count":
        count(checkout, names, requests)
    elif mode == "profile" and report is not None:
        asyncio.run(profile(checkout, names, requests, report))
    else:
        raise SystemExit(f"bad child mode {mode!r}")


# --- in the parent ---------------------------------------------------------------------------------------


class Server:
    """A timed side's child process, asked one thing at a time."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.process = subprocess.Popen(
            child_command(side, "serve"), env=child_env(side), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, do: str, **fields: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"do": do, **fields}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.side.title} child stopped (exit {self.process.wait()}); see above")
        return json.loads(line)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def timed(sides: list[Side], names: list[str], rounds: int, target_ms: float) -> dict[str, dict[str, float]]:
    servers: list[Server] = []
    try:
        for side in sides:
            servers.append(Server(side))
        for server in servers:
            show_origin(server.side, server.ask("verify"))
        # The same batch size on both sides: the larger of the two calibrated sizes.
        sizes = {name: max(s.ask("warm", scenario=name, target_ms=target_ms) for s in servers) for name in names}
        best = {side.label: dict.fromkeys(names, float("inf")) for side in sides}
        for r in range(rounds):
            shift = r % len(names)
            for name in names[shift:] + names[:shift]:
                for server in servers if r % 2 == 0 else servers[::-1]:
                    cell = best[server.side.label]
                    cell[name] = min(cell[name], server.ask("batch", scenario=name, n=sizes[name]))
        for server in servers:
            server.ask("verify")  # modules imported lazily during the run: still the right tree
        return best
    finally:
        for server in servers:
            server.close()


def run_child(side: Side, mode: str, names: list[str], requests: int) -> Any:
    """Run a child to its end; its report, or an error with the end of its stderr."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = child_command(side, mode, "--requests", str(requests), "--report", str(report))
        for name in names:
            command += ["--scenario", name]
        done = subprocess.run(command, env=child_env(side), capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"the {side.title} child failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
        return json.loads(report.read_text())


def counted(side: Side, names: list[str], requests: int) -> dict[str, float]:
    """Instructions per request of each scenario on ``side``, under callgrind."""
    from bench_fastapi_path import callgrind_per_request

    # First without valgrind: a child on the wrong code stops here with its reason on show.
    show_origin(side, run_child(side, "verify", [], requests))
    command = child_command(side, "count", "--requests", str(requests))
    for name in names:
        command += ["--scenario", name]
    saved = dict(os.environ)
    os.environ.update(child_env(side))  # callgrind_per_request runs valgrind in this environment
    try:
        found = callgrind_per_request(command, names, requests)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {name: found[name] for name in names}


def show_origin(side: Side, origin: dict[str, str]) -> None:
    for what, file in origin.items():
        if not Path(file).resolve().is_relative_to(side.path.resolve()):
            raise SystemExit(f"{side.title}: {what} from {file}, not from {side.path}")
    print(f"{side.title}: tachyon from {origin['tachyon']}, native router {origin['native']}", file=sys.stderr)


def table(sides: list[Side], figures: dict[str, dict[str, float]], names: list[str], unit: str, fmt: str) -> None:
    before, after = sides
    print(f"| scenario | {before.title}, {unit} | {after.title}, {unit} | change |")
    print("|---|---:|---:|---:|")
    for name in names:
        old, new = figures[before.label][name], figures[after.label][name]
        print(f"| {name} | {old:{fmt}} | {new:{fmt}} | {100 * (new - old) / old:+.1f}% |")


def show_profile(sides: list[Side], found: dict[str, Any], names: list[str], top: int) -> None:
    before, after = sides
    for name in names:
        old, new = found[before.label][name], found[after.label][name]
        totals = [(sum(v[i] for v in old.values()), sum(v[i] for v in new.values())) for i in (1, 2)]
        print(f"\n{name}, per request, before -> after: cProfile own time {totals[0][0]:.2f} -> {totals[0][1]:.2f} µs;")
        print(f"  Python bytecodes executed {totals[1][0]:.0f} -> {totals[1][1]:.0f}")
        print(f"  {'bytecodes':>17} {'calls':>11} {'Δ own µs':>9}  function")
        rows = []
        for key in old.keys() | new.keys():
            was, now = old.get(key, [0.0, 0.0, 0.0]), new.get(key, [0.0, 0.0, 0.0])
            rows.append((was, now, key))
        # Deterministic differences first (bytecodes, then calls), then own time.
        rows.sort(
            key=lambda row: (-abs(row[1][2] - row[0][2]), -abs(row[1][0] - row[0][0]), -abs(row[1][1] - row[0][1]))
        )
        for was, now, key in rows[:top]:
            print(f"  {was[2]:8.1f}->{now[2]:<8.1f} {was[0]:5.2f}->{now[0]:<5.2f} {now[1] - was[1]:+9.3f}  {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="79b7f39", help=f"git revision, or {WORKTREE} for this working tree")
    parser.add_argument("--after", default="HEAD", help=f"git revision, or {WORKTREE} for this working tree")
    parser.add_argument("--instructions", action="store_true", help="count instructions under callgrind")
    parser.add_argument("--profile", action="store_true", help="cProfile by function, before against after")
    parser.add_argument("--rounds", type=int, default=15, help="timed: interleaved rounds")
    parser.add_argument("--target-ms", type=float, default=20.0, help="timed: duration of one batch")
    parser.add_argument("--requests", type=int, help="measured requests per scenario (300; --profile: 5000)")
    parser.add_argument("--top", type=int, default=15, help="--profile: functions shown per scenario")
    parser.add_argument("-k", default="", help="only scenarios whose name contains this")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--child", choices=("serve", "verify", "count", "profile"), help=argparse.SUPPRESS)
    parser.add_argument("--checkout", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scenario", action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    requests = args.requests or (5000 if args.profile else 300)
    if args.child:
        child(args.child, args.checkout, args.scenario, requests, args.report)
        return

    names = [scenario.name for scenario in SCENARIOS if args.k in scenario.name]
    if not names:
        raise SystemExit(f"no scenario name contains {args.k!r}")
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (Debian package `valgrind`)")
    # SIGTERM unwinds like Ctrl-C, so the temporary worktrees are removed either way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started, load_start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), load_avg()
    with checkouts({"before": args.before, "after": args.after}) as sides:
        if args.instructions:
            figures = {side.label: counted(side, names, requests) for side in sides}
        elif args.profile:
            found = {side.label: run_child(side, "profile", names, requests) for side in sides}
        else:
            figures = timed(sides, names, args.rounds, args.target_ms)
    ended = time.strftime("%H:%M UTC", time.gmtime())
    mode = (
        f"instructions per request (callgrind; {WARM_UP}+ warm-up, {requests} measured)"
        if args.instructions
        else f"cProfile, {requests} requests"
        if args.profile
        else f"µs per request, best of {args.rounds} interleaved rounds of {args.target_ms:g} ms batches"
    )
    print(f"{started} – {ended}; {mode}; load average {load_start} at the start, {load_avg()} at the end")
    print(f"Python {sys.version.split()[0]}; both sides run the scenarios and app of {HERE.relative_to(ROOT)}")
    if args.profile:
        show_profile(sides, found, names, args.top)
        return
    if args.instructions:
        table(sides, figures, names, "instructions", ",.0f")
    else:
        table(sides, figures, names, "µs", ".2f")
    if args.json:
        meta = {"started": started, "ended": ended, "mode": mode, "load": [load_start, load_avg()]}
        sides_meta = {side.label: {"rev": side.rev, "commit": side.commit} for side in sides}
        args.json.write_text(json.dumps({"meta": meta, "sides": sides_meta, "figures": figures}, indent=2) + "\n")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit("interrupted (the temporary worktrees are removed)") from None
