#!/usr/bin/env python3
"""Run Starlette 1.10.0's own test suite against Tachyon (through tachyon.compat) and against Starlette.

Usage (from the repository root, with the development environment's interpreter):

    python tests-integration/conformance/run.py                         # everything, both sides
    python tests-integration/conformance/run.py test_requests.py        # one file (both sides)
    python tests-integration/conformance/run.py --tachyon-only test_requests.py -k cookies
    python tests-integration/conformance/run.py -- -x --tb=long         # extra pytest arguments

See README.md beside this file. Exit status: 0 when every test that passes on Starlette also passes on
Tachyon (or is listed in expected_differences.toml), 1 otherwise, 2 for a usage or setup error.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import venv
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = Path(os.environ.get("TACHYON_CONFORMANCE_CACHE", str(HERE / ".cache")))
EXPECTED_FILE = HERE / "expected_differences.toml"
PLUGIN = "tachyon_conformance_plugin"

STARLETTE_VERSION = "1.10.0"
SDIST_NAME = f"starlette-{STARLETTE_VERSION}.tar.gz"
# sha256 of the sdist PyPI serves for starlette 1.10.0: a different file is never used.
SDIST_SHA256 = "b8399098d4c1e3522734f7235dc79b1fc967f96cf139c81e0fa30479e0685f9b"

# Test dependencies of Starlette's suite. Those also installed on the Tachyon side are pinned to the same
# version there, so both runs use the same pytest/anyio/trio/httpx2...; the rest is pinned here.
SHARED_TEST_DEPS = (
    "pytest",
    "anyio",
    "trio",
    "httpx2",
    "httpx",  # test_opentelemetry.py imports it directly
    "jinja2",
    "itsdangerous",
    "pyyaml",
    "typing_extensions",
    "opentelemetry-api",
    "opentelemetry-sdk",
)
# Shared too, but only installed on some Pythons: pinned when the Tachyon side has them.
SHARED_CONDITIONAL_DEPS = (
    # httpx2[zstd] (Starlette's dev dependencies) on Python <= 3.13: the expected Accept-Encoding has zstd.
    "backports-zstd",
    # Optional in Starlette's dev dependencies: when the Tachyon side has it, both sides watch for
    # blocking calls in the event loop (the plugin points it at Tachyon's code on the Tachyon side).
    "blockbuster",
    "forbiddenfruit",
)
REFERENCE_ONLY_DEPS = (
    f"starlette=={STARLETTE_VERSION}",
    # Starlette parses forms with python-multipart (Tachyon uses its own parser).
    "python-multipart==0.0.34",
    "importlib-metadata==10.2.0",
)

# One test that hangs must not eat the CI budget: each test gets this many seconds (SIGALRM in the plugin).
DEFAULT_TEST_TIMEOUT_S = 60
# And each whole pytest run this many (Starlette's suite takes well under a minute per side).
DEFAULT_RUN_TIMEOUT_S = 1500
# How often the runner looks whether a pytest run has finished (durations are measured to this precision).
POLL_INTERVAL_S = 0.1
# Run directories (tests copy, logs, JUnit files) of finished runs are removed after this long.
RUN_DIR_MAX_AGE_S = 6 * 3600

# Owners of the areas, for grouping failures. First by the deepest Tachyon frame of the failure, else by
# the test file.
FILE_OWNERS = {
    "tests/test__utils.py": "http-core",
    "tests/test_background.py": "http-core",
    "tests/test_concurrency.py": "http-core",
    "tests/test_datastructures.py": "http-core",
    "tests/test_formparsers.py": "http-core",
    "tests/test_requests.py": "http-core",
    "tests/test_status.py": "http-core",
    "tests/test_responses.py": "http-responses",
    "tests/test_websockets.py": "ws-testclient",
    "tests/test_testclient.py": "ws-testclient",
    "tests/test_convertors.py": "router",
    "tests/test_applications.py": "app-core",
    "tests/test_routing.py": "app-core",
    "tests/test_endpoints.py": "app-core",
    "tests/test_exceptions.py": "app-core",
    "tests/middleware/test_errors.py": "app-core",
    "tests/middleware/test_middleware.py": "app-core",
}
DEFAULT_FILE_OWNER = "app-extras"
MODULE_OWNERS = (
    # (prefix of the module path inside the packages, owner); first match wins.
    ("tachyon_http/responses", "http-responses"),
    ("tachyon_http/", "http-core"),
    ("tachyon_ws/", "ws-testclient"),
    ("tachyon_testclient/", "ws-testclient"),
    ("tachyon_router/", "router"),
    ("tachyon/compat", "conformance"),
    ("tachyon/applications", "app-core"),
    ("tachyon/routing", "app-core"),
    ("tachyon/endpoints", "app-core"),
    ("tachyon/_exception_handler", "app-core"),
    ("tachyon/middleware/errors", "app-core"),
    ("tachyon/middleware/exceptions", "app-core"),
    ("tachyon/middleware/__init__", "app-core"),
    ("tachyon/", "app-extras"),
)
_TACHYON_FRAME = re.compile(r"(?:src|site-packages)/(tachyon(?:_http|_ws|_testclient|_router)?/[\w/]+)\.py:\d+")
# tachyon.compat's message when the Tachyon module behind a starlette name does not import.
_MISSING_TARGET = re.compile(r"served by Tachyon's '([\w.]+)'|No module named '(tachyon[\w.]*)'")

PYTEST_INI_COMMON = """\
[pytest]
# Starlette's own settings (pyproject.toml of starlette 1.10.0), plus what the comparison needs.
addopts = -rXs --strict-config --strict-markers
xfail_strict = true
junit_family = xunit1
"""
# Starlette's filterwarnings, verbatim, for both runs: under the switch Tachyon's messages name Starlette's modules,
# and starlette.exceptions.StarletteDeprecationWarning is Tachyon's warning class.
STARLETTE_FILTERWARNINGS = (
    "error",
    "ignore: run_until_first_complete is deprecated and will be removed in a future version."
    ":starlette.exceptions.StarletteDeprecationWarning",
    "ignore: starlette.middleware.wsgi is deprecated and will be removed in a future release.*"
    ":starlette.exceptions.StarletteDeprecationWarning",
    "ignore: Use 'content=<...>' to upload raw bytes/text content.:DeprecationWarning",
    "ignore: Using `httpx` with `starlette.testclient` is deprecated.*"
    ":starlette.exceptions.StarletteDeprecationWarning",
)


class SetupError(Exception):
    """The run cannot start (download, hash, environment)."""


# --------------------------------------------------------------------------------------------- sources


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_sdist(python: str) -> Path:
    """The verified sdist in the cache, downloaded from PyPI with pip the first time."""
    CACHE.mkdir(parents=True, exist_ok=True)
    target = CACHE / SDIST_NAME
    if target.exists() and sha256_of(target) == SDIST_SHA256:
        return target
    if python == sys.executable and importlib.util.find_spec("pip") is None:
        # An environment built without pip (e.g. by uv): the reference venv always has it.
        python = ensure_reference_env()
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        cmd = [python, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        cmd += ["--dest", tmp, f"starlette=={STARLETTE_VERSION}"]
        log(f"downloading {SDIST_NAME}: {' '.join(cmd)}")
        proc = subprocess.run(cmd, capture_output=True, text=True)
        downloaded = Path(tmp) / SDIST_NAME
        if proc.returncode != 0 or not downloaded.exists():
            raise SetupError(f"pip download failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        actual = sha256_of(downloaded)
        if actual != SDIST_SHA256:
            raise SetupError(f"{SDIST_NAME}: sha256 {actual} does not match the pinned {SDIST_SHA256}")
        shutil.move(downloaded, target)
    return target


def ensure_tests(sdist: Path) -> Path:
    """Starlette's tests/ folder (only that) unpacked from the sdist into the cache."""
    root = CACHE / f"starlette-{STARLETTE_VERSION}-tests"
    marker = root / ".sha256"
    if marker.exists() and marker.read_text() == SDIST_SHA256:
        return root / "tests"
    shutil.rmtree(root, ignore_errors=True)
    prefix = f"starlette-{STARLETTE_VERSION}/tests/"
    with tarfile.open(sdist, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        if not members:
            raise SetupError(f"{sdist} has no {prefix}")
        for member in members:
            member.name = member.name[len(f"starlette-{STARLETTE_VERSION}/") :]
        tar.extractall(root, members=members, filter="data")
    marker.write_text(SDIST_SHA256)
    return root / "tests"


# ----------------------------------------------------------------------------------------- environments


def shared_pins() -> list[str]:
    """`name==version` of the shared test dependencies as installed on the Tachyon side."""
    pins = []
    for name in SHARED_TEST_DEPS:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            raise SetupError(
                f"{name} is not installed in the Tachyon environment ({sys.executable}); Starlette's test "
                "suite needs it on both sides"
            ) from None
    for name in SHARED_CONDITIONAL_DEPS:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return pins


def ensure_reference_env() -> str:
    """Python of a venv (in the cache) with the real Starlette 1.10.0 and its test dependencies."""
    # One per Python version: both sides of a comparison run on the same Python (the test matrix runs 3.11-3.13).
    env_dir = CACHE / f"venv-starlette-{STARLETTE_VERSION}-py{sys.version_info.major}.{sys.version_info.minor}"
    python = env_dir / "bin" / "python"
    requirements = sorted([*shared_pins(), *REFERENCE_ONLY_DEPS])
    lock = env_dir / "requirements.installed.txt"
    wanted = "\n".join(requirements) + "\n"
    if python.exists() and lock.exists() and lock.read_text() == wanted:
        # A venv that was moved or whose base interpreter changed no longer runs: rebuild it then.
        probe = subprocess.run([str(python), "-c", "import starlette, pytest"], capture_output=True)
        if probe.returncode == 0:
            return str(python)
    log(f"creating the reference environment in {env_dir}")
    shutil.rmtree(env_dir, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SetupError(f"installing the reference environment failed:\n{proc.stdout}\n{proc.stderr}")
    lock.write_text(wanted)
    return str(python)


# ------------------------------------------------------------------------------------------- pytest runs


@dataclasses.dataclass
class Side:
    name: str  # "starlette" or "tachyon"
    python: str
    workdir: Path
    junit: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    duration: float = 0.0
    returncode: int | None = None


@contextlib.contextmanager
def cache_lock() -> Iterator[None]:
    """Serialises setup and result-cache updates between runs started at the same time by several people."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def new_run_dir() -> Path:
    """A directory of this invocation's own (runs may overlap); `runs/latest` points at the newest one."""
    runs = CACHE / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in runs.iterdir():
        # Finished runs of others are kept a while for their logs, then removed.
        if old.is_dir() and not old.is_symlink() and now - old.stat().st_mtime > RUN_DIR_MAX_AGE_S:
            shutil.rmtree(old, ignore_errors=True)
    run_dir = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=runs))
    link = runs / f".latest-{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(run_dir.name)
    os.replace(link, runs / "latest")
    return run_dir


