"""The ``lifespan=`` argument of Router, normalised into ``app -> async context manager``."""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import types
import warnings
from collections.abc import Callable, Generator
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager
from typing import Any, TypeVar

from tachyon_http.exceptions import TachyonDeprecationWarning
from tachyon_http.types import Lifespan

_T = TypeVar("_T")


class _AsyncLiftContextManager(AbstractAsyncContextManager[_T]):
    """Presents a synchronous context manager as an asynchronous one."""

    def __init__(self, cm: AbstractContextManager[_T]) -> None:
        self._sync = cm

    async def __aenter__(self) -> _T:
        return self._sync.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: types.TracebackType | None,
    ) -> bool | None:
        return self._sync.__exit__(exc_type, exc_value, tb)


def _wrap_gen_lifespan_context(
    lifespan_context: Callable[[Any], Generator[Any, Any, Any]],
) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    as_sync_cm = contextlib.contextmanager(lifespan_context)

    @functools.wraps(as_sync_cm)
    def lifted(app: Any) -> _AsyncLiftContextManager[Any]:
        return _AsyncLiftContextManager(as_sync_cm(app))

    return lifted


# The lifespan is an argument of Router: its warnings are those of `tachyon.routing`, which under the
# compatibility switch is also `starlette.routing`; warnings then carry that module name, so that filters
# written for Starlette (`...:starlette.routing`) still apply.
_ROUTING_NAME = "tachyon.routing"
_STARLETTE_NAME = "starlette.routing"


def _warn_deprecated(message: str) -> None:
    routing = sys.modules.get(_ROUTING_NAME)
    module_name = _STARLETTE_NAME if sys.modules.get(_STARLETTE_NAME) is routing else _ROUTING_NAME
    registry = (vars(routing) if routing is not None else globals()).setdefault("__warningregistry__", {})
    lineno = sys._getframe(1).f_lineno
    warnings.warn_explicit(message, TachyonDeprecationWarning, __file__, lineno, module=module_name, registry=registry)


class _DefaultLifespan:
    """The lifespan of a router without one: startup and shutdown do nothing."""

    def __init__(self, router: Any) -> None:
        self._router = router

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def __call__(self: _T, app: object) -> _T:
        return self


_GENERATOR_LIFESPAN_WARNINGS = {
    True: "async generator function lifespans are deprecated, use an @contextlib.asynccontextmanager function instead",
    False: "generator function lifespans are deprecated, use an @contextlib.asynccontextmanager function instead",
}


def _lifespan_context_for(router: Any, lifespan: Lifespan[Any] | None) -> Lifespan[Any]:
    """Normalise the ``lifespan=`` argument into ``app -> async context manager``."""
    if lifespan is None:
        return _DefaultLifespan(router)
    is_async_gen = inspect.isasyncgenfunction(lifespan)
    if not is_async_gen and not inspect.isgeneratorfunction(lifespan):
        return lifespan
    # Plain generator functions are still accepted, with a deprecation warning.
    _warn_deprecated(_GENERATOR_LIFESPAN_WARNINGS[is_async_gen])
    if is_async_gen:
        return asynccontextmanager(lifespan)  # type: ignore[arg-type]
    return _wrap_gen_lifespan_context(lifespan)  # type: ignore[arg-type]
