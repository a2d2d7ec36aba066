"""The conformance runner's own logic: reading JUnit results, comparing the two sides, owners, selection."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def _load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("conformance_run", Path(__file__).with_name("run.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


run = _load_runner()
Result = run.Result
AnyResult = Any  # the runner is loaded from its path, so its classes are not known to the type checker

JUNIT = """\
<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="tests.test_requests" name="test_url[asyncio]" file="tests/test_requests.py" line="3"/>
  <testcase classname="tests.test_requests" name="test_url[trio]" file="tests/test_requests.py" line="3">
    <failure message="AssertionError: assert 1 == 2">tests/test_requests.py:9: in test_url
packages/tachyon-http/src/tachyon_http/requests.py:120: in url
E   AssertionError: assert 1 == 2</failure>
  </testcase>
  <testcase classname="tests.test_routing.TestHost" name="test_host[asyncio]" file="tests/test_routing.py" line="7">
    <skipped type="pytest.skip" message="not on this platform"/>
  </testcase>
  <testcase classname="tests.test_routing" name="test_strict" file="tests/test_routing.py" line="9">
    <skipped type="pytest.xfail" message="known"/>
  </testcase>
  <testcase classname="tests.test_routing" name="test_teardown" file="tests/test_routing.py" line="11"/>
  <testcase classname="tests.test_routing" name="test_teardown" file="tests/test_routing.py" line="11">
    <error message="failed on teardown with &quot;RuntimeError: boom&quot;">E   RuntimeError: boom</error>
  </testcase>
  <testcase classname="" name="tests.middleware.test_cors" time="0.000">
    <error message="collection failure">tests/middleware/test_cors.py:5: in &lt;module&gt;
E   ModuleNotFoundError: No module named 'starlette.middleware.cors', served by Tachyon's 'tachyon.middleware.cors'
</error>
  </testcase>
