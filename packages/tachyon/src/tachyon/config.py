"""Application settings read from the environment and an optional ``.env`` file."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any, TypeVar, overload

__all__ = ["Config", "Environ", "EnvironError", "environ", "undefined"]

T = TypeVar("T")

# Only these spellings are accepted for booleans, so that a typo such as "ture" is an error rather than
# silently falsy.
_BOOL_VALUES: dict[str, bool] = {"true": True, "1": True, "false": False, "0": False}
_QUOTES = ("'", '"')


class undefined:
    """Sentinel type: "no default given" (``None`` is a legitimate default)."""


class EnvironError(Exception):
    """Raised when an environment variable is changed after the application has read it."""


class Environ(MutableMapping[str, str]):
    """A view of ``os.environ`` that refuses to change a key once it has been read.

    Changing a setting after it has been read would leave the application running with a stale value,
    which is almost always a bug in test set-up.
    """

    def __init__(self, environ: MutableMapping[str, str] = os.environ) -> None:
        self._environ = environ
        self._read_keys: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self._read_keys.add(key)
        return self._environ[key]

    def _refuse_if_read(self, action: str, key: str) -> None:
        if key in self._read_keys:
            raise EnvironError(f"Attempting to {action} environ['{key}'], but the value has already been read.")

    def __setitem__(self, key: str, value: str) -> None:
        self._refuse_if_read("set", key)
        self._environ[key] = value

    def __delitem__(self, key: str) -> None:
        self._refuse_if_read("delete", key)
        del self._environ[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


environ = Environ()


def _parse_env_file(file_name: str | Path, encoding: str) -> dict[str, str]:
    """Parse ``KEY=value`` lines; ``#`` starts a comment line; one matching pair of quotes is stripped."""
    values: dict[str, str] = {}
    with open(file_name, encoding=encoding) as env_file:
        for raw_line in env_file:
            line = raw_line.strip()
            if line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] in _QUOTES and value[-1] == value[0]:
                value = value[1:-1]
            values[key.strip()] = value
    return values


class Config:
    """Look settings up in the environment first, then in the ``.env`` file, then in the default."""

    def __init__(
        self,
        env_file: str | Path | None = None,
        environ: Mapping[str, str] = environ,
        env_prefix: str = "",
        encoding: str = "utf-8",
    ) -> None:
        self.environ = environ
        self.env_prefix = env_prefix
        self.file_values: dict[str, str] = {}
        if env_file is not None:
            if os.path.isfile(env_file):
                self.file_values = _parse_env_file(env_file, encoding)
            else:
                warnings.warn(f"Config file '{env_file}' not found.", stacklevel=2)

    @overload
    def __call__(self, key: str, *, default: None) -> str | None: ...

    @overload
    def __call__(self, key: str, cast: type[T], default: T = ...) -> T: ...

    @overload
    def __call__(self, key: str, cast: type[str] = ..., default: str = ...) -> str: ...

    @overload
    def __call__(self, key: str, cast: Callable[[Any], T] = ..., default: Any = ...) -> T: ...

    @overload
    def __call__(self, key: str, cast: type[str] = ..., default: T = ...) -> T | str: ...

    def __call__(self, key: str, cast: Callable[[Any], Any] | None = None, default: Any = undefined) -> Any:
        return self.get(key, cast, default)

    def get(self, key: str, cast: Callable[[Any], Any] | None = None, default: Any = undefined) -> Any:
        full_key = self.env_prefix + key
        if full_key in self.environ:
            return self._perform_cast(full_key, self.environ[full_key], cast)
        if full_key in self.file_values:
            return self._perform_cast(full_key, self.file_values[full_key], cast)
        if default is not undefined:
            return self._perform_cast(full_key, default, cast)
        raise KeyError(f"Config '{full_key}' is missing, and has no default.")

    def _read_file(self, file_name: str | Path, encoding: str) -> dict[str, str]:
        return _parse_env_file(file_name, encoding)

    def _perform_cast(self, key: str, value: Any, cast: Callable[[Any], Any] | None = None) -> Any:
        if cast is None or value is None:
            return value
        if cast is bool and isinstance(value, str):
            lowered = value.lower()
            try:
                return _BOOL_VALUES[lowered]
            except KeyError:
                raise ValueError(f"Config '{key}' has value '{lowered}'. Not a valid bool.") from None
        try:
            return cast(value)
        except (TypeError, ValueError):
            name = getattr(cast, "__name__", repr(cast))
            raise ValueError(f"Config '{key}' has value '{value}'. Not a valid {name}.") from None