def prepare_workdir(side: str, tests: Path, run_dir: Path) -> Path:
    workdir = run_dir / side
    workdir.mkdir(parents=True)
    shutil.copytree(tests, workdir / "tests")
    filters = STARLETTE_FILTERWARNINGS
    ini = PYTEST_INI_COMMON + "filterwarnings =\n" + "".join(f"    {f}\n" for f in filters)
    (workdir / "pytest.ini").write_text(ini)
    return workdir


def start(
    side: Side,
    selection: Sequence[str],
    keyword: str | None,
    extra: Sequence[str],
    timeout_s: int,
    extra_env: dict[str, str] | None = None,
) -> None:
    cmd = [side.python, "-m", "pytest", "-p", PLUGIN, "-p", "anyio.pytest_plugin", "-p", "no:cacheprovider"]
    cmd += ["--junitxml", str(side.junit), "--tb=short", "-q", "--continue-on-collection-errors"]
    if keyword:
        cmd += ["-k", keyword]
    cmd += [*extra, *(selection or ["tests"])]
    env = dict(os.environ)
    # Only the plugins named above: the same set on both sides whatever else is installed.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONPATH"] = str(HERE)
    if side.name == "tachyon":
        # Tachyon's side starts under the switch (its start-up hook, as `python -m tachyon.compat` gives child
        # processes): pytest resolves the filterwarnings categories (starlette.exceptions.
        # StarletteDeprecationWarning) before it loads any plugin, and that import must already be Tachyon's.
        # Not `python -m tachyon.compat -m pytest`: its frame would stay under every test, and blockbuster
        # flags any blocking call with a frame of a scanned package (tachyon) on the stack.
        from tachyon import compat

        env[compat.ENV_VAR] = "1"
        env["PYTHONPATH"] = os.pathsep.join([compat._CHILD_BOOT_DIR, str(HERE)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["TACHYON_CONFORMANCE_SIDE"] = side.name
    env["TACHYON_CONFORMANCE_TEST_TIMEOUT"] = str(timeout_s)
    env.pop("PYTEST_ADDOPTS", None)
    env.update(extra_env or {})
    side.junit.unlink(missing_ok=True)
    with side.log.open("wb") as out:
        side.started = time.monotonic()
        side.proc = subprocess.Popen(cmd, cwd=side.workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    log(f"[{side.name}] {' '.join(cmd)}  (log: {side.log})")


def wait(sides: Sequence[Side], run_timeout_s: int) -> None:
    """Wait for every started side, noting when each one finishes (they may run in parallel)."""
    running = [side for side in sides if side.proc is not None and side.returncode is None]
    while running:
        for side in list(running):
            assert side.proc is not None
            elapsed = time.monotonic() - side.started
            code = side.proc.poll()
            if code is None and elapsed > run_timeout_s:
                side.proc.kill()
                code = side.proc.wait()
                log(f"[{side.name}] killed after {run_timeout_s}s")
            if code is not None:
                side.returncode = code
                side.duration = elapsed
                running.remove(side)
                log(f"[{side.name}] pytest exited {code} after {elapsed:.1f}s")
        if running:
            time.sleep(POLL_INTERVAL_S)


# -------------------------------------------------------------------------------------------- results


@dataclasses.dataclass
class Result:
    outcome: str  # passed, failed, error, skipped, xfailed
    message: str = ""
    owner_hint: str = ""  # module path of the deepest Tachyon frame in the failure, if any
    seconds: float = 0.0  # as JUnit reports it (call + setup + teardown)


def _file_of(case: ET.Element) -> str:
    file = case.get("file")
    if file:
        return file
    # Collection errors carry no file attribute: the name is the dotted module.
    return case.get("name", "").replace(".", "/") + ".py"


def parse_junit(path: Path) -> dict[str, Result]:
    results: dict[str, Result] = {}
    if not path.exists():
        return results
    for case in ET.parse(path).getroot().iter("testcase"):
        file = _file_of(case)
        classname = case.get("classname", "")
        module = file[:-3].replace("/", ".") if file.endswith(".py") else file
        inner = classname[len(module) + 1 :] if classname.startswith(module + ".") else ""
        name = case.get("name", "")
        if not classname:  # collection error of a whole file
            node = f"{file}::<collection>"
        else:
            node = f"{file}::{inner + '::' if inner else ''}{name}"
        seconds = float(case.get("time") or 0.0)
        result = Result("passed", seconds=seconds)
        for child in case:
            if child.tag in ("failure", "error"):
                message = (child.get("message") or "").strip()
                if not classname or message == "collection failure":
                    # The message is just "collection failure": the cause is the last `E ` line.
                    e_lines = [ln[1:].strip() for ln in (child.text or "").splitlines() if ln.startswith("E ")]
                    message = f"collection failure: {e_lines[-1]}" if e_lines else message
                result = Result(
                    "failed" if child.tag == "failure" else "error",
                    message,
                    _deepest_tachyon_module(child.text or ""),
                    seconds,
                )
                break
            if child.tag == "skipped":
                kind = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
                result = Result(kind, (child.get("message") or "").strip(), seconds=seconds)
        # A teardown error is reported as a second <error> of the same case: errors win over a pass.
        previous = results.get(node)
        if previous is None or previous.outcome == "passed":
            results[node] = result
    return results


def _deepest_tachyon_module(text: str) -> str:
    missing: list[str] = [a or b for a, b in _MISSING_TARGET.findall(text)]
    if missing:  # blame the Tachyon module that is missing, not the code importing it
        return missing[-1].replace(".", "/")
    frames = [f for f in _TACHYON_FRAME.findall(text) if f != "tachyon/compat"]
    return frames[-1] if frames else ""


def _last_error_line(log_file: Path) -> str:
    text = log_file.read_text(errors="replace").splitlines()
    lines = [line[1:].strip() for line in text if line.startswith("E ")]
    if not lines:  # pytest's own crash (e.g. a plugin failed): the traceback's last line names the exception
        lines = [line.removeprefix("INTERNALERROR>").strip() for line in text if line.startswith("INTERNALERROR>")]
    return lines[-1] if lines else ""


def file_of_node(node: str) -> str:
    return node.split("::", 1)[0]


def owner_of(node: str, result: Result | None, default_owner: str = DEFAULT_FILE_OWNER) -> str:
    if result is not None and result.owner_hint:
        for prefix, owner in MODULE_OWNERS:
            if result.owner_hint.startswith(prefix):
                return owner
    return FILE_OWNERS.get(file_of_node(node), default_owner)


def load_expected(path: Path | None = None) -> dict[str, str]:
    path = EXPECTED_FILE if path is None else path
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    expected: dict[str, str] = {}
    for entry in data.get("difference", []):
        test, reason = entry.get("test"), entry.get("reason")
        if not isinstance(test, str) or not isinstance(reason, str) or not reason.strip():
            raise SetupError(f"{path}: every [[difference]] needs a `test` node id and a `reason`")
        expected[test] = reason
    return expected


def is_expected(node: str, expected: dict[str, str]) -> bool:
    # An entry without a parameter part covers every parametrization (asyncio and trio) of that test.
    return node in expected or node.split("[", 1)[0] in expected


@dataclasses.dataclass
class Comparison:
    per_file: dict[str, dict[str, Counter[str]]]
    regressions: dict[str, Result]  # node -> Tachyon result, passes on Starlette
    expected_hits: list[str]
    stale_expected: list[str]
    improvements: list[str]
    seconds: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)  # file -> side -> test time


def compare(
    reference: dict[str, Result], tachyon: dict[str, Result], expected: dict[str, str], keyword_used: bool
) -> Comparison:
    per_file: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: {"starlette": Counter(), "tachyon": Counter()})
    broken_files = {file_of_node(n): r for n, r in tachyon.items() if n.endswith("::<collection>")}
    seconds: dict[str, dict[str, float]] = {}
    regressions: dict[str, Result] = {}
    expected_hits: list[str] = []
    improvements: list[str] = []
    for node, ref_result in reference.items():
        per_file[file_of_node(node)]["starlette"][_bucket(ref_result.outcome)] += 1
        _add_seconds(seconds, file_of_node(node), "starlette", ref_result.seconds)
    for node, outcome in tachyon.items():
        if not node.endswith("::<collection>"):
            per_file[file_of_node(node)]["tachyon"][_bucket(outcome.outcome)] += 1
            _add_seconds(seconds, file_of_node(node), "tachyon", outcome.seconds)
    for file in broken_files:
        per_file[file]["tachyon"]["error"] += 1
    for node, ref in reference.items():
        if ref.outcome != "passed":
            continue
        got = tachyon.get(node)
        if got is None:
            broken = broken_files.get(file_of_node(node))
            if broken is not None:
                got = Result("error", f"collection error: {broken.message}", broken.owner_hint)
            elif keyword_used:
                continue  # not selected on this side
            else:
                got = Result("missing", "not run on Tachyon (not collected)")
        if got.outcome == "passed":
            continue
        if is_expected(node, expected):
            expected_hits.append(node)
        else:
            regressions[node] = got
    for node, outcome in tachyon.items():
        counterpart = reference.get(node)
        if outcome.outcome == "passed" and counterpart is not None and counterpart.outcome != "passed":
            improvements.append(node)
    hit_keys = set(expected_hits) | {n.split("[", 1)[0] for n in expected_hits}
    stale = sorted(e for e in expected if e not in hit_keys and any(_selected(e, n) for n in tachyon))
    return Comparison(dict(per_file), regressions, expected_hits, stale, improvements, seconds)


def _add_seconds(seconds: dict[str, dict[str, float]], file: str, side: str, value: float) -> None:
    per_side = seconds.setdefault(file, {"starlette": 0.0, "tachyon": 0.0})
    per_side[side] += value


def _selected(entry: str, node: str) -> bool:
    return node == entry or node.split("[", 1)[0] == entry


def _bucket(outcome: str) -> str:
    return {"xfailed": "skipped", "missing": "failed"}.get(outcome, outcome)


# --------------------------------------------------------------------------------------------- report


def _triple(counter: Counter[str]) -> str:
    if not counter:
        return "-"
    failed = counter["failed"] + counter["error"]
    return f"{counter['passed']}/{failed}/{counter['skipped']}"


def render(
    cmp: Comparison,
    durations: dict[str, float],
    expected: dict[str, str],
    *,
    top: int = 8,
    default_owner: str = DEFAULT_FILE_OWNER,
    only_differing: bool = False,
) -> str:
    lines = [
        "| test file | owner | Starlette p/f/s | Tachyon p/f/s | passes on Starlette, not on Tachyon "
        "| test time S / T (s) |"
    ]
    lines.append("|---|---|---|---|---|---|")
    total_seconds = {"starlette": 0.0, "tachyon": 0.0}
    regress_by_file = Counter(file_of_node(n) for n in cmp.regressions)
    totals = {"starlette": Counter[str](), "tachyon": Counter[str]()}
    for file in sorted(cmp.per_file):
        sides = cmp.per_file[file]
        totals["starlette"].update(sides["starlette"])
        totals["tachyon"].update(sides["tachyon"])
        owner = FILE_OWNERS.get(file, default_owner)
        times = cmp.seconds.get(file, {"starlette": 0.0, "tachyon": 0.0})
        total_seconds["starlette"] += times["starlette"]
        total_seconds["tachyon"] += times["tachyon"]
        if only_differing and sides["starlette"] == sides["tachyon"] and not regress_by_file.get(file):
            continue  # long suites: list only the files whose results differ
        lines.append(
            f"| {file} | {owner} | {_triple(sides['starlette'])} | {_triple(sides['tachyon'])} "
            f"| {regress_by_file.get(file, 0)} | {times['starlette']:.1f} / {times['tachyon']:.1f} |"
        )
    lines.append(
        f"| **total** | | {_triple(totals['starlette'])} | {_triple(totals['tachyon'])} | {len(cmp.regressions)} "
        f"| {total_seconds['starlette']:.1f} / {total_seconds['tachyon']:.1f} |"
    )
    lines.append("")
    lines.append("p/f/s = passed / failed+errors / skipped+xfailed.")
    if durations:
        lines.append("Durations: " + ", ".join(f"{side} {sec:.1f}s" for side, sec in durations.items()) + ".")
    if cmp.expected_hits:
        lines.append(f"Expected differences (expected_differences.toml) that occurred: {len(cmp.expected_hits)}.")
    if cmp.stale_expected:
        lines.append(
            "Entries of expected_differences.toml that now pass (remove them): " + ", ".join(cmp.stale_expected)
        )
    if cmp.improvements:
        lines.append(
            f"Pass on Tachyon but not on Starlette: {len(cmp.improvements)} ({', '.join(cmp.improvements[:5])})."
        )
    if cmp.regressions:
        lines.append("")
        lines.append("### Top failure reasons, by owner (owner = deepest Tachyon frame, else the test file)")
        grouped: dict[str, Counter[str]] = defaultdict(Counter)
        examples: dict[tuple[str, str], str] = {}
        for node, result in cmp.regressions.items():
            owner = owner_of(node, result, default_owner)
            reason = _reason(result)
            grouped[owner][reason] += 1
            examples.setdefault((owner, reason), node)
        for owner in sorted(grouped, key=lambda o: -sum(grouped[o].values())):
            lines.append(f"- **{owner}** ({sum(grouped[owner].values())} tests)")
            for reason, count in grouped[owner].most_common(top):
                lines.append(f"  - {count} × `{reason}` (e.g. {examples[(owner, reason)]})")
    return "\n".join(lines) + "\n"


def _reason(result: Result) -> str:
    message = result.message.splitlines()[0] if result.message else result.outcome
    # Numbers, addresses and quoted values vary per test; drop them so equal causes group together.
    message = re.sub(r"0x[0-9a-f]+", "0x…", message)
    where = f" [{result.owner_hint}]" if result.owner_hint else ""
    return (message[:160] + ("…" if len(message) > 160 else "")).replace("`", "'") + where


# ------------------------------------------------------------------------------------------- main flow


def log(message: str) -> None:
    print(f"conformance: {message}", file=sys.stderr, flush=True)


def normalise_selection(items: Iterable[str], tests: Path) -> list[str]:
    """`test_requests.py`, `middleware/test_cors.py`, `tests/test_x.py::test_y` -> paths under tests/."""
    selection = []
    for item in items:
        path, sep, rest = item.partition("::")
        candidates = [path, f"tests/{path}"]
        candidates += [str(p.relative_to(tests.parent)) for p in tests.rglob(Path(path).name)]
        for candidate in candidates:
            if (tests.parent / candidate).exists():
                selection.append(candidate + sep + rest)
                break
        else:
            raise SetupError(f"no test file {path!r} in Starlette's tests/")
    return selection


def load_cache(path: Path) -> dict[str, Result]:
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    return {node: Result(**value) for node, value in raw["results"].items()}


def save_cache(path: Path, results: dict[str, Result], meta: dict[str, object]) -> None:
    payload = {"meta": meta, "results": {n: dataclasses.asdict(r) for n, r in sorted(results.items())}}
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(payload, indent=1))
    os.replace(partial, path)  # readers never see half a file


