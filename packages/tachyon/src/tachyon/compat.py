"""Make ``import starlette`` resolve to Tachyon, for code that cannot be edited (FastAPI, Starlette plugins).

``install()`` puts an import finder first on ``sys.meta_path``. From then on every ``starlette.X`` that
Tachyon implements is the *same module object* as Tachyon's implementing module (``starlette.requests`` is
``tachyon_http.requests``), so patching ``starlette.formparsers.SpooledTemporaryFile`` patches the code that
actually runs. The mapping is lazy: a Tachyon module is imported the first time its ``starlette`` name is.

Without editing the program::

    python -m tachyon.compat app.py [args...]        # run a script
    python -m tachyon.compat -m uvicorn main:app     # run a module
    TACHYON_COMPAT=1 tachyon run main:app            # the CLI honours the variable (and ``--compat``)

``python -m tachyon.compat`` switches the process it runs in and every Python process started from it
(uvicorn's ``--workers`` and ``--reload`` children import the application afresh): it sets
``TACHYON_COMPAT=1`` and puts a start-up hook (``tachyon/_compat_boot/sitecustomize.py``) first on
``PYTHONPATH`` for them. ``tachyon run --compat`` does the same for its workers in its own way.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import os
import pathlib
import runpy
import sys
import threading
import types
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = [
    "ENV_VAR",
    "MODULE_MAP",
    "STARLETTE_VERSION",
    "CompatInstallError",
    "install",
    "install_from_env",
    "is_installed",
    "main",
    "uninstall",
]

#: The Starlette release whose behaviour (and test suite) Tachyon conforms to; reported as
#: ``starlette.__version__`` so libraries that check the version see a release they support.
STARLETTE_VERSION = "1.10.0"

#: Environment variable that asks entry points (``tachyon run``, ``python -m tachyon.compat``) to install
#: the switch. Any value other than empty, "0", "false", "no" or "off" (case-insensitive) means yes.
ENV_VAR = "TACHYON_COMPAT"
_FALSE_VALUES = frozenset({"", "0", "false", "no", "off"})

_ROOT = "starlette"

#: ``starlette`` module name -> Tachyon module that implements it (not the re-export modules of the
#: ``tachyon`` package, so that patching through the ``starlette`` name reaches the running code).
MODULE_MAP: dict[str, str] = {
    "starlette._exception_handler": "tachyon._exception_handler",
    "starlette._utils": "tachyon_http._utils",
    "starlette.applications": "tachyon.applications",
    "starlette.authentication": "tachyon.authentication",
    "starlette.background": "tachyon_http.background",
    "starlette.concurrency": "tachyon_http.concurrency",
    "starlette.config": "tachyon.config",
    "starlette.convertors": "tachyon_router.convertors",
    "starlette.datastructures": "tachyon_http.datastructures",
    "starlette.endpoints": "tachyon.endpoints",
    "starlette.exceptions": "tachyon_http.exceptions",
    "starlette.formparsers": "tachyon_http.formparsers",
    "starlette.middleware": "tachyon.middleware",
    "starlette.middleware.authentication": "tachyon.middleware.authentication",
    "starlette.middleware.base": "tachyon.middleware.base",
    "starlette.middleware.body_limit": "tachyon.middleware.body_limit",
    "starlette.middleware.cors": "tachyon.middleware.cors",
    "starlette.middleware.errors": "tachyon.middleware.errors",
    "starlette.middleware.exceptions": "tachyon.middleware.exceptions",
    "starlette.middleware.gzip": "tachyon.middleware.gzip",
    "starlette.middleware.httpsredirect": "tachyon.middleware.httpsredirect",
    "starlette.middleware.opentelemetry": "tachyon.middleware.opentelemetry",
    "starlette.middleware.sessions": "tachyon.middleware.sessions",
    "starlette.middleware.trustedhost": "tachyon.middleware.trustedhost",
    "starlette.middleware.wsgi": "tachyon.middleware.wsgi",
    "starlette.requests": "tachyon_http.requests",
    "starlette.responses": "tachyon_http.responses",
    "starlette.routing": "tachyon.routing",
    "starlette.schemas": "tachyon.schemas",
    "starlette.staticfiles": "tachyon.staticfiles",
    "starlette.status": "tachyon_http.status",
    "starlette.templating": "tachyon.templating",
    "starlette.testclient": "tachyon_testclient.testclient",
    "starlette.types": "tachyon.types",
    "starlette.websockets": "tachyon_ws.websockets",
}


class CompatInstallError(RuntimeError):
    """The switch cannot be installed because real Starlette modules are already imported."""


class _AliasLoader(importlib.abc.Loader):
    """Loads a ``starlette`` name by importing the Tachyon module behind it and handing that object back."""

    def __init__(self) -> None:
        # importlib overwrites ``__spec__`` on the module create_module returns; the Tachyon module's own
        # spec is kept here (by starlette name: import locks are per name) and put back in exec_module, so
        # the module keeps describing itself (``reload``, ``pickle`` and tracebacks rely on it).
        self._own_specs: dict[str, object] = {}

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        target = spec.loader_state
        assert isinstance(target, str)
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (target == exc.name or target.startswith(exc.name + ".")):
                raise  # a dependency of the Tachyon module is missing: its own message says which one
            raise ModuleNotFoundError(
                f"No module named {spec.name!r}: it is served by Tachyon's {target!r}, which is not available ({exc})",
                name=spec.name,
            ) from exc
        self._own_specs[spec.name] = getattr(module, "__spec__", None)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        spec = module.__spec__
        assert spec is not None
        if spec.name in self._own_specs:
            module.__spec__ = self._own_specs.pop(spec.name)  # type: ignore[assignment]


class _PackageLoader(importlib.abc.Loader):
    """Creates the synthetic top-level ``starlette`` package (it holds no code of its own)."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name, "Starlette's import name, served by Tachyon (tachyon.compat).")
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__version__ = STARLETTE_VERSION  # type: ignore[attr-defined]
        module.__tachyon_compat__ = True  # type: ignore[attr-defined]
        # An empty search path makes it a package; submodules are found by the finder, never on disk.
        module.__path__ = []


