"""Serve files from directories (and from packages' ``statics`` folders)."""

from __future__ import annotations

import errno
import importlib.util
import os
import stat
from email.utils import parsedate
from typing import Union

import anyio
import anyio.to_thread
from tachyon_http._shared import get_route_path
from tachyon_http.datastructures import URL, Headers
from tachyon_http.exceptions import HTTPException
from tachyon_http.responses import FileResponse, RedirectResponse, Response
from tachyon_http.types import Receive, Scope, Send
from tachyon_ws.websockets import WebSocketClose

__all__ = ["NotModifiedResponse", "PathLike", "StaticFiles"]

PathLike = Union[str, "os.PathLike[str]"]

_NOT_FOUND: tuple[str, os.stat_result | None] = ("", None)
_READ_METHODS = frozenset(("GET", "HEAD"))
_METHOD_NOT_ALLOWED_HEADERS = {"Allow": "GET, HEAD"}
_DEFAULT_PACKAGE_DIR = "statics"
_INDEX = "index.html"
_NOT_FOUND_PAGE = "404.html"
# Bounds on the work one lookup does (a deliberate difference from Starlette, see docs/security.md): resolving a
# path costs a system call per component, so a 64 KiB path of 32k components cost ~0.28 s of CPU. No file can
# be opened under a longer path than PATH_MAX (4096 on Linux), and no served tree is that deep; such lookups are
# answered "not found" before touching the filesystem.
MAX_LOOKUP_PATH_LENGTH = 4096
MAX_LOOKUP_PATH_SEGMENTS = 256


class NotModifiedResponse(Response):
    # RFC 9110 §15.4.5: a 304 carries only the validators and caching headers a 200 would have had.
    NOT_MODIFIED_HEADERS = ("cache-control", "content-location", "date", "etag", "expires", "vary")

    def __init__(self, headers: Headers) -> None:
        kept = {name: value for name, value in headers.items() if name in self.NOT_MODIFIED_HEADERS}
        super().__init__(status_code=304, headers=kept)


def _is_rooted(path: str) -> bool:
    """True for anything ``os.path.join`` would treat as a new root rather than a child.

    That is "/x", "\\x", UNC "\\\\server\\share" and, on Windows, drive paths such as "C:x" or "C:\\x".
    """
    return path.startswith(("/", "\\")) or os.path.isabs(path) or bool(os.path.splitdrive(path)[0])


def _is_file(info: os.stat_result | None) -> bool:
    return info is not None and stat.S_ISREG(info.st_mode)


def _is_dir(info: os.stat_result | None) -> bool:
    return info is not None and stat.S_ISDIR(info.st_mode)


def _package_statics(package: str | tuple[str, str]) -> str:
    name, folder = package if isinstance(package, tuple) else (package, _DEFAULT_PACKAGE_DIR)
    spec = importlib.util.find_spec(name)
    assert spec is not None, f"Package {name!r} could not be found."
    assert spec.origin is not None, f"Package {name!r} could not be found."
    found = os.path.normpath(os.path.join(os.path.dirname(spec.origin), folder))
    assert os.path.isdir(found), f"Directory '{folder!r}' in package {name!r} could not be found."
    return found