def merge(
    cached: dict[str, Result], fresh: dict[str, Result], files: set[str] | None, keyword: bool
) -> dict[str, Result]:
    """Fresh results replace the cached ones of the files run (or, with -k, of the tests run)."""
    if files is None and not keyword:
        return dict(fresh)
    kept = {n: r for n, r in cached.items() if keyword or file_of_node(n) not in files}  # type: ignore[operator]
    kept.update(fresh)
    return kept


def cached_report(args: argparse.Namespace) -> int:
    reference = load_cache(CACHE / "results-starlette.json")
    tachyon_results = load_cache(CACHE / "results-tachyon.json")
    if not reference or not tachyon_results:
        log(f"no cached results in {CACHE}: run the suite first")
        return 2
    cmp = compare(reference, tachyon_results, load_expected(), keyword_used=False)
    report = render(cmp, {}, load_expected())
    print(report)
    if args.report:
        args.report.write_text(report)
    return 1 if cmp.regressions else 0


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description="Run Starlette's test suite against Tachyon and against Starlette, and compare.",
        epilog="Arguments after `--` (and unknown options) are passed to both pytest runs.",
    )
    parser.add_argument("files", nargs="*", help="test files (e.g. test_requests.py, middleware/test_cors.py)")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression, for both runs")
    parser.add_argument(
        "--tachyon-only",
        action="store_true",
        help="skip the Starlette run; compare against its cached results (.cache/results-starlette.json here)",
    )
    parser.add_argument(
        "--cached-report",
        action="store_true",
        help="run nothing: compare the cached results of the latest run of every test on both sides",
    )
    parser.add_argument(
        "--tachyon-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment variable for the Tachyon side only (e.g. TACHYON_ROUTER_BACKEND=python); repeatable",
    )
    parser.add_argument("--serial", action="store_true", help="run the two sides one after the other")
    parser.add_argument("--report", type=Path, help="also write the markdown table to this file")
    parser.add_argument("--test-timeout", type=int, default=DEFAULT_TEST_TIMEOUT_S, help="seconds per test")
    parser.add_argument("--run-timeout", type=int, default=DEFAULT_RUN_TIMEOUT_S, help="seconds per pytest run")
    parser.add_argument("--list-failures", action="store_true", help="print every regression with its message")
    args, extra = parser.parse_known_args(argv)
    if "--" in extra:
        extra.remove("--")
    return args, extra


