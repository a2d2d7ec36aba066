"""mkdocs hooks of the documentation site (mkdocs.yml): the repository's own files in the site.

The Markdown in docs/ is also read on the repository browser, so it links to repository files outside docs/
(a package's README, the benchmark results, an example's source). mkdocs only knows docs/; these hooks
make such links work in the site too, and keep them checked:

- Each package's README.md is a page of the site, ``packages/<name>.md`` (the file itself, not a copy
  kept by hand).
- A link (or image) of any page whose target resolves into the repository is rewritten:
  to the page that a Markdown file is in the site (a package README, a docs/ page; the root README.md is
  the site's home page ``index.md``); to a copy of the file in the site under ``repo/<path>`` for any other
  file (images, example sources); to the README page of a folder that has one; otherwise (a folder) to the
  path shown as code.
- A link to a repository path that does not exist is a warning, which ``mkdocs build --strict`` turns into
  a failure, like mkdocs' own check of links between pages.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files, InclusionLevel

log = logging.getLogger("mkdocs.hooks.repository_links")

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("tachyon", "tachyon-router", "tachyon-http", "tachyon-ws", "tachyon-testclient")
# Repository Markdown files that are pages of the site, by their path in the repository.
README_PAGES = {f"packages/{name}/README.md": f"packages/{name}.md" for name in PACKAGES}
ROOT_README_PAGE = "index.md"
COPY_PREFIX = "repo/"
NOT_IN_NAV = InclusionLevel.NOT_IN_NAV

# [text](target) and ![alt](target), target without spaces, with an optional "title".
LINK = re.compile(r"(!?\[[^\]\n]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
FENCE = re.compile(r"^(\s*)(```|~~~)")


def _outside_code(markdown: str) -> list[tuple[bool, str]]:
    """Split Markdown into (is_code, text) chunks at fenced code blocks (links in code are not links)."""
    chunks: list[tuple[bool, str]] = []
    current: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines(keepends=True):
        found = FENCE.match(line)
        if fence is None and found:
            chunks.append((False, "".join(current)))
            current, fence = [line], found.group(2)
        elif fence is not None and found and found.group(2) == fence and line.strip() == fence:
            current.append(line)
            chunks.append((True, "".join(current)))
            current, fence = [], None
        else:
            current.append(line)
    chunks.append((fence is not None, "".join(current)))
    return chunks


def _is_external(target: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)) or target.startswith(("#", "/"))


def _resolve(page_source: Path, target: str) -> tuple[Path, str]:
    path, _, anchor = target.partition("#")
    return (page_source.parent / path).resolve(), anchor


def _repo_relative(path: Path) -> str | None:
    try:
        return path.relative_to(REPO).as_posix()
    except ValueError:
        return None


class _Site:
    """What each repository path is in the site (filled by on_files, used by on_page_markdown)."""

    def __init__(self) -> None:
        self.docs_dir = REPO / "docs"
        self.pages: dict[str, str] = {}  # repository path -> src_uri of the page
        self.copies: dict[str, str] = {}  # repository path -> src_uri of the copied file

    def uri_for(self, relative: str) -> str | None:
        return self.pages.get(relative) or self.copies.get(relative)


_site = _Site()


def on_files(files: Files, config: Any) -> Files:
    _site.docs_dir = Path(config["docs_dir"]).resolve()
    _site.pages.clear()
    _site.copies.clear()
    for source, uri in README_PAGES.items():
        files.append(File.generated(config, uri, abs_src_path=str(REPO / source)))
        _site.pages[source] = uri
    _site.pages["README.md"] = ROOT_README_PAGE
    for file in files:
        if file.abs_src_path is not None:
            relative = _repo_relative(Path(file.abs_src_path).resolve())
            if relative is not None:
                _site.pages.setdefault(relative, file.src_uri)
    # Every repository file linked from a page and not already in the site is copied into it; a copied
    # Markdown file is a page of its own (reachable by its links, not in the navigation), whose links are
    # followed in turn.
    pending = [Path(file.abs_src_path) for file in files.documentation_pages() if file.abs_src_path is not None]
    while pending:
        source = pending.pop()
        for is_code, text in _outside_code(source.read_text(encoding="utf-8")):
            if is_code:
                continue
            for found in LINK.finditer(text):
                target = found.group(2)
                if _is_external(target):
                    continue
                path, _ = _resolve(source, target)
                relative = _repo_relative(path)
                if relative is None or not path.is_file() or _site.uri_for(relative) is not None:
                    continue
                uri = COPY_PREFIX + relative
                if path.suffix == ".md":
                    files.append(File.generated(config, uri, abs_src_path=str(path), inclusion=NOT_IN_NAV))
                    pending.append(path)
                else:
                    files.append(File.generated(config, uri, abs_src_path=str(path)))
                _site.copies[relative] = uri
    return files


def _rewrite(page_uri: str, page_source: Path, target: str) -> str | None:
    """The link target to use in the site, None to show the target as code, or the target unchanged."""
    path, anchor = _resolve(page_source, target)
    relative = _repo_relative(path)
    if relative is None:
        log.warning("%s: the link %r leaves the repository", page_uri, target)
        return target
    if not path.exists():
        log.warning("%s: the link %r points to %s, which does not exist", page_uri, target, relative)
        return target
    uri = _site.uri_for(relative)
    if uri is None and path.is_dir():
        uri = _site.uri_for(posixpath.join(relative, "README.md"))
        if uri is None:
            return None
    if uri is None:
        log.warning("%s: the link %r points to %s, which is not in the site", page_uri, target, relative)
        return target
    link = posixpath.relpath(uri, posixpath.dirname(page_uri) or ".")
    return f"{link}#{anchor}" if anchor else link


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    source = Path(page.file.abs_src_path)
    inside_docs = source.resolve().is_relative_to(_site.docs_dir)
    out: list[str] = []
    for is_code, text in _outside_code(markdown):
        if is_code:
            out.append(text)
            continue

        def replace(found: re.Match[str]) -> str:
            target = found.group(2)
            if _is_external(target):
                return found.group(0)
            path, _ = _resolve(source, target)
            if inside_docs and path.is_relative_to(_site.docs_dir):
                return found.group(0)  # a link between docs/ files: mkdocs checks it itself
            new = _rewrite(page.file.src_uri, source, target)
            if new is None:
                label = found.group(1)[1:-2] if not found.group(1).startswith("!") else found.group(1)[2:-2]
                return f"{label} (`{_repo_relative(path)}/`)"
            return f"{found.group(1)}{new}{found.group(3)}"

        out.append(LINK.sub(replace, text))
    return "".join(out)
