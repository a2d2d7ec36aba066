"""tachyon.compat: `import starlette...` served by Tachyon's modules.

Import state is global to an interpreter, so everything that installs the switch runs in a fresh
subprocess (the development environment also has the real Starlette installed, which the switch must beat).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tachyon import compat

# Every module of the Starlette 1.10.0 distribution (its package, minus __init__ and py.typed).
STARLETTE_1_10_MODULES = {
    "starlette._exception_handler",
    "starlette._utils",
    "starlette.applications",
    "starlette.authentication",
    "starlette.background",
    "starlette.concurrency",
    "starlette.config",
    "starlette.convertors",
    "starlette.datastructures",
    "starlette.endpoints",
    "starlette.exceptions",
    "starlette.formparsers",
    "starlette.middleware",
    "starlette.middleware.authentication",
    "starlette.middleware.base",
    "starlette.middleware.body_limit",
    "starlette.middleware.cors",
    "starlette.middleware.errors",
    "starlette.middleware.exceptions",
    "starlette.middleware.gzip",
    "starlette.middleware.httpsredirect",
    "starlette.middleware.opentelemetry",
    "starlette.middleware.sessions",
    "starlette.middleware.trustedhost",
    "starlette.middleware.wsgi",
    "starlette.requests",
    "starlette.responses",
    "starlette.routing",
    "starlette.schemas",
    "starlette.staticfiles",
    "starlette.status",
    "starlette.templating",
    "starlette.testclient",
    "starlette.types",
    "starlette.websockets",
}


def run_python(code: str, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run code in a fresh interpreter; fail the test with its output if it exits non-zero."""
    full_env = {k: v for k, v in os.environ.items() if k != compat.ENV_VAR}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, *args] if not code else [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=60,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def test_the_mapping_covers_every_starlette_module() -> None:
    assert set(compat.MODULE_MAP) == STARLETTE_1_10_MODULES


def test_the_mapping_targets_tachyon_implementing_modules_from_the_contracts() -> None:
    assert compat.MODULE_MAP["starlette.requests"] == "tachyon_http.requests"
    assert compat.MODULE_MAP["starlette.routing"] == "tachyon.routing"
    assert compat.MODULE_MAP["starlette.convertors"] == "tachyon_router.convertors"
    assert compat.MODULE_MAP["starlette.testclient"] == "tachyon_testclient.testclient"
    assert compat.MODULE_MAP["starlette.websockets"] == "tachyon_ws.websockets"
    assert compat.MODULE_MAP["starlette._utils"] == "tachyon_http._utils"
    assert compat.MODULE_MAP["starlette._exception_handler"] == "tachyon._exception_handler"
    for name, target in compat.MODULE_MAP.items():
        if name.startswith("starlette.middleware."):
            assert target == "tachyon.middleware." + name.rsplit(".", 1)[1]
        assert target.split(".", 1)[0] in {
            "tachyon",
            "tachyon_http",
            "tachyon_ws",
            "tachyon_router",
            "tachyon_testclient",
        }


def test_starlette_is_a_synthetic_package_reporting_the_conformed_version_even_with_real_starlette_installed() -> None:
    out = run_python(
        """
        import importlib.util, sys
        assert importlib.util.find_spec("starlette") is not None  # the real one is installed
        from tachyon import compat
        compat.install()
        import starlette
        first = sys.meta_path[0] is compat._finder
        print(starlette.__version__, starlette.__path__, getattr(starlette, "__file__", None), first)
        """
    )
    assert out.split() == ["1.10.0", "[]", "None", "True"]


def test_a_starlette_module_is_the_same_object_as_the_tachyon_implementing_module() -> None:
    out = run_python(
        """
        from tachyon import compat
        compat.install()
        import starlette.status
        import tachyon_http.status
        from starlette import exceptions
        import tachyon_http.exceptions
        print(starlette.status is tachyon_http.status, exceptions is tachyon_http.exceptions)
        # The module still describes itself, not the alias it was imported under.
        print(starlette.status.__name__, starlette.status.__spec__.name)
        """
    )
    assert out.split() == ["True", "True", "tachyon_http.status", "tachyon_http.status"]


def test_patching_through_the_starlette_name_patches_the_running_code() -> None:
    out = run_python(
        """
        from unittest import mock
        from tachyon import compat
        compat.install()
        import tachyon_http.status
        with mock.patch("starlette.status.HTTP_200_OK", 299):
            print(tachyon_http.status.HTTP_200_OK)
        print(tachyon_http.status.HTTP_200_OK)
        """
    )
    assert out.split() == ["299", "200"]


def test_starlette_deprecation_warning_is_tachyons() -> None:
    out = run_python(
        """
        from tachyon import compat
        compat.install()
        from starlette.exceptions import StarletteDeprecationWarning, HTTPException
        import tachyon_http.exceptions as real
        print(StarletteDeprecationWarning is real.TachyonDeprecationWarning, HTTPException is real.HTTPException)
        """
    )
    assert out.split() == ["True", "True"]


def test_install_is_lazy_and_imports_no_tachyon_module_until_a_starlette_name_is_imported() -> None:
    out = run_python(
        """
        import sys
        from tachyon import compat
        compat.install()
        import starlette
        print(sorted(n for n in sys.modules if n.startswith(("tachyon_", "tachyon.")) and n != "tachyon.compat"))
        """
    )
    assert out.strip() == "[]"


def test_install_is_idempotent_and_the_finder_comes_first() -> None:
    out = run_python(
        """
        import sys
        from tachyon import compat
        compat.install()
        sys.meta_path.insert(0, object.__new__(type("Other", (), {"find_spec": staticmethod(lambda *a: None)})))
        compat.install()
        import starlette.status
        compat.install()
        print(sum(1 for f in sys.meta_path if f is compat._finder), compat.is_installed())
        """
    )
    assert out.split() == ["1", "True"]


def test_installing_after_starlette_was_imported_names_the_modules_already_imported() -> None:
    out = run_python(
        """
        import starlette.status
        from tachyon import compat
        try:
            compat.install()
        except compat.CompatInstallError as exc:
            print(exc)
        print(compat.is_installed())
        """
    )
    assert "already imported: starlette, " in out
    assert "starlette.status" in out.split("already imported:", 1)[1].split(". Call", 1)[0]
    assert "python -m tachyon.compat" in out
    assert out.split()[-1] == "False"


def test_an_unknown_starlette_module_says_tachyon_has_no_equivalent_even_if_real_starlette_has_it(
    tmp_path: Path,
) -> None:
    out = run_python(
        """
        from tachyon import compat
        compat.install()
        for name in ("starlette.nope", "starlette.middleware.nope"):
            try:
                __import__(name)
            except ModuleNotFoundError as exc:
                print(exc.name, "|", exc)
        """
    )
    lines = out.splitlines()
    assert lines[0].startswith("starlette.nope | No module named 'starlette.nope': Tachyon has no equivalent")
    # starlette.middleware must import for the second name to be looked up; it may not exist yet.
    if importlib.util.find_spec("tachyon.middleware") is not None:
        assert lines[1].startswith("starlette.middleware.nope | No module named 'starlette.middleware.nope'")


def test_a_missing_tachyon_module_is_reported_under_its_starlette_name() -> None:
    out = run_python(
        """
        from tachyon import compat
        compat.MODULE_MAP["starlette.status"] = "tachyon_http.does_not_exist"
        compat.install()
        try:
            import starlette.status
        except ModuleNotFoundError as exc:
            print(exc.name, "|", exc)
        """
    )
    assert out.startswith(
        "starlette.status | No module named 'starlette.status': it is served by Tachyon's "
        "'tachyon_http.does_not_exist', which is not available"
    )


def test_an_import_error_inside_a_tachyon_module_is_not_disguised(tmp_path: Path) -> None:
    (tmp_path / "broken_target.py").write_text("import some_dependency_that_is_not_installed\n")
    out = run_python(
        """
        import sys
        from tachyon import compat
        compat.MODULE_MAP["starlette.status"] = "broken_target"
        compat.install()
        try:
            import starlette.status
        except ModuleNotFoundError as exc:
            print(exc.name)
        print("starlette.status" in sys.modules)
        """,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert out.split() == ["some_dependency_that_is_not_installed", "False"]


def test_uninstall_removes_the_finder_and_the_aliases_so_real_starlette_imports_again() -> None:
    out = run_python(
        """
        import sys
        from tachyon import compat
        compat.install()
        import starlette.status
        compat.uninstall()
        print(compat.is_installed(), [n for n in sys.modules if n.startswith("starlette")])
        import starlette
        print(starlette.__file__.endswith("starlette/__init__.py"), "tachyon_http.status" in sys.modules)
        """
    )
    assert out.splitlines() == ["False []", "True True"]


def test_uninstall_without_install_does_nothing() -> None:
    was = compat.is_installed()
    if not was:
        compat.uninstall()
    assert compat.is_installed() is was


@pytest.mark.parametrize(
    ("value", "installed"),
    [("1", True), ("yes", True), ("true", True), ("", False), ("0", False), ("false", False), ("OFF", False)],
)
def test_install_from_env_follows_tachyon_compat(value: str, installed: bool) -> None:
    out = run_python(
        """
        from tachyon import compat
        print(compat.install_from_env())
        """,
        env={"TACHYON_COMPAT": value},
    )
    assert out.strip() == str(installed)


def test_python_m_tachyon_compat_runs_a_script_with_the_switch_installed(tmp_path: Path) -> None:
    (tmp_path / "helper_mod.py").write_text("VALUE = 'helper'\n")
    script = tmp_path / "app.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            import helper_mod  # the script's folder is on the import path, like `python app.py`
            import starlette.status
            from tachyon import compat
            compat.install()  # a program that also installs it itself must not fail
            print(__name__, sys.argv[1:], starlette.status.__name__, helper_mod.VALUE, compat.is_installed())
            import os
            print(os.environ["TACHYON_COMPAT"])  # inherited by child processes
            """
        )
    )
    out = run_python("", "-m", "tachyon.compat", str(script), "a", "--b")
    assert out.split() == ["__main__", "['a',", "'--b']", "tachyon_http.status", "helper", "True", "1"]


def test_python_m_tachyon_compat_runs_a_module_and_code(tmp_path: Path) -> None:
    (tmp_path / "entry_mod.py").write_text(
        "import sys, starlette.status\nprint(__name__, sys.argv[1:], starlette.status.__name__)\n"
    )
    out = run_python(
        "", "-m", "tachyon.compat", "-m", "entry_mod", "x", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}
    )
    assert out.split() == ["__main__", "['x']", "tachyon_http.status"]
    out = run_python(
        "", "-m", "tachyon.compat", "-c", "import sys, starlette; print(starlette.__version__, sys.argv[1:])", "y"
    )
    assert out.split() == ["1.10.0", "['y']"]


def test_python_m_tachyon_compat_switches_child_python_processes_too(tmp_path: Path) -> None:
    # Server workers and reloaders (uvicorn --workers/--reload) are fresh interpreters importing the app.
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import multiprocessing, subprocess, sys

            def child(queue):
                import starlette.requests
                queue.put(starlette.requests.__name__)

            if __name__ == "__main__":
                code = "import starlette.status; print(starlette.status.__name__)"
                print(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
                context = multiprocessing.get_context("spawn")
                queue = context.Queue()
                process = context.Process(target=child, args=(queue,))
                process.start()
                print(queue.get(timeout=60))
                process.join()
            """
        )
    )
    out = run_python("", "-m", "tachyon.compat", str(script))
    assert out.split() == ["tachyon_http.status", "tachyon_http.requests"]


