#!/usr/bin/env python3
"""Run FastAPI's own test suite on Tachyon (through tachyon.compat) and on the real Starlette, and compare.

    python tests-integration/fastapi/run_fastapi_suite.py                 # whole suite, both sides
    python tests-integration/fastapi/run_fastapi_suite.py -k websocket    # a selection
    python tests-integration/fastapi/run_fastapi_suite.py --list-failures

Both sides run in the interpreter that runs this script (the development environment, which has FastAPI,
its test dependencies and the real Starlette 1.10.0): the reference side imports the real Starlette, the
Tachyon side is started with the conformance plugin that installs the switch first. Test files whose
dependencies are not installed fail to import on both sides and are not counted. Exit status: 0 when every
test that passes on Starlette passes on Tachyon (or is listed in expected_differences.toml here), 1
otherwise, 2 for a setup error. The comparison, report and plugin are those of ../conformance/run.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
CONFORMANCE = HERE.parent / "conformance"
CACHE = HERE / ".cache"
EXPECTED_FILE = HERE / "expected_differences.toml"

# sha256 of the sdist PyPI serves for each supported FastAPI release: a different file is never used. The
# suite of the FastAPI installed in the interpreter is run (`hatch run fastapi-suite` for 0.163.2,
# `hatch run fastapi165:suite` for 0.165.0).
SDIST_SHA256S = {
    "0.163.2": "e605c4c9b94be78b43aa8239a62ccf7b6684346cdc9e053633feab0ab21b87c7",
    "0.165.0": "dd94d4128319c1e1d50535ab023ab698f850a4d2822f0e181747b46f4ff3c0ab",
}


def _installed_fastapi() -> str:
    try:
        return metadata.version("fastapi")
    except metadata.PackageNotFoundError:
        return "0.163.2"  # check_environment() reports the missing package


FASTAPI_VERSION = _installed_fastapi()
SDIST_NAME = f"fastapi-{FASTAPI_VERSION}.tar.gz"
SDIST_SHA256 = SDIST_SHA256S.get(FASTAPI_VERSION, "")
# What FastAPI's tests import from the sdist: the tests and the documentation's example code.
UNPACKED = ("tests/", "docs_src/")
# Benchmarks are not tests of behaviour (and need pytest-codspeed).
IGNORED = ("tests/benchmarks", "tests/memory_benchmarks")
FALLBACK_OWNER = "FastAPI suite"

PYTEST_INI = """\
[pytest]
# FastAPI's settings ([tool.pytest] of its pyproject.toml, the same in 0.163 and 0.165) minus pytest-timeout's
# `timeout`.
addopts = --strict-config --strict-markers
xfail_strict = true
junit_family = xunit1
markers =
    xdist_group: pytest-xdist grouping (FastAPI's suite; unused here)
filterwarnings =
    error
"""


def _load_conformance_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("conformance_run", CONFORMANCE / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


run = _load_conformance_runner()


def ensure_sources() -> Path:
    """FastAPI's tests/ and docs_src/ unpacked from the verified sdist (downloaded with pip the first time)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = CACHE / SDIST_NAME
    if not sdist.exists() or run.sha256_of(sdist) != SDIST_SHA256:
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
            cmd += ["--dest", tmp, f"fastapi=={FASTAPI_VERSION}"]
            run.log(f"downloading {SDIST_NAME}")
            proc = subprocess.run(cmd, capture_output=True, text=True)
            downloaded = Path(tmp) / SDIST_NAME
            if proc.returncode != 0 or not downloaded.exists():
                raise run.SetupError(f"pip download failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
            if run.sha256_of(downloaded) != SDIST_SHA256:
                raise run.SetupError(f"{SDIST_NAME}: sha256 does not match the pinned {SDIST_SHA256}")
            shutil.move(downloaded, sdist)
    root = CACHE / f"fastapi-{FASTAPI_VERSION}-tests"
    marker = root / ".sha256"
    if not (marker.exists() and marker.read_text() == SDIST_SHA256):
        shutil.rmtree(root, ignore_errors=True)
        prefix = f"fastapi-{FASTAPI_VERSION}/"
        with tarfile.open(sdist, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name[len(prefix) :].startswith(UNPACKED)]
            for member in members:
                member.name = member.name[len(prefix) :]
            tar.extractall(root, members=members, filter="data")
        marker.write_text(SDIST_SHA256)
    return root


def check_environment() -> None:
    try:
        installed = metadata.version("fastapi")
        reference = metadata.version("starlette")
    except metadata.PackageNotFoundError as exc:
        raise run.SetupError(f"{exc.name} is not installed in {sys.executable}") from None
    if installed not in SDIST_SHA256S:
        raise run.SetupError(f"fastapi {installed} is installed; the suite is pinned for {', '.join(SDIST_SHA256S)}")
    if reference != run.STARLETTE_VERSION:
        raise run.SetupError(f"the reference side needs starlette=={run.STARLETTE_VERSION}, found {reference}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("-k", dest="keyword", help="pytest -k expression, for both runs")
    parser.add_argument("--report", type=Path, help="also write the markdown table to this file")
    parser.add_argument("--list-failures", action="store_true", help="print every regression with its message")
    parser.add_argument("--test-timeout", type=int, default=run.DEFAULT_TEST_TIMEOUT_S, help="seconds per test")
    parser.add_argument("--run-timeout", type=int, default=run.DEFAULT_RUN_TIMEOUT_S, help="seconds per run")
    args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    try:
        check_environment()
        with run.cache_lock():
            sources = ensure_sources()
        expected = run.load_expected(EXPECTED_FILE)
    except run.SetupError as exc:
        run.log(f"setup error: {exc}")
        return 2

    now = time.time()
    for old in CACHE.glob("fastapi-suite-*"):  # finished runs are kept a while for their logs
        if old.is_dir() and now - old.stat().st_mtime > run.RUN_DIR_MAX_AGE_S:
            shutil.rmtree(old, ignore_errors=True)
    run_dir = Path(tempfile.mkdtemp(prefix="fastapi-suite-", dir=CACHE))
    sides = []
    for name in ("tachyon", "starlette"):
        workdir = run_dir / name
        workdir.mkdir()
        for folder in UNPACKED:
            shutil.copytree(sources / folder, workdir / folder)
        (workdir / "pytest.ini").write_text(PYTEST_INI)
        side = run.Side(name, sys.executable, workdir, run_dir / f"{name}.xml", run_dir / f"{name}.log")
        ignore = [f"--ignore={path}" for path in IGNORED]
        # inline-snapshot's plugin is needed by the suite's snapshot() assertions.
        run.start(side, [], args.keyword, [*ignore, "-p", "inline_snapshot.pytest_plugin", *extra], args.test_timeout)
        sides.append(side)
    run.wait(sides, args.run_timeout)

    results = {side.name: {n: r for n, r in run.parse_junit(side.junit).items()} for side in sides}
    for side in sides:
        if side.returncode not in (0, 1) or not side.junit.exists():
            run.log(f"[{side.name}] pytest did not complete normally (exit {side.returncode}); see {side.log}")
            return 1
    cmp = run.compare(results["starlette"], results["tachyon"], expected, keyword_used=False)
    durations = {side.name: side.duration for side in sides}
    report = run.render(cmp, durations, expected, default_owner=FALLBACK_OWNER, only_differing=True)
    print(report)
    if args.list_failures:
        for node, result in sorted(cmp.regressions.items()):
            print(f"{node}: {result.outcome}: {result.message.splitlines()[0] if result.message else ''}")
    if args.report:
        args.report.write_text(report)
    for side in sides:
        closing = [line for line in side.log.read_text(errors="replace").splitlines() if line.strip()]
        print(f"{side.name} side (pytest): {closing[-1].strip('= ') if closing else 'no output'}")
    print(
        f"fastapi suite: {len(cmp.regressions)} test(s) pass on Starlette but not on Tachyon; "
        f"{len(cmp.expected_hits)} expected difference(s). Logs: {run_dir}"
    )
    return 1 if cmp.regressions else 0


if __name__ == "__main__":
    raise SystemExit(main())
