"""Every Python example of the documentation runs, and what it asserts holds.

Collected: every fenced ``python`` block of docs/**/*.md, README.md and packages/*/README.md, one test per
Markdown file; the blocks of a file run in order, in a temporary working directory of their own (also first
on ``sys.path``). A line ``--8<-- "path"`` inside a block (pymdownx.snippets, which the site uses to show
the runnable files of docs/examples/) is replaced by the file's text, path relative to the repository root.

After a block has run, every ``test_*`` function it defined is called (an ``async def`` one with anyio, on
asyncio), so an example shows its claims as assertions (``assert response.json() == ...``) in a test
function or at top level. An HTML comment on the line before the opening fence changes how a block runs
(invisible on the site and on the repository browser):

- ``<!-- docs-test: fragment -->`` — not run (an excerpt that needs context to run), only compiled, so it
  must still be valid Python.
- ``<!-- docs-test: module NAME -->`` — also saved as ``NAME.py`` in the working directory, so that later
  blocks of the file can ``import NAME`` (an ``app.py`` that a test imports).
- ``<!-- docs-test: continue -->`` — runs in the namespace left by the previous block of the file
  (a follow-up that uses the ``app`` defined above it).
- ``<!-- docs-test: subprocess -->`` — runs in a fresh interpreter (with the working directory as cwd):
  a process that has imported the real Starlette cannot switch to Tachyon, so any block that calls
  ``tachyon.compat.install()`` runs this way even without the marker.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import importlib
import inspect
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

REPO = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!--\s*docs-test:\s*(?P<kind>[a-z]+)(?:\s+(?P<arg>[A-Za-z_][A-Za-z0-9_]*))?\s*-->\s*$")
FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>```+|~~~+)\s*(?P<info>[^\s`]*)")
SNIPPET = re.compile(r"^\s*--8<--\s+\"(?P<path>[^\"]+)\"\s*$")
SWITCH = re.compile(r"\bcompat\.install\(")
KINDS = {"fragment", "module", "continue", "subprocess"}
# A subprocess example starts an interpreter and imports FastAPI: seconds, with head-room for loaded CI.
SUBPROCESS_TIMEOUT = 120.0


def markdown_files() -> list[Path]:
    files = sorted((REPO / "docs").rglob("*.md"))
    files.append(REPO / "README.md")
    files.extend(sorted((REPO / "packages").glob("*/README.md")))
    return files


@dataclasses.dataclass
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    code: str
    kind: str = "run"
    module: str | None = None

    @property
    def where(self) -> str:
        shown = self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path
        return f"{shown}:{self.line}"


def _expand_snippets(code: str, where: str) -> str:
    lines = []
    for line in code.splitlines(keepends=True):
        found = SNIPPET.match(line)
        if found is None:
            lines.append(line)
            continue
        included = REPO / found.group("path")
        if not included.is_file():
            raise AssertionError(f"{where}: the snippet {found.group('path')!r} does not exist")
        lines.append(included.read_text(encoding="utf-8"))
    return "".join(lines)


def python_blocks(path: Path) -> list[Block]:
    """The fenced python blocks of a Markdown file, with the marker of the line before each."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE_OPEN.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, info = opening.group("fence"), opening.group("info").lower()
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index])
            index += 1
        index += 1  # the closing fence
        if info not in ("python", "py", "python3"):
            continue
        block = Block(path, start + 1, textwrap.dedent("\n".join(body)) + "\n")
        previous = lines[start - 1].strip() if start > 0 else ""
        marker = MARKER.match(previous)
        if marker is not None:
            kind = marker.group("kind")
            if kind not in KINDS:
                raise AssertionError(f"{block.where}: unknown docs-test marker {kind!r} (one of {sorted(KINDS)})")
            if kind == "module" and marker.group("arg") is None:
                raise AssertionError(f"{block.where}: 'docs-test: module' needs a module name")
            block.kind, block.module = kind, marker.group("arg")
        elif previous.startswith("<!--") and "docs-test" in previous:
            raise AssertionError(f"{block.where}: malformed docs-test marker {previous!r}")
        block.code = _expand_snippets(block.code, block.where)
        if block.kind in ("run", "continue") and SWITCH.search(block.code):
            block.kind = "subprocess"
        blocks.append(block)
    return blocks


def _run_tests_defined(namespace: dict[str, Any], where: str, already_ran: set[int]) -> list[str]:
    """Call the ``test_*`` functions the block defined (not those imported, nor those of an earlier block)."""
    ran = []
    for name, value in list(namespace.items()):
        if not name.startswith("test_") or not inspect.isfunction(value) or value.__module__ != "__main__":
            continue
        if id(value) in already_ran:
            continue
        already_ran.add(id(value))
        if inspect.signature(value).parameters:
            raise AssertionError(f"{where}: {name}() takes parameters; examples' tests must take none")
        if inspect.iscoroutinefunction(value):
            anyio.run(value)
        else:
            value()
        ran.append(name)
    return ran