def test_the_child_process_hook_keeps_another_sitecustomize_working(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import builtins\nbuiltins.OTHER_SITECUSTOMIZE_RAN = True\n")
    code = (
        "import subprocess, sys; "
        "child = 'import builtins, starlette.status as s; print(builtins.OTHER_SITECUSTOMIZE_RAN, s.__name__)'; "
        "print(subprocess.run([sys.executable, '-c', child], capture_output=True, text=True, check=True).stdout)"
    )
    out = run_python("", "-m", "tachyon.compat", "-c", code, env={"PYTHONPATH": str(other)})
    assert out.split() == ["True", "tachyon_http.status"]


def test_python_m_tachyon_compat_without_a_program_prints_usage() -> None:
    proc = subprocess.run([sys.executable, "-m", "tachyon.compat"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "usage: python -m tachyon.compat SCRIPT" in proc.stderr


def test_python_m_tachyon_compat_with_a_missing_script_says_so(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.py")
    proc = subprocess.run([sys.executable, "-m", "tachyon.compat", missing], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"can't open file {missing!r}" in proc.stderr


@pytest.fixture(scope="module")
def unavailable_targets() -> dict[str, str]:
    """Tachyon modules that do not import on their own (without the switch), with the error."""
    out = run_python(
        f"""
        import importlib, json
        errors = {{}}
        for target in {sorted(set(compat.MODULE_MAP.values()))!r}:
            try:
                importlib.import_module(target)
            except Exception as exc:
                errors[target] = f"{{type(exc).__name__}}: {{exc}}"
        print(json.dumps(errors))
        """
    )
    result: dict[str, str] = json.loads(out)
    return result


@pytest.fixture(scope="module")
def resolved_through_switch() -> dict[str, list[object]]:
    """For every starlette name, imported through the switch in one fresh interpreter:
    [same object as the Tachyon module, its __name__, bound as attribute of its parent] or [error]."""
    out = run_python(
        """
        import importlib, json, sys
        from tachyon import compat
        compat.install()
        result = {}
        for name, target in sorted(compat.MODULE_MAP.items()):
            try:
                module = importlib.import_module(name)
            except Exception as exc:
                result[name] = [f"{type(exc).__name__}: {exc}"]
                continue
            parent, _, leaf = name.rpartition(".")
            bound = getattr(sys.modules[parent], leaf) is module
            result[name] = [module is sys.modules.get(target), module.__name__, bound]
        print(json.dumps(result))
        """
    )
    result: dict[str, list[object]] = json.loads(out)
    return result


@pytest.mark.parametrize("name", sorted(STARLETTE_1_10_MODULES))
def test_every_starlette_module_resolves_to_its_tachyon_module(
    name: str, resolved_through_switch: dict[str, list[object]], unavailable_targets: dict[str, str]
) -> None:
    target = compat.MODULE_MAP[name]
    if target in unavailable_targets:
        # Not the switch's concern: the Tachyon module itself does not import in this build.
        pytest.skip(f"{target} does not import in this build of Tachyon: {unavailable_targets[target]}")
    assert resolved_through_switch[name] == [True, target, True]


def test_starlette_application_class_is_tachyon(unavailable_targets: dict[str, str]) -> None:
    if "tachyon.applications" in unavailable_targets:
        pytest.skip(f"tachyon.applications does not import: {unavailable_targets['tachyon.applications']}")
    out = run_python(
        """
        from tachyon import compat
        compat.install()
        from starlette.applications import Starlette
        from tachyon.applications import Tachyon
        print(Starlette is Tachyon)
        """
    )
    assert out.strip() == "True"


def test_package_metadata_agrees_with_the_presented_version(tmp_path: Path) -> None:
    # An installed Starlette of another version, found first on sys.path: the switch must still answer.
    info = tmp_path / "starlette-0.99.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: starlette\nVersion: 0.99.0\n")
    out = run_python(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import importlib.metadata as metadata
        print(metadata.version("starlette"))
        from tachyon import compat
        compat.install()
        import starlette
        print(starlette.__version__, metadata.version("starlette"), metadata.version("Starlette"))
        print(metadata.metadata("starlette")["Name"], metadata.distribution("starlette").read_text("RECORD"))
        # Enumerations see the presented distribution first, so name-deduplicating callers pick it.
        first = next(d for d in metadata.distributions() if d.metadata["Name"] == "starlette")
        print(first.version)
        print(metadata.version("anyio") != "1.10.0")  # other distributions are not affected
        compat.uninstall()
        print(metadata.version("starlette"))
        """
    )
    assert out.split("\n")[:-1] == ["0.99.0", "1.10.0 1.10.0 1.10.0", "starlette None", "1.10.0", "True", "0.99.0"]


def test_messages_name_starlette_modules_under_the_switch() -> None:
    # Starlette's own pytest filter for this warning, with `error` for everything else.
    out = run_python(
        """
        import warnings
        from tachyon import compat
        compat.install()
        from starlette.exceptions import StarletteDeprecationWarning
        warnings.simplefilter("error")
        warnings.filterwarnings(
            "ignore",
            r" starlette.middleware.wsgi is deprecated and will be removed in a future release.*".strip(),
            StarletteDeprecationWarning,
        )
        import starlette.middleware.wsgi  # raises if the message does not match Starlette's
        import starlette.status
        try:
            starlette.status.HTTP_999_NOPE
        except AttributeError as exc:
            print(exc)
        """
    )
    assert out.strip() == "module 'starlette.status' has no attribute 'HTTP_999_NOPE'"


def test_messages_keep_tachyon_names_without_the_switch() -> None:
    out = run_python(
        """
        import warnings
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            import tachyon.middleware.wsgi
        print(str(caught[0].message).split(" is deprecated")[0])
        """
    )
    assert out.strip() == "tachyon.middleware.wsgi"


def test_the_deprecation_warning_is_printed_with_starlettes_class_name_under_the_switch() -> None:
    # A log matcher written for Starlette looks for "StarletteDeprecationWarning: ..." in the printed warning,
    # whether the class was imported before the switch was installed or after.
    out = run_python(
        """
        import io, warnings
        from tachyon_http.exceptions import TachyonDeprecationWarning
        def printed():
            return warnings.formatwarning("m", TachyonDeprecationWarning, "f.py", 1).split(": ")[1]
        before = printed()
        from tachyon import compat
        compat.install()
        from starlette.exceptions import StarletteDeprecationWarning
        under = printed(), StarletteDeprecationWarning.__module__, repr(StarletteDeprecationWarning("x"))
        compat.uninstall()
        print(before, *under, printed())
        """
    )
    assert out.split() == [
        "TachyonDeprecationWarning",
        "StarletteDeprecationWarning",
        "starlette.exceptions",
        "StarletteDeprecationWarning('x')",
        "TachyonDeprecationWarning",
    ]
