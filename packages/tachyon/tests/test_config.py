from __future__ import annotations

from pathlib import Path

import pytest
from tachyon.config import Config, Environ, EnvironError


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def test_env_file_values_are_read_with_comments_and_blank_lines_skipped(tmp_path: Path) -> None:
    path = write_env(tmp_path, "# comment=ignored\nA=1\n\n  B = two words  \nnot a pair\n")
    config = Config(path, environ={})
    assert config.file_values == {"A": "1", "B": "two words"}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('Q="quoted value"', "quoted value"),
        ("Q='single'", "single"),
        ("Q=\"mismatched'", "\"mismatched'"),
        ('Q="', '"'),
        ('Q=""', ""),
        ('Q="a"b"', 'a"b'),
        ("Q=a=b=c", "a=b=c"),
        ("Q=# not a comment", "# not a comment"),
    ],
)
def test_env_file_quoting_rules(tmp_path: Path, line: str, expected: str) -> None:
    config = Config(write_env(tmp_path, line + "\n"), environ={})
    assert config("Q") == expected


def test_environment_wins_over_file_and_file_over_default(tmp_path: Path) -> None:
    config = Config(write_env(tmp_path, "A=file\nB=file\n"), environ={"A": "env"})
    assert config("A") == "env"
    assert config("B", default="default") == "file"
    assert config("C", default="default") == "default"


def test_missing_key_without_default_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="Config 'MISSING' is missing, and has no default."):
        Config(environ={})("MISSING")


def test_missing_env_file_warns(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="not found"):
        Config(tmp_path / "absent.env", environ={})


@pytest.mark.parametrize(
    ("raw", "value"), [("true", True), ("TRUE", True), ("1", True), ("false", False), ("0", False)]
)
def test_bool_cast_accepts_only_known_spellings(raw: str, value: bool) -> None:
    assert Config(environ={"B": raw})("B", cast=bool) is value


def test_bool_cast_rejects_other_text() -> None:
    with pytest.raises(ValueError, match="Config 'B' has value 'yes'. Not a valid bool."):
        Config(environ={"B": "yes"})("B", cast=bool)


def test_failed_cast_names_the_key_and_type() -> None:
    with pytest.raises(ValueError, match="Config 'N' has value 'x'. Not a valid int."):
        Config(environ={"N": "x"})("N", cast=int)


def test_none_default_is_not_cast() -> None:
    assert Config(environ={})("N", cast=int, default=None) is None


def test_prefix_applies_to_environment_and_file(tmp_path: Path) -> None:
    config = Config(write_env(tmp_path, "APP_B=2\n"), environ={"APP_A": "1"}, env_prefix="APP_")
    assert config("A", cast=int) == 1
    assert config("B", cast=int) == 2


def test_environ_refuses_to_change_a_key_already_read() -> None:
    environ = Environ({"K": "v"})
    environ["OTHER"] = "ok"
    assert environ["K"] == "v"
    with pytest.raises(EnvironError):
        environ["K"] = "changed"
    with pytest.raises(EnvironError):
        del environ["K"]
    del environ["OTHER"]
    assert dict(environ) == {"K": "v"}
    assert len(environ) == 1