</testsuite></testsuites>
"""


@pytest.fixture
def junit(tmp_path: Path) -> dict[str, object]:
    path = tmp_path / "results.xml"
    path.write_text(JUNIT)
    parsed: dict[str, object] = run.parse_junit(path)
    return parsed


def test_junit_outcomes_and_node_ids(junit: dict[str, object]) -> None:
    outcomes = {node: result.outcome for node, result in junit.items()}  # type: ignore[attr-defined]
    assert outcomes == {
        "tests/test_requests.py::test_url[asyncio]": "passed",
        "tests/test_requests.py::test_url[trio]": "failed",
        "tests/test_routing.py::TestHost::test_host[asyncio]": "skipped",
        "tests/test_routing.py::test_strict": "xfailed",
        "tests/test_routing.py::test_teardown": "error",
        "tests/middleware/test_cors.py::<collection>": "error",
    }


def test_failures_remember_the_deepest_tachyon_frame_or_the_missing_module(junit: dict[str, AnyResult]) -> None:
    assert junit["tests/test_requests.py::test_url[trio]"].owner_hint == "tachyon_http/requests"
    collection = junit["tests/middleware/test_cors.py::<collection>"]
    assert collection.owner_hint == "tachyon/middleware/cors"
    assert collection.message.startswith("collection failure: ModuleNotFoundError: No module named")


def test_owner_comes_from_the_failing_module_then_from_the_test_file() -> None:
    assert run.owner_of("tests/test_routing.py::x", Result("failed", "", "tachyon_http/responses")) == "http-responses"
    assert run.owner_of("tests/test_routing.py::x", Result("failed", "", "tachyon_http/requests")) == "http-core"
    assert run.owner_of("tests/test_routing.py::x", Result("failed", "", "tachyon_testclient/testclient")) == (
        "ws-testclient"
    )
    assert run.owner_of("tests/test_requests.py::x", Result("failed", "", "tachyon/middleware/errors")) == "app-core"
    assert run.owner_of("tests/test_requests.py::x", Result("failed", "", "tachyon/staticfiles")) == "app-extras"
    assert run.owner_of("tests/test_routing.py::x", Result("failed")) == "app-core"
    assert run.owner_of("tests/middleware/test_cors.py::x", None) == "app-extras"


def _reference() -> dict[str, AnyResult]:
    return {
        "tests/test_requests.py::test_url[asyncio]": Result("passed"),
        "tests/test_requests.py::test_url[trio]": Result("passed"),
        "tests/test_routing.py::TestHost::test_host[asyncio]": Result("passed"),
        "tests/test_routing.py::test_strict": Result("xfailed"),
        "tests/test_routing.py::test_teardown": Result("passed"),
        "tests/test_routing.py::test_gone": Result("passed"),
        "tests/test_routing.py::test_broken_upstream": Result("failed"),
        "tests/middleware/test_cors.py::test_cors[asyncio]": Result("passed"),
    }


def test_every_test_passing_on_starlette_must_pass_on_tachyon(junit: dict[str, AnyResult]) -> None:
    cmp = run.compare(_reference(), junit, {}, keyword_used=False)
    assert {node: r.outcome for node, r in cmp.regressions.items()} == {
        "tests/test_requests.py::test_url[trio]": "failed",
        # skipped on Tachyon but passing on Starlette is not conformance
        "tests/test_routing.py::TestHost::test_host[asyncio]": "skipped",
        "tests/test_routing.py::test_teardown": "error",
        "tests/test_routing.py::test_gone": "missing",
        "tests/middleware/test_cors.py::test_cors[asyncio]": "error",
    }
    assert cmp.regressions["tests/middleware/test_cors.py::test_cors[asyncio]"].message.startswith("collection error")
    assert cmp.per_file["tests/test_requests.py"]["starlette"]["passed"] == 2
    assert cmp.per_file["tests/test_requests.py"]["tachyon"]["failed"] == 1


def test_with_a_keyword_selection_unselected_tests_are_not_missing(junit: dict[str, AnyResult]) -> None:
    cmp = run.compare(_reference(), junit, {}, keyword_used=True)
    assert "tests/test_routing.py::test_gone" not in cmp.regressions
    # a file that failed to collect still fails every test of it
    assert "tests/middleware/test_cors.py::test_cors[asyncio]" in cmp.regressions


def test_expected_differences_match_exactly_or_every_parametrization(junit: dict[str, AnyResult]) -> None:
    expected = {
        "tests/test_requests.py::test_url": "reason a",
        "tests/test_routing.py::test_teardown": "reason b",
        "tests/test_routing.py::test_never_differs": "reason c",
    }
    cmp = run.compare(_reference(), junit, expected, keyword_used=False)
    assert sorted(cmp.expected_hits) == [
        "tests/test_requests.py::test_url[trio]",
        "tests/test_routing.py::test_teardown",
    ]
    assert "tests/test_requests.py::test_url[trio]" not in cmp.regressions
    assert "tests/test_routing.py::test_teardown" not in cmp.regressions
    assert cmp.stale_expected == []  # test_never_differs did not run here: not reported as stale


def test_an_expected_difference_that_now_passes_is_reported_stale(junit: dict[str, AnyResult]) -> None:
    cmp = run.compare(_reference(), junit, {"tests/test_requests.py::test_url[asyncio]": "fixed"}, keyword_used=False)
    assert cmp.stale_expected == ["tests/test_requests.py::test_url[asyncio]"]


def test_report_has_a_row_per_file_a_total_and_reasons_by_owner(junit: dict[str, AnyResult]) -> None:
    cmp = run.compare(_reference(), junit, {}, keyword_used=False)
    report = run.render(cmp, {"tachyon": 1.0}, {})
    assert "| tests/test_requests.py | http-core | 2/0/0 | 1/1/0 | 1 |" in report
    assert "| **total** |" in report
    assert "- **http-core**" in report
    assert "Durations: tachyon 1.0s." in report


def test_expected_differences_file_requires_a_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "expected.toml"
    bad.write_text('[[difference]]\ntest = "tests/test_x.py::test_y"\n')
    monkeypatch.setattr(run, "EXPECTED_FILE", bad)
    with pytest.raises(run.SetupError, match="needs a `test` node id and a `reason`"):
        run.load_expected()


def test_expected_differences_parse_and_the_repository_file_is_well_formed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for node, reason in run.load_expected().items():  # the repository's own list
        assert node.startswith("tests/") and "::" in node
        assert len(reason) > 40
    good = tmp_path / "expected.toml"
    good.write_text('[[difference]]\ntest = "tests/test_x.py::test_y"\nreason = "private internals"\n')
    monkeypatch.setattr(run, "EXPECTED_FILE", good)
    assert run.load_expected() == {"tests/test_x.py::test_y": "private internals"}


def test_file_selection_accepts_short_names(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    (tests / "middleware").mkdir(parents=True)
    (tests / "test_requests.py").write_text("")
    (tests / "middleware" / "test_cors.py").write_text("")
    assert run.normalise_selection(["test_requests.py", "test_cors.py::test_x"], tests) == [
        "tests/test_requests.py",
        "tests/middleware/test_cors.py::test_x",
    ]
    with pytest.raises(run.SetupError):
        run.normalise_selection(["test_nothing.py"], tests)


def test_starlettes_warning_filters_resolve_to_tachyons_warning_class_under_the_switch() -> None:
    # A fresh interpreter: the development environment has the real Starlette, which the switch must beat.
    code = (
        "import json, sys\n"
        "from tachyon import compat\n"
        "compat.install()\n"
        "from _pytest.config import parse_warning_filter\n"
        "from tachyon_http.exceptions import TachyonDeprecationWarning\n"
        "filters = json.loads(sys.argv[1])\n"
        "parsed = [parse_warning_filter(line, escape=False) for line in filters]\n"
        "assert {action for action, *_ in parsed} == {'error', 'ignore'}\n"
        "print(sum(category is TachyonDeprecationWarning for _, _, category, _, _ in parsed))\n"
    )
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(run.STARLETTE_FILTERWARNINGS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"


def test_merge_keeps_other_files_and_replaces_the_files_run() -> None:
    cached = {"tests/a.py::t1": Result("passed"), "tests/b.py::t2": Result("failed")}
    fresh = {"tests/b.py::t3": Result("passed")}
    merged = run.merge(cached, fresh, {"tests/b.py"}, keyword=False)
    assert set(merged) == {"tests/a.py::t1", "tests/b.py::t3"}
    merged = run.merge(cached, fresh, {"tests/b.py"}, keyword=True)
    assert set(merged) == {"tests/a.py::t1", "tests/b.py::t2", "tests/b.py::t3"}


def test_the_plugin_and_runner_agree_on_the_starlette_version() -> None:
    plugin_source = Path(__file__).with_name("tachyon_conformance_plugin.py").read_text()
    assert f'REFERENCE_VERSION = "{run.STARLETTE_VERSION}"' in plugin_source
    assert len(run.SDIST_SHA256) == 64 and int(run.SDIST_SHA256, 16) >= 0


def test_every_run_gets_its_own_directory_and_latest_points_to_the_newest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "CACHE", tmp_path)
    first = run.new_run_dir()
    second = run.new_run_dir()
    assert first != second and first.is_dir() and second.is_dir()
    assert (tmp_path / "runs" / "latest").resolve() == second.resolve()
    with run.cache_lock():  # the lock is a plain file lock in the cache directory
        assert (tmp_path / ".lock").exists()


def test_blockbuster_watches_tachyon_code_on_the_tachyon_side() -> None:
    pytest.importorskip("blockbuster", reason="blockbuster is optional (both sides run without it then)")
    script = textwrap.dedent(
        """
        import asyncio, time
        import tachyon_conformance_plugin  # installs the switch and adapts blockbuster, as `-p` does
        import tachyon_http.concurrency
        from blockbuster import BlockBuster, BlockingError

        bb = BlockBuster("starlette")  # exactly what Starlette's conftest asks for
        allowed = bb.functions["io.BufferedReader.read"].can_block_in("/starlette/testclient.py", "receive")
        print(allowed.can_block_functions[-1][0])

        async def blocking_call_from_tachyon_code() -> None:
            # a frame whose file is a Tachyon module, as if the module itself called time.sleep
            exec(compile("time.sleep(0.001)", tachyon_http.concurrency.__file__, "exec"), {"time": time})

        bb.activate()
        try:
            asyncio.run(blocking_call_from_tachyon_code())
        except BlockingError:
            print("detected")
        finally:
            bb.deactivate()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent), "TACHYON_CONFORMANCE_SIDE": "tachyon"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["/tachyon_testclient/testclient.py", "detected"]
