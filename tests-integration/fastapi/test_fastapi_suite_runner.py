"""The FastAPI-suite runner's own set-up: pins, expected differences, and its pytest configuration."""

from __future__ import annotations

import configparser
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_suite_run", Path(__file__).with_name("run_fastapi_suite.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


suite = _load()


def test_the_suite_matches_the_installed_fastapi_and_a_pinned_sdist() -> None:
    suite.check_environment()  # raises SetupError when the dev env has another FastAPI or Starlette
    assert suite.SDIST_SHA256 == suite.SDIST_SHA256S[suite.FASTAPI_VERSION]
    assert len(suite.SDIST_SHA256) == 64 and int(suite.SDIST_SHA256, 16) >= 0
    assert suite.SDIST_NAME == f"fastapi-{suite.FASTAPI_VERSION}.tar.gz"


def test_expected_differences_name_fastapi_tests_with_reasons() -> None:
    expected = suite.run.load_expected(suite.EXPECTED_FILE)
    assert expected, "the two orjson-related differences are documented"
    for node, reason in expected.items():
        assert node.startswith("tests/") and "::" in node
        assert "orjson" in reason


def test_pytest_configuration_keeps_fastapis_strictness() -> None:
    config = configparser.ConfigParser()
    config.read_string(suite.PYTEST_INI)
    pytest_section = config["pytest"]
    assert "--strict-markers" in pytest_section["addopts"]
    assert "--strict-config" in pytest_section["addopts"]
    assert pytest_section["xfail_strict"] == "true"
    assert pytest_section["filterwarnings"].split() == ["error"]
