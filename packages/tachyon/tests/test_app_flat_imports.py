from __future__ import annotations

import subprocess
import sys

import tachyon
from tachyon import _lazy


def test_every_flat_name_is_the_object_of_its_module() -> None:
    import importlib

    for name, module_name in _lazy.LAZY.items():
        assert getattr(tachyon, name) is getattr(importlib.import_module(module_name), name), name


def test_star_import_and_dir_list_the_flat_names() -> None:
    namespace: dict[str, object] = {}
    exec("from tachyon import *", namespace)
    assert set(_lazy.LAZY) <= set(namespace)
    assert set(_lazy.LAZY) <= set(dir(tachyon))
    assert sorted(tachyon.__all__) == sorted([*_lazy.LAZY, "__version__"])


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        tachyon.NoSuchName  # noqa: B018
    except AttributeError as exc:
        assert str(exc) == "module 'tachyon' has no attribute 'NoSuchName'"
    else:
        raise AssertionError("tachyon.NoSuchName did not raise")


def test_stub_lists_the_same_names_as_the_lazy_table() -> None:
    import ast
    from pathlib import Path

    stub = ast.parse((Path(tachyon.__file__).parent / "__init__.pyi").read_text())
    imported = {alias.asname for node in stub.body if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert imported == set(_lazy.LAZY)


def test_import_tachyon_imports_no_other_module() -> None:
    # What keeps `python -X importtime -c "import tachyon"` as cheap as before the flat names existed.
    code = "import sys; before = set(sys.modules); import tachyon; print(sorted(set(sys.modules) - before))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['tachyon']"


def test_flat_names_do_not_leak_into_starlette_under_the_switch() -> None:
    code = (
        "import tachyon.compat; tachyon.compat.install()\n"
        "import starlette, tachyon\n"
        "assert tachyon.Request is not None\n"
        "print(hasattr(starlette, 'Request'), starlette.__version__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "1.10.0"]