def main(argv: Sequence[str] | None = None) -> int:
    args, extra = parse_args(sys.argv[1:] if argv is None else argv)
    if args.cached_report:
        return cached_report(args)
    try:
        if importlib.util.find_spec("tachyon") is None or importlib.util.find_spec("pytest") is None:
            raise SetupError(
                f"{sys.executable} has no Tachyon/pytest: run this script with the development environment's Python "
                "(e.g. `hatch run conformance`)"
            )
        with cache_lock():
            tests = ensure_tests(ensure_sdist(sys.executable))
            reference_python = None if args.tachyon_only else ensure_reference_env()
        selection = normalise_selection(args.files, tests)
        expected = load_expected()
    except SetupError as exc:
        log(f"setup error: {exc}")
        return 2
    files = {s.split("::", 1)[0] for s in selection} or None
    tachyon_env = {}
    for item in args.tachyon_env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            log(f"--tachyon-env needs KEY=VALUE, got {item!r}")
            return 2
        tachyon_env[key] = value
    runs = new_run_dir()
    sides = []
    tachyon = Side(
        "tachyon", sys.executable, prepare_workdir("tachyon", tests, runs), runs / "tachyon.xml", runs / "tachyon.log"
    )
    sides.append(tachyon)
    if reference_python is not None:
        sides.append(
            Side(
                "starlette",
                reference_python,
                prepare_workdir("starlette", tests, runs),
                runs / "starlette.xml",
                runs / "starlette.log",
            )
        )
    for side in sides:
        start(side, selection, args.keyword, extra, args.test_timeout, tachyon_env if side is tachyon else None)
        if args.serial:
            wait([side], args.run_timeout)
    wait(sides, args.run_timeout)

    problems = 0
    for side in sides:
        # 0 = all passed, 1 = some failed; anything else means the run itself went wrong.
        if side.returncode not in (0, 1) or not side.junit.exists():
            log(f"[{side.name}] pytest did not complete normally (exit {side.returncode}); last lines of {side.log}:")
            print("\n".join(side.log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
            if side.name == "starlette":
                problems += 1

    ref_cache = CACHE / "results-starlette.json"
    # Only Starlette's tests count: pytest reports its own crash as a test case named "internal".
    tachyon_results = {n: r for n, r in parse_junit(tachyon.junit).items() if n.startswith("tests/")}
    if not tachyon_results and tachyon.returncode not in (0, 1, 5):
        # pytest stopped before running anything (e.g. Starlette's conftest failed to import on Tachyon):
        # every selected file counts as a collection error with the reason pytest printed.
        reason = _last_error_line(tachyon.log) or f"pytest exited {tachyon.returncode} before running tests"
        targets = files or {str(p.relative_to(tests.parent)) for p in tests.rglob("test_*.py")}
        tachyon_results = {
            f"{f}::<collection>": Result(
                "error", reason, _deepest_tachyon_module(tachyon.log.read_text(errors="replace"))
            )
            for f in targets
        }
    if reference_python is not None:
        fresh = {n: r for n, r in parse_junit(sides[1].junit).items() if n.startswith("tests/")}
        reference = fresh
        with cache_lock():
            merged = merge(load_cache(ref_cache), fresh, files, bool(args.keyword) or any("::" in s for s in selection))
            save_cache(ref_cache, merged, {"starlette": STARLETTE_VERSION, "duration_s": round(sides[1].duration, 1)})
    else:
        reference = load_cache(ref_cache)
        if not reference:
            log(f"no cached Starlette results in {ref_cache}: run once without --tachyon-only")
            return 2
        if files is not None:
            reference = {n: r for n, r in reference.items() if file_of_node(n) in files}
        if args.keyword or any("::" in s for s in selection):
            selected_files = {file_of_node(n) for n in tachyon_results}
            reference = {
                n: r
                for n, r in reference.items()
                if n in tachyon_results
                or (file_of_node(n) in selected_files and f"{file_of_node(n)}::<collection>" in tachyon_results)
            }
    tachyon_cache = CACHE / "results-tachyon.json"
    keyword_or_nodes = bool(args.keyword) or any("::" in s for s in selection)
    if not tachyon_env:  # runs with a modified environment (e.g. another router backend) are not cached
        with cache_lock():
            merged_tachyon = merge(load_cache(tachyon_cache), tachyon_results, files, keyword_or_nodes)
            save_cache(tachyon_cache, merged_tachyon, {"last_duration_s": round(tachyon.duration, 1)})

    cmp = compare(reference, tachyon_results, expected, bool(args.keyword) or any("::" in s for s in selection))
    durations = {side.name: side.duration for side in sides}
    report = render(cmp, durations, expected)
    print(report)
    if args.list_failures:
        for node, result in sorted(cmp.regressions.items()):
            print(f"{node}: {result.outcome}: {result.message.splitlines()[0] if result.message else ''}")
    if args.report:
        args.report.write_text(report)
    for side in sides:  # pytest's own closing line of each run, e.g. "1412 passed, 2 failed in 40.1s"
        closing = [line for line in side.log.read_text(errors="replace").splitlines() if line.strip()]
        print(f"{side.name} side (pytest): {closing[-1].strip('= ') if closing else 'no output'}")
    summary = (
        f"conformance: {len(cmp.regressions)} test(s) pass on Starlette but not on Tachyon; "
        f"{len(cmp.expected_hits)} expected difference(s)."
    )
    print(summary)
    return 1 if cmp.regressions or problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
