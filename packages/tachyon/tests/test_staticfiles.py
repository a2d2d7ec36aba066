from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from tachyon.staticfiles import StaticFiles
from tachyon_http.exceptions import HTTPException
from tachyon_testclient.testclient import TestClient


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """tmp/static/{index.html,sub/index.html,a.txt}, tmp/static_disallow/secret.txt, tmp/outside.txt."""
    static = tmp_path / "static"
    (static / "sub").mkdir(parents=True)
    (static / "a.txt").write_text("A")
    (static / "index.html").write_text("<h1>root</h1>")
    (static / "sub" / "index.html").write_text("<h1>sub</h1>")
    (tmp_path / "static_disallow").mkdir()
    (tmp_path / "static_disallow" / "secret.txt").write_text("secret")
    (tmp_path / "outside.txt").write_text("outside")
    return static


def lookup_status(app: StaticFiles, request_path: str) -> int:
    path = app.get_path({"path": request_path})
    try:
        anyio.run(app.get_response, path, {"method": "GET", "headers": [], "path": request_path})
    except HTTPException as exc:
        return exc.status_code
    return 200


def test_serves_files(layout: Path) -> None:
    client = TestClient(StaticFiles(directory=layout))
    response = client.get("/a.txt")
    assert response.status_code == 200
    assert response.text == "A"
    assert client.head("/a.txt").content == b""


@pytest.mark.parametrize(
    "request_path",
    [
        "/../static_disallow/secret.txt",  # CVE-2023-29159: shares the string prefix "static"
        "/../outside.txt",
        "/sub/../../outside.txt",
        "/../../../../../../etc/passwd",
    ],
)
def test_traversal_outside_the_directory_is_a_404(layout: Path, request_path: str) -> None:
    assert lookup_status(StaticFiles(directory=layout), request_path) == 404


def test_dot_segments_inside_the_directory_still_work(layout: Path) -> None:
    assert lookup_status(StaticFiles(directory=layout), "/sub/../a.txt") == 200


@pytest.mark.parametrize("path", ["/etc/passwd", "\\\\server\\share", "\\windows\\win.ini", "//server/share"])
def test_rooted_lookup_paths_are_refused(layout: Path, path: str) -> None:
    # CVE-2026-48818: absolute and UNC paths must not escape (or reach a remote share).
    assert StaticFiles(directory=layout).lookup_path(path) == ("", None)


def test_symlink_escaping_the_directory_is_a_404(layout: Path, tmp_path: Path) -> None:
    (layout / "link.txt").symlink_to(tmp_path / "outside.txt")
    assert lookup_status(StaticFiles(directory=layout), "/link.txt") == 404
    # Explicitly trusting symlinks (follow_symlink=True) serves the target.
    assert lookup_status(StaticFiles(directory=layout, follow_symlink=True), "/link.txt") == 200


def raised_status(app: StaticFiles, path: str, method: str = "GET") -> int:
    # Used standalone (outside an application), StaticFiles signals errors with HTTPException.
    with pytest.raises(HTTPException) as info:
        TestClient(app).request(method, path)
    return info.value.status_code


def test_null_byte_and_overlong_names_are_404(layout: Path) -> None:
    app = StaticFiles(directory=layout)
    assert raised_status(app, "/a.txt%00.html") == 404
    assert raised_status(app, "/" + "x" * 5000) == 404


def test_only_get_and_head_are_allowed(layout: Path) -> None:
    with pytest.raises(HTTPException) as info:
        TestClient(StaticFiles(directory=layout)).post("/a.txt")
    assert info.value.status_code == 405
    assert info.value.headers == {"Allow": "GET, HEAD"}


def test_directories_are_404_without_html_mode(layout: Path) -> None:
    assert raised_status(StaticFiles(directory=layout), "/sub") == 404


def test_html_mode_serves_index_and_redirects_to_slash(layout: Path) -> None:
    client = TestClient(StaticFiles(directory=layout, html=True), follow_redirects=False)
    assert client.get("/").text == "<h1>root</h1>"
    redirect = client.get("/sub")
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "http://testserver/sub/"
    assert client.get("/sub/").text == "<h1>sub</h1>"


def test_html_mode_uses_404_page(layout: Path) -> None:
    (layout / "404.html").write_text("custom 404")
    response = TestClient(StaticFiles(directory=layout, html=True)).get("/missing")
    assert response.status_code == 404
    assert response.text == "custom 404"


def test_conditional_requests_get_304(layout: Path) -> None:
    client = TestClient(StaticFiles(directory=layout))
    first = client.get("/a.txt")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/a.txt", headers={"if-none-match": etag}).status_code == 304
    assert client.get("/a.txt", headers={"if-none-match": f'W/{etag}, "other"'}).status_code == 304
    assert client.get("/a.txt", headers={"if-none-match": "*"}).status_code == 304
    assert client.get("/a.txt", headers={"if-none-match": '"nope"'}).status_code == 200
    not_modified = client.get("/a.txt", headers={"if-modified-since": last_modified})
    assert not_modified.status_code == 304
    assert "content-length" not in not_modified.headers
    assert not_modified.headers["etag"] == etag


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "nope")
    client = TestClient(StaticFiles(directory=tmp_path / "nope", check_dir=False))
    with pytest.raises(RuntimeError, match="does not exist"):
        client.get("/")


def test_file_instead_of_directory_is_reported(layout: Path) -> None:
    client = TestClient(StaticFiles(directory=layout / "a.txt", check_dir=False))
    with pytest.raises(RuntimeError, match="is not a directory"):
        client.get("/")


def test_several_directories_first_match_wins(layout: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "b.txt").write_text("B")
    app = StaticFiles(directory=layout)
    app.all_directories.append(os.fspath(other))
    client = TestClient(app)
    assert client.get("/a.txt").text == "A"
    assert client.get("/b.txt").text == "B"


@pytest.mark.parametrize(
    "path",
    ["/" + "a/" * 32_000 + "x", "/" + "a" * 5000, "/" + "a/" * 300 + "x", "/" + "../" * 20_000 + "x"],
)
def test_oversized_lookups_answer_404_without_touching_the_filesystem(layout: Path, path: str) -> None:
    # A deliberate difference (docs/security.md): Starlette resolves every component (~0.28 s for 32k of them).
    from unittest import mock

    app = StaticFiles(directory=layout)
    assert lookup_status(app, "/a.txt") == 200
    with mock.patch("os.lstat", side_effect=os.lstat) as lstat, mock.patch("os.stat", side_effect=os.stat) as stat:
        assert lookup_status(app, path) == 404
    assert lstat.call_count + stat.call_count <= 8