#: FastAPI's routing module: once it has run, ``tachyon._fastapi`` answers its dispatch from route tables.
_FASTAPI_ROUTING = "fastapi.routing"


class _FastAPIRoutingLoader(importlib.abc.Loader):
    """Runs ``fastapi.routing`` with its own loader, then hands the module to ``tachyon._fastapi.install``.

    The only place where the switch touches FastAPI, and only in memory: its files are never modified.
    """

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        from tachyon import _fastapi

        _fastapi.install(module)


#: The core metadata the switch presents for the ``starlette`` distribution (PEP 566 / core metadata 2.1).
_METADATA = f"""\
Metadata-Version: 2.1
Name: starlette
Version: {STARLETTE_VERSION}
Summary: Starlette's import name, served by Tachyon (tachyon.compat)
Requires-Python: >=3.11
"""


@functools.cache
def _distribution() -> object:
    """The ``starlette`` distribution the switch presents (built on first use: importlib.metadata is heavy)."""
    import importlib.metadata

    class _PresentedStarlette(importlib.metadata.Distribution):
        def read_text(self, filename: str) -> str | None:
            if filename in ("METADATA", "PKG-INFO"):
                return _METADATA
            if filename == "top_level.txt":
                return _ROOT + "\n"
            return None  # no RECORD, entry points or other files: nothing is installed under this name

        def locate_file(self, path: str | os.PathLike[str]) -> pathlib.Path:
            return pathlib.Path(__file__).parent / path

    return _PresentedStarlette()


def _asks_for_starlette(name: str | None) -> bool:
    # Distribution names compare normalized (PEP 503): "Starlette", "starlette" are the same project.
    return name is None or name.replace("-", "_").replace(".", "_").lower() == _ROOT


class _StarletteFinder(importlib.abc.MetaPathFinder):
    """Answers every import under the ``starlette`` name; first on ``sys.meta_path`` so it beats a real one.

    It also answers ``importlib.metadata`` for the ``starlette`` distribution with the version the switch
    presents (``starlette.__version__``): being first, it wins over an installed Starlette, so
    ``importlib.metadata.version("starlette")`` and ``starlette.__version__`` always agree, and libraries
    that check for Starlette through package metadata (OpenTelemetry's instrumentation) find it.
    """

    def find_distributions(self, context: Any = None) -> Iterator[Any]:
        if _asks_for_starlette(getattr(context, "name", None)):
            yield _distribution()

    def __init__(self) -> None:
        self._package_loader = _PackageLoader()
        self._alias_loader = _AliasLoader()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == _FASTAPI_ROUTING:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is not None and spec.loader is not None:
                spec.loader = _FastAPIRoutingLoader(spec.loader)
            return spec
        if fullname == _ROOT:
            return importlib.machinery.ModuleSpec(fullname, self._package_loader, is_package=True)
        if not fullname.startswith(_ROOT + "."):
            return None
        implementation = MODULE_MAP.get(fullname)
        if implementation is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: Tachyon has no equivalent of this Starlette module "
                "(tachyon.compat.MODULE_MAP lists the ones it provides)",
                name=fullname,
            )
        return importlib.machinery.ModuleSpec(
            fullname,
            self._alias_loader,
            loader_state=implementation,
            is_package=fullname == "starlette.middleware",
        )


