"""The ``tachyon`` command: serve an application with uvicorn, or list its routes.

    tachyon run module:app [--host H] [--port P] [--workers N] [--reload] [--compat]
    tachyon routes module:app [--json] [--compat] [--factory] [--app-dir DIR]

``--compat`` installs the Starlette compatibility switch (``tachyon.compat.install()``) before the
application is imported, in every worker process, so that code importing ``starlette`` (FastAPI,
plugins) runs on Tachyon.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# TCP ports are 16-bit; 0 lets the OS choose a free one.
_MAX_PORT = 65535

# Worker processes (multiprocessing spawn, reload) re-import the app from a string, so the target
# and the compat request travel through the environment to `_compat_app_factory`.
_APP_ENV = "TACHYON_CLI_APP"
_FACTORY_ENV = "TACHYON_CLI_APP_IS_FACTORY"
_FACTORY_TARGET = "tachyon.cli:_compat_app_factory"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be an integer, got {text!r}") from None
    if not 0 <= value <= _MAX_PORT:
        raise argparse.ArgumentTypeError(f"port must be between 0 and {_MAX_PORT}, got {value}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _app_target(text: str) -> str:
    module, sep, attr = text.partition(":")
    if not sep or not module or not attr:
        raise argparse.ArgumentTypeError(f"expected 'module:attribute', got {text!r}")
    return text


def _app_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments every command that imports an application takes."""
    command.add_argument("app", type=_app_target, help="the application, as 'module:attribute'")
    command.add_argument(
        "--compat",
        action="store_true",
        help="make 'import starlette' resolve to Tachyon before the application is imported",
    )
    command.add_argument("--factory", action="store_true", help="'module:attribute' is a callable returning the app")
    command.add_argument("--app-dir", default=".", help="directory added to sys.path to import the app (default .)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tachyon", description="Serve a Tachyon (or any ASGI) application.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve an application with uvicorn")
    _app_arguments(run)
    run.add_argument("--host", default=DEFAULT_HOST, help=f"interface to bind (default {DEFAULT_HOST})")
    run.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port to bind (default {DEFAULT_PORT})")
    run.add_argument("--workers", type=_positive, default=None, help="number of worker processes")
    run.add_argument("--reload", action="store_true", help="restart when source files change (development)")
    run.add_argument("--root-path", default=None, help="the ASGI root_path, when served under a URL prefix")
    run.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="comma-separated proxy addresses trusted for X-Forwarded-* headers (behind a load balancer)",
    )
    run.add_argument("--log-level", default=None, help="uvicorn log level")

    routes = commands.add_parser("routes", help="print the route table of an application")
    _app_arguments(routes)
    routes.add_argument("--json", action="store_true", help="print JSON instead of an aligned table")
    return parser


def _install_compat() -> None:
    from tachyon import compat

    compat.install()


def _compat_requested_by_env() -> bool:
    # TACHYON_COMPAT=1 tachyon run ... works like --compat.
    from tachyon import compat

    return bool(compat.install_from_env())


def _import_app(target: str) -> Any:
    module_name, _, attr_path = target.partition(":")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SystemExit(f"tachyon: attribute {attr_path!r} not found in module {module_name!r}") from None
    return obj


def _compat_app_factory() -> Any:
    """uvicorn factory used with ``--compat``: switch, then import the real application."""
    target = os.environ.get(_APP_ENV)
    if not target:
        raise RuntimeError(f"{_APP_ENV} is not set; this factory is only meant to be used by 'tachyon run --compat'")
    _install_compat()
    app = _import_app(target)
    return app() if os.environ.get(_FACTORY_ENV) else app


def _add_app_dir(app_dir: str) -> str:
    path = os.path.abspath(app_dir)
    if path not in sys.path:
        sys.path.insert(0, path)
    return path


def run(args: argparse.Namespace) -> None:
    import uvicorn

    app_dir = _add_app_dir(args.app_dir)

    options: dict[str, Any] = {"host": args.host, "port": args.port, "app_dir": app_dir}
    if args.workers is not None:
        options["workers"] = args.workers
    if args.reload:
        options["reload"] = True
    if args.log_level is not None:
        options["log_level"] = args.log_level
    if args.root_path is not None:
        options["root_path"] = args.root_path
    if args.forwarded_allow_ips is not None:
        options["forwarded_allow_ips"] = args.forwarded_allow_ips

    if args.compat or _compat_requested_by_env():
        # Fail early, in this process, if the switch cannot be installed or the app cannot be imported.
        _install_compat()
        _import_app(args.app)
        os.environ[_APP_ENV] = args.app
        os.environ[_FACTORY_ENV] = "1" if args.factory else ""
        uvicorn.run(_FACTORY_TARGET, factory=True, **options)
    else:
        # An import string (not the object) so that workers and reload can re-import it.
        if args.factory:
            options["factory"] = True
        uvicorn.run(args.app, **options)


def routes(args: argparse.Namespace) -> None:
    _add_app_dir(args.app_dir)
    if args.compat or _compat_requested_by_env():
        _install_compat()
    app = _import_app(args.app)
    if args.factory:
        app = app()
    table = getattr(app, "routes", None)
    if not isinstance(table, list):
        raise SystemExit(f"tachyon: {args.app} ({type(app).__qualname__}) has no route table ('routes' list)")
    from tachyon import routelist

    rows = routelist.collect_routes(table)
    print(routelist.format_json(rows) if args.json else routelist.format_table(rows))


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        run(args)
    elif args.command == "routes":
        routes(args)


if __name__ == "__main__":  # pragma: no cover
    main()