class StaticFiles:
    def __init__(
        self,
        *,
        directory: PathLike | None = None,
        packages: list[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
    ) -> None:
        self.directory = directory
        self.packages = packages
        self.all_directories = self.get_directories(directory, packages)
        self.html = html
        self.config_checked = False
        self.follow_symlink = follow_symlink
        if check_dir and directory is not None and not os.path.isdir(directory):
            raise RuntimeError(f"Directory '{directory}' does not exist")

    def get_directories(
        self,
        directory: PathLike | None = None,
        packages: list[str | tuple[str, str]] | None = None,
    ) -> list[PathLike]:
        """Every directory to serve from: ``directory`` first, then each package's statics folder."""
        found: list[PathLike] = [] if directory is None else [directory]
        found.extend(_package_statics(package) for package in packages or ())
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await WebSocketClose()(scope, receive, send)
            return
        assert kind == "http"
        if not self.config_checked:
            # Once per instance: a misconfigured directory is a loud error, not a stream of 404s.
            await self.check_config()
            self.config_checked = True
        reply = await self.get_response(self.get_path(scope), scope)
        await reply(scope, receive, send)

    def get_path(self, scope: Scope) -> str:
        """The request path as an OS path relative to the served directory, with ``.``/``..`` collapsed."""
        parts = get_route_path(scope).split("/")
        return os.path.normpath(os.path.join(*parts))

    async def _find(self, path: str) -> tuple[str, os.stat_result | None]:
        # Filesystem calls block: run them in a worker thread.
        return await anyio.to_thread.run_sync(self.lookup_path, path)

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in _READ_METHODS:
            raise HTTPException(status_code=405, headers=dict(_METHOD_NOT_ALLOWED_HEADERS))

        try:
            found_path, info = await self._find(path)
        except PermissionError:
            raise HTTPException(status_code=401) from None
        except ValueError:
            # Embedded NUL or a path the OS cannot represent.
            raise HTTPException(status_code=404) from None
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:
                raise
            raise HTTPException(status_code=404) from None  # no file can have such a name

        if _is_file(info):
            assert info is not None
            return self.file_response(found_path, info, scope)

        if self.html:
            if _is_dir(info):
                index_path, index_info = await self._find(os.path.join(path, _INDEX))
                if _is_file(index_info):
                    assert index_info is not None
                    if scope["path"].endswith("/"):
                        return self.file_response(index_path, index_info, scope)
                    # Relative links inside index.html only resolve against a URL ending in "/".
                    here = URL(scope=scope)
                    return RedirectResponse(url=here.replace(path=here.path + "/"))
            page_path, page_info = await self._find(_NOT_FOUND_PAGE)
            if _is_file(page_info):
                return FileResponse(page_path, stat_result=page_info, status_code=404)

        raise HTTPException(status_code=404)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        """Find ``path`` in the served directories; ("", None) when absent or outside them.

        Containment is decided on resolved paths and whole components (``commonpath``), never on a string
        prefix: "/static_disallow" is not inside "/static" (CVE-2023-29159). Rooted lookups are refused
        outright, so a UNC or drive path cannot make the server open a remote share (CVE-2026-48818).
        """
        if _is_rooted(path) or len(path) > MAX_LOOKUP_PATH_LENGTH or path.count(os.sep) >= MAX_LOOKUP_PATH_SEGMENTS:
            return _NOT_FOUND
        # follow_symlink trusts links inside the directory to point anywhere; otherwise links are resolved
        # and must still land inside it.
        resolve = os.path.abspath if self.follow_symlink else os.path.realpath
        for base in self.all_directories:
            root = resolve(base)
            candidate = resolve(os.path.join(base, path))
            if os.path.commonpath([candidate, root]) != str(root):
                continue
            try:
                return candidate, os.stat(candidate)
            except (FileNotFoundError, NotADirectoryError):
                pass
        return _NOT_FOUND

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        served = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
        if self.is_not_modified(served.headers, Headers(scope=scope)):
            return NotModifiedResponse(served.headers)
        return served

    async def check_config(self) -> None:
        """Fail loudly when ``directory`` is missing or not a directory, instead of serving 404s."""
        configured = self.directory
        if configured is None:
            return
        try:
            info = await anyio.to_thread.run_sync(os.stat, configured)
        except FileNotFoundError:
            raise RuntimeError(f"StaticFiles directory '{configured}' does not exist.") from None
        if not stat.S_ISDIR(info.st_mode) and not stat.S_ISLNK(info.st_mode):
            raise RuntimeError(f"StaticFiles path '{configured}' is not a directory.")

    def is_not_modified(self, response_headers: Headers, request_headers: Headers) -> bool:
        """Whether the client's cached copy is current (If-None-Match wins over If-Modified-Since)."""
        tags = request_headers.get("if-none-match")
        if tags:
            if tags.strip() == "*":
                return True
            # Weak comparison (RFC 9110 §13.1.2): a W/ prefix does not prevent a match.
            current = response_headers["etag"]
            return any(tag.strip().removeprefix("W/") == current for tag in tags.split(","))

        since_text = request_headers.get("if-modified-since")
        modified_text = response_headers.get("last-modified")
        if since_text is None or modified_text is None:
            return False
        since, modified = parsedate(since_text), parsedate(modified_text)
        return since is not None and modified is not None and since >= modified