_lock = threading.RLock()
_finder: _StarletteFinder | None = None


def _starlette_names() -> list[str]:
    return sorted(name for name in list(sys.modules) if name == _ROOT or name.startswith(_ROOT + "."))


def _present_classes(*, as_starlette: bool) -> None:
    """Name the classes Starlette users know by another name (``tachyon_http._presented``) as the switch says.

    Classes not imported yet are not registered there; they take the name when their module is imported.
    """
    presented = sys.modules.get("tachyon_http._presented")
    if presented is not None:
        presented.present_classes(as_starlette=as_starlette)


def is_installed() -> bool:
    """Whether the switch is active in this interpreter."""
    return _finder is not None and _finder in sys.meta_path


def install() -> None:
    """Make ``import starlette...`` resolve to Tachyon's modules. Idempotent.

    Raises ``CompatInstallError`` if any ``starlette`` module was imported before: objects created from
    the real Starlette could not be swapped afterwards, and mixing both would fail in confusing ways.
    """
    global _finder
    with _lock:
        if is_installed():
            return
        already = _starlette_names()
        if already:
            raise CompatInstallError(
                "tachyon.compat.install() must run before anything imports Starlette, but these modules are "
                f"already imported: {', '.join(already)}. Call it first thing in your entry point, or start "
                "the program with `python -m tachyon.compat ...` or `tachyon run --compat ...`."
            )
        _finder = _StarletteFinder()
        sys.meta_path.insert(0, _finder)
        _present_classes(as_starlette=True)


def uninstall() -> None:
    """Undo ``install()``: remove the finder and the ``starlette`` names it created (for tests)."""
    global _finder
    with _lock:
        if _finder is None:
            return
        while _finder in sys.meta_path:
            sys.meta_path.remove(_finder)
        _finder = None
        for name in _starlette_names():
            del sys.modules[name]
        _present_classes(as_starlette=False)


def install_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """Install the switch if ``TACHYON_COMPAT`` asks for it; returns whether it is installed afterwards."""
    value = (os.environ if environ is None else environ).get(ENV_VAR, "")
    if value.strip().lower() not in _FALSE_VALUES:
        install()
    return is_installed()


#: Folder whose ``sitecustomize`` installs the switch at start-up of child processes (see main()).
_CHILD_BOOT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_compat_boot")


def _switch_child_processes() -> None:
    """Make every Python process this one starts install the switch before it imports anything else."""
    os.environ[ENV_VAR] = "1"
    existing = os.environ.get("PYTHONPATH", "")
    entries = [entry for entry in existing.split(os.pathsep) if entry and entry != _CHILD_BOOT_DIR]
    os.environ["PYTHONPATH"] = os.pathsep.join([_CHILD_BOOT_DIR, *entries])


_USAGE = """\
usage: python -m tachyon.compat SCRIPT [ARGS...]
       python -m tachyon.compat -m MODULE [ARGS...]
       python -m tachyon.compat -c CODE [ARGS...]

Installs tachyon.compat (so `import starlette` is served by Tachyon), then runs the program
like `python` would."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m tachyon.compat``: install the switch, then run a script, module or code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_USAGE, file=sys.stderr if not args else sys.stdout)
        return 2 if not args else 0
    install()
    _switch_child_processes()
    if args[0] in {"-m", "-c"}:
        if len(args) < 2:
            print(f"tachyon.compat: option {args[0]} needs an argument\n\n{_USAGE}", file=sys.stderr)
            return 2
        mode, target, rest = args[0], args[1], args[2:]
    else:
        mode, target, rest = "script", args[0], args[1:]
        if not os.path.isfile(target):
            print(f"tachyon.compat: can't open file {target!r}: no such file\n\n{_USAGE}", file=sys.stderr)
            return 2
    if mode == "-m":
        sys.argv = [target, *rest]
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    elif mode == "-c":
        sys.argv = ["-c", *rest]
        namespace: dict[str, object] = {"__name__": "__main__", "__builtins__": __builtins__}
        exec(compile(target, "<string>", "exec"), namespace)
    else:
        sys.argv = [target, *rest]
        # Like `python script.py`: the script's folder replaces the working directory on the import path.
        sys.path[0] = os.path.dirname(os.path.abspath(target))
        runpy.run_path(target, run_name="__main__")
    return 0


if __name__ == "__main__":
    # Under `python -m` this file runs as a second module object named __main__; the switch must live in
    # the importable ``tachyon.compat`` so a later ``tachyon.compat.install()`` sees it as installed.
    from tachyon import compat as _compat

    raise SystemExit(_compat.main())
