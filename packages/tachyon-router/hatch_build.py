"""Hatchling build hook: compiles the native matcher (cffi) into the wheel.

- Wheels get the extension via ``force_include``. On CPython the extension uses the stable ABI, so the wheel
  is tagged ``cp311-abi3-<platform>`` (one wheel for CPython 3.11 and later); elsewhere (PyPy, debug or
  free-threaded builds, where cffi builds a per-version extension) hatchling infers the exact tag.
- Editable installs import from ``src/``, so the extension is copied next to the package's modules there.
- Without a working compiler the build still succeeds as a pure-Python wheel (the router then uses its
  pure-Python twin) after a warning; ``TACHYON_ROUTER_REQUIRE_NATIVE=1`` turns that into a build error.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE_DIR = Path("src") / "tachyon_router"
# The oldest CPython the abi3 wheel installs on: the package's requires-python floor.
ABI3_FLOOR = "cp311"


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in ("", "0", "false", "no", "off")


def _load_builder(root: Path) -> ModuleType:
    # Loaded by path: importing the package itself would need its runtime dependencies in the build env.
    spec = importlib.util.spec_from_file_location("_tachyon_router_build", root / PACKAGE_DIR / "_build.py")
    if spec is None or spec.loader is None:
        raise ImportError("cannot load src/tachyon_router/_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _is_abi3(built: Path) -> bool:
    # ``name.abi3.so`` on POSIX; on Windows a stable-ABI extension is a plain ``name.pyd``.
    return sys.implementation.name == "cpython" and (
        built.suffixes[-2:] == [".abi3", ".so"] or (built.suffix == ".pyd" and len(built.suffixes) == 1)
    )


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        self._tmpdir = tempfile.mkdtemp(prefix="tachyon-router-build-")
        try:
            builder = _load_builder(root)
            built: Path = builder.compile_extension(Path(self._tmpdir), builder.find_native_dir(root))
        except Exception as exc:
            if _truthy(os.environ.get("TACHYON_ROUTER_REQUIRE_NATIVE")):
                raise RuntimeError(f"tachyon-router: building the native matcher failed: {exc}") from exc
            self.app.display_warning(
                f"tachyon-router: building the native matcher failed ({exc}); "
                "installing the pure-Python matcher only (set TACHYON_ROUTER_REQUIRE_NATIVE=1 to make this an error)"
            )
            return

        build_data["pure_python"] = False
        if _is_abi3(built):
            platform = self.build_config.builder.get_best_matching_tag().rsplit("-", 1)[1]
            build_data["tag"] = f"{ABI3_FLOOR}-abi3-{platform}"
        else:
            build_data["infer_tag"] = True
        if version == "editable":
            # The editable wheel only points at src/, so the extension must live there (git-ignored).
            builder.install_extension(built, root / PACKAGE_DIR)
        else:
            build_data["force_include"][str(built)] = f"tachyon_router/{built.name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmpdir = getattr(self, "_tmpdir", None)
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