@contextlib.contextmanager
def _page_sandbox(directory: Path) -> Iterator[None]:
    """cwd and sys.path[0] = directory; modules imported from it are forgotten afterwards."""
    modules_before = set(sys.modules)
    cwd = Path.cwd()
    sys.path.insert(0, str(directory))
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(str(directory))
        for name in set(sys.modules) - modules_before:
            file = getattr(sys.modules[name], "__file__", None) or ""
            if file.startswith(str(directory)):
                del sys.modules[name]


def _run_in_subprocess(block: Block, directory: Path) -> None:
    script = directory / f"block_{block.line}.py"
    runner = textwrap.dedent(
        """
        import inspect, runpy, sys
        import anyio
        namespace = runpy.run_path(sys.argv[1], run_name="__main__")
        for name, value in list(namespace.items()):
            if name.startswith("test_") and callable(value) and inspect.isfunction(value):
                anyio.run(value) if inspect.iscoroutinefunction(value) else value()
                print("ran", name)
        """
    )
    script.write_text(block.code, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-c", runner, str(script)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(directory), os.environ.get("PYTHONPATH", "")])},
    )
    assert completed.returncode == 0, (
        f"{block.where} failed in a fresh interpreter (exit {completed.returncode}):\n"
        f"{completed.stdout}\n{completed.stderr}"
    )


def run_blocks(blocks: list[Block], directory: Path) -> None:
    namespace: dict[str, Any] = {}
    already_ran: set[int] = set()
    with _page_sandbox(directory):
        for block in blocks:
            try:
                compiled = compile(block.code, block.where, "exec")
            except SyntaxError as exc:
                raise AssertionError(f"{block.where}: not valid Python: {exc}") from exc
            if block.kind == "fragment":
                continue
            if block.kind == "subprocess":
                _run_in_subprocess(block, directory)
                continue
            if block.kind == "module":
                # Saved, then imported as that module (its `if __name__ == "__main__":` part does not run);
                # one that installs the compatibility switch is imported in a fresh interpreter.
                assert block.module is not None
                (directory / f"{block.module}.py").write_text(block.code, encoding="utf-8")
                if SWITCH.search(block.code):
                    _run_in_subprocess(dataclasses.replace(block, code=f"import {block.module}\n"), directory)
                    continue
                importlib.invalidate_caches()
                try:
                    namespace = vars(importlib.import_module(block.module))
                except Exception as exc:
                    raise AssertionError(f"{block.where}: importing the example failed: {exc!r}") from exc
                continue
            if block.kind != "continue":
                namespace = {"__name__": "__main__", "__file__": str(directory / "example.py")}
            try:
                exec(compiled, namespace)
                _run_tests_defined(namespace, block.where, already_ran)
            except Exception as exc:
                raise AssertionError(f"{block.where}: the example failed: {exc!r}") from exc


FILES = [path for path in markdown_files() if python_blocks(path)]


def test_examples_are_collected() -> None:
    # The pages known to hold examples are among those collected (a broken fence parser finds none).
    collected = {path.relative_to(REPO).as_posix() for path in FILES}
    for expected in ("docs/getting-started.md", "docs/tutorial.md", "packages/tachyon-router/README.md"):
        assert expected in collected


@pytest.mark.parametrize("path", FILES, ids=[path.relative_to(REPO).as_posix() for path in FILES])
def test_markdown_examples_run(path: Path, tmp_path: Path) -> None:
    run_blocks(python_blocks(path), tmp_path)


def test_marker_parsing(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- docs-test: module app -->\n```python\nX = 1\n```\n\n"
        "<!-- docs-test: fragment -->\n```python\nundefined_name\n```\n\n"
        "```python\nimport tachyon.compat\ntachyon.compat.install()\n```\n\n"
        "```bash\nnot python\n```\n",
        encoding="utf-8",
    )
    blocks = python_blocks(page)
    assert [(block.kind, block.module) for block in blocks] == [
        ("module", "app"),
        ("fragment", None),
        ("subprocess", None),
    ]


def test_failing_example_fails(tmp_path: Path) -> None:
    # The runner must report a false claim, not swallow it.
    page = tmp_path / "page.md"
    page.write_text("```python\ndef test_claim():\n    assert 1 + 1 == 3\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="the example failed"):
        run_blocks(python_blocks(page), tmp_path)
    # ... and a bad marker is an error, not a block silently run another way.
    page.write_text("<!-- docs-test: skip -->\n```python\npass\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="unknown docs-test marker"):
        python_blocks(page)


def test_snippet_is_expanded(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text('```python\n--8<-- "tests-integration/examples/app.py"\n```\n', encoding="utf-8")
    (block,) = python_blocks(page)
    assert "app = Tachyon(" in block.code
    ast.parse(block.code)
